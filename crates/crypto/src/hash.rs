//! The three 256-bit hash functions Keel uses.

use std::fmt;
use std::str::FromStr;

use crate::CryptoError;

/// A 32-byte hash output.
pub type Digest = [u8; 32];

/// A 256-bit hash function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgorithm {
    /// SM3 (GB/T 32905), the `gm` suite's hash.
    Sm3,
    /// SHA-256 (FIPS 180-4), the `intl` suite's hash.
    Sha256,
    /// Keccak-256 as used by Ethereum (original Keccak padding, not SHA3-256).
    Keccak256,
}

impl HashAlgorithm {
    /// Hash `data`.
    pub fn digest(self, data: &[u8]) -> Digest {
        self.digest_parts(&[data])
    }

    /// Hash the concatenation of `parts` without building it.
    pub fn digest_parts(self, parts: &[&[u8]]) -> Digest {
        match self {
            HashAlgorithm::Sm3 => hash_parts::<sm3::Sm3>(parts),
            HashAlgorithm::Sha256 => hash_parts::<sha2::Sha256>(parts),
            HashAlgorithm::Keccak256 => hash_parts::<sha3::Keccak256>(parts),
        }
    }

    /// Lower-case name: `sm3`, `sha256` or `keccak256`.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sm3 => "sm3",
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Keccak256 => "keccak256",
        }
    }
}

fn hash_parts<D: sha2::Digest>(parts: &[&[u8]]) -> Digest {
    let mut hasher = D::new();
    for part in parts {
        hasher.update(part);
    }
    let output = hasher.finalize();
    let mut digest = [0u8; 32];
    digest.copy_from_slice(&output);
    digest
}

impl FromStr for HashAlgorithm {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sm3" => Ok(HashAlgorithm::Sm3),
            "sha256" => Ok(HashAlgorithm::Sha256),
            "keccak256" => Ok(HashAlgorithm::Keccak256),
            _ => Err(CryptoError::UnknownHashAlgorithm { name: s.to_owned() }),
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Derives a 32-byte candidate stream `H(domain || seed || counter_be32)` for counter = 0, 1, ...
/// and returns the first value `accept` takes. Used to map caller entropy to a scalar in [1, n-1]
/// by rejection (no modular bias).
pub(crate) fn derive_until<T>(
    hash: HashAlgorithm,
    domain: &[u8],
    seed: &[u8; 32],
    mut accept: impl FnMut(&Digest) -> Option<T>,
) -> T {
    // Each candidate is rejected with probability < 2^-32 for the curves used here, so the
    // bound is never reached in practice.
    (0..=u32::MAX)
        .find_map(|counter| {
            let candidate =
                zeroize::Zeroizing::new(hash.digest_parts(&[domain, seed, &counter.to_be_bytes()]));
            accept(&candidate)
        })
        .expect("2^32 independent hash outputs cannot all be rejected")
}
