//! `node.toml`: where things are and how the node behaves. Every limit has its unit in its name.

use crate::NodeError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Block production settings (solo mode).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProducerConfig {
    /// Produce a block at least this often when transactions are pending.
    pub block_interval_ms: u64,
    /// Most transactions per block; a full block is produced immediately.
    pub max_block_txs: usize,
    /// Produce empty blocks every `block_interval_ms` even without transactions.
    pub empty_blocks: bool,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            block_interval_ms: 500,
            max_block_txs: 10_000,
            empty_blocks: false,
        }
    }
}

/// `[rpc]`: what one RPC client may cost the node. Every limit, its default and the error a
/// client gets on hitting it are listed in docs/rpc.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RpcLimits {
    /// Most gas one `eth_call` / `eth_estimateGas` run may use (creations included).
    pub call_gas_cap: u64,
    /// Most EVM gas one HTTP request (a whole batch) or WebSocket message may ask for, summed
    /// over its calls and estimate probes.
    pub request_gas_budget: u64,
    /// Wall-clock budget of one request; work not started by then is refused.
    pub request_timeout_ms: u64,
    /// Requests processed at once (storage reads, signature checks, EVM) on blocking threads.
    pub max_concurrent_requests: usize,
    /// EVM runs (`eth_call`, estimate probes) at once; keep it below the core count so
    /// consensus keeps a core.
    pub max_concurrent_evm: usize,
    /// How long a request waits for a free slot before it gets `SERVER_BUSY`.
    pub busy_wait_ms: u64,
    /// Open HTTP connections (WebSockets included).
    pub max_connections: usize,
    /// Open HTTP connections from one IP address.
    pub max_connections_per_ip: usize,
    /// A request's headers must arrive within this time.
    pub header_read_timeout_ms: u64,
    /// A request's body must arrive within this time.
    pub body_read_timeout_ms: u64,
    /// Open WebSocket connections.
    pub max_ws_connections: usize,
    /// Open WebSocket connections from one IP address.
    pub max_ws_connections_per_ip: usize,
    /// A WebSocket that sends nothing (not even a pong to the server's ping) this long is closed.
    pub ws_idle_timeout_ms: u64,
}

impl Default for RpcLimits {
    fn default() -> Self {
        RpcLimits {
            call_gas_cap: 10_000_000,
            request_gas_budget: 50_000_000,
            request_timeout_ms: 10_000,
            max_concurrent_requests: 16,
            max_concurrent_evm: 1,
            busy_wait_ms: 2_000,
            max_connections: 512,
            max_connections_per_ip: 128,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 10_000,
            max_ws_connections: 256,
            max_ws_connections_per_ip: 32,
            ws_idle_timeout_ms: 120_000,
        }
    }
}

/// Node configuration file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Genesis file (relative paths are relative to the config file's folder).
    pub genesis_file: PathBuf,
    /// Validator key file.
    pub key_file: PathBuf,
    /// Database folder.
    pub data_dir: PathBuf,
    /// JSON-RPC listen address (keep it on 127.0.0.1 unless fronted by a proxy).
    pub rpc_listen: String,
    /// Largest JSON-RPC request body, bytes.
    #[serde(default = "default_rpc_body")]
    pub rpc_max_body_bytes: usize,
    /// `[rpc]`: limits that keep hostile RPC clients from hurting the node (docs/rpc.md).
    #[serde(default)]
    pub rpc: RpcLimits,
    /// Most pending transactions.
    #[serde(default = "default_mempool_txs")]
    pub mempool_max_txs: usize,
    /// Threads that execute a block (optimistic parallel execution, ADR 0013); 1 = serial.
    /// Default 1: no speed-up has been measured yet (docs/benchmarks.md). Blocks are the same
    /// for any value.
    #[serde(default = "default_exec_threads")]
    pub execution_threads: usize,
    /// Block production.
    #[serde(default)]
    pub producer: ProducerConfig,
    /// Storage block cache, MiB.
    #[serde(default = "default_cache")]
    pub storage_cache_mib: u64,
    /// Consortium networking; absent for a single-validator (solo) chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p2p: Option<P2pConfig>,
    /// Certificate-based admission of peer links (docs/pki.md); absent: admission by
    /// address only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pki: Option<CertConfig>,
}

/// `[pki]`: the consortium root, this node's certificate chain and the revocation list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertConfig {
    /// Trusted consortium root certificate(s), PEM. Peers must present a chain to one.
    pub root_cert: PathBuf,
    /// This node's chain, PEM: its node certificate (role validator or observer, for the key
    /// in `key_file`), then its organisation CA.
    pub cert_chain: PathBuf,
    /// Revocation list signed by the root, PEM; re-read while the node runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_file: Option<PathBuf>,
    /// Warn (log, metric, `keel_status`) this many days before a certificate in use expires.
    #[serde(default = "default_expiry_warning_days")]
    pub expiry_warning_days: u64,
}

/// Default of `[pki] expiry_warning_days`.
pub const DEFAULT_EXPIRY_WARNING_DAYS: u64 = 30;

fn default_expiry_warning_days() -> u64 {
    DEFAULT_EXPIRY_WARNING_DAYS
}

/// A peer to dial.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// The peer's address (from its key, as in genesis).
    pub address: keel_types::Address,
    /// Its P2P socket, e.g. `127.0.0.1:30301`.
    pub socket: String,
}

/// BFT networking and consensus timing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P2pConfig {
    /// Where to accept peer links.
    pub listen: String,
    /// Validators to dial (this node's own entry may be listed; it is skipped).
    pub peers: Vec<PeerConfig>,
    /// Base round timeout before exponential back-off, ms.
    #[serde(default = "default_round_timeout")]
    pub round_timeout_ms: u64,
    /// Light pace (ADR 0014): when a block is needed (transactions to order or to commit, or a
    /// heartbeat), a leader proposes it this long after the previous block, ms, so that light
    /// load batches transactions (keep it well under `round_timeout_ms`).
    #[serde(default = "default_bft_interval")]
    pub block_interval_ms: u64,
    /// Busy pace: while the pool holds at least a full block, a leader proposes this long
    /// after the previous block, ms.
    #[serde(default = "default_busy_interval")]
    pub busy_block_interval_ms: u64,
    /// Idle heartbeat (ADR 0014): with no transactions, no block is proposed until the last
    /// committed block is this old, ms (then about three blocks); 0 = never.
    #[serde(default = "default_idle_heartbeat")]
    pub idle_heartbeat_ms: u64,
    /// Trailing heartbeat (ADR 0014): for 12 s after the last block with transactions, a
    /// heartbeat every this many ms, so wallets that watch for the next block after sending
    /// (ethers.js `wait()`) see one; 0 = off.
    #[serde(default = "default_trail_heartbeat")]
    pub trail_heartbeat_ms: u64,
    /// Network id mixed into every handshake (nodes of different networks never link).
    #[serde(default = "default_network_id")]
    pub network_id: String,
}

fn default_trail_heartbeat() -> u64 {
    1_000
}

fn default_round_timeout() -> u64 {
    1_000
}
fn default_bft_interval() -> u64 {
    100
}
fn default_idle_heartbeat() -> u64 {
    60_000
}
fn default_busy_interval() -> u64 {
    10
}
fn default_network_id() -> String {
    "keel".into()
}

fn default_rpc_body() -> usize {
    2 * 1024 * 1024
}
fn default_mempool_txs() -> usize {
    200_000
}
/// The default `execution_threads`: 1 (serial). On the 2-core reference machine 2 threads
/// ran at 0.70–0.97× of 1 (docs/benchmarks.md, "Parallel execution"), so parallel execution
/// is opt-in until a machine shows a gain.
pub fn default_exec_threads() -> usize {
    1
}
fn default_cache() -> u64 {
    256
}

impl NodeConfig {
    /// Defaults for a node in `dir` with the given RPC address.
    pub fn new_in(rpc_listen: String) -> NodeConfig {
        NodeConfig {
            genesis_file: "genesis.json".into(),
            key_file: "validator.key".into(),
            data_dir: "data".into(),
            rpc_listen,
            rpc_max_body_bytes: default_rpc_body(),
            rpc: RpcLimits::default(),
            mempool_max_txs: default_mempool_txs(),
            execution_threads: default_exec_threads(),
            producer: ProducerConfig::default(),
            storage_cache_mib: default_cache(),
            p2p: None,
            pki: None,
        }
    }

    /// Load from a file, resolving relative paths against its folder.
    pub fn load(path: &Path) -> Result<NodeConfig, NodeError> {
        let text = std::fs::read_to_string(path).map_err(|e| NodeError::io(path, e))?;
        let mut c: NodeConfig = toml::from_str(&text).map_err(|e| NodeError::Config {
            what: "node config",
            path: path.into(),
            reason: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut paths = vec![&mut c.genesis_file, &mut c.key_file, &mut c.data_dir];
        if let Some(pki) = &mut c.pki {
            paths.push(&mut pki.root_cert);
            paths.push(&mut pki.cert_chain);
            if let Some(crl) = &mut pki.crl_file {
                paths.push(crl);
            }
        }
        for p in paths {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        if c.producer.max_block_txs == 0
            || c.producer.max_block_txs > keel_types::limits::MAX_BLOCK_TXS
        {
            return Err(NodeError::Config {
                what: "node config",
                path: path.into(),
                reason: format!(
                    "producer.max_block_txs must be 1..={}",
                    keel_types::limits::MAX_BLOCK_TXS
                ),
            });
        }
        Ok(c)
    }

    /// Write as TOML.
    pub fn save(&self, path: &Path) -> Result<(), NodeError> {
        let text = toml::to_string_pretty(self).map_err(|e| NodeError::Config {
            what: "node config",
            path: path.into(),
            reason: e.to_string(),
        })?;
        std::fs::write(path, text).map_err(|e| NodeError::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_limits_take_defaults_for_missing_keys_and_refuse_unknown_ones() {
        let base = "genesis_file = \"g\"\nkey_file = \"k\"\ndata_dir = \"d\"\n\
                    rpc_listen = \"127.0.0.1:0\"\n";
        let c: NodeConfig = toml::from_str(base).expect("no [rpc]");
        assert_eq!(c.rpc, RpcLimits::default());
        let c: NodeConfig =
            toml::from_str(&format!("{base}[rpc]\ncall_gas_cap = 5\n")).expect("[rpc]");
        assert_eq!(c.rpc.call_gas_cap, 5);
        assert_eq!(c.rpc.max_connections, RpcLimits::default().max_connections);
        assert!(toml::from_str::<NodeConfig>(&format!("{base}[rpc]\nbogus = 1\n")).is_err());
    }
}
