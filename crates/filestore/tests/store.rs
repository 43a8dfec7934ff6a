//! The local shard store: round trips, crash leftovers, corruption, quotas, bad input, and
//! decoding a file straight from a store.

use std::fs;
use std::path::{Path, PathBuf};

use keel_crypto::{HashAlgorithm, Suite};
use keel_filestore::{
    EncodedFile, FileStoreError, OwnerId, Params, PutOutcome, Quota, SHARD_SIZE_MAX_BYTES,
    ShardAddress, ShardStore, StoreConfig, Usage, decode_file, encode_file,
};

const ALICE: OwnerId = OwnerId([0xa1; 20]);
const BOB: OwnerId = OwnerId([0xb0; 20]);
const ROOMY: Quota = Quota {
    bytes_max: 1 << 30,
    shards_max: 1 << 20,
};

fn config() -> StoreConfig {
    StoreConfig::new(ROOMY)
}

fn open(root: &Path) -> ShardStore {
    ShardStore::open(root, config()).expect("store opens")
}

fn file(suite: Suite, k: u8, m: u8, len: usize) -> EncodedFile {
    let params = Params {
        suite,
        k,
        m,
        chunk_size_bytes: 1024,
    };
    let data: Vec<u8> = (0..len).map(|i| (i * 13 + i / 5) as u8).collect();
    encode_file(&params, &data).expect("encodes")
}

/// The documented layout: `shards/<aa>/<bb>/<multihash hex>`.
fn shard_file(root: &Path, address: &ShardAddress) -> PathBuf {
    let d = address.digest();
    root.join("shards")
        .join(format!("{:02x}", d[0]))
        .join(format!("{:02x}", d[1]))
        .join(address.to_hex())
}

fn put_all(store: &mut ShardStore, owner: OwnerId, file: &EncodedFile) {
    for (address, bytes) in &file.shards {
        store.put(owner, address, bytes).expect("put");
    }
}

fn temp_entries(root: &Path) -> usize {
    fs::read_dir(root.join("tmp")).expect("tmp").count()
}

#[test]
fn shards_round_trip_through_the_store_and_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    for suite in [Suite::Gm, Suite::Intl] {
        let f = file(suite, 2, 2, 3000);
        let mut store = open(dir.path());
        put_all(&mut store, ALICE, &f);
        let bytes: u64 = f.shards.iter().map(|(_, b)| b.len() as u64).sum();
        let usage = store.usage(&ALICE);
        drop(store);
        let store = open(dir.path());
        assert_eq!(store.usage(&ALICE), usage, "recomputed on open");
        assert_eq!(store.open_report().unreadable_shards, 0);
        for (address, shard) in &f.shards {
            assert!(store.has(address).expect("has"));
            assert_eq!(
                store.get(address).expect("get").as_deref(),
                Some(&shard[..])
            );
            assert!(shard_file(dir.path(), address).is_file());
        }
        if suite == Suite::Gm {
            assert_eq!(usage.bytes, bytes);
            assert_eq!(usage.shards, f.shards.len() as u64);
        }
    }
    let store = open(dir.path());
    assert_eq!(store.list().expect("list").len(), 2 * 3 * 4);
    assert_eq!(store.usage(&BOB), Usage::default());
    assert_eq!(temp_entries(dir.path()), 0);
}

#[test]
fn leftover_temp_files_are_removed_on_open_and_never_visible() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = file(Suite::Intl, 2, 1, 100);
    let (kept, lost) = (&f.shards[0], &f.shards[1]);
    let mut store = open(dir.path());
    store.put(ALICE, &kept.0, &kept.1).expect("put");
    let usage = store.usage(&ALICE);
    drop(store);
    // What a kill between write and rename leaves: a temp file, full or torn.
    fs::write(dir.path().join("tmp/7.tmp"), &lost.1).expect("write");
    fs::write(dir.path().join("tmp/8.tmp"), &lost.1[..3]).expect("write");
    fs::create_dir_all(dir.path().join("tmp/odd/deeper")).expect("mkdir");
    let store = open(dir.path());
    assert_eq!(store.open_report().temp_files_removed, 3);
    assert_eq!(temp_entries(dir.path()), 0);
    assert_eq!(store.list().expect("list"), vec![kept.0]);
    assert!(!store.has(&lost.0).expect("has"));
    assert_eq!(store.get(&lost.0).expect("get"), None);
    assert_eq!(store.usage(&ALICE), usage);
}

/// A way to damage a shard file in place.
type Damage = fn(&mut Vec<u8>);

#[test]
fn corrupted_shards_on_disk_are_reported_not_returned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = file(Suite::Gm, 3, 1, 500);
    let mut store = open(dir.path());
    put_all(&mut store, ALICE, &f);
    let cases: [(usize, Damage, &str); 3] = [
        (
            0,
            |b| *b.last_mut().expect("bytes") ^= 0x01,
            "bytes do not hash to the address",
        ),
        (
            1,
            |b| b.truncate(b.len() - 1),
            "length differs from its header",
        ),
        (2, |b| b[0] = b'X', "header does not decode"),
    ];
    for (i, damage, expected) in cases {
        let (address, _) = &f.shards[i];
        let path = shard_file(dir.path(), address);
        let mut on_disk = fs::read(&path).expect("read");
        damage(&mut on_disk);
        fs::write(&path, on_disk).expect("write");
        match store.get(address) {
            Err(FileStoreError::ShardCorrupt { address: a, what }) => {
                assert_eq!((a, what), (*address, expected));
            }
            other => panic!("shard {i}: expected ShardCorrupt, got {other:?}"),
        }
        assert!(store.has(address).expect("has"), "present, just bad");
    }
    drop(store);
    let mut store = open(dir.path());
    assert_eq!(store.open_report().unreadable_shards, 1);
    assert_eq!(store.open_report().shards, f.shards.len() as u64 - 1);
    // Repair: putting the right bytes again replaces the rotted copy.
    let (address, bytes) = &f.shards[0];
    assert_eq!(
        store.put(ALICE, address, bytes).expect("put"),
        PutOutcome::Replaced
    );
    assert_eq!(
        store.get(address).expect("get").as_deref(),
        Some(&bytes[..])
    );
}

#[test]
fn quota_exceeded_is_refused_with_nothing_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = file(Suite::Intl, 2, 2, 400);
    let len = f.shards[0].1.len() as u64;
    let mut store = open(dir.path());
    store.set_quota(
        ALICE,
        Quota {
            bytes_max: 2 * len + 1,
            shards_max: 10,
        },
    );
    store.set_quota(
        BOB,
        Quota {
            bytes_max: 1 << 20,
            shards_max: 1,
        },
    );
    for (address, bytes) in &f.shards[..2] {
        store.put(ALICE, address, bytes).expect("within quota");
    }
    let before = store.list().expect("list");
    let (third, bytes) = &f.shards[2];
    match store.put(ALICE, third, bytes) {
        Err(FileStoreError::QuotaBytesExceeded {
            owner,
            used_bytes,
            shard_bytes,
            quota_bytes,
        }) => {
            assert_eq!(
                (owner, used_bytes, shard_bytes, quota_bytes),
                (ALICE, 2 * len, len, 2 * len + 1)
            );
        }
        other => panic!("expected QuotaBytesExceeded, got {other:?}"),
    }
    store
        .put(BOB, third, bytes)
        .expect("bob's first shard fits");
    let (fourth, bytes) = &f.shards[3];
    match store.put(BOB, fourth, bytes) {
        Err(FileStoreError::QuotaShardsExceeded {
            owner,
            used_shards,
            quota_shards,
        }) => {
            assert_eq!((owner, used_shards, quota_shards), (BOB, 1, 1));
        }
        other => panic!("expected QuotaShardsExceeded, got {other:?}"),
    }
    assert!(!store.has(fourth).expect("has"));
    assert_eq!(store.list().expect("list").len(), before.len() + 1);
    assert_eq!(
        store.usage(&ALICE),
        Usage {
            bytes: 2 * len,
            shards: 2
        }
    );
    assert_eq!(temp_entries(dir.path()), 0);
    // Freeing space makes room again.
    assert!(store.delete(&f.shards[0].0).expect("delete"));
    assert_eq!(
        store
            .put(ALICE, &f.shards[3].0, &f.shards[3].1)
            .expect("fits"),
        PutOutcome::Stored
    );
}

#[test]
fn bad_puts_are_refused_with_specific_errors_and_nothing_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = file(Suite::Gm, 2, 1, 100);
    let (a, a_bytes) = &f.shards[0];
    let (b, _) = &f.shards[1];
    let mut store = open(dir.path());
    match store.put(ALICE, b, a_bytes) {
        Err(FileStoreError::ShardAddressMismatch { expected, actual }) => {
            assert_eq!((expected, actual), (*b, *a));
        }
        other => panic!("expected ShardAddressMismatch, got {other:?}"),
    }
    let sha_of_gm = ShardAddress::of(HashAlgorithm::Sha256, a_bytes);
    store
        .put(ALICE, &sha_of_gm, a_bytes)
        .expect("either suite hash is an address");
    assert!(store.delete(&sha_of_gm).expect("delete"));
    let keccak = ShardAddress::of(HashAlgorithm::Keccak256, a_bytes);
    assert!(matches!(
        store.put(ALICE, &keccak, a_bytes),
        Err(FileStoreError::AddressMalformed { .. })
    ));
    let empty = ShardAddress::of(HashAlgorithm::Sm3, b"");
    assert!(matches!(
        store.put(ALICE, &empty, b""),
        Err(FileStoreError::ShardSizeInvalid { len_bytes: 0, .. })
    ));
    drop(store);
    let small = StoreConfig {
        shard_size_max_bytes: 8,
        ..config()
    };
    let mut store = ShardStore::open(dir.path(), small).expect("open");
    match store.put(ALICE, a, a_bytes) {
        Err(FileStoreError::ShardSizeInvalid {
            len_bytes,
            max_bytes: 8,
        }) => {
            assert_eq!(len_bytes, a_bytes.len() as u64);
        }
        other => panic!("expected ShardSizeInvalid, got {other:?}"),
    }
    assert!(store.list().expect("list").is_empty());
    assert_eq!(store.usage(&ALICE), Usage::default());
    assert_eq!(temp_entries(dir.path()), 0);
}

#[test]
fn shards_belong_to_one_owner_and_puts_are_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = file(Suite::Intl, 1, 2, 10);
    let (address, bytes) = &f.shards[0];
    // k = 1: the parity shards equal the data shard and share its address.
    assert!(f.shards.iter().all(|(a, _)| a == address));
    let mut store = open(dir.path());
    assert_eq!(
        store.put(ALICE, address, bytes).expect("put"),
        PutOutcome::Stored
    );
    assert_eq!(
        store.put(ALICE, address, bytes).expect("put"),
        PutOutcome::AlreadyStored
    );
    assert_eq!(store.usage(&ALICE).shards, 1);
    assert!(matches!(
        store.put(BOB, address, bytes),
        Err(FileStoreError::ShardOwnedByOther { address: a }) if a == *address
    ));
    assert_eq!(store.usage(&BOB), Usage::default());
    assert!(store.delete(address).expect("delete"));
    assert!(!store.delete(address).expect("second delete"));
    assert_eq!(store.usage(&ALICE), Usage::default());
    drop(store);
    assert_eq!(open(dir.path()).usage(&ALICE), Usage::default());
}

#[test]
fn a_file_decodes_from_the_store_after_losing_m_shards_per_stripe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (k, m) = (3, 2);
    let f = file(Suite::Gm, k, m, 4 * 1024 + 100);
    let mut store = open(dir.path());
    put_all(&mut store, ALICE, &f);
    let per_stripe = usize::from(k + m);
    for (s, stripe) in f.shards.chunks(per_stripe).enumerate() {
        for j in 0..usize::from(m) {
            assert!(
                store
                    .delete(&stripe[(s + j) % per_stripe].0)
                    .expect("delete")
            );
        }
    }
    let expected: Vec<u8> = (0..4 * 1024 + 100)
        .map(|i| (i * 13 + i / 5) as u8)
        .collect();
    assert_eq!(
        decode_file(&f.manifest, &f.key, &store).expect("decodes"),
        expected
    );
    // One more loss in stripe 0 (corrupt on disk this time) is one too many.
    let survivor = &f.shards[usize::from(m)].0;
    let path = shard_file(dir.path(), survivor);
    let mut on_disk = fs::read(&path).expect("read");
    *on_disk.last_mut().expect("bytes") ^= 0x80;
    fs::write(&path, on_disk).expect("write");
    match decode_file(&f.manifest, &f.key, &store) {
        Err(FileStoreError::NotEnoughShards {
            stripe: 0,
            valid: 2,
            corrupt: 1,
            needed: 3,
        }) => {}
        other => panic!("expected NotEnoughShards, got {other:?}"),
    }
}

#[test]
fn the_folder_is_locked_versioned_and_strays_are_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nested = dir.path().join("node/filestore");
    assert!(
        open(&nested).list().expect("list").is_empty(),
        "created on first open"
    );
    let store = open(dir.path());
    assert!(matches!(
        ShardStore::open(dir.path(), config()),
        Err(FileStoreError::StoreLocked { .. })
    ));
    drop(store);
    let stray = dir.path().join("shards/README");
    fs::write(&stray, b"not a shard").expect("write");
    fs::create_dir_all(dir.path().join("shards/ab/cd")).expect("mkdir");
    fs::write(dir.path().join("shards/ab/cd/1220zz"), b"x").expect("write");
    let store = open(dir.path());
    assert_eq!(store.open_report().stray_entries, 2);
    assert!(store.list().expect("list").is_empty());
    assert!(stray.is_file(), "never deletes what it did not write");
    drop(store);
    let bad = StoreConfig {
        shard_size_max_bytes: SHARD_SIZE_MAX_BYTES + 1,
        ..config()
    };
    assert!(matches!(
        ShardStore::open(dir.path(), bad),
        Err(FileStoreError::StoreConfigInvalid { .. })
    ));
    fs::write(
        dir.path().join("VERSION"),
        b"keel-filestore shard store 2\n",
    )
    .expect("write");
    assert!(matches!(
        ShardStore::open(dir.path(), config()),
        Err(FileStoreError::StoreVersionUnsupported { .. })
    ));
}
