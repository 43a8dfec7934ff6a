//! The one assembly of a running node, used by `keel node start`, `keel bench bft` and the
//! tests: open the ledger, then either start the solo producer, or start the authenticated
//! network (peers from genesis and from governance), the BFT driver and the PKI watcher.
//! The JSON-RPC server is started by the caller on [`Running::node`] (`keel-rpc` depends on
//! this crate, not the other way round).

use crate::driver::{Driver, DriverConfig};
use crate::producer::Producer;
use crate::{KeyFile, Node, NodeConfig, NodeError, P2pConfig, ProducerConfig};
use keel_crypto::KeyPair;
use keel_ledger::Genesis;
use keel_mempool::MempoolConfig;
use keel_network::{Network, NetworkConfig, NetworkHandle, PeerAddr};
use keel_storage::StoreOptions;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::watch;

/// A task started with the network and stopped with the driver (the PKI watcher: it re-reads
/// the CRL and publishes certificate status). Arguments: the node, the network, the stop flag.
pub type NetworkWatch = Box<dyn FnOnce(Arc<Node>, NetworkHandle, watch::Receiver<bool>) + Send>;

/// Everything [`launch`] needs, already loaded (the CLI reads it from `node.toml`).
pub struct LaunchConfig {
    /// The chain.
    pub genesis: Genesis,
    /// The node key (validator or observer).
    pub key: KeyPair,
    /// Database folder.
    pub data_dir: PathBuf,
    /// Storage options.
    pub store: StoreOptions,
    /// Mempool limits (chain id, suite and gas price are taken from genesis).
    pub mempool: MempoolConfig,
    /// Threads that execute a block (1 = serial; ADR 0013).
    pub exec_threads: usize,
    /// Solo producer or BFT.
    pub engine: EngineConfig,
}

/// How blocks are made.
#[derive(Debug)]
pub enum EngineConfig {
    /// One validator produces blocks on a thread.
    Solo(ProducerConfig),
    /// Consortium: network and BFT driver.
    Bft(BftConfig),
}

/// The BFT part of a [`LaunchConfig`].
pub struct BftConfig {
    /// Listen address, genesis peers, network id, certificate admission. [`launch`] adds the
    /// validators that governance added (those with a P2P address are dialled) and the genesis
    /// observers to the admitted addresses.
    pub network: NetworkConfig,
    /// Driver settings.
    pub driver: DriverConfig,
    /// Started once the network runs (the PKI watcher), if any.
    pub watch: Option<NetworkWatch>,
}

impl std::fmt::Debug for BftConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BftConfig")
            .field("listen", &self.network.listen)
            .field("driver", &self.driver)
            .field("watch", &self.watch.is_some())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for LaunchConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaunchConfig")
            .field("data_dir", &self.data_dir)
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

/// A running node: the hosted ledger and what makes its blocks. Stop it with
/// [`Running::stop`] (dropping it stops the solo producer but leaves BFT tasks running).
#[derive(Debug)]
pub struct Running {
    /// The node (the RPC server serves it).
    pub node: Arc<Node>,
    engine: Engine,
}

#[derive(Debug)]
enum Engine {
    Solo(Producer),
    Bft {
        net: NetworkHandle,
        task: tokio::task::JoinHandle<()>,
        stop: watch::Sender<bool>,
    },
}

impl LaunchConfig {
    /// What `node.toml` (loaded from `cfg_path`) describes: genesis, key, storage and mempool
    /// settings, and the solo producer or the BFT network and driver. Certificate admission
    /// (`[pki]`) is left to the caller: set `network.pki` and `watch` of the BFT part.
    pub fn from_config(cfg: &NodeConfig, cfg_path: &Path) -> Result<LaunchConfig, NodeError> {
        let genesis = Genesis::load(&cfg.genesis_file)?;
        let (_, key) = KeyFile::load(&cfg.key_file)?;
        let mut mempool =
            MempoolConfig::new(genesis.chain_id, keel_crypto::Suite::Gm, genesis.gas_price);
        mempool.max_txs = cfg.mempool_max_txs;
        let engine = match &cfg.p2p {
            None => EngineConfig::Solo(cfg.producer.clone()),
            Some(p2p) => EngineConfig::Bft(BftConfig::from_config(cfg, p2p, cfg_path)?),
        };
        Ok(LaunchConfig {
            genesis,
            key,
            data_dir: cfg.data_dir.clone(),
            store: StoreOptions {
                cache_size_bytes: cfg.storage_cache_mib * 1024 * 1024,
            },
            mempool,
            exec_threads: cfg.execution_threads,
            engine,
        })
    }
}

impl BftConfig {
    /// The network and driver settings of `[p2p]` (no certificate admission, no watcher).
    fn from_config(
        cfg: &NodeConfig,
        p2p: &P2pConfig,
        cfg_path: &Path,
    ) -> Result<BftConfig, NodeError> {
        let bad = |reason: String| NodeError::Config {
            what: "node.toml [p2p]",
            path: cfg_path.into(),
            reason,
        };
        let listen = p2p
            .listen
            .parse()
            .map_err(|_| bad(format!("listen {:?} is not host:port", p2p.listen)))?;
        let mut peers = Vec::with_capacity(p2p.peers.len());
        for p in &p2p.peers {
            let socket = p
                .socket
                .parse()
                .map_err(|_| bad(format!("peer socket {:?} is not host:port", p.socket)))?;
            peers.push(PeerAddr {
                address: p.address,
                socket,
            });
        }
        let mut network = NetworkConfig::new(listen, peers);
        network.network_id = p2p.network_id.as_bytes().to_vec();
        let driver = DriverConfig {
            pacemaker: keel_consensus::PacemakerConfig {
                base_timeout_ms: p2p.round_timeout_ms,
                ..keel_consensus::PacemakerConfig::default()
            },
            block_interval_ms: p2p.block_interval_ms,
            busy_block_interval_ms: p2p.busy_block_interval_ms,
            idle_heartbeat_ms: p2p.idle_heartbeat_ms,
            trail_heartbeat_ms: p2p.trail_heartbeat_ms,
            max_block_txs: cfg.producer.max_block_txs,
            ..DriverConfig::default()
        };
        Ok(BftConfig {
            network,
            driver,
            watch: None,
        })
    }
}

/// Open the node and start its block production (see the module docs).
pub async fn launch(cfg: LaunchConfig) -> Result<Running, NodeError> {
    let key = cfg.key.clone();
    let node = Node::open_with(cfg.genesis, cfg.key, &cfg.data_dir, cfg.store, cfg.mempool)?;
    node.ledger().set_exec_threads(cfg.exec_threads);
    let engine = match cfg.engine {
        EngineConfig::Solo(p) => Engine::Solo(Producer::spawn(node.clone(), p)),
        EngineConfig::Bft(b) => start_bft(&node, key, b).await?,
    };
    Ok(Running { node, engine })
}

async fn start_bft(node: &Arc<Node>, key: KeyPair, b: BftConfig) -> Result<Engine, NodeError> {
    let mut net_cfg = b.network;
    // Observers from genesis may link in (they are never dialled). Validators added by
    // governance (ADR 0011): dial those with a P2P address, admit all.
    net_cfg
        .allow_inbound
        .extend(node.genesis().observer_addresses());
    let epoch_peers = node.epoch_peers();
    for (address, p2p_addr) in &epoch_peers {
        if let Ok(socket) = p2p_addr.parse()
            && !net_cfg.peers.iter().any(|p| p.address == *address)
        {
            net_cfg.peers.push(PeerAddr {
                address: *address,
                socket,
            });
        }
    }
    net_cfg
        .allow_inbound
        .extend(epoch_peers.iter().map(|(a, _)| *a));
    let listen = net_cfg.listen;
    let (net, inbound) = Network::start(net_cfg, key, node.suite())
        .await
        .map_err(|source| NodeError::Network { listen, source })?;
    let driver = Driver::new(node.clone(), net.clone(), b.driver)?;
    let (stop, stop_rx) = watch::channel(false);
    if let Some(watch) = b.watch {
        watch(node.clone(), net.clone(), stop_rx.clone());
    }
    let task = tokio::spawn(driver.run(inbound, stop_rx));
    Ok(Engine::Bft { net, task, stop })
}

impl Running {
    /// The network, when running BFT.
    pub fn network(&self) -> Option<&NetworkHandle> {
        match &self.engine {
            Engine::Solo(_) => None,
            Engine::Bft { net, .. } => Some(net),
        }
    }

    /// Stop block production and wait for it: the producer finishes an in-flight block; the
    /// driver stops, then the network shuts down. Errs if the producer or driver task panicked.
    pub async fn stop(self) -> Result<(), tokio::task::JoinError> {
        match self.engine {
            Engine::Solo(producer) => tokio::task::spawn_blocking(move || producer.stop()).await,
            Engine::Bft { net, task, stop } => {
                let _ = stop.send(true);
                let stopped = task.await;
                net.shutdown().await;
                stopped
            }
        }
    }
}
