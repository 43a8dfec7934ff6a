//! Model-based test: random batches, reads and reboots against a `BTreeMap` per table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};

use keel_storage::{Durability, Store, StoreOptions, Table};
use proptest::prelude::*;

type Model = HashMap<Table, BTreeMap<Vec<u8>, Vec<u8>>>;

/// Tables exercised (a subset keeps collisions likely; the rest are covered elsewhere).
const TABLES: [Table; 3] = [Table::Meta, Table::StateValues, Table::Evidence];
const LIMIT_MAX: usize = 6;

#[derive(Clone, Debug)]
enum Step {
    Commit {
        ops: Vec<(Table, Vec<u8>, Option<Vec<u8>>)>,
        sync: bool,
    },
    /// A batch built and then dropped: must change nothing.
    Abandon(Vec<(Table, Vec<u8>)>),
    Reopen,
    Get(Table, Vec<u8>),
    Range(Table, Vec<u8>, Vec<u8>, usize),
    Prefix(Table, Vec<u8>, usize),
    Seek(Table, Vec<u8>, Vec<u8>),
    Last(Table),
}

fn table() -> impl Strategy<Value = Table> {
    prop::sample::select(TABLES.to_vec())
}

/// Short keys over a tiny alphabet so prefixes, equal bounds and 0x00/0xff edges collide.
fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(vec![0u8, 1, 2, 0xff]), 1..4)
}

fn bound() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(vec![0u8, 1, 2, 0xff]), 0..4)
}

fn step() -> impl Strategy<Value = Step> {
    let op = (
        table(),
        key(),
        prop::option::weighted(0.7, prop::collection::vec(any::<u8>(), 0..8)),
    );
    prop_oneof![
        4 => (prop::collection::vec(op, 1..8), prop::bool::weighted(0.2))
            .prop_map(|(ops, sync)| Step::Commit { ops, sync }),
        1 => prop::collection::vec((table(), key()), 1..4).prop_map(Step::Abandon),
        1 => Just(Step::Reopen),
        2 => (table(), key()).prop_map(|(t, k)| Step::Get(t, k)),
        2 => (table(), bound(), bound(), 0..LIMIT_MAX).prop_map(|(t, a, b, l)| Step::Range(t, a, b, l)),
        2 => (table(), bound(), 0..LIMIT_MAX).prop_map(|(t, p, l)| Step::Prefix(t, p, l)),
        2 => (table(), bound(), bound()).prop_map(|(t, p, k)| Step::Seek(t, p, k)),
        1 => table().prop_map(Step::Last),
    ]
}

fn pairs<'a>(it: impl Iterator<Item = (&'a Vec<u8>, &'a Vec<u8>)>) -> Vec<(Vec<u8>, Vec<u8>)> {
    it.map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn run(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path(), StoreOptions::default()).expect("open");
    let mut model: Model = TABLES.iter().map(|t| (*t, BTreeMap::new())).collect();
    for step in steps {
        match step {
            Step::Commit { ops, sync } => {
                let mut batch = store.batch();
                for (t, k, v) in &ops {
                    let m = model.get_mut(t).expect("model has every table");
                    match v {
                        Some(v) => {
                            batch.put(*t, k, v);
                            m.insert(k.clone(), v.clone());
                        }
                        None => {
                            batch.delete(*t, k);
                            m.remove(k);
                        }
                    }
                }
                let durability = if sync {
                    Durability::Sync
                } else {
                    Durability::Buffered
                };
                batch.commit(durability).expect("commit");
            }
            Step::Abandon(ops) => {
                let mut batch = store.batch();
                for (t, k) in ops {
                    batch.put(t, &k, b"abandoned");
                }
                drop(batch);
            }
            Step::Reopen => {
                drop(store);
                store = Store::open(dir.path(), StoreOptions::default()).expect("reopen");
            }
            Step::Get(t, k) => {
                prop_assert_eq!(store.get(t, &k).expect("get"), model[&t].get(&k).cloned());
            }
            Step::Range(t, a, b, limit) => {
                let want = if a < b {
                    pairs(model[&t].range(a.clone()..b.clone()).take(limit))
                } else {
                    Vec::new()
                };
                prop_assert_eq!(store.range(t, &a, &b, limit).expect("range"), want);
            }
            Step::Prefix(t, p, limit) => {
                let want = pairs(
                    model[&t]
                        .iter()
                        .filter(|(k, _)| k.starts_with(&p))
                        .take(limit),
                );
                prop_assert_eq!(store.scan_prefix(t, &p, limit).expect("prefix"), want);
            }
            Step::Seek(t, p, k) => {
                let want = model[&t]
                    .range(..=k.clone())
                    .rev()
                    .find(|(key, _)| key.starts_with(&p))
                    .map(|(k, v)| (k.clone(), v.clone()));
                prop_assert_eq!(store.last_at_or_before(t, &p, &k).expect("seek"), want);
            }
            Step::Last(t) => {
                let want = model[&t]
                    .last_key_value()
                    .map(|(k, v)| (k.clone(), v.clone()));
                prop_assert_eq!(store.last(t).expect("last"), want);
            }
        }
    }
    // Final full comparison after one more reboot.
    drop(store);
    let store = Store::open(dir.path(), StoreOptions::default()).expect("final reopen");
    for t in TABLES {
        let want = pairs(model[&t].iter());
        prop_assert_eq!(store.scan_prefix(t, b"", usize::MAX).expect("scan"), want);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_btreemap_model_across_reboots(steps in prop::collection::vec(step(), 1..40)) {
        run(steps)?;
    }
}
