//! What one whole-node run does: size, faults, attackers, traffic, bounds.

use crate::config::Faults;
use crate::rng::SimRng;

/// Hostile behaviours of an attacker node (a validator or an observer speaking the real wire
/// protocol with its real key). Several may be combined.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attacks {
    /// As leader, send a second, valid but different block for the same round to half the
    /// validators (an equivocating leader).
    pub equivocate: bool,
    /// As leader, send a body whose `parent_hash` differs from the signed proposal's parent.
    pub wrong_parent: bool,
    /// As leader, stamp the block 10 s in the future.
    pub future_timestamp: bool,
    /// Bodies for far-future heights, unsolicited and forged sync and block responses.
    pub forged_blocks: bool,
    /// Gossip transactions that are already committed.
    pub replay_txs: bool,
    /// Floods of next-epoch consensus messages and of replayed old consensus frames.
    pub floods: bool,
    /// Random bytes on every channel, and sync requests for huge ranges.
    pub garbage: bool,
}

impl Attacks {
    /// Every behaviour.
    pub fn all() -> Attacks {
        Attacks {
            equivocate: true,
            wrong_parent: true,
            future_timestamp: true,
            forged_blocks: true,
            replay_txs: true,
            floods: true,
            garbage: true,
        }
    }

    /// A seed's mix (at least one behaviour).
    fn random(rng: &mut SimRng) -> Attacks {
        let mut a = Attacks {
            equivocate: rng.chance(500),
            wrong_parent: rng.chance(400),
            future_timestamp: rng.chance(300),
            forged_blocks: rng.chance(500),
            replay_txs: rng.chance(500),
            floods: rng.chance(400),
            garbage: rng.chance(500),
        };
        if a == Attacks::default() {
            a.garbage = true;
        }
        a
    }

    /// Whether the attacker changes its own proposals.
    pub fn as_leader(&self) -> bool {
        self.equivocate || self.wrong_parent || self.future_timestamp
    }
}

/// A validator-set change the committee (the genesis validators' node keys) votes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochChange {
    /// Admit the (honest) observer as a validator.
    AdmitObserver,
    /// Remove the last validator: an attacker if there is one (the consortium ejects it; it
    /// keeps running and attacking as a non-validator), else an honest one (it must keep
    /// following the chain).
    RemoveValidator,
    /// Revoke the last validator's certificate on chain (issue 14): no epoch switch, but every
    /// node's network cuts it off once the revocation commits. Drawn only when it is an
    /// attacker; as an honest node it could no longer follow the chain.
    RevokeValidator,
}

/// One whole-node run: real `keel-node` drivers over real ledgers on the seeded scheduler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WholeConfig {
    /// Seed of everything.
    pub seed: u64,
    /// Validators (`f = (n - 1) / 3`).
    pub validators: usize,
    /// The last `attackers` validators are Byzantine (at most `f`).
    pub attackers: usize,
    /// What they do.
    pub attacks: Attacks,
    /// Whether a genesis observer runs, and whether it misbehaves (with `attacks`).
    pub observer: Option<bool>,
    /// Faults before GST (crashes include restarts that lose the buffered tail).
    pub faults: Faults,
    /// Largest one-way delay before GST, ms.
    pub delay_ms_max: u64,
    /// Whether each link delivers in order, as a TCP stream does (false: frames of one link
    /// may overtake each other, as when a link is replaced).
    pub fifo_links: bool,
    /// Simulated time at which faults stop and crashed nodes restart, ms.
    pub gst_ms: u64,
    /// Client transfers submitted before GST.
    pub transactions: usize,
    /// A validator-set change by governance during the run (an epoch switch).
    pub epoch_change: Option<EpochChange>,
    /// Every honest node must reach this committed height after GST...
    pub target_height: u64,
    /// ...and commit every transaction whose node stayed up, before this simulated time.
    pub deadline_ms: u64,
    /// Idle heartbeat of every node (ADR 0014), ms; the seeds use a short one so that a run
    /// without transactions still reaches its target height; 0 = never.
    pub idle_heartbeat_ms: u64,
}

impl WholeConfig {
    /// The configuration `seed` stands for (faults and attackers drawn from the seed).
    pub fn for_seed(seed: u64, validators: usize) -> WholeConfig {
        let mut rng = SimRng::new(seed ^ 0x5EED_0F00_0000_0001);
        let f = validators.saturating_sub(1) / 3;
        let attackers = if rng.chance(600) {
            rng.range(1, f as u64) as usize
        } else {
            0
        };
        let faults = Faults {
            loss_permille: if rng.chance(500) {
                rng.range(1, 150)
            } else {
                0
            },
            duplicate_permille: if rng.chance(400) {
                rng.range(1, 100)
            } else {
                0
            },
            spike_permille: if rng.chance(400) { rng.range(1, 50) } else { 0 },
            spike_delay_ms_max: rng.range(50, 600),
            partitions: rng.chance(300),
            crashes: rng.chance(400),
        };
        let observer = match rng.range(0, 2) {
            0 => None,
            1 => Some(false),
            _ => Some(true),
        };
        WholeConfig {
            seed,
            validators,
            attackers: attackers.min(f),
            attacks: Attacks::random(&mut rng),
            observer,
            faults,
            delay_ms_max: rng.range(1, 40),
            fifo_links: !rng.chance(100),
            gst_ms: rng.range(150, 700),
            transactions: rng.range(0, 24) as usize,
            epoch_change: if observer == Some(false) && rng.chance(400) {
                Some(EpochChange::AdmitObserver)
            } else if rng.chance(250) {
                Some(EpochChange::RemoveValidator)
            } else if attackers.min(f) > 0 && rng.chance(300) {
                Some(EpochChange::RevokeValidator)
            } else {
                None
            },
            target_height: 8,
            deadline_ms: 60_000,
            idle_heartbeat_ms: 1_000,
        }
    }

    /// No faults, no attackers, no observer, no epoch switch, in-order links.
    pub fn calm(seed: u64, validators: usize) -> WholeConfig {
        WholeConfig {
            attackers: 0,
            observer: None,
            faults: Faults::none(),
            fifo_links: true,
            epoch_change: None,
            ..WholeConfig::for_seed(seed, validators)
        }
    }

    /// The command that replays this run (for seeds from [`WholeConfig::for_seed`]).
    pub fn replay_command(&self) -> String {
        format!(
            "cargo run -p keel-sim -- --whole --seed {} --nodes {}",
            self.seed, self.validators
        )
    }
}
