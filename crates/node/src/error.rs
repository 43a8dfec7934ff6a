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
}

impl NodeError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NodeError::Io {
            path: path.into(),
            source,
        }
    }
}
