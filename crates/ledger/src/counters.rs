//! Ledger counters (blocks, transactions, admission, commit and storage durations, pipeline
//! stages), exported in the Prometheus text format by `keel-rpc` at `GET /metrics`.

use keel_mempool::{AdmitError, Admitted};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the block commit duration histogram buckets.
pub const COMMIT_SECONDS_BUCKETS: [f64; 10] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Counters since the ledger opened.
#[derive(Debug, Default)]
pub struct LedgerCounters {
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
    /// Time spent per pipeline stage.
    pub stages: crate::stages::StageTimes,
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

impl LedgerCounters {
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
        let c = LedgerCounters::default();
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
}
