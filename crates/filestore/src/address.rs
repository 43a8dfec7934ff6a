//! Content addresses: a multihash of a shard's (or manifest's) bytes.

use keel_crypto::{Digest, HashAlgorithm};

/// Multicodec code of SHA-256 (`sha2-256`).
const MULTIHASH_SHA256: u16 = 0x12;
/// Multicodec code of SM3 (`sm3-256`, a draft entry in the multicodec table).
const MULTIHASH_SM3: u16 = 0x534d;
/// Digest length in bytes, the multihash length field.
const DIGEST_LEN_BYTES: u8 = 32;

/// The address of a blob: the suite's hash of its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShardAddress {
    hash: HashAlgorithm,
    digest: Digest,
}

impl ShardAddress {
    /// Addresses `bytes` with `hash`.
    pub fn of(hash: HashAlgorithm, bytes: &[u8]) -> ShardAddress {
        ShardAddress {
            hash,
            digest: hash.digest(bytes),
        }
    }

    /// An address from a digest already computed with `hash`.
    pub fn from_digest(hash: HashAlgorithm, digest: Digest) -> ShardAddress {
        ShardAddress { hash, digest }
    }

    /// The raw digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// True when `bytes` hash to this address.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        self.hash.digest(bytes) == self.digest
    }

    /// The multihash bytes: unsigned-varint code, length, digest.
    pub fn to_multihash(&self) -> Vec<u8> {
        let code = match self.hash {
            HashAlgorithm::Sm3 => MULTIHASH_SM3,
            // Only the suites' hashes address shards; Keccak never does (see `Params`).
            HashAlgorithm::Sha256 | HashAlgorithm::Keccak256 => MULTIHASH_SHA256,
        };
        let mut out = Vec::with_capacity(4 + self.digest.len());
        push_varint(&mut out, code);
        out.push(DIGEST_LEN_BYTES);
        out.extend_from_slice(&self.digest);
        out
    }
}

fn push_varint(out: &mut Vec<u8>, mut v: u16) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multihash_prefixes() {
        let a = ShardAddress::of(HashAlgorithm::Sha256, b"");
        assert_eq!(&a.to_multihash()[..2], &[0x12, 0x20]);
        let b = ShardAddress::of(HashAlgorithm::Sm3, b"");
        assert_eq!(&b.to_multihash()[..4], &[0xcd, 0xa6, 0x01, 0x20]);
    }
}
