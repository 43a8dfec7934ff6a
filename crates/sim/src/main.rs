//! `keel-sim --seed N [--nodes 4|7] [--rounds R] [--byzantine-all K]`: replays one seed of the
//! consensus-core simulation and prints the trace summary or the violated invariant.
//! `keel-sim --whole --seed N [--nodes 4|7] [--seeds K]`: the whole-node simulation (real
//! drivers and ledgers), one seed or `K` seeds from `N`.

use std::process::ExitCode;
use std::time::Instant;

use keel_sim::whole::{WholeConfig, run_whole};
use keel_sim::{Byzantine, SimConfig};

const USAGE: &str = "usage: keel-sim --seed N [--nodes 4|7] [--rounds R] [--byzantine-all K]\n       \
                     keel-sim --whole --seed N [--nodes 4|7] [--seeds K]";

fn usage() -> ExitCode {
    eprintln!("{USAGE}");
    ExitCode::from(2)
}

#[derive(Default)]
struct Args {
    whole: bool,
    seed: Option<u64>,
    nodes: Option<u64>,
    rounds: Option<u64>,
    byzantine_all: Option<u64>,
    seeds: Option<u64>,
}

fn parse(args: &[String]) -> Option<Args> {
    let mut a = Args::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--whole" {
            a.whole = true;
            continue;
        }
        if flag == "--help" || flag == "-h" {
            return None;
        }
        let value = it.next().and_then(|v| v.parse::<u64>().ok())?;
        let slot = match flag.as_str() {
            "--seed" => &mut a.seed,
            "--nodes" => &mut a.nodes,
            "--rounds" => &mut a.rounds,
            "--byzantine-all" => &mut a.byzantine_all,
            "--seeds" => &mut a.seeds,
            _ => return None,
        };
        *slot = Some(value);
    }
    Some(a)
}

fn main() -> ExitCode {
    if std::env::var("RUST_LOG").is_ok() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(a) = parse(&args) else {
        return usage();
    };
    let Some(seed) = a.seed else { return usage() };
    let nodes = a.nodes.unwrap_or(4) as usize;
    if !(1..=64).contains(&nodes) {
        return usage();
    }
    if a.whole {
        return whole(seed, nodes, a.seeds.unwrap_or(1));
    }
    let mut config = SimConfig::for_seed(seed, nodes);
    if let Some(r) = a.rounds {
        config.target_commits = r;
    }
    if let Some(k) = a.byzantine_all {
        config.byzantine = vec![Byzantine::all(); (k as usize).min(nodes)];
    }
    println!(
        "seed {seed}, {nodes} nodes, {} Byzantine, faults {:?}",
        config.byzantine.len(),
        config.faults
    );
    match keel_sim::run(&config) {
        Ok(report) => {
            println!("ok\n{report}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            println!("VIOLATION: {failure}");
            ExitCode::FAILURE
        }
    }
}

fn whole(first: u64, nodes: usize, count: u64) -> ExitCode {
    let started = Instant::now();
    let mut failed = 0u64;
    for seed in first..first.saturating_add(count) {
        let config = WholeConfig::for_seed(seed, nodes);
        if count == 1 {
            println!("{config:?}");
        }
        match run_whole(&config) {
            Ok(report) if count == 1 => println!("ok\n{report}"),
            Ok(_) => {}
            Err(failure) => {
                failed += 1;
                println!("VIOLATION: {failure}");
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{count} whole-node seeds ({nodes} validators), {failed} failed, {secs:.1} s, {:.1} seeds/s",
        count as f64 / secs.max(1e-9)
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
