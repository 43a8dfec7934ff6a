//! Deterministic execution of Keel's native modules.
//!
//! The executor is a pure function of (state view, block context, ordered transactions): it reads
//! state through [`StateView`], never writes it, and returns the receipts plus the exact set of
//! state changes ([`BlockOutcome::changes`]) that the node applies to the authenticated state in
//! the same atomic batch as the block. Same inputs, same outputs, on every node.
//!
//! Layout: `executor.rs` checks nonce and expiry, charges the fee, runs the permission rule
//! and dispatches each payload to one module under `modules/`; `context.rs` holds what every
//! module sees; `keys.rs` the state key layout; `overlay.rs` the read view and write overlay.
//!
//! Modules (`modules/`):
//! * **token** (`token.rs`) — accounts (`nonce`, `balance`), transfers, genesis allocations;
//!   fees (`gas used × gas price`; a zero gas price is allowed) are charged by the executor.
//! * **evidence** (`evidence.rs`, 存证) — records a content hash with size, media type, owner
//!   and metadata, once per chain per content hash.
//! * **governance** (`governance/`) — committee, roles, freezes, proposals and votes, chain
//!   parameters and the epoch validator set (ADR 0011); every transaction is first checked by
//!   [`governance::authorize`].
//! * **assets** (`assets/`) — native fungible assets: issue, mint, burn, transfer,
//!   approve / transfer-from, freeze, white list, issuer role (`docs/assets.md`).
//! * **nft** (`nft/`) — native non-fungible assets: collections, mint with metadata (URI,
//!   content hash, optional evidence record), transfer, approve, burn, bounded provenance.
//! * **face** (`face.rs`) — the Ethereum address of every asset and collection and its index;
//!   the ERC-20 / ERC-721 logic behind it is in `keel-evm` (ADR 0015).
//! * EVM payloads go to the [`EvmHook`] (`keel-evm`).
//!
//! A transaction that fails still goes in the block: its nonce is consumed, the fee for the gas
//! used is charged, none of its other effects apply, and its receipt carries the error code.

mod context;
mod error;
mod evm;
mod executor;
pub mod keys;
mod modules;
mod overlay;
mod parallel;

pub use context::{BlockContext, ChainParams, TxInput};
pub use error::ExecutionError;
pub use evm::{EvmHook, EvmOutcome};
pub use executor::{BlockOutcome, Executor};
pub use modules::assets;
pub use modules::did;
pub use modules::evidence::EvidenceRecord;
pub use modules::face;
pub use modules::governance;
pub use modules::nft;
pub use modules::token::{Account, genesis_changes};
pub use overlay::{MemoryState, StateView};
