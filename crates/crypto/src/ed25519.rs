//! Ed25519 (RFC 8032, pure) via `ed25519-dalek`.

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
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
fn parse_public_key(bytes: &[u8]) -> Result<VerifyingKey, CryptoError> {
    check_public_key_len(SCHEME, bytes)?;
    let array: &[u8; 32] = bytes
        .try_into()
        .map_err(|_| CryptoError::InvalidPublicKey { scheme: SCHEME })?;
    let key = VerifyingKey::from_bytes(array)
        .map_err(|_| CryptoError::InvalidPublicKey { scheme: SCHEME })?;
    if key.is_weak() {
        return Err(CryptoError::InvalidPublicKey { scheme: SCHEME });
    }
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
fn check_r(signature: &Signature) -> Result<(), CryptoError> {
    let r_bytes = signature.r_bytes();
    let r = CompressedEdwardsY(*r_bytes)
        .decompress()
        .ok_or(CryptoError::VerificationFailed { scheme: SCHEME })?;
    // Canonical encoding without re-compressing (an inversion): y must be below p. The other
    // non-canonical form, x = 0 with the sign bit set, only exists for y = ±1, which are small
    // order and rejected here too.
    if r.is_small_order() || !y_is_canonical(r_bytes) {
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

    #[test]
    fn y_canonical_check_agrees_with_recompression() {
        // Every y near p (with and without the sign bit) and a few ordinary points.
        let mut cases: Vec<[u8; 32]> = Vec::new();
        for low in 0xe0..=0xffu8 {
            for sign in [0u8, 0x80] {
                let mut b = [0xffu8; 32];
                b[0] = low;
                b[31] = 0x7f | sign;
                cases.push(b);
            }
        }
        for i in 0..64u8 {
            let k = SigningKey::from_bytes(&[i; 32]);
            cases.push(k.verifying_key().to_bytes());
        }
        let mut one = [0u8; 32];
        one[0] = 1;
        cases.push(one);
        one[31] = 0x80;
        cases.push(one);
        for b in cases {
            if let Some(p) = CompressedEdwardsY(b).decompress() {
                let by_recompression = p.compress().as_bytes() == &b;
                let small = p.is_small_order();
                // Where they differ, the point is small order (rejected either way).
                assert!(small || by_recompression == y_is_canonical(&b), "{b:02x?}");
            }
        }
    }
}
