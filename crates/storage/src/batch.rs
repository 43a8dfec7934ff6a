//! [`WriteBatch`]: an ordered list of writes committed atomically across tables.

use fjall::PersistMode;

use crate::error::StorageError;
use crate::store::Store;
use crate::table::Table;

/// Longest accepted key, in bytes (the engine's limit is 65 536; keys must not be empty).
pub const KEY_LEN_MAX_BYTES: usize = u16::MAX as usize;
/// Longest accepted value, in bytes (the engine's limit).
pub const VALUE_LEN_MAX_BYTES: usize = u32::MAX as usize;

/// How durable a commit must be when [`WriteBatch::commit`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// The journal is flushed and `fsync`ed (`PersistMode::SyncAll`) before `commit` returns.
    /// Survives power loss. Use for everything the node promises to others.
    Sync,
    /// The journal is flushed to the OS page cache only (`PersistMode::Buffer`). Survives a
    /// process crash but not an OS crash or power loss. Tests and benchmarks only.
    Buffered,
}

impl Durability {
    fn persist_mode(self) -> PersistMode {
        match self {
            Durability::Sync => PersistMode::SyncAll,
            Durability::Buffered => PersistMode::Buffer,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Op {
    table: Table,
    key: Vec<u8>,
    /// `None` deletes the key.
    value: Option<Vec<u8>>,
}

/// Writes recorded in order and applied all-or-nothing by [`WriteBatch::commit`].
/// Dropping a batch without committing it discards it; nothing is written.
#[must_use = "a write batch does nothing until committed"]
pub struct WriteBatch {
    store: Store,
    ops: Vec<Op>,
}

impl std::fmt::Debug for WriteBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBatch")
            .field("ops", &self.ops.len())
            .finish_non_exhaustive()
    }
}

impl WriteBatch {
    pub(crate) fn new(store: Store) -> WriteBatch {
        WriteBatch {
            store,
            ops: Vec::new(),
        }
    }

    /// Records `table[key] = value`. A later op on the same key wins.
    pub fn put(&mut self, table: Table, key: &[u8], value: &[u8]) {
        self.ops.push(Op {
            table,
            key: key.to_vec(),
            value: Some(value.to_vec()),
        });
    }

    /// Records the removal of `table[key]` (a no-op if absent).
    pub fn delete(&mut self, table: Table, key: &[u8]) {
        self.ops.push(Op {
            table,
            key: key.to_vec(),
            value: None,
        });
    }

    /// Number of recorded operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether no operation has been recorded.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Atomic across all tables: after a crash either every op is visible or none. With
    /// [`Durability::Sync`] it is on stable storage (fsync) when this returns `Ok`.
    ///
    /// All keys and values are validated before anything reaches the engine, so a rejected
    /// batch writes nothing.
    pub fn commit(self, durability: Durability) -> Result<(), StorageError> {
        self.validate()?;
        if self.ops.is_empty() {
            return Ok(());
        }
        let mut batch = self
            .store
            .db()
            .batch()
            .durability(Some(durability.persist_mode()));
        for op in self.ops {
            let keyspace = self.store.keyspace(op.table);
            match op.value {
                Some(value) => batch.insert(keyspace, op.key, value),
                None => batch.remove(keyspace, op.key),
            }
        }
        // fjall writes the whole batch as one journal record (start marker, items, end
        // marker with checksum), fsyncs it per `durability`, then applies it to memtables.
        batch.commit().map_err(StorageError::engine("commit"))
    }

    fn validate(&self) -> Result<(), StorageError> {
        for op in &self.ops {
            if op.key.is_empty() || op.key.len() > KEY_LEN_MAX_BYTES {
                return Err(StorageError::InvalidKey {
                    table: op.table.name(),
                    len_bytes: op.key.len(),
                    max_bytes: KEY_LEN_MAX_BYTES,
                });
            }
            let value_len = op.value.as_ref().map_or(0, Vec::len);
            if value_len > VALUE_LEN_MAX_BYTES {
                return Err(StorageError::ValueTooLarge {
                    table: op.table.name(),
                    len_bytes: value_len,
                    max_bytes: VALUE_LEN_MAX_BYTES,
                });
            }
        }
        Ok(())
    }
}
