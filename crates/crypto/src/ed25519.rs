//! Ed25519 (RFC 8032, pure) via `ed25519-dalek`.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use zeroize::Zeroizing;

use crate::signer::{SignatureScheme, check_public_key_len, last_20};
use crate::{CryptoError, HashAlgorithm, Scheme, VerifyItem};

const SCHEME: Scheme = Scheme::Ed25519;

pub(crate) struct Ed25519Scheme;

impl SignatureScheme for Ed25519Scheme {
    const SCHEME: Scheme = SCHEME;
    /// `SigningKey` wipes itself on drop (`zeroize` feature).
    type Secret = SigningKey;

    fn secret_from_seed(seed: &[u8; 32]) -> SigningKey {
        SigningKey::from_bytes(seed)
    }

    fn secret_from_bytes(bytes: &[u8]) -> Result<SigningKey, CryptoError> {
        let seed = crate::signer::secret_32(SCHEME, bytes)?;
        Ok(SigningKey::from_bytes(seed))
    }

    fn secret_bytes(secret: &SigningKey) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(secret.as_bytes().to_vec())
    }

    fn public_key(secret: &SigningKey) -> Vec<u8> {
        secret.verifying_key().to_bytes().to_vec()
    }

    fn sign(secret: &SigningKey, msg: &[u8]) -> Vec<u8> {
        secret.sign(msg).to_bytes().to_vec()
    }

    fn verify(public_key: &[u8], msg: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let key = parse_public_key(public_key)?;
        let signature = parse_signature(signature)?;
        key.verify_strict(msg, &signature)
            .map_err(|_| CryptoError::VerificationFailed { scheme: SCHEME })
    }

    fn verify_batch(items: &[VerifyItem<'_>]) -> Result<(), CryptoError> {
        if items.len() == 1 {
            return items
                .iter()
                .try_for_each(|item| Self::verify(item.public_key, item.message, item.signature));
        }
        let mut keys = Vec::with_capacity(items.len());
        let mut signatures = Vec::with_capacity(items.len());
        let mut messages = Vec::with_capacity(items.len());
        for item in items {
            keys.push(parse_public_key(item.public_key)?);
            let signature = parse_signature(item.signature)?;
            check_r(&signature)?;
            signatures.push(signature);
            messages.push(item.message);
        }
        ed25519_dalek::verify_batch(&messages, &signatures, &keys)
            .map_err(|_| CryptoError::VerificationFailed { scheme: SCHEME })
    }

    fn address(public_key: &[u8], suite_hash: HashAlgorithm) -> Result<[u8; 20], CryptoError> {
        parse_public_key(public_key)?;
        Ok(last_20(&suite_hash.digest(public_key)))
    }
}

/// A 32-byte key that decodes to a point that is not of small order (`verify_strict` would
/// reject every signature under such a key anyway).
/// Most decoded public keys remembered (consortium senders repeat; decoding costs a square
/// root, about as much as a third of a verification).
const KEY_CACHE_ENTRIES: usize = 16_384;

static KEY_CACHE: LazyLock<Mutex<HashMap<[u8; 32], VerifyingKey>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn parse_public_key(bytes: &[u8]) -> Result<VerifyingKey, CryptoError> {
    check_public_key_len(SCHEME, bytes)?;
    let array: &[u8; 32] = bytes
        .try_into()
        .map_err(|_| CryptoError::InvalidPublicKey { scheme: SCHEME })?;
    if let Some(key) = KEY_CACHE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(array)
    {
        return Ok(*key);
    }
    let key = VerifyingKey::from_bytes(array)
        .map_err(|_| CryptoError::InvalidPublicKey { scheme: SCHEME })?;
    if key.is_weak() {
        return Err(CryptoError::InvalidPublicKey { scheme: SCHEME });
    }
    let mut cache = KEY_CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= KEY_CACHE_ENTRIES {
        cache.clear();
    }
    cache.insert(*array, key);
    Ok(key)
}

fn parse_signature(bytes: &[u8]) -> Result<Signature, CryptoError> {
    let malformed = || CryptoError::InvalidSignatureEncoding {
        scheme: SCHEME,
        len: bytes.len(),
    };
    let array: &[u8; 64] = bytes.try_into().map_err(|_| malformed())?;
    let signature = Signature::from_bytes(array);
    // S must be canonical (< l); checked here so the error is an encoding error everywhere.
    if !s_is_canonical(signature.s_bytes()) {
        return Err(malformed());
    }
    Ok(signature)
}

/// Whether the little-endian scalar is below the group order l.
fn s_is_canonical(s: &[u8; 32]) -> bool {
    curve25519_dalek::Scalar::from_canonical_bytes(*s)
        .is_some()
        .into()
}

/// The checks `verify_strict` makes on R that the batch equation does not: R must decode, be
/// canonically encoded (the single check compares encodings) and not be of small order.
/// y-coordinates (little-endian, sign bit clear) of the 8 points of small order: with either
/// sign bit they encode exactly the 8-torsion subgroup (0 and 1 have x = 0 or x = ±sqrt(-1);
/// the last two are the order-8 points). The list is checked against the curve by a test.
const SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [0; 32],
    {
        let mut y = [0u8; 32];
        y[0] = 1;
        y
    },
    {
        // p - 1
        let mut y = [0xffu8; 32];
        y[0] = 0xec;
        y[31] = 0x7f;
        y
    },
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
];

/// R must be canonically encoded and not of small order (as `verify_strict` requires), checked
/// on the bytes: the batch equation decodes R itself, so decoding it here too would cost a
/// second square root per signature. An R that is not on the curve fails the batch.
fn check_r(signature: &Signature) -> Result<(), CryptoError> {
    let r_bytes = signature.r_bytes();
    let mut y = *r_bytes;
    y[31] &= 0x7f;
    if !y_is_canonical(r_bytes) || SMALL_ORDER_Y.contains(&y) {
        return Err(CryptoError::VerificationFailed { scheme: SCHEME });
    }
    Ok(())
}

/// Is the y-coordinate of a compressed Edwards point (little-endian, top bit = sign of x)
/// below p = 2^255 - 19?
fn y_is_canonical(bytes: &[u8; 32]) -> bool {
    let mut y = *bytes;
    y[31] &= 0x7f;
    // y >= p exactly when y is in [2^255 - 19, 2^255 - 1]: bytes 1..=30 all 0xff, byte 31 0x7f
    // and byte 0 >= 0xed.
    !(y[0] >= 0xed && y[1..31].iter().all(|b| *b == 0xff) && y[31] == 0x7f)
}

#[cfg(test)]
mod canonical_tests {
    use super::*;
    use curve25519_dalek::edwards::CompressedEdwardsY;

    /// The old rule: decode R, reject small order and non-canonical encodings.
    fn r_ok_by_decoding(b: &[u8; 32]) -> Option<bool> {
        let p = CompressedEdwardsY(*b).decompress()?;
        Some(!p.is_small_order() && p.compress().as_bytes() == b)
    }

    fn r_ok_by_bytes(b: &[u8; 32]) -> bool {
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(b);
        check_r(&Signature::from_bytes(&sig)).is_ok()
    }

    #[test]
    fn small_order_list_is_exactly_the_eight_torsion_points() {
        let mut points = Vec::new();
        for y in SMALL_ORDER_Y {
            for sign in [0u8, 0x80] {
                let mut b = y;
                b[31] |= sign;
                if let Some(p) = CompressedEdwardsY(b).decompress() {
                    assert!(p.is_small_order(), "{b:02x?}");
                    if !points.contains(&p) {
                        points.push(p);
                    }
                }
            }
        }
        // E(F_p) = Z_8 x Z_l: exactly 8 points of small order exist.
        assert_eq!(points.len(), 8);
    }

    #[test]
    fn byte_rule_for_r_agrees_with_decoding_wherever_r_decodes() {
        let mut cases: Vec<[u8; 32]> = Vec::new();
        // Every y near p, and the small-order encodings, with both sign bits.
        for low in 0xe0..=0xffu8 {
            let mut b = [0xffu8; 32];
            b[0] = low;
            b[31] = 0x7f;
            cases.push(b);
        }
        cases.extend(SMALL_ORDER_Y);
        // Ordinary points, and ordinary points plus each torsion point (mixed order).
        let torsion: Vec<_> = SMALL_ORDER_Y
            .iter()
            .filter_map(|y| CompressedEdwardsY(*y).decompress())
            .collect();
        for i in 0..64u8 {
            let p = SigningKey::from_bytes(&[i; 32])
                .verifying_key()
                .to_edwards();
            cases.push(p.compress().to_bytes());
            for t in &torsion {
                cases.push((p + t).compress().to_bytes());
            }
        }
        // Pseudo-random byte strings (about half decode).
        let mut x = [0x5au8; 32];
        for _ in 0..2_000 {
            x = crate::HashAlgorithm::Sha256.digest(&x);
            cases.push(x);
        }
        let mut decoded = 0;
        for b in cases {
            for sign in [0u8, 0x80] {
                let mut b = b;
                b[31] = (b[31] & 0x7f) | sign;
                if let Some(expected) = r_ok_by_decoding(&b) {
                    decoded += 1;
                    assert_eq!(r_ok_by_bytes(&b), expected, "{b:02x?}");
                }
            }
        }
        assert!(decoded > 1_000);
    }

    #[test]
    fn cached_keys_decode_like_fresh_ones() {
        let k = SigningKey::from_bytes(&[9; 32]).verifying_key().to_bytes();
        let a = parse_public_key(&k).expect("valid");
        let b = parse_public_key(&k).expect("cached");
        assert_eq!(a, b);
        // A small-order key is refused every time (never cached).
        let mut weak = [0u8; 32];
        weak[0] = 1;
        for _ in 0..2 {
            assert!(parse_public_key(&weak).is_err());
        }
    }
}
