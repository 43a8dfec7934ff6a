//! One chain as a value: the store, the authenticated state, the mempool and the executor, the
//! block pipeline (execute, validate, commit), genesis initialisation, governance and EVM reads,
//! the commit certificate codec, and the ledger's counters.
//!
//! A [`Ledger`] is synchronous and holds no key, no network and no async runtime: the host
//! (`keel-node`) owns the node key (it signs solo blocks by passing the key to
//! [`Ledger::produce_block`] and builds its consensus signer from
//! [`Ledger::consensus_set_for`]), the network, the clock and the BFT driver.
//!
//! Commit path (durability steps): execute on the parent state → `StateTree::apply` writes the
//! new tree nodes, values and root into a write batch → the chain store adds header, body,
//! receipts, the hash/tx/evidence indexes and the new head pointer to the **same** batch →
//! one `commit(Durability::Sync)` (fsync) → only then the in-memory head moves and the mempool
//! forgets the included transactions. A crash before the fsync loses the block entirely; after
//! it, the block is complete.

pub mod certificate;
mod chain;
pub mod counters;
mod error;
mod evm;
mod genesis;
pub mod gov;
mod ledger;
mod pending_blocks;
mod pipeline;
mod proof;
pub mod serde_u128;
mod stages;
mod verify;

pub use certificate::CertificateError;
pub use chain::{ChainStore, TxLocation};
pub use counters::LedgerCounters;
pub use error::LedgerError;
pub use evm::HeightView;
pub use genesis::{Genesis, GenesisAccount, GenesisValidator};
pub use ledger::{ChainInfo, GossipSink, Head, HeadAccounts, Ledger};
pub use pending_blocks::MAX_PENDING_BLOCKS;
pub use pipeline::{BlockError, ExecutedBlock, MAX_FUTURE_DRIFT_MS, VerifiedTx};
pub use proof::{ProofError, ProofKind, ProofResponse, state_hash};
pub use stages::{Stage, StageTimes};
