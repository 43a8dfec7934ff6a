//! What a run did, for the CLI summary and the tests.

use std::collections::BTreeMap;
use std::fmt;

/// Summary of one run. `trace_hash` folds every processed event; equal seeds give equal hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimReport {
    /// FNV-style hash over the event trace.
    pub trace_hash: u64,
    /// Events processed.
    pub steps: u64,
    /// Simulated time at the end.
    pub sim_time_ms: u64,
    /// Committed height per node (Byzantine nodes stay at 0: their commits are not tracked).
    pub committed_heights: Vec<u64>,
    /// Highest height any honest node committed.
    pub highest_agreed_height: u64,
    /// Messages handed to the network.
    pub messages_sent: u64,
    /// Messages lost or cut by a partition.
    pub messages_dropped: u64,
    /// Messages that failed to decode at the receiver.
    pub decode_errors: u64,
    /// Garbage messages sent by Byzantine nodes.
    pub garbage_sent: u64,
    /// Blocks built by leaders (including equivocating twins).
    pub blocks_built: u64,
    /// Commit effects emitted.
    pub commit_effects: u64,
    /// Commits whose block list started right after the host's last block.
    pub commits_without_gap: u64,
    /// Commits that needed "block sync" for missing ancestors.
    pub commits_with_gap: u64,
    /// Node crashes.
    pub crashes: u64,
    /// Rejected inputs by reason.
    pub rejections: BTreeMap<String, u64>,
}

impl SimReport {
    pub(crate) fn new(nodes: usize) -> SimReport {
        SimReport {
            trace_hash: 0xCBF2_9CE4_8422_2325,
            committed_heights: vec![0; nodes],
            ..SimReport::default()
        }
    }
}

impl fmt::Display for SimReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "trace hash        {:#018x}", self.trace_hash)?;
        writeln!(f, "steps             {}", self.steps)?;
        writeln!(f, "simulated time    {} ms", self.sim_time_ms)?;
        writeln!(f, "committed heights {:?}", self.committed_heights)?;
        writeln!(
            f,
            "messages          {} sent, {} dropped, {} undecodable, {} garbage",
            self.messages_sent, self.messages_dropped, self.decode_errors, self.garbage_sent
        )?;
        writeln!(f, "blocks built      {}", self.blocks_built)?;
        writeln!(
            f,
            "commits           {} effects ({} contiguous, {} via block sync)",
            self.commit_effects, self.commits_without_gap, self.commits_with_gap
        )?;
        writeln!(f, "crashes           {}", self.crashes)?;
        write!(f, "rejections        {:?}", self.rejections)
    }
}
