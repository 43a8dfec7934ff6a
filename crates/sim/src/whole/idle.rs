//! Idle runs (ADR 0014): a calm consortium commits one transfer, then stays idle for a long
//! simulated time; the chain may grow only by the idle heartbeat, and no view may change.
//! Then a transfer arrives (optionally after the waiting leader crashed) and must commit.

use super::WholeFailure;
use super::check::{Checker, WholeViolation};
use super::config::WholeConfig;
use super::report::WholeReport;
use super::world::World;

/// Time for the first transfer to commit and the chain to settle, after GST, ms.
const SETTLE_MS: u64 = 3_000;
/// How long the transfer after the idle period may take to commit, ms of simulated time.
const COMMIT_DEADLINE_MS: u64 = 30_000;
/// Step of the wait for that commit, ms.
const POLL_MS: u64 = 10;

/// One idle run.
#[derive(Clone, Debug)]
pub struct IdleConfig {
    /// Seed.
    pub seed: u64,
    /// Validators.
    pub validators: usize,
    /// Idle heartbeat of every node, ms (0 = never).
    pub idle_heartbeat_ms: u64,
    /// Length of the idle period, ms of simulated time.
    pub idle_ms: u64,
    /// Crash the leader waiting to propose before the transfer arrives (it stays down).
    pub crash_leader: bool,
    /// Byzantine validators (at most f) running every attack throughout.
    pub attackers: usize,
}

/// What an idle run measured.
#[derive(Clone, Debug, Default)]
pub struct IdleReport {
    /// Most blocks any honest node committed during the idle period.
    pub idle_blocks: u64,
    /// Most rounds any honest node advanced during the idle period.
    pub idle_rounds: u64,
    /// From the transfer's admission after the idle period to its commit on every live honest
    /// node, ms of simulated time.
    pub commit_after_idle_ms: u64,
    /// Whether a leader was crashed.
    pub crashed_leader: bool,
    /// The underlying run.
    pub report: WholeReport,
}

/// Run one idle scenario; violations of the whole-node checks fail it as in [`super::run_whole`].
pub fn run_idle(cfg: &IdleConfig) -> Result<IdleReport, Box<WholeFailure>> {
    let mut config = WholeConfig::calm(cfg.seed, cfg.validators);
    config.transactions = 1;
    config.idle_heartbeat_ms = cfg.idle_heartbeat_ms;
    config.attackers = cfg.attackers;
    config.attacks = super::config::Attacks::all();
    let replay = format!("{cfg:?}");
    let mut world = World::new(config).map_err(|v| fail(v, WholeReport::default(), &replay))?;
    match idle(&mut world, cfg) {
        Ok(mut r) => {
            r.report = world.report.clone();
            Ok(r)
        }
        Err(v) => Err(fail(v, world.report.clone(), &replay)),
    }
}

fn fail(violation: WholeViolation, report: WholeReport, replay: &str) -> Box<WholeFailure> {
    Box::new(WholeFailure {
        violation,
        report,
        replay: replay.to_string(),
    })
}

fn idle(w: &mut World, cfg: &IdleConfig) -> Result<IdleReport, WholeViolation> {
    w.start()?;
    w.run_until(w.cfg.gst_ms + SETTLE_MS)?;
    let first = w
        .clients
        .iter()
        .flat_map(|c| c.acknowledged.clone())
        .collect();
    wait_committed(w, first)?;
    let (h0, r0) = (heights(w), rounds(w));
    w.run_until(w.now + cfg.idle_ms)?;
    let (h1, r1) = (heights(w), rounds(w));
    let grew = |a: &[u64], b: &[u64]| a.iter().zip(b).map(|(x, y)| y - x).max().unwrap_or(0);
    let mut out = IdleReport {
        idle_blocks: grew(&h0, &h1),
        idle_rounds: grew(&r0, &r1),
        ..IdleReport::default()
    };
    let mut crashed = None;
    if cfg.crash_leader {
        crashed = waiting_leader(w);
        if let Some(i) = crashed {
            w.c.members[i].crash(false).map_err(WholeViolation::Setup)?;
            out.crashed_leader = true;
        }
    }
    let client = w
        .clients
        .iter()
        .position(|c| Some(c.home) != crashed)
        .ok_or_else(|| WholeViolation::Setup("no client on a live node".into()))?;
    let before = w.clients[client].acknowledged.len();
    w.submit(client)?;
    let start = w.now;
    let tx = w.clients[client].acknowledged[before..].to_vec();
    if tx.is_empty() {
        return Err(WholeViolation::Setup(
            "the transfer was not admitted".into(),
        ));
    }
    wait_committed(w, tx)?;
    out.commit_after_idle_ms = w.now - start;
    Ok(out)
}

/// Run until every live honest node committed `txs`, or report no progress.
fn wait_committed(w: &mut World, txs: Vec<keel_types::Hash>) -> Result<(), WholeViolation> {
    let deadline = w.now + COMMIT_DEADLINE_MS;
    loop {
        let missing = txs
            .iter()
            .filter(|tx| {
                w.c.members
                    .iter()
                    .filter(|m| m.honest())
                    .filter_map(|m| m.live.as_ref())
                    .any(|l| !Checker::has(&l.node, tx))
            })
            .count();
        if missing == 0 {
            return Ok(());
        }
        if w.now >= deadline {
            return Err(WholeViolation::NoProgress {
                heights: heights(w),
                missing_txs: missing,
            });
        }
        w.run_until(w.now + POLL_MS)?;
    }
}

/// Committed heights of the honest validators.
fn heights(w: &World) -> Vec<u64> {
    honest_validators(w)
        .map(|i| w.c.members[i].seen_height)
        .collect()
}

/// Consensus rounds of the honest validators (0 while down).
fn rounds(w: &World) -> Vec<u64> {
    honest_validators(w)
        .map(|i| {
            w.c.members[i]
                .live
                .as_ref()
                .and_then(|l| l.driver.status())
                .map_or(0, |s| s.round)
        })
        .collect()
}

fn honest_validators(w: &World) -> impl Iterator<Item = usize> + '_ {
    (0..w.cfg.validators).filter(|i| w.c.members[*i].honest())
}

/// The honest validator that leads its own current round: it holds the last QC and waits for
/// work to propose.
fn waiting_leader(w: &World) -> Option<usize> {
    honest_validators(w).find(|i| {
        let m = &w.c.members[*i];
        m.live
            .as_ref()
            .and_then(|l| l.driver.status())
            .is_some_and(|s| s.leader == m.address)
    })
}
