//! SM2 public-key encryption (GB/T 32918.4 §6–7), ciphertext `C1 ‖ C3 ‖ C2` with
//! `C1 = 04 ‖ x1 ‖ y1`, `C3 = SM3(x2 ‖ M ‖ y2)`, `C2 = M ⊕ KDF(x2 ‖ y2, |M|)`.

use ::sm2::elliptic_curve::Group as _;
use ::sm2::elliptic_curve::sec1::ToSec1Point as _;
use ::sm2::elliptic_curve::subtle::ConstantTimeEq as _;
use ::sm2::{NonZeroScalar, ProjectivePoint, PublicKey};
use zeroize::Zeroizing;

use super::{affine_xy, nonzero_scalar, parse_public_key};
use crate::hash::derive_until;
use crate::{CryptoError, HashAlgorithm, KeyPair};

const K_DOMAIN: &[u8] = b"keel-crypto/sm2/encrypt-k";
/// Length of C1 (uncompressed point) plus C3 (SM3 digest).
const OVERHEAD: usize = 65 + 32;
/// The KDF's 32-bit counter bounds the key stream to (2^32 - 1) SM3 blocks.
const MAX_MESSAGE_LEN: u64 = (u32::MAX as u64) * 32;

/// Encrypts `msg` to `public_key` (SEC1, 33 or 65 bytes). The nonce is derived from the caller's
/// entropy: candidates `SM3("keel-crypto/sm2/encrypt-k" ‖ k_entropy ‖ counter_be32)` for
/// counter = 0, 1, … are taken in order, skipping any outside [1, n-1] or whose KDF output is
/// all zero (the standard's retry rule), so the result is a deterministic function of the inputs.
pub fn encrypt(
    public_key: &[u8],
    msg: &[u8],
    k_entropy: &[u8; 32],
) -> Result<Vec<u8>, CryptoError> {
    let public = parse_public_key(public_key)?;
    check_message_len(msg)?;
    Ok(derive_until(
        HashAlgorithm::Sm3,
        K_DOMAIN,
        k_entropy,
        |candidate| {
            let k = Zeroizing::new(nonzero_scalar(candidate)?);
            encrypt_with_scalar(&public, msg, &k)
        },
    ))
}

/// Encrypts with an explicit nonce k in [1, n-1]. For known-answer tests only: reusing k across
/// messages reveals their XOR. Fails with [`CryptoError::KdfOutputZero`] where the standard
/// would pick another k.
pub fn encrypt_with_k(public_key: &[u8], msg: &[u8], k: &[u8; 32]) -> Result<Vec<u8>, CryptoError> {
    let public = parse_public_key(public_key)?;
    check_message_len(msg)?;
    let k = Zeroizing::new(nonzero_scalar(k).ok_or(CryptoError::InvalidNonce)?);
    encrypt_with_scalar(&public, msg, &k).ok_or(CryptoError::KdfOutputZero)
}

/// Decrypts `C1 ‖ C3 ‖ C2` (C1 uncompressed) with an SM2 key.
pub fn decrypt(secret: &KeyPair, ciphertext_c1c3c2: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let d = secret.sm2_secret()?.scalar();
    let ct = ciphertext_c1c3c2;
    if ct.len() < OVERHEAD {
        return Err(CryptoError::InvalidCiphertext {
            reason: "shorter than C1 and C3",
        });
    }
    if ct[0] != 0x04 {
        return Err(CryptoError::InvalidCiphertext {
            reason: "C1 is not an uncompressed point",
        });
    }
    let (c1, rest) = ct.split_at(65);
    let (c3, c2) = rest.split_at(32);
    // B1: C1 must be on the curve; B2: with cofactor 1, S = C1 must not be the identity —
    // `PublicKey` guarantees both.
    let c1 = PublicKey::from_sec1_bytes(c1).map_err(|_| CryptoError::InvalidCiphertext {
        reason: "C1 is not a point on sm2p256v1",
    })?;
    // B3: (x2, y2) = [d]C1
    let shared = (ProjectivePoint::from(*c1.as_affine()) * **d).to_affine();
    let (x2, y2) = affine_xy(&shared);
    let (x2, y2) = (Zeroizing::new(x2), Zeroizing::new(y2));
    // B4–B5: t = KDF(x2 ‖ y2, klen), M' = C2 ⊕ t; t must not be all zero
    let mut msg = Zeroizing::new(c2.to_vec());
    let t_nonzero = kdf_xor(&x2, &y2, &mut msg);
    // B6: u = SM3(x2 ‖ M' ‖ y2) must equal C3
    let u = HashAlgorithm::Sm3.digest_parts(&[x2.as_slice(), &msg, y2.as_slice()]);
    let c3_ok: bool = u.ct_eq(c3).into();
    if !c3_ok || !(t_nonzero || msg.is_empty()) {
        return Err(CryptoError::DecryptionFailed);
    }
    Ok(msg.to_vec())
}

fn check_message_len(msg: &[u8]) -> Result<(), CryptoError> {
    if msg.len() as u64 > MAX_MESSAGE_LEN {
        return Err(CryptoError::InvalidLength {
            what: "SM2 plaintext",
            len: msg.len(),
        });
    }
    Ok(())
}

/// GB/T 32918.4 §6.1 A2–A8 for a given k; `None` if the KDF output is all zero.
fn encrypt_with_scalar(public: &PublicKey, msg: &[u8], k: &NonZeroScalar) -> Option<Vec<u8>> {
    // A2: C1 = [k]G
    let c1 = ProjectivePoint::mul_by_generator(k).to_affine();
    // A3: S = [h]P_B is not the identity (h = 1 and P_B is a validated public key).
    // A4: (x2, y2) = [k]P_B
    let shared = (ProjectivePoint::from(*public.as_affine()) * **k).to_affine();
    let (x2, y2) = affine_xy(&shared);
    let (x2, y2) = (Zeroizing::new(x2), Zeroizing::new(y2));
    // A5–A6: t = KDF(x2 ‖ y2, klen), C2 = M ⊕ t; retry if t is all zero
    let mut c2 = msg.to_vec();
    if !kdf_xor(&x2, &y2, &mut c2) && !msg.is_empty() {
        return None;
    }
    // A7: C3 = SM3(x2 ‖ M ‖ y2)
    let c3 = HashAlgorithm::Sm3.digest_parts(&[x2.as_slice(), msg, y2.as_slice()]);
    // A8: C = C1 ‖ C3 ‖ C2
    let mut out = Vec::with_capacity(OVERHEAD + msg.len());
    out.extend_from_slice(c1.to_sec1_point(false).as_bytes());
    out.extend_from_slice(&c3);
    out.extend_from_slice(&c2);
    Some(out)
}

/// XORs `KDF(x2 ‖ y2, data.len())` into `data` (SM3 in counter mode, counter from 1, 32-bit
/// big-endian); returns whether any key-stream byte was non-zero. The caller bounds the length
/// so the counter does not wrap.
fn kdf_xor(x2: &[u8; 32], y2: &[u8; 32], data: &mut [u8]) -> bool {
    let mut any_nonzero = 0u8;
    let mut counter: u32 = 1;
    for chunk in data.chunks_mut(32) {
        let block =
            Zeroizing::new(HashAlgorithm::Sm3.digest_parts(&[x2, y2, &counter.to_be_bytes()]));
        for (byte, key) in chunk.iter_mut().zip(block.iter()) {
            *byte ^= key;
            any_nonzero |= key;
        }
        counter = counter.wrapping_add(1);
    }
    any_nonzero != 0
}
