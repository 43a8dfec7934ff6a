//! Durable embedded key/value storage for Keel, on the pure-Rust LSM engine
//! [`fjall`](https://docs.rs/fjall) 3 (see `docs/adr/0001-storage-engine.md`).
//!
//! # Model
//!
//! * A [`Store`] is one fjall database in one directory. It holds a fixed set of [`Table`]s,
//!   each its own fjall keyspace named [`Table::name`].
//! * Reads ([`Store::get`], [`Store::range`], [`Store::scan_prefix`],
//!   [`Store::last_at_or_before`], [`Store::last`]) each run against a fresh engine snapshot.
//!   Keys are compared as raw bytes, so encode numbers big-endian to make them sort.
//! * Writes go through a [`WriteBatch`]: ops are recorded in order and
//!   [`WriteBatch::commit`] applies them atomically across all tables.
//!
//! # Durability contract
//!
//! 1. `commit` validates every key/value (non-empty key up to [`KEY_LEN_MAX_BYTES`]).
//! 2. fjall appends the batch to its journal as a single record framed by a start marker
//!    (item count, sequence number) and an end marker carrying an xxh3 checksum.
//! 3. With [`Durability::Sync`] the journal file is `fsync`ed (`PersistMode::SyncAll`)
//!    before `commit` returns `Ok`.
//! 4. On [`Store::open`] the journal is replayed; a torn or checksum-failing tail record is
//!    truncated whole (`RecoveryMode::TolerateCorruptTail`), so a crash leaves every batch
//!    either fully visible or absent.
//!
//! A failed commit poisons the engine (further writes fail): the node should crash and
//! recover from disk rather than retry.
//!
//! Tested against a `BTreeMap` model with reboots (`tests/model.rs`) and by SIGKILLing a
//! child process in the middle of durable commits (`tests/kill.rs`).

mod batch;
mod error;
mod store;
mod table;

pub use batch::{Durability, KEY_LEN_MAX_BYTES, VALUE_LEN_MAX_BYTES, WriteBatch};
pub use error::StorageError;
pub use store::{KeyValue, Store, StoreOptions};
pub use table::Table;
