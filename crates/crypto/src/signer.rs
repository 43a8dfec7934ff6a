//! The internal trait every signature scheme implements, and the key pair that dispatches to it.

use std::fmt;

use zeroize::Zeroizing;

use crate::{CryptoError, HashAlgorithm, Scheme, VerifyItem, ed25519, secp256k1, sm2};

/// One signature scheme. Implementations live in `sm2.rs`, `ed25519.rs`, `secp256k1.rs`; the
/// public API dispatches on [`Scheme`] to exactly one of them.
pub(crate) trait SignatureScheme {
    /// The scheme this implements.
    const SCHEME: Scheme;
    /// Secret key material; must wipe itself on drop.
    type Secret: Clone;

    /// Deterministically derive a valid secret from 32 bytes of caller entropy.
    fn secret_from_seed(seed: &[u8; 32]) -> Self::Secret;
    /// Parse a 32-byte secret key.
    fn secret_from_bytes(bytes: &[u8]) -> Result<Self::Secret, CryptoError>;
    /// The 32-byte secret key.
    fn secret_bytes(secret: &Self::Secret) -> Zeroizing<Vec<u8>>;
    /// The encoded public key (`Scheme::public_key_len` bytes).
    fn public_key(secret: &Self::Secret) -> Vec<u8>;
    /// Sign `msg` under the scheme's message convention.
    fn sign(secret: &Self::Secret, msg: &[u8]) -> Vec<u8>;
    /// Verify a signature made by [`SignatureScheme::sign`].
    fn verify(public_key: &[u8], msg: &[u8], signature: &[u8]) -> Result<(), CryptoError>;

    /// Verify many signatures; `Ok` iff all verify. Default: one by one.
    fn verify_batch(items: &[VerifyItem<'_>]) -> Result<(), CryptoError> {
        items
            .iter()
            .try_for_each(|item| Self::verify(item.public_key, item.message, item.signature))
    }

    /// The 20-byte account address of a public key (validated first).
    fn address(public_key: &[u8], suite_hash: HashAlgorithm) -> Result<[u8; 20], CryptoError>;
}

/// Checks that `bytes` has the scheme's public-key length.
pub(crate) fn check_public_key_len(scheme: Scheme, bytes: &[u8]) -> Result<(), CryptoError> {
    let expected = scheme.public_key_len();
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(CryptoError::InvalidPublicKeyLength {
            scheme,
            expected,
            len: bytes.len(),
        })
    }
}

/// The last 20 bytes of a 32-byte digest.
/// A 32-byte secret key, or `InvalidSecretKeyLength` naming the scheme.
pub(crate) fn secret_32(scheme: Scheme, bytes: &[u8]) -> Result<&[u8; 32], CryptoError> {
    bytes
        .try_into()
        .map_err(|_| CryptoError::InvalidSecretKeyLength {
            scheme,
            len: bytes.len(),
        })
}

pub(crate) fn last_20(digest: &[u8; 32]) -> [u8; 20] {
    let mut address = [0u8; 20];
    address.copy_from_slice(&digest[12..]);
    address
}

#[derive(Clone)]
enum Secret {
    Sm2(<sm2::Sm2Scheme as SignatureScheme>::Secret),
    Ed25519(<ed25519::Ed25519Scheme as SignatureScheme>::Secret),
    Secp256k1(<secp256k1::Secp256k1Scheme as SignatureScheme>::Secret),
}

/// A secret key of one scheme, with its public key. `Debug` prints only the scheme and public
/// key; the secret is wiped from memory when the value is dropped.
#[derive(Clone)]
pub struct KeyPair {
    secret: Secret,
}

/// Expands to `$body` with `$s` bound to the implementation type of `$scheme`.
macro_rules! dispatch {
    ($scheme:expr, $s:ident => $body:expr) => {
        match $scheme {
            Scheme::Sm2 => {
                type $s = sm2::Sm2Scheme;
                $body
            }
            Scheme::Ed25519 => {
                type $s = ed25519::Ed25519Scheme;
                $body
            }
            Scheme::Secp256k1 => {
                type $s = secp256k1::Secp256k1Scheme;
                $body
            }
        }
    };
}
pub(crate) use dispatch;

/// Expands to `$body` with `$k` bound to the inner secret and `$s` to its implementation type.
macro_rules! with_secret {
    ($secret:expr, $s:ident, $k:ident => $body:expr) => {
        match $secret {
            Secret::Sm2($k) => {
                type $s = sm2::Sm2Scheme;
                $body
            }
            Secret::Ed25519($k) => {
                type $s = ed25519::Ed25519Scheme;
                $body
            }
            Secret::Secp256k1($k) => {
                type $s = secp256k1::Secp256k1Scheme;
                $body
            }
        }
    };
}

impl KeyPair {
    /// Deterministically derives a key from 32 bytes of caller-supplied entropy.
    ///
    /// SM2 and secp256k1 hash the seed with a counter (`H(domain || seed || counter_be32)`, H =
    /// SM3 for SM2 and SHA-256 for secp256k1) until the output is a scalar in [1, n-1]; Ed25519
    /// uses the seed itself as the RFC 8032 secret key.
    pub fn from_seed(scheme: Scheme, seed: &[u8; 32]) -> KeyPair {
        let secret = match scheme {
            Scheme::Sm2 => Secret::Sm2(sm2::Sm2Scheme::secret_from_seed(seed)),
            Scheme::Ed25519 => Secret::Ed25519(ed25519::Ed25519Scheme::secret_from_seed(seed)),
            Scheme::Secp256k1 => {
                Secret::Secp256k1(secp256k1::Secp256k1Scheme::secret_from_seed(seed))
            }
        };
        KeyPair { secret }
    }

    /// Parses a 32-byte secret key (big-endian scalar for SM2/secp256k1, RFC 8032 seed for
    /// Ed25519).
    pub fn from_secret_bytes(scheme: Scheme, secret: &[u8]) -> Result<KeyPair, CryptoError> {
        let secret = match scheme {
            Scheme::Sm2 => Secret::Sm2(sm2::Sm2Scheme::secret_from_bytes(secret)?),
            Scheme::Ed25519 => Secret::Ed25519(ed25519::Ed25519Scheme::secret_from_bytes(secret)?),
            Scheme::Secp256k1 => {
                Secret::Secp256k1(secp256k1::Secp256k1Scheme::secret_from_bytes(secret)?)
            }
        };
        Ok(KeyPair { secret })
    }

    /// The 32-byte secret key, in a buffer that is wiped on drop.
    pub fn secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        with_secret!(&self.secret, S, k => S::secret_bytes(k))
    }

    /// The key's scheme.
    pub fn scheme(&self) -> Scheme {
        with_secret!(&self.secret, S, _k => S::SCHEME)
    }

    /// The encoded public key (see [`Scheme::public_key_len`]).
    pub fn public_key(&self) -> Vec<u8> {
        with_secret!(&self.secret, S, k => S::public_key(k))
    }

    /// Signs `msg`; see the crate documentation for what exactly is signed per scheme.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        with_secret!(&self.secret, S, k => S::sign(k, msg))
    }

    /// secp256k1 only: signs a 32-byte prehash (e.g. an Ethereum signing hash), returning
    /// `r||s||v` with v in {0, 1} and low s.
    pub fn sign_prehash_recoverable(&self, prehash: &[u8; 32]) -> Result<[u8; 65], CryptoError> {
        match &self.secret {
            Secret::Secp256k1(k) => Ok(secp256k1::sign_prehash(k, prehash)),
            Secret::Sm2(_) | Secret::Ed25519(_) => Err(CryptoError::UnsupportedOperation {
                scheme: self.scheme(),
                operation: "recoverable prehash signing",
            }),
        }
    }

    /// The SM2 secret, for the `sm2` module's extra operations.
    pub(crate) fn sm2_secret(&self) -> Result<&sm2::Sm2Secret, CryptoError> {
        match &self.secret {
            Secret::Sm2(k) => Ok(k),
            Secret::Ed25519(_) | Secret::Secp256k1(_) => Err(CryptoError::UnsupportedOperation {
                scheme: self.scheme(),
                operation: "SM2 operation",
            }),
        }
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("scheme", &self.scheme())
            .field("public_key", &HexBytes(&self.public_key()))
            .field("secret", &"<redacted>")
            .finish()
    }
}

struct HexBytes<'a>(&'a [u8]);

impl fmt::Debug for HexBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}
