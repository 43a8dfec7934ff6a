//! Content addresses: a multihash of a shard's (or manifest's) bytes.

use std::fmt;

use keel_crypto::{Digest, HashAlgorithm};

use crate::FileStoreError;

/// Multicodec code of SHA-256 (`sha2-256`).
const MULTIHASH_SHA256: u16 = 0x12;
/// Multicodec code of SM3 (`sm3-256`, a draft entry in the multicodec table).
const MULTIHASH_SM3: u16 = 0x534d;
/// Digest length in bytes, the multihash length field.
const DIGEST_LEN_BYTES: u8 = 32;
/// The SHA-256 multihash prefix: varint code, length.
const PREFIX_SHA256: [u8; 2] = [0x12, DIGEST_LEN_BYTES];
/// The SM3 multihash prefix: varint code (3 bytes), length.
const PREFIX_SM3: [u8; 4] = [0xcd, 0xa6, 0x01, DIGEST_LEN_BYTES];
/// Longest multihash this crate reads or writes (SM3's), in bytes.
pub const MULTIHASH_MAX_BYTES: usize = PREFIX_SM3.len() + DIGEST_LEN_BYTES as usize;

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

    /// The hash function that produced the digest.
    pub fn hash(&self) -> HashAlgorithm {
        self.hash
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

impl ShardAddress {
    /// Parses a multihash: SHA-256 or SM3 with a 32-byte digest, nothing else, no trailing bytes.
    pub fn from_multihash(bytes: &[u8]) -> Result<ShardAddress, FileStoreError> {
        let (hash, digest) = if let Some(rest) = bytes.strip_prefix(&PREFIX_SHA256) {
            (HashAlgorithm::Sha256, rest)
        } else if let Some(rest) = bytes.strip_prefix(&PREFIX_SM3) {
            (HashAlgorithm::Sm3, rest)
        } else {
            return Err(FileStoreError::AddressMalformed {
                what: "not a SHA-256 or SM3 multihash of 32 bytes",
            });
        };
        let digest: Digest = digest
            .try_into()
            .map_err(|_| FileStoreError::AddressMalformed {
                what: "digest is not 32 bytes",
            })?;
        Ok(ShardAddress { hash, digest })
    }

    /// The multihash in lower-case hex (the store's file names).
    pub fn to_hex(&self) -> String {
        let mut out = String::with_capacity(2 * MULTIHASH_MAX_BYTES);
        for b in self.to_multihash() {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        out
    }

    /// Parses [`ShardAddress::to_hex`]'s form (lower-case only, so each address has one name).
    pub fn from_hex(text: &str) -> Result<ShardAddress, FileStoreError> {
        let malformed = |what| FileStoreError::AddressMalformed { what };
        if text.len() > 2 * MULTIHASH_MAX_BYTES || !text.len().is_multiple_of(2) {
            return Err(malformed("hex text of the wrong length"));
        }
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            _ => Err(malformed("not lower-case hex")),
        };
        let bytes = text
            .as_bytes()
            .chunks_exact(2)
            .map(|p| Ok(nibble(p[0])? << 4 | nibble(p[1])?))
            .collect::<Result<Vec<u8>, FileStoreError>>()?;
        ShardAddress::from_multihash(&bytes)
    }
}

impl fmt::Display for ShardAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

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

    #[test]
    fn hex_and_multihash_round_trip_and_reject_bad_input() {
        for hash in [HashAlgorithm::Sha256, HashAlgorithm::Sm3] {
            let a = ShardAddress::of(hash, b"shard");
            assert_eq!(
                ShardAddress::from_multihash(&a.to_multihash()).expect("mh"),
                a
            );
            assert_eq!(ShardAddress::from_hex(&a.to_hex()).expect("hex"), a);
            let mut long = a.to_multihash();
            long.push(0);
            assert!(ShardAddress::from_multihash(&long).is_err());
            assert!(ShardAddress::from_hex(&a.to_hex().to_uppercase()).is_err());
        }
        let keccak = ShardAddress::of(HashAlgorithm::Keccak256, b"x").to_multihash();
        // Keccak addresses print as SHA-256 ones; the store refuses them before this matters.
        assert_eq!(keccak[0], 0x12);
        for bad in ["", "12", "1220zz", "0020"] {
            assert!(matches!(
                ShardAddress::from_hex(bad),
                Err(FileStoreError::AddressMalformed { .. })
            ));
        }
        assert!(ShardAddress::from_hex(&"1".repeat(200)).is_err());
    }
}
