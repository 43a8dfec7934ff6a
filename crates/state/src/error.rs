//! Typed errors of the authenticated state.

/// Everything that can go wrong in [`crate::StateTree`] and [`crate::StateProof`].
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum StateError {
    /// The underlying store failed.
    #[error(transparent)]
    Storage(#[from] keel_storage::StorageError),
    /// `apply` was called with a version that does not directly follow the latest one.
    #[error("version gap: expected version {expected}, got {got}")]
    VersionGap {
        /// The only version `apply` accepts now.
        expected: u64,
        /// The version that was passed.
        got: u64,
    },
    /// A read or proof asked for a version whose root is not stored.
    #[error("state version {version} is not committed (latest: {latest:?})")]
    UnknownVersion {
        /// The requested version.
        version: u64,
        /// The latest committed version, if any.
        latest: Option<u64>,
    },
    /// A proof did not verify against the given root, key and value.
    #[error("invalid state proof: {reason}")]
    ProofInvalid {
        /// Why verification failed.
        reason: String,
    },
    /// Bytes (a proof, or data read from the store) that do not decode.
    #[error("cannot decode {what}: {reason}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Why decoding failed.
        reason: String,
    },
    /// The Merkle tree implementation reported an error.
    #[error("state tree error: {reason}")]
    Tree {
        /// The tree's error chain, rendered.
        reason: String,
    },
}

impl StateError {
    pub(crate) fn decode(what: &'static str, reason: impl std::fmt::Display) -> StateError {
        StateError::Decode {
            what,
            reason: reason.to_string(),
        }
    }

    /// Recovers our own error types from jmt's `anyhow` errors (our `TreeReader` wraps them),
    /// rendering anything else as [`StateError::Tree`].
    pub(crate) fn from_tree(err: anyhow::Error) -> StateError {
        let err = match err.downcast::<keel_storage::StorageError>() {
            Ok(e) => return StateError::Storage(e),
            Err(err) => err,
        };
        match err.downcast::<StateError>() {
            Ok(e) => e,
            Err(err) => StateError::Tree {
                reason: format!("{err:#}"),
            },
        }
    }
}
