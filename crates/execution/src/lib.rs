//! Deterministic execution of Keel's native modules.
//!
//! The executor is a pure function of (state view, block context, ordered transactions): it reads
//! state through [`StateView`], never writes it, and returns the receipts plus the exact set of
//! state changes ([`BlockOutcome::changes`]) that the node applies to the authenticated state in
//! the same atomic batch as the block. Same inputs, same outputs, on every node.
//!
//! Modules:
//! * **token** — accounts (`nonce`, `balance`), transfers, genesis allocations, fees
//!   (`gas used × gas price`; a zero gas price is allowed).
//! * **evidence** (存证) — records a content hash with size, media type, owner and metadata.
//!   *Duplicate rule*: a content hash (per hash algorithm) can be recorded **once per chain**;
//!   a second `EvidencePut` with the same hash fails with `EVIDENCE_DUPLICATE`, and its receipt
//!   names the existing record id. The record id is the hash of the transaction that created it.
//!
//! * **gov** — committee, roles, freezes, proposals and votes, chain parameters and the epoch
//!   validator set (ADR 0011); every transaction is first checked by
//!   [`governance::authorize`].
//!
//! A transaction that fails still goes in the block: its nonce is consumed, the fee for the gas
//! used is charged, none of its other effects apply, and its receipt carries the error code.

mod error;
mod evm;
mod executor;
pub mod governance;
pub mod keys;
mod model;
mod overlay;

pub use error::ExecutionError;
pub use evm::{EvmHook, EvmOutcome};
pub use executor::{BlockContext, BlockOutcome, ChainParams, Executor, TxInput, genesis_changes};
pub use model::{Account, EvidenceRecord};
pub use overlay::{MemoryState, StateView};
