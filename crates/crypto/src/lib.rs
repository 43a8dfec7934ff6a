//! Keel's cryptography: hashes, the three signature schemes, SM2 public-key encryption, SM4 and
//! AES-256-GCM. Pure code: no I/O, no clocks, no operating-system randomness — wherever
//! randomness is needed it comes in as bytes from the caller.
//!
//! # Hashes
//!
//! [`HashAlgorithm`]: SM3 (`gm` suite), SHA-256 (`intl` suite), Keccak-256 (Ethereum; the
//! original Keccak padding, not SHA3-256). All produce a 32-byte [`Digest`].
//!
//! # Signatures: what exactly is signed
//!
//! | scheme | public key | signature | signed value |
//! |---|---|---|---|
//! | [`Scheme::Sm2`] | 33 bytes, SEC1 compressed | 64: `r‖s`, big-endian | GB/T 32918.2: `e = SM3(Z_A ‖ msg)`, `Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ Gx ‖ Gy ‖ xA ‖ yA)` with ID = `"1234567812345678"` (GM/T 0009 default) |
//! | [`Scheme::Ed25519`] | 32 bytes (RFC 8032) | 64: `R‖S` | pure Ed25519 over `msg` (no prehash, no context) |
//! | [`Scheme::Secp256k1`] | 33 bytes, SEC1 compressed | 65: `r‖s‖v`, v ∈ {0,1}, low s | ECDSA over `keccak256(msg)` |
//!
//! Signing is deterministic: SM2 derives k RFC 6979-style from the secret and e (HMAC-SM3, as
//! the `sm2` crate does), Ed25519 is deterministic by definition, secp256k1 uses RFC 6979.
//! Verification is strict: SM2 requires r, s in [1, n-1]; Ed25519 uses `verify_strict`
//! (canonical S, no small-order R or A); secp256k1 requires low s (EIP-2) and the exact v — it
//! recovers the key from `(keccak256(msg), r‖s‖v)` and compares it with the given key.
//! [`verify_batch`] uses real batch verification for Ed25519 (see its notes) and checks the other
//! schemes one by one.
//!
//! Ethereum transactions sign a prehash that is not `keccak256` of a byte string Keel holds; for
//! them use [`KeyPair::sign_prehash_recoverable`] and [`recover_secp256k1`].
//!
//! # Addresses
//!
//! [`address_of`] gives 20-byte account addresses: for secp256k1 the Ethereum rule (last 20
//! bytes of Keccak-256 of the 64-byte uncompressed key `x‖y`); for SM2 and Ed25519 the last 20
//! bytes of the suite hash of the encoded public key as above (33 resp. 32 bytes). The key is
//! validated first.
//!
//! # Key derivation
//!
//! [`KeyPair::from_seed`] maps 32 bytes of caller entropy to a key deterministically (see there).
//!
//! # Symmetric and public-key encryption
//!
//! [`sm2`] also has ID-aware signing, Z_A, and GB/T 32918.4 encryption (`C1‖C3‖C2`, plus the
//! GM/T 0009 DER form); [`sm4`] has the block cipher with CBC, CTR and GCM; [`aes256gcm`] the
//! `intl` suite's AEAD.

pub mod aes256gcm;
mod ed25519;
mod error;
mod hash;
mod scheme;
mod secp256k1;
mod signer;
pub mod sm2;
pub mod sm4;

pub use error::CryptoError;
pub use hash::{Digest, HashAlgorithm};
pub use scheme::{Scheme, Suite};
pub use signer::KeyPair;

use signer::{SignatureScheme, dispatch};

/// One signature to check in a batch.
#[derive(Clone, Copy, Debug)]
pub struct VerifyItem<'a> {
    /// Encoded public key of the signer.
    pub public_key: &'a [u8],
    /// The signed message (same conventions as [`KeyPair::sign`]).
    pub message: &'a [u8],
    /// The signature.
    pub signature: &'a [u8],
}

/// Verifies `signature` over `msg` under `public_key` (same message conventions as
/// [`KeyPair::sign`]). Never panics, whatever the bytes.
pub fn verify(
    scheme: Scheme,
    public_key: &[u8],
    msg: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    dispatch!(scheme, S => S::verify(public_key, msg, signature))
}

/// `Ok` iff every item verifies under `scheme`. An empty batch is `Ok`.
///
/// Ed25519 uses ed25519-dalek's batch verification after per-item structural checks (key
/// decodes and is not small-order, R is canonical and not small-order). Batch verification is
/// probabilistic in one corner: a signature crafted with a mixed-order key or R that fails
/// `verify` can pass a batch with probability about 1/8; honest signatures never differ. The
/// other schemes verify one by one. On `Err`, re-verify items one by one to find the bad ones.
pub fn verify_batch(scheme: Scheme, items: &[VerifyItem<'_>]) -> Result<(), CryptoError> {
    if items.is_empty() {
        return Ok(());
    }
    dispatch!(scheme, S => S::verify_batch(items))
}

/// The 20-byte account address of `public_key` (see the crate docs for the rule). `suite_hash`
/// is used for SM2 and Ed25519 and ignored for secp256k1 (always Keccak-256).
pub fn address_of(
    scheme: Scheme,
    public_key: &[u8],
    suite_hash: HashAlgorithm,
) -> Result<[u8; 20], CryptoError> {
    dispatch!(scheme, S => S::address(public_key, suite_hash))
}

/// Recovers the signer's 33-byte compressed secp256k1 public key from a 32-byte prehash and
/// `r‖s‖v` (v ∈ {0, 1}). High-s signatures are rejected (EIP-2), as for transactions.
pub fn recover_secp256k1(prehash: &[u8; 32], signature: &[u8; 65]) -> Result<Vec<u8>, CryptoError> {
    secp256k1::recover(prehash, signature).map(|key| key.serialize().to_vec())
}
