//! Speculative (pipelined) state: computing versions on top of uncommitted ancestors gives the
//! same roots as applying them one by one, forks do not interfere, and committing the chosen
//! branch later yields a normal, provable tree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_state::{StateDelta, StateHash, StateTree};
use keel_storage::{Durability, Store, StoreOptions};
use proptest::prelude::*;
use std::collections::BTreeMap;

type Changes = Vec<([u8; 32], Option<Vec<u8>>)>;

fn arb_block() -> impl Strategy<Value = Changes> {
    proptest::collection::vec(
        (
            0u8..24,
            proptest::option::weighted(0.8, proptest::collection::vec(any::<u8>(), 0..8)),
        ),
        0..12,
    )
    .prop_map(|v| v.into_iter().map(|(k, val)| ([k; 32], val)).collect())
}

fn open(dir: &std::path::Path) -> (Store, StateTree) {
    let store = Store::open(dir, StoreOptions::default()).unwrap();
    let tree = StateTree::new(store.clone(), StateHash::Sm3);
    (store, tree)
}

fn commit(store: &Store, tree: &StateTree, delta: &StateDelta) {
    let mut batch = store.batch();
    tree.write(delta, &mut batch).unwrap();
    batch.commit(Durability::Buffered).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn pipelined_roots_equal_sequential_roots(blocks in proptest::collection::vec(arb_block(), 1..6), depth in 1usize..4) {
        // Sequential reference.
        let seq_dir = tempfile::tempdir().unwrap();
        let (seq_store, seq) = open(seq_dir.path());
        let mut roots = Vec::new();
        for (v, b) in blocks.iter().enumerate() {
            let mut batch = seq_store.batch();
            roots.push(seq.apply(v as u64, b, &mut batch).unwrap());
            batch.commit(Durability::Buffered).unwrap();
        }
        // Pipelined: keep up to `depth` versions pending before committing the oldest.
        let dir = tempfile::tempdir().unwrap();
        let (store, tree) = open(dir.path());
        let mut pending: Vec<StateDelta> = Vec::new();
        let mut model: BTreeMap<[u8; 32], Vec<u8>> = BTreeMap::new();
        for (v, b) in blocks.iter().enumerate() {
            let refs: Vec<&StateDelta> = pending.iter().collect();
            let d = tree.compute(v as u64, b, &refs).unwrap();
            prop_assert_eq!(d.root(), roots[v]);
            for (k, val) in b {
                match val { Some(x) => { model.insert(*k, x.clone()); } None => { model.remove(k); } }
            }
            pending.push(d);
            let refs: Vec<&StateDelta> = pending.iter().collect();
            for k in 0u8..24 {
                prop_assert_eq!(tree.get_pending(&[k; 32], &refs).unwrap(), model.get(&[k; 32]).cloned());
            }
            if pending.len() > depth {
                let oldest = pending.remove(0);
                commit(&store, &tree, &oldest);
            }
        }
        for d in pending.drain(..) {
            commit(&store, &tree, &d);
        }
        let last = blocks.len() as u64 - 1;
        prop_assert_eq!(tree.root_at(last).unwrap(), Some(roots[last as usize]));
        for k in 0u8..24 {
            let (value, proof) = tree.prove(&[k; 32], last).unwrap();
            prop_assert_eq!(&value, &model.get(&[k; 32]).cloned());
            proof.verify(StateHash::Sm3, &roots[last as usize], &[k; 32], value.as_deref()).unwrap();
        }
    }
}

#[test]
fn forks_on_the_same_parent_are_independent_and_gaps_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, tree) = open(dir.path());
    let mut batch = store.batch();
    tree.apply(0, &[([1; 32], Some(b"genesis".to_vec()))], &mut batch)
        .unwrap();
    batch.commit(Durability::Buffered).unwrap();
    let a = tree
        .compute(1, &[([1; 32], Some(b"a".to_vec()))], &[])
        .unwrap();
    let b = tree
        .compute(1, &[([1; 32], Some(b"b".to_vec()))], &[])
        .unwrap();
    assert_ne!(a.root(), b.root());
    let a2 = tree
        .compute(2, &[([2; 32], Some(b"a2".to_vec()))], &[&a])
        .unwrap();
    assert_eq!(
        tree.get_pending(&[1; 32], &[&a, &a2]).unwrap(),
        Some(b"a".to_vec())
    );
    assert_eq!(
        tree.get_pending(&[1; 32], &[&b]).unwrap(),
        Some(b"b".to_vec())
    );
    assert_eq!(
        tree.get_pending(&[1; 32], &[]).unwrap(),
        Some(b"genesis".to_vec())
    );
    // Wrong chains are refused: gap, or a delta that is not the next version.
    assert!(tree.compute(3, &[], &[&a]).is_err());
    assert!(tree.compute(2, &[], &[&a2]).is_err());
    assert!(commit_result(&store, &tree, &a2).is_err());
    // Commit branch b; a and a2 are simply dropped.
    commit(&store, &tree, &b);
    assert_eq!(tree.root_at(1).unwrap(), Some(b.root()));
    assert_eq!(tree.get(&[1; 32], 1).unwrap(), Some(b"b".to_vec()));
    assert!(
        commit_result(&store, &tree, &a).is_err(),
        "version 1 is already committed"
    );
}

fn commit_result(
    store: &Store,
    tree: &StateTree,
    d: &StateDelta,
) -> Result<(), keel_state::StateError> {
    let mut batch = store.batch();
    tree.write(d, &mut batch)
}
