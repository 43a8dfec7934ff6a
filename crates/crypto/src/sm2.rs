//! SM2 (GB/T 32918) on the recommended curve sm2p256v1: signatures with the Z_A user digest,
//! public-key encryption and the GM/T 0009 ciphertext encoding.
//!
//! Signing, verification and key derivation run on Keel's own arithmetic in `fast/` (ADR 0007):
//! a constant-time fixed-base comb for k·G and d·G, and a wNAF double-scalar multiplication for
//! verification. The nonce is derived exactly as the RustCrypto `sm2` crate derives it (RFC 6979
//! with HMAC-SM3 over the secret and e), so signatures are bit-for-bit the crate's; the secret is
//! wiped on drop, and the standard's examples with a given k are reproduced by the same code.
//! The `sm2` crate remains the reference implementation ([`generic_sign`], [`generic_verify`],
//! used by tests and `keel bench crypto`) and does public-key encryption.

mod der;
mod fast;
mod pke;

use ::sm2::dsa::Signature;
use ::sm2::dsa::VerifyingKey;
use ::sm2::dsa::signature::Verifier as _;
use ::sm2::dsa::signature::hazmat::PrehashVerifier as _;
use ::sm2::elliptic_curve::ops::Reduce as _;
use ::sm2::elliptic_curve::point::AffineCoordinates as _;
use ::sm2::elliptic_curve::sec1::ToSec1Point as _;
use ::sm2::elliptic_curve::subtle::ConstantTimeEq as _;
use ::sm2::elliptic_curve::{Curve as _, Group as _, PrimeField as _};
use ::sm2::{
    AffinePoint, FieldBytes, NonZeroScalar, ProjectivePoint, PublicKey, Scalar, Sm2, U256,
};
use fast::{FastSecret, PublicPoint};
use zeroize::{Zeroize as _, Zeroizing};

use crate::hash::derive_until;
use crate::signer::{SignatureScheme, check_public_key_len, last_20};
use crate::{CryptoError, HashAlgorithm, KeyPair, Scheme};

pub use der::{ciphertext_from_der, ciphertext_to_der};
pub use pke::{decrypt, encrypt, encrypt_with_k};

const SCHEME: Scheme = Scheme::Sm2;
const SEED_DOMAIN: &[u8] = b"keel-crypto/sm2/seed";
/// Longest distinguishing ID whose bit length fits the 16-bit ENTL field.
const MAX_ID_LEN: usize = 8191;

/// The default distinguishing ID of GM/T 0009, used by [`KeyPair::sign`] and [`crate::verify`].
pub const DEFAULT_ID: &[u8] = b"1234567812345678";
/// [`DEFAULT_ID`] as text, for the `sm2` crate's API.
const DEFAULT_ID_STR: &str = "1234567812345678";

/// The curve constants that enter Z_A (big-endian, 32 bytes each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CurveParams {
    /// Coefficient a of y² = x³ + ax + b.
    pub a: [u8; 32],
    /// Coefficient b.
    pub b: [u8; 32],
    /// Base point x.
    pub gx: [u8; 32],
    /// Base point y.
    pub gy: [u8; 32],
}

/// The recommended curve sm2p256v1 (GB/T 32918.5).
pub const SM2P256V1: CurveParams = CurveParams {
    a: hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"),
    b: hex32("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"),
    gx: hex32("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"),
    gy: hex32("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"),
};

/// Compile-time hex decoding of a 64-digit constant.
const fn hex32(s: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("not a hex digit"),
        }
    }
    let bytes = s.as_bytes();
    assert!(bytes.len() == 64, "need 64 hex digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(bytes[2 * i]) << 4) | nibble(bytes[2 * i + 1]);
        i += 1;
    }
    out
}

/// Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ Gx ‖ Gy ‖ xA ‖ yA) for any curve parameters (GB/T 32918.2
/// §5.5). IDs longer than 8191 bytes do not fit ENTL and are an error.
pub fn za(
    params: &CurveParams,
    id: &[u8],
    pub_x: &[u8; 32],
    pub_y: &[u8; 32],
) -> Result<[u8; 32], CryptoError> {
    if id.len() > MAX_ID_LEN {
        return Err(CryptoError::DistinguishingIdTooLong { len: id.len() });
    }
    let entl = u16::try_from(id.len() * 8)
        .map_err(|_| CryptoError::DistinguishingIdTooLong { len: id.len() })?;
    Ok(HashAlgorithm::Sm3.digest_parts(&[
        &entl.to_be_bytes(),
        id,
        &params.a,
        &params.b,
        &params.gx,
        &params.gy,
        pub_x,
        pub_y,
    ]))
}

/// Signs `msg` for the distinguishing ID `id`: e = SM3(Z_A ‖ msg), deterministic nonce.
pub fn sign_with_id(secret: &KeyPair, id: &[u8], msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let secret = secret.sm2_secret()?;
    let za = if id == DEFAULT_ID {
        secret.za_default
    } else {
        za(&SM2P256V1, id, &secret.public_x, &secret.public_y)?
    };
    Ok(secret.sign_digest(&message_digest(&za, msg)).to_vec())
}

/// Verifies an SM2 signature `r‖s` over `msg` for the distinguishing ID `id`. The public key may
/// be SEC1 compressed (33 bytes) or uncompressed (65 bytes).
pub fn verify_with_id(
    public_key: &[u8],
    id: &[u8],
    msg: &[u8],
    sig: &[u8],
) -> Result<(), CryptoError> {
    let public = parse_public_key_fast(public_key)?;
    verify_fast(&public, id, msg, sig)
}

/// Signs with an explicit nonce `k` (big-endian, must be in [1, n-1]).
///
/// For known-answer tests against the standard's worked examples only: reusing or leaking k
/// reveals the secret key. The arithmetic is the production code path.
pub fn sign_with_k(
    secret: &KeyPair,
    id: &[u8],
    msg: &[u8],
    k: &[u8; 32],
) -> Result<Vec<u8>, CryptoError> {
    let secret = secret.sm2_secret()?;
    let e = message_digest(
        &za(&SM2P256V1, id, &secret.public_x, &secret.public_y)?,
        msg,
    );
    secret
        .fast
        .sign_with_nonce(&e, k)
        .map(|sig| sig.to_vec())
        .ok_or(CryptoError::InvalidNonce)
}

/// Builds the fast implementation's generator tables now (otherwise built on first use, about
/// a millisecond), e.g. before timing.
#[doc(hidden)]
pub fn precompute_tables() {
    fast::precompute();
}

/// The `sm2` crate's verification (the generic reference implementation), with the same
/// conventions as [`crate::verify`] for [`Scheme::Sm2`]. For benchmarks and cross-checks.
#[doc(hidden)]
pub fn generic_verify(public_key: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
    check_public_key_len(SCHEME, public_key)?;
    let public = parse_public_key(public_key)?;
    verify_parsed(public, DEFAULT_ID, msg, sig)
}

/// Signing on the `sm2` crate's curve arithmetic (the generic reference implementation), same
/// nonce and result as [`KeyPair::sign`]. For benchmarks and cross-checks.
#[doc(hidden)]
pub fn generic_sign(secret: &KeyPair, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let secret = secret.sm2_secret()?;
    Ok(sign_digest(&secret.d, &message_digest(&secret.za_default, msg)).to_vec())
}

/// The SEC1 compressed public key for a secret computed by the `sm2` crate (reference).
#[doc(hidden)]
pub fn generic_public_key(secret: &KeyPair) -> Result<Vec<u8>, CryptoError> {
    let secret = secret.sm2_secret()?;
    Ok(PublicKey::from_secret_scalar(&secret.d)
        .to_sec1_point(true)
        .as_bytes()
        .to_vec())
}

/// An SM2 secret scalar (in both the `sm2` crate's form, for encryption and the reference
/// signer, and the fast form) with its public key and the Z_A for [`DEFAULT_ID`]; the scalars
/// are wiped on drop.
#[derive(Clone)]
pub(crate) struct Sm2Secret {
    d: NonZeroScalar,
    fast: FastSecret,
    public_x: [u8; 32],
    public_y: [u8; 32],
    za_default: [u8; 32],
}

impl Drop for Sm2Secret {
    fn drop(&mut self) {
        self.d.zeroize();
    }
}

impl Sm2Secret {
    /// The secret for 32 big-endian bytes, if they are a valid SM2 secret key d ∈ [1, n − 2]
    /// (GB/T 32918.1 §6.1; n − 1 has no (1 + d)⁻¹ and could not sign).
    fn new(bytes: &[u8; 32]) -> Option<Self> {
        let d = nonzero_scalar(bytes)?;
        let (fast, public) = FastSecret::new(bytes)?;
        let (public_x, public_y) = fast::encode_xy(&public);
        // The default ID always fits ENTL.
        let za_default = za(&SM2P256V1, DEFAULT_ID, &public_x, &public_y).ok()?;
        Some(Sm2Secret {
            d,
            fast,
            public_x,
            public_y,
            za_default,
        })
    }

    /// Signs a digest e with the nonce the `sm2` crate would use (RFC 6979, HMAC-SM3); the
    /// astronomically unlikely degenerate nonce is replaced by re-running RFC 6979 with a
    /// counter as extra data.
    fn sign_digest(&self, e: &[u8; 32]) -> [u8; 64] {
        let d_bytes = Zeroizing::new(self.d.to_repr());
        let e_bytes = reduce(e).to_bytes();
        (0u32..64)
            .find_map(|attempt| {
                let k_bytes = rfc6979_nonce(&d_bytes, &e_bytes, attempt);
                self.fast.sign_with_nonce(e, &k_bytes)
            })
            .expect("each RFC 6979 nonce is degenerate with probability 2^-255")
    }

    pub(crate) fn scalar(&self) -> &NonZeroScalar {
        &self.d
    }
}

pub(crate) struct Sm2Scheme;

impl SignatureScheme for Sm2Scheme {
    const SCHEME: Scheme = SCHEME;
    type Secret = Sm2Secret;

    fn secret_from_seed(seed: &[u8; 32]) -> Sm2Secret {
        derive_until(HashAlgorithm::Sm3, SEED_DOMAIN, seed, Sm2Secret::new)
    }

    fn secret_from_bytes(bytes: &[u8]) -> Result<Sm2Secret, CryptoError> {
        let array = crate::signer::secret_32(SCHEME, bytes)?;
        Sm2Secret::new(array).ok_or(CryptoError::InvalidSecretKey { scheme: SCHEME })
    }

    fn secret_bytes(secret: &Sm2Secret) -> Zeroizing<Vec<u8>> {
        let bytes = Zeroizing::new(secret.d.to_repr());
        Zeroizing::new(bytes.to_vec())
    }

    fn public_key(secret: &Sm2Secret) -> Vec<u8> {
        let mut out = Vec::with_capacity(33);
        out.push(2 | (secret.public_y[31] & 1));
        out.extend_from_slice(&secret.public_x);
        out
    }

    fn sign(secret: &Sm2Secret, msg: &[u8]) -> Vec<u8> {
        secret
            .sign_digest(&message_digest(&secret.za_default, msg))
            .to_vec()
    }

    fn verify(public_key: &[u8], msg: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        check_public_key_len(SCHEME, public_key)?;
        // Repeat senders: parsed key, Z_A and (after a few uses) a comb table are cached.
        let key = cached_key(public_key)?;
        let sig = signature_array(signature)?;
        let e = message_digest(&key.za_default, msg);
        if fast::verify_prehash_with(&key.point, key.comb(), &e, sig) {
            Ok(())
        } else {
            Err(CryptoError::VerificationFailed { scheme: SCHEME })
        }
    }

    fn address(public_key: &[u8], suite_hash: HashAlgorithm) -> Result<[u8; 20], CryptoError> {
        check_public_key_len(SCHEME, public_key)?;
        // Validates the key through the same cache verification uses (parsed once per key).
        cached_key(public_key)?;
        Ok(last_20(&suite_hash.digest(public_key)))
    }
}

/// A SEC1 public key (compressed or uncompressed) on sm2p256v1, not the identity.
fn parse_public_key(bytes: &[u8]) -> Result<PublicKey, CryptoError> {
    if bytes.len() != 33 && bytes.len() != 65 {
        return Err(CryptoError::InvalidPublicKeyLength {
            scheme: SCHEME,
            expected: 33,
            len: bytes.len(),
        });
    }
    PublicKey::from_sec1_bytes(bytes).map_err(|_| CryptoError::InvalidPublicKey { scheme: SCHEME })
}

/// [`parse_public_key`] on the fast arithmetic.
fn parse_public_key_fast(bytes: &[u8]) -> Result<PublicPoint, CryptoError> {
    if bytes.len() != 33 && bytes.len() != 65 {
        return Err(CryptoError::InvalidPublicKeyLength {
            scheme: SCHEME,
            expected: 33,
            len: bytes.len(),
        });
    }
    fast::parse_public_key(bytes).ok_or(CryptoError::InvalidPublicKey { scheme: SCHEME })
}

/// The cached verification state of an encoded public key (parsed and Z_A computed on a miss).
fn cached_key(public_key: &[u8]) -> Result<std::sync::Arc<fast::keycache::CachedKey>, CryptoError> {
    fast::keycache::get(
        public_key,
        |b| parse_public_key_fast(b).ok(),
        |p| {
            let (x, y) = fast::encode_xy(p);
            za(&SM2P256V1, DEFAULT_ID, &x, &y).ok()
        },
    )
    .ok_or(CryptoError::InvalidPublicKey { scheme: SCHEME })
}

/// `r‖s` with both halves in [1, n − 1], or an encoding error.
fn signature_array(sig: &[u8]) -> Result<&[u8; 64], CryptoError> {
    let encoding = CryptoError::InvalidSignatureEncoding {
        scheme: SCHEME,
        len: sig.len(),
    };
    let sig: &[u8; 64] = sig.try_into().map_err(|_| encoding.clone())?;
    if !fast::signature_in_range(sig) {
        return Err(encoding);
    }
    Ok(sig)
}

/// Verification on the fast arithmetic.
fn verify_fast(public: &PublicPoint, id: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
    let sig = signature_array(sig)?;
    let (x, y) = fast::encode_xy(public);
    let e = message_digest(&za(&SM2P256V1, id, &x, &y)?, msg);
    if fast::verify_prehash(public, &e, sig) {
        Ok(())
    } else {
        Err(CryptoError::VerificationFailed { scheme: SCHEME })
    }
}

/// Verification with the `sm2` crate (reference).
fn verify_parsed(public: PublicKey, id: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
    if id.len() > MAX_ID_LEN {
        return Err(CryptoError::DistinguishingIdTooLong { len: id.len() });
    }
    let signature =
        Signature::from_slice(sig).map_err(|_| CryptoError::InvalidSignatureEncoding {
            scheme: SCHEME,
            len: sig.len(),
        })?;
    let failed = |_| CryptoError::VerificationFailed { scheme: SCHEME };
    match std::str::from_utf8(id) {
        // The common case: the crate's distinguishing-ID API computes Z_A itself.
        Ok(id) => VerifyingKey::new(id, public)
            .map_err(failed)?
            .verify(msg, &signature)
            .map_err(failed),
        // The crate takes IDs as text; other byte strings go through our Z_A and the prehash API.
        Err(_) => {
            let e = message_digest(&za_of(&public, id)?, msg);
            VerifyingKey::new(DEFAULT_ID_STR, public)
                .map_err(failed)?
                .verify_prehash(&e, &signature)
                .map_err(failed)
        }
    }
}

/// Z_A of a point on sm2p256v1.
fn za_of(public: &PublicKey, id: &[u8]) -> Result<[u8; 32], CryptoError> {
    let (x, y) = affine_xy(public.as_affine());
    za(&SM2P256V1, id, &x, &y)
}

/// e = SM3(Z_A ‖ msg).
fn message_digest(za: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    HashAlgorithm::Sm3.digest_parts(&[za, msg])
}

/// Big-endian x and y of a point that is not the identity.
pub(crate) fn affine_xy(point: &AffinePoint) -> ([u8; 32], [u8; 32]) {
    let encoded = point.to_sec1_point(false);
    let bytes = encoded.as_bytes();
    let mut x = [0u8; 32];
    let mut y = [0u8; 32];
    // Only the identity encodes to fewer bytes, and no caller passes it: public keys are
    // validated and k·P with k in [1, n-1] on a prime-order curve is never the identity.
    if bytes.len() == 65 {
        x.copy_from_slice(&bytes[1..33]);
        y.copy_from_slice(&bytes[33..]);
    }
    (x, y)
}

/// A scalar in [1, n-1] from 32 big-endian bytes, if in range.
pub(crate) fn nonzero_scalar(bytes: &[u8; 32]) -> Option<NonZeroScalar> {
    Option::from(NonZeroScalar::from_repr(FieldBytes::from(*bytes)))
}

/// e as a scalar (reduced mod n), as the standard and the `sm2` crate do.
fn reduce(e: &[u8; 32]) -> Scalar {
    Scalar::reduce(&FieldBytes::from(*e))
}

/// The RFC 6979 (HMAC-SM3) nonce the `sm2` crate uses for secret d and reduced digest e; a
/// non-zero `attempt` is appended as extra data (only if the first nonce is degenerate).
fn rfc6979_nonce(d_bytes: &FieldBytes, e_bytes: &FieldBytes, attempt: u32) -> Zeroizing<[u8; 32]> {
    let extra = attempt.to_be_bytes();
    let extra: &[u8] = if attempt == 0 { &[] } else { &extra };
    let mut kgen = rfc6979::KGenerator::<sm3::Sm3, U256>::new(d_bytes, e_bytes, extra, &Sm2::ORDER);
    let mut k_bytes = Zeroizing::new([0u8; 32]);
    kgen.fill_next_k(k_bytes.as_mut_slice());
    k_bytes
}

/// [`Sm2Secret::sign_digest`] on the `sm2` crate's curve arithmetic (reference signer).
fn sign_digest(d: &NonZeroScalar, e: &[u8; 32]) -> [u8; 64] {
    let e = reduce(e);
    let d_bytes = Zeroizing::new(d.to_repr());
    let e_bytes = e.to_bytes();
    (0u32..64)
        .find_map(|attempt| {
            let k_bytes = rfc6979_nonce(&d_bytes, &e_bytes, attempt);
            let k = Zeroizing::new(nonzero_scalar(&k_bytes)?);
            sign_with_nonce(d, &e, &k)
        })
        .expect("each RFC 6979 nonce is degenerate with probability 2^-255")
}

/// GB/T 32918.2 §6.1 steps A4–A7 for a given nonce on the `sm2` crate's arithmetic; `None` if r = 0, r + k = n or s = 0.
fn sign_with_nonce(d: &NonZeroScalar, e: &Scalar, k: &NonZeroScalar) -> Option<[u8; 64]> {
    // A4: (x1, y1) = [k]G
    let point = ProjectivePoint::mul_by_generator(k).to_affine();
    // A5: r = (e + x1) mod n; reject r = 0 and r + k = n
    let r = *e + Scalar::reduce(&point.x());
    if bool::from(r.is_zero() | (r + **k).ct_eq(&Scalar::ZERO)) {
        return None;
    }
    // A6: s = (1 + d)^-1 (k - r d) mod n; reject s = 0
    let d_plus_1_inv = Option::<Scalar>::from((**d + Scalar::ONE).invert())?;
    let s = d_plus_1_inv * (**k - r * **d);
    if bool::from(s.is_zero()) {
        return None;
    }
    // A7: (r, s)
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&r.to_bytes());
    out[32..].copy_from_slice(&s.to_bytes());
    Some(out)
}
