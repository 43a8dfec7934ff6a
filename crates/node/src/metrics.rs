//! Node counters, exported in the Prometheus text format by `keel-rpc` at `GET /metrics`.

use keel_mempool::{AdmitError, Admitted};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the block commit duration histogram buckets.
pub const COMMIT_SECONDS_BUCKETS: [f64; 10] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// A peer link as seen by this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerSummary {
    /// Peer address.
    pub address: keel_types::Address,
    /// Link up?
    pub connected: bool,
    /// Why the last link attempt failed or closed.
    pub last_error: Option<String>,
    /// Earliest notAfter (Unix seconds) on the certificate chain the peer presented, with
    /// certificate admission.
    pub cert_not_after_secs: Option<u64>,
}

/// What the BFT driver last published (every ~250 ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BftStatus {
    /// Consensus state machine status (`None` on an observer).
    pub consensus: Option<keel_consensus::ConsensusStatus>,
    /// Quorum size.
    pub quorum: usize,
    /// Base round timeout, ms.
    pub round_timeout_ms: u64,
    /// Peer links.
    pub peers: Vec<PeerSummary>,
    /// When published (ms since the Unix epoch).
    pub updated_ms: u64,
}

/// A certificate in use, for expiry warnings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertExpiry {
    /// Which: `node`, `org_ca`, `root` (a metric label).
    pub cert: String,
    /// Subject, RFC 4514.
    pub subject: String,
    /// Serial, hex.
    pub serial: String,
    /// notAfter, Unix seconds.
    pub not_after_secs: u64,
}

/// The certificates a node uses and when to warn (certificate admission only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertStatus {
    /// The node's certificate, its CA(s) and the trusted root(s).
    pub certs: Vec<CertExpiry>,
    /// Warn this many days before expiry.
    pub warning_days: u64,
    /// Peer handshakes refused by certificate admission (network counter, refreshed
    /// periodically).
    pub links_refused: u64,
    /// Live links closed because a peer's certificate was revoked (idem).
    pub revoked_disconnects: u64,
}

impl CertStatus {
    /// `(certificate, seconds left)` for those expiring within the warning window at
    /// `now_secs` (negative: already expired).
    pub fn expiring(&self, now_secs: u64) -> Vec<(&CertExpiry, i64)> {
        let window = i64::try_from(self.warning_days.saturating_mul(86_400)).unwrap_or(i64::MAX);
        self.certs
            .iter()
            .map(|c| (c, seconds_left(c.not_after_secs, now_secs)))
            .filter(|(_, left)| *left <= window)
            .collect()
    }
}

/// `not_after - now` as a signed number of seconds.
pub fn seconds_left(not_after_secs: u64, now_secs: u64) -> i64 {
    let to_i64 = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
    to_i64(not_after_secs).saturating_sub(to_i64(now_secs))
}

/// Counters since the node started.
#[derive(Debug, Default)]
pub struct NodeCounters {
    /// Blocks committed.
    pub blocks: AtomicU64,
    /// Transactions committed (successful and failed).
    pub txs: AtomicU64,
    /// Failed transactions committed.
    pub failed_txs: AtomicU64,
    /// Transactions admitted to the mempool.
    pub admitted_txs: AtomicU64,
    /// Admission rejections by error name.
    rejected: Mutex<BTreeMap<&'static str, u64>>,
    /// Block commit duration histogram (execute → fsync): cumulative bucket counts.
    commit_buckets: [AtomicU64; COMMIT_SECONDS_BUCKETS.len()],
    /// Sum of commit durations, microseconds.
    commit_micros_sum: AtomicU64,
    /// Consensus inputs rejected, by reason.
    consensus_rejected: Mutex<BTreeMap<String, u64>>,
    /// Consensus messages by (direction, kind).
    consensus_messages: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// Latest BFT status (None in solo mode).
    bft: Mutex<Option<BftStatus>>,
    /// Time spent per pipeline stage.
    pub stages: crate::stages::StageTimes,
    /// Latest peer-to-peer network counters (None in solo mode).
    network: Mutex<Option<keel_network::NetworkMetrics>>,
    /// Gas used by committed blocks.
    pub gas_used: AtomicU64,
    /// Evidence records created by committed blocks.
    pub evidence_records: AtomicU64,
    /// Storage write-batch commit (fsync) histogram: cumulative bucket counts.
    storage_buckets: [AtomicU64; COMMIT_SECONDS_BUCKETS.len()],
    /// Sum of storage commit durations, microseconds.
    storage_micros_sum: AtomicU64,
    /// Storage commits observed.
    storage_commits: AtomicU64,
    /// Certificates in use (None without certificate admission).
    certs: Mutex<Option<CertStatus>>,
}

/// A snapshot of the commit-duration histogram.
#[derive(Clone, Debug, PartialEq)]
pub struct CommitHistogram {
    /// `(upper bound seconds, cumulative count)`.
    pub buckets: Vec<(f64, u64)>,
    /// Sum in seconds.
    pub sum_seconds: f64,
    /// Count.
    pub count: u64,
}

impl NodeCounters {
    pub(crate) fn record_admission(&self, results: &[Result<Admitted, AdmitError>]) {
        let mut ok = 0u64;
        let mut rejected = self.rejected.lock().unwrap_or_else(|p| p.into_inner());
        for r in results {
            match r {
                Ok(_) => ok += 1,
                Err(e) => *rejected.entry(e.name()).or_default() += 1,
            }
        }
        self.admitted_txs.fetch_add(ok, Ordering::Relaxed);
    }

    pub(crate) fn record_block(&self, txs: u64, failed: u64, took: Duration) {
        self.blocks.fetch_add(1, Ordering::Relaxed);
        self.txs.fetch_add(txs, Ordering::Relaxed);
        self.failed_txs.fetch_add(failed, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        for (bound, bucket) in COMMIT_SECONDS_BUCKETS.iter().zip(&self.commit_buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.commit_micros_sum
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// Count a rejected consensus input (`reason` is the variant name).
    pub fn record_consensus_rejection(&self, reason: &str) {
        let mut m = self
            .consensus_rejected
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // Bounded: reason names come from a fixed enum.
        if m.len() < 64 || m.contains_key(reason) {
            *m.entry(reason.to_string()).or_default() += 1;
        }
    }

    /// Count a consensus message (`direction`: sent | received; `kind`: proposal | vote | timeout).
    pub fn record_consensus_message(&self, direction: &'static str, kind: &'static str) {
        let mut m = self
            .consensus_messages
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *m.entry((direction, kind)).or_default() += 1;
    }

    /// Consensus messages by (direction, kind).
    pub fn consensus_messages(&self) -> Vec<((&'static str, &'static str), u64)> {
        let m = self
            .consensus_messages
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        m.iter().map(|(k, v)| (*k, *v)).collect()
    }

    /// Consensus rejections by reason.
    pub fn consensus_rejected(&self) -> Vec<(String, u64)> {
        let m = self
            .consensus_rejected
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        m.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// Record what a committed block did beyond its transaction count: gas used, evidence
    /// records created, and how long the durable (fsynced) storage write took.
    pub fn record_commit_detail(&self, gas_used: u64, new_evidence: usize, fsync: Duration) {
        self.gas_used.fetch_add(gas_used, Ordering::Relaxed);
        self.evidence_records
            .fetch_add(new_evidence as u64, Ordering::Relaxed);
        let secs = fsync.as_secs_f64();
        for (bound, bucket) in COMMIT_SECONDS_BUCKETS.iter().zip(&self.storage_buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.storage_micros_sum
            .fetch_add(fsync.as_micros() as u64, Ordering::Relaxed);
        self.storage_commits.fetch_add(1, Ordering::Relaxed);
    }

    /// Storage commit (fsync) histogram snapshot.
    pub fn storage_histogram(&self) -> CommitHistogram {
        CommitHistogram {
            buckets: COMMIT_SECONDS_BUCKETS
                .iter()
                .zip(&self.storage_buckets)
                .map(|(b, c)| (*b, c.load(Ordering::Relaxed)))
                .collect(),
            sum_seconds: self.storage_micros_sum.load(Ordering::Relaxed) as f64 / 1e6,
            count: self.storage_commits.load(Ordering::Relaxed),
        }
    }

    /// Publish the peer-to-peer network counters.
    pub fn set_network(&self, m: keel_network::NetworkMetrics) {
        *self.network.lock().unwrap_or_else(|p| p.into_inner()) = Some(m);
    }

    /// Latest peer-to-peer network counters, if running BFT.
    pub fn network(&self) -> Option<keel_network::NetworkMetrics> {
        *self.network.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publish the BFT status.
    pub fn set_bft(&self, status: BftStatus) {
        *self.bft.lock().unwrap_or_else(|p| p.into_inner()) = Some(status);
    }

    /// Publish the certificates in use (for expiry metrics and `keel_status`).
    pub fn set_certificates(&self, status: CertStatus) {
        *self.certs.lock().unwrap_or_else(|p| p.into_inner()) = Some(status);
    }

    /// The certificates in use, if certificate admission is configured.
    pub fn certificates(&self) -> Option<CertStatus> {
        self.certs.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Latest BFT status, if running BFT.
    pub fn bft(&self) -> Option<BftStatus> {
        self.bft.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Admission rejections by error name.
    pub fn rejected(&self) -> Vec<(&'static str, u64)> {
        let r = self.rejected.lock().unwrap_or_else(|p| p.into_inner());
        r.iter().map(|(k, v)| (*k, *v)).collect()
    }

    /// Commit-duration histogram snapshot.
    pub fn commit_histogram(&self) -> CommitHistogram {
        CommitHistogram {
            buckets: COMMIT_SECONDS_BUCKETS
                .iter()
                .zip(&self.commit_buckets)
                .map(|(b, c)| (*b, c.load(Ordering::Relaxed)))
                .collect(),
            sum_seconds: self.commit_micros_sum.load(Ordering::Relaxed) as f64 / 1e6,
            count: self.blocks.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_detail_accumulates_and_buckets_are_cumulative() {
        let c = NodeCounters::default();
        c.record_commit_detail(21_000, 1, Duration::from_millis(3));
        c.record_commit_detail(40_000, 0, Duration::from_millis(30));
        assert_eq!(c.gas_used.load(Ordering::Relaxed), 61_000);
        assert_eq!(c.evidence_records.load(Ordering::Relaxed), 1);
        let h = c.storage_histogram();
        assert_eq!(h.count, 2);
        assert!((h.sum_seconds - 0.033).abs() < 1e-9, "{}", h.sum_seconds);
        // 3 ms falls in every bucket; 30 ms only from 0.05 up.
        assert_eq!(h.buckets[0], (0.005, 1));
        assert_eq!(h.buckets[2], (0.025, 1));
        assert_eq!(h.buckets[3], (0.05, 2));
        assert!(h.buckets.windows(2).all(|w| w[0].1 <= w[1].1));
    }

    #[test]
    fn network_snapshot_is_absent_until_published() {
        let c = NodeCounters::default();
        assert_eq!(c.network(), None);
        let m = keel_network::NetworkMetrics {
            frames_in: 7,
            connected_peers: 3,
            ..Default::default()
        };
        c.set_network(m);
        assert_eq!(c.network(), Some(m));
    }
}
