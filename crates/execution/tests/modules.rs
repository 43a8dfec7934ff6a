//! Native module behaviour: transfers, fees, failures in blocks, evidence duplicate rule,
//! determinism and conservation of supply.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{HashAlgorithm, Suite};
use keel_execution::*;
use keel_types::*;
use proptest::prelude::*;

mod common;
use common::tx;

const ALG: HashAlgorithm = HashAlgorithm::Sm3;

fn params(gas_price: u128) -> ChainParams {
    ChainParams {
        chain_id: 9,
        suite: Suite::Gm,
        gas_price,
    }
}

fn addr(i: u8) -> Address {
    Address([i; 20])
}

fn run(
    ex: &Executor,
    state: &mut MemoryState,
    height: u64,
    txs: &[(Address, SignedTransaction)],
) -> BlockOutcome {
    let inputs: Vec<TxInput<'_>> = txs
        .iter()
        .map(|(sender, t)| TxInput {
            tx: t,
            hash: t.hash(ALG),
            sender: *sender,
        })
        .collect();
    let out = ex
        .execute_block(
            state,
            BlockContext {
                height,
                timestamp_ms: 1_700_000_000_000 + height,
            },
            &inputs,
        )
        .unwrap();
    state.apply(&out.changes);
    out
}

fn account(state: &MemoryState, a: &Address) -> Account {
    state
        .get(&keys::account(ALG, a))
        .unwrap()
        .map(|b| Account::decode(&[0; 32], &b).unwrap())
        .unwrap_or_default()
}

fn genesis(alloc: &[(Address, u128)]) -> MemoryState {
    let mut s = MemoryState::default();
    s.apply(&genesis_changes(ALG, alloc));
    s
}

#[test]
fn transfer_moves_balance_charges_fee_and_bumps_nonce() {
    let ex = Executor::new(params(2));
    let mut s = genesis(&[(addr(1), 1_000_000)]);
    let out = run(
        &ex,
        &mut s,
        1,
        &[(
            addr(1),
            tx(
                0,
                Payload::Transfer {
                    to: addr(2),
                    amount: 500,
                },
            ),
        )],
    );
    let r = &out.receipts[0];
    assert_eq!(r.status, TxStatus::Success);
    assert_eq!(r.gas_used, 21_000);
    assert_eq!(r.fee, 42_000);
    assert_eq!(r.events[0].name, "Transfer");
    assert_eq!(
        account(&s, &addr(1)),
        Account {
            nonce: 1,
            balance: 1_000_000 - 500 - 42_000
        }
    );
    assert_eq!(
        account(&s, &addr(2)),
        Account {
            nonce: 0,
            balance: 500
        }
    );
}

#[test]
fn failed_transfer_is_in_block_with_precise_error_and_only_nonce_and_fee_apply() {
    let ex = Executor::new(params(1));
    let mut s = genesis(&[(addr(1), 30_000)]);
    let out = run(
        &ex,
        &mut s,
        1,
        &[(
            addr(1),
            tx(
                0,
                Payload::Transfer {
                    to: addr(2),
                    amount: 10_000,
                },
            ),
        )],
    );
    let r = &out.receipts[0];
    assert_eq!(r.status, TxStatus::Failed);
    let (code, msg) = r.error.clone().unwrap();
    assert_eq!(code, ExecErrorCode::InsufficientBalance);
    assert!(msg.contains("less than the amount 10000"), "{msg}");
    assert!(r.events.is_empty());
    assert_eq!(
        account(&s, &addr(1)),
        Account {
            nonce: 1,
            balance: 30_000 - 21_000
        }
    );
    assert_eq!(account(&s, &addr(2)), Account::default());
}

#[test]
fn nonce_mismatch_and_expiry_are_void() {
    let ex = Executor::new(params(1));
    let mut s = genesis(&[(addr(1), 100_000)]);
    let mut expired = tx(
        0,
        Payload::Transfer {
            to: addr(2),
            amount: 1,
        },
    );
    expired.tx.expires_at_height = 4;
    let out = run(
        &ex,
        &mut s,
        5,
        &[
            (
                addr(1),
                tx(
                    3,
                    Payload::Transfer {
                        to: addr(2),
                        amount: 1,
                    },
                ),
            ),
            (addr(1), expired),
        ],
    );
    assert_eq!(
        out.receipts[0].error.as_ref().unwrap().0,
        ExecErrorCode::NonceMismatch
    );
    assert_eq!(
        out.receipts[1].error.as_ref().unwrap().0,
        ExecErrorCode::Expired
    );
    assert!(out.changes.is_empty());
    assert_eq!(out.gas_used, 0);
}

#[test]
fn evidence_put_records_and_rejects_duplicates() {
    let ex = Executor::new(params(0));
    let mut s = genesis(&[]);
    let put = |nonce| {
        tx(
            nonce,
            Payload::EvidencePut(EvidencePut {
                content_hash: Hash([0xcd; 32]),
                hash_alg: ContentHashAlg::Sm3,
                size: 1234,
                media_type: "application/pdf".into(),
                metadata: "{\"contract\":\"A-17\"}".into(),
            }),
        )
    };
    let first = put(0);
    let id = first.hash(ALG);
    let out = run(&ex, &mut s, 7, &[(addr(5), first)]);
    assert_eq!(out.receipts[0].status, TxStatus::Success);
    assert_eq!(out.receipts[0].output, id.0.to_vec());
    assert_eq!(out.new_evidence, vec![(addr(5), id)]);
    let stored = s.get(&keys::evidence(ALG, &id)).unwrap().unwrap();
    let rec = EvidenceRecord::decode(&[0; 32], &stored).unwrap();
    assert_eq!(rec.owner, addr(5));
    assert_eq!(rec.height, 7);
    assert_eq!(rec.size, 1234);
    let by_hash = s
        .get(&keys::evidence_by_hash(
            ALG,
            ContentHashAlg::Sm3,
            &Hash([0xcd; 32]),
        ))
        .unwrap()
        .unwrap();
    assert_eq!(by_hash, id.0.to_vec());

    // Same content hash again, by someone else: fails, names the existing record.
    let out = run(&ex, &mut s, 8, &[(addr(6), put(0))]);
    let (code, msg) = out.receipts[0].error.clone().unwrap();
    assert_eq!(code, ExecErrorCode::EvidenceDuplicate);
    assert!(msg.contains(&id.to_string()), "{msg}");
    assert!(out.new_evidence.is_empty());
    assert_eq!(account(&s, &addr(6)).nonce, 1);
    // Same hash under the other algorithm is a different record.
    let mut other = put(1);
    if let Payload::EvidencePut(e) = &mut other.tx.payload {
        e.hash_alg = ContentHashAlg::Sha256;
    }
    let out = run(&ex, &mut s, 9, &[(addr(6), other)]);
    assert_eq!(out.receipts[0].status, TxStatus::Success);
}

#[test]
fn later_tx_in_block_sees_earlier_effects() {
    let ex = Executor::new(params(0));
    let mut s = genesis(&[(addr(1), 10)]);
    let out = run(
        &ex,
        &mut s,
        1,
        &[
            (
                addr(1),
                tx(
                    0,
                    Payload::Transfer {
                        to: addr(2),
                        amount: 10,
                    },
                ),
            ),
            (
                addr(2),
                tx(
                    0,
                    Payload::Transfer {
                        to: addr(3),
                        amount: 10,
                    },
                ),
            ),
            (
                addr(1),
                tx(
                    1,
                    Payload::Transfer {
                        to: addr(3),
                        amount: 1,
                    },
                ),
            ),
        ],
    );
    assert_eq!(out.receipts[0].status, TxStatus::Success);
    assert_eq!(out.receipts[1].status, TxStatus::Success);
    assert_eq!(out.receipts[2].status, TxStatus::Failed);
    assert_eq!(account(&s, &addr(3)).balance, 10);
    assert_eq!(
        account(&s, &addr(1)),
        Account {
            nonce: 2,
            balance: 0
        }
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Supply is conserved (fees are burned) and execution is deterministic.
    #[test]
    fn supply_conserved_and_deterministic(
        ops in proptest::collection::vec((0u8..4, 0u8..4, 0u128..2_000_000), 1..40),
        gas_price in 0u128..3,
    ) {
        let ex = Executor::new(params(gas_price));
        let alloc: Vec<_> = (0..4).map(|i| (addr(i), 1_000_000u128)).collect();
        let mut s1 = genesis(&alloc);
        let mut s2 = genesis(&alloc);
        let mut nonces = [0u64; 4];
        let txs: Vec<(Address, SignedTransaction)> = ops.iter().map(|(f, t, amount)| {
            let n = nonces[*f as usize];
            nonces[*f as usize] += 1;
            (addr(*f), tx(n, Payload::Transfer { to: addr(*t), amount: *amount }))
        }).collect();
        let o1 = run(&ex, &mut s1, 1, &txs);
        let o2 = run(&ex, &mut s2, 1, &txs);
        prop_assert_eq!(&o1, &o2);
        let total: u128 = (0..4).map(|i| account(&s1, &addr(i)).balance).sum();
        let fees: u128 = o1.receipts.iter().map(|r| r.fee).sum();
        prop_assert_eq!(total + fees, 4_000_000);
        for i in 0..4 {
            prop_assert_eq!(account(&s1, &addr(i)).nonce, nonces[i as usize]);
        }
    }
}
