//! Keeps `keel bench` from rotting: small runs must succeed and end with a JSON summary line
//! carrying the documented keys. No timing numbers are asserted (only that they are numbers).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::run_ok;
use serde_json::Value;

/// The last non-empty stdout line, parsed as JSON.
fn last_json_line(stdout: &str) -> Value {
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_else(|| panic!("no output"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("last line is not JSON ({e}): {line}"))
}

fn assert_number(v: &Value, key: &str) {
    assert!(v[key].is_number(), "{key} should be a number in {v}");
}

fn bench_solo(scheme: &str, suite: &str) {
    let out = run_ok(&[
        "bench",
        "solo",
        "--scheme",
        scheme,
        "--txs",
        "400",
        "--senders",
        "20",
        "--block-txs",
        "100",
    ]);
    let v = last_json_line(&out);
    assert_eq!(v["bench"], "solo", "{v}");
    assert_eq!(v["scheme"], scheme, "{v}");
    assert_eq!(v["suite"], suite, "{v}");
    assert_eq!(v["txs"], 400, "{v}");
    assert_eq!(v["committed"], 400, "every transfer commits: {v}");
    assert_eq!(v["rejected"], 0, "{v}");
    // 400 transactions at 100 per block.
    assert_eq!(v["blocks"], 4, "{v}");
    for k in ["admission_tps", "commit_tps", "end_to_end_tps"] {
        assert_number(&v, k);
    }
}

#[test]
fn bench_solo_ed25519_commits_every_transaction_and_prints_a_json_summary() {
    bench_solo("ed25519", "intl");
}

#[test]
fn bench_solo_sm2_commits_every_transaction_and_prints_a_json_summary() {
    bench_solo("sm2", "gm");
}

#[test]
fn bench_crypto_reports_every_scheme_and_hash_as_json() {
    let out = run_ok(&["bench", "crypto", "--iters", "50"]);
    let v = last_json_line(&out);
    assert_eq!(v["bench"], "crypto", "{v}");
    assert_eq!(v["iters"], 50, "{v}");
    let results = v["results"].as_array().expect("results array");
    for scheme in ["sm2", "ed25519", "secp256k1"] {
        let row = results
            .iter()
            .find(|r| r["scheme"] == scheme)
            .unwrap_or_else(|| panic!("no {scheme} row in {v}"));
        for k in ["sign_per_s", "verify_per_s", "batch64_verify_per_s"] {
            assert_number(row, k);
        }
    }
    // SM2 is measured twice in the same run: Keel's fast code and the generic `sm2` crate.
    let generic = results
        .iter()
        .find(|r| r["implementation"] == "sm2 (generic sm2 crate)")
        .unwrap_or_else(|| panic!("no generic sm2 row in {v}"));
    for k in ["sign_per_s", "verify_per_s"] {
        assert_number(generic, k);
    }
    let ratio = results
        .iter()
        .find(|r| r.get("sm2_fast_over_generic").is_some())
        .unwrap_or_else(|| panic!("no sm2 ratio in {v}"));
    assert_number(&ratio["sm2_fast_over_generic"], "verify");
    for hash in ["sm3", "sha256", "keccak256"] {
        let row = results
            .iter()
            .find(|r| r["hash"] == hash)
            .unwrap_or_else(|| panic!("no {hash} row in {v}"));
        assert_number(row, "mb_per_s");
    }
}

#[test]
fn bench_bft_four_validators_commit_everything_and_agree() {
    let out = run_ok(&[
        "bench",
        "bft",
        "--validators",
        "4",
        "--rate",
        "200",
        "--secs",
        "2",
        "--block-interval-ms",
        "50",
    ]);
    let v = last_json_line(&out);
    assert_eq!(v["bench"], "bft", "{v}");
    assert_eq!(v["validators"], 4, "{v}");
    assert_eq!(v["committed"], v["txs"], "{v}");
    assert_eq!(v["agree"], true, "{v}");
    assert_number(&v, "committed_tps");
    assert!(v["latency_ms"]["p99"].is_number(), "{v}");
}

/// Four validator processes driven over JSON-RPC: every accepted transaction commits, and the
/// summary carries latency, view changes, CPU per node and the per-stage breakdown.
fn bench_network(extra: &[&str], scheme: &str, workload: &str) -> Vec<Value> {
    let mut args = vec![
        "bench",
        "network",
        "--validators",
        "4",
        "--rate",
        "150",
        "--secs",
        "2",
        "--senders",
        "40",
        "--scheme",
        scheme,
        "--workload",
        workload,
    ];
    args.extend_from_slice(extra);
    let out = run_ok(&args);
    let lines: Vec<Value> = out
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty(), "no JSON summary in:\n{out}");
    for v in &lines {
        assert_eq!(v["bench"], "network", "{v}");
        assert_eq!(v["validators"], 4, "{v}");
        assert_eq!(v["scheme"], scheme, "{v}");
        assert_eq!(v["workload"], workload, "{v}");
        assert_eq!(v["rejected"], 0, "{v}");
        assert_eq!(v["committed"], v["sent"], "every accepted tx commits: {v}");
        assert_number(v, "committed_tps");
        assert_number(v, "view_changes");
        assert!(v["latency_ms"]["p50"].is_number(), "{v}");
        let cpu = v["cpu_cores_per_node"].as_array().expect("cpu per node");
        assert_eq!(cpu.len(), 4, "{v}");
        assert!(
            cpu.iter().all(|c| c.as_f64().is_some_and(|c| c > 0.0)),
            "{v}"
        );
        let stages = &v["stage_us_per_tx"];
        for s in [
            "admission",
            "proposal_verify",
            "execute",
            "state_root",
            "storage",
        ] {
            assert!(stages[s].is_number(), "stage {s} missing: {v}");
        }
        assert!(stages["execute"].as_f64().unwrap() > 0.0, "{v}");
    }
    lines
}

#[test]
fn bench_network_transfers_on_four_processes() {
    let lines = bench_network(&[], "ed25519", "transfer");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["offered_tps"], 150);
}

#[test]
fn bench_network_sm2_evidence_rate_search_steps_up() {
    let lines = bench_network(
        &["--search", "--max-steps", "2", "--step-factor", "2"],
        "sm2",
        "evidence",
    );
    assert!(!lines.is_empty() && lines.len() <= 2);
    if let [a, b] = &lines[..] {
        assert_eq!(a["offered_tps"], 150);
        assert_eq!(b["offered_tps"], 300);
    }
}

#[test]
fn bench_solo_pipelined_overlaps_admission_and_commit() {
    let out = run_ok(&[
        "bench",
        "solo",
        "--pipelined",
        "--txs",
        "600",
        "--senders",
        "30",
        "--block-txs",
        "100",
        "--submit-batch",
        "50",
    ]);
    let v = last_json_line(&out);
    assert_eq!(v["pipelined"], true, "{v}");
    assert_eq!(v["committed"], 600, "{v}");
    assert_eq!(v["rejected"], 0, "{v}");
    // Blocks are cut from whatever is pending: at least 6 of at most 100 transactions.
    assert!(v["blocks"].as_u64().unwrap() >= 6, "{v}");
    for k in ["admission", "execute", "state_root", "storage"] {
        assert!(
            v["stage_us_per_tx"][k].as_f64().is_some_and(|x| x > 0.0),
            "{k}: {v}"
        );
    }
}

#[test]
fn bench_execute_compares_thread_counts_and_prints_a_json_summary() {
    let out = run_ok(&[
        "bench",
        "execute",
        "--txs",
        "300",
        "--block-txs",
        "100",
        "--threads",
        "1,2",
        "--conflict",
        "0,100",
        "--repeat",
        "1",
    ]);
    let v = last_json_line(&out);
    assert_eq!(v["bench"], "execute", "{v}");
    assert_eq!(v["txs"], 300, "{v}");
    let rows = v["results"].as_array().expect("results");
    // Two conflict levels × two thread counts; the run fails if the outcomes differ.
    assert_eq!(rows.len(), 4, "{v}");
    for r in rows {
        for k in ["conflict_pct", "threads", "tps", "ratio"] {
            assert_number(r, k);
        }
    }
    assert_eq!(
        rows[0]["ratio"], 1.0,
        "the first thread count is the baseline: {v}"
    );
}

#[test]
fn bench_execute_runs_the_erc20_workload() {
    let out = run_ok(&[
        "bench",
        "execute",
        "--workload",
        "erc20",
        "--txs",
        "40",
        "--block-txs",
        "20",
        "--threads",
        "1,2",
        "--conflict",
        "10",
        "--repeat",
        "1",
    ]);
    let v = last_json_line(&out);
    assert_eq!(v["results"].as_array().map(Vec::len), Some(2), "{v}");
}
