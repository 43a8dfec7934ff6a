//! Model-based test: random blocks of inserts/updates/deletes against a `BTreeMap` per
//! version, with reboots (drop tree + store, reopen from disk) and abandoned batches.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use keel_state::{RootHash, StateHash, StateKey, StateTree};
use keel_storage::{Durability, Store, StoreOptions};
use proptest::prelude::*;

const POOL_LEN: usize = 24;

/// Keys that share long prefixes (deep paths, many siblings) mixed with spread-out keys.
fn pool() -> Vec<StateKey> {
    (0..POOL_LEN)
        .map(|j| {
            let j = u8::try_from(j).expect("small pool");
            if j % 2 == 0 {
                let mut k = [0xA5; 32];
                k[0] = j & 0x03;
                k[31] = j; // differs only in the first and last bytes
                k
            } else {
                std::array::from_fn(|i| {
                    j.wrapping_mul(73)
                        .wrapping_add(u8::try_from(i).expect("< 32").wrapping_mul(151))
                })
            }
        })
        .collect()
}

#[derive(Clone, Debug)]
enum Step {
    /// Apply and commit a block; `abandon_first` applies a different batch and drops it first.
    Block {
        changes: Vec<(usize, Option<Vec<u8>>)>,
        abandon_first: bool,
    },
    Reboot,
}

fn step() -> impl Strategy<Value = Step> {
    let change = (
        0..POOL_LEN,
        prop::option::weighted(0.65, prop::collection::vec(any::<u8>(), 0..6)),
    );
    prop_oneof![
        5 => (prop::collection::vec(change, 0..10), prop::bool::weighted(0.2))
            .prop_map(|(changes, abandon_first)| Step::Block { changes, abandon_first }),
        1 => Just(Step::Reboot),
    ]
}

struct Harness {
    dir: tempfile::TempDir,
    hash: StateHash,
    store: Store,
    tree: StateTree,
}

impl Harness {
    fn new(hash: StateHash) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), StoreOptions::default()).expect("open");
        let tree = StateTree::new(store.clone(), hash);
        Harness {
            dir,
            hash,
            store,
            tree,
        }
    }

    /// Drops the tree and the store (the engine locks its directory), then reopens.
    fn reboot(self) -> Harness {
        let Harness {
            dir,
            hash,
            store,
            tree,
        } = self;
        drop(tree);
        drop(store);
        let store = Store::open(dir.path(), StoreOptions::default()).expect("reopen");
        let tree = StateTree::new(store.clone(), hash);
        Harness {
            dir,
            hash,
            store,
            tree,
        }
    }

    fn commit(&self, version: u64, changes: &[(StateKey, Option<Vec<u8>>)]) -> RootHash {
        let mut batch = self.store.batch();
        let root = self
            .tree
            .apply(version, changes, &mut batch)
            .expect("apply");
        batch.commit(Durability::Buffered).expect("commit");
        root
    }
}

fn check_version(
    h: &Harness,
    keys: &[StateKey],
    version: u64,
    model: &BTreeMap<StateKey, Vec<u8>>,
    root: &RootHash,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(h.tree.root_at(version).expect("root_at"), Some(*root));
    for k in keys {
        let want = model.get(k).cloned();
        prop_assert_eq!(&h.tree.get(k, version).expect("get"), &want);
        let (value, proof) = h.tree.prove(k, version).expect("prove");
        prop_assert_eq!(&value, &want);
        prop_assert!(
            proof.verify(h.hash, root, k, want.as_deref()).is_ok(),
            "proof must verify"
        );
        let wrong = match &want {
            Some(v) => [v.as_slice(), b"!"].concat(),
            None => b"phantom".to_vec(),
        };
        prop_assert!(
            proof.verify(h.hash, root, k, Some(&wrong)).is_err(),
            "wrong value accepted"
        );
        if want.is_some() {
            prop_assert!(
                proof.verify(h.hash, root, k, None).is_err(),
                "absence of present key accepted"
            );
        }
        let mut wrong_root = *root;
        wrong_root[0] ^= 0x80;
        prop_assert!(
            proof
                .verify(h.hash, &wrong_root, k, want.as_deref())
                .is_err(),
            "wrong root accepted"
        );
    }
    Ok(())
}

fn run(hash: StateHash, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let keys = pool();
    let mut h = Harness::new(hash);
    // history[v] = (contents, root) after version v.
    let mut history: Vec<(BTreeMap<StateKey, Vec<u8>>, RootHash)> = Vec::new();
    for step in steps {
        match step {
            Step::Reboot => h = h.reboot(),
            Step::Block {
                changes,
                abandon_first,
            } => {
                let version = history.len() as u64;
                let changes: Vec<(StateKey, Option<Vec<u8>>)> =
                    changes.into_iter().map(|(i, v)| (keys[i], v)).collect();
                if abandon_first {
                    let mut batch = h.store.batch();
                    let decoy: Vec<_> =
                        keys.iter().map(|k| (*k, Some(b"decoy".to_vec()))).collect();
                    h.tree
                        .apply(version, &decoy, &mut batch)
                        .expect("apply decoy");
                    drop(batch);
                    prop_assert_eq!(
                        h.tree.latest_version().expect("latest"),
                        version.checked_sub(1)
                    );
                }
                let mut model = history.last().map(|(m, _)| m.clone()).unwrap_or_default();
                for (k, v) in &changes {
                    match v {
                        Some(v) => model.insert(*k, v.clone()),
                        None => model.remove(k),
                    };
                }
                let root = h.commit(version, &changes);
                if model.is_empty() {
                    prop_assert_eq!(root, StateTree::empty_root(hash));
                }
                prop_assert_eq!(h.tree.latest_version().expect("latest"), Some(version));
                // Reads on the live tree (its latest-value cache warm) at the new head and the
                // previous version, twice, must match the model.
                for _ in 0..2 {
                    for k in &keys {
                        prop_assert_eq!(
                            &h.tree.get(k, version).expect("get head"),
                            &model.get(k).cloned()
                        );
                        if let Some((prev, _)) = history.last() {
                            prop_assert_eq!(
                                &h.tree.get(k, version - 1).expect("get previous"),
                                &prev.get(k).cloned()
                            );
                        }
                    }
                }
                history.push((model, root));
            }
        }
    }
    // Every version stays readable and provable after the run (and one more reboot).
    h = h.reboot();
    for (version, (model, root)) in history.iter().enumerate() {
        check_version(&h, &keys, version as u64, model, root)?;
    }
    // History independence: a fresh tree built in one step from the final contents.
    if let Some((model, root)) = history.last() {
        let fresh = Harness::new(hash);
        let all: Vec<_> = model.iter().map(|(k, v)| (*k, Some(v.clone()))).collect();
        prop_assert_eq!(&fresh.commit(0, &all), root);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn sm3_tree_matches_model_across_reboots(steps in prop::collection::vec(step(), 1..14)) {
        run(StateHash::Sm3, steps)?;
    }

    #[test]
    fn sha256_tree_matches_model_across_reboots(steps in prop::collection::vec(step(), 1..14)) {
        run(StateHash::Sha256, steps)?;
    }
}
