//! `keel_node::launch` in solo mode: the one assembly opens the ledger, starts the producer,
//! commits submitted transactions, and stops cleanly (the BFT path is exercised by `bft.rs`);
//! `LaunchConfig::from_config` reads `node.toml`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{KeyPair, Suite};
use keel_ledger::{Genesis, GenesisAccount};
use keel_mempool::MempoolConfig;
use keel_node::{
    EngineConfig, KeyFile, LaunchConfig, NodeConfig, NodeError, P2pConfig, PeerConfig,
    ProducerConfig,
};
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
            exec_threads: 2,
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

#[test]
fn launch_config_reads_node_toml_and_refuses_a_bad_p2p_address() {
    let dir = tempfile::tempdir().unwrap();
    let v = KeyPair::from_seed(SUITE.signature_scheme(), &[1; 32]);
    let kf = KeyFile::from_key(&v, SUITE);
    kf.save(&dir.path().join("validator.key")).unwrap();
    Genesis {
        governance: None,
        chain_id: CHAIN,
        chain_name: "launch-config".into(),
        suite: SUITE.name().into(),
        timestamp_ms: 1_000,
        gas_price: 0,
        validators: vec![kf.genesis_validator("v")],
        alloc: vec![],
        observers: vec![],
    }
    .save(&dir.path().join("genesis.json"))
    .unwrap();
    let path = dir.path().join("node.toml");
    let mut cfg = NodeConfig::new_in("127.0.0.1:0".into());
    cfg.p2p = Some(P2pConfig {
        listen: "127.0.0.1:30999".into(),
        peers: vec![PeerConfig {
            address: kf.address,
            socket: "127.0.0.1:30999".into(),
        }],
        round_timeout_ms: 1_500,
        block_interval_ms: 300,
        busy_block_interval_ms: 20,
        idle_heartbeat_ms: 5_000,
        trail_heartbeat_ms: 1_000,
        network_id: "test-net".into(),
    });
    cfg.save(&path).unwrap();
    let loaded = NodeConfig::load(&path).unwrap();
    let launch = LaunchConfig::from_config(&loaded, &path).unwrap();
    assert_eq!(launch.genesis.chain_id, CHAIN);
    assert_eq!(launch.data_dir, dir.path().join("data"));
    let EngineConfig::Bft(bft) = &launch.engine else {
        panic!("[p2p] launches BFT");
    };
    assert_eq!(bft.network.peers.len(), 1);
    assert_eq!(bft.network.network_id, b"test-net");
    assert_eq!(bft.driver.pacemaker.base_timeout_ms, 1_500);
    assert_eq!(bft.driver.busy_block_interval_ms, 20);
    assert_eq!(bft.driver.idle_heartbeat_ms, 5_000);
    assert!(bft.watch.is_none());

    let mut bad = loaded.clone();
    if let Some(p2p) = &mut bad.p2p {
        p2p.listen = "nowhere".into();
    }
    match LaunchConfig::from_config(&bad, &path) {
        Err(NodeError::Config { what, reason, .. }) => {
            assert_eq!(what, "node.toml [p2p]");
            assert!(reason.contains("nowhere"), "{reason}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}
