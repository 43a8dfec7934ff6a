//! The crate's error type.

use crate::Scheme;

/// Every failure of this crate. Variants carry the values needed to explain the failure; none of
/// them carries secret material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// A signature scheme name that is not one of `sm2`, `ed25519`, `secp256k1`.
    #[error("unknown signature scheme {name:?}")]
    UnknownScheme {
        /// The name given.
        name: String,
    },
    /// A hash algorithm name that is not one of `sm3`, `sha256`, `keccak256`.
    #[error("unknown hash algorithm {name:?}")]
    UnknownHashAlgorithm {
        /// The name given.
        name: String,
    },
    /// A crypto suite name that is not one of `gm`, `intl`.
    #[error("unknown crypto suite {name:?}")]
    UnknownSuite {
        /// The name given.
        name: String,
    },
    /// A secret key of the wrong length.
    #[error("{scheme} secret key must be 32 bytes, got {len}")]
    InvalidSecretKeyLength {
        /// Scheme of the key.
        scheme: Scheme,
        /// Length given.
        len: usize,
    },
    /// A secret key of the right length that is not a valid scalar (zero, or not below the order).
    #[error("invalid {scheme} secret key")]
    InvalidSecretKey {
        /// Scheme of the key.
        scheme: Scheme,
    },
    /// A public key of the wrong length for its scheme.
    #[error("{scheme} public key must be {expected} bytes, got {len}")]
    InvalidPublicKeyLength {
        /// Scheme of the key.
        scheme: Scheme,
        /// Length the scheme uses.
        expected: usize,
        /// Length given.
        len: usize,
    },
    /// A public key that does not decode to a valid point (or is a weak / small-order point).
    #[error("invalid {scheme} public key")]
    InvalidPublicKey {
        /// Scheme of the key.
        scheme: Scheme,
    },
    /// A signature whose bytes are malformed (wrong length, scalar out of range, bad recovery id,
    /// non-canonical form).
    #[error("malformed {scheme} signature ({len} bytes)")]
    InvalidSignatureEncoding {
        /// Scheme of the signature.
        scheme: Scheme,
        /// Length given.
        len: usize,
    },
    /// A well-formed signature that does not verify.
    #[error("{scheme} signature verification failed")]
    VerificationFailed {
        /// Scheme of the signature.
        scheme: Scheme,
    },
    /// An operation the scheme does not offer (e.g. prehash signing with Ed25519).
    #[error("{operation} is not supported by {scheme}")]
    UnsupportedOperation {
        /// Scheme asked.
        scheme: Scheme,
        /// Operation asked for.
        operation: &'static str,
    },
    /// A secp256k1 recovery id other than 0 or 1.
    #[error("invalid secp256k1 recovery id {v} (expected 0 or 1)")]
    InvalidRecoveryId {
        /// The `v` byte given.
        v: u8,
    },
    /// No public key could be recovered from the signature and prehash.
    #[error("secp256k1 public key recovery failed")]
    RecoveryFailed,
    /// An SM2 distinguishing identifier whose bit length does not fit ENTL (16 bits).
    #[error("SM2 distinguishing id of {len} bytes is too long (max 8191)")]
    DistinguishingIdTooLong {
        /// Length of the id in bytes.
        len: usize,
    },
    /// An explicit SM2 nonce `k` outside [1, n-1], or one that yields r = 0, r + k = n or s = 0.
    #[error("SM2 nonce k is out of range or degenerate")]
    InvalidNonce,
    /// SM2 encryption with an explicit `k` whose KDF output is all zero (the standard says to pick
    /// another k).
    #[error("SM2 KDF output is all zero for this k")]
    KdfOutputZero,
    /// A ciphertext that is malformed before any secret is used.
    #[error("malformed ciphertext: {reason}")]
    InvalidCiphertext {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Decryption failed: SM2 C3 mismatch, or bad CBC padding.
    #[error("decryption failed")]
    DecryptionFailed,
    /// AEAD tag mismatch (or ciphertext shorter than the tag).
    #[error("authenticated decryption failed")]
    AuthenticationFailed,
    /// An input whose length is not allowed.
    #[error("invalid length for {what}: {len} bytes")]
    InvalidLength {
        /// Which input.
        what: &'static str,
        /// Length given.
        len: usize,
    },
}
