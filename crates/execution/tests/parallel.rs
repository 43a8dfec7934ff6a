//! Parallel execution gives serial execution's outcome: random blocks of native transfers,
//! evidence records, asset operations and governance barriers, with hot accounts, repeated
//! senders, wrong nonces, expired and failing transactions, executed serially and with 2 and
//! 4 threads — receipts, changes, gas and evidence must be equal; twice in a row, so the second
//! block runs on state the first one wrote.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use keel_execution::*;
use keel_types::*;
use proptest::prelude::*;
use std::collections::HashMap;

/// Accounts 0..=9 are funded; 10..=11 have nothing (their fees fail).
const ACCOUNTS: u8 = 12;

#[derive(Clone, Debug)]
enum Op {
    Transfer(u8, u128),
    Evidence(u8),
    AssetTransfer(u8, u8, u128),
    Mint(u8, u128),
    Burn(u8, u128),
    Approve(u8, u8, u128),
    TransferFrom(u8, u8, u8, u128),
    AssetFreeze(u8, u8),
    GovFreeze(u8, bool),
}

#[derive(Clone, Debug)]
struct Step {
    sender: u8,
    /// 0: next nonce; 1: a wrong one; 2: expired.
    quirk: u8,
    op: Op,
}

/// Senders and recipients: a hot account (0) half the time when `hot`, else any.
fn who(hot: bool) -> BoxedStrategy<u8> {
    if hot {
        prop_oneof![Just(0u8), 0..ACCOUNTS].boxed()
    } else {
        (0..ACCOUNTS).boxed()
    }
}

fn op(hot: bool) -> impl Strategy<Value = Op> {
    let amount = prop_oneof![0..2_000u128, Just(2_000_000_000u128)];
    prop_oneof![
        6 => (who(hot), amount.clone()).prop_map(|(t, a)| Op::Transfer(t, a)),
        2 => (0..6u8).prop_map(Op::Evidence),
        4 => (0..3u8, who(hot), amount.clone()).prop_map(|(s, t, a)| Op::AssetTransfer(s, t, a)),
        1 => (0..3u8, amount.clone()).prop_map(|(s, a)| Op::Mint(s, a)),
        1 => (0..3u8, amount.clone()).prop_map(|(s, a)| Op::Burn(s, a)),
        1 => (0..3u8, who(hot), amount.clone()).prop_map(|(s, t, a)| Op::Approve(s, t, a)),
        2 => (0..3u8, who(hot), who(hot), amount).prop_map(|(s, f, t, a)| Op::TransferFrom(s, f, t, a)),
        1 => (0..3u8, who(hot)).prop_map(|(s, h)| Op::AssetFreeze(s, h)),
        1 => (who(hot), any::<bool>()).prop_map(|(a, f)| Op::GovFreeze(a, f)),
    ]
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    any::<bool>().prop_flat_map(|hot| {
        let quirk = prop_oneof![18 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)];
        prop::collection::vec(
            (who(hot), quirk, op(hot)).prop_map(|(sender, quirk, op)| Step { sender, quirk, op }),
            0..120,
        )
    })
}

/// The chain before the blocks: governance committee {1}, two assets (2: unknown id).
struct Setup {
    chain: Chain,
    assets: [Hash; 3],
}

fn setup() -> Setup {
    let mut chain = Chain::new(&[1]);
    let a = chain.issue(1, plain());
    let b = chain.issue(
        2,
        AssetIssue {
            issuer: addr(2),
            symbol: "KB".into(),
            ..plain()
        },
    );
    for to in 0..ACCOUNTS {
        chain.asset(
            1,
            AssetOp::Transfer {
                asset: a,
                to: addr(to),
                amount: 50,
            },
        );
        chain.asset(
            2,
            AssetOp::Transfer {
                asset: b,
                to: addr(to),
                amount: 50,
            },
        );
    }
    Setup {
        chain,
        assets: [a, b, Hash([7; 32])],
    }
}

fn payload(s: &Setup, sender: u8, op: &Op) -> Payload {
    let asset = |i: u8| s.assets[usize::from(i % 3)];
    match *op {
        Op::Transfer(to, amount) => Payload::Transfer {
            to: addr(to),
            amount,
        },
        Op::Evidence(c) => Payload::EvidencePut(EvidencePut {
            content_hash: Hash([c; 32]),
            hash_alg: ContentHashAlg::Sm3,
            size: 10,
            media_type: "text/plain".into(),
            metadata: String::new(),
        }),
        Op::AssetTransfer(i, to, amount) => Payload::Asset(AssetOp::Transfer {
            asset: asset(i),
            to: addr(to),
            amount,
        }),
        Op::Mint(i, amount) => Payload::Asset(AssetOp::Mint {
            asset: asset(i),
            to: addr(sender),
            amount,
        }),
        Op::Burn(i, amount) => Payload::Asset(AssetOp::Burn {
            asset: asset(i),
            amount,
        }),
        Op::Approve(i, sp, amount) => Payload::Asset(AssetOp::Approve {
            asset: asset(i),
            spender: addr(sp),
            amount,
        }),
        Op::TransferFrom(i, from, to, amount) => Payload::Asset(AssetOp::TransferFrom {
            asset: asset(i),
            from: addr(from),
            to: addr(to),
            amount,
        }),
        Op::AssetFreeze(i, h) => Payload::Asset(AssetOp::Freeze {
            asset: asset(i),
            holder: addr(h),
        }),
        Op::GovFreeze(a, freeze) => {
            let address = addr(a);
            let action = if freeze {
                governance_freeze(address)
            } else {
                GovAction::Unfreeze { address }
            };
            Payload::Gov(GovPayload::Propose {
                action,
                ttl_blocks: 0,
            })
        }
    }
}

fn governance_freeze(address: Address) -> GovAction {
    // Never freeze the committee member, or the rest of the block is all refusals.
    if address == addr(1) {
        GovAction::Unfreeze { address }
    } else {
        GovAction::Freeze { address }
    }
}

/// The block's signed transactions; `nonces` carries next nonces from block to block.
fn block(
    s: &Setup,
    steps: &[Step],
    nonces: &mut HashMap<u8, u64>,
    height: u64,
) -> Vec<(SignedTransaction, Address)> {
    steps
        .iter()
        .map(|st| {
            let next = nonces
                .entry(st.sender)
                .or_insert_with(|| s.chain.next_nonce(addr(st.sender)));
            let mut t = tx(*next, payload(s, st.sender, &st.op));
            match st.quirk {
                0 => *next += 1,
                1 => t.tx.nonce += 1,
                _ => t.tx.expires_at_height = height - 1,
            }
            // Gas covers what asset and evidence operations need.
            t.tx.gas_limit = 10_000_000;
            (t, addr(st.sender))
        })
        .collect()
}

fn run(
    ex: &Executor,
    state: &MemoryState,
    txs: &[(SignedTransaction, Address)],
    height: u64,
) -> BlockOutcome {
    let inputs: Vec<TxInput<'_>> = txs
        .iter()
        .map(|(t, sender)| TxInput {
            tx: t,
            hash: t.hash(ALG),
            sender: *sender,
        })
        .collect();
    let ctx = BlockContext {
        height,
        timestamp_ms: height * 1_000,
    };
    ex.execute_block(state, ctx, &inputs).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn parallel_execution_equals_serial(first in steps(), second in steps()) {
        let s = setup();
        let mut state = s.chain.state.clone();
        let mut nonces = HashMap::new();
        let height = s.chain.height + 1;
        let (mut successes, mut total) = (0, 0);
        for (i, steps) in [first, second].iter().enumerate() {
            let h = height + i as u64;
            let txs = block(&s, steps, &mut nonces, h);
            let serial = run(&s.chain.ex, &state, &txs, h);
            for threads in [2, 4] {
                let parallel = run(&s.chain.ex.with_threads(threads), &state, &txs, h);
                prop_assert_eq!(&parallel, &serial, "{} threads", threads);
            }
            let ok = serial.receipts.iter().filter(|r| r.status == TxStatus::Success).count();
            successes += ok;
            total += serial.receipts.len();
            state.apply(&serial.changes);
        }
        // Transactions must take effect, or the comparison says little.
        prop_assert!(total < 10 || successes > 0, "{} of {} succeeded", successes, total);
    }
}

#[test]
fn parallel_blocks_do_real_work() {
    // A sanity check on the generator: a 100-transfer block between distinct accounts succeeds
    // in full both ways (so the property above is not comparing two lists of refusals).
    let s = setup();
    let txs: Vec<_> = (0..100u8)
        .map(|i| {
            let from = i % 10;
            (
                tx(
                    s.chain.next_nonce(addr(from)) + u64::from(i / 10),
                    Payload::Transfer {
                        to: addr(20 + from),
                        amount: 1,
                    },
                ),
                addr(from),
            )
        })
        .map(|(mut t, a)| {
            t.tx.gas_limit = 10_000_000;
            (t, a)
        })
        .collect();
    let h = s.chain.height + 1;
    let serial = run(&s.chain.ex, &s.chain.state, &txs, h);
    assert!(
        serial
            .receipts
            .iter()
            .all(|r| r.status == TxStatus::Success),
        "{:?}",
        serial
            .receipts
            .iter()
            .find(|r| r.status != TxStatus::Success)
    );
    assert_eq!(
        run(&s.chain.ex.with_threads(2), &s.chain.state, &txs, h),
        serial
    );
}

#[test]
fn a_hot_account_block_is_the_same_in_parallel() {
    // 600 transfers to one account: the contended path (serial on one thread) and the bounded
    // version history of a hot key (speculations that read a dropped version re-execute).
    let s = setup();
    let mut nonces: HashMap<u8, u64> = HashMap::new();
    let txs: Vec<_> = (0..600u32)
        .map(|i| {
            let from = (i % 10) as u8;
            let n = nonces
                .entry(from)
                .or_insert_with(|| s.chain.next_nonce(addr(from)));
            let mut t = tx(
                *n,
                Payload::Transfer {
                    to: addr(11),
                    amount: u128::from(i),
                },
            );
            *n += 1;
            t.tx.gas_limit = 10_000_000;
            (t, addr(from))
        })
        .collect();
    let h = s.chain.height + 1;
    let serial = run(&s.chain.ex, &s.chain.state, &txs, h);
    assert!(
        serial
            .receipts
            .iter()
            .all(|r| r.status == TxStatus::Success)
    );
    for threads in [2, 4] {
        for _ in 0..5 {
            let parallel = run(&s.chain.ex.with_threads(threads), &s.chain.state, &txs, h);
            assert_eq!(parallel, serial, "{threads} threads");
        }
    }
}
