//! The manifest: a versioned, bounded borsh encoding of a file's stripes and shard addresses.

use borsh::{BorshDeserialize, BorshSerialize};
use keel_crypto::{Digest, HashAlgorithm, Suite};

use crate::cipher::TAG_LEN_BYTES;
use crate::write::{CHUNK_SIZE_MAX_BYTES, CHUNK_SIZE_MIN_BYTES, FILE_SIZE_MAX_BYTES};
use crate::{FileStoreError, ShardAddress};

/// The manifest format this build writes and reads.
pub const MANIFEST_VERSION: u8 = 1;
/// Largest encoded manifest accepted, checked before decoding.
pub const MANIFEST_MAX_BYTES: usize = 8 * 1024 * 1024;
/// Largest `k + m`.
pub const SHARDS_PER_STRIPE_MAX: usize = 64;

const SUITE_GM: u8 = 0;
const SUITE_INTL: u8 = 1;

/// One stripe: one sealed chunk, cut into `k` data and `m` parity shards.
#[derive(BorshSerialize, BorshDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct Stripe {
    /// Length of the sealed chunk (plaintext + tag) before padding to `k` shards.
    pub ciphertext_len_bytes: u32,
    /// Length of each of the stripe's shards.
    pub shard_len_bytes: u32,
    /// Digests of the `k` data shards, then the `m` parity shards.
    pub shards: Vec<Digest>,
}

/// What a reader needs, besides the data key and the shards, to rebuild a file.
#[derive(BorshSerialize, BorshDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub(crate) version: u8,
    pub(crate) suite: u8,
    /// Data shards per stripe.
    pub k: u8,
    /// Parity shards per stripe.
    pub m: u8,
    /// Plaintext bytes per chunk (the last chunk may be shorter).
    pub chunk_size_bytes: u32,
    /// Length of the whole file.
    pub plaintext_len_bytes: u64,
    /// The suite's hash of the whole plaintext.
    pub plaintext_hash: Digest,
    /// The stripes, in file order.
    pub stripes: Vec<Stripe>,
}

/// Shard length for a sealed chunk of `ct_len` bytes cut in `k`: even, as the coder requires.
pub(crate) fn shard_len(ct_len: usize, k: usize) -> usize {
    let per = ct_len.div_ceil(k);
    per + per % 2
}

impl Manifest {
    pub(crate) fn new(suite: Suite, k: u8, m: u8, chunk: u32, len: u64, hash: Digest) -> Manifest {
        let suite = match suite {
            Suite::Gm => SUITE_GM,
            Suite::Intl => SUITE_INTL,
        };
        let (version, chunk_size_bytes, plaintext_len_bytes) = (MANIFEST_VERSION, chunk, len);
        Manifest {
            version,
            suite,
            k,
            m,
            chunk_size_bytes,
            plaintext_len_bytes,
            plaintext_hash: hash,
            stripes: Vec::new(),
        }
    }

    /// The chain's suite this file was written under.
    pub fn suite(&self) -> Suite {
        if self.suite == SUITE_GM {
            Suite::Gm
        } else {
            Suite::Intl
        }
    }

    /// The address of shard `index` of `stripe`, if both exist.
    pub fn shard_address(&self, stripe: usize, index: usize) -> Option<ShardAddress> {
        let digest = self.stripes.get(stripe)?.shards.get(index)?;
        Some(ShardAddress::from_digest(self.suite().hash(), *digest))
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("writing to a Vec cannot fail")
    }

    /// The manifest's own content address.
    pub fn address(&self) -> ShardAddress {
        ShardAddress::of(self.suite().hash(), &self.encode())
    }

    /// Decodes and checks a manifest; bounded before any allocation.
    pub fn decode(bytes: &[u8]) -> Result<Manifest, FileStoreError> {
        if bytes.len() > MANIFEST_MAX_BYTES {
            return Err(FileStoreError::ManifestTooLarge {
                len_bytes: bytes.len(),
                max_bytes: MANIFEST_MAX_BYTES,
            });
        }
        let version = *bytes.first().ok_or(FileStoreError::ManifestMalformed)?;
        if version != MANIFEST_VERSION {
            return Err(FileStoreError::UnsupportedVersion { version });
        }
        let manifest =
            borsh::from_slice::<Manifest>(bytes).map_err(|_| FileStoreError::ManifestMalformed)?;
        manifest.check()?;
        Ok(manifest)
    }

    /// Checks every count and length against the ones the header implies.
    pub(crate) fn check(&self) -> Result<(), FileStoreError> {
        let bad = |what| Err(FileStoreError::ManifestInconsistent { what });
        if self.suite != SUITE_GM && self.suite != SUITE_INTL {
            return bad("unknown suite");
        }
        check_params(self.k, self.m, self.chunk_size_bytes)?;
        if self.plaintext_len_bytes > FILE_SIZE_MAX_BYTES {
            return bad("file length above the limit");
        }
        let chunk = u64::from(self.chunk_size_bytes);
        if self.stripes.len() as u64 != self.plaintext_len_bytes.div_ceil(chunk) {
            return bad("stripe count does not match the file length");
        }
        for (i, stripe) in self.stripes.iter().enumerate() {
            let pt_len = (self.plaintext_len_bytes - i as u64 * chunk).min(chunk) as usize;
            let ct_len = pt_len + TAG_LEN_BYTES;
            if stripe.ciphertext_len_bytes as usize != ct_len
                || stripe.shard_len_bytes as usize != shard_len(ct_len, self.k.into())
            {
                return bad("stripe lengths do not match the file length");
            }
            if stripe.shards.len() != usize::from(self.k) + usize::from(self.m) {
                return bad("stripe shard count is not k + m");
            }
        }
        Ok(())
    }

    pub(crate) fn hash(&self) -> HashAlgorithm {
        self.suite().hash()
    }
}

/// Checks `k`, `m` and the chunk size against their bounds.
pub(crate) fn check_params(k: u8, m: u8, chunk_size_bytes: u32) -> Result<(), FileStoreError> {
    let total = usize::from(k) + usize::from(m);
    let chunk_ok = (CHUNK_SIZE_MIN_BYTES..=CHUNK_SIZE_MAX_BYTES).contains(&chunk_size_bytes);
    if k == 0 || m == 0 || total > SHARDS_PER_STRIPE_MAX || !chunk_ok {
        return Err(FileStoreError::InvalidParams {
            k,
            m,
            chunk_size_bytes,
        });
    }
    Ok(())
}
