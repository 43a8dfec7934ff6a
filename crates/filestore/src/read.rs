//! Read path: check shards against their addresses, decode, open, check the plaintext hash.

use std::collections::HashMap;

use crate::cipher::{DataKey, open_chunk};
use crate::{FileStoreError, Manifest, ShardAddress};

/// Rebuilds a file from its manifest, its key and a shard source.
///
/// `fetch` returns the bytes it has for an address, or `None`. Every returned shard is checked
/// against its address (and length) before use; a shard that fails is skipped as if missing,
/// never decoded. Each stripe needs `k` good shards.
pub fn decode_file(
    manifest: &Manifest,
    key: &DataKey,
    mut fetch: impl FnMut(&ShardAddress) -> Option<Vec<u8>>,
) -> Result<Vec<u8>, FileStoreError> {
    manifest.check()?;
    let count = manifest.stripes.len() as u64;
    let capacity =
        usize::try_from(manifest.plaintext_len_bytes).expect("bounded by FILE_SIZE_MAX_BYTES");
    let mut out = Vec::with_capacity(capacity);
    for i in 0..manifest.stripes.len() {
        let ct = stripe_ciphertext(manifest, i, &mut fetch)?;
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
    fetch: &mut impl FnMut(&ShardAddress) -> Option<Vec<u8>>,
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
        match fetch(&address) {
            Some(bytes) if bytes.len() == len && address.matches(&bytes) => {
                good.insert(index, bytes);
            }
            Some(_) => corrupt += 1,
            None => {}
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
