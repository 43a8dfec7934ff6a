//! The shard store's small value types.

use std::fmt;

use super::SHARD_SIZE_MAX_BYTES;
use crate::FileStoreError;

/// The account a shard is charged to: its 20-byte Keel address (`keel_crypto::address_of`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OwnerId(pub [u8; 20]);

impl fmt::Display for OwnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// How much one owner may keep in this store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Sum of the owner's shard lengths (headers not counted).
    pub bytes_max: u64,
    /// Number of the owner's shards.
    pub shards_max: u64,
}

/// What one owner keeps in this store now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Sum of the owner's shard lengths.
    pub bytes: u64,
    /// Number of the owner's shards.
    pub shards: u64,
}

/// Limits of a shard store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// Largest shard `put` accepts, `1..=`[`SHARD_SIZE_MAX_BYTES`].
    pub shard_size_max_bytes: u32,
    /// Quota of every owner without one of its own ([`crate::ShardStore::set_quota`]).
    pub quota_default: Quota,
}

impl StoreConfig {
    /// The largest shard limit with `quota_default` for every owner.
    pub fn new(quota_default: Quota) -> StoreConfig {
        StoreConfig {
            shard_size_max_bytes: SHARD_SIZE_MAX_BYTES,
            quota_default,
        }
    }

    pub(super) fn check(&self) -> Result<(), FileStoreError> {
        if !(1..=SHARD_SIZE_MAX_BYTES).contains(&self.shard_size_max_bytes) {
            return Err(FileStoreError::StoreConfigInvalid {
                what: "shard size limit outside 1..=SHARD_SIZE_MAX_BYTES",
            });
        }
        Ok(())
    }
}

/// What a successful [`crate::ShardStore::put`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutOutcome {
    /// The shard was written.
    Stored,
    /// A valid copy for the same owner was already there; nothing written.
    AlreadyStored,
    /// A corrupt copy was there and has been replaced.
    Replaced,
}

/// What [`crate::ShardStore::open`] found on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Entries of the temp folder (interrupted writes), removed.
    pub temp_files_removed: u64,
    /// Shard files whose header was read and charged to its owner.
    pub shards: u64,
    /// Shard files whose header did not decode: charged to nobody, reported corrupt on `get`.
    pub unreadable_shards: u64,
    /// Entries under `shards/` that are not where a shard would be; left untouched.
    pub stray_entries: u64,
}
