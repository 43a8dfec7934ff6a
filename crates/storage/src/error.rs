//! Typed errors of the storage layer.

/// Everything that can go wrong in [`crate::Store`] and [`crate::WriteBatch`].
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum StorageError {
    /// The embedded engine reported a failure. After a failed commit the engine poisons
    /// itself and refuses further writes: the node should crash and recover from disk.
    #[error("storage engine failed during {op}")]
    Engine {
        /// The operation that failed (`"open"`, `"get"`, `"commit"`, ...).
        op: &'static str,
        /// The engine's error.
        #[source]
        source: fjall::Error,
    },
    /// An I/O failure outside the engine (e.g. creating the data directory).
    #[error("i/o error during {op}")]
    Io {
        /// The operation that failed.
        op: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Stored bytes that do not decode as what they must be.
    #[error("corrupt {what}: {detail}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// Why it is considered corrupt.
        detail: String,
    },
    /// A key in a batch is empty or longer than [`crate::KEY_LEN_MAX_BYTES`].
    #[error("invalid key of {len_bytes} bytes for table {table} (must be 1..={max_bytes})")]
    InvalidKey {
        /// Table the key was destined for.
        table: &'static str,
        /// Length of the rejected key.
        len_bytes: usize,
        /// The maximum accepted key length.
        max_bytes: usize,
    },
    /// A value in a batch is longer than [`crate::VALUE_LEN_MAX_BYTES`].
    #[error("value of {len_bytes} bytes for table {table} exceeds {max_bytes}")]
    ValueTooLarge {
        /// Table the value was destined for.
        table: &'static str,
        /// Length of the rejected value.
        len_bytes: usize,
        /// The maximum accepted value length.
        max_bytes: usize,
    },
}

impl StorageError {
    pub(crate) fn engine(op: &'static str) -> impl FnOnce(fjall::Error) -> StorageError {
        move |source| StorageError::Engine { op, source }
    }
}
