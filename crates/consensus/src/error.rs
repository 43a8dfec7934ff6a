//! Typed errors: why an input was rejected, why a certificate is invalid, why construction
//! failed.

use keel_types::{Address, CodecError, Hash};

use crate::Round;

/// Why a quorum or timeout certificate does not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// The certificate is structurally inconsistent.
    #[error("malformed certificate: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// The same validator appears twice.
    #[error("duplicate signer {signer}")]
    DuplicateSigner {
        /// The repeated signer.
        signer: Address,
    },
    /// Signers are not in strictly increasing address order (the canonical form).
    #[error("signers are not sorted by address")]
    UnsortedSigners,
    /// More signatures than validators.
    #[error("{got} signatures for {validators} validators")]
    TooManySigners {
        /// Signatures present.
        got: usize,
        /// Size of the validator set.
        validators: usize,
    },
    /// A signer is not a validator.
    #[error("signer {signer} is not a validator")]
    UnknownSigner {
        /// The offending signer.
        signer: Address,
    },
    /// Fewer than a quorum (2f+1) of signers.
    #[error("{got} signers, a quorum needs {need}")]
    TooFewSigners {
        /// Distinct valid signers.
        got: usize,
        /// Quorum size.
        need: usize,
    },
    /// A signature does not verify over the certified data.
    #[error("bad signature by {signer}")]
    BadSignature {
        /// Whose signature failed.
        signer: Address,
    },
}

/// Why an input was rejected. A rejected input leaves the state machine unchanged; the host
/// logs the reason and counts it (per variant) in its metrics.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// The message is structurally inconsistent (e.g. a vote whose commit decision does not
    /// follow from its rounds).
    #[error("malformed message: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// The author is not in the validator set.
    #[error("{author} is not a validator")]
    UnknownValidator {
        /// Claimed author.
        author: Address,
    },
    /// A proposal from someone other than the round's leader.
    #[error("proposal for round {round} by {author}, leader is {leader}")]
    WrongLeader {
        /// Proposal round.
        round: Round,
        /// Claimed author.
        author: Address,
        /// Round-robin leader of `round`.
        leader: Address,
    },
    /// The message signature does not verify (wrong key or signed over other data).
    #[error("bad signature by {author}")]
    BadSignature {
        /// Claimed author.
        author: Address,
    },
    /// An embedded QC or TC does not verify.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(#[from] CertificateError),
    /// A proposal that is neither `qc.round + 1` nor `tc.round + 1` with the TC's highest QC.
    #[error(
        "proposal for round {round} not justified by qc round {qc_round} / tc round {tc_round:?}"
    )]
    UnjustifiedProposal {
        /// Proposal round.
        round: Round,
        /// Round of the carried QC.
        qc_round: Round,
        /// Round of the carried TC, if any.
        tc_round: Option<Round>,
    },
    /// The proposed block does not extend the block certified by the carried QC.
    #[error("block {id} does not extend the certified block")]
    BadParentLink {
        /// Proposed block.
        id: Hash,
    },
    /// The message is for a round that is already over here.
    #[error("stale round {round}, current round is {current}")]
    StaleRound {
        /// Message round.
        round: Round,
        /// Our current round.
        current: Round,
    },
    /// The message is further ahead than `ROUND_WINDOW` rounds.
    #[error("round {round} is too far ahead of current round {current}")]
    RoundTooFarAhead {
        /// Message round.
        round: Round,
        /// Our current round.
        current: Round,
    },
    /// The block is at or below the committed height.
    #[error("block at height {height} is not above committed height {committed}")]
    BelowCommitted {
        /// Block height.
        height: u64,
        /// Our committed height.
        committed: u64,
    },
    /// An exact duplicate of a message already processed.
    #[error("duplicate message from {author} for round {round}")]
    Duplicate {
        /// Author.
        author: Address,
        /// Round.
        round: Round,
    },
    /// Two different proposals or votes by one author for one round (Byzantine evidence).
    #[error("equivocation by {author} in round {round}")]
    Equivocation {
        /// The equivocating validator.
        author: Address,
        /// Round.
        round: Round,
    },
    /// The host's validation of the proposed block body failed; we do not vote.
    #[error("block {id} failed validation")]
    InvalidBlock {
        /// The invalid block.
        id: Hash,
    },
    /// A `BlockValidated` input that matches no pending proposal of the current round.
    #[error("no pending proposal for validated block {id}")]
    UnexpectedValidation {
        /// The block named by the host.
        id: Hash,
    },
    /// A `PayloadReady` input we did not ask for or that does not extend our high QC.
    #[error("unexpected payload for round {round}")]
    UnexpectedPayload {
        /// Round named by the host.
        round: Round,
    },
}

/// Errors of the crate's fallible functions (construction, decoding, commit verification).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConsensusError {
    /// The validator set is empty.
    #[error("empty validator set")]
    EmptyValidatorSet,
    /// The validator set is larger than `MAX_VALIDATORS`.
    #[error("{count} validators, at most {max} allowed")]
    TooManyValidators {
        /// Validators given.
        count: usize,
        /// Limit.
        max: usize,
    },
    /// A validator is listed twice.
    #[error("validator {address} listed twice")]
    DuplicateValidator {
        /// The repeated address.
        address: Address,
    },
    /// A public key could not be turned into an address.
    #[error("invalid validator public key: {reason}")]
    InvalidPublicKey {
        /// The crypto layer's explanation.
        reason: String,
    },
    /// The recovery data given to the constructor is inconsistent.
    #[error("invalid recovery state: {reason}")]
    InvalidRecovery {
        /// What is wrong.
        reason: &'static str,
    },
    /// A certificate does not verify.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    /// A commit proof certifies another block or height.
    #[error("commit proof certifies {proven_height}/{proven_id:?}, not {height}/{block_id}")]
    CommitMismatch {
        /// Height asked about.
        height: u64,
        /// Block asked about.
        block_id: Hash,
        /// Height the proof commits, if any.
        proven_height: u64,
        /// Block the proof commits, if any.
        proven_id: Option<Hash>,
    },
    /// Bytes could not be decoded.
    #[error(transparent)]
    Codec(#[from] CodecError),
}
