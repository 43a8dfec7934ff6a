/// Execution could not run (operating errors and corrupt state). Transaction-level failures are
/// *not* errors: they become failed receipts.
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    /// The state backend failed.
    #[error("state read failed: {0}")]
    State(String),
    /// A stored value does not decode: the state is corrupt.
    #[error("corrupt state value for {what} at key 0x{key}: {reason}")]
    Corrupt {
        /// Kind of value.
        what: &'static str,
        /// Hex key.
        key: String,
        /// Decoder message.
        reason: String,
    },
}
