#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Seed sweeps. `KEEL_SIM_SEEDS=<n>` multiplies the default seed counts locally.

use keel_sim::{Byzantine, SimConfig, Violation, run};

fn scale() -> u64 {
    std::env::var("KEEL_SIM_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1)
}

fn sweep(nodes: usize, seeds: std::ops::Range<u64>) {
    let mut failures = Vec::new();
    for seed in seeds.clone() {
        let config = SimConfig::for_seed(seed, nodes);
        if let Err(failure) = run(&config) {
            failures.push(format!(
                "seed {seed}: {}\nreplay with: {}",
                failure.violation, failure.replay
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} seeds failed:\n{}",
        failures.len(),
        seeds.end - seeds.start,
        failures.join("\n")
    );
}

// Seed counts are sized to the suite's time budget (issue 19): 1,400 seeds here, and the
// whole-node simulator (tests/whole.rs) runs 2,000 more over the real driver and ledger.

#[test]
fn four_nodes_a() {
    sweep(4, 0..600 * scale());
}

#[test]
fn four_nodes_b() {
    let s = scale();
    sweep(4, 600 * s..1_200 * s);
}

#[test]
fn seven_nodes() {
    sweep(7, 10_000..10_000 + 200 * scale());
}

#[test]
fn replay_is_deterministic() {
    for seed in [5, 11, 23] {
        let config = SimConfig::for_seed(seed, 4);
        let a = run(&config).expect("seed passes");
        let b = run(&config).expect("seed passes");
        assert_eq!(a, b, "seed {seed}");
    }
    let a = run(&SimConfig::for_seed(1, 4)).unwrap();
    let b = run(&SimConfig::for_seed(7, 4)).unwrap();
    assert_ne!(a.trace_hash, b.trace_hash);
}

/// f+1 colluding Byzantine validators (equivocating leaders that double-vote) exceed the
/// fault bound: the agreement checker must notice on some seed. Proves the checker works.
#[test]
fn agreement_checker_catches_f_plus_one_byzantine() {
    let mut caught = None;
    for seed in 0..200 {
        let mut config = SimConfig::for_seed(seed, 4);
        config.faults = keel_sim::Faults::none();
        config.byzantine = vec![
            Byzantine {
                equivocate: true,
                double_vote: true,
                ..Byzantine::default()
            };
            2
        ];
        if let Err(failure) = run(&config)
            && let Violation::Agreement { .. } = failure.violation
        {
            caught = Some(seed);
            break;
        }
    }
    assert!(
        caught.is_some(),
        "no agreement violation with f+1 Byzantine validators"
    );
}

/// A host that skips `PersistSafety` lets restarted nodes sign twice in a round: the
/// double-sign checker must notice (proves crash/restart really exercises persist-before-send).
#[test]
fn double_sign_checker_catches_a_host_that_forgets_safety_state() {
    let caught = (0..300).map(|i| 3 + 6 * i).any(|seed| {
        let mut config = SimConfig::for_seed(seed, 4);
        config.forget_safety_state = true;
        matches!(run(&config), Err(f) if matches!(f.violation, Violation::DoubleSign { .. }))
    });
    assert!(
        caught,
        "no double signing detected although safety state is never persisted"
    );
}
