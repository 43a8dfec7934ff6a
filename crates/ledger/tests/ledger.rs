//! The ledger as a value, without a host: opened for an address (no key), blocks produced with
//! a key passed in, certificates checked from genesis alone, gossip through a plain callback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{KeyPair, Suite};
use keel_ledger::{Genesis, Ledger, LedgerError};
use keel_mempool::MempoolConfig;
use keel_storage::StoreOptions;
use keel_types::{Address, Payload, Signer, Transaction};
use std::path::Path;
use std::sync::{Arc, Mutex};

const SUITE: Suite = Suite::Intl;
mod common;
use common::CHAIN;

fn address(k: &KeyPair) -> Address {
    common::address(SUITE, k)
}

fn genesis(v: &KeyPair, funded: &KeyPair) -> Genesis {
    common::genesis(SUITE, "ledger-test", 0, (v, funded, 1_000_000))
}

fn open(g: &Genesis, local: Address, dir: &Path) -> Result<Ledger, LedgerError> {
    Ledger::open_with(
        g.clone(),
        local,
        dir,
        StoreOptions::default(),
        MempoolConfig::new(CHAIN, SUITE, 0),
    )
}

fn transfer(key: &KeyPair, nonce: u64) -> Vec<u8> {
    Transaction {
        chain_id: CHAIN,
        nonce,
        expires_at_height: 1_000,
        gas_limit: 21_000,
        signer: Signer {
            scheme: key.scheme(),
            public_key: key.public_key(),
        },
        payload: Payload::Transfer {
            to: Address([7; 20]),
            amount: 5,
        },
    }
    .sign(key)
    .encode()
}

#[test]
fn a_ledger_runs_without_a_host_and_its_certificates_verify() {
    let dir = tempfile::tempdir().unwrap();
    let v = KeyPair::from_seed(SUITE.signature_scheme(), &[1; 32]);
    let alice = KeyPair::from_seed(SUITE.signature_scheme(), &[2; 32]);
    let g = genesis(&v, &alice);
    let ledger = open(&g, address(&v), dir.path()).unwrap();
    assert!(ledger.is_validator());
    for r in ledger.submit(&[transfer(&alice, 0), transfer(&alice, 1)]) {
        r.unwrap();
    }
    let block = ledger.produce_block(&v, 2_000, 10, false).unwrap().unwrap();
    assert_eq!(block.transactions.len(), 2);
    assert_eq!(ledger.head().height, 1);
    assert_eq!(ledger.account(&Address([7; 20])).unwrap().balance, 10);
    // The solo certificate verifies against the genesis validator set alone.
    assert_eq!(ledger.verify_chain().unwrap(), 2);
}

#[test]
fn a_block_signed_with_another_key_fails_verification() {
    let dir = tempfile::tempdir().unwrap();
    let v = KeyPair::from_seed(SUITE.signature_scheme(), &[1; 32]);
    let alice = KeyPair::from_seed(SUITE.signature_scheme(), &[2; 32]);
    let g = genesis(&v, &alice);
    let ledger = open(&g, address(&v), dir.path()).unwrap();
    // The host passed the wrong key: the block commits, but its certificate does not verify.
    ledger
        .produce_block(&alice, 2_000, 10, true)
        .unwrap()
        .unwrap();
    let err = ledger.verify_chain().unwrap_err().to_string();
    assert!(err.contains("certificate signature"), "{err}");
}

/// Issue 14: a host whose address is in no genesis list opens the ledger (it joins by a
/// governance vote); it is not a validator of the epoch until then.
#[test]
fn an_address_outside_genesis_opens_as_a_joining_node() {
    let dir = tempfile::tempdir().unwrap();
    let v = KeyPair::from_seed(SUITE.signature_scheme(), &[1; 32]);
    let alice = KeyPair::from_seed(SUITE.signature_scheme(), &[2; 32]);
    let g = genesis(&v, &alice);
    let ledger = open(&g, address(&alice), dir.path()).unwrap();
    let peers: Vec<Address> = ledger.epoch_peers().iter().map(|(a, _)| *a).collect();
    assert_eq!(peers, vec![address(&v)], "only the genesis validator votes");
}

#[test]
fn admitted_transactions_reach_the_gossip_sink_but_peer_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let v = KeyPair::from_seed(SUITE.signature_scheme(), &[1; 32]);
    let alice = KeyPair::from_seed(SUITE.signature_scheme(), &[2; 32]);
    let g = genesis(&v, &alice);
    let ledger = open(&g, address(&v), dir.path()).unwrap();
    let seen: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let sink = seen.clone();
    ledger.set_gossip(Box::new(move |raw: &[u8]| {
        sink.lock().unwrap().push(raw.to_vec());
    }));
    let own = transfer(&alice, 0);
    ledger.submit(std::slice::from_ref(&own))[0]
        .as_ref()
        .unwrap();
    ledger.submit_from_peer(&[transfer(&alice, 1)])[0]
        .as_ref()
        .unwrap();
    // A rejected transaction (duplicate) is not gossiped either.
    assert!(ledger.submit(std::slice::from_ref(&own))[0].is_err());
    assert_eq!(*seen.lock().unwrap(), vec![own]);
}

#[test]
fn the_ledger_depends_on_no_host_crate() {
    // The host/ledger boundary (ARCHITECTURE.md): no async runtime, network or host crate.
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap();
    for name in deps.lines().filter_map(|l| l.split(['.', ' ', '=']).next()) {
        assert!(
            !["tokio", "keel-network", "keel-node", "keel-rpc", "axum"].contains(&name),
            "keel-ledger must not depend on {name}"
        );
    }
}

#[test]
fn a_block_executed_in_parallel_validates_on_a_serial_ledger() {
    let v = KeyPair::from_seed(SUITE.signature_scheme(), &[1; 32]);
    let alice = KeyPair::from_seed(SUITE.signature_scheme(), &[2; 32]);
    let g = genesis(&v, &alice);
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let parallel = open(&g, address(&v), d1.path()).unwrap();
    parallel.set_exec_threads(4);
    assert_eq!(parallel.exec_threads(), 4);
    let serial = open(&g, address(&v), d2.path()).unwrap();
    assert_eq!(serial.exec_threads(), 1);
    let txs: Vec<Vec<u8>> = (0..40).map(|n| transfer(&alice, n)).collect();
    for r in parallel.submit(&txs) {
        r.unwrap();
    }
    let block = parallel
        .produce_block(&v, 2_000, 100, false)
        .unwrap()
        .unwrap();
    assert_eq!(block.transactions.len(), 40);
    // The serial ledger re-executes it and compares every root (state, receipts).
    let executed = serial.validate_block(&block, &[], 3_000).unwrap();
    assert_eq!(executed.block.header, block.header);
    assert_eq!(parallel.account(&Address([7; 20])).unwrap().balance, 200);
}
