//! Whole-node simulation (issue 11): N real `keel-node` drivers over N real ledgers (real
//! execution, real Ed25519 signatures, real fjall databases in temp dirs) on one seeded
//! scheduler. The driver is reached only through its public seam — `Driver::step(Step, Now)`,
//! `next_deadline()` and the `DriverNet` trait — so what runs here is what runs in a node;
//! only the sockets and the clocks are simulated.
//!
//! Before GST the seed decides message loss, delay, duplication, reordering (delay spikes),
//! partitions that heal, and crash-restarts of honest nodes, half of them power losses that
//! also lose what was written with buffered durability (stored pending blocks). Up to `f`
//! validators, and optionally the observer, are attackers ([`Attacks`]): they run the real
//! driver and also speak the real wire protocol with hostile intent. Client accounts submit
//! transfers to their home validator. In some seeds the committee admits the observer as a
//! validator, or removes a validator, by governance, so the run crosses an epoch switch.
//!
//! Checked after every step of an honest node ([`WholeViolation`]): agreement on committed
//! blocks, state roots equal to each node's own state tree, every non-implied commit
//! certificate verifies, no transaction committed twice, no committed block lost across a
//! restart, receipts never rewritten. At the end: every honest node reached the target height
//! and committed every acknowledged transaction whose node stayed up, and `verify_chain`
//! passes on every honest node. [`run_idle`] checks that an idle consortium does not grow
//! beyond its heartbeat nor change views, and commits the next transfer (ADR 0014). A run is a
//! function of its [`WholeConfig`]: the same seed
//! gives the same [`WholeReport::trace`].

mod attack;
mod check;
mod cluster;
mod config;
mod govern;
mod idle;
mod net;
mod report;
mod traffic;
mod world;

pub use check::WholeViolation;
pub use config::{Attacks, EpochChange, WholeConfig};
pub use idle::{IdleConfig, IdleReport, run_idle};
pub use report::WholeReport;

/// A failed whole-node run.
#[derive(Clone, Debug)]
pub struct WholeFailure {
    /// The violation.
    pub violation: WholeViolation,
    /// The run up to it.
    pub report: WholeReport,
    /// Command line that replays the run.
    pub replay: String,
}

impl std::fmt::Display for WholeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\nreplay with: {}\n{}",
            self.violation, self.replay, self.report
        )
    }
}

/// Run one whole-node simulation to its end condition or first violation.
pub fn run_whole(config: &WholeConfig) -> Result<WholeReport, Box<WholeFailure>> {
    let fail = |violation, report| {
        Box::new(WholeFailure {
            violation,
            report,
            replay: config.replay_command(),
        })
    };
    let mut world = match world::World::new(config.clone()) {
        Ok(w) => w,
        Err(v) => return Err(fail(v, WholeReport::default())),
    };
    match world.run() {
        Ok(()) => Ok(world.report.clone()),
        Err(v) => Err(fail(v, world.report.clone())),
    }
}
