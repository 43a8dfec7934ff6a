//! The crate's one error type.

use std::path::PathBuf;

use crate::{OwnerId, ShardAddress};

/// Every way a file store operation fails.
#[derive(Debug, thiserror::Error)]
pub enum FileStoreError {
    /// The file is larger than the store accepts.
    #[error("file of {len_bytes} bytes exceeds the limit of {max_bytes} bytes")]
    FileTooLarge { len_bytes: u64, max_bytes: u64 },
    /// `k`, `m` or the chunk size are outside their bounds.
    #[error("invalid parameters: k = {k}, m = {m}, chunk size {chunk_size_bytes} bytes")]
    InvalidParams { k: u8, m: u8, chunk_size_bytes: u32 },
    /// An encoded manifest is larger than [`crate::MANIFEST_MAX_BYTES`].
    #[error("manifest of {len_bytes} bytes exceeds the limit of {max_bytes} bytes")]
    ManifestTooLarge { len_bytes: usize, max_bytes: usize },
    /// The manifest bytes do not decode.
    #[error("manifest does not decode")]
    ManifestMalformed,
    /// The manifest's version is not one this build reads.
    #[error("unsupported manifest version {version}")]
    UnsupportedVersion { version: u8 },
    /// The manifest decodes but contradicts itself (counts or lengths).
    #[error("inconsistent manifest: {what}")]
    ManifestInconsistent { what: &'static str },
    /// Fewer than `k` shards of a stripe were available and matched their address.
    #[error("stripe {stripe}: {valid} valid shards ({corrupt} corrupt), {needed} needed")]
    NotEnoughShards {
        stripe: u64,
        valid: usize,
        corrupt: usize,
        needed: usize,
    },
    /// The erasure coder refused its input.
    #[error("erasure coding failed: {0}")]
    Erasure(#[from] reed_solomon_simd::Error),
    /// A stripe's ciphertext failed authentication (wrong key or tampering past the shards).
    #[error("stripe {stripe} failed authenticated decryption")]
    DecryptFailed { stripe: u64 },
    /// The decrypted file does not hash to the manifest's plaintext hash.
    #[error("plaintext hash does not match the manifest")]
    PlaintextHashMismatch,
    /// Too few members to put every shard of a stripe on a distinct node.
    #[error("{members} members cannot hold {shards} shards on distinct nodes")]
    NotEnoughMembers { members: usize, shards: usize },
    /// Wrapping a data key for a grantee failed (bad public key).
    #[error("key wrap failed: {0}")]
    WrapFailed(keel_crypto::CryptoError),
    /// Unwrapping failed: wrong key, wrong file, or a tampered wrapped key.
    #[error("key unwrap failed")]
    UnwrapFailed,
    /// A grantee's public key cannot receive a wrapped key (wrong length, low-order point).
    #[error("invalid grantee public key: {what}")]
    GranteeKeyInvalid { what: &'static str },
    /// A wrapped key does not have the documented form (length, version, ephemeral key).
    #[error("malformed wrapped key: {what}")]
    WrappedKeyMalformed { what: &'static str },
    /// The operating system's random source failed.
    #[error("random source failed")]
    Entropy,
    /// A shard offered to the store is empty or larger than its per-shard limit.
    #[error("shard of {len_bytes} bytes is outside 1..={max_bytes} bytes")]
    ShardSizeInvalid { len_bytes: u64, max_bytes: u32 },
    /// A shard's bytes do not hash to the address it was offered under.
    #[error("shard bytes hash to {actual}, not to {expected}")]
    ShardAddressMismatch {
        expected: ShardAddress,
        actual: ShardAddress,
    },
    /// A stored shard failed its check on read (bit rot, truncation, a bad header).
    #[error("stored shard {address} is corrupt: {what}")]
    ShardCorrupt {
        address: ShardAddress,
        what: &'static str,
    },
    /// The shard is already stored, charged to another owner.
    #[error("shard {address} is already stored for another owner")]
    ShardOwnedByOther { address: ShardAddress },
    /// Storing the shard would take its owner over the byte quota.
    #[error("owner {owner}: {used_bytes} + {shard_bytes} bytes exceeds the quota of {quota_bytes}")]
    QuotaBytesExceeded {
        owner: OwnerId,
        used_bytes: u64,
        shard_bytes: u64,
        quota_bytes: u64,
    },
    /// Storing the shard would take its owner over the shard-count quota.
    #[error("owner {owner}: {used_shards} shards stored, quota {quota_shards}")]
    QuotaShardsExceeded {
        owner: OwnerId,
        used_shards: u64,
        quota_shards: u64,
    },
    /// Bytes or text that are not a shard address this crate reads.
    #[error("malformed shard address: {what}")]
    AddressMalformed { what: &'static str },
    /// The store's configuration is out of bounds.
    #[error("invalid store configuration: {what}")]
    StoreConfigInvalid { what: &'static str },
    /// Another process (or another `ShardStore` in this one) has the store open.
    #[error("shard store {path} is locked by another user")]
    StoreLocked { path: PathBuf },
    /// The store folder was written by an unknown version of this code.
    #[error("shard store {path} has an unsupported layout version")]
    StoreVersionUnsupported { path: PathBuf },
    /// A file-system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
