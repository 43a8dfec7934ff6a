//! The assets module's controls: freezes, allowances, the white list, the issuer role, unknown
//! assets, overflow and the governance operation policies. Every refusal has its specific code
//! and no effect beyond the sender's nonce and fee.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use ExecErrorCode::*;
use common::*;
use keel_execution::{assets, keys};
use keel_types::*;

fn attr<'a>(e: &'a Event, k: &str) -> &'a str {
    &e.attributes.iter().find(|(a, _)| a == k).unwrap().1
}

#[test]
fn frozen_holders_neither_send_receive_approve_nor_burn() {
    let mut c = Chain::new(&[]);
    let id = c.issue(1, plain());
    c.asset(
        1,
        AssetOp::Transfer {
            asset: id,
            to: addr(2),
            amount: 100,
        },
    );
    c.refused(
        2,
        AssetOp::Freeze {
            asset: id,
            holder: addr(2),
        },
        AssetNotIssuer,
    );
    let r = c.asset(
        1,
        AssetOp::Freeze {
            asset: id,
            holder: addr(2),
        },
    );
    assert_eq!(r.events[0].name, "HolderFrozen");
    let send = AssetOp::Transfer {
        asset: id,
        to: addr(3),
        amount: 1,
    };
    c.refused(2, send.clone(), AssetHolderFrozen);
    c.refused(
        1,
        AssetOp::Transfer {
            asset: id,
            to: addr(2),
            amount: 1,
        },
        AssetHolderFrozen,
    );
    c.refused(
        1,
        AssetOp::Mint {
            asset: id,
            to: addr(2),
            amount: 1,
        },
        AssetHolderFrozen,
    );
    c.refused(
        2,
        AssetOp::Burn {
            asset: id,
            amount: 1,
        },
        AssetHolderFrozen,
    );
    c.refused(
        2,
        AssetOp::Approve {
            asset: id,
            spender: addr(3),
            amount: 1,
        },
        AssetHolderFrozen,
    );
    c.refused(
        2,
        AssetOp::Unfreeze {
            asset: id,
            holder: addr(2),
        },
        AssetNotIssuer,
    );
    c.asset(
        1,
        AssetOp::Unfreeze {
            asset: id,
            holder: addr(2),
        },
    );
    assert_eq!(c.asset(2, send).status, TxStatus::Success);
    let rigid = c.issue(
        1,
        AssetIssue {
            freezable: false,
            ..plain()
        },
    );
    c.refused(
        1,
        AssetOp::Freeze {
            asset: rigid,
            holder: addr(2),
        },
        AssetNotFreezable,
    );
}

#[test]
fn approve_and_transfer_from_spend_the_allowance() {
    let mut c = Chain::new(&[]);
    let id = c.issue(1, plain());
    let r = c.asset(
        1,
        AssetOp::Approve {
            asset: id,
            spender: addr(3),
            amount: 500,
        },
    );
    assert_eq!(r.events[0].name, "Approval");
    let spend = |amount| AssetOp::TransferFrom {
        asset: id,
        from: addr(1),
        to: addr(4),
        amount,
    };
    let r = c.asset(3, spend(200));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(attr(&r.events[0], "spender"), addr(3).to_string());
    assert_eq!(c.balance(&id, 4), 200);
    let left = |c: &Chain| assets::allowance(&c.state, ALG, &id, &addr(1), &addr(3)).unwrap();
    assert_eq!(left(&c), 300);
    c.refused(3, spend(301), AssetAllowanceExceeded);
    c.refused(5, spend(1), AssetAllowanceExceeded);
    // A frozen spender cannot spend; an allowance above the balance stops at the balance.
    c.asset(
        1,
        AssetOp::Freeze {
            asset: id,
            holder: addr(3),
        },
    );
    c.refused(3, spend(1), AssetHolderFrozen);
    c.asset(
        1,
        AssetOp::Unfreeze {
            asset: id,
            holder: addr(3),
        },
    );
    c.asset(
        1,
        AssetOp::Approve {
            asset: id,
            spender: addr(3),
            amount: 10_000,
        },
    );
    c.refused(3, spend(801), AssetInsufficientBalance);
    // Setting the allowance to zero deletes it.
    c.asset(
        1,
        AssetOp::Approve {
            asset: id,
            spender: addr(3),
            amount: 0,
        },
    );
    assert_eq!(left(&c), 0);
    assert!(
        !c.state
            .0
            .contains_key(&keys::asset_allowance(ALG, &id, &addr(1), &addr(3)))
    );
}

#[test]
fn white_list_admits_listed_holders_and_the_issuer_only() {
    let mut c = Chain::new(&[]);
    let id = c.issue(
        1,
        AssetIssue {
            holder_list: Some(vec![addr(2)]),
            ..plain()
        },
    );
    c.asset(
        1,
        AssetOp::Transfer {
            asset: id,
            to: addr(2),
            amount: 10,
        },
    );
    c.refused(
        2,
        AssetOp::Transfer {
            asset: id,
            to: addr(3),
            amount: 1,
        },
        AssetNotListed,
    );
    c.refused(
        1,
        AssetOp::Mint {
            asset: id,
            to: addr(3),
            amount: 1,
        },
        AssetNotListed,
    );
    c.refused(
        2,
        AssetOp::SetListed {
            asset: id,
            holder: addr(3),
            listed: true,
        },
        AssetNotIssuer,
    );
    let r = c.asset(
        1,
        AssetOp::SetListed {
            asset: id,
            holder: addr(3),
            listed: true,
        },
    );
    assert_eq!(r.events[0].name, "HolderListed");
    assert_eq!(
        c.asset(
            2,
            AssetOp::Transfer {
                asset: id,
                to: addr(3),
                amount: 1
            }
        )
        .status,
        TxStatus::Success
    );
    // Removed from the list: holds its balance but can no longer send it.
    c.asset(
        1,
        AssetOp::SetListed {
            asset: id,
            holder: addr(3),
            listed: false,
        },
    );
    c.refused(
        3,
        AssetOp::Transfer {
            asset: id,
            to: addr(2),
            amount: 1,
        },
        AssetNotListed,
    );
    assert_eq!(c.balance(&id, 3), 1);
    let open = c.issue(1, plain());
    c.refused(
        1,
        AssetOp::SetListed {
            asset: open,
            holder: addr(3),
            listed: true,
        },
        AssetInvalid,
    );
}

#[test]
fn the_issuer_role_can_be_handed_on() {
    let mut c = Chain::new(&[]);
    let id = c.issue(1, plain());
    c.refused(
        2,
        AssetOp::SetIssuer {
            asset: id,
            issuer: addr(2),
        },
        AssetNotIssuer,
    );
    let r = c.asset(
        1,
        AssetOp::SetIssuer {
            asset: id,
            issuer: addr(2),
        },
    );
    assert_eq!(r.events[0].name, "IssuerChanged");
    c.refused(
        1,
        AssetOp::Mint {
            asset: id,
            to: addr(1),
            amount: 1,
        },
        AssetNotIssuer,
    );
    assert_eq!(
        c.asset(
            2,
            AssetOp::Mint {
                asset: id,
                to: addr(1),
                amount: 1
            }
        )
        .status,
        TxStatus::Success
    );
}

#[test]
fn every_operation_on_an_unknown_asset_is_refused() {
    let mut c = Chain::new(&[]);
    let asset = Hash([0xee; 32]);
    let (a, n) = (addr(2), 1);
    for op in [
        AssetOp::Mint {
            asset,
            to: a,
            amount: n,
        },
        AssetOp::Burn { asset, amount: n },
        AssetOp::Transfer {
            asset,
            to: a,
            amount: n,
        },
        AssetOp::Approve {
            asset,
            spender: a,
            amount: n,
        },
        AssetOp::TransferFrom {
            asset,
            from: a,
            to: a,
            amount: n,
        },
        AssetOp::Freeze { asset, holder: a },
        AssetOp::Unfreeze { asset, holder: a },
        AssetOp::SetListed {
            asset,
            holder: a,
            listed: true,
        },
        AssetOp::SetIssuer { asset, issuer: a },
    ] {
        c.refused(1, op, AssetUnknown);
    }
}

#[test]
fn invalid_fields_in_a_block_are_refused_in_execution_too() {
    let mut c = Chain::new(&[]);
    let bad = AssetIssue {
        decimals: MAX_ASSET_DECIMALS + 1,
        ..plain()
    };
    let msg = c.refused(1, AssetOp::Issue(bad), AssetInvalid);
    assert!(msg.starts_with("decimals"), "{msg}");
}

#[test]
fn a_balance_that_would_overflow_is_refused() {
    // Unreachable through the module (balances ≤ supply ≤ max supply ≤ u128::MAX); built
    // directly in the state to check the arithmetic is checked, not wrapping.
    let mut c = Chain::new(&[]);
    let id = c.issue(
        1,
        AssetIssue {
            max_supply: u128::MAX,
            ..plain()
        },
    );
    let held = assets::Holding {
        balance: u128::MAX,
        ..Default::default()
    };
    c.state.0.insert(
        keys::asset_holding(ALG, &id, &addr(2)),
        codec::encode(&held),
    );
    c.refused(
        1,
        AssetOp::Transfer {
            asset: id,
            to: addr(2),
            amount: 1,
        },
        Overflow,
    );
}

#[test]
fn governance_operation_policies_apply_to_asset_operations() {
    let mut c = Chain::new(&[7]);
    let policy = |op, list| {
        Payload::Gov(GovPayload::Propose {
            action: GovAction::SetOperationPolicy {
                op,
                policy: OpPolicy::AllowList(list),
            },
            ttl_blocks: 0,
        })
    };
    // One member: its proposal passes at once.
    let (r, _, _) = c.exec(addr(7), policy(Operation::AssetIssue, vec![addr(1)]));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    c.refused(2, AssetOp::Issue(plain()), NotPermitted);
    let id = c.issue(1, plain());
    c.exec(addr(7), policy(Operation::AssetTransfer, vec![addr(1)]));
    c.refused(
        2,
        AssetOp::Approve {
            asset: id,
            spender: addr(3),
            amount: 1,
        },
        NotPermitted,
    );
    c.asset(
        1,
        AssetOp::Transfer {
            asset: id,
            to: addr(2),
            amount: 5,
        },
    );
    c.refused(
        2,
        AssetOp::Transfer {
            asset: id,
            to: addr(1),
            amount: 5,
        },
        NotPermitted,
    );
    c.exec(addr(7), policy(Operation::AssetAdmin, vec![]));
    c.refused(
        1,
        AssetOp::Mint {
            asset: id,
            to: addr(1),
            amount: 5,
        },
        NotPermitted,
    );
    assert_eq!(c.balance(&id, 2), 5);
}
