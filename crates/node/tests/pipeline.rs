//! The block pipeline: a block executed by one validator (possibly on top of an uncommitted
//! parent) validates on another, commits identically on both, and every kind of tampering is
//! rejected with a specific error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{KeyPair, Scheme, Suite};
use keel_ledger::{
    BlockError, ExecutedBlock, Genesis, GenesisAccount, GenesisValidator, VerifiedTx,
};
use keel_mempool::MempoolConfig;
use keel_node::{KeyFile, Node};
use keel_storage::StoreOptions;
use keel_types::{Address, Block, CommitCertificate, Hash, Payload, Signer, Transaction};
use std::sync::Arc;
use std::time::Instant;

const SUITE: Suite = Suite::Gm;

struct Two {
    a: Arc<Node>,
    b: Arc<Node>,
    alice: KeyPair,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

fn two_validators() -> Two {
    let ka = KeyPair::from_seed(Scheme::Sm2, &[1; 32]);
    let kb = KeyPair::from_seed(Scheme::Sm2, &[2; 32]);
    let alice = KeyPair::from_seed(Scheme::Sm2, &[3; 32]);
    let v = |k: &KeyPair, name: &str| {
        let f = KeyFile::from_key(k, SUITE);
        GenesisValidator {
            name: name.into(),
            scheme: f.scheme,
            public_key: f.public_key,
            address: f.address,
        }
    };
    let g = Genesis {
        governance: None,
        chain_id: 9,
        chain_name: "pipeline".into(),
        suite: "gm".into(),
        timestamp_ms: 1_000,
        gas_price: 1,
        validators: vec![v(&ka, "a"), v(&kb, "b")],
        alloc: vec![GenesisAccount {
            address: KeyFile::from_key(&alice, SUITE).address,
            balance: 10_000_000,
        }],
        observers: vec![],
    };
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let open = |k: &KeyPair, d: &tempfile::TempDir| {
        Node::open_with(
            g.clone(),
            k.clone(),
            d.path(),
            StoreOptions::default(),
            MempoolConfig::new(9, SUITE, 1),
        )
        .unwrap()
    };
    Two {
        a: open(&ka, &da),
        b: open(&kb, &db),
        alice,
        _dirs: (da, db),
    }
}

fn tx(key: &KeyPair, nonce: u64, amount: u128) -> keel_types::SignedTransaction {
    Transaction {
        chain_id: 9,
        nonce,
        expires_at_height: 100,
        gas_limit: 21_000,
        signer: Signer {
            scheme: key.scheme(),
            public_key: key.public_key(),
        },
        payload: Payload::Transfer {
            to: Address([7; 20]),
            amount,
        },
    }
    .sign(key)
}

fn verified(t: keel_types::SignedTransaction) -> VerifiedTx {
    let hash = t.hash(SUITE.hash());
    let sender = t.sender(SUITE).unwrap();
    VerifiedTx {
        tx: Arc::new(t),
        hash,
        sender,
    }
}

fn cert() -> CommitCertificate {
    CommitCertificate::default()
}

#[test]
fn pipelined_blocks_validate_and_commit_identically_on_another_validator() {
    let t = two_validators();
    let pa = t.a.validator_address();
    // A builds block 1 and, before committing it, block 2 on top of it.
    let e1 =
        t.a.execute_on(
            &[],
            vec![verified(tx(&t.alice, 0, 5)), verified(tx(&t.alice, 1, 6))],
            2_000,
            pa,
        )
        .unwrap();
    let e2 =
        t.a.execute_on(&[&e1], vec![verified(tx(&t.alice, 2, 7))], 3_000, pa)
            .unwrap();
    assert_eq!(e2.block.header.parent_hash, e1.hash);
    assert_ne!(e1.block.header.state_root, e2.block.header.state_root);
    // B validates both, the second on top of its own pending copy of the first.
    let b1 = t.b.validate_block(&e1.block, &[], 2_500).unwrap();
    let b2 = t.b.validate_block(&e2.block, &[&b1], 3_500).unwrap();
    assert_eq!((b1.hash, b2.hash), (e1.hash, e2.hash));
    // Commit on both, in order.
    for (node, blocks) in [(&t.a, [&e1, &e2]), (&t.b, [&b1, &b2])] {
        for e in blocks {
            node.commit_block(e, cert(), Instant::now()).unwrap();
        }
        assert_eq!(node.head().hash, e2.hash);
        assert_eq!(node.account(&Address([7; 20])).unwrap().balance, 18);
    }
    // Committing out of order is refused.
    assert!(t.a.commit_block(&e1, cert(), Instant::now()).is_err());
}

fn expect_err(r: Result<ExecutedBlock, BlockError>, needle: &str) {
    match r {
        Ok(_) => panic!("expected an error mentioning {needle:?}"),
        Err(e) => assert!(
            e.to_string().contains(needle),
            "{e} does not mention {needle:?}"
        ),
    }
}

#[test]
fn tampered_proposals_are_rejected_with_specific_errors() {
    let t = two_validators();
    let pa = t.a.validator_address();
    let good =
        t.a.execute_on(
            &[],
            vec![verified(tx(&t.alice, 0, 5)), verified(tx(&t.alice, 1, 6))],
            2_000,
            pa,
        )
        .unwrap();
    t.b.validate_block(&good.block, &[], 2_000).unwrap();
    let variant = |f: &dyn Fn(&mut Block)| {
        let mut b = good.block.clone();
        f(&mut b);
        b
    };
    let v = |b: Block| t.b.validate_block(&b, &[], 2_000);
    expect_err(
        v(variant(&|b| b.header.state_root = Hash([9; 32]))),
        "state root mismatch",
    );
    expect_err(
        v(variant(&|b| b.header.receipts_root = Hash([9; 32]))),
        "receipts root mismatch",
    );
    expect_err(
        v(variant(&|b| b.header.tx_root = Hash([9; 32]))),
        "tx root mismatch",
    );
    expect_err(v(variant(&|b| b.header.gas_used += 1)), "gas used mismatch");
    expect_err(
        v(variant(&|b| b.header.parent_hash = Hash([1; 32]))),
        "parent_hash",
    );
    expect_err(v(variant(&|b| b.header.height = 5)), "height");
    expect_err(v(variant(&|b| b.header.chain_id = 8)), "chain_id");
    expect_err(v(variant(&|b| b.header.timestamp_ms = 500)), "timestamp_ms");
    expect_err(
        v(variant(&|b| {
            b.header.timestamp_ms = 2_001 + keel_ledger::MAX_FUTURE_DRIFT_MS
        })),
        "timestamp_ms",
    );
    expect_err(
        v(variant(&|b| b.header.proposer = Address([5; 20]))),
        "not a validator",
    );
    expect_err(v(variant(&|b| b.header.tx_count = 3)), "tx_count");
    expect_err(
        v(variant(&|b| b.transactions[1].signature[5] ^= 1)),
        "transaction 1: signature does not verify",
    );
    expect_err(
        v(variant(&|b| b.transactions[1] = b.transactions[0].clone())),
        "duplicate",
    );
    expect_err(
        v(variant(&|b| b.transactions[0].tx.chain_id = 1)),
        "transaction 0: wrong chain id",
    );
    // A block with a nonce gap is void: the proposer must not include it.
    let gap =
        t.a.execute_on(&[], vec![verified(tx(&t.alice, 3, 1))], 2_000, pa);
    expect_err(gap, "NONCE_MISMATCH");
    // The node keeps validating good blocks after all that.
    t.b.validate_block(&good.block, &[], 2_000).unwrap();
}

/// Security review finding 10: a leader re-including an already committed transaction. The
/// replay is refused by name (a tx index lookup) before any execution, and the committed
/// receipt and index entry stay as they were.
#[test]
fn a_committed_transaction_is_never_included_again() {
    let t = two_validators();
    let pa = t.a.validator_address();
    let paid = tx(&t.alice, 0, 5);
    let hash = paid.hash(SUITE.hash());
    let e1 =
        t.a.execute_on(&[], vec![verified(paid.clone())], 2_000, pa)
            .unwrap();
    t.a.commit_block(&e1, cert(), Instant::now()).unwrap();
    let before = format!("{:?}", t.a.receipt(&hash).unwrap().unwrap());
    let mut replay = e1.block.clone();
    replay.header.height = 2;
    replay.header.parent_hash = e1.hash;
    replay.header.timestamp_ms = 2_100;
    expect_err(t.a.validate_block(&replay, &[], 2_500), "already committed");
    let after = format!("{:?}", t.a.receipt(&hash).unwrap().unwrap());
    assert_eq!(before, after, "the settled receipt is unchanged");
}

fn fat_evidence(key: &KeyPair, nonce: u64) -> keel_types::SignedTransaction {
    Transaction {
        chain_id: 9,
        nonce,
        expires_at_height: 100,
        gas_limit: 10_000_000,
        signer: Signer {
            scheme: key.scheme(),
            public_key: key.public_key(),
        },
        payload: Payload::EvidencePut(keel_types::EvidencePut {
            content_hash: Hash([nonce as u8; 32]),
            hash_alg: keel_types::ContentHashAlg::Sm3,
            size: 1,
            media_type: "application/json".into(),
            metadata: "m".repeat(keel_types::limits::MAX_EVIDENCE_METADATA_BYTES),
        }),
    }
    .sign(key)
}

/// Security review finding 4: blocks were bounded by count only, so a block of fat evidence
/// records could exceed the network frame and never reach anyone. Building and validation now
/// stop at the byte budget, before any signature or state work.
#[test]
fn blocks_over_the_byte_budget_are_neither_built_nor_accepted() {
    let t = two_validators();
    let pa = t.a.validator_address();
    let fat = fat_evidence(&t.alice, 0);
    let n = keel_types::limits::MAX_BLOCK_TX_BYTES / fat.encode().len() + 1;
    let over: Vec<VerifiedTx> = (0..n).map(|_| verified(fat.clone())).collect();
    expect_err(t.a.execute_on(&[], over, 2_000, pa), "block budget");
    let empty = t.a.execute_on(&[], vec![], 2_000, pa).unwrap();
    let mut block = empty.block.clone();
    block.transactions = vec![fat; n];
    block.header.tx_count = n as u32;
    expect_err(t.b.validate_block(&block, &[], 2_000), "block budget");
}

/// Issue 12: a block whose EVM transactions declare more gas than the block gas budget is
/// refused before any execution.
#[test]
fn blocks_over_the_evm_gas_budget_are_refused() {
    let t = two_validators();
    let pa = t.a.validator_address();
    let per_tx = keel_types::limits::MIN_BLOCK_EVM_GAS;
    let n = (keel_types::limits::DEFAULT_MAX_BLOCK_EVM_GAS / per_tx + 1) as usize;
    let calls: Vec<keel_types::SignedTransaction> = (0..n as u64)
        .map(|nonce| {
            Transaction {
                chain_id: 9,
                nonce,
                expires_at_height: 100,
                gas_limit: per_tx,
                signer: Signer {
                    scheme: t.alice.scheme(),
                    public_key: t.alice.public_key(),
                },
                payload: Payload::EvmCall {
                    to: Some(Address([3; 20])),
                    value: 0,
                    data: vec![],
                },
            }
            .sign(&t.alice)
        })
        .collect();
    let empty = t.a.execute_on(&[], vec![], 2_000, pa).unwrap();
    let mut block = empty.block.clone();
    block.transactions = calls;
    block.header.tx_count = n as u32;
    expect_err(t.b.validate_block(&block, &[], 2_000), "block gas budget");
}
