//! Recoverable ECDSA on secp256k1 (Ethereum style) via the libsecp256k1 binding.

use secp256k1::ecdsa::{RecoverableSignature, RecoveryId, Signature};
use secp256k1::{Message, PublicKey, SecretKey};
use zeroize::Zeroizing;

use crate::hash::derive_until;
use crate::signer::{SignatureScheme, check_public_key_len, last_20};
use crate::{CryptoError, HashAlgorithm, Scheme};

const SCHEME: Scheme = Scheme::Secp256k1;
const SEED_DOMAIN: &[u8] = b"keel-crypto/secp256k1/seed";

pub(crate) struct Secp256k1Scheme;

/// A secp256k1 secret key that erases itself on drop.
#[derive(Clone)]
pub(crate) struct Secp256k1Secret {
    key: SecretKey,
    public: PublicKey,
}

impl Drop for Secp256k1Secret {
    fn drop(&mut self) {
        self.key.non_secure_erase();
    }
}

impl Secp256k1Secret {
    fn new(key: SecretKey) -> Self {
        let public = PublicKey::from_secret_key(&key);
        Secp256k1Secret { key, public }
    }
}

impl SignatureScheme for Secp256k1Scheme {
    const SCHEME: Scheme = SCHEME;
    type Secret = Secp256k1Secret;

    fn secret_from_seed(seed: &[u8; 32]) -> Secp256k1Secret {
        let key = derive_until(HashAlgorithm::Sha256, SEED_DOMAIN, seed, |candidate| {
            SecretKey::from_secret_bytes(*candidate).ok()
        });
        Secp256k1Secret::new(key)
    }

    fn secret_from_bytes(bytes: &[u8]) -> Result<Secp256k1Secret, CryptoError> {
        let array = Zeroizing::new(*crate::signer::secret_32(SCHEME, bytes)?);
        let key = SecretKey::from_secret_bytes(*array)
            .map_err(|_| CryptoError::InvalidSecretKey { scheme: SCHEME })?;
        Ok(Secp256k1Secret::new(key))
    }

    fn secret_bytes(secret: &Secp256k1Secret) -> Zeroizing<Vec<u8>> {
        let bytes = Zeroizing::new(secret.key.to_secret_bytes());
        Zeroizing::new(bytes.to_vec())
    }

    fn public_key(secret: &Secp256k1Secret) -> Vec<u8> {
        secret.public.serialize().to_vec()
    }

    fn sign(secret: &Secp256k1Secret, msg: &[u8]) -> Vec<u8> {
        sign_prehash(secret, &HashAlgorithm::Keccak256.digest(msg)).to_vec()
    }

    fn verify(public_key: &[u8], msg: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let key = parse_public_key(public_key)?;
        let signature: &[u8; 65] =
            signature
                .try_into()
                .map_err(|_| CryptoError::InvalidSignatureEncoding {
                    scheme: SCHEME,
                    len: signature.len(),
                })?;
        let prehash = HashAlgorithm::Keccak256.digest(msg);
        let recovered = recover(&prehash, signature).map_err(|e| match e {
            CryptoError::RecoveryFailed => CryptoError::VerificationFailed { scheme: SCHEME },
            other => other,
        })?;
        if recovered == key {
            Ok(())
        } else {
            Err(CryptoError::VerificationFailed { scheme: SCHEME })
        }
    }

    fn address(public_key: &[u8], _suite_hash: HashAlgorithm) -> Result<[u8; 20], CryptoError> {
        let key = parse_public_key(public_key)?;
        let uncompressed = key.serialize_uncompressed();
        Ok(last_20(
            &HashAlgorithm::Keccak256.digest(&uncompressed[1..]),
        ))
    }
}

fn parse_public_key(bytes: &[u8]) -> Result<PublicKey, CryptoError> {
    check_public_key_len(SCHEME, bytes)?;
    let array: &[u8; 33] = bytes
        .try_into()
        .map_err(|_| CryptoError::InvalidPublicKey { scheme: SCHEME })?;
    PublicKey::from_byte_array_compressed(*array)
        .map_err(|_| CryptoError::InvalidPublicKey { scheme: SCHEME })
}

/// ECDSA with RFC 6979 nonces over a 32-byte prehash; libsecp256k1 always produces low s.
pub(crate) fn sign_prehash(secret: &Secp256k1Secret, prehash: &[u8; 32]) -> [u8; 65] {
    let signature =
        RecoverableSignature::sign_ecdsa_recoverable(Message::from_digest(*prehash), &secret.key);
    let (recovery_id, compact) = signature.serialize_compact();
    let mut out = [0u8; 65];
    out[..64].copy_from_slice(&compact);
    out[64] = recovery_id.to_u8();
    out
}

/// Recovers the public key from `r||s||v`, rejecting v outside {0, 1}, r or s out of range and
/// high s.
pub(crate) fn recover(prehash: &[u8; 32], signature: &[u8; 65]) -> Result<PublicKey, CryptoError> {
    let malformed = CryptoError::InvalidSignatureEncoding {
        scheme: SCHEME,
        len: signature.len(),
    };
    let v = signature[64];
    let recovery_id = match v {
        0 => RecoveryId::Zero,
        1 => RecoveryId::One,
        _ => return Err(CryptoError::InvalidRecoveryId { v }),
    };
    let compact = &signature[..64];
    let standard = Signature::from_compact(compact).map_err(|_| malformed.clone())?;
    let mut normalized = standard;
    normalized.normalize_s();
    if normalized != standard {
        return Err(malformed);
    }
    let recoverable =
        RecoverableSignature::from_compact(compact, recovery_id).map_err(|_| malformed)?;
    recoverable
        .recover_ecdsa(Message::from_digest(*prehash))
        .map_err(|_| CryptoError::RecoveryFailed)
}
