//! Node lifecycle: genesis initialisation, restart at the same head, refusing a foreign
//! database or a non-validator key, halting, and `verify_chain` catching tampering.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{KeyPair, Suite};
use keel_ledger::{Genesis, GenesisAccount, GenesisValidator, LedgerError};
use keel_mempool::MempoolConfig;
use keel_node::{KeyFile, Node, NodeError};
use keel_storage::{Durability, StoreOptions, Table};
use keel_types::{Address, Payload, Signer, Transaction};
use std::path::Path;
use std::sync::Arc;

fn genesis(suite: Suite, v: &KeyPair, funded: &KeyPair) -> Genesis {
    let vkf = KeyFile::from_key(v, suite);
    Genesis {
        governance: None,
        chain_id: 5,
        chain_name: "node-test".into(),
        suite: suite.name().into(),
        timestamp_ms: 1_000,
        gas_price: 0,
        validators: vec![GenesisValidator {
            name: "v".into(),
            scheme: vkf.scheme,
            public_key: vkf.public_key,
            address: vkf.address,
        }],
        alloc: vec![GenesisAccount {
            address: KeyFile::from_key(funded, suite).address,
            balance: 1_000_000,
        }],
        observers: vec![],
    }
}

fn open(g: &Genesis, v: &KeyPair, dir: &Path) -> Result<Arc<Node>, NodeError> {
    Node::open_with(
        g.clone(),
        v.clone(),
        dir,
        StoreOptions::default(),
        MempoolConfig::new(g.chain_id, Suite::Gm, 0),
    )
}

fn transfers(node: &Node, key: &KeyPair, from_nonce: u64, n: u64) {
    let raws: Vec<Vec<u8>> = (from_nonce..from_nonce + n)
        .map(|nonce| {
            Transaction {
                chain_id: 5,
                nonce,
                expires_at_height: 1_000,
                gas_limit: 21_000,
                signer: Signer {
                    scheme: key.scheme(),
                    public_key: key.public_key(),
                },
                payload: Payload::Transfer {
                    to: Address([9; 20]),
                    amount: 10,
                },
            }
            .sign(key)
            .encode()
        })
        .collect();
    for r in node.submit(&raws) {
        r.unwrap();
    }
}

#[test]
fn restart_resumes_at_the_same_head_and_state() {
    for suite in [Suite::Gm, Suite::Intl] {
        let dir = tempfile::tempdir().unwrap();
        let v = KeyPair::from_seed(suite.signature_scheme(), &[1; 32]);
        let alice = KeyPair::from_seed(suite.signature_scheme(), &[2; 32]);
        let g = genesis(suite, &v, &alice);
        let (head, root) = {
            let node = open(&g, &v, dir.path()).unwrap();
            assert_eq!(node.head().height, 0);
            transfers(&node, &alice, 0, 5);
            let b = node.produce_block(2_000, 3, false).unwrap().unwrap();
            assert_eq!(b.transactions.len(), 3);
            node.produce_block(1_500, 10, false).unwrap().unwrap();
            assert!(node.produce_block(3_000, 10, false).unwrap().is_none());
            let head = node.head();
            // Timestamps never go backwards.
            assert_eq!(head.header.timestamp_ms, 2_000);
            (head, node.account(&Address([9; 20])).unwrap())
        };
        let node = open(&g, &v, dir.path()).unwrap();
        assert_eq!(node.head(), head);
        assert_eq!(node.account(&Address([9; 20])).unwrap(), root);
        assert_eq!(root.balance, 50);
        assert_eq!(node.verify_chain().unwrap(), 3);
        // The chain goes on after restart.
        transfers(&node, &alice, 5, 1);
        assert_eq!(
            node.produce_block(4_000, 10, true)
                .unwrap()
                .unwrap()
                .header
                .height,
            3
        );
    }
}

#[test]
fn refuses_a_foreign_database_and_opens_a_joining_key() {
    let dir = tempfile::tempdir().unwrap();
    let v = KeyPair::from_seed(keel_crypto::Scheme::Sm2, &[1; 32]);
    let alice = KeyPair::from_seed(keel_crypto::Scheme::Sm2, &[2; 32]);
    let g = genesis(Suite::Gm, &v, &alice);
    drop(open(&g, &v, dir.path()).unwrap());
    let mut other = g.clone();
    other.chain_name = "another chain".into();
    match open(&other, &v, dir.path()) {
        Err(NodeError::Ledger(LedgerError::GenesisMismatch { .. })) => {}
        r => panic!("expected GenesisMismatch, got {r:?}"),
    }
    // A key in no genesis list opens (a node joining by a governance vote, issue 14): it
    // is not a validator of the current epoch, so it never votes until admitted.
    let stranger = KeyPair::from_seed(keel_crypto::Scheme::Sm2, &[3; 32]);
    let joining = tempfile::tempdir().unwrap();
    let node = open(&g, &stranger, joining.path()).unwrap();
    let (set, _) = node.consensus_parts().unwrap();
    let me = node.validator_address();
    assert!(
        !set.contains(&me),
        "not a validator until governance adds it"
    );
}

#[test]
fn halted_node_rejects_transactions_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let v = KeyPair::from_seed(keel_crypto::Scheme::Ed25519, &[1; 32]);
    let alice = KeyPair::from_seed(keel_crypto::Scheme::Ed25519, &[2; 32]);
    let g = genesis(Suite::Intl, &v, &alice);
    let node = open(&g, &v, dir.path()).unwrap();
    node.halt("disk full".into());
    let raw = Transaction {
        chain_id: 5,
        nonce: 0,
        expires_at_height: 10,
        gas_limit: 21_000,
        signer: Signer {
            scheme: alice.scheme(),
            public_key: alice.public_key(),
        },
        payload: Payload::Transfer {
            to: Address([9; 20]),
            amount: 1,
        },
    }
    .sign(&alice)
    .encode();
    let err = node.submit(&[raw]).remove(0).unwrap_err();
    assert!(err.to_string().contains("disk full"), "{err}");
    assert_eq!(node.halted().as_deref(), Some("disk full"));
}

#[test]
fn verify_chain_detects_tampered_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let v = KeyPair::from_seed(keel_crypto::Scheme::Ed25519, &[1; 32]);
    let alice = KeyPair::from_seed(keel_crypto::Scheme::Ed25519, &[2; 32]);
    let g = genesis(Suite::Intl, &v, &alice);
    let node = open(&g, &v, dir.path()).unwrap();
    transfers(&node, &alice, 0, 4);
    node.produce_block(2_000, 2, false).unwrap().unwrap();
    node.produce_block(3_000, 2, false).unwrap().unwrap();
    assert_eq!(node.verify_chain().unwrap(), 3);
    // Overwrite block 1's receipts with block 2's: roots no longer match.
    let store = node.chain().store().clone();
    let r2 = store
        .scan_prefix(Table::Receipts, &2u64.to_be_bytes(), 10)
        .unwrap();
    let mut batch = store.batch();
    for (i, (_, v)) in r2.iter().enumerate() {
        let mut k = 1u64.to_be_bytes().to_vec();
        k.extend_from_slice(&(i as u32).to_be_bytes());
        batch.put(Table::Receipts, &k, v);
    }
    batch.commit(Durability::Sync).unwrap();
    let err = node.verify_chain().unwrap_err();
    assert!(err.to_string().contains("block 1"), "{err}");
}

#[test]
fn documented_node_toml_example_parses() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/operations.md"
    ))
    .unwrap();
    let start = doc.find("```toml\n").expect("a toml example") + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let text = doc[start..end].replace("0x…", &format!("{}", Address([1; 20])));
    let cfg: keel_node::NodeConfig = toml::from_str(&text).unwrap();
    let p2p = cfg.p2p.expect("the example has a [p2p] section");
    assert_eq!(p2p.peers.len(), 1);
    assert_eq!(p2p.round_timeout_ms, 1000);
    assert_eq!(cfg.producer.max_block_txs, 10_000);
    let pki = cfg.pki.expect("the example has a [pki] section");
    assert_eq!(pki.expiry_warning_days, 30);
    assert!(pki.crl_file.is_some());
}

/// Issue 12: a block's rows are in the store a moment before `commit_block` publishes the head.
/// Reads in that window must not show its transactions, else a wallet sees a receipt in block N
/// while `eth_blockNumber` (the head) is still N − 1. The window is recreated exactly: block 1
/// of a twin node is written into this node's store without publishing the head.
#[test]
fn transactions_of_a_block_above_the_published_head_are_not_visible() {
    let suite = Suite::Gm;
    let v = KeyPair::from_seed(keel_crypto::Scheme::Sm2, &[1; 32]);
    let alice = KeyPair::from_seed(keel_crypto::Scheme::Sm2, &[2; 32]);
    let g = genesis(suite, &v, &alice);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let twin = open(&g, &v, dir_a.path()).unwrap();
    transfers(&twin, &alice, 0, 1);
    let block = twin.produce_block(2_000, 10, false).unwrap().unwrap();
    let alg = suite.hash();
    let tx_hash = block.transactions[0].hash(alg);
    assert!(twin.receipt(&tx_hash).unwrap().is_some());

    let node = open(&g, &v, dir_b.path()).unwrap();
    let mut batch = node.chain().store().batch();
    node.chain().put_block(
        &mut batch,
        &block,
        &block.hash(alg),
        &[tx_hash],
        &twin.chain().block_receipts(1).unwrap(),
        &[],
    );
    batch.commit(Durability::Sync).unwrap();
    assert_eq!(node.head().height, 0, "the head is not published");
    assert!(
        node.receipt(&tx_hash).unwrap().is_none(),
        "receipt above the head"
    );
    assert!(node.transaction(&tx_hash).unwrap().is_none());
    assert!(node.tx_location(&tx_hash).unwrap().is_none());
}
