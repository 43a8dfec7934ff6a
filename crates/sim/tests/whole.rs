#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Whole-node seed sweeps: real drivers and ledgers on the seeded scheduler (issue 11).
//! `KEEL_WHOLE_SEEDS=<n>` multiplies the seed counts locally.

use keel_sim::whole::{
    Attacks, EpochChange, IdleConfig, WholeConfig, WholeViolation, run_idle, run_whole,
};

fn scale() -> u64 {
    std::env::var("KEEL_WHOLE_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1)
}

/// The simulator is single-threaded; the mempool's parallel signature checks would only hand
/// work between threads (about 9 % of a sweep's time).
fn one_thread() {
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global();
}

fn sweep(validators: usize, seeds: std::ops::Range<u64>) {
    one_thread();
    let mut failures = Vec::new();
    for seed in seeds.clone() {
        let config = WholeConfig::for_seed(seed, validators);
        if let Err(failure) = run_whole(&config) {
            failures.push(format!("seed {seed}: {failure}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} whole-node seeds failed:\n{}",
        failures.len(),
        seeds.end - seeds.start,
        failures.join("\n")
    );
}

/// CI runs 2,000 whole-node seeds: 1,600 with four validators and 400 with seven, in eight
/// parts so that they spread over the test runner's threads.
const FOUR_PER_PART: u64 = 400;
const SEVEN_PER_PART: u64 = 100;

fn four(part: u64) {
    let n = FOUR_PER_PART * scale();
    sweep(4, part * n..(part + 1) * n);
}

fn seven(part: u64) {
    let n = SEVEN_PER_PART * scale();
    sweep(7, 100_000 + part * n..100_000 + (part + 1) * n);
}

#[test]
fn whole_four_validators_a() {
    four(0);
}

#[test]
fn whole_four_validators_b() {
    four(1);
}

#[test]
fn whole_four_validators_c() {
    four(2);
}

#[test]
fn whole_four_validators_d() {
    four(3);
}

#[test]
fn whole_seven_validators_a() {
    seven(0);
}

#[test]
fn whole_seven_validators_b() {
    seven(1);
}

#[test]
fn whole_seven_validators_c() {
    seven(2);
}

#[test]
fn whole_seven_validators_d() {
    seven(3);
}

#[test]
fn calm_run_commits_every_transaction() {
    let mut config = WholeConfig::calm(3, 4);
    config.transactions = 20;
    let report = run_whole(&config).expect("calm run passes");
    assert_eq!(report.acknowledged, 20, "{report}");
    assert!(report.height >= config.target_height, "{report}");
    assert_eq!(report.crashes, 0);
}

#[test]
fn replay_is_deterministic() {
    let config = WholeConfig::for_seed(11, 4);
    let a = run_whole(&config).expect("seed passes");
    let b = run_whole(&config).expect("seed passes");
    assert_eq!(a, b);
    let c = run_whole(&WholeConfig::for_seed(12, 4)).expect("seed passes");
    assert_ne!(a.trace, c.trace);
}

#[test]
fn every_attack_at_once_is_survived() {
    for seed in 0..4 {
        let mut config = WholeConfig::for_seed(seed, 4);
        config.attackers = 1;
        config.attacks = Attacks::all();
        config.observer = Some(true);
        config.transactions = 12;
        if let Err(f) = run_whole(&config) {
            panic!("seed {seed}: {f}");
        }
    }
}

/// The checker is not vacuous: a run that cannot reach its target reports it.
#[test]
fn no_progress_is_reported() {
    let mut config = WholeConfig::calm(5, 4);
    config.target_height = 1_000_000;
    config.deadline_ms = 3_000;
    let failure = run_whole(&config).expect_err("cannot reach the target");
    assert!(
        matches!(failure.violation, WholeViolation::NoProgress { .. }),
        "{failure}"
    );
}

/// Found by this simulator: a proposal that arrived before its body (links that reorder, or a
/// body dropped by a full queue) was voted invalid and cost the round; with reordering links
/// a 4-validator chain made ~0.3 blocks/s. Now the body is fetched and the vote follows.
#[test]
fn a_proposal_that_overtakes_its_body_is_still_voted_for() {
    let mut config = WholeConfig::calm(1, 4);
    config.fifo_links = false;
    config.delay_ms_max = 30;
    config.gst_ms = 10_000;
    config.target_height = 40;
    // A steady stream of blocks without transactions: a heartbeat due after every block.
    config.idle_heartbeat_ms = 100;
    config.deadline_ms = 12_000;
    let report = run_whole(&config).unwrap_or_else(|f| panic!("{f}"));
    assert!(report.height >= 40, "{report}");
}

/// Governance admits the observer as a validator: the run crosses an epoch switch and the
/// five validators keep committing.
#[test]
fn the_committee_admits_a_validator_mid_run() {
    for validators in [4, 7] {
        let mut config = WholeConfig::calm(8, validators);
        config.observer = Some(false);
        config.epoch_change = Some(EpochChange::AdmitObserver);
        config.transactions = 8;
        config.target_height = 30;
        let report = run_whole(&config).unwrap_or_else(|f| panic!("{f}"));
        assert_eq!(report.epoch, 1, "{report}");
    }
}

/// Governance removes a validator: an honest one keeps following the chain as a non-voter; an
/// attacker is ejected and keeps attacking from outside the set.
#[test]
fn the_committee_removes_a_validator_mid_run() {
    for (validators, attackers) in [(4, 0), (4, 1), (7, 0), (7, 2)] {
        let mut config = WholeConfig::calm(9, validators);
        config.attackers = attackers;
        config.attacks = Attacks::all();
        config.epoch_change = Some(EpochChange::RemoveValidator);
        config.transactions = 8;
        config.target_height = 30;
        let report = run_whole(&config).unwrap_or_else(|f| panic!("{f}"));
        assert_eq!(
            report.epoch, 1,
            "n={validators} attackers={attackers}: {report}"
        );
    }
}

/// Found by this simulator (seed 1192): the validator that admitted two transactions lost their
/// gossip frames in a partition and was then removed from the validator set; nothing ever
/// gossiped them again, so they stayed in its pool forever. Pending transactions are now
/// gossiped again at each sync check.
#[test]
fn a_transaction_whose_gossip_was_lost_still_commits() {
    let config = WholeConfig::for_seed(1192, 4);
    assert_eq!(config.epoch_change, Some(EpochChange::RemoveValidator));
    let report = run_whole(&config).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.acknowledged, 17, "{report}");
}

/// Issue 14: governance revokes a Byzantine validator's certificate on chain while it attacks;
/// every node's network cuts it off once the revocation commits (its frames are refused), and
/// the honest validators keep agreeing and committing without it.
#[test]
fn a_validator_revoked_on_chain_is_cut_off_while_the_rest_commits() {
    for (validators, attackers) in [(4, 1), (7, 2)] {
        let mut config = WholeConfig::calm(21, validators);
        config.attackers = attackers;
        config.attacks = Attacks::all();
        config.epoch_change = Some(EpochChange::RevokeValidator);
        config.transactions = 8;
        config.target_height = 30;
        let report = run_whole(&config).unwrap_or_else(|f| panic!("{f}"));
        assert_eq!(report.epoch, 0, "a revocation is no epoch switch: {report}");
        assert!(
            report.refused > 0,
            "the revoked validator was cut off: {report}"
        );
    }
}

/// ADR 0014: blocks an idle period of `idle_ms` may add with a heartbeat of `heartbeat_ms`
/// (three blocks commit one heartbeat block; two more for the transfer before the idle
/// period, whose pushing blocks may commit late) and rounds it may advance (one per block: no
/// view change).
fn idle_allowance(idle_ms: u64, heartbeat_ms: u64) -> u64 {
    let heartbeats = if heartbeat_ms == 0 {
        0
    } else {
        idle_ms.div_ceil(heartbeat_ms)
    };
    2 + 3 * heartbeats
}

/// An idle consortium adds no block and changes no view over ten simulated minutes without a
/// heartbeat, and at most the heartbeat's blocks with one; a transfer after the idle period
/// commits within a few light-pace intervals.
#[test]
fn an_idle_consortium_does_not_grow_and_commits_the_next_transfer() {
    one_thread();
    for (seed, validators, heartbeat_ms) in [(21, 4, 0), (22, 4, 60_000), (23, 7, 0)] {
        let cfg = IdleConfig {
            seed,
            validators,
            idle_heartbeat_ms: heartbeat_ms,
            idle_ms: 600_000,
            crash_leader: false,
            attackers: 0,
        };
        let r = run_idle(&cfg).unwrap_or_else(|f| panic!("{f}"));
        println!(
            "n={validators} heartbeat {heartbeat_ms} ms: {} blocks and {} rounds in 600 s idle; \
             next transfer committed in {} ms",
            r.idle_blocks, r.idle_rounds, r.commit_after_idle_ms
        );
        let allowed = idle_allowance(cfg.idle_ms, heartbeat_ms);
        assert!(r.idle_blocks <= allowed, "{r:?}");
        assert!(r.idle_rounds <= allowed, "view changes while idle: {r:?}");
        if heartbeat_ms == 0 {
            assert!(r.idle_blocks <= 2, "{r:?}");
        } else {
            assert!(
                r.idle_blocks >= 3,
                "the heartbeat keeps the chain alive: {r:?}"
            );
        }
        // First block at once (its parent is old), two more at the 100 ms light pace, plus
        // gossip and message delays.
        assert!(r.commit_after_idle_ms <= 1_000, "{r:?}");
    }
}

/// After a long idle period the leader waiting to propose has crashed: once the transfer
/// arrives the others time out (their round timer runs again, now that there is work) and the
/// next leader commits it.
#[test]
fn after_idle_a_crashed_leader_is_replaced_once_there_is_work() {
    one_thread();
    for (seed, validators) in [(31, 4), (32, 7)] {
        let cfg = IdleConfig {
            seed,
            validators,
            idle_heartbeat_ms: 0,
            idle_ms: 120_000,
            crash_leader: true,
            attackers: 0,
        };
        let r = run_idle(&cfg).unwrap_or_else(|f| panic!("{f}"));
        println!(
            "n={validators}: leader crashed after 120 s idle; transfer committed in {} ms",
            r.commit_after_idle_ms
        );
        assert!(r.crashed_leader, "{r:?}");
        assert!(r.idle_blocks <= 2 && r.idle_rounds <= 2, "{r:?}");
        // At least one round timeout (1 s) must pass; a few back-offs at most.
        assert!(r.commit_after_idle_ms >= 1_000, "{r:?}");
        assert!(r.commit_after_idle_ms <= 15_000, "{r:?}");
    }
}

/// Byzantine validators running every attack (equivocation, future timestamps, forged blocks,
/// replayed transactions, floods, garbage) cannot make an idle consortium grow or change views
/// (f timeouts never pull in an honest validator), and the next transfer still commits.
#[test]
fn byzantine_validators_do_not_wake_an_idle_consortium() {
    one_thread();
    for (seed, validators, attackers) in [(41, 4, 1), (42, 7, 2)] {
        let cfg = IdleConfig {
            seed,
            validators,
            idle_heartbeat_ms: 0,
            idle_ms: 120_000,
            crash_leader: false,
            attackers,
        };
        let r = run_idle(&cfg).unwrap_or_else(|f| panic!("{f}"));
        println!(
            "n={validators} byzantine={attackers}: {} blocks and {} rounds in 120 s idle; \
             next transfer committed in {} ms",
            r.idle_blocks, r.idle_rounds, r.commit_after_idle_ms
        );
        assert!(r.idle_blocks <= 2 && r.idle_rounds <= 3, "{r:?}");
        assert!(r.commit_after_idle_ms <= 15_000, "{r:?}");
    }
}
