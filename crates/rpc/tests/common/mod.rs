//! A single-validator node with its producer and the JSON-RPC server on 127.0.0.1, for the
//! RPC integration tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod client;

use keel_crypto::{KeyPair, Suite};
use keel_ledger::Genesis;
use keel_mempool::MempoolConfig;
use keel_node::producer::Producer;
use keel_node::{Node, ProducerConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Upper bound of every wait: generous for a loaded CI box (3x slower than a dev machine);
/// a healthy run leaves each wait as soon as its condition holds.
pub const WAIT: Duration = Duration::from_secs(120);
/// How often a wait re-checks its condition.
pub const POLL: Duration = Duration::from_millis(50);

/// Polls `probe` until it yields a value (at most `WAIT`) and returns it.
pub fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            start.elapsed() < WAIT,
            "timed out after {WAIT:?} waiting for {what}"
        );
        std::thread::sleep(POLL);
    }
}

/// What must live as long as the served node (dropped in field order).
pub struct Keep {
    _producer: Producer,
    pub rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

/// A served node.
pub struct Served {
    pub url: String,
    pub port: u16,
    pub node: Arc<Node>,
    pub agent: ureq::Agent,
    pub keep: Keep,
}

/// Open `genesis` with validator `key` in a temp dir, start its producer and serve JSON-RPC.
pub fn serve_solo(
    genesis: Genesis,
    key: KeyPair,
    suite: Suite,
    gas_price: u128,
    producer: ProducerConfig,
    rpc: keel_rpc::RpcConfig,
) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let chain_id = genesis.chain_id;
    let node = Node::open_with(
        genesis,
        key,
        &dir.path().join("data"),
        keel_storage::StoreOptions::default(),
        MempoolConfig::new(chain_id, suite, gas_price),
    )
    .unwrap();
    let producer = Producer::spawn(node.clone(), producer);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let n2 = node.clone();
    rt.spawn(async move {
        keel_rpc::serve(n2, listener, rpc, std::future::pending())
            .await
            .unwrap();
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(WAIT))
        .build()
        .into();
    Served {
        url: format!("http://127.0.0.1:{port}"),
        port,
        node,
        agent,
        keep: Keep {
            _producer: producer,
            rt,
            _dir: dir,
        },
    }
}
