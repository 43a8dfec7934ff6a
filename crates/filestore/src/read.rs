//! Read path: check shards against their addresses, decode, open, check the plaintext hash.

use std::collections::HashMap;

use crate::cipher::{DataKey, open_chunk};
use crate::{FileStoreError, Manifest, ShardSource};

/// Rebuilds a file from its manifest, its key and a shard source.
///
/// `source` is a closure returning the bytes it has for an address (or `None`), or a
/// [`crate::ShardStore`] (see [`ShardSource`]). Every returned shard is checked against its
/// address (and length) before use; a shard that fails, or that the source reports corrupt, is
/// skipped as if missing, never decoded. Each stripe needs `k` good shards.
pub fn decode_file(
    manifest: &Manifest,
    key: &DataKey,
    mut source: impl ShardSource,
) -> Result<Vec<u8>, FileStoreError> {
    manifest.check()?;
    let count = manifest.stripes.len() as u64;
    let capacity =
        usize::try_from(manifest.plaintext_len_bytes).expect("bounded by FILE_SIZE_MAX_BYTES");
    let mut out = Vec::with_capacity(capacity);
    for i in 0..manifest.stripes.len() {
        let ct = stripe_ciphertext(manifest, i, &mut source)?;
        out.extend(open_chunk(manifest.suite(), key, i as u64, count, &ct)?);
    }
    if manifest.hash().digest(&out) != manifest.plaintext_hash {
        return Err(FileStoreError::PlaintextHashMismatch);
    }
    Ok(out)
}

/// Collects `k` verified shards of stripe `i` and returns its sealed chunk.
fn stripe_ciphertext(
    manifest: &Manifest,
    i: usize,
    source: &mut impl ShardSource,
) -> Result<Vec<u8>, FileStoreError> {
    let stripe = &manifest.stripes[i];
    let (k, len) = (usize::from(manifest.k), stripe.shard_len_bytes as usize);
    let (mut good, mut corrupt) = (HashMap::new(), 0);
    for index in 0..stripe.shards.len() {
        if good.len() == k {
            break;
        }
        let address = manifest
            .shard_address(i, index)
            .expect("index within the stripe");
        match source.fetch(&address) {
            Ok(Some(bytes)) if bytes.len() == len && address.matches(&bytes) => {
                good.insert(index, bytes);
            }
            Ok(Some(_)) | Err(FileStoreError::ShardCorrupt { .. }) => corrupt += 1,
            Ok(None) => {}
            Err(e) => return Err(e),
        }
    }
    if good.len() < k {
        let (stripe, valid) = (i as u64, good.len());
        return Err(FileStoreError::NotEnoughShards {
            stripe,
            valid,
            corrupt,
            needed: k,
        });
    }
    let data = recover_data(manifest, len, good)?;
    let mut ct: Vec<u8> = data.concat();
    ct.truncate(stripe.ciphertext_len_bytes as usize);
    Ok(ct)
}

/// The `k` data shards in order, decoding missing ones from parity.
fn recover_data(
    manifest: &Manifest,
    len: usize,
    mut good: HashMap<usize, Vec<u8>>,
) -> Result<Vec<Vec<u8>>, FileStoreError> {
    let k = usize::from(manifest.k);
    if (0..k).all(|i| good.contains_key(&i)) {
        return Ok((0..k)
            .map(|i| good.remove(&i).unwrap_or_default())
            .collect());
    }
    let original: Vec<(usize, &Vec<u8>)> = good
        .iter()
        .filter(|(i, _)| **i < k)
        .map(|(i, s)| (*i, s))
        .collect();
    let recovery: Vec<(usize, &Vec<u8>)> = good
        .iter()
        .filter(|(i, _)| **i >= k)
        .map(|(i, s)| (*i - k, s))
        .collect();
    let mut restored = reed_solomon_simd::decode(k, manifest.m.into(), original, recovery)?;
    let data = (0..k)
        .map(|i| {
            good.remove(&i)
                .or_else(|| restored.remove(&i))
                .unwrap_or_else(|| vec![0; len])
        })
        .collect();
    Ok(data)
}
