use std::path::PathBuf;

/// Errors the CLI reports. Each says what went wrong; [`CliError::hint`] says what to do.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Wrong arguments or unusable input.
    #[error("{0}")]
    Usage(String),
    /// Node-side failure (config, storage...).
    #[error(transparent)]
    Node(#[from] keel_node::NodeError),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] keel_ledger::LedgerError),
    /// Block execution failed (the execute benchmark).
    #[error(transparent)]
    Execution(#[from] keel_execution::ExecutionError),
    /// Could not reach the node.
    #[error("cannot reach {url}: {reason}")]
    Connect {
        /// Endpoint.
        url: String,
        /// Cause.
        reason: String,
    },
    /// The node answered with an error.
    #[error("node rejected the request: {name} ({code}): {message}")]
    Rpc {
        /// Code.
        code: i64,
        /// Symbolic name.
        name: String,
        /// Message.
        message: String,
    },
    /// Waited too long.
    #[error("{0}")]
    Timeout(String),
    /// File error.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The node stopped itself after a fatal error.
    #[error("node halted: {0}; restart it to resume from the last committed block")]
    Halted(String),
    /// A verification failed.
    #[error("verification FAILED: {0}")]
    Verify(String),
}

impl CliError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CliError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn hint(&self) -> Option<&'static str> {
        match self {
            CliError::Connect { .. } => Some(
                "is the node running? start one with `keel node start --dir DIR` or `keel demo`, or pass --rpc URL",
            ),
            CliError::Rpc { name, .. }
                if name == "NONCE_TOO_LOW" || name == "NONCE_ALREADY_PENDING" =>
            {
                Some(
                    "another transaction from this key is pending or committed; wait for it and retry",
                )
            }
            CliError::Rpc { name, .. } if name == "INSUFFICIENT_BALANCE" => {
                Some("fund the account first (`keel transfer` from a funded key)")
            }
            _ => None,
        }
    }

    pub(crate) fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Verify(_) => 3,
            _ => 1,
        }
    }
}
