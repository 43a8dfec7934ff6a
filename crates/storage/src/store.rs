//! The [`Store`]: one fjall database with one keyspace per [`Table`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, Readable};

use crate::batch::WriteBatch;
use crate::error::StorageError;
use crate::table::Table;

/// A key/value pair as returned by the scanning reads.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// Tuning knobs for [`Store::open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreOptions {
    /// Size of the engine's shared block cache, in bytes.
    pub cache_size_bytes: u64,
}

impl StoreOptions {
    /// Default block cache size: 64 MiB.
    pub const CACHE_SIZE_BYTES_DEFAULT: u64 = 64 * 1024 * 1024;
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            cache_size_bytes: Self::CACHE_SIZE_BYTES_DEFAULT,
        }
    }
}

/// Handle to the node's durable key/value store. Cloning is cheap (an `Arc`).
///
/// Every read runs against a fresh engine snapshot, so a read never observes half of a
/// concurrently committing [`WriteBatch`].
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    db: Database,
    /// Indexed by [`Table::index`].
    keyspaces: Vec<Keyspace>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the store in directory `path`, replaying the engine's
    /// journal. A torn last batch from a crash is discarded whole by the engine.
    pub fn open(path: &Path, opts: StoreOptions) -> Result<Store, StorageError> {
        std::fs::create_dir_all(path).map_err(|source| StorageError::Io {
            op: "create data directory",
            source,
        })?;
        let db = Database::builder(path)
            .cache_size(opts.cache_size_bytes)
            .open()
            .map_err(StorageError::engine("open"))?;
        let keyspaces = Table::ALL
            .iter()
            .map(|t| {
                db.keyspace(t.name(), KeyspaceCreateOptions::default)
                    .map_err(StorageError::engine("open keyspace"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                db,
                keyspaces,
            }),
        })
    }

    /// The directory this store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub(crate) fn db(&self) -> &Database {
        &self.inner.db
    }

    pub(crate) fn keyspace(&self, table: Table) -> &Keyspace {
        // `keyspaces` is built from `Table::ALL`, so every index is present.
        &self.inner.keyspaces[table.index()]
    }

    /// The value stored under `key`, if any.
    pub fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let snapshot = self.db().snapshot();
        let value = snapshot
            .get(self.keyspace(table), key)
            .map_err(StorageError::engine("get"))?;
        Ok(value.map(|v| v.to_vec()))
    }

    /// Keys in `[start, end)` ascending, at most `limit` entries.
    pub fn range(
        &self,
        table: Table,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<KeyValue>, StorageError> {
        if start >= end || limit == 0 {
            return Ok(Vec::new());
        }
        let snapshot = self.db().snapshot();
        collect(
            snapshot.range(self.keyspace(table), start..end),
            limit,
            "range",
        )
    }

    /// Keys starting with `prefix`, ascending, at most `limit` entries.
    pub fn scan_prefix(
        &self,
        table: Table,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<KeyValue>, StorageError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let snapshot = self.db().snapshot();
        collect(
            snapshot.prefix(self.keyspace(table), prefix),
            limit,
            "scan_prefix",
        )
    }

    /// Greatest key `<= key` that starts with `prefix` (reverse seek), with its value.
    pub fn last_at_or_before(
        &self,
        table: Table,
        prefix: &[u8],
        key: &[u8],
    ) -> Result<Option<KeyValue>, StorageError> {
        const OP: &str = "last_at_or_before";
        // Keys starting with `prefix` form one contiguous interval that begins at `prefix`.
        if key < prefix {
            return Ok(None);
        }
        let snapshot = self.db().snapshot();
        let keyspace = self.keyspace(table);
        let found = if key.starts_with(prefix) {
            // Every key in [prefix, key] starts with `prefix`: the interval is contiguous.
            snapshot.range(keyspace, prefix..=key).next_back()
        } else {
            // `key` lies above the whole prefix interval.
            snapshot.prefix(keyspace, prefix).next_back()
        };
        found.map(|guard| into_pair(guard, OP)).transpose()
    }

    /// Greatest key in the table, with its value.
    pub fn last(&self, table: Table) -> Result<Option<KeyValue>, StorageError> {
        let snapshot = self.db().snapshot();
        snapshot
            .last_key_value(self.keyspace(table))
            .map(|guard| into_pair(guard, "last"))
            .transpose()
    }

    /// Starts an empty atomic write batch.
    pub fn batch(&self) -> WriteBatch {
        WriteBatch::new(self.clone())
    }
}

fn into_pair(guard: fjall::Guard, op: &'static str) -> Result<KeyValue, StorageError> {
    let (k, v) = guard.into_inner().map_err(StorageError::engine(op))?;
    Ok((k.to_vec(), v.to_vec()))
}

fn collect(
    iter: fjall::Iter,
    limit: usize,
    op: &'static str,
) -> Result<Vec<KeyValue>, StorageError> {
    iter.take(limit).map(|guard| into_pair(guard, op)).collect()
}
