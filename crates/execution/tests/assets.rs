//! The assets module's basic operations: issue, mint, burn, transfer — what each does, its
//! events, and every refusal with its specific code and no effect beyond the sender's nonce and
//! fee. Controls (freeze, allowances, white list, issuer role, policies): `assets_controls.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use ExecErrorCode::*;
use common::*;
use keel_execution::keys;
use keel_types::*;

fn attr<'a>(e: &'a Event, k: &str) -> &'a str {
    &e.attributes.iter().find(|(a, _)| a == k).unwrap().1
}

#[test]
fn issue_stores_the_asset_credits_the_issuer_and_charges_the_fee() {
    let mut c = Chain::new(&[]);
    let (r, id, _) = c.exec(addr(5), Payload::Asset(AssetOp::Issue(plain())));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(
        r.output,
        id.0.to_vec(),
        "the output is the asset id (= tx hash)"
    );
    let gas = AssetOp::Issue(plain()).gas();
    assert_eq!((r.gas_used, r.fee), (gas, u128::from(gas) * GAS_PRICE));
    let names: Vec<_> = r.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["AssetIssued", "Minted"]);
    for e in &r.events {
        assert_eq!(e.module, "asset");
        assert_eq!(e.attributes[0], ("asset".into(), id.to_string()));
    }
    assert_eq!(attr(&r.events[0], "symbol"), "KUSD");
    assert_eq!(attr(&r.events[1], "to"), addr(1).to_string());
    let info = c.info(&id);
    assert_eq!(
        (info.supply, info.max_supply, info.issuer),
        (1_000, 10_000, addr(1))
    );
    assert_eq!(
        (info.name.as_str(), info.decimals, info.created_height),
        ("Keel Dollar", 2, 1)
    );
    assert_eq!(c.balance(&id, 1), 1_000);
    assert_eq!(c.balance(&id, 5), 0, "the sender is not the issuer here");
    // Balances are ordinary state: present under their own key, so they get state proofs.
    assert!(
        c.state
            .0
            .contains_key(&keys::asset_holding(ALG, &id, &addr(1)))
    );
    assert!(c.state.0.contains_key(&keys::asset(ALG, &id)));
}

#[test]
fn mint_up_to_the_max_supply_and_not_above() {
    let mut c = Chain::new(&[]);
    let id = c.issue(1, plain());
    let r = c.asset(
        1,
        AssetOp::Mint {
            asset: id,
            to: addr(2),
            amount: 9_000,
        },
    );
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(attr(&r.events[0], "supply"), "10000");
    assert_eq!((c.balance(&id, 2), c.info(&id).supply), (9_000, 10_000));
    let msg = c.refused(
        1,
        AssetOp::Mint {
            asset: id,
            to: addr(2),
            amount: 1,
        },
        AssetMaxSupply,
    );
    assert!(msg.contains("max supply 10000"), "{msg}");
    // An amount that would overflow the supply itself is above the max too.
    c.refused(
        1,
        AssetOp::Mint {
            asset: id,
            to: addr(2),
            amount: u128::MAX,
        },
        AssetMaxSupply,
    );
}

#[test]
fn only_the_issuer_mints_and_only_mintable_assets() {
    let mut c = Chain::new(&[]);
    let id = c.issue(1, plain());
    c.refused(
        2,
        AssetOp::Mint {
            asset: id,
            to: addr(2),
            amount: 1,
        },
        AssetNotIssuer,
    );
    let fixed = c.issue(
        1,
        AssetIssue {
            mintable: false,
            ..plain()
        },
    );
    c.refused(
        1,
        AssetOp::Mint {
            asset: fixed,
            to: addr(1),
            amount: 1,
        },
        AssetNotMintable,
    );
    assert_eq!(
        c.info(&fixed).supply,
        1_000,
        "a fixed supply is the initial supply"
    );
}

#[test]
fn burn_reduces_balance_and_supply_of_burnable_assets_only() {
    let mut c = Chain::new(&[]);
    let id = c.issue(1, plain());
    let r = c.asset(
        1,
        AssetOp::Burn {
            asset: id,
            amount: 400,
        },
    );
    assert_eq!(r.events[0].name, "Burned");
    assert_eq!((c.balance(&id, 1), c.info(&id).supply), (600, 600));
    c.refused(
        1,
        AssetOp::Burn {
            asset: id,
            amount: 601,
        },
        AssetInsufficientBalance,
    );
    c.refused(
        2,
        AssetOp::Burn {
            asset: id,
            amount: 1,
        },
        AssetInsufficientBalance,
    );
    let kept = c.issue(
        1,
        AssetIssue {
            burnable: false,
            ..plain()
        },
    );
    c.refused(
        1,
        AssetOp::Burn {
            asset: kept,
            amount: 1,
        },
        AssetNotBurnable,
    );
    // Burning everything deletes the holding: an empty position leaves no state behind.
    c.asset(
        1,
        AssetOp::Burn {
            asset: id,
            amount: 600,
        },
    );
    assert!(
        !c.state
            .0
            .contains_key(&keys::asset_holding(ALG, &id, &addr(1)))
    );
}

#[test]
fn transfer_moves_balance_and_refuses_overdrafts() {
    let mut c = Chain::new(&[]);
    let id = c.issue(1, plain());
    let r = c.asset(
        1,
        AssetOp::Transfer {
            asset: id,
            to: addr(2),
            amount: 300,
        },
    );
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(r.events[0].name, "Transfer");
    assert_eq!(attr(&r.events[0], "from"), addr(1).to_string());
    assert_eq!((c.balance(&id, 1), c.balance(&id, 2)), (700, 300));
    let msg = c.refused(
        2,
        AssetOp::Transfer {
            asset: id,
            to: addr(3),
            amount: 301,
        },
        AssetInsufficientBalance,
    );
    assert!(msg.contains("less than 301"), "{msg}");
    // To oneself: allowed, nothing moves.
    c.asset(
        2,
        AssetOp::Transfer {
            asset: id,
            to: addr(2),
            amount: 300,
        },
    );
    assert_eq!(c.balance(&id, 2), 300);
    assert_eq!(c.info(&id).supply, 1_000);
}
