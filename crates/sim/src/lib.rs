//! Deterministic simulation of a Keel validator set running [`keel_consensus`].
//!
//! Many nodes run in one process, driven by a seeded scheduler (SplitMix64) over a simulated
//! clock and network. Every message send becomes an event at `now + delay`; before GST
//! (global stabilisation time) the seed decides message loss, duplication, delay spikes
//! (hence reordering), partitions that heal, and crashes of honest nodes — sometimes in the
//! middle of performing one input's effects, so only effects already performed survive and
//! the persist-before-send contract is exercised. Up to `f` validators are Byzantine
//! ([`Byzantine`]): equivocating leaders, double votes, withheld votes, invalid blocks,
//! garbage bytes, votes signed over other data. The simulator plays the host: it builds and
//! validates blocks, persists safety state, arms timers, and fills commit gaps from its block
//! store as block sync would.
//!
//! Checked on every step ([`Violation`]): agreement, validity, commit-certificate validity
//! (`verify_commit`), chain continuity, no honest double-signing, no honest message rejected
//! for a reason honest messages cannot have; and after GST, progress of every honest node.
//!
//! A run is a pure function of its [`SimConfig`]: `cargo run -p keel-sim -- --seed N --nodes 4`
//! replays it exactly (same trace hash).

mod config;
mod crypto;
mod invariants;
mod report;
mod rng;
pub mod whole;
mod world;

pub use config::{Byzantine, Faults, SimConfig};
pub use crypto::SimCrypto;
pub use invariants::Violation;
pub use report::SimReport;
pub use rng::SimRng;

/// A failed run: the broken invariant and what happened until then.
#[derive(Clone, Debug)]
pub struct SimFailure {
    /// The violation.
    pub violation: Violation,
    /// The run up to the violation.
    pub report: SimReport,
    /// Command line that replays the run.
    pub replay: String,
}

impl std::fmt::Display for SimFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\nreplay with: {}\n{}",
            self.violation, self.replay, self.report
        )
    }
}

/// Runs one simulation to its progress target or first violation.
pub fn run(config: &SimConfig) -> Result<SimReport, Box<SimFailure>> {
    let mut world = world::World::new(config.clone());
    match world.run() {
        Ok(()) => Ok(world.report),
        Err(violation) => Err(Box::new(SimFailure {
            violation,
            report: world.report,
            replay: config.replay_command(),
        })),
    }
}
