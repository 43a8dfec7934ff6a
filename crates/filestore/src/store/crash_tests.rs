//! Crash states, deterministically: a put stopped at each step leaves exactly what a crash at
//! that step would leave on disk (the page cache aside), and reopening must find no half shard,
//! no leftover temp file, every earlier shard intact and usage equal to the shards present.

use keel_crypto::HashAlgorithm;
use tempfile::TempDir;

use super::*;
use crate::{OwnerId, PutOutcome, Quota, StoreConfig};

const OWNER: OwnerId = OwnerId([3; 20]);

fn open(dir: &TempDir) -> ShardStore {
    let quota = Quota {
        bytes_max: u64::MAX,
        shards_max: u64::MAX,
    };
    ShardStore::open(dir.path(), StoreConfig::new(quota)).expect("open")
}

fn shard(seed: u8) -> (ShardAddress, Vec<u8>) {
    let bytes = vec![seed; 1000 + usize::from(seed)];
    (ShardAddress::of(HashAlgorithm::Sha256, &bytes), bytes)
}

/// Puts one shard, then stops a second put at `point`; returns the reopened store.
fn crash_during_second_put(dir: &TempDir, point: CrashPoint) -> ShardStore {
    let mut store = open(dir);
    let (first, first_bytes) = shard(1);
    store.put(OWNER, &first, &first_bytes).expect("first put");
    store.crash_at = Some(point);
    let (second, second_bytes) = shard(2);
    let crashed = store.put(OWNER, &second, &second_bytes);
    assert!(matches!(
        crashed,
        Err(FileStoreError::Io {
            op: "crash point",
            ..
        })
    ));
    drop(store); // Nothing runs on drop: the files stay as the "crash" left them.
    open(dir)
}

#[test]
fn a_crash_before_the_rename_leaves_only_a_temp_file_removed_on_open() {
    for point in [CrashPoint::TempTorn, CrashPoint::TempWritten] {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crash_during_second_put(&dir, point);
        let report = store.open_report();
        assert_eq!(report.temp_files_removed, 1, "{point:?}");
        assert_eq!((report.shards, report.unreadable_shards), (1, 0));
        assert_eq!(store.list().expect("list"), vec![shard(1).0]);
        assert_eq!(store.get(&shard(2).0).expect("get"), None);
        assert_eq!(store.get(&shard(1).0).expect("get"), Some(shard(1).1));
        let one = shard(1).1.len() as u64;
        assert_eq!(
            store.usage(&OWNER),
            Usage {
                bytes: one,
                shards: 1
            }
        );
    }
}

#[test]
fn a_crash_after_the_rename_leaves_a_whole_shard_that_open_charges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = crash_during_second_put(&dir, CrashPoint::Renamed);
    assert_eq!(store.open_report().temp_files_removed, 0);
    assert_eq!(store.open_report().unreadable_shards, 0);
    assert_eq!(store.get(&shard(2).0).expect("get"), Some(shard(2).1));
    let both = (shard(1).1.len() + shard(2).1.len()) as u64;
    assert_eq!(
        store.usage(&OWNER),
        Usage {
            bytes: both,
            shards: 2
        }
    );
    // The put was never acknowledged; the client's retry finds it and is not charged twice.
    let (second, bytes) = shard(2);
    let retried = store.put(OWNER, &second, &bytes).expect("retry");
    assert_eq!(retried, PutOutcome::AlreadyStored);
    assert_eq!(store.usage(&OWNER).shards, 2);
}
