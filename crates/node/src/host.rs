//! The host's handle on one ledger: the [`Ledger`] plus the node key and the host counters.
//!
//! The ledger holds no key: this handle signs solo blocks ([`Node::produce_block`]) and builds
//! the consensus signer ([`Node::consensus_parts`]) with the key, and it turns the driver's
//! gossip queue into the ledger's [`keel_ledger::GossipSink`]. Everything else is the ledger's:
//! `Node` dereferences to [`Ledger`], so `node.head()`, `node.submit(..)` read the chain.

use crate::metrics::NodeCounters;
use crate::{KeyFile, NodeConfig, NodeError};
use keel_consensus::{KeelCrypto, ValidatorSet};
use keel_crypto::{KeyPair, Suite};
use keel_execution::governance::EpochState;
use keel_ledger::{Genesis, Ledger};
use keel_mempool::MempoolConfig;
use keel_storage::StoreOptions;
use keel_types::{Address, Block};
use std::path::Path;
use std::sync::Arc;

/// One ledger as this process hosts it: the chain, the node key, the host counters.
pub struct Node {
    ledger: Arc<Ledger>,
    key: KeyPair,
    /// Host counters: consensus messages, BFT and network status, certificates.
    pub counters: NodeCounters,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("ledger", &self.ledger)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for Node {
    type Target = Ledger;

    fn deref(&self) -> &Ledger {
        &self.ledger
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

    /// Open the ledger in `data_dir` (initialising it from genesis if the database is empty)
    /// for the node whose key is `key` (a validator or an observer of genesis).
    pub fn open_with(
        genesis: Genesis,
        key: KeyPair,
        data_dir: &Path,
        opts: StoreOptions,
        mempool_cfg: MempoolConfig,
    ) -> Result<Arc<Node>, NodeError> {
        let suite = genesis.suite().map_err(|reason| NodeError::Config {
            what: "genesis",
            path: data_dir.into(),
            reason,
        })?;
        let local = keel_crypto::address_of(key.scheme(), &key.public_key(), suite.hash())
            .map(Address)
            .map_err(|e| NodeError::Config {
                what: "node key",
                path: data_dir.into(),
                reason: format!("its public key does not give an address: {e}"),
            })?;
        let ledger = Ledger::open_with(genesis, local, data_dir, opts, mempool_cfg)?;
        Ok(Arc::new(Node {
            ledger: Arc::new(ledger),
            key,
            counters: NodeCounters::default(),
        }))
    }

    /// The hosted ledger.
    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// Solo mode: produce and commit the next block, signed with the node key (see
    /// [`Ledger::produce_block`]).
    pub fn produce_block(
        &self,
        now_ms: u64,
        max_txs: usize,
        allow_empty: bool,
    ) -> Result<Option<Block>, NodeError> {
        Ok(self
            .ledger
            .produce_block(&self.key, now_ms, max_txs, allow_empty)?)
    }

    /// The current epoch's consensus validator set and a verifier/signer with the node key.
    pub fn consensus_parts(&self) -> Result<(ValidatorSet, KeelCrypto), NodeError> {
        self.consensus_parts_for(&self.ledger.epoch()?)
    }

    /// An epoch's consensus validator set and a verifier/signer with the node key.
    pub fn consensus_parts_for(
        &self,
        epoch: &EpochState,
    ) -> Result<(ValidatorSet, KeelCrypto), NodeError> {
        let (set, keys) = self.ledger.consensus_set_for(epoch)?;
        let crypto = KeelCrypto::new(self.key.clone(), self.ledger.suite().hash(), &keys)
            .map_err(|e| NodeError::Invariant(format!("consensus setup: {e}")))?;
        Ok((set, crypto))
    }

    /// Copy admitted transactions into `sink` for gossip to the other validators (best
    /// effort: a full queue drops; the transaction stays in the local pool).
    pub fn set_gossip(&self, sink: tokio::sync::mpsc::Sender<Vec<u8>>) {
        self.ledger.set_gossip(Box::new(move |raw: &[u8]| {
            let _ = sink.try_send(raw.to_vec());
        }));
    }
}
