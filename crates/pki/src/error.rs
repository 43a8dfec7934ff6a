//! [`PkiError`]: every reason a certificate, chain or revocation list is refused.

use crate::Serial;

/// A certificate, chain or revocation list was refused, or could not be made. Each variant has
/// a stable code ([`PkiError::code`]) for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkiError {
    /// The bytes are not a well-formed DER/PEM certificate or CRL.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's message.
        reason: String,
    },
    /// The signature or public-key algorithm is not one Keel accepts.
    #[error("unsupported algorithm {oid} in {what}")]
    UnsupportedAlgorithm {
        /// Where it appeared.
        what: &'static str,
        /// The OID, dotted.
        oid: String,
    },
    /// The signature does not verify under the issuer's key.
    #[error("bad signature on {subject} (issuer {issuer})")]
    BadSignature {
        /// Subject of the signed certificate or CRL.
        subject: String,
        /// Issuer whose key was used.
        issuer: String,
    },
    /// No certificate in the chain or the trust store is the named issuer.
    #[error("no issuer {issuer} found for {subject}")]
    UnknownIssuer {
        /// Subject of the certificate.
        subject: String,
        /// Its issuer name.
        issuer: String,
    },
    /// The chain does not end at a configured root.
    #[error("chain of {subject} does not lead to a trusted root")]
    UntrustedRoot {
        /// The leaf's subject.
        subject: String,
    },
    /// `now` is after notAfter.
    #[error("certificate {subject} expired at {not_after} (now {now})")]
    Expired {
        /// Subject.
        subject: String,
        /// notAfter, Unix seconds.
        not_after: u64,
        /// The time checked against, Unix seconds.
        now: u64,
    },
    /// `now` is before notBefore.
    #[error("certificate {subject} is not valid before {not_before} (now {now})")]
    NotYetValid {
        /// Subject.
        subject: String,
        /// notBefore, Unix seconds.
        not_before: u64,
        /// The time checked against, Unix seconds.
        now: u64,
    },
    /// A serial in the chain is on the revocation list.
    #[error("certificate {subject} (serial {serial}) is revoked")]
    Revoked {
        /// Subject.
        subject: String,
        /// Its serial.
        serial: Serial,
    },
    /// An issuing certificate is not a CA (basicConstraints) or may not sign certificates
    /// (keyUsage), or a path-length constraint is exceeded.
    #[error("certificate {subject} may not issue certificates: {reason}")]
    NotACa {
        /// Subject.
        subject: String,
        /// Which constraint failed.
        reason: &'static str,
    },
    /// A leaf is a CA, lacks digitalSignature, or has the wrong role for the use.
    #[error("certificate {subject} is not usable here: {reason}")]
    WrongUsage {
        /// Subject.
        subject: String,
        /// Which constraint failed.
        reason: String,
    },
    /// The leaf's organisation (O) differs from its issuing organisation CA's.
    #[error("certificate {subject} names organisation {leaf_org:?} but its CA is {ca_org:?}")]
    OrgMismatch {
        /// Subject.
        subject: String,
        /// O of the leaf.
        leaf_org: String,
        /// O of the issuing CA.
        ca_org: String,
    },
    /// The chain is empty or longer than [`crate::MAX_CHAIN_CERTS`].
    #[error("chain has {len} certificates; 1..={max} allowed")]
    ChainLength {
        /// Certificates given.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The certificate's key differs from the key that must match it (e.g. the handshake
    /// identity).
    #[error("certificate {subject} is for another key")]
    KeyMismatch {
        /// Subject.
        subject: String,
    },
    /// Issuing failed (bad parameters, encoding, entropy).
    #[error("cannot issue: {0}")]
    Issue(String),
}

impl PkiError {
    /// A short stable code for logs and metric labels.
    pub fn code(&self) -> &'static str {
        match self {
            PkiError::Malformed { .. } => "malformed",
            PkiError::UnsupportedAlgorithm { .. } => "unsupported_algorithm",
            PkiError::BadSignature { .. } => "bad_signature",
            PkiError::UnknownIssuer { .. } => "unknown_issuer",
            PkiError::UntrustedRoot { .. } => "untrusted_root",
            PkiError::Expired { .. } => "expired",
            PkiError::NotYetValid { .. } => "not_yet_valid",
            PkiError::Revoked { .. } => "revoked",
            PkiError::NotACa { .. } => "not_a_ca",
            PkiError::WrongUsage { .. } => "wrong_usage",
            PkiError::OrgMismatch { .. } => "org_mismatch",
            PkiError::ChainLength { .. } => "chain_length",
            PkiError::KeyMismatch { .. } => "key_mismatch",
            PkiError::Issue(_) => "issue",
        }
    }

    pub(crate) fn malformed(what: &'static str, e: impl std::fmt::Display) -> PkiError {
        PkiError::Malformed {
            what,
            reason: e.to_string(),
        }
    }
}
