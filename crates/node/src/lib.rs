//! Node assembly: configuration, genesis, the chain store schema, and the solo block producer.
//!
//! The [`Node`] owns the store, the authenticated state, the mempool and the executor. In solo
//! mode a single validator produces blocks ([`Node::produce_block`]) when the pool holds a full
//! block or the block interval has passed; the producer thread ([`producer::Producer`]) calls it.
//!
//! Commit path (durability steps): execute on the parent state → `StateTree::apply` writes the
//! new tree nodes, values and root into a write batch → the chain store adds header, body,
//! receipts, the hash/tx/evidence indexes and the new head pointer to the **same** batch →
//! one `commit(Durability::Sync)` (fsync) → only then the in-memory head moves and the mempool
//! forgets the included transactions. A crash before the fsync loses the block entirely; after
//! it, the block is complete.

mod chain;
mod config;
pub mod driver;
mod epoch;
mod error;
mod evm;
mod genesis;
pub mod gov;
mod keyfile;
pub mod metrics;
mod node;
mod pending_blocks;
mod pipeline;
pub mod producer;
pub mod serde_u128;
mod stages;

pub use chain::{ChainStore, TxLocation};
pub use config::{
    CertConfig, DEFAULT_EXPIRY_WARNING_DAYS, NodeConfig, P2pConfig, PeerConfig, ProducerConfig,
    RpcLimits,
};
pub use error::NodeError;
pub use evm::HeightView;
pub use genesis::{Genesis, GenesisAccount, GenesisValidator};
pub use keyfile::KeyFile;
pub use node::{ChainInfo, Head, Node, ProofKind, ProofResponse};
pub use pipeline::{BlockError, ExecutedBlock, MAX_FUTURE_DRIFT_MS, VerifiedTx};
pub use stages::{Stage, StageTimes};
