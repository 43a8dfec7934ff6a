//! The ledger: one chain as a value. Opens or initialises the chain, admits transactions,
//! produces and commits blocks, answers queries. It holds no key and does no I/O but storage:
//! the host (`keel-node`) owns the node key, the network and the clock.

use crate::chain::{ChainStore, TxLocation};
use crate::counters::LedgerCounters;
use crate::proof::state_hash;
use crate::{Genesis, LedgerError};
use keel_crypto::{Scheme, Suite};
use keel_execution::{Account, ChainParams, EvidenceRecord, Executor, keys};
use keel_mempool::{AccountSource, AdmitError, Admitted, Mempool, MempoolConfig};
use keel_state::StateTree;
use keel_storage::{Durability, Store, StoreOptions};
use keel_types::{Address, ContentHashAlg, Hash, Header, Receipt, SignedTransaction};
use serde::Serialize;
use std::path::Path;
use std::sync::{Condvar, Mutex, RwLock};
use std::time::Duration;

/// The last committed block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// Height.
    pub height: u64,
    /// Header hash.
    pub hash: Hash,
    /// Header.
    pub header: Header,
}

/// Static facts about the chain plus the head.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainInfo {
    /// Chain id.
    pub chain_id: u64,
    /// Chain name.
    pub chain_name: String,
    /// Crypto suite.
    pub suite: String,
    /// Hash algorithm of the suite.
    pub hash_algorithm: String,
    /// Signature scheme of the suite.
    pub signature_scheme: String,
    /// Gas price the next block charges (decimal string; governance may change it).
    #[serde(with = "crate::serde_u128")]
    pub gas_price: u128,
    /// Genesis block hash.
    pub genesis_hash: Hash,
    /// Head height.
    pub height: u64,
    /// Head hash.
    pub head_hash: Hash,
    /// Head timestamp.
    pub head_timestamp_ms: u64,
    /// Consensus mode.
    pub consensus: String,
    /// Validator addresses.
    pub validators: Vec<Address>,
    /// Pending transactions.
    pub pending_txs: usize,
}

/// Where admitted transactions are copied for gossip (set by the host; best effort, must not
/// block).
pub type GossipSink = Box<dyn Fn(&[u8]) + Send + Sync>;

/// One chain: store, state, mempool, executor, head, counters. Synchronous; no key, no network.
pub struct Ledger {
    pub(crate) suite: Suite,
    pub(crate) genesis: Genesis,
    pub(crate) chain: ChainStore,
    pub(crate) state: StateTree,
    pub(crate) mempool: Mempool,
    pub(crate) executor: Executor,
    /// Threads that execute a block (1 = serial; ADR 0013), see [`Ledger::set_exec_threads`].
    pub(crate) exec_threads: std::sync::atomic::AtomicUsize,
    /// The address of the host's key (a validator's or an observer's).
    pub(crate) validator: Address,
    pub(crate) validators: Vec<(Address, Scheme, Vec<u8>)>,
    pub(crate) genesis_hash: Hash,
    pub(crate) head: RwLock<Head>,
    pub(crate) produce: Mutex<()>,
    pub(crate) halted: Mutex<Option<String>>,
    pub(crate) gossip: Mutex<Option<GossipSink>>,
    /// Signalled when a block commits (value: head height) or the pool grows.
    pub(crate) events: (Mutex<u64>, Condvar),
    /// Counters.
    pub counters: LedgerCounters,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("chain_id", &self.genesis.chain_id)
            .field("head", &self.head().height)
            .finish()
    }
}

impl Ledger {
    /// Open the chain in `data_dir` (initialising it from `genesis` if the database is empty)
    /// for the host whose key has address `local` (a validator or an observer of genesis, or a
    /// node that governance admits later).
    pub fn open_with(
        genesis: Genesis,
        local: Address,
        data_dir: &Path,
        opts: StoreOptions,
        mut mempool_cfg: MempoolConfig,
    ) -> Result<Ledger, LedgerError> {
        let suite = genesis.suite().map_err(|reason| LedgerError::Config {
            what: "genesis",
            path: data_dir.into(),
            reason,
        })?;
        std::fs::create_dir_all(data_dir).map_err(|e| LedgerError::io(data_dir, e))?;
        let store = Store::open(data_dir, opts)?;
        let chain = ChainStore::new(store.clone());
        let state = StateTree::new(store, state_hash(suite));
        let alg = suite.hash();
        let validator = local;
        let validators = genesis.validator_keys();
        if !validators.iter().any(|(a, _, _)| *a == validator)
            && !genesis.observer_addresses().contains(&validator)
        {
            // A node joining by a governance vote (issue 14) is in no genesis list; the other
            // nodes refuse its links until the vote passes, so this is only a warning.
            tracing::warn!(
                address = %validator,
                "this node's key is neither a validator nor an observer in genesis: it can link only once governance admits it (`keel gov propose add-validator`)"
            );
        }
        // Genesis block (created once): see `genesis::initialise`.
        let config_hash = crate::genesis::initialise(&genesis, suite, &chain, &state, data_dir)?;
        let stored = chain.genesis_config_hash()?;
        if stored != Some(config_hash) {
            return Err(LedgerError::GenesisMismatch {
                path: data_dir.into(),
                stored: stored
                    .map(|h| h.to_string())
                    .unwrap_or_else(|| "none".into()),
                configured: config_hash.to_string(),
            });
        }
        let (genesis_hash, head) = load_head(&chain, &state, alg)?;
        let height = head.height;
        mempool_cfg.chain_id = genesis.chain_id;
        mempool_cfg.suite = suite;
        mempool_cfg.gas_price = genesis.gas_price;
        let executor = Executor::new(ChainParams {
            chain_id: genesis.chain_id,
            suite,
            gas_price: genesis.gas_price,
        })
        .with_evm(&keel_evm::KEEL_EVM);
        Ok(Ledger {
            suite,
            chain,
            state,
            mempool: Mempool::new(mempool_cfg),
            executor,
            exec_threads: std::sync::atomic::AtomicUsize::new(1),
            validator,
            validators,
            genesis_hash,
            head: RwLock::new(head),
            produce: Mutex::new(()),
            halted: Mutex::new(None),
            gossip: Mutex::new(None),
            events: (Mutex::new(height), Condvar::new()),
            counters: LedgerCounters::default(),
            genesis,
        })
    }

    /// Stop accepting work after a fatal error (a failed commit leaves the storage engine
    /// poisoned; the only safe recovery is a restart, which resumes at the last durable block).
    pub fn halt(&self, reason: String) {
        tracing::error!(%reason, "node halted");
        *self.halted.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason);
        self.events.1.notify_all();
    }

    /// Why the node halted, if it did.
    pub fn halted(&self) -> Option<String> {
        self.halted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Chain suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// Genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// Chain store (read access).
    pub fn chain(&self) -> &ChainStore {
        &self.chain
    }

    /// Authenticated state (read access; the host reads pending-state snapshots).
    pub fn state(&self) -> &StateTree {
        &self.state
    }

    /// Hash of the genesis block.
    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    /// Mempool.
    pub fn mempool(&self) -> &Mempool {
        &self.mempool
    }

    /// This node's address (its key's; a validator's or an observer's).
    pub fn validator_address(&self) -> Address {
        self.validator
    }

    /// True if this node is in the current epoch's validator set (false for an observer).
    pub fn is_validator(&self) -> bool {
        self.current_validators().contains(&self.validator)
    }

    /// Validator addresses of the current epoch (genesis validators if the chain has no epoch
    /// state).
    pub fn current_validators(&self) -> Vec<Address> {
        match self.epoch() {
            Ok(e) => e.addresses(self.suite.hash()),
            Err(_) => self.validators.iter().map(|(a, _, _)| *a).collect(),
        }
    }

    /// The last committed block.
    pub fn head(&self) -> Head {
        self.head.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Facts about the chain (the gas price the next block charges).
    pub fn chain_info(&self) -> Result<ChainInfo, LedgerError> {
        let head = self.head();
        Ok(ChainInfo {
            chain_id: self.genesis.chain_id,
            chain_name: self.genesis.chain_name.clone(),
            suite: self.suite.name().into(),
            hash_algorithm: self.suite.hash().name().into(),
            signature_scheme: self.suite.signature_scheme().name().into(),
            gas_price: self.chain_params_at(head.height)?.gas_price,
            genesis_hash: self.genesis_hash,
            height: head.height,
            head_hash: head.hash,
            head_timestamp_ms: head.header.timestamp_ms,
            consensus: if self.validators.len() > 1 {
                "bft"
            } else {
                "solo"
            }
            .into(),
            validators: self.current_validators(),
            pending_txs: self.mempool.len(),
        })
    }

    /// Account at the head.
    pub fn account(&self, addr: &Address) -> Result<Account, LedgerError> {
        let key = keys::account(self.suite.hash(), addr);
        match self.state.get(&key, self.head().height)? {
            None => Ok(Account::default()),
            Some(b) => Ok(Account::decode(&key, &b)?),
        }
    }

    /// Evidence record by id at the head.
    pub fn evidence(&self, id: &Hash) -> Result<Option<EvidenceRecord>, LedgerError> {
        let key = keys::evidence(self.suite.hash(), id);
        match self.state.get(&key, self.head().height)? {
            None => Ok(None),
            Some(b) => Ok(Some(EvidenceRecord::decode(&key, &b)?)),
        }
    }

    /// Evidence record by content hash at the head.
    pub fn evidence_by_hash(
        &self,
        alg: ContentHashAlg,
        content: &Hash,
    ) -> Result<Option<EvidenceRecord>, LedgerError> {
        let key = keys::evidence_by_hash(self.suite.hash(), alg, content);
        let Some(id) = self.state.get(&key, self.head().height)? else {
            return Ok(None);
        };
        let id = Hash::from_slice(&id)
            .ok_or_else(|| LedgerError::Invariant("evidence index value is not a hash".into()))?;
        self.evidence(&id)
    }

    /// Evidence records of an owner.
    pub fn evidence_of_owner(
        &self,
        owner: &Address,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<EvidenceRecord>, LedgerError> {
        let ids = self.chain.evidence_of_owner(owner, offset, limit)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(r) = self.evidence(&id)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Where a committed transaction is, if its block is at or below the published head. A
    /// block's rows become readable in the store just before `commit_block` publishes the new
    /// head; bounding every lookup by the head keeps reads on one view: once a receipt in block
    /// N is visible, the head (and so `eth_blockNumber` and the account nonces) is at N or above.
    pub fn tx_location(&self, hash: &Hash) -> Result<Option<TxLocation>, LedgerError> {
        let head = self.head().height;
        Ok(self.chain.tx_location(hash)?.filter(|l| l.height <= head))
    }

    /// A transaction and where it is.
    pub fn transaction(
        &self,
        hash: &Hash,
    ) -> Result<Option<(SignedTransaction, TxLocation)>, LedgerError> {
        let Some(loc) = self.tx_location(hash)? else {
            return Ok(None);
        };
        let block = self.chain.block(loc.height)?.ok_or_else(|| {
            LedgerError::Invariant(format!("tx index points at missing block {}", loc.height))
        })?;
        let tx = block
            .transactions
            .into_iter()
            .nth(loc.index as usize)
            .ok_or_else(|| LedgerError::Invariant("tx index points past the block".into()))?;
        Ok(Some((tx, loc)))
    }

    /// Receipt of a committed transaction.
    pub fn receipt(&self, hash: &Hash) -> Result<Option<(Receipt, TxLocation)>, LedgerError> {
        let Some(loc) = self.tx_location(hash)? else {
            return Ok(None);
        };
        Ok(self.chain.receipt(loc)?.map(|r| (r, loc)))
    }

    /// Admit raw transactions.
    pub fn submit(&self, raws: &[Vec<u8>]) -> Vec<Result<Admitted, AdmitError>> {
        self.submit_inner(raws, true)
    }

    fn submit_inner(&self, raws: &[Vec<u8>], gossip: bool) -> Vec<Result<Admitted, AdmitError>> {
        if let Some(reason) = self.halted() {
            return raws
                .iter()
                .map(|_| Err(AdmitError::State(format!("node halted: {reason}"))))
                .collect();
        }
        let next = self.head().height + 1;
        let res = self.counters.stages.time(crate::Stage::Admission, || {
            self.mempool.admit(raws, &HeadAccounts(self), next)
        });
        self.counters.record_admission(&res);
        if gossip && let Some(sink) = &*self.gossip.lock().unwrap_or_else(|p| p.into_inner()) {
            for (raw, r) in raws.iter().zip(&res) {
                // Best effort: a full gossip queue drops (the leader still has the tx locally).
                if r.is_ok() {
                    sink(raw);
                }
            }
        }
        if res.iter().any(|r| r.is_ok()) {
            self.events.1.notify_all();
        }
        res
    }

    /// Wait until the head reaches `height` or the pool changes, at most `timeout`.
    /// Returns the head height.
    pub fn wait_for_event(&self, seen_height: u64, timeout: Duration) -> u64 {
        let guard = self.events.0.lock().unwrap_or_else(|p| p.into_inner());
        if *guard > seen_height {
            return *guard;
        }
        let (guard, _) = self
            .events
            .1
            .wait_timeout(guard, timeout)
            .unwrap_or_else(|p| p.into_inner());
        *guard
    }

    /// An epoch's consensus validator set and the encoded public keys of its validators (the
    /// host builds its signer from them and its own key).
    pub fn consensus_set_for(
        &self,
        epoch: &keel_execution::governance::EpochState,
    ) -> Result<(keel_consensus::ValidatorSet, Vec<Vec<u8>>), LedgerError> {
        let validators = self.epoch_validators(epoch);
        let set = keel_consensus::ValidatorSet::new(
            crate::certificate::consensus_domain(
                self.suite.hash(),
                self.genesis.chain_id,
                epoch.epoch,
            ),
            validators.iter().map(|(a, _, _)| *a).collect(),
        )
        .map_err(|e| LedgerError::Invariant(format!("consensus setup: {e}")))?;
        let keys = validators.into_iter().map(|(_, _, pk)| pk).collect();
        Ok((set, keys))
    }

    /// Persisted consensus safety state, if any.
    pub fn load_safety(&self) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(self
            .chain
            .store()
            .get(keel_storage::Table::Meta, SAFETY_KEY)?)
    }

    /// Durably (fsync) record the consensus safety state before any vote leaves the node.
    pub fn persist_safety(&self, encoded: &[u8]) -> Result<(), LedgerError> {
        let mut batch = self.chain.store().batch();
        batch.put(keel_storage::Table::Meta, SAFETY_KEY, encoded);
        Ok(batch.commit(Durability::Sync)?)
    }

    /// Register where admitted transactions are copied for gossip to the other validators.
    pub fn set_gossip(&self, sink: GossipSink) {
        *self.gossip.lock().unwrap_or_else(|p| p.into_inner()) = Some(sink);
    }

    /// Admit transactions received from a peer (not gossiped again).
    pub fn submit_from_peer(&self, raws: &[Vec<u8>]) -> Vec<Result<Admitted, AdmitError>> {
        self.submit_inner(raws, false)
    }
}

/// The genesis hash and the committed head of an opened database, checked against the state
/// tree's latest version.
fn load_head(
    chain: &ChainStore,
    state: &StateTree,
    alg: keel_crypto::HashAlgorithm,
) -> Result<(Hash, Head), LedgerError> {
    let genesis_hash = chain
        .genesis_hash()?
        .ok_or_else(|| LedgerError::Invariant("database has blocks but no genesis hash".into()))?;
    let height = chain
        .head_height()?
        .ok_or_else(|| LedgerError::Invariant("no head".into()))?;
    let header = chain
        .header(height)?
        .ok_or_else(|| LedgerError::Invariant(format!("head {height} has no header")))?;
    let state_version = state.latest_version()?;
    if state_version != Some(height) {
        return Err(LedgerError::Invariant(format!(
            "state is at version {state_version:?} but the head block is {height}"
        )));
    }
    let head = Head {
        height,
        hash: header.hash(alg),
        header,
    };
    Ok((genesis_hash, head))
}

/// `Meta` key of the persisted consensus safety state.
const SAFETY_KEY: &[u8] = b"consensus_safety";

/// The committed head's accounts, as the mempool reads them.
#[derive(Debug)]
pub struct HeadAccounts<'a>(pub &'a Ledger);

impl AccountSource for HeadAccounts<'_> {
    fn account(&self, addr: &Address) -> Result<(u64, u128), String> {
        self.0
            .account(addr)
            .map(|a| (a.nonce, a.balance))
            .map_err(|e| e.to_string())
    }

    fn authorize(&self, sender: &Address, tx: &SignedTransaction) -> Result<(), AdmitError> {
        self.0.authorize_tx(sender, tx)
    }

    fn gas_price(&self) -> Result<Option<u128>, String> {
        self.0
            .chain_params()
            .map(|p| Some(p.gas_price))
            .map_err(|e| e.to_string())
    }
}
