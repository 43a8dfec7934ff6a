//! Write/read round trips, shard loss, corruption, manifests, placement and key wrapping.

use std::collections::HashMap;

use keel_crypto::{HashAlgorithm, KeyPair, Scheme, Suite};
use keel_filestore::{
    DataKey, EncodedFile, FileStoreError, Manifest, Params, ShardAddress, decode_file, encode_file,
    encode_file_with_key, place_stripe, unwrap_key_sm2, wrap_key_sm2,
};
use proptest::prelude::*;

const CHUNK_BYTES: u32 = 1024;

fn params(suite: Suite, k: u8, m: u8) -> Params {
    Params {
        suite,
        k,
        m,
        chunk_size_bytes: CHUNK_BYTES,
    }
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 7) as u8).collect()
}

fn store(file: &EncodedFile) -> HashMap<ShardAddress, Vec<u8>> {
    file.shards.iter().cloned().collect()
}

fn read(
    file: &EncodedFile,
    shards: &HashMap<ShardAddress, Vec<u8>>,
) -> Result<Vec<u8>, FileStoreError> {
    decode_file(&file.manifest, &file.key, |a: &ShardAddress| {
        shards.get(a).cloned()
    })
}

#[test]
fn round_trips_over_sizes_on_both_suites() {
    let sizes = [
        0,
        1,
        CHUNK_BYTES as usize - 16,
        CHUNK_BYTES as usize,
        7 * CHUNK_BYTES as usize + 3,
    ];
    for suite in [Suite::Gm, Suite::Intl] {
        for len in sizes {
            let file = encode_file(&params(suite, 3, 2), &data(len)).expect("encodes");
            assert_eq!(
                file.manifest.stripes.len(),
                len.div_ceil(CHUNK_BYTES as usize)
            );
            assert_eq!(
                read(&file, &store(&file)).expect("decodes"),
                data(len),
                "{suite:?} {len}"
            );
        }
    }
}

#[test]
fn survives_the_loss_of_m_shards_per_stripe_but_not_more() {
    let file =
        encode_file(&params(Suite::Gm, 2, 2), &data(5 * CHUNK_BYTES as usize)).expect("encodes");
    for drop in [[0, 1], [0, 3], [2, 3], [1, 2]] {
        let mut shards = store(&file);
        for stripe in 0..file.manifest.stripes.len() {
            for i in drop {
                shards.remove(&file.manifest.shard_address(stripe, i).expect("exists"));
            }
        }
        assert_eq!(
            read(&file, &shards).expect("decodes"),
            data(5 * CHUNK_BYTES as usize)
        );
    }
    let mut shards = store(&file);
    for i in 0..3 {
        shards.remove(&file.manifest.shard_address(1, i).expect("exists"));
    }
    let err = read(&file, &shards).expect_err("three of four lost");
    assert!(matches!(
        err,
        FileStoreError::NotEnoughShards {
            stripe: 1,
            valid: 1,
            corrupt: 0,
            needed: 2
        }
    ));
}

#[test]
fn corrupted_shards_are_skipped_not_decoded() {
    let file =
        encode_file(&params(Suite::Intl, 2, 2), &data(3 * CHUNK_BYTES as usize)).expect("encodes");
    let mut shards = store(&file);
    for i in [0, 2] {
        let a = file.manifest.shard_address(0, i).expect("exists");
        shards.get_mut(&a).expect("stored")[5] ^= 1;
    }
    assert_eq!(
        read(&file, &shards).expect("two good shards remain"),
        data(3 * CHUNK_BYTES as usize)
    );
    let a = file.manifest.shard_address(0, 1).expect("exists");
    shards.get_mut(&a).expect("stored").push(0);
    let err = read(&file, &shards).expect_err("three corrupt");
    assert!(matches!(
        err,
        FileStoreError::NotEnoughShards {
            stripe: 0,
            valid: 1,
            corrupt: 3,
            needed: 2
        }
    ));
}

#[test]
fn wrong_key_and_tampered_hash_fail() {
    let file = encode_file(&params(Suite::Gm, 2, 1), &data(2000)).expect("encodes");
    let wrong = DataKey::from_bytes([9; 32]);
    let err = decode_file(&file.manifest, &wrong, |a: &ShardAddress| {
        store(&file).get(a).cloned()
    })
    .expect_err("wrong key");
    assert!(matches!(err, FileStoreError::DecryptFailed { stripe: 0 }));
    let mut manifest = file.manifest.clone();
    manifest.plaintext_hash[0] ^= 1;
    let err = decode_file(&manifest, &file.key, |a: &ShardAddress| {
        store(&file).get(a).cloned()
    })
    .expect_err("hash");
    assert!(matches!(err, FileStoreError::PlaintextHashMismatch));
}

#[test]
fn same_key_same_shards_and_fresh_keys_differ() {
    let p = params(Suite::Intl, 2, 1);
    let a = encode_file_with_key(&p, DataKey::from_bytes([1; 32]), &data(3000)).expect("encodes");
    let b = encode_file_with_key(&p, DataKey::from_bytes([1; 32]), &data(3000)).expect("encodes");
    assert_eq!(a.manifest, b.manifest);
    let c = encode_file(&p, &data(3000)).expect("encodes");
    assert_ne!(a.manifest.stripes, c.manifest.stripes);
}

#[test]
fn manifest_encoding_round_trips_and_rejects_bad_input() {
    let file = encode_file(&params(Suite::Gm, 4, 2), &data(4500)).expect("encodes");
    let bytes = file.manifest.encode();
    assert_eq!(Manifest::decode(&bytes).expect("decodes"), file.manifest);
    assert_eq!(
        file.manifest.address(),
        ShardAddress::of(HashAlgorithm::Sm3, &bytes)
    );
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        Manifest::decode(&trailing),
        Err(FileStoreError::ManifestMalformed)
    ));
    assert!(matches!(
        Manifest::decode(&bytes[..bytes.len() - 1]),
        Err(FileStoreError::ManifestMalformed)
    ));
    let mut version = bytes.clone();
    version[0] = 2;
    assert!(matches!(
        Manifest::decode(&version),
        Err(FileStoreError::UnsupportedVersion { version: 2 })
    ));
    let mut lying = file.manifest.clone();
    lying.plaintext_len_bytes += CHUNK_BYTES as u64;
    assert!(matches!(
        Manifest::decode(&lying.encode()),
        Err(FileStoreError::ManifestInconsistent { .. })
    ));
    assert!(matches!(
        Manifest::decode(&[]),
        Err(FileStoreError::ManifestMalformed)
    ));
}

#[test]
fn bad_parameters_are_refused() {
    for (k, m, chunk) in [
        (0, 1, CHUNK_BYTES),
        (2, 0, CHUNK_BYTES),
        (40, 40, CHUNK_BYTES),
        (2, 1, 8),
    ] {
        let p = Params {
            suite: Suite::Gm,
            k,
            m,
            chunk_size_bytes: chunk,
        };
        assert!(matches!(
            encode_file(&p, b"x"),
            Err(FileStoreError::InvalidParams { .. })
        ));
    }
}

fn members(n: u8) -> Vec<Vec<u8>> {
    (0..n).map(|i| vec![b'n', i]).collect()
}

#[test]
fn placement_is_distinct_deterministic_and_stable() {
    let file =
        encode_file(&params(Suite::Intl, 3, 2), &data(20 * CHUNK_BYTES as usize)).expect("encodes");
    let all = members(12);
    for s in 0..file.manifest.stripes.len() {
        let shards: Vec<ShardAddress> = (0..5)
            .map(|i| file.manifest.shard_address(s, i).expect("exists"))
            .collect();
        let placed = place_stripe(HashAlgorithm::Sha256, &shards, &all).expect("enough members");
        let mut distinct = placed.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 5);
        assert_eq!(
            placed,
            place_stripe(HashAlgorithm::Sha256, &shards, &all).expect("same")
        );
        // An unrelated member leaves: nobody moves.
        let gone = (0..all.len())
            .find(|n| !placed.contains(n))
            .expect("12 > 5");
        let rest: Vec<Vec<u8>> = all
            .iter()
            .enumerate()
            .filter(|(n, _)| *n != gone)
            .map(|(_, m)| m.clone())
            .collect();
        let again = place_stripe(HashAlgorithm::Sha256, &shards, &rest).expect("enough");
        let ids =
            |p: &[usize], ms: &[Vec<u8>]| p.iter().map(|&n| ms[n].clone()).collect::<Vec<_>>();
        assert_eq!(ids(&placed, &all), ids(&again, &rest));
    }
    let shards: Vec<ShardAddress> = (0..5)
        .map(|i| file.manifest.shard_address(0, i).expect("exists"))
        .collect();
    let err = place_stripe(HashAlgorithm::Sha256, &shards, &members(4)).expect_err("4 < 5");
    assert!(matches!(
        err,
        FileStoreError::NotEnoughMembers {
            members: 4,
            shards: 5
        }
    ));
}

#[test]
fn sm2_key_wrap_round_trips_and_refuses_the_wrong_key() {
    let grantee = KeyPair::from_seed(Scheme::Sm2, &[7; 32]);
    let other = KeyPair::from_seed(Scheme::Sm2, &[8; 32]);
    let key = DataKey::random().expect("entropy");
    let wrapped = wrap_key_sm2(&grantee.public_key(), &key).expect("wraps");
    assert_eq!(unwrap_key_sm2(&grantee, &wrapped).expect("unwraps"), key);
    assert!(matches!(
        unwrap_key_sm2(&other, &wrapped),
        Err(FileStoreError::UnwrapFailed)
    ));
    assert!(matches!(
        wrap_key_sm2(b"not a key", &key),
        Err(FileStoreError::WrapFailed(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    // k >= 2: with k = 1 every parity shard equals the data shard, so they share one address.
    fn any_k_shards_rebuild_any_file(
        len in 0usize..5000, k in 2u8..5, m in 1u8..4, gm in any::<bool>(), seed in any::<u64>(),
    ) {
        let suite = if gm { Suite::Gm } else { Suite::Intl };
        let body: Vec<u8> = (0..len).map(|i| (seed.wrapping_mul(i as u64 + 1) >> 13) as u8).collect();
        let file = encode_file(&params(suite, k, m), &body).expect("encodes");
        let mut shards = store(&file);
        for s in 0..file.manifest.stripes.len() {
            for j in 0..usize::from(m) {
                let i = (seed as usize + s + j * 7) % (usize::from(k) + usize::from(m));
                shards.remove(&file.manifest.shard_address(s, i).expect("exists"));
            }
        }
        prop_assert_eq!(read(&file, &shards).expect("decodes"), body);
        let bytes = file.manifest.encode();
        prop_assert_eq!(Manifest::decode(&bytes).expect("decodes"), file.manifest);
    }
}
