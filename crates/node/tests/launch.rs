//! `keel_node::launch` in solo mode: the one assembly opens the ledger, starts the producer,
//! commits submitted transactions, and stops cleanly (the BFT path is exercised by `bft.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{KeyPair, Suite};
use keel_ledger::{Genesis, GenesisAccount};
use keel_mempool::MempoolConfig;
use keel_node::{EngineConfig, KeyFile, LaunchConfig, ProducerConfig};
use keel_storage::StoreOptions;
use keel_types::{Address, Payload, Signer, Transaction};
use std::time::{Duration, Instant};

const SUITE: Suite = Suite::Intl;
const CHAIN: u64 = 11;
/// Generous bound for the producer to commit (CI machines are slower than this one).
const COMMIT_WAIT: Duration = Duration::from_secs(30);

#[test]
fn solo_launch_commits_submitted_transactions_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let v = KeyPair::from_seed(SUITE.signature_scheme(), &[1; 32]);
    let alice = KeyPair::from_seed(SUITE.signature_scheme(), &[2; 32]);
    let genesis = Genesis {
        governance: None,
        chain_id: CHAIN,
        chain_name: "launch-test".into(),
        suite: SUITE.name().into(),
        timestamp_ms: 1_000,
        gas_price: 0,
        validators: vec![KeyFile::from_key(&v, SUITE).genesis_validator("v")],
        alloc: vec![GenesisAccount {
            address: KeyFile::from_key(&alice, SUITE).address,
            balance: 1_000,
        }],
        observers: vec![],
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let running = rt
        .block_on(keel_node::launch(LaunchConfig {
            genesis,
            key: v,
            data_dir: dir.path().to_path_buf(),
            store: StoreOptions::default(),
            mempool: MempoolConfig::new(CHAIN, SUITE, 0),
            engine: EngineConfig::Solo(ProducerConfig {
                block_interval_ms: 10,
                ..ProducerConfig::default()
            }),
        }))
        .unwrap();
    assert!(running.network().is_none());
    let node = running.node.clone();
    let tx = Transaction {
        chain_id: CHAIN,
        nonce: 0,
        expires_at_height: 1_000,
        gas_limit: 21_000,
        signer: Signer {
            scheme: alice.scheme(),
            public_key: alice.public_key(),
        },
        payload: Payload::Transfer {
            to: Address([7; 20]),
            amount: 3,
        },
    }
    .sign(&alice);
    let hash = tx.hash(SUITE.hash());
    node.submit(&[tx.encode()])[0].as_ref().unwrap();
    let deadline = Instant::now() + COMMIT_WAIT;
    while node.receipt(&hash).unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "not committed within {COMMIT_WAIT:?}"
        );
        node.wait_for_event(node.head().height, Duration::from_millis(100));
    }
    assert_eq!(node.account(&Address([7; 20])).unwrap().balance, 3);
    rt.block_on(running.stop()).unwrap();
    assert_eq!(node.verify_chain().unwrap(), node.head().height + 1);
}
