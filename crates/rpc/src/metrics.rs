//! `GET /metrics`: Prometheus text exposition format (version 0.0.4).

use keel_node::Node;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// RPC request counters.
#[derive(Debug, Default)]
pub(crate) struct RpcCounters {
    /// (method, outcome) -> count; outcome is "ok" or the error name. Methods outside the
    /// known list are counted as "unknown" so clients cannot grow this map without bound.
    calls: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

impl RpcCounters {
    pub(crate) fn record(&self, method: &str, outcome: &'static str) {
        let method = crate::METHODS
            .iter()
            .chain(crate::eth::ETH_METHODS)
            .find(|m| **m == method)
            .copied()
            .unwrap_or("unknown");
        let mut c = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        *c.entry((method, outcome)).or_default() += 1;
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Render every metric.
pub(crate) fn render(node: &Node, rpc: &RpcCounters) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let mut o = String::with_capacity(4096);
    let head = node.head();
    let c = &node.counters;
    family(
        &mut o,
        "keel_chain_height",
        "gauge",
        "Height of the last committed block.",
    );
    let _ = writeln!(o, "keel_chain_height {}", head.height);
    family(
        &mut o,
        "keel_chain_head_timestamp_seconds",
        "gauge",
        "Timestamp of the last committed block, seconds since the Unix epoch.",
    );
    let _ = writeln!(
        o,
        "keel_chain_head_timestamp_seconds {}",
        head.header.timestamp_ms as f64 / 1e3
    );
    family(
        &mut o,
        "keel_blocks_committed_total",
        "counter",
        "Blocks committed since the node started.",
    );
    let _ = writeln!(o, "keel_blocks_committed_total {}", c.blocks.load(Relaxed));
    family(
        &mut o,
        "keel_txs_committed_total",
        "counter",
        "Transactions committed since start, by receipt status.",
    );
    let txs = c.txs.load(Relaxed);
    let failed = c.failed_txs.load(Relaxed);
    let _ = writeln!(
        o,
        "keel_txs_committed_total{{status=\"success\"}} {}",
        txs.saturating_sub(failed)
    );
    let _ = writeln!(o, "keel_txs_committed_total{{status=\"failed\"}} {failed}");
    family(
        &mut o,
        "keel_mempool_pending_txs",
        "gauge",
        "Transactions waiting in the mempool.",
    );
    let _ = writeln!(o, "keel_mempool_pending_txs {}", node.mempool().len());
    family(
        &mut o,
        "keel_mempool_capacity_txs",
        "gauge",
        "Mempool capacity in transactions.",
    );
    let _ = writeln!(
        o,
        "keel_mempool_capacity_txs {}",
        node.mempool().config().max_txs
    );
    family(
        &mut o,
        "keel_mempool_admitted_total",
        "counter",
        "Transactions admitted to the mempool.",
    );
    let _ = writeln!(
        o,
        "keel_mempool_admitted_total {}",
        c.admitted_txs.load(Relaxed)
    );
    family(
        &mut o,
        "keel_mempool_rejected_total",
        "counter",
        "Transactions rejected at admission, by error name (docs/rpc.md).",
    );
    for (reason, n) in c.rejected() {
        let _ = writeln!(o, "keel_mempool_rejected_total{{reason=\"{reason}\"}} {n}");
    }
    let h = c.commit_histogram();
    family(
        &mut o,
        "keel_block_commit_seconds",
        "histogram",
        "Time to execute, compute the state root and durably commit a block.",
    );
    for (bound, n) in &h.buckets {
        let _ = writeln!(o, "keel_block_commit_seconds_bucket{{le=\"{bound}\"}} {n}");
    }
    let _ = writeln!(
        o,
        "keel_block_commit_seconds_bucket{{le=\"+Inf\"}} {}",
        h.count
    );
    let _ = writeln!(o, "keel_block_commit_seconds_sum {}", h.sum_seconds);
    let _ = writeln!(o, "keel_block_commit_seconds_count {}", h.count);
    family(
        &mut o,
        "keel_node_halted",
        "gauge",
        "1 if the node halted after a fatal error (see keel_health).",
    );
    let _ = writeln!(o, "keel_node_halted {}", u8::from(node.halted().is_some()));
    family(
        &mut o,
        "keel_rpc_calls_total",
        "counter",
        "JSON-RPC calls by method and outcome (ok or error name).",
    );
    let calls = rpc.calls.lock().unwrap_or_else(|p| p.into_inner());
    for ((method, outcome), n) in calls.iter() {
        let _ = writeln!(
            o,
            "keel_rpc_calls_total{{method=\"{method}\",outcome=\"{outcome}\"}} {n}"
        );
    }
    o
}
