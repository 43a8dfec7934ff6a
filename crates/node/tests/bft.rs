//! Validators in one process, each with its own database, talking over real authenticated
//! loopback links: they agree on one chain, commit gossiped transactions exactly once, every
//! stored block carries a certificate that verifies from the validator set alone, and a
//! validator that was down restarts from its database and catches up by block sync.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_consensus::PacemakerConfig;
use keel_crypto::{KeyPair, Scheme, Suite};
use keel_ledger::{Genesis, GenesisAccount, GenesisValidator};
use keel_mempool::MempoolConfig;
use keel_network::{NetworkConfig, PeerAddr};
use keel_node::driver::DriverConfig;
use keel_node::{BftConfig, EngineConfig, KeyFile, LaunchConfig, Node, Running};
use keel_storage::StoreOptions;
use keel_types::{Address, Hash, Payload, Signer, Transaction};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SUITE: Suite = Suite::Intl;
const N: usize = 4;
const CHAIN: u64 = 77;

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

struct Validator {
    node: Arc<Node>,
    run: Running,
}

struct Cluster {
    rt: tokio::runtime::Runtime,
    genesis: Genesis,
    keys: Vec<KeyPair>,
    sockets: Vec<SocketAddr>,
    peers: Vec<PeerAddr>,
    dirs: Vec<tempfile::TempDir>,
    alice: KeyPair,
    observer: KeyPair,
}

impl Cluster {
    fn new() -> Cluster {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap();
        let keys: Vec<KeyPair> = (0..N)
            .map(|i| KeyPair::from_seed(Scheme::Ed25519, &[i as u8 + 1; 32]))
            .collect();
        let alice = KeyPair::from_seed(Scheme::Ed25519, &[99; 32]);
        let observer = KeyPair::from_seed(Scheme::Ed25519, &[77; 32]);
        let of = KeyFile::from_key(&observer, SUITE);
        let files: Vec<KeyFile> = keys.iter().map(|k| KeyFile::from_key(k, SUITE)).collect();
        let genesis = Genesis {
            governance: None,
            chain_id: CHAIN,
            chain_name: "bft-test".into(),
            suite: "intl".into(),
            timestamp_ms: 1,
            gas_price: 0,
            validators: files
                .iter()
                .enumerate()
                .map(|(i, f)| f.genesis_validator(format!("v{i}")))
                .collect(),
            alloc: vec![GenesisAccount {
                address: KeyFile::from_key(&alice, SUITE).address,
                balance: 1_000_000,
            }],
            observers: vec![GenesisValidator {
                name: "observer".into(),
                scheme: of.scheme.clone(),
                public_key: of.public_key.clone(),
                address: of.address,
            }],
        };
        let sockets: Vec<SocketAddr> = (0..N).map(|_| free_port()).collect();
        let peers = files
            .iter()
            .zip(&sockets)
            .map(|(f, s)| PeerAddr {
                address: f.address,
                socket: *s,
            })
            .collect();
        let dirs = (0..=N).map(|_| tempfile::tempdir().unwrap()).collect();
        Cluster {
            rt,
            genesis,
            keys,
            sockets,
            peers,
            dirs,
            alice,
            observer,
        }
    }

    /// Validator `i` (0..N), or the observer for `i == N`.
    fn start(&self, i: usize) -> Validator {
        self.start_paced(i, 50, 60_000)
    }

    /// [`Cluster::start`] with a light pace of `light_ms` and an idle heartbeat of
    /// `heartbeat_ms` (busy pace: the default 10 ms; ADR 0014).
    fn start_paced(&self, i: usize, light_ms: u64, heartbeat_ms: u64) -> Validator {
        let key = if i < N {
            self.keys[i].clone()
        } else {
            self.observer.clone()
        };
        let listen = if i < N { self.sockets[i] } else { free_port() };
        let driver = DriverConfig {
            pacemaker: PacemakerConfig {
                // Well above the light pace, or paced rounds would time out.
                base_timeout_ms: 1_000.max(4 * light_ms),
                ..PacemakerConfig::default()
            },
            block_interval_ms: light_ms,
            idle_heartbeat_ms: heartbeat_ms,
            // The idle rule alone (the trailing heartbeat serves wallets; tested end to end by
            // crates/cli/tests/eth_clients.rs).
            trail_heartbeat_ms: 0,
            sync_check_ms: 200,
            ..DriverConfig::default()
        };
        let launch = LaunchConfig {
            genesis: self.genesis.clone(),
            key,
            data_dir: self.dirs[i].path().to_path_buf(),
            store: StoreOptions::default(),
            mempool: MempoolConfig::new(CHAIN, SUITE, 0),
            exec_threads: 2,
            engine: EngineConfig::Bft(BftConfig {
                network: NetworkConfig::new(listen, self.peers.clone()),
                driver,
                watch: None,
            }),
        };
        let run = self.rt.block_on(keel_node::launch(launch)).unwrap();
        Validator {
            node: run.node.clone(),
            run,
        }
    }

    fn stop(&self, v: Validator) {
        self.rt.block_on(v.run.stop()).unwrap();
        drop(v.node);
    }

    fn transfers(&self, from_nonce: u64, n: u64) -> Vec<Vec<u8>> {
        (from_nonce..from_nonce + n)
            .map(|nonce| {
                Transaction {
                    chain_id: CHAIN,
                    nonce,
                    expires_at_height: 100_000,
                    gas_limit: 21_000,
                    signer: Signer {
                        scheme: self.alice.scheme(),
                        public_key: self.alice.public_key(),
                    },
                    payload: Payload::Transfer {
                        to: Address([7; 20]),
                        amount: 10,
                    },
                }
                .sign(&self.alice)
                .encode()
            })
            .collect()
    }
}

/// Upper bound of every wait: generous for a loaded CI box (3x slower than a dev machine);
/// a healthy run leaves each wait as soon as its condition holds.
const WAIT: Duration = Duration::from_secs(120);
/// How often a wait re-checks its condition.
const POLL: Duration = Duration::from_millis(50);

/// Polls `probe` until it yields a value (at most `WAIT`; `state` describes the failure).
fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>, state: impl Fn() -> String) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what}: {}",
            state()
        );
        std::thread::sleep(POLL);
    }
}

fn wait_committed(nodes: &[&Arc<Node>], hashes: &[Hash], what: &str) {
    wait_for(
        &format!("{what}: all transactions committed"),
        || {
            nodes
                .iter()
                .all(|n| hashes.iter().all(|h| n.receipt(h).unwrap().is_some()))
                .then_some(())
        },
        || {
            let heights: Vec<u64> = nodes.iter().map(|n| n.head().height).collect();
            format!("heights {heights:?}")
        },
    );
}

fn assert_agreement(nodes: &[&Arc<Node>]) -> u64 {
    let min_height = nodes.iter().map(|n| n.head().height).min().unwrap();
    for h in 1..=min_height {
        let ids: Vec<Hash> = nodes
            .iter()
            .map(|n| n.chain().block(h).unwrap().unwrap().hash(SUITE.hash()))
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] == w[1]),
            "fork at height {h}: {ids:?}"
        );
    }
    for n in nodes {
        // Nodes keep running: the head may move between calls, so compare with a lower bound.
        assert!(n.verify_chain().unwrap() > min_height);
    }
    min_height
}

#[test]
fn validators_agree_commit_once_and_a_restarted_validator_catches_up() {
    let c = Cluster::new();
    let mut vs: Vec<Validator> = (0..N).map(|i| c.start(i)).collect();
    let observer = c.start(N);
    assert!(!observer.node.is_validator());
    // Phase 1: 30 transfers submitted to validator 0 only; gossip carries them to the leaders.
    let first: Vec<Hash> = vs[0]
        .node
        .submit(&c.transfers(0, 30))
        .into_iter()
        .map(|r| r.unwrap().hash)
        .collect();
    let all: Vec<&Arc<Node>> = vs.iter().map(|v| &v.node).collect();
    wait_committed(&all, &first, "phase 1");
    let h1 = assert_agreement(&all);
    let b = vs[0].node.chain().block(h1).unwrap().unwrap();
    assert!(!b.certificate.is_implied() || h1 > 1);
    for h in 1..=h1 {
        let b = vs[0].node.chain().block(h).unwrap().unwrap();
        if !b.certificate.is_implied() {
            assert!(
                b.certificate.signatures.len() >= 3,
                "a QC needs 2f+1 = 3 signatures"
            );
        }
    }

    // Consensus traffic is counted for /metrics.
    let msgs = vs[0].node.counters.consensus_messages();
    let count = |d: &str, k: &str| {
        msgs.iter()
            .find(|((dd, kk), _)| *dd == d && *kk == k)
            .map_or(0, |(_, n)| *n)
    };
    assert!(
        count("sent", "vote") > 0 && count("received", "vote") > 0,
        "{msgs:?}"
    );
    assert!(
        count("received", "proposal") + count("sent", "proposal") > 0,
        "{msgs:?}"
    );

    // An authenticated peer sending garbage frames is counted and ignored; the chain goes on.
    let v1 = vs[1].node.validator_address();
    for channel in [1u8, 2, 9] {
        vs[0]
            .run
            .network()
            .unwrap()
            .send(&v1, channel, vec![0xff; 40])
            .unwrap();
    }
    wait_for(
        "garbage counted",
        || {
            let rejected = vs[1].node.counters.consensus_rejected();
            let has = |r: &str| rejected.iter().any(|(k, n)| k == r && *n > 0);
            (has("MalformedFrame") && has("MalformedGossip") && has("UnknownChannel")).then_some(())
        },
        || format!("{:?}", vs[1].node.counters.consensus_rejected()),
    );

    // Phase 2: validator 3 goes down; the other three (a quorum) keep committing.
    let v3 = vs.pop().unwrap();
    c.stop(v3);
    let second: Vec<Hash> = vs[1]
        .node
        .submit(&c.transfers(30, 20))
        .into_iter()
        .map(|r| r.unwrap().hash)
        .collect();
    let three: Vec<&Arc<Node>> = vs.iter().map(|v| &v.node).collect();
    wait_committed(&three, &second, "phase 2 (3 of 4 validators)");
    // The driver's published status (keel_status, metrics) shows the missing peer.
    let st = wait_for(
        "the peer down reported",
        || {
            let st = vs[0].node.counters.bft().expect("BFT status is published");
            (st.peers.iter().filter(|p| !p.connected).count() == 1).then_some(st)
        },
        || format!("{:?}", vs[0].node.counters.bft().map(|st| st.peers)),
    );
    assert_eq!(st.quorum, 3);
    assert!(st.consensus.as_ref().expect("validator").round > 0);

    // Phase 3: it restarts from its database and catches up by block sync; then everyone
    // commits new work together.
    vs.push(c.start(3));
    let third: Vec<Hash> = vs[2]
        .node
        .submit(&c.transfers(50, 10))
        .into_iter()
        .map(|r| r.unwrap().hash)
        .collect();
    let all: Vec<&Arc<Node>> = vs.iter().map(|v| &v.node).collect();
    let everything: Vec<Hash> = first.iter().chain(&second).chain(&third).copied().collect();
    wait_committed(&all, &everything, "phase 3 (after restart)");
    let h3 = assert_agreement(&all);
    assert!(h3 > h1);
    for n in &all {
        assert_eq!(
            n.account(&Address([7; 20])).unwrap().balance,
            600,
            "exactly once"
        );
    }
    println!(
        "heights {:?}",
        all.iter().map(|n| n.head().height).collect::<Vec<_>>()
    );
    // The observer followed the same chain by block sync without voting.
    wait_committed(&[&observer.node], &everything, "observer");
    let mut with_observer = all.clone();
    with_observer.push(&observer.node);
    assert_agreement(&with_observer);
    assert!(
        observer
            .node
            .counters
            .bft()
            .expect("status")
            .consensus
            .is_none()
    );
    c.stop(observer);
    for v in vs {
        c.stop(v);
    }
}

/// Leaders propose only when there is work (ADR 0014): with only a transaction stuck behind a
/// nonce gap pending and no heartbeat, the chain does not grow at all; includable transactions
/// are ordered, and the block that pushes their commit follows at the light pace. Judged by
/// the committed blocks' timestamps (leaders pace after the parent's timestamp), and by the
/// absence of blocks (a slow machine only makes fewer), so a slow machine cannot fail it.
#[test]
fn block_pace_follows_includable_work_not_a_stuck_transaction() {
    const LIGHT_MS: u64 = 300;
    let c = Cluster::new();
    let vs: Vec<Validator> = (0..N).map(|i| c.start_paced(i, LIGHT_MS, 0)).collect();
    let all: Vec<&Arc<Node>> = vs.iter().map(|v| &v.node).collect();
    let node = &vs[0].node;
    let block = |h: u64| node.chain().block(h).unwrap().unwrap();
    let gap_ms = |h: u64| block(h).header.timestamp_ms - block(h - 1).header.timestamp_ms;
    let head_reaches = |h: u64| {
        wait_for(
            &format!("height {h}"),
            || (node.head().height >= h).then_some(()),
            || format!("head {}", node.head().height),
        )
    };
    // Nonce 3 while the account's next nonce is 0: admitted, never includable for now.
    let gapped = c.transfers(3, 1);
    for v in &vs {
        v.node.submit(&gapped).into_iter().for_each(|r| {
            r.unwrap();
        });
    }
    // No work, no heartbeat: no block at all (not even at genesis).
    std::thread::sleep(Duration::from_millis(1_500));
    let heights: Vec<u64> = all.iter().map(|n| n.head().height).collect();
    assert_eq!(heights, vec![0; N], "blocks without work");
    assert_eq!(node.mempool().len(), 1);
    // Nonces 0..3 arrive: all four commit, and the block after the first one carrying them
    // comes at the light pace (its parent has transactions to commit; the pool is far from a
    // full block).
    let ready: Vec<Hash> = vs[1]
        .node
        .submit(&c.transfers(0, 3))
        .into_iter()
        .map(|r| r.unwrap().hash)
        .collect();
    wait_committed(&all, &ready, "ready transfers");
    let gapped_hash = keel_types::SignedTransaction::decode(&gapped[0])
        .unwrap()
        .hash(SUITE.hash());
    wait_committed(&all, &[gapped_hash], "the formerly stuck transfer");
    // The blocks that push that commit stay uncommitted until there is work again: one more
    // transfer commits them.
    let more: Vec<Hash> = vs[2]
        .node
        .submit(&c.transfers(4, 1))
        .into_iter()
        .map(|r| r.unwrap().hash)
        .collect();
    wait_committed(&all, &more, "one more transfer");
    let first = (1..=node.head().height)
        .find(|h| !block(*h).transactions.is_empty())
        .expect("a block carries the transfers");
    head_reaches(first + 1);
    assert!(
        gap_ms(first + 1) >= LIGHT_MS * 3 / 4,
        "block {} {} ms after a parent with transactions (light pace {LIGHT_MS} ms expected)",
        first + 1,
        gap_ms(first + 1)
    );
    assert_agreement(&all);
    for v in vs {
        c.stop(v);
    }
}

/// Rounds this node's consensus is in (0 before its first status).
fn round_of(n: &Node) -> u64 {
    n.counters
        .bft()
        .and_then(|b| b.consensus)
        .map_or(0, |c| c.round)
}

/// ADR 0014, issue 18 item 4: an idle 4-validator network grows only by its heartbeat (at most
/// three blocks per heartbeat, plus the two that commit the last transfer) and changes no view;
/// then, with the leader that waits to propose stopped, the next transfer still commits (the
/// others' round timers run again once there is work). 10 s of idleness (the issue asks 60 s;
/// the simulator covers 10 minutes: `an_idle_consortium_does_not_grow_and_commits_the_next_transfer`).
#[test]
fn an_idle_network_grows_only_by_its_heartbeat_and_survives_a_dead_leader() {
    const HEARTBEAT_MS: u64 = 4_000;
    // Not a multiple of the heartbeat: the leader is stopped between two heartbeats.
    const IDLE: Duration = Duration::from_secs(10);
    let c = Cluster::new();
    let mut vs: Vec<Validator> = (0..N).map(|i| c.start_paced(i, 50, HEARTBEAT_MS)).collect();
    let all: Vec<&Arc<Node>> = vs.iter().map(|v| &v.node).collect();
    let first: Vec<Hash> = vs[0]
        .node
        .submit(&c.transfers(0, 3))
        .into_iter()
        .map(|r| r.unwrap().hash)
        .collect();
    wait_committed(&all, &first, "first transfers");
    let h0: Vec<u64> = all.iter().map(|n| n.head().height).collect();
    let r0: Vec<u64> = all.iter().map(|n| round_of(n)).collect();
    std::thread::sleep(IDLE);
    let h1: Vec<u64> = all.iter().map(|n| n.head().height).collect();
    let r1: Vec<u64> = all.iter().map(|n| round_of(n)).collect();
    let grew = |a: &[u64], b: &[u64]| a.iter().zip(b).map(|(x, y)| y - x).max().unwrap();
    let heartbeats = IDLE.as_millis() as u64 / HEARTBEAT_MS + 1;
    let allowed = 2 + 3 * heartbeats;
    println!(
        "idle {IDLE:?}, heartbeat {HEARTBEAT_MS} ms: heights {h0:?} -> {h1:?}, rounds {r0:?} -> {r1:?} (allowed {allowed} blocks)"
    );
    assert!(grew(&h0, &h1) <= allowed, "{h0:?} -> {h1:?}");
    assert!(
        grew(&h0, &h1) >= 2,
        "the heartbeat keeps the chain alive: {h0:?} -> {h1:?}"
    );
    // One round per block: no view change while idle (the status is published every 250 ms).
    assert!(grew(&r0, &r1) <= allowed + 1, "rounds {r0:?} -> {r1:?}");
    drop(all);

    let waiting = vs
        .iter()
        .position(|v| {
            v.node
                .counters
                .bft()
                .and_then(|b| b.consensus)
                .is_some_and(|s| s.leader == v.node.validator_address())
        })
        .unwrap_or(0);
    let dead = vs.remove(waiting);
    c.stop(dead);
    let started = Instant::now();
    let next: Vec<Hash> = vs[0]
        .node
        .submit(&c.transfers(3, 1))
        .into_iter()
        .map(|r| r.unwrap().hash)
        .collect();
    let live: Vec<&Arc<Node>> = vs.iter().map(|v| &v.node).collect();
    wait_committed(&live, &next, "transfer after idle, leader down");
    println!(
        "transfer after idle with validator {waiting} down committed in {:?}",
        started.elapsed()
    );
    assert_agreement(&live);
    drop(live);
    for v in vs {
        c.stop(v);
    }
}
