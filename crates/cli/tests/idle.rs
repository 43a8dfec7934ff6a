//! Multi-process idle consortium (issue 18 item 4, ADR 0014): 4 validator processes made by
//! `keel network init` with a 5 s idle heartbeat, started by `keel network up`. After one
//! transfer commits, the network stays idle for 15 s: each node's chain grows by at most the
//! heartbeat's blocks (three per heartbeat, plus the two that commit the transfer), its
//! consensus round by at most one per block (no view change), and `keel_status` calls every
//! node healthy with an old head. (The issue asks for 60 s; 15 s with a 5 s heartbeat checks
//! the same rule in a quarter of the time; the simulator covers 10 idle minutes.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Rng, Rpc, run, run_ok, seed_from_env, show};
use serde_json::json;
use std::time::{Duration, Instant};

const N: usize = 4;
const HEARTBEAT_MS: u64 = 5_000;
const IDLE: Duration = Duration::from_secs(15);

fn status(rpc: &Rpc) -> serde_json::Value {
    rpc.ok("keel_status", json!([]))
}

#[test]
fn an_idle_consortium_grows_only_by_its_heartbeat() {
    let mut rng = Rng(seed_from_env("KEEL_IDLE_SEED"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap().join("net");
    let d = dir.to_str().unwrap();
    let rpc_base = common::free_port_block(N as u16, rng.next());
    let p2p_base = (0..20)
        .map(|_| common::free_port_block(N as u16, rng.next()))
        .find(|p| p.abs_diff(rpc_base) >= N as u16)
        .expect("a second port block");
    let heartbeat = HEARTBEAT_MS.to_string();
    let (rb, pb) = (rpc_base.to_string(), p2p_base.to_string());
    run_ok(&[
        "network",
        "init",
        "--validators",
        "4",
        "--dir",
        d,
        "--accounts",
        "1",
        "--rpc-base-port",
        &rb,
        "--p2p-base-port",
        &pb,
        "--idle-heartbeat-ms",
        &heartbeat,
        // The idle rule alone: the trailing heartbeat after the transfer is for wallets
        // (eth_clients.rs).
        "--trail-heartbeat-ms",
        "0",
    ]);
    let up = run(&["network", "up", d, "--timeout-secs", "120"]);
    assert!(up.status.success(), "network up failed\n{}", show(&up));
    let rpcs: Vec<Rpc> = (0..N as u16).map(|i| Rpc::new(rpc_base + i)).collect();

    // One transfer, committed (the CLI waits for the receipt).
    let url = format!("http://127.0.0.1:{rpc_base}");
    let key = dir.join("accounts/account-0.key");
    let out = run_ok(&[
        "transfer",
        "--key",
        key.to_str().unwrap(),
        "--to",
        "0x0000000000000000000000000000000000000009",
        "--amount",
        "1",
        "--rpc",
        &url,
    ]);
    assert!(out.contains("success"), "{out}");
    std::thread::sleep(Duration::from_millis(500));

    let read = || -> Vec<(u64, u64)> {
        rpcs.iter()
            .map(|r| {
                let s = status(r);
                let round = s["consensus"]["round"].as_u64().unwrap_or(0);
                (s["height"].as_u64().unwrap(), round)
            })
            .collect()
    };
    let before = read();
    let started = Instant::now();
    std::thread::sleep(IDLE);
    let after = read();
    let idle_s = started.elapsed().as_secs_f64();
    let heartbeats = (started.elapsed().as_millis() as u64).div_ceil(HEARTBEAT_MS);
    let allowed = 2 + 3 * heartbeats;
    println!(
        "idle {idle_s:.1} s, heartbeat {HEARTBEAT_MS} ms: (height, round) {before:?} -> {after:?}, allowed {allowed} blocks"
    );
    for ((h0, r0), (h1, r1)) in before.iter().zip(&after) {
        assert!(h1 - h0 <= allowed, "{before:?} -> {after:?}");
        // One round per block (a round may be entered ahead of its block).
        assert!(
            r1 - r0 <= allowed + 1,
            "view changes: {before:?} -> {after:?}"
        );
    }
    // A 15 s idle period without heartbeat would have made ~150 blocks at the old 100 ms pace.
    assert!(after.iter().all(|(h, _)| *h >= 1));
    for r in &rpcs {
        let s = status(r);
        assert_eq!(s["healthy"], true, "{s}");
    }

    let down = run(&["network", "down", d]);
    assert!(down.status.success(), "{}", show(&down));
}
