//! `GET /metrics`: Prometheus text exposition format (version 0.0.4).

use keel_ledger::counters::{COMMIT_SECONDS_BUCKETS, CommitHistogram};
use keel_node::Node;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// RPC request counters.
#[derive(Debug, Default)]
pub(crate) struct RpcCounters {
    /// (method, outcome) -> count; outcome is "ok" or the error name. Methods outside the
    /// known list are counted as "unknown" so clients cannot grow this map without bound.
    calls: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// Request duration histogram: cumulative bucket counts (bounds as the commit histogram).
    request_buckets: [AtomicU64; COMMIT_SECONDS_BUCKETS.len()],
    request_micros_sum: AtomicU64,
    requests: AtomicU64,
    /// Clients on `GET /events` now.
    pub(crate) sse_clients: AtomicUsize,
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

    pub(crate) fn record_request(&self, took: Duration) {
        let secs = took.as_secs_f64();
        for (bound, bucket) in COMMIT_SECONDS_BUCKETS.iter().zip(&self.request_buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.request_micros_sum
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn request_histogram(&self) -> CommitHistogram {
        CommitHistogram {
            buckets: COMMIT_SECONDS_BUCKETS
                .iter()
                .zip(&self.request_buckets)
                .map(|(b, c)| (*b, c.load(Ordering::Relaxed)))
                .collect(),
            sum_seconds: self.request_micros_sum.load(Ordering::Relaxed) as f64 / 1e6,
            count: self.requests.load(Ordering::Relaxed),
        }
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
    let c = &node.ledger().counters;
    family(
        &mut o,
        "keel_chain_height",
        "gauge",
        "Height of the last committed block.",
    );
    let _ = writeln!(o, "keel_chain_height {}", head.height);
    crate::gov::render_metrics(node, &mut o, family);
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
        "keel_mempool_ready",
        "gauge",
        "1 if a pooled transaction is includable at the head (work for the next block), else 0.",
    );
    let head = node.head().height;
    let ready = !node.mempool().is_empty()
        && node
            .mempool()
            .has_ready(&keel_ledger::HeadAccounts(node), head + 1);
    let _ = writeln!(o, "keel_mempool_ready {}", u8::from(ready));
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
        "keel_stage_seconds_total",
        "counter",
        "Thread time spent per pipeline stage (admission, proposal_verify, execute, state_root, storage).",
    );
    for (stage, secs) in c.stages.snapshot() {
        let _ = writeln!(
            o,
            "keel_stage_seconds_total{{stage=\"{}\"}} {secs}",
            stage.name()
        );
    }
    family(
        &mut o,
        "keel_node_halted",
        "gauge",
        "1 if the node halted after a fatal error (see keel_health).",
    );
    let _ = writeln!(o, "keel_node_halted {}", u8::from(node.halted().is_some()));
    render_execution_storage(&mut o, node);
    render_consensus(&mut o, node);
    render_network(&mut o, node);
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
    drop(calls);
    let h = rpc.request_histogram();
    histogram(
        &mut o,
        "keel_rpc_request_seconds",
        "Time to answer one JSON-RPC HTTP request (single call or batch).",
        &h,
    );
    family(
        &mut o,
        "keel_rpc_events_clients",
        "gauge",
        "Clients connected to the GET /events server-sent event stream.",
    );
    let _ = writeln!(
        o,
        "keel_rpc_events_clients {}",
        rpc.sse_clients.load(Relaxed)
    );
    crate::certs::render(&mut o, node);
    o
}

fn histogram(o: &mut String, name: &str, help: &str, h: &CommitHistogram) {
    family(o, name, "histogram", help);
    for (bound, n) in &h.buckets {
        let _ = writeln!(o, "{name}_bucket{{le=\"{bound}\"}} {n}");
    }
    let _ = writeln!(o, "{name}_bucket{{le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(o, "{name}_sum {}", h.sum_seconds);
    let _ = writeln!(o, "{name}_count {}", h.count);
}

fn gauge(o: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    family(o, name, "gauge", help);
    let _ = writeln!(o, "{name} {value}");
}

fn counter(o: &mut String, name: &str, help: &str, value: u64) {
    family(o, name, "counter", help);
    let _ = writeln!(o, "{name} {value}");
}

/// Escape a label value (backslash, double quote, newline).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn render_execution_storage(o: &mut String, node: &Node) {
    use std::sync::atomic::Ordering::Relaxed;
    let c = &node.ledger().counters;
    counter(
        o,
        "keel_execution_gas_used_total",
        "Gas used by the blocks committed since start.",
        c.gas_used.load(Relaxed),
    );
    counter(
        o,
        "keel_execution_evidence_records_total",
        "Evidence records created by the blocks committed since start.",
        c.evidence_records.load(Relaxed),
    );
    let head = node.head();
    gauge(
        o,
        "keel_chain_head_txs",
        "Transactions in the last committed block.",
        head.header.tx_count,
    );
    gauge(
        o,
        "keel_chain_head_gas_used",
        "Gas used by the last committed block.",
        head.header.gas_used,
    );
    histogram(
        o,
        "keel_storage_commit_seconds",
        "Time of the durable (fsynced) storage write of one block.",
        &c.storage_histogram(),
    );
    let (bytes, complete) = dir_size(node.chain().store().path());
    gauge(
        o,
        "keel_storage_disk_bytes",
        "Bytes of the node's data directory on disk (a lower bound if it holds more than 100,000 files).",
        bytes,
    );
    gauge(
        o,
        "keel_storage_disk_scan_complete",
        "1 if keel_storage_disk_bytes covered every file, 0 if the scan stopped at its limit.",
        u8::from(complete),
    );
}

/// Most directory entries visited when measuring the data directory.
const MAX_DIR_ENTRIES: usize = 100_000;

/// Total size of the files under `root` (not following symlinks); `false` if the walk stopped
/// at [`MAX_DIR_ENTRIES`].
fn dir_size(root: &std::path::Path) -> (u64, bool) {
    let mut total = 0u64;
    let mut seen = 0usize;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            seen += 1;
            if seen > MAX_DIR_ENTRIES {
                return (total, false);
            }
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                stack.push(e.path());
            } else if meta.is_file() {
                total += meta.len();
            }
        }
    }
    (total, true)
}

fn render_consensus(o: &mut String, node: &Node) {
    let c = &node.counters;
    family(
        o,
        "keel_consensus_messages_total",
        "counter",
        "Consensus messages sent and received, by kind.",
    );
    for ((direction, kind), n) in c.consensus_messages() {
        let _ = writeln!(
            o,
            "keel_consensus_messages_total{{direction=\"{direction}\",kind=\"{kind}\"}} {n}"
        );
    }
    family(
        o,
        "keel_consensus_rejected_total",
        "counter",
        "Consensus inputs refused, by reason.",
    );
    for (reason, n) in c.consensus_rejected() {
        let _ = writeln!(
            o,
            "keel_consensus_rejected_total{{reason=\"{}\"}} {n}",
            label(&reason)
        );
    }
    let Some(b) = c.bft() else { return };
    if let Some(s) = &b.consensus {
        gauge(
            o,
            "keel_consensus_round",
            "Current consensus round.",
            s.round,
        );
        gauge(
            o,
            "keel_consensus_high_qc_round",
            "Round of the highest quorum certificate known.",
            s.high_qc_round,
        );
        gauge(
            o,
            "keel_consensus_committed_height",
            "Height the consensus core considers committed.",
            s.committed_height,
        );
        gauge(
            o,
            "keel_consensus_votes_missing",
            "Validators whose vote for the current round is missing.",
            s.votes_missing.len(),
        );
        gauge(
            o,
            "keel_consensus_is_leader",
            "1 if this node leads the current round.",
            u8::from(s.leader == node.validator_address()),
        );
    }
    gauge(
        o,
        "keel_consensus_status_age_seconds",
        "Age of the last status the consensus driver published.",
        keel_node::producer::now_ms().saturating_sub(b.updated_ms) as f64 / 1e3,
    );
    if b.consensus.is_some() {
        let validators: Vec<keel_types::Address> = node
            .genesis()
            .validators
            .iter()
            .map(|v| v.address)
            .collect();
        gauge(
            o,
            "keel_consensus_validators_reachable",
            "Validators this validator reaches, itself included (compare with keel_consensus_quorum).",
            crate::status::reachable_validators(&b, &validators),
        );
        gauge(
            o,
            "keel_consensus_quorum",
            "Votes needed for a quorum certificate (2f+1).",
            b.quorum,
        );
    }
    gauge(
        o,
        "keel_p2p_peers_connected",
        "Peer links up.",
        b.peers.iter().filter(|p| p.connected).count(),
    );
    gauge(
        o,
        "keel_p2p_peers_configured",
        "Peers configured.",
        b.peers.len(),
    );
    family(
        o,
        "keel_p2p_peer_up",
        "gauge",
        "1 if the link to the peer is up, by peer address.",
    );
    for p in &b.peers {
        let _ = writeln!(
            o,
            "keel_p2p_peer_up{{peer=\"{}\"}} {}",
            p.address,
            u8::from(p.connected)
        );
    }
}

fn render_network(o: &mut String, node: &Node) {
    let Some(m) = node.counters.network() else {
        return;
    };
    family(
        o,
        "keel_p2p_frames_total",
        "counter",
        "Application frames received and sent.",
    );
    let _ = writeln!(
        o,
        "keel_p2p_frames_total{{direction=\"in\"}} {}",
        m.frames_in
    );
    let _ = writeln!(
        o,
        "keel_p2p_frames_total{{direction=\"out\"}} {}",
        m.frames_out
    );
    family(
        o,
        "keel_p2p_bytes_total",
        "counter",
        "Application payload bytes received and sent.",
    );
    let _ = writeln!(o, "keel_p2p_bytes_total{{direction=\"in\"}} {}", m.bytes_in);
    let _ = writeln!(
        o,
        "keel_p2p_bytes_total{{direction=\"out\"}} {}",
        m.bytes_out
    );
    family(
        o,
        "keel_p2p_handshakes_total",
        "counter",
        "Peer handshakes by outcome.",
    );
    let _ = writeln!(
        o,
        "keel_p2p_handshakes_total{{outcome=\"ok\"}} {}",
        m.handshakes_ok
    );
    let _ = writeln!(
        o,
        "keel_p2p_handshakes_total{{outcome=\"failed\"}} {}",
        m.handshakes_failed
    );
    family(
        o,
        "keel_p2p_handshakes_rejected_total",
        "counter",
        "Handshakes refused, by reason.",
    );
    for (reason, n) in [
        ("unknown_peer", m.rejected_unknown_peer),
        ("bad_signature", m.rejected_bad_signature),
        ("busy", m.rejected_busy),
    ] {
        let _ = writeln!(
            o,
            "keel_p2p_handshakes_rejected_total{{reason=\"{reason}\"}} {n}"
        );
    }
    counter(
        o,
        "keel_p2p_oversized_frames_total",
        "Links closed because a frame claimed more than the frame limit.",
        m.oversized_frames,
    );
    counter(
        o,
        "keel_p2p_dropped_frames_total",
        "Frames dropped because a peer's outbound queue was full.",
        m.dropped_frames,
    );
    counter(
        o,
        "keel_p2p_reconnects_total",
        "Links re-established to a peer that had been connected before.",
        m.reconnects,
    );
    counter(
        o,
        "keel_p2p_disconnects_total",
        "Established links that ended.",
        m.disconnects,
    );
    counter(
        o,
        "keel_p2p_duplicate_links_total",
        "Links closed by the one-link-per-peer rule.",
        m.duplicate_links,
    );
}
