//! The simulated consortium: keys, genesis, one temp-dir database per node, and the node
//! lifecycle (start, crash, restart that may lose the buffered tail).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use keel_consensus::PacemakerConfig;
use keel_crypto::{KeyPair, Scheme, Suite};
use keel_ledger::{Genesis, GenesisAccount, GenesisValidator};
use keel_mempool::MempoolConfig;
use keel_node::driver::{Driver, DriverConfig, clock::Now};
use keel_node::{KeyFile, Node};
use keel_storage::{Durability, Store, StoreOptions, Table};
use keel_types::Address;

use super::net::SimNet;

/// Chain id of every simulated chain.
pub(crate) const CHAIN: u64 = 4_242;
/// Intl suite: Ed25519 signatures are deterministic, so a seed replays bit for bit.
pub(crate) const SUITE: Suite = Suite::Intl;
/// Wall clock at simulated time 0.
const WALL0_MS: u64 = 1_700_000_000_000;
/// Balance of each client account.
const CLIENT_BALANCE: u128 = 1_000_000_000;
/// Key prefix of stored pending blocks (`keel_ledger::pending_blocks`), written with buffered
/// durability: what a power loss may take.
const PENDING_PREFIX: &[u8] = b"pending_block/";

/// The simulated clocks: milliseconds since the start, as the driver's [`Now`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct SimClock {
    base: Instant,
}

impl SimClock {
    pub fn new() -> SimClock {
        SimClock {
            base: Instant::now(),
        }
    }

    pub fn at(&self, ms: u64) -> Now {
        Now {
            wall_ms: WALL0_MS + ms,
            mono: self.base + Duration::from_millis(ms),
        }
    }

    /// The first whole millisecond at or after `at`.
    pub fn ms_of(&self, at: Instant) -> u64 {
        let d = at.saturating_duration_since(self.base);
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        if d.subsec_nanos().is_multiple_of(1_000_000) {
            ms
        } else {
            ms + 1
        }
    }
}

/// Honest, or an attacker (its real driver runs, and it also sends hostile frames).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Honest,
    Attacker,
}

/// A running node: the ledger handle and its real driver.
pub(crate) struct Live {
    pub node: Arc<Node>,
    pub driver: Driver,
}

/// One node slot of the consortium (validator or observer).
pub(crate) struct Member {
    pub key: KeyPair,
    pub address: Address,
    pub role: Role,
    pub net: Arc<SimNet>,
    pub live: Option<Live>,
    /// Bumped at every crash: deliveries and ticks of an older incarnation are dropped.
    pub incarnation: u64,
    /// Time of the deadline event already scheduled for this node, if any.
    pub deadline_at: Option<u64>,
    /// Highest committed height seen from this node (it must never go back).
    pub seen_height: u64,
    /// Whether it ever crashed (its clients' transactions may be lost with its mempool).
    pub crashed: bool,
    /// Stored pending blocks known durable: those present at its last fsynced write (a vote,
    /// a timeout or a commit follows a `Durability::Sync` write, which makes every earlier
    /// buffered write durable). A power loss takes the others.
    pub durable_pending: BTreeSet<Vec<u8>>,
    dir: tempfile::TempDir,
}

impl Member {
    pub fn honest(&self) -> bool {
        self.role == Role::Honest
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Open the ledger (from genesis or from its database) and build the driver, with the
    /// idle heartbeat `idle_heartbeat_ms`.
    pub fn start(
        &mut self,
        genesis: &Genesis,
        now: Now,
        idle_heartbeat_ms: u64,
    ) -> Result<(), String> {
        let mempool = MempoolConfig::new(CHAIN, SUITE, 0);
        let opts = StoreOptions {
            cache_size_bytes: 4 * 1024 * 1024,
        };
        let node = Node::open_with(
            genesis.clone(),
            self.key.clone(),
            self.path(),
            opts,
            mempool,
        )
        .map_err(|e| format!("open {}: {e}", self.address))?;
        let cfg = DriverConfig {
            idle_heartbeat_ms,
            ..driver_config()
        };
        let driver = Driver::with_net(node.clone(), self.net.clone(), cfg, now)
            .map_err(|e| format!("driver {}: {e}", self.address))?;
        self.live = Some(Live { node, driver });
        self.mark_durable();
        Ok(())
    }

    /// Record that everything stored so far is durable (called after a step that wrote with
    /// `Durability::Sync`).
    pub fn mark_durable(&mut self) {
        if let Some(l) = &self.live
            && let Ok(kvs) =
                l.node
                    .chain()
                    .store()
                    .scan_prefix(Table::Meta, PENDING_PREFIX, usize::MAX)
        {
            self.durable_pending = kvs.into_iter().map(|(k, _)| k).collect();
        }
    }

    /// Start the consensus instance of a freshly started node.
    pub fn kick(&mut self, now: Now) {
        if let Some(l) = self.live.as_mut() {
            l.driver.start(now);
        }
    }

    /// Stop the process. With `lose_tail`, what was written with buffered durability (stored
    /// pending blocks) is gone too, as after a power loss.
    pub fn crash(&mut self, lose_tail: bool) -> Result<(), String> {
        self.live = None;
        self.incarnation += 1;
        self.deadline_at = None;
        self.crashed = true;
        self.net.drain();
        if lose_tail {
            forget_unsynced(self.path(), &self.durable_pending)
                .map_err(|e| format!("{}: {e}", self.address))?;
        }
        Ok(())
    }
}

/// Delete the stored pending blocks written after the last fsynced write.
fn forget_unsynced(
    path: &Path,
    durable: &BTreeSet<Vec<u8>>,
) -> Result<(), keel_storage::StorageError> {
    let store = Store::open(path, StoreOptions::default())?;
    let mut batch = store.batch();
    for (k, _) in store.scan_prefix(Table::Meta, PENDING_PREFIX, usize::MAX)? {
        if !durable.contains(&k) {
            batch.delete(Table::Meta, &k);
        }
    }
    batch.commit(Durability::Sync)
}

/// Driver settings of every simulated node: a 100 ms light pace under a 1 s round timer (the
/// idle heartbeat comes from the run's configuration).
fn driver_config() -> DriverConfig {
    DriverConfig {
        pacemaker: PacemakerConfig {
            base_timeout_ms: 1_000,
            ..PacemakerConfig::default()
        },
        block_interval_ms: 100,
        busy_block_interval_ms: 10,
        idle_heartbeat_ms: 1_000,
        // The trailing heartbeat serves clients watching for blocks; the idle checks here
        // count the idle rule's blocks alone.
        trail_heartbeat_ms: 0,
        trail_ms: 0,
        max_block_txs: 500,
        gossip_flush_ms: 20,
        sync_check_ms: 200,
    }
}

/// Where the databases go: memory-backed `/dev/shm` when there is one (fsync is free there).
fn temp_root() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    }
}

/// Keys, genesis and node slots of one run.
pub(crate) struct Consortium {
    pub genesis: Genesis,
    pub members: Vec<Member>,
    /// Client accounts (funded in genesis).
    pub clients: Vec<KeyPair>,
}

fn key(seed: u64, tag: u8, i: usize) -> KeyPair {
    let mut s = [tag; 32];
    s[..8].copy_from_slice(&seed.to_le_bytes());
    s[8..16].copy_from_slice(&(i as u64).to_le_bytes());
    KeyPair::from_seed(Scheme::Ed25519, &s)
}

impl Consortium {
    /// `validators` validators (the last `attackers` of them Byzantine), an optional observer
    /// (`Some(true)`: hostile), `clients` funded accounts.
    pub fn new(
        seed: u64,
        validators: usize,
        attackers: usize,
        observer: Option<bool>,
        clients: usize,
    ) -> Result<Consortium, String> {
        let vkeys: Vec<KeyPair> = (0..validators).map(|i| key(seed, 1, i)).collect();
        let okey = observer.map(|_| key(seed, 2, 0));
        let clients: Vec<KeyPair> = (0..clients).map(|i| key(seed, 3, i)).collect();
        let genesis = genesis(&vkeys, okey.as_ref(), &clients);
        let mut slots: Vec<(KeyPair, Role)> = vkeys
            .into_iter()
            .enumerate()
            .map(|(i, k)| {
                let role = if i + attackers >= validators {
                    Role::Attacker
                } else {
                    Role::Honest
                };
                (k, role)
            })
            .collect();
        if let (Some(k), Some(hostile)) = (okey, observer) {
            slots.push((
                k,
                if hostile {
                    Role::Attacker
                } else {
                    Role::Honest
                },
            ));
        }
        let addresses: Vec<Address> = slots.iter().map(|(k, _)| address(k)).collect();
        let mut members = Vec::with_capacity(slots.len());
        for (k, role) in slots {
            let me = address(&k);
            let dir = tempfile::Builder::new()
                .prefix("keel-sim-")
                .tempdir_in(temp_root())
                .map_err(|e| format!("temp dir: {e}"))?;
            members.push(Member {
                key: k,
                address: me,
                role,
                net: SimNet::new(addresses.iter().copied().filter(|a| *a != me).collect()),
                live: None,
                incarnation: 0,
                deadline_at: None,
                seen_height: 0,
                crashed: false,
                durable_pending: BTreeSet::new(),
                dir,
            });
        }
        Ok(Consortium {
            genesis,
            members,
            clients,
        })
    }
}

/// The address of a key on the simulated chain.
pub(crate) fn address(k: &KeyPair) -> Address {
    KeyFile::from_key(k, SUITE).address
}

fn genesis(validators: &[KeyPair], observer: Option<&KeyPair>, clients: &[KeyPair]) -> Genesis {
    Genesis {
        governance: None,
        chain_id: CHAIN,
        chain_name: "keel-sim".into(),
        suite: "intl".into(),
        timestamp_ms: WALL0_MS,
        gas_price: 0,
        validators: validators
            .iter()
            .enumerate()
            .map(|(i, k)| KeyFile::from_key(k, SUITE).genesis_validator(format!("v{i}")))
            .collect(),
        alloc: clients
            .iter()
            .map(|k| GenesisAccount {
                address: address(k),
                balance: CLIENT_BALANCE,
            })
            .collect(),
        observers: observer
            .map(|k| {
                let f = KeyFile::from_key(k, SUITE);
                GenesisValidator {
                    name: "observer".into(),
                    scheme: f.scheme.clone(),
                    public_key: f.public_key.clone(),
                    address: f.address,
                }
            })
            .into_iter()
            .collect(),
    }
}
