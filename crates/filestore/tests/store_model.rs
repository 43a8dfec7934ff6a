//! The shard store against a simple model, with reboots and bit rot.
//!
//! The model is a map from shard to (owner, rotted?). After every step the store must agree on
//! `get`, `has` and each owner's usage; a reboot (drop and reopen) must change nothing.

use std::collections::HashMap;
use std::path::Path;

use keel_crypto::HashAlgorithm;
use keel_filestore::{
    FileStoreError, OwnerId, PutOutcome, Quota, ShardAddress, ShardStore, StoreConfig, Usage,
};
use proptest::prelude::*;

const OWNERS: [OwnerId; 2] = [OwnerId([1; 20]), OwnerId([2; 20])];
const SHARDS: u8 = 6;
/// Owner 0 may keep this many shards; owner 1 is unbounded.
const OWNER0_SHARDS_MAX: u64 = 3;

#[derive(Clone, Debug)]
enum Op {
    Put { owner: usize, shard: u8 },
    Delete { shard: u8 },
    Rot { shard: u8 },
    Reboot,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, 0..SHARDS).prop_map(|(owner, shard)| Op::Put { owner, shard }),
        2 => (0..SHARDS).prop_map(|shard| Op::Delete { shard }),
        1 => (0..SHARDS).prop_map(|shard| Op::Rot { shard }),
        1 => Just(Op::Reboot),
    ]
}

fn shard(i: u8) -> (ShardAddress, Vec<u8>) {
    let bytes = vec![i.wrapping_mul(37).wrapping_add(1); 10 + usize::from(i) * 3];
    (ShardAddress::of(HashAlgorithm::Sm3, &bytes), bytes)
}

fn open(root: &Path) -> ShardStore {
    let mut store = ShardStore::open(root, StoreConfig::new(unbounded())).expect("open");
    store.set_quota(
        OWNERS[0],
        Quota {
            shards_max: OWNER0_SHARDS_MAX,
            ..unbounded()
        },
    );
    store
}

fn unbounded() -> Quota {
    Quota {
        bytes_max: u64::MAX,
        shards_max: u64::MAX,
    }
}

/// (owner, rotted) per stored shard.
type Model = HashMap<u8, (usize, bool)>;

fn usage_of(model: &Model, owner: usize) -> Usage {
    let mine = model.iter().filter(|(_, (o, _))| *o == owner);
    Usage {
        bytes: mine.clone().map(|(i, _)| shard(*i).1.len() as u64).sum(),
        shards: mine.count() as u64,
    }
}

fn put(store: &mut ShardStore, model: &mut Model, owner: usize, i: u8) {
    let (address, bytes) = shard(i);
    let result = store.put(OWNERS[owner], &address, &bytes);
    let replaced_own = matches!(model.get(&i), Some((o, true)) if *o == owner);
    let full = owner == 0 && usage_of(model, 0).shards >= OWNER0_SHARDS_MAX && !replaced_own;
    match (model.get(&i).copied(), result) {
        (Some((o, false)), Ok(PutOutcome::AlreadyStored)) if o == owner => {}
        (Some((o, false)), Err(FileStoreError::ShardOwnedByOther { .. })) if o != owner => {}
        (_, Err(FileStoreError::QuotaShardsExceeded { .. })) if full => {}
        (Some((_, true)), Ok(PutOutcome::Replaced)) if !full => {
            model.insert(i, (owner, false));
        }
        (None, Ok(PutOutcome::Stored)) if !full => {
            model.insert(i, (owner, false));
        }
        (state, result) => panic!("put {i} by {owner} on {state:?}: {result:?}"),
    }
}

fn apply(store: &mut ShardStore, root: &Path, model: &mut Model, op: &Op) {
    match *op {
        Op::Put { owner, shard: i } => put(store, model, owner, i),
        Op::Delete { shard: i } => {
            let removed = store.delete(&shard(i).0).expect("delete");
            assert_eq!(removed, model.remove(&i).is_some());
        }
        Op::Rot { shard: i } => {
            if let Some(entry) = model.get_mut(&i) {
                let address = shard(i).0;
                let d = address.digest();
                let path = root
                    .join("shards")
                    .join(format!("{:02x}/{:02x}", d[0], d[1]))
                    .join(address.to_hex());
                let mut on_disk = std::fs::read(&path).expect("read");
                *on_disk.last_mut().expect("bytes") ^= 0x40;
                std::fs::write(&path, on_disk).expect("write");
                entry.1 = !entry.1; // Flipping the same bit twice heals it.
            }
        }
        Op::Reboot => unreachable!("reboots are done by the test loop"),
    }
}

fn check(store: &ShardStore, model: &Model) {
    for i in 0..SHARDS {
        let (address, bytes) = shard(i);
        let got = store.get(&address);
        match model.get(&i) {
            None => assert_eq!(got.expect("get"), None),
            Some((_, false)) => assert_eq!(got.expect("get"), Some(bytes)),
            Some((_, true)) => assert!(matches!(got, Err(FileStoreError::ShardCorrupt { .. }))),
        }
        assert_eq!(store.has(&address).expect("has"), model.contains_key(&i));
    }
    for (o, owner) in OWNERS.iter().enumerate() {
        assert_eq!(store.usage(owner), usage_of(model, o), "owner {o}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn store_matches_the_model_across_reboots(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = open(dir.path());
        let mut model = Model::new();
        for op in &ops {
            if let Op::Reboot = op {
                drop(store);
                store = open(dir.path());
            } else {
                apply(&mut store, dir.path(), &mut model, op);
            }
            check(&store, &model);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever sits at a shard's path, `get` returns checked bytes or `ShardCorrupt`, never
    /// panics, and open still works.
    #[test]
    fn arbitrary_shard_files_are_reported_not_trusted(
        content in prop::collection::vec(any::<u8>(), 0..200),
        keep_header in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let (address, bytes) = shard(1);
        let mut store = open(dir.path());
        store.put(OWNERS[0], &address, &bytes).expect("put");
        let d = address.digest();
        let path = dir.path().join("shards")
            .join(format!("{:02x}/{:02x}", d[0], d[1]))
            .join(address.to_hex());
        let mut on_disk = if keep_header { std::fs::read(&path).expect("read")[..29].to_vec() } else { Vec::new() };
        on_disk.extend_from_slice(&content);
        std::fs::write(&path, &on_disk).expect("write");
        drop(store);
        let store = open(dir.path());
        match store.get(&address) {
            Ok(Some(got)) => prop_assert!(address.matches(&got)),
            Err(FileStoreError::ShardCorrupt { .. }) => {}
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    /// Address parsing: anything that parses prints back to the same text.
    #[test]
    fn address_parsing_is_strict(text in "[0-9a-fA-F]{0,80}", raw in prop::collection::vec(any::<u8>(), 0..40)) {
        if let Ok(address) = ShardAddress::from_hex(&text) {
            prop_assert_eq!(address.to_hex(), text);
        }
        if let Ok(address) = ShardAddress::from_multihash(&raw) {
            prop_assert_eq!(address.to_multihash(), raw);
        }
    }
}
