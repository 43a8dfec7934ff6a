//! Example-based tests of `StateTree` and `StateProof`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_state::{PROOF_LEN_MAX_BYTES, StateError, StateHash, StateKey, StateProof, StateTree};
use keel_storage::{Durability, Store, StoreOptions};

fn open(dir: &tempfile::TempDir, hash: StateHash) -> (Store, StateTree) {
    let store = Store::open(dir.path(), StoreOptions::default()).expect("open store");
    (store.clone(), StateTree::new(store, hash))
}

fn key(b: u8) -> StateKey {
    [b; 32]
}

fn commit(
    store: &Store,
    tree: &StateTree,
    version: u64,
    changes: &[(StateKey, Option<Vec<u8>>)],
) -> [u8; 32] {
    let mut batch = store.batch();
    let root = tree.apply(version, changes, &mut batch).expect("apply");
    batch.commit(Durability::Buffered).expect("commit");
    root
}

#[test]
fn empty_tree_genesis_and_proofs() {
    for hash in [StateHash::Sm3, StateHash::Sha256] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, tree) = open(&dir, hash);
        assert_eq!(tree.latest_version().expect("latest"), None);
        assert!(matches!(
            tree.get(&key(1), 0),
            Err(StateError::UnknownVersion {
                version: 0,
                latest: None
            })
        ));
        let root = commit(&store, &tree, 0, &[]);
        assert_eq!(root, StateTree::empty_root(hash));
        assert_eq!(tree.latest_version().expect("latest"), Some(0));
        assert_eq!(tree.root_at(0).expect("root"), Some(root));
        let (value, proof) = tree.prove(&key(1), 0).expect("prove");
        assert_eq!(value, None);
        proof
            .verify(hash, &root, &key(1), None)
            .expect("non-inclusion in empty tree");
        assert!(proof.verify(hash, &root, &key(1), Some(b"x")).is_err());
    }
}

#[test]
fn single_leaf_root_matches_hand_computed_sha256() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, tree) = open(&dir, StateHash::Sha256);
    let root = commit(&store, &tree, 0, &[(key(7), Some(b"seven".to_vec()))]);
    // jmt leaf hash: H("JMT::LeafNode" ‖ key_hash ‖ H(value)); a one-leaf tree's root is it.
    let value_hash = Sha256::digest(b"seven");
    let mut h = Sha256::new();
    h.update(b"JMT::LeafNode");
    h.update(key(7));
    h.update(value_hash);
    let want: [u8; 32] = h.finalize().into();
    assert_eq!(root, want);
}

#[test]
fn sm3_and_sha256_roots_differ() {
    let changes = [(key(1), Some(b"a".to_vec())), (key(2), Some(b"b".to_vec()))];
    let roots: Vec<_> = [StateHash::Sm3, StateHash::Sha256]
        .into_iter()
        .map(|hash| {
            let dir = tempfile::tempdir().expect("tempdir");
            let (store, tree) = open(&dir, hash);
            commit(&store, &tree, 0, &changes)
        })
        .collect();
    assert_ne!(roots[0], roots[1]);
}

#[test]
fn version_gaps_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, tree) = open(&dir, StateHash::Sm3);
    let mut batch = store.batch();
    assert!(matches!(
        tree.apply(1, &[], &mut batch),
        Err(StateError::VersionGap {
            expected: 0,
            got: 1
        })
    ));
    assert!(batch.is_empty(), "a rejected apply writes nothing");
    commit(&store, &tree, 0, &[(key(1), Some(vec![1]))]);
    for bad in [0, 2, u64::MAX] {
        let err = tree.apply(bad, &[], &mut batch).expect_err("gap");
        assert!(
            matches!(err, StateError::VersionGap { expected: 1, got } if got == bad),
            "{err}"
        );
    }
    // Applying v1 twice without committing the first: the second still sees v0 as latest,
    // so both produce the same root; only one batch may be committed.
    let mut b1 = store.batch();
    let r1 = tree
        .apply(1, &[(key(2), Some(vec![2]))], &mut b1)
        .expect("apply");
    let mut b2 = store.batch();
    let r2 = tree
        .apply(1, &[(key(2), Some(vec![2]))], &mut b2)
        .expect("apply");
    assert_eq!(r1, r2);
    b1.commit(Durability::Buffered).expect("commit");
    assert!(matches!(
        tree.apply(1, &[], &mut store.batch()),
        Err(StateError::VersionGap {
            expected: 2,
            got: 1
        })
    ));
    assert!(matches!(
        tree.get(&key(1), 5),
        Err(StateError::UnknownVersion {
            version: 5,
            latest: Some(1)
        })
    ));
    assert!(matches!(
        tree.prove(&key(1), 5),
        Err(StateError::UnknownVersion { .. })
    ));
}

#[test]
fn dropped_batch_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, tree) = open(&dir, StateHash::Sha256);
    let r0 = commit(&store, &tree, 0, &[(key(1), Some(vec![1]))]);
    let mut batch = store.batch();
    let r1 = tree
        .apply(1, &[(key(1), None), (key(2), Some(vec![2]))], &mut batch)
        .expect("apply");
    assert_ne!(r0, r1);
    assert!(!batch.is_empty());
    drop(batch);
    assert_eq!(tree.latest_version().expect("latest"), Some(0));
    assert_eq!(tree.root_at(1).expect("root"), None);
    assert_eq!(tree.get(&key(1), 0).expect("get"), Some(vec![1]));
    // The same version can now be applied differently.
    let r1b = commit(&store, &tree, 1, &[(key(3), Some(vec![3]))]);
    assert_ne!(r1b, r1);
    assert_eq!(tree.get(&key(2), 1).expect("get"), None);
}

#[test]
fn history_reads_and_duplicate_keys_last_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, tree) = open(&dir, StateHash::Sm3);
    commit(
        &store,
        &tree,
        0,
        &[(key(1), Some(vec![1])), (key(1), Some(vec![9]))],
    );
    commit(&store, &tree, 1, &[(key(1), None), (key(2), Some(vec![2]))]);
    commit(&store, &tree, 2, &[]);
    commit(&store, &tree, 3, &[(key(1), Some(vec![3]))]);
    let at = |k, v| tree.get(&key(k), v).expect("get");
    assert_eq!(
        (at(1, 0), at(1, 1), at(1, 2), at(1, 3)),
        (Some(vec![9]), None, None, Some(vec![3]))
    );
    assert_eq!(
        (at(2, 0), at(2, 1), at(2, 3)),
        (None, Some(vec![2]), Some(vec![2]))
    );
    assert_eq!(
        tree.root_at(2).expect("root"),
        tree.root_at(1).expect("root"),
        "empty block keeps root"
    );
    for v in 0..=3 {
        let root = tree.root_at(v).expect("root").expect("committed");
        for k in [1, 2, 3] {
            let (value, proof) = tree.prove(&key(k), v).expect("prove");
            assert_eq!(value, at(k, v));
            proof
                .verify(StateHash::Sm3, &root, &key(k), value.as_deref())
                .expect("verify");
        }
    }
}

#[test]
fn proof_encoding_round_trips_and_decoding_is_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, tree) = open(&dir, StateHash::Sha256);
    let changes: Vec<_> = (0u8..50).map(|i| ([i; 32], Some(vec![i; 3]))).collect();
    let root = commit(&store, &tree, 0, &changes);
    let (value, proof) = tree.prove(&[7; 32], 0).expect("prove");
    assert!(proof.siblings_len() > 0);
    let bytes = proof.to_bytes();
    let decoded = StateProof::from_bytes(&bytes).expect("decode");
    assert_eq!(decoded, proof);
    decoded
        .verify(StateHash::Sha256, &root, &[7; 32], value.as_deref())
        .expect("verify");
    let json = serde_json::to_string(&proof).expect("json");
    assert_eq!(
        serde_json::from_str::<StateProof>(&json).expect("json decode"),
        proof
    );
    assert_eq!(
        borsh::from_slice::<StateProof>(&bytes).expect("borsh"),
        proof
    );

    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        StateProof::from_bytes(&trailing),
        Err(StateError::Decode { .. })
    ));
    assert!(matches!(
        StateProof::from_bytes(&bytes[..bytes.len() - 1]),
        Err(StateError::Decode { .. })
    ));
    assert!(matches!(
        StateProof::from_bytes(&[]),
        Err(StateError::Decode { .. })
    ));
    assert!(matches!(
        StateProof::from_bytes(&vec![0u8; PROOF_LEN_MAX_BYTES + 1]),
        Err(StateError::Decode { .. })
    ));
    // 257 Null siblings: well-formed borsh but deeper than a 256-bit path allows.
    let mut deep = vec![0u8]; // leaf: None
    deep.extend_from_slice(&257u32.to_le_bytes());
    deep.extend(std::iter::repeat_n(0u8, 257)); // ProofNode::Null tags
    assert!(matches!(
        StateProof::from_bytes(&deep),
        Err(StateError::Decode { .. })
    ));
    // A huge claimed length must not allocate or panic.
    let mut huge = vec![0u8];
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(StateProof::from_bytes(&huge).is_err());
}

#[test]
fn tampered_proofs_fail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, tree) = open(&dir, StateHash::Sm3);
    let changes: Vec<_> = (0u8..20).map(|i| ([i; 32], Some(vec![i]))).collect();
    let root = commit(&store, &tree, 0, &changes);
    let (value, proof) = tree.prove(&[3; 32], 0).expect("prove");
    let value = value.expect("present");
    proof
        .verify(StateHash::Sm3, &root, &[3; 32], Some(&value))
        .expect("verify");
    assert!(
        proof
            .verify(StateHash::Sha256, &root, &[3; 32], Some(&value))
            .is_err(),
        "wrong suite"
    );
    assert!(
        proof
            .verify(StateHash::Sm3, &root, &[4; 32], Some(&value))
            .is_err(),
        "wrong key"
    );
    assert!(
        proof.verify(StateHash::Sm3, &root, &[3; 32], None).is_err(),
        "claims absence"
    );
    let mut wrong_root = root;
    wrong_root[31] ^= 1;
    assert!(matches!(
        proof.verify(StateHash::Sm3, &wrong_root, &[3; 32], Some(&value)),
        Err(StateError::ProofInvalid { .. })
    ));
    // Encoding: 1 (Some leaf) ‖ key_hash (32) ‖ value_hash (32) ‖ siblings.
    let mut bytes = proof.to_bytes();
    bytes[40] ^= 1; // flip a bit in the leaf's value hash
    let tampered = StateProof::from_bytes(&bytes).expect("still decodes");
    assert!(matches!(
        tampered.verify(StateHash::Sm3, &root, &[3; 32], Some(&value)),
        Err(StateError::ProofInvalid { .. })
    ));
}

#[test]
fn state_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = {
        let (store, tree) = open(&dir, StateHash::Sm3);
        commit(&store, &tree, 0, &[(key(1), Some(vec![1]))]);
        let mut batch = store.batch();
        let root = tree
            .apply(1, &[(key(2), Some(vec![2]))], &mut batch)
            .expect("apply");
        batch.commit(Durability::Sync).expect("commit");
        root
    };
    let (_store, tree) = open(&dir, StateHash::Sm3);
    assert_eq!(tree.latest_version().expect("latest"), Some(1));
    assert_eq!(tree.root_at(1).expect("root"), Some(root));
    assert_eq!(tree.get(&key(2), 1).expect("get"), Some(vec![2]));
}
