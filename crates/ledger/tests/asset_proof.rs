//! A native asset issued and moved through the real pipeline (admission, block, JMT), and its
//! balances proven from the state root like any other state: inclusion for a holder,
//! non-inclusion for an address that holds nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{KeyPair, Suite};
use keel_execution::assets::{AssetInfo, Holding};
use keel_ledger::{Genesis, Ledger, ProofKind};
use keel_mempool::MempoolConfig;
use keel_storage::StoreOptions;
use keel_types::{Address, AssetIssue, AssetOp, Payload, Signer, Transaction, codec};

const SUITE: Suite = Suite::Gm;
mod common;
use common::CHAIN;

fn address(k: &KeyPair) -> Address {
    common::address(SUITE, k)
}

fn genesis(v: &KeyPair, funded: &KeyPair) -> Genesis {
    common::genesis(SUITE, "asset-proof", 1, (v, funded, 10_000_000))
}

fn asset_tx(key: &KeyPair, nonce: u64, op: AssetOp) -> Vec<u8> {
    Transaction {
        chain_id: CHAIN,
        nonce,
        expires_at_height: 1_000,
        gas_limit: 1_000_000,
        signer: Signer {
            scheme: key.scheme(),
            public_key: key.public_key(),
        },
        payload: Payload::Asset(op),
    }
    .sign(key)
    .encode()
}

#[test]
fn asset_balances_are_proven_from_the_state_root() {
    let dir = tempfile::tempdir().unwrap();
    let v = KeyPair::from_seed(SUITE.signature_scheme(), &[1; 32]);
    let alice = KeyPair::from_seed(SUITE.signature_scheme(), &[2; 32]);
    let bob = Address([7; 20]);
    let ledger = Ledger::open_with(
        genesis(&v, &alice),
        address(&v),
        dir.path(),
        StoreOptions::default(),
        MempoolConfig::new(CHAIN, SUITE, 1),
    )
    .unwrap();
    let issue = AssetOp::Issue(AssetIssue {
        name: "Keel Dollar".into(),
        symbol: "KUSD".into(),
        decimals: 2,
        max_supply: 1_000_000,
        initial_supply: 5_000,
        issuer: address(&alice),
        mintable: true,
        burnable: true,
        freezable: true,
        holder_list: None,
    });
    let raw = asset_tx(&alice, 0, issue);
    let id = keel_types::SignedTransaction::decode(&raw)
        .unwrap()
        .hash(SUITE.hash());
    let send = AssetOp::Transfer {
        asset: id,
        to: bob,
        amount: 1_250,
    };
    for r in ledger.submit(&[raw, asset_tx(&alice, 1, send)]) {
        r.unwrap();
    }
    let block = ledger.produce_block(&v, 2_000, 10, false).unwrap().unwrap();
    assert_eq!(block.transactions.len(), 2);

    let prove = |kind| ledger.prove(kind, None).unwrap().unwrap().verify().unwrap();
    let (header, value) = prove(ProofKind::AssetHolding(id, bob));
    assert_eq!(header.height, 1);
    let held: Holding = codec::decode("holding", &value.unwrap(), 1_024).unwrap();
    assert_eq!(held.balance, 1_250);
    let (_, value) = prove(ProofKind::Asset(id));
    let info: AssetInfo = codec::decode("asset", &value.unwrap(), 1_024).unwrap();
    assert_eq!((info.supply, info.symbol.as_str()), (5_000, "KUSD"));
    // Non-inclusion: an address that never held the asset.
    let (_, value) = prove(ProofKind::AssetHolding(id, Address([8; 20])));
    assert_eq!(value, None);
}
