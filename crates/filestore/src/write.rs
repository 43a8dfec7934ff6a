//! Write path: chunk, seal, erasure-code, address, and build the manifest.

use keel_crypto::Suite;

use crate::cipher::{DataKey, seal_chunk};
use crate::manifest::{MANIFEST_MAX_BYTES, Manifest, Stripe, check_params, shard_len};
use crate::{FileStoreError, ShardAddress};

/// Default plaintext bytes per chunk (one stripe per chunk).
pub const CHUNK_SIZE_DEFAULT_BYTES: u32 = 256 * 1024;
/// Smallest chunk accepted (small chunks make large manifests).
pub const CHUNK_SIZE_MIN_BYTES: u32 = 64;
/// Largest chunk accepted: bounds the memory one stripe needs.
pub const CHUNK_SIZE_MAX_BYTES: u32 = 16 * 1024 * 1024;
/// Largest file this in-memory core encodes.
pub const FILE_SIZE_MAX_BYTES: u64 = 1024 * 1024 * 1024;

/// Encoding parameters; `k` and `m` will be chain parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// The chain's suite: picks the cipher and the hash.
    pub suite: Suite,
    /// Data shards per stripe.
    pub k: u8,
    /// Parity shards per stripe: up to `m` may be lost.
    pub m: u8,
    /// Plaintext bytes per chunk.
    pub chunk_size_bytes: u32,
}

/// A file ready to be stored: its manifest, its shards and the key that opens it.
#[derive(Debug)]
pub struct EncodedFile {
    /// The manifest.
    pub manifest: Manifest,
    /// The data key (to be wrapped for grantees, never stored in clear).
    pub key: DataKey,
    /// Every shard with its address, stripe by stripe, data shards first.
    pub shards: Vec<(ShardAddress, Vec<u8>)>,
}

/// Encodes `data` under a fresh random data key.
pub fn encode_file(params: &Params, data: &[u8]) -> Result<EncodedFile, FileStoreError> {
    encode_file_with_key(params, DataKey::random()?, data)
}

/// Encodes `data` under `key`, which must be fresh for this file (nonces restart at 0).
pub fn encode_file_with_key(
    params: &Params,
    key: DataKey,
    data: &[u8],
) -> Result<EncodedFile, FileStoreError> {
    check_params(params.k, params.m, params.chunk_size_bytes)?;
    let len_bytes = data.len() as u64;
    if len_bytes > FILE_SIZE_MAX_BYTES {
        return Err(FileStoreError::FileTooLarge {
            len_bytes,
            max_bytes: FILE_SIZE_MAX_BYTES,
        });
    }
    let chunk = params.chunk_size_bytes as usize;
    let count = data.len().div_ceil(chunk);
    let digest_bytes = 32 * (usize::from(params.k) + usize::from(params.m));
    let manifest_estimate_bytes = count.saturating_mul(digest_bytes + 12) + 64;
    if manifest_estimate_bytes > MANIFEST_MAX_BYTES {
        let max_bytes = MANIFEST_MAX_BYTES;
        return Err(FileStoreError::ManifestTooLarge {
            len_bytes: manifest_estimate_bytes,
            max_bytes,
        });
    }
    let hash = params.suite.hash();
    let mut manifest = Manifest::new(
        params.suite,
        params.k,
        params.m,
        params.chunk_size_bytes,
        len_bytes,
        hash.digest(data),
    );
    let mut shards = Vec::with_capacity(count * (usize::from(params.k) + usize::from(params.m)));
    for (i, pt) in data.chunks(chunk).enumerate() {
        let ct = seal_chunk(params.suite, &key, i as u64, count as u64, pt);
        let (stripe, stripe_shards) = code_stripe(params, &ct)?;
        manifest.stripes.push(stripe);
        shards.extend(
            stripe_shards
                .into_iter()
                .map(|s| (ShardAddress::of(hash, &s), s)),
        );
    }
    Ok(EncodedFile {
        manifest,
        key,
        shards,
    })
}

/// Cuts one sealed chunk into `k` padded data shards and computes `m` parity shards.
fn code_stripe(params: &Params, ct: &[u8]) -> Result<(Stripe, Vec<Vec<u8>>), FileStoreError> {
    let k = usize::from(params.k);
    let len = shard_len(ct.len(), k);
    let mut data: Vec<Vec<u8>> = (0..k)
        .map(|i| {
            ct.get(i * len..ct.len().min((i + 1) * len))
                .unwrap_or_default()
                .to_vec()
        })
        .collect();
    for shard in &mut data {
        shard.resize(len, 0);
    }
    let parity = reed_solomon_simd::encode(k, params.m.into(), &data)?;
    data.extend(parity);
    let hash = params.suite.hash();
    let stripe = Stripe {
        ciphertext_len_bytes: u32::try_from(ct.len())
            .expect("chunk bounded by CHUNK_SIZE_MAX_BYTES"),
        shard_len_bytes: u32::try_from(len).expect("shard no longer than its chunk"),
        shards: data.iter().map(|s| hash.digest(s)).collect(),
    };
    Ok((stripe, data))
}
