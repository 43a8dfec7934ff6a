//! Example-based tests of the `Store` API: round trips, scan edge cases, reopen.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_storage::{Durability, StorageError, Store, StoreOptions, Table};

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(dir.path(), StoreOptions::default()).expect("open store")
}

fn put_all(store: &Store, table: Table, keys: &[&[u8]]) {
    let mut batch = store.batch();
    for k in keys {
        batch.put(table, k, &[*k, b"-v"].concat());
    }
    batch.commit(Durability::Buffered).expect("commit");
}

fn keys(rows: &[(Vec<u8>, Vec<u8>)]) -> Vec<&[u8]> {
    rows.iter().map(|(k, _)| k.as_slice()).collect()
}

#[test]
fn put_get_delete_round_trip_per_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let mut batch = store.batch();
    for (i, t) in Table::ALL.iter().enumerate() {
        batch.put(*t, b"k", &[u8::try_from(i).expect("few tables")]);
    }
    assert_eq!(batch.len(), Table::ALL.len());
    batch.commit(Durability::Sync).expect("commit");
    for (i, t) in Table::ALL.iter().enumerate() {
        let want = vec![u8::try_from(i).expect("few tables")];
        assert_eq!(store.get(*t, b"k").expect("get"), Some(want), "{t}");
    }
    let mut batch = store.batch();
    batch.delete(Table::Headers, b"k");
    batch.delete(Table::Headers, b"absent");
    batch.commit(Durability::Sync).expect("commit");
    assert_eq!(store.get(Table::Headers, b"k").expect("get"), None);
    assert!(store.get(Table::Bodies, b"k").expect("get").is_some());
}

#[test]
fn later_op_in_batch_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let mut batch = store.batch();
    batch.put(Table::Meta, b"a", b"1");
    batch.delete(Table::Meta, b"a");
    batch.put(Table::Meta, b"b", b"1");
    batch.put(Table::Meta, b"b", b"2");
    batch.commit(Durability::Buffered).expect("commit");
    assert_eq!(store.get(Table::Meta, b"a").expect("get"), None);
    assert_eq!(
        store.get(Table::Meta, b"b").expect("get"),
        Some(b"2".to_vec())
    );
}

#[test]
fn empty_table_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let t = Table::Receipts;
    assert_eq!(store.get(t, b"x").expect("get"), None);
    assert!(store.range(t, b"", b"\xff", 10).expect("range").is_empty());
    assert!(store.scan_prefix(t, b"", 10).expect("prefix").is_empty());
    assert_eq!(
        store.last_at_or_before(t, b"", b"\xff").expect("seek"),
        None
    );
    assert_eq!(store.last(t).expect("last"), None);
    assert!(store.batch().is_empty());
    store
        .batch()
        .commit(Durability::Sync)
        .expect("empty commit");
}

#[test]
fn range_bounds_and_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let t = Table::Headers;
    put_all(&store, t, &[b"a", b"b", b"c", b"d"]);
    let all = store.range(t, b"a", b"d", 100).expect("range");
    assert_eq!(keys(&all), vec![&b"a"[..], b"b", b"c"], "end is exclusive");
    assert_eq!(all[0].1, b"a-v".to_vec());
    let limited = store.range(t, b"a", b"z", 2).expect("range");
    assert_eq!(keys(&limited), vec![&b"a"[..], b"b"]);
    assert!(store.range(t, b"b", b"b", 10).expect("range").is_empty());
    assert!(store.range(t, b"c", b"a", 10).expect("range").is_empty());
    assert!(store.range(t, b"a", b"z", 0).expect("range").is_empty());
    let from_between = store.range(t, b"bb", b"z", 10).expect("range");
    assert_eq!(keys(&from_between), vec![&b"c"[..], b"d"]);
}

#[test]
fn scan_prefix_boundaries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let t = Table::TxIndex;
    put_all(
        &store,
        t,
        &[
            b"a",
            b"ab",
            b"ab\x00",
            b"ab\xff",
            b"ab\xff\xff",
            b"ac",
            b"b",
        ],
    );
    let rows = store.scan_prefix(t, b"ab", 100).expect("prefix");
    assert_eq!(
        keys(&rows),
        vec![&b"ab"[..], b"ab\x00", b"ab\xff", b"ab\xff\xff"]
    );
    let rows = store.scan_prefix(t, b"ab\xff", 100).expect("prefix");
    assert_eq!(keys(&rows), vec![&b"ab\xff"[..], b"ab\xff\xff"]);
    assert_eq!(store.scan_prefix(t, b"ab", 1).expect("prefix").len(), 1);
    assert!(store.scan_prefix(t, b"zz", 10).expect("prefix").is_empty());
    assert_eq!(store.scan_prefix(t, b"", 100).expect("prefix").len(), 7);
}

#[test]
fn last_at_or_before_edges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let t = Table::StateValues;
    put_all(
        &store,
        t,
        &[b"a\x05", b"p\x01", b"p\x03", b"p\x07", b"q\x00"],
    );
    let seek = |prefix: &[u8], key: &[u8]| {
        store
            .last_at_or_before(t, prefix, key)
            .expect("seek")
            .map(|(k, _)| k)
    };
    assert_eq!(
        seek(b"p", b"p\x03"),
        Some(b"p\x03".to_vec()),
        "key == bound"
    );
    assert_eq!(seek(b"p", b"p\x04"), Some(b"p\x03".to_vec()));
    assert_eq!(seek(b"p", b"p\x02"), Some(b"p\x01".to_vec()));
    assert_eq!(seek(b"p", b"p\x00"), None, "below first key of prefix");
    assert_eq!(seek(b"p", b"p"), None, "bound equal to prefix");
    assert_eq!(seek(b"p", b"p\xff\xff"), Some(b"p\x07".to_vec()));
    assert_eq!(
        seek(b"p", b"q\x00"),
        Some(b"p\x07".to_vec()),
        "key past prefix"
    );
    assert_eq!(seek(b"p", b"z"), Some(b"p\x07".to_vec()));
    assert_eq!(seek(b"p", b"a\x09"), None, "key before prefix");
    assert_eq!(seek(b"o", b"o\xff"), None, "empty prefix interval");
    assert_eq!(seek(b"", b"b"), Some(b"a\x05".to_vec()), "empty prefix");
    assert_eq!(seek(b"q", b"q\x00"), Some(b"q\x00".to_vec()));
    assert_eq!(
        store.last(t).expect("last").map(|(k, _)| k),
        Some(b"q\x00".to_vec())
    );
}

#[test]
fn invalid_keys_reject_whole_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let mut batch = store.batch();
    batch.put(Table::Meta, b"ok", b"1");
    batch.put(Table::Meta, b"", b"1");
    let err = batch.commit(Durability::Sync).expect_err("empty key");
    assert!(
        matches!(err, StorageError::InvalidKey { len_bytes: 0, .. }),
        "{err}"
    );
    let mut batch = store.batch();
    batch.put(Table::Meta, b"ok", b"1");
    batch.delete(Table::Meta, &vec![7u8; keel_storage::KEY_LEN_MAX_BYTES + 1]);
    assert!(matches!(
        batch.commit(Durability::Sync),
        Err(StorageError::InvalidKey { .. })
    ));
    assert_eq!(store.get(Table::Meta, b"ok").expect("get"), None);
}

#[test]
fn dropped_batch_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let mut batch = store.batch();
    batch.put(Table::Meta, b"k", b"v");
    drop(batch);
    assert_eq!(store.get(Table::Meta, b"k").expect("get"), None);
}

#[test]
fn reopen_keeps_committed_batches_across_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = open(&dir);
        let clone = store.clone();
        let mut batch = clone.batch();
        for (i, t) in Table::ALL.iter().enumerate() {
            batch.put(*t, &[1, u8::try_from(i).expect("few tables")], b"first");
        }
        batch.commit(Durability::Sync).expect("commit");
        let mut batch = store.batch();
        batch.delete(Table::Meta, &[1, 0]);
        batch.put(Table::Evidence, b"e", &vec![9u8; 100_000]);
        batch.commit(Durability::Sync).expect("commit");
    }
    let store = open(&dir);
    assert_eq!(store.get(Table::Meta, &[1, 0]).expect("get"), None);
    for (i, t) in Table::ALL.iter().enumerate().skip(1) {
        let key = [1, u8::try_from(i).expect("few tables")];
        assert_eq!(store.get(*t, &key).expect("get"), Some(b"first".to_vec()));
    }
    assert_eq!(
        store.get(Table::Evidence, b"e").expect("get"),
        Some(vec![9u8; 100_000])
    );
}

#[test]
fn store_is_send_sync_and_usable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let handles: Vec<_> = (0u8..4)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut batch = store.batch();
                batch.put(Table::Bodies, &[i], &[i]);
                batch.commit(Durability::Buffered).expect("commit");
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    assert_eq!(
        store
            .scan_prefix(Table::Bodies, b"", 10)
            .expect("scan")
            .len(),
        4
    );
}
