//! The re-execution path, driven by hand: a transaction speculated on a stale prefix is found
//! invalid at commit and re-executed on the exact one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::{Acc, Block, Segment, mv::MvMemory};
use crate::{BlockContext, ChainParams, Executor, MemoryState, TxInput, genesis_changes};
use keel_crypto::{HashAlgorithm, Scheme, Suite};
use keel_types::{Address, Payload, SignedTransaction, Signer, Transaction, TxStatus};
use std::sync::atomic::Ordering;

const ALG: HashAlgorithm = HashAlgorithm::Sm3;

fn transfer(nonce: u64, to: Address, amount: u128) -> SignedTransaction {
    SignedTransaction {
        tx: Transaction {
            chain_id: 9,
            nonce,
            expires_at_height: 100,
            gas_limit: 1_000_000,
            signer: Signer {
                scheme: Scheme::Sm2,
                public_key: vec![2; 33],
            },
            payload: Payload::Transfer { to, amount },
        },
        signature: vec![0; 64],
    }
}

#[test]
fn a_transaction_speculated_before_its_dependency_is_re_executed() {
    let (a, b, c) = (Address([1; 20]), Address([2; 20]), Address([3; 20]));
    let mut state = MemoryState::default();
    // B cannot pay its fee + 500 until A's transfer lands.
    state.apply(&genesis_changes(ALG, &[(a, 1_000_000), (b, 0)]));
    let ex = Executor::new(ChainParams {
        chain_id: 9,
        suite: Suite::Gm,
        gas_price: 0,
    });
    let (t0, t1) = (transfer(0, b, 1_000), transfer(0, c, 500));
    let txs = [
        TxInput {
            tx: &t0,
            hash: t0.hash(ALG),
            sender: a,
        },
        TxInput {
            tx: &t1,
            hash: t1.hash(ALG),
            sender: b,
        },
    ];
    let ctx = BlockContext {
        height: 1,
        timestamp_ms: 1,
    };
    let serial = ex.execute_block(&state, ctx, &txs).unwrap();
    assert!(
        serial
            .receipts
            .iter()
            .all(|r| r.status == TxStatus::Success)
    );

    let block = Block {
        exec: &ex,
        base: &state,
        mv: MvMemory::with_capacity(8),
        ctx,
        txs: &txs,
    };
    let mut acc = Acc::default();
    let seg = Segment::new(&block, (0, 2), 2, &mut acc);
    seg.next.store(2, Ordering::Release);
    // Transaction 1 first, on the empty prefix: B has nothing yet.
    let stale = seg.speculate(1);
    assert_eq!(stale.snapshot, 0);
    let stale_receipt = &stale.run.as_ref().unwrap().receipt;
    assert_eq!(stale_receipt.status, TxStatus::Failed, "{stale_receipt:?}");
    *super::lock(&seg.slots[1]) = Some(stale);
    *super::lock(&seg.slots[0]) = Some(seg.speculate(0));
    seg.commit_ready(&mut super::lock(&seg.acc));
    assert_eq!(seg.committed.load(Ordering::Acquire), 2);
    drop(seg);
    assert_eq!(acc.reexecuted, 1, "only the stale speculation re-runs");
    assert_eq!(acc.receipts, serial.receipts);
    assert_eq!(acc.gas_used, serial.gas_used);
    assert_eq!(block.mv.into_changes(), serial.changes);
}

#[test]
fn a_hot_key_keeps_recent_versions_and_refuses_reads_of_dropped_ones() {
    let mv = MvMemory::with_capacity(1);
    let key = [7u8; 32];
    for j in 0..40u32 {
        mv.write(j, vec![(key, Some(j.to_le_bytes().to_vec()))]);
    }
    // Exact reads (the committed prefix) and recent ones see the right version.
    assert_eq!(
        mv.read(&key, 40).ok(),
        Some(Some(Some(39u32.to_le_bytes().to_vec())))
    );
    assert_eq!(
        mv.read(&key, 35).ok(),
        Some(Some(Some(34u32.to_le_bytes().to_vec())))
    );
    assert_eq!(mv.last_writer(&key), Some(39));
    // A stale one that needs a dropped version is told so (its speculation is re-executed).
    assert!(mv.read(&key, 1).is_err());
    assert_eq!(mv.read(&[8u8; 32], 1).ok(), Some(None));
    assert_eq!(
        mv.into_changes(),
        vec![(key, Some(39u32.to_le_bytes().to_vec()))]
    );
}
