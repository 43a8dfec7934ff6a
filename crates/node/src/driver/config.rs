//! Driver settings and the network channels it speaks on.

use keel_consensus::PacemakerConfig;

/// Network channel of consensus, block bodies and sync.
pub const CHANNEL_CONSENSUS: u8 = 1;
/// Network channel of transaction gossip.
pub const CHANNEL_TXS: u8 = 2;
/// Largest wire message accepted by the decoder (the network's frame limit is lower).
pub const MAX_WIRE_BYTES: usize = 64 * 1024 * 1024;
/// Deepest chain of uncommitted ancestors fetched by hash before giving up.
pub const MAX_FETCH_DEPTH: usize = 64;
/// How often the driver publishes its status for `keel_status` and metrics, ms.
pub const STATUS_PUBLISH_MS: u64 = 250;

/// Driver settings.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// Round timer.
    pub pacemaker: PacemakerConfig,
    /// Light pace (ADR 0014): when a block is needed (transactions to order or to commit, or a
    /// heartbeat), a leader proposes it this long after the parent, ms, so that light load
    /// batches transactions. A chain parameter governance may set. Keep it well under the
    /// round timeout.
    pub block_interval_ms: u64,
    /// Busy pace: while the pool holds at least a full block (`max_block_txs`), a leader
    /// proposes this long after the parent, ms.
    pub busy_block_interval_ms: u64,
    /// Idle heartbeat (ADR 0014): with nothing to order or commit, no block is proposed until
    /// the committed head is this old, ms (then about three blocks commit one); 0 = never.
    pub idle_heartbeat_ms: u64,
    /// Trailing heartbeat (ADR 0014): for `trail_ms` after the last committed block with
    /// transactions, the heartbeat comes every `trail_heartbeat_ms` instead, so that a client
    /// that started watching for new blocks just after its transaction committed (ethers.js
    /// `wait()` polls the block number from when it subscribes) sees one; 0 = off.
    pub trail_heartbeat_ms: u64,
    /// How long after the last committed block with transactions the trailing heartbeat lasts.
    pub trail_ms: u64,
    /// Most transactions per block.
    pub max_block_txs: usize,
    /// Gossip flush period, ms.
    pub gossip_flush_ms: u64,
    /// Sync check period, ms.
    pub sync_check_ms: u64,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            pacemaker: PacemakerConfig::default(),
            block_interval_ms: 100,
            busy_block_interval_ms: 10,
            idle_heartbeat_ms: 60_000,
            trail_heartbeat_ms: 1_000,
            trail_ms: 12_000,
            max_block_txs: 10_000,
            gossip_flush_ms: 20,
            sync_check_ms: 1_000,
        }
    }
}
