//! EVM smart contracts on Keel (ADR 0009).
//!
//! * [`ethtx`] — Ethereum transactions (legacy/EIP-155, EIP-2930, EIP-1559): decoding, sender
//!   recovery, the Keel envelope that carries them in blocks, and its verification.
//! * [`db`] — revm's `Database` over Keel's authenticated state (accounts are the native
//!   accounts; code and storage under `keel_execution::keys::{code, storage}`). The state root
//!   stays Keel's JMT root.
//! * [`exec`] — the [`keel_execution::EvmHook`] the node installs ([`KEEL_EVM`]), read-only
//!   [`exec::call`] and [`exec::estimate_gas`].
//! * [`precompile`] — Keel's evidence lookup precompile at
//!   [`precompile::EVIDENCE_PRECOMPILE`].
//! * [`face`] — the ERC-20 face of every native fungible asset and the ERC-721 face of every
//!   NFT collection (ADR 0015): precompiles at `keel_execution::face::face_address(id)` over
//!   the native records, no second copy.
//! * [`logs`] — EVM logs as receipt events, and the logs bloom.
//! * [`policy`] — governance policies inside the EVM: value needs `transfer`, creations from
//!   inside a call need the origin's `deploy_contract`.

pub mod db;
pub mod ethtx;
pub mod exec;
pub mod face;
pub mod logs;
pub mod policy;
pub mod precompile;

pub use exec::{BLOCK_GAS_LIMIT, CallOutcome, CallRequest, KEEL_EVM, KeelEvm};
