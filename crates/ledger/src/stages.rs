//! Time spent per pipeline stage, summed over the node's life: where a transaction's cost goes.
//!
//! Exported as `keel_stage_seconds_total{stage}` and read by `keel bench` to print a per-stage
//! breakdown. Stages run on several threads at once (admission batches in parallel, proposals
//! validated while blocks commit), so the sums are thread-time, not wall time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A pipeline stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Decode, stateless checks, signature verification and pool insertion (`Ledger::submit`).
    Admission,
    /// Stateless checks and signature verification of transactions in someone else's proposal
    /// that were not in this node's pool.
    ProposalVerify,
    /// Running the transactions (executor) over the parent state.
    Execute,
    /// State tree root computation (JMT) for the block.
    StateRoot,
    /// Writing the block, indexes and state nodes, and the fsync.
    Storage,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 5] = [
        Stage::Admission,
        Stage::ProposalVerify,
        Stage::Execute,
        Stage::StateRoot,
        Stage::Storage,
    ];

    /// Label value used in metrics and bench output.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Admission => "admission",
            Stage::ProposalVerify => "proposal_verify",
            Stage::Execute => "execute",
            Stage::StateRoot => "state_root",
            Stage::Storage => "storage",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Nanoseconds spent per stage.
#[derive(Debug, Default)]
pub struct StageTimes {
    nanos: [AtomicU64; Stage::ALL.len()],
}

impl StageTimes {
    /// Add `took` to `stage`.
    pub fn add(&self, stage: Stage, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.nanos[stage.index()].fetch_add(ns, Ordering::Relaxed);
    }

    /// Run `f`, charging its duration to `stage`.
    pub fn time<T>(&self, stage: Stage, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.add(stage, t.elapsed());
        out
    }

    /// Seconds spent in `stage` so far.
    pub fn seconds(&self, stage: Stage) -> f64 {
        self.nanos[stage.index()].load(Ordering::Relaxed) as f64 / 1e9
    }

    /// `(stage, seconds)` for every stage.
    pub fn snapshot(&self) -> Vec<(Stage, f64)> {
        Stage::ALL.iter().map(|s| (*s, self.seconds(*s))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_accumulate_per_stage() {
        let t = StageTimes::default();
        t.add(Stage::Execute, Duration::from_millis(3));
        t.add(Stage::Execute, Duration::from_millis(2));
        let v = t.time(Stage::Storage, || 7);
        assert_eq!(v, 7);
        assert!((t.seconds(Stage::Execute) - 0.005).abs() < 1e-9);
        assert_eq!(t.seconds(Stage::Admission), 0.0);
        assert!(t.seconds(Stage::Storage) >= 0.0);
        let names: Vec<&str> = t.snapshot().iter().map(|(s, _)| s.name()).collect();
        assert_eq!(
            names,
            [
                "admission",
                "proposal_verify",
                "execute",
                "state_root",
                "storage"
            ]
        );
    }
}
