//! Values stored in the state.

use borsh::{BorshDeserialize, BorshSerialize};
use keel_types::{Address, ContentHashAlg, Hash};

/// An account of the native token module.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Account {
    /// Next nonce the account must use.
    pub nonce: u64,
    /// Balance in the smallest unit.
    pub balance: u128,
}

/// An evidence (存证) record.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct EvidenceRecord {
    /// Record id: hash of the creating transaction.
    pub id: Hash,
    /// Content hash.
    pub content_hash: Hash,
    /// Function that produced `content_hash`.
    pub hash_alg: ContentHashAlg,
    /// Content size in bytes.
    pub size: u64,
    /// Media type.
    pub media_type: String,
    /// Who recorded it (transaction sender).
    pub owner: Address,
    /// Metadata.
    pub metadata: String,
    /// Height of the block that recorded it.
    pub height: u64,
    /// Timestamp of that block (ms since the Unix epoch).
    pub timestamp_ms: u64,
}
