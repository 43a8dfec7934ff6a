use std::path::PathBuf;

/// Host errors (configuration, key files, consensus setup) and the ledger's. Operating
/// errors carry the path or value involved so the message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The ledger failed (storage, state, execution, corrupt or foreign database).
    #[error(transparent)]
    Ledger(#[from] keel_ledger::LedgerError),
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
    /// The peer-to-peer network did not start.
    #[error("cannot start the network on {listen}: {source}")]
    Network {
        /// Listen address.
        listen: std::net::SocketAddr,
        /// Cause.
        source: keel_network::NetworkError,
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
