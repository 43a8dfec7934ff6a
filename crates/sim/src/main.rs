//! `keel-sim --seed N [--nodes 4|7] [--rounds R] [--byzantine-all K]`: replays one seed and
//! prints the trace summary or the violated invariant.

use std::process::ExitCode;

use keel_sim::{Byzantine, SimConfig};

fn usage() -> ExitCode {
    eprintln!("usage: keel-sim --seed N [--nodes 4|7] [--rounds R] [--byzantine-all K]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut seed, mut nodes, mut rounds, mut byzantine_all) = (None, 4usize, None, None);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let Some(value) = it.next().and_then(|v| v.parse::<u64>().ok()) else {
            return usage();
        };
        match flag.as_str() {
            "--seed" => seed = Some(value),
            "--nodes" => nodes = value as usize,
            "--rounds" => rounds = Some(value),
            "--byzantine-all" => byzantine_all = Some(value as usize),
            _ => return usage(),
        }
    }
    let Some(seed) = seed else { return usage() };
    if !(1..=64).contains(&nodes) {
        return usage();
    }
    let mut config = SimConfig::for_seed(seed, nodes);
    if let Some(r) = rounds {
        config.target_commits = r;
    }
    if let Some(k) = byzantine_all {
        config.byzantine = vec![Byzantine::all(); k.min(nodes)];
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
