use keel_crypto::{Scheme, Suite};
use keel_types::{CodecError, Hash, TxCheckError};

/// Why a transaction was not admitted. [`AdmitError::code`] values are stable and documented in
/// `docs/rpc.md`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmitError {
    /// Over the size limit.
    #[error("transaction is {len} bytes, over the limit of {max} bytes")]
    TooLarge {
        /// Size.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// Bytes are not a transaction.
    #[error("transaction does not decode: {reason}")]
    Malformed {
        /// Decoder message.
        reason: String,
    },
    /// For another chain.
    #[error("wrong chain id {got}, this chain is {expected}")]
    WrongChainId {
        /// This chain.
        expected: u64,
        /// In the transaction.
        got: u64,
    },
    /// Scheme not accepted by the suite.
    #[error("signature scheme {scheme} is not accepted on a {suite} chain")]
    SchemeNotAllowed {
        /// Declared.
        scheme: Scheme,
        /// Chain suite.
        suite: Suite,
    },
    /// A field is out of range.
    #[error("invalid field {field}: {reason}")]
    InvalidField {
        /// Field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// Signature does not verify under the declared scheme and key.
    #[error("signature does not verify as {scheme} for the declared public key")]
    BadSignature {
        /// Declared scheme.
        scheme: Scheme,
    },
    /// Nonce already used (replay).
    #[error("nonce {nonce} already used; the account's next nonce is {expected}")]
    NonceTooLow {
        /// In the transaction.
        nonce: u64,
        /// Account's next nonce.
        expected: u64,
    },
    /// Nonce beyond the window.
    #[error("nonce {nonce} is too far ahead; the highest acceptable now is {max}")]
    NonceTooHigh {
        /// In the transaction.
        nonce: u64,
        /// Highest acceptable.
        max: u64,
    },
    /// Another transaction with this nonce is pending.
    #[error("a different transaction with nonce {nonce} from this sender is already pending")]
    NonceAlreadyPending {
        /// The nonce.
        nonce: u64,
    },
    /// An Ethereum transaction's fee cap is below the gas price the next block charges (the
    /// governance price of the head state).
    #[error("max fee per gas {max_fee_per_gas} is below the chain's gas price {gas_price}")]
    FeeTooLow {
        /// The transaction's `maxFeePerGas` (`gasPrice` for legacy transactions).
        max_fee_per_gas: u128,
        /// The gas price in force.
        gas_price: u128,
    },
    /// Already expired.
    #[error("transaction expired at height {expires_at}; the next block is {next_height}")]
    Expired {
        /// Last valid height.
        expires_at: u64,
        /// Next block height.
        next_height: u64,
    },
    /// Expiry too far in the future.
    #[error("expiry height {expires_at} is more than {window} blocks ahead of {next_height}")]
    ExpiryTooFar {
        /// Requested.
        expires_at: u64,
        /// Window.
        window: u64,
        /// Next block height.
        next_height: u64,
    },
    /// Balance cannot pay.
    #[error("balance {balance} cannot cover {needed} (amount + max fee + pending transactions)")]
    InsufficientBalance {
        /// Current balance.
        balance: u128,
        /// Needed.
        needed: u128,
    },
    /// Pool at capacity.
    #[error("mempool is full ({capacity} transactions); retry later")]
    PoolFull {
        /// Capacity.
        capacity: usize,
    },
    /// Sender has too many pending.
    #[error("sender has {pending} pending transactions, the limit per sender")]
    SenderQueueFull {
        /// Pending count.
        pending: usize,
    },
    /// Already in the pool, or already verified in a proposal.
    #[error("transaction {hash} is already pending")]
    AlreadyKnown {
        /// Its hash.
        hash: Hash,
    },
    /// Permissioned chain: the sender is not an admitted account (ADR 0011).
    #[error("{0}")]
    NotAdmitted(String),
    /// The sender's account is frozen by governance.
    #[error("{0}")]
    AccountFrozen(String),
    /// The sender's role does not allow this operation (e.g. an auditor writing).
    #[error("{0}")]
    NotPermitted(String),
    /// A governance proposal or vote is refused; `code` names the rule (e.g.
    /// `QUORUM_UNREACHABLE`, `GOV_LAST_MEMBER`, `GOV_ONE_VALIDATOR_PER_EPOCH`, `GOV_INVALID`).
    #[error("{code}: {reason}")]
    GovRefused {
        /// Stable rule name.
        code: &'static str,
        /// Explanation.
        reason: String,
    },
    /// State could not be read.
    #[error("state unavailable: {0}")]
    State(String),
}

impl AdmitError {
    /// Stable numeric code (JSON-RPC error code on the wire).
    pub fn code(&self) -> i64 {
        match self {
            AdmitError::Malformed { .. } => 1001,
            AdmitError::TooLarge { .. } => 1002,
            AdmitError::WrongChainId { .. } => 1003,
            AdmitError::SchemeNotAllowed { .. } => 1004,
            AdmitError::BadSignature { .. } => 1005,
            AdmitError::NonceTooLow { .. } => 1006,
            AdmitError::NonceTooHigh { .. } => 1007,
            AdmitError::Expired { .. } => 1008,
            AdmitError::InsufficientBalance { .. } => 1009,
            AdmitError::PoolFull { .. } => 1010,
            AdmitError::AlreadyKnown { .. } => 1011,
            AdmitError::InvalidField { .. } => 1012,
            AdmitError::ExpiryTooFar { .. } => 1013,
            AdmitError::NonceAlreadyPending { .. } => 1014,
            AdmitError::SenderQueueFull { .. } => 1015,
            AdmitError::FeeTooLow { .. } => 1016,
            AdmitError::NotAdmitted(_) => 1030,
            AdmitError::AccountFrozen(_) => 1031,
            AdmitError::NotPermitted(_) => 1032,
            AdmitError::GovRefused { .. } => 1033,
            AdmitError::State(_) => -32603,
        }
    }

    /// Stable symbolic name.
    pub fn name(&self) -> &'static str {
        match self {
            AdmitError::Malformed { .. } => "TX_MALFORMED",
            AdmitError::TooLarge { .. } => "TX_TOO_LARGE",
            AdmitError::WrongChainId { .. } => "WRONG_CHAIN_ID",
            AdmitError::SchemeNotAllowed { .. } => "SCHEME_NOT_ALLOWED",
            AdmitError::BadSignature { .. } => "BAD_SIGNATURE",
            AdmitError::NonceTooLow { .. } => "NONCE_TOO_LOW",
            AdmitError::NonceTooHigh { .. } => "NONCE_TOO_HIGH",
            AdmitError::Expired { .. } => "TX_EXPIRED",
            AdmitError::InsufficientBalance { .. } => "INSUFFICIENT_BALANCE",
            AdmitError::PoolFull { .. } => "POOL_FULL",
            AdmitError::AlreadyKnown { .. } => "ALREADY_KNOWN",
            AdmitError::InvalidField { .. } => "INVALID_FIELD",
            AdmitError::ExpiryTooFar { .. } => "EXPIRY_TOO_FAR",
            AdmitError::NonceAlreadyPending { .. } => "NONCE_ALREADY_PENDING",
            AdmitError::FeeTooLow { .. } => "FEE_TOO_LOW",
            AdmitError::SenderQueueFull { .. } => "SENDER_QUEUE_FULL",
            AdmitError::NotAdmitted(_) => "NOT_ADMITTED",
            AdmitError::AccountFrozen(_) => "ACCOUNT_FROZEN",
            AdmitError::NotPermitted(_) => "NOT_PERMITTED",
            AdmitError::GovRefused { .. } => "GOV_REFUSED",
            AdmitError::State(_) => "INTERNAL",
        }
    }
}

impl From<TxCheckError> for AdmitError {
    fn from(e: TxCheckError) -> Self {
        match e {
            TxCheckError::Codec(CodecError::TooLarge { len, max, .. }) => {
                AdmitError::TooLarge { len, max }
            }
            TxCheckError::Codec(CodecError::Malformed { reason, .. }) => {
                AdmitError::Malformed { reason }
            }
            TxCheckError::WrongChainId { expected, got } => {
                AdmitError::WrongChainId { expected, got }
            }
            TxCheckError::SchemeNotAllowed { scheme, suite } => {
                AdmitError::SchemeNotAllowed { scheme, suite }
            }
            TxCheckError::InvalidField { field, reason } => {
                AdmitError::InvalidField { field, reason }
            }
        }
    }
}
