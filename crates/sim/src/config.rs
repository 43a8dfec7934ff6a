//! What one simulation run does: size, fault mix, Byzantine behaviours, bounds.

use crate::rng::SimRng;

/// Network and node faults active before GST (global stabilisation time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Faults {
    /// Probability (‰) a message is lost.
    pub loss_permille: u64,
    /// Probability (‰) a message is delivered twice.
    pub duplicate_permille: u64,
    /// Probability (‰) a message gets an extra delay of up to `spike_delay_ms_max`.
    pub spike_permille: u64,
    /// Largest extra delay.
    pub spike_delay_ms_max: u64,
    /// Whether partitions (healing after a while) happen.
    pub partitions: bool,
    /// Whether honest nodes crash and restart (some in the middle of performing effects).
    pub crashes: bool,
}

impl Faults {
    /// No faults.
    pub fn none() -> Faults {
        Faults {
            loss_permille: 0,
            duplicate_permille: 0,
            spike_permille: 0,
            spike_delay_ms_max: 0,
            partitions: false,
            crashes: false,
        }
    }
}

/// What a Byzantine validator does (several may be combined).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Byzantine {
    /// As leader, send different blocks for the same round to two halves of the network.
    pub equivocate: bool,
    /// Vote for every proposal seen, ignoring the safety rules.
    pub double_vote: bool,
    /// Never send votes.
    pub withhold_votes: bool,
    /// As leader, propose blocks whose bodies are invalid.
    pub invalid_blocks: bool,
    /// Send random, truncated, oversized and bit-flipped messages.
    pub garbage: bool,
    /// Send votes whose signature covers other data.
    pub wrong_signature: bool,
}

/// One run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// Seed of everything.
    pub seed: u64,
    /// Number of validators.
    pub nodes: usize,
    /// Behaviour of validators `0..byzantine.len()` (by node index).
    pub byzantine: Vec<Byzantine>,
    /// Faults before GST.
    pub faults: Faults,
    /// Largest one-way delay before GST (after GST: `delay_ms_max_after_gst`).
    pub delay_ms_max: u64,
    /// Largest one-way delay after GST.
    pub delay_ms_max_after_gst: u64,
    /// Simulated time at which faults stop and crashed nodes restart.
    pub gst_ms: u64,
    /// After GST every honest node must commit this many new blocks...
    pub target_commits: u64,
    /// ...within this much simulated time.
    pub progress_budget_ms: u64,
    /// Hard bound on processed events.
    pub max_steps: u64,
    /// Round timer base.
    pub base_timeout_ms: u64,
    /// Round timer back-off cap (exponent).
    pub backoff_exponent_cap: u32,
    /// Deliberately broken host for checker tests: `PersistSafety` is never performed, so
    /// restarted nodes forget their votes.
    pub forget_safety_state: bool,
}

impl SimConfig {
    /// A fault-free baseline.
    pub fn new(seed: u64, nodes: usize) -> SimConfig {
        SimConfig {
            seed,
            nodes,
            byzantine: Vec::new(),
            faults: Faults::none(),
            delay_ms_max: 20,
            delay_ms_max_after_gst: 10,
            gst_ms: 2_000,
            target_commits: 10,
            progress_budget_ms: 30_000,
            max_steps: 400_000,
            base_timeout_ms: 100,
            backoff_exponent_cap: 5,
            forget_safety_state: false,
        }
    }

    /// The fault mix for `seed`: the seed picks one of six mixes (clean, lossy, partitions,
    /// crashes, Byzantine, everything) and then its parameters, so a range of seeds covers
    /// all mixes.
    pub fn for_seed(seed: u64, nodes: usize) -> SimConfig {
        let mut config = SimConfig::new(seed, nodes);
        let mut rng = SimRng::new(seed ^ 0x5EED_F00D);
        let f = (nodes - 1) / 3;
        let mix = seed % 6;
        let lossy = matches!(mix, 1 | 5);
        config.delay_ms_max = rng.range(5, 60);
        config.gst_ms = rng.range(1_000, 5_000);
        if lossy {
            config.faults.loss_permille = rng.range(10, 150);
            config.faults.duplicate_permille = rng.range(0, 100);
            config.faults.spike_permille = rng.range(0, 100);
            config.faults.spike_delay_ms_max = rng.range(50, 800);
        }
        config.faults.partitions = matches!(mix, 2 | 5);
        config.faults.crashes = matches!(mix, 3 | 5);
        if matches!(mix, 4 | 5) {
            let count = rng.range(1, f as u64) as usize;
            config.byzantine = (0..count).map(|_| Byzantine::random(&mut rng)).collect();
        }
        config
    }

    /// `f` for this size.
    pub fn max_faulty(&self) -> usize {
        (self.nodes - 1) / 3
    }

    /// The command line that replays this run.
    pub fn replay_command(&self) -> String {
        format!(
            "cargo run -p keel-sim -- --seed {} --nodes {} --rounds {}",
            self.seed, self.nodes, self.target_commits
        )
    }
}

impl Byzantine {
    /// A random non-empty combination of behaviours.
    pub fn random(rng: &mut SimRng) -> Byzantine {
        loop {
            let b = Byzantine {
                equivocate: rng.chance(500),
                double_vote: rng.chance(500),
                withhold_votes: rng.chance(300),
                invalid_blocks: rng.chance(400),
                garbage: rng.chance(400),
                wrong_signature: rng.chance(300),
            };
            if b != Byzantine::default() {
                return b;
            }
        }
    }

    /// Every attack at once (except withholding, which would hide the others).
    pub fn all() -> Byzantine {
        Byzantine {
            equivocate: true,
            double_vote: true,
            withhold_votes: false,
            invalid_blocks: true,
            garbage: true,
            wrong_signature: true,
        }
    }
}
