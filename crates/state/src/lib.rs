//! Authenticated state for Keel: a versioned Jellyfish Merkle tree (the [`jmt`] crate) stored
//! in [`keel_storage`] (see `docs/adr/0002-authenticated-state.md`).
//!
//! * Keys are 256-bit ([`StateKey`]); callers hash their logical keys first. They are used
//!   directly as jmt key hashes.
//! * The tree hash is the chain suite's hash ([`StateHash::Sm3`] or [`StateHash::Sha256`]);
//!   jmt's leaf/internal domain separators (`JMT::LeafNode`, `JMT::IntrnalNode`) apply.
//! * One version per block height. [`StateTree::apply`] computes the new root and writes
//!   the delta into the caller's [`keel_storage::WriteBatch`], so state, block and indexes
//!   commit in one atomic batch. Nothing is visible until that batch commits.
//! * Pipelining: [`StateTree::compute`] computes a version on top of uncommitted ancestors
//!   ([`StateDelta`]s held in memory) and [`StateTree::write`] adds a delta to the commit batch
//!   once its block commits; [`StateTree::get_pending`] reads through pending deltas.
//! * [`StateTree::prove`] returns a [`StateProof`] (inclusion or non-inclusion) that a light
//!   client checks with [`StateProof::verify`] against a root from a block header.
//!
//! # Key layout
//!
//! | table | key | value |
//! |---|---|---|
//! | `StateNodes` | `b'n'` ‖ borsh(`jmt::storage::NodeKey`) | borsh(`jmt::storage::Node`) |
//! | `StateNodes` | `b'r'` ‖ version (u64 BE) | root hash (32 bytes) |
//! | `StateValues` | key (32) ‖ version (u64 BE) | `0x00` (deleted) or `0x01` ‖ value |
//!
//! Values are looked up with a reverse seek to `key ‖ version`, which finds the newest write
//! at or before that version. The latest version is the greatest `b'r'` key.
//!
//! Not yet done: pruning of stale nodes and old values (every version stays readable), and
//! state-sync restore (`TreeReader::get_rightmost_leaf` returns an error).

mod cache;
mod error;
mod hasher;
mod layout;
mod pending;
mod proof;
mod reader;
mod tree;

pub use error::StateError;
pub use pending::StateDelta;
pub use proof::{PROOF_LEN_MAX_BYTES, StateProof};
pub use tree::{StateSnapshot, StateTree};

/// A 256-bit state key (already hashed by the caller).
pub type StateKey = [u8; 32];
/// A 256-bit Merkle root.
pub type RootHash = [u8; 32];

/// The chain suite's hash function, used for every tree node and value hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateHash {
    /// SM3 (GB/T 32905), Chinese national-algorithm suite.
    Sm3,
    /// SHA-256, international suite.
    Sha256,
}
