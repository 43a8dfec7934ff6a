//! The node host: configuration (`node.toml`), key files, the solo block producer, the BFT
//! driver and its epochs over the authenticated network, the host counters, and [`launch`],
//! the one assembly of a running node.
//!
//! The chain itself is a [`keel_ledger::Ledger`] (store, state, mempool, executor, block
//! pipeline), synchronous and keyless. [`Node`] is the host's handle on it: the ledger plus the
//! node key and the host counters; it dereferences to the ledger. In solo mode the producer
//! thread ([`producer::Producer`]) calls [`Node::produce_block`] when the pool holds a full
//! block or the block interval has passed; in BFT mode the [`driver::Driver`] runs consensus.

mod config;
pub mod driver;
mod epoch;
mod error;
mod host;
mod keyfile;
mod launch;
pub mod metrics;
pub mod producer;

pub use config::{
    CertConfig, DEFAULT_EXPIRY_WARNING_DAYS, NodeConfig, P2pConfig, PeerConfig, ProducerConfig,
    RpcLimits, default_exec_threads,
};
pub use error::NodeError;
pub use host::Node;
pub use keyfile::KeyFile;
pub use launch::{BftConfig, EngineConfig, LaunchConfig, NetworkWatch, Running, launch};
