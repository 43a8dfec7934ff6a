//! What a whole-node run did.

/// Counters of one whole-node run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WholeReport {
    /// Seed.
    pub seed: u64,
    /// Validators.
    pub validators: usize,
    /// Byzantine validators.
    pub attackers: usize,
    /// Events processed.
    pub events: u64,
    /// Frames delivered.
    pub delivered: u64,
    /// Frames lost (loss, partitions, a stopped receiver).
    pub dropped: u64,
    /// Hostile frames sent by attackers.
    pub hostile: u64,
    /// Frames refused because the receiver's network cut the sender off (revoked on chain or
    /// excluded by the node list, issue 14).
    pub refused: u64,
    /// Crashes (and restarts), of which power losses (buffered tail lost).
    pub crashes: u64,
    /// Power losses.
    pub power_losses: u64,
    /// Transactions acknowledged, and of those required to commit.
    pub acknowledged: u64,
    /// Lowest committed height among the honest nodes at the end.
    pub height: u64,
    /// Highest epoch among the honest nodes at the end (0: no validator-set change).
    pub epoch: u64,
    /// Simulated time at the end, ms.
    pub sim_ms: u64,
    /// Hash of everything delivered and committed: equal for equal seeds.
    pub trace: u64,
}

impl std::fmt::Display for WholeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seed {} n={} byzantine={}: height {} epoch {} at {} ms simulated; {} events, {} frames \
             delivered, {} dropped, {} hostile, {} refused; {} crashes ({} power losses); {} transactions \
             acknowledged; trace {:016x}",
            self.seed,
            self.validators,
            self.attackers,
            self.height,
            self.epoch,
            self.sim_ms,
            self.events,
            self.delivered,
            self.dropped,
            self.hostile,
            self.refused,
            self.crashes,
            self.power_losses,
            self.acknowledged,
            self.trace
        )
    }
}

/// FNV-1a step over `bytes` (the trace hash).
pub(crate) fn fold(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}
