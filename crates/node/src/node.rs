//! The node: opens or initialises the chain, admits transactions, produces and commits blocks,
//! answers queries.

use crate::chain::{ChainStore, TxLocation};
use crate::metrics::NodeCounters;
use crate::{Genesis, KeyFile, NodeConfig, NodeError};
use keel_crypto::{KeyPair, Scheme, Suite};
use keel_execution::{Account, ChainParams, EvidenceRecord, Executor, genesis_changes, keys};
use keel_mempool::{AccountSource, AdmitError, Admitted, Mempool, MempoolConfig};
use keel_state::{StateProof, StateTree};
use keel_storage::{Durability, Store, StoreOptions};
use keel_types::{
    Address, Block, CommitCertificate, ContentHashAlg, Hash, Header, Receipt, SignedTransaction,
    codec, merkle,
};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, RwLock};
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

/// What to prove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofKind {
    /// An account.
    Account(Address),
    /// An evidence record by id.
    Evidence(Hash),
    /// The content-hash index entry of evidence.
    EvidenceHash(ContentHashAlg, Hash),
}

/// A self-contained proof bundle: verifiable offline with [`ProofResponse::verify`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofResponse {
    /// `gm` or `intl`.
    pub suite: String,
    /// Block height the proof is for.
    pub height: u64,
    /// Encoded header, hex.
    pub header: String,
    /// Header hash.
    pub header_hash: Hash,
    /// State root in that header.
    pub state_root: Hash,
    /// Proven state key, hex.
    pub key: String,
    /// Value at the key (hex), null for a non-inclusion proof.
    pub value: Option<String>,
    /// Encoded proof, hex.
    pub proof: String,
}

impl ProofResponse {
    /// Check everything offline: header encoding and hash, state root, Merkle proof.
    /// Returns the decoded header and the proven value.
    pub fn verify(&self) -> Result<(Header, Option<Vec<u8>>), String> {
        let suite: Suite = self
            .suite
            .parse()
            .map_err(|_| format!("unknown suite {}", self.suite))?;
        let unhex = |what: &str, s: &str| {
            hex::decode(s.trim_start_matches("0x")).map_err(|_| format!("{what} is not hex"))
        };
        let header = Header::decode(&unhex("header", &self.header)?).map_err(|e| e.to_string())?;
        let alg = suite.hash();
        if header.hash(alg) != self.header_hash {
            return Err(format!(
                "header hashes to {}, not {}",
                header.hash(alg),
                self.header_hash
            ));
        }
        if header.height != self.height {
            return Err(format!(
                "header is for height {}, proof claims {}",
                header.height, self.height
            ));
        }
        if header.state_root != self.state_root {
            return Err("state root differs from the header's".into());
        }
        let key: [u8; 32] = unhex("key", &self.key)?
            .try_into()
            .map_err(|_| "key must be 32 bytes".to_string())?;
        let value = self
            .value
            .as_deref()
            .map(|v| unhex("value", v))
            .transpose()?;
        let proof =
            StateProof::from_bytes(&unhex("proof", &self.proof)?).map_err(|e| e.to_string())?;
        proof
            .verify(
                state_hash(suite),
                &header.state_root.0,
                &key,
                value.as_deref(),
            )
            .map_err(|e| format!("Merkle proof does not verify: {e}"))?;
        Ok((header, value))
    }
}

/// The state-tree hash of a suite.
pub fn state_hash(suite: Suite) -> keel_state::StateHash {
    match suite {
        Suite::Gm => keel_state::StateHash::Sm3,
        Suite::Intl => keel_state::StateHash::Sha256,
    }
}

/// A running chain instance.
pub struct Node {
    pub(crate) suite: Suite,
    pub(crate) genesis: Genesis,
    pub(crate) chain: ChainStore,
    pub(crate) state: StateTree,
    pub(crate) mempool: Mempool,
    pub(crate) executor: Executor,
    pub(crate) key: KeyPair,
    pub(crate) validator: Address,
    pub(crate) validators: Vec<(Address, Scheme, Vec<u8>)>,
    pub(crate) genesis_hash: Hash,
    pub(crate) head: RwLock<Head>,
    pub(crate) produce: Mutex<()>,
    pub(crate) halted: Mutex<Option<String>>,
    pub(crate) gossip: Mutex<Option<tokio::sync::mpsc::Sender<Vec<u8>>>>,
    /// Signalled when a block commits (value: head height) or the pool grows.
    pub(crate) events: (Mutex<u64>, Condvar),
    /// Counters.
    pub counters: NodeCounters,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("chain_id", &self.genesis.chain_id)
            .field("head", &self.head().height)
            .finish()
    }
}

impl Node {
    /// Open the node described by a config file.
    pub fn open(cfg: &NodeConfig) -> Result<Arc<Node>, NodeError> {
        let genesis = Genesis::load(&cfg.genesis_file)?;
        let (_, key) = KeyFile::load(&cfg.key_file)?;
        let opts = StoreOptions {
            cache_size_bytes: cfg.storage_cache_mib * 1024 * 1024,
        };
        let mut mcfg = MempoolConfig::new(genesis.chain_id, Suite::Gm, genesis.gas_price);
        mcfg.max_txs = cfg.mempool_max_txs;
        Node::open_with(genesis, key, &cfg.data_dir, opts, mcfg)
    }

    /// Open (initialising from genesis if the database is empty).
    pub fn open_with(
        genesis: Genesis,
        key: KeyPair,
        data_dir: &Path,
        opts: StoreOptions,
        mut mempool_cfg: MempoolConfig,
    ) -> Result<Arc<Node>, NodeError> {
        let suite = genesis.suite().map_err(|reason| NodeError::Config {
            what: "genesis",
            path: data_dir.into(),
            reason,
        })?;
        std::fs::create_dir_all(data_dir).map_err(|e| NodeError::io(data_dir, e))?;
        let store = Store::open(data_dir, opts)?;
        let chain = ChainStore::new(store.clone());
        let state = StateTree::new(store, state_hash(suite));
        let alg = suite.hash();
        let validator = Address(
            keel_crypto::address_of(key.scheme(), &key.public_key(), alg)
                .expect("a key pair's own public key is valid"),
        );
        let validators = genesis.validator_keys();
        if !validators.iter().any(|(a, _, _)| *a == validator)
            && !genesis.observer_addresses().contains(&validator)
        {
            return Err(NodeError::Config {
                what: "node key",
                path: data_dir.into(),
                reason: format!(
                    "key address {validator} is neither a validator nor an observer in genesis"
                ),
            });
        }
        // Genesis block (created once). The database remembers the hash of the genesis
        // configuration it was created from, so a node never runs on a foreign database.
        let config_hash =
            Hash(alg.digest(&serde_json::to_vec(&genesis).expect("genesis serializes")));
        if chain.head_height()?.is_none() {
            let mut batch = chain.store().batch();
            let gov = genesis.gov_genesis().map_err(|reason| NodeError::Config {
                what: "genesis",
                path: data_dir.into(),
                reason,
            })?;
            let mut changes = genesis_changes(alg, &genesis.alloc_pairs());
            changes.extend(keel_execution::governance::genesis_changes(alg, &gov));
            changes.sort_by_key(|a| a.0);
            let root = state.apply(0, &changes, &mut batch)?;
            let header = genesis.header(suite, Hash(root));
            let hash = header.hash(alg);
            let block = Block {
                header,
                transactions: vec![],
                certificate: Genesis::certificate(),
            };
            chain.put_block(&mut batch, &block, &hash, &[], &[], &[]);
            chain.put_genesis_config_hash(&mut batch, &config_hash);
            batch.commit(Durability::Sync)?;
            tracing::info!(%hash, "initialised chain from genesis");
        }
        let stored = chain.genesis_config_hash()?;
        if stored != Some(config_hash) {
            return Err(NodeError::GenesisMismatch {
                path: data_dir.into(),
                stored: stored
                    .map(|h| h.to_string())
                    .unwrap_or_else(|| "none".into()),
                configured: config_hash.to_string(),
            });
        }
        let genesis_hash = chain.genesis_hash()?.ok_or_else(|| {
            NodeError::Invariant("database has blocks but no genesis hash".into())
        })?;
        let height = chain
            .head_height()?
            .ok_or_else(|| NodeError::Invariant("no head".into()))?;
        let header = chain
            .header(height)?
            .ok_or_else(|| NodeError::Invariant(format!("head {height} has no header")))?;
        let state_version = state.latest_version()?;
        if state_version != Some(height) {
            return Err(NodeError::Invariant(format!(
                "state is at version {state_version:?} but the head block is {height}"
            )));
        }
        let head = Head {
            height,
            hash: header.hash(alg),
            header,
        };
        mempool_cfg.chain_id = genesis.chain_id;
        mempool_cfg.suite = suite;
        mempool_cfg.gas_price = genesis.gas_price;
        let executor = Executor::new(ChainParams {
            chain_id: genesis.chain_id,
            suite,
            gas_price: genesis.gas_price,
        })
        .with_evm(&keel_evm::KEEL_EVM);
        Ok(Arc::new(Node {
            suite,
            chain,
            state,
            mempool: Mempool::new(mempool_cfg),
            executor,
            key,
            validator,
            validators,
            genesis_hash,
            head: RwLock::new(head),
            produce: Mutex::new(()),
            halted: Mutex::new(None),
            gossip: Mutex::new(None),
            events: (Mutex::new(height), Condvar::new()),
            counters: NodeCounters::default(),
            genesis,
        }))
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
    pub fn chain_info(&self) -> Result<ChainInfo, NodeError> {
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
    pub fn account(&self, addr: &Address) -> Result<Account, NodeError> {
        let key = keys::account(self.suite.hash(), addr);
        match self.state.get(&key, self.head().height)? {
            None => Ok(Account::default()),
            Some(b) => Ok(Account::decode(&key, &b)?),
        }
    }

    /// Evidence record by id at the head.
    pub fn evidence(&self, id: &Hash) -> Result<Option<EvidenceRecord>, NodeError> {
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
    ) -> Result<Option<EvidenceRecord>, NodeError> {
        let key = keys::evidence_by_hash(self.suite.hash(), alg, content);
        let Some(id) = self.state.get(&key, self.head().height)? else {
            return Ok(None);
        };
        let id = Hash::from_slice(&id)
            .ok_or_else(|| NodeError::Invariant("evidence index value is not a hash".into()))?;
        self.evidence(&id)
    }

    /// Evidence records of an owner.
    pub fn evidence_of_owner(
        &self,
        owner: &Address,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<EvidenceRecord>, NodeError> {
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
    pub fn tx_location(&self, hash: &Hash) -> Result<Option<TxLocation>, NodeError> {
        let head = self.head().height;
        Ok(self.chain.tx_location(hash)?.filter(|l| l.height <= head))
    }

    /// A transaction and where it is.
    pub fn transaction(
        &self,
        hash: &Hash,
    ) -> Result<Option<(SignedTransaction, TxLocation)>, NodeError> {
        let Some(loc) = self.tx_location(hash)? else {
            return Ok(None);
        };
        let block = self.chain.block(loc.height)?.ok_or_else(|| {
            NodeError::Invariant(format!("tx index points at missing block {}", loc.height))
        })?;
        let tx = block
            .transactions
            .into_iter()
            .nth(loc.index as usize)
            .ok_or_else(|| NodeError::Invariant("tx index points past the block".into()))?;
        Ok(Some((tx, loc)))
    }

    /// Receipt of a committed transaction.
    pub fn receipt(&self, hash: &Hash) -> Result<Option<(Receipt, TxLocation)>, NodeError> {
        let Some(loc) = self.tx_location(hash)? else {
            return Ok(None);
        };
        Ok(self.chain.receipt(loc)?.map(|r| (r, loc)))
    }

    /// Prove a state entry at `height` (default: head).
    pub fn prove(
        &self,
        kind: ProofKind,
        height: Option<u64>,
    ) -> Result<Option<ProofResponse>, NodeError> {
        let head = self.head();
        let height = height.unwrap_or(head.height).min(head.height);
        let Some(header) = self.chain.header(height)? else {
            return Ok(None);
        };
        let alg = self.suite.hash();
        let key = match kind {
            ProofKind::Account(a) => keys::account(alg, &a),
            ProofKind::Evidence(id) => keys::evidence(alg, &id),
            ProofKind::EvidenceHash(c, h) => keys::evidence_by_hash(alg, c, &h),
        };
        let (value, proof) = self.state.prove(&key, height)?;
        Ok(Some(ProofResponse {
            suite: self.suite.name().into(),
            height,
            header: hex::encode(header.encode()),
            header_hash: header.hash(alg),
            state_root: header.state_root,
            key: hex::encode(key),
            value: value.map(hex::encode),
            proof: hex::encode(proof.to_bytes()),
        }))
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
                    let _ = sink.try_send(raw.clone());
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

    /// Check the whole stored chain: links, roots, indexes, certificates, and that the state
    /// tree's root at every height equals the header's. Returns the number of blocks checked.
    pub fn verify_chain(&self) -> Result<u64, NodeError> {
        let alg = self.suite.hash();
        let head = self.head();
        let mut parent: Option<Hash> = None;
        // Blocks committed through a descendant's certificate (linked by parent hashes).
        let mut uncertified = 0u64;
        for h in 0..=head.height {
            let bad = |what: String| NodeError::Invariant(format!("block {h}: {what}"));
            let block = self.chain.block(h)?.ok_or_else(|| bad("missing".into()))?;
            let hash = block.hash(alg);
            if let Some(p) = parent {
                if block.header.parent_hash != p {
                    return Err(bad("parent hash does not link".into()));
                }
                if block.certificate.is_implied() {
                    uncertified += 1;
                } else {
                    self.verify_certificate(&block, &hash).map_err(bad)?;
                    uncertified = 0;
                }
            }
            if self.chain.height_of(&hash)? != Some(h) {
                return Err(bad("hash index does not point back".into()));
            }
            let tx_hashes: Vec<Hash> = block.transactions.iter().map(|t| t.hash(alg)).collect();
            if merkle::root(alg, &tx_hashes) != block.header.tx_root {
                return Err(bad("tx root mismatch".into()));
            }
            let receipts = self.chain.block_receipts(h)?;
            let rb: Vec<Vec<u8>> = receipts.iter().map(codec::encode).collect();
            if receipts.len() != block.transactions.len()
                || merkle::root(alg, &rb) != block.header.receipts_root
            {
                return Err(bad("receipts do not match the receipts root".into()));
            }
            for (i, th) in tx_hashes.iter().enumerate() {
                if self.chain.tx_location(th)?.map(|l| (l.height, l.index)) != Some((h, i as u32)) {
                    return Err(bad(format!("tx index wrong for tx {i}")));
                }
            }
            if self.state.root_at(h)? != Some(block.header.state_root.0) {
                return Err(bad("state root differs from the state tree".into()));
            }
            parent = Some(hash);
        }
        if uncertified > 0 {
            return Err(NodeError::Invariant(format!(
                "the last {uncertified} blocks have no certificate and no certified descendant"
            )));
        }
        Ok(head.height + 1)
    }

    /// Check a block's commit certificate against the genesis validator set: a BFT quorum
    /// certificate (`keel_consensus::verify_commit`), or in solo mode the signatures of a quorum
    /// over [`CommitCertificate::signing_message`]. Implied certificates (empty) are not
    /// accepted here: the caller checks that a certified descendant links to the block.
    pub fn verify_certificate(&self, block: &Block, hash: &Hash) -> Result<(), String> {
        let cert = &block.certificate;
        if !cert.vote.is_empty() {
            let proof = crate::driver::commit_proof(cert).map_err(|e| e.to_string())?;
            // The block's epoch: its parent's state names the validators that certify it (the
            // set changes only in a certified epoch-ending block, so the committed head's set is
            // the same when the parent is not committed yet).
            let at = block
                .header
                .height
                .saturating_sub(1)
                .min(self.head().height);
            let epoch = self.epoch_at(at).map_err(|e| e.to_string())?;
            let (set, crypto) = self
                .consensus_parts_for(&epoch)
                .map_err(|e| e.to_string())?;
            // An epoch-ending block may be proven through empty suffix blocks (ADR 0011).
            let (_, suffix) = crate::epoch::decode_vote(cert).map_err(|e| e.to_string())?;
            let (height, id) =
                crate::epoch::check_suffix(self.suite.hash(), &block.header, hash, &suffix)?;
            return keel_consensus::verify_commit(&set, &crypto, &proof, height, &id)
                .map_err(|e| e.to_string());
        }
        let msg = CommitCertificate::signing_message(block.header.height, cert.round, hash);
        let mut signers = std::collections::BTreeSet::new();
        for s in &cert.signatures {
            let (_, scheme, pk) = self
                .validators
                .iter()
                .find(|(a, _, _)| *a == s.validator)
                .ok_or_else(|| format!("certificate signer {} is not a validator", s.validator))?;
            keel_crypto::verify(*scheme, pk, &msg, &s.signature)
                .map_err(|e| format!("certificate signature of {}: {e}", s.validator))?;
            if !signers.insert(s.validator) {
                return Err(format!("certificate lists {} twice", s.validator));
            }
        }
        let n = self.validators.len();
        let quorum = n - (n - 1) / 3;
        if signers.len() < quorum {
            return Err(format!(
                "certificate has {} signatures, quorum is {quorum}",
                signers.len()
            ));
        }
        Ok(())
    }

    /// The current epoch's consensus validator set and a verifier/signer with this node's key.
    pub fn consensus_parts(
        &self,
    ) -> Result<(keel_consensus::ValidatorSet, keel_consensus::KeelCrypto), NodeError> {
        self.consensus_parts_for(&self.epoch()?)
    }

    /// An epoch's consensus validator set and a verifier/signer with this node's key.
    pub fn consensus_parts_for(
        &self,
        epoch: &keel_execution::governance::EpochState,
    ) -> Result<(keel_consensus::ValidatorSet, keel_consensus::KeelCrypto), NodeError> {
        let err = |e: keel_consensus::ConsensusError| {
            NodeError::Invariant(format!("consensus setup: {e}"))
        };
        let validators = self.epoch_validators(epoch);
        let set = keel_consensus::ValidatorSet::new(
            crate::epoch::consensus_domain(self.suite.hash(), self.genesis.chain_id, epoch.epoch),
            validators.iter().map(|(a, _, _)| *a).collect(),
        )
        .map_err(err)?;
        let keys: Vec<Vec<u8>> = validators.iter().map(|(_, _, pk)| pk.clone()).collect();
        let crypto = keel_consensus::KeelCrypto::new(self.key.clone(), self.suite.hash(), &keys)
            .map_err(err)?;
        Ok((set, crypto))
    }

    /// Persisted consensus safety state, if any.
    pub fn load_safety(&self) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self
            .chain
            .store()
            .get(keel_storage::Table::Meta, SAFETY_KEY)?)
    }

    /// Durably (fsync) record the consensus safety state before any vote leaves the node.
    pub fn persist_safety(&self, encoded: &[u8]) -> Result<(), NodeError> {
        let mut batch = self.chain.store().batch();
        batch.put(keel_storage::Table::Meta, SAFETY_KEY, encoded);
        Ok(batch.commit(Durability::Sync)?)
    }

    /// Register where admitted transactions are copied for gossip to the other validators.
    pub fn set_gossip(&self, sink: tokio::sync::mpsc::Sender<Vec<u8>>) {
        *self.gossip.lock().unwrap_or_else(|p| p.into_inner()) = Some(sink);
    }

    /// Admit transactions received from a peer (not gossiped again).
    pub fn submit_from_peer(&self, raws: &[Vec<u8>]) -> Vec<Result<Admitted, AdmitError>> {
        self.submit_inner(raws, false)
    }
}

/// `Meta` key of the persisted consensus safety state.
const SAFETY_KEY: &[u8] = b"consensus_safety";

pub(crate) struct HeadAccounts<'a>(pub(crate) &'a Node);

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
