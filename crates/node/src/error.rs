use keel_types::CodecError;
use std::path::PathBuf;

/// Node errors. Operating errors carry the path or value involved so the message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] keel_storage::StorageError),
    /// Authenticated state failed.
    #[error("state: {0}")]
    State(#[from] keel_state::StateError),
    /// Execution failed (corrupt state or storage failure, not a transaction failure).
    #[error("execution: {0}")]
    Execution(#[from] keel_execution::ExecutionError),
    /// Stored bytes do not decode.
    #[error("corrupt database: {0}")]
    Codec(#[from] CodecError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A configuration or genesis file is invalid.
    #[error("invalid {what} ({path}): {reason}")]
    Config {
        /// Which file.
        what: &'static str,
        /// Path.
        path: PathBuf,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The database belongs to another chain.
    #[error(
        "database at {path} was created for genesis {stored}, but genesis.json hashes to {configured}; use the matching genesis or a fresh data directory"
    )]
    GenesisMismatch {
        /// Data directory.
        path: PathBuf,
        /// Genesis hash in the database.
        stored: String,
        /// Genesis hash of the configuration.
        configured: String,
    },
    /// A broken invariant in stored data.
    #[error("database invariant violated: {0}")]
    Invariant(String),
    /// The stored consensus safety state does not decode: starting from a fresh one could
    /// double-vote, so the node refuses to start.
    #[error(
        "stored consensus safety state (epoch {epoch}) is unreadable: {reason}; refusing to start (restore the data directory from a backup)"
    )]
    CorruptSafetyState {
        /// Epoch of the committed head.
        epoch: u64,
        /// Decoder error.
        reason: String,
    },
}

impl NodeError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NodeError::Io {
            path: path.into(),
            source,
        }
    }
}
