//! Signature schemes and crypto suites.

use std::fmt;
use std::str::FromStr;

use crate::{CryptoError, HashAlgorithm};

/// A signature scheme. The discriminant is the scheme's wire byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Scheme {
    /// SM2 (GB/T 32918) on sm2p256v1 with the Z_A user digest.
    Sm2 = 1,
    /// Ed25519 (RFC 8032, pure).
    Ed25519 = 2,
    /// Recoverable ECDSA on secp256k1 over Keccak-256, Ethereum style.
    Secp256k1 = 3,
}

impl Scheme {
    /// Every scheme, in wire-byte order.
    pub const ALL: [Scheme; 3] = [Scheme::Sm2, Scheme::Ed25519, Scheme::Secp256k1];

    /// Lower-case name: `sm2`, `ed25519` or `secp256k1`.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Sm2 => "sm2",
            Scheme::Ed25519 => "ed25519",
            Scheme::Secp256k1 => "secp256k1",
        }
    }

    /// The scheme with wire byte `v`.
    pub fn from_u8(v: u8) -> Option<Scheme> {
        match v {
            1 => Some(Scheme::Sm2),
            2 => Some(Scheme::Ed25519),
            3 => Some(Scheme::Secp256k1),
            _ => None,
        }
    }

    /// Length of an encoded public key: SEC1 compressed (33) for the two Weierstrass curves, 32
    /// for Ed25519.
    pub fn public_key_len(self) -> usize {
        match self {
            Scheme::Sm2 | Scheme::Secp256k1 => 33,
            Scheme::Ed25519 => 32,
        }
    }

    /// Length of an encoded signature: SM2 `r||s` (64), Ed25519 `R||S` (64), secp256k1
    /// `r||s||v` (65).
    pub fn signature_len(self) -> usize {
        match self {
            Scheme::Sm2 | Scheme::Ed25519 => 64,
            Scheme::Secp256k1 => 65,
        }
    }
}

impl FromStr for Scheme {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scheme::ALL
            .into_iter()
            .find(|scheme| scheme.name() == s)
            .ok_or_else(|| CryptoError::UnknownScheme { name: s.to_owned() })
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The chain-wide crypto suite fixed at genesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Suite {
    /// Chinese national standards: SM2, SM3, SM4.
    Gm,
    /// International: Ed25519, SHA-256, AES-GCM.
    Intl,
}

impl Suite {
    /// The suite's hash: SM3 for `gm`, SHA-256 for `intl`.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Suite::Gm => HashAlgorithm::Sm3,
            Suite::Intl => HashAlgorithm::Sha256,
        }
    }

    /// The suite's own signature scheme: SM2 for `gm`, Ed25519 for `intl`.
    pub fn signature_scheme(self) -> Scheme {
        match self {
            Suite::Gm => Scheme::Sm2,
            Suite::Intl => Scheme::Ed25519,
        }
    }

    /// Whether transactions signed with `scheme` are accepted: the suite's own scheme, and
    /// secp256k1 always (Ethereum-format transactions).
    pub fn allows(self, scheme: Scheme) -> bool {
        scheme == self.signature_scheme() || scheme == Scheme::Secp256k1
    }

    /// Lower-case name: `gm` or `intl`.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Gm => "gm",
            Suite::Intl => "intl",
        }
    }
}

impl FromStr for Suite {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "gm" => Ok(Suite::Gm),
            "intl" => Ok(Suite::Intl),
            _ => Err(CryptoError::UnknownSuite { name: s.to_owned() }),
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
