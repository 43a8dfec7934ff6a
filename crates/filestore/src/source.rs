//! Where the read path gets shards from.

use crate::{FileStoreError, ShardAddress, ShardStore};

/// A source of shards for [`crate::decode_file`].
///
/// `Ok(None)`: the source does not have the shard (it is treated as missing). A returned shard
/// is still checked against its address by the reader. [`FileStoreError::ShardCorrupt`] counts
/// the shard as corrupt and the read goes on with the others; any other error ends the read,
/// so a source that should degrade quietly (a flaky peer) returns `Ok(None)` instead.
pub trait ShardSource {
    /// The bytes stored under `address`.
    fn fetch(&mut self, address: &ShardAddress) -> Result<Option<Vec<u8>>, FileStoreError>;
}

/// Any closure from an address to optional bytes (an in-memory map, a test double). Write the
/// parameter's type, `|a: &ShardAddress| map.get(a).cloned()`, so the closure takes any lifetime.
impl<F> ShardSource for F
where
    F: FnMut(&ShardAddress) -> Option<Vec<u8>>,
{
    fn fetch(&mut self, address: &ShardAddress) -> Result<Option<Vec<u8>>, FileStoreError> {
        Ok(self(address))
    }
}

/// Reads straight from a local store; its own check on read reports rotted shards as corrupt.
impl ShardSource for &ShardStore {
    fn fetch(&mut self, address: &ShardAddress) -> Result<Option<Vec<u8>>, FileStoreError> {
        self.get(address)
    }
}
