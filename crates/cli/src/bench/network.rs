//! `keel bench network`: start a local network of N validator **processes** (`keel network
//! init/up`), drive open-loop load through the public JSON-RPC at a given rate (or step the rate
//! up to find saturation), and report committed TPS, submission-to-commit latency percentiles
//! on sampled transactions (commit observed at node 0), view changes, CPU per node and a
//! per-stage breakdown read from every node's `/metrics`.

use crate::CliError;
use crate::client::Client;
use crate::cmd_network::{self, NetInitArgs};
use clap::{Args, ValueEnum};
use keel_crypto::{KeyPair, Scheme, Suite};
use keel_ledger::{Genesis, GenesisAccount, Stage};
use keel_types::{Address, ContentHashAlg, EvidencePut, Hash, Payload, Signer, Transaction};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most transactions per `keel_sendTransactions` call from one submitter.
const MAX_CALL_TXS: usize = 2_000;
/// Longest wait for the backlog to commit after the offered load stops.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);
/// Linux clock ticks per second for `/proc/<pid>/stat` (USER_HZ, 100 on every mainstream arch).
const CLK_TCK: f64 = 100.0;

/// What the load consists of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Workload {
    /// Native token transfers.
    Transfer,
    /// Evidence (存证) records with distinct content hashes.
    Evidence,
}

#[derive(Args)]
pub(crate) struct NetworkArgs {
    /// Number of validator processes (they share this machine's cores).
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Signature scheme of the load (sm2 runs a gm chain, ed25519 an intl chain; secp256k1 runs
    /// on an intl chain unless --suite gm).
    #[arg(long, default_value = "ed25519")]
    scheme: Scheme,
    /// Crypto suite of the chain (default: follows --scheme).
    #[arg(long)]
    suite: Option<Suite>,
    /// Workload.
    #[arg(long, value_enum, default_value = "transfer")]
    workload: Workload,
    /// Offered load, transactions per second (the first step with --search).
    #[arg(long, default_value_t = 2_000)]
    rate: u64,
    /// Duration of the offered load (per step with --search), seconds.
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Step the rate up (×--step-factor) until committed TPS falls below 90 % of the offered
    /// rate or p99 exceeds --max-p99-ms; report each step and the best sustained rate.
    #[arg(long)]
    search: bool,
    /// Rate multiplier between --search steps.
    #[arg(long, default_value_t = 1.3)]
    step_factor: f64,
    /// Most steps of --search.
    #[arg(long, default_value_t = 10)]
    max_steps: usize,
    /// p99 latency bound for --search, ms.
    #[arg(long, default_value_t = 1_000)]
    max_p99_ms: u64,
    /// Distinct sending accounts.
    #[arg(long, default_value_t = 2_000)]
    senders: usize,
    /// Concurrent submitters (each sends to one node, round-robin).
    #[arg(long, default_value_t = 4)]
    submitters: usize,
    /// Every n-th transaction is sampled for latency.
    #[arg(long, default_value_t = 10)]
    sample_every: usize,
    /// Light pace, ms (leaders propose this long after the parent while there is work but less
    /// than a full block pending; ADR 0014).
    #[arg(long, default_value_t = 100)]
    block_interval_ms: u64,
    /// Busy block interval, ms (leaders propose this long after the parent while a full block
    /// is pending).
    #[arg(long, default_value_t = 10)]
    busy_block_interval_ms: u64,
    /// Base round timeout, ms.
    #[arg(long, default_value_t = 2_000)]
    round_timeout_ms: u64,
    /// Keep the network folder (under the temp dir) instead of deleting it.
    #[arg(long)]
    keep: bool,
}

/// One measured step.
struct StepResult {
    offered: u64,
    sent: usize,
    rejected: usize,
    committed: u64,
    elapsed: f64,
    latencies_ms: Vec<f64>,
    timeouts: u64,
    cpu: Vec<f64>,
    stages_us: Vec<(Stage, f64)>,
}

impl StepResult {
    fn tps(&self) -> f64 {
        self.committed as f64 / self.elapsed
    }
    fn pct(&self, p: f64) -> f64 {
        if self.latencies_ms.is_empty() {
            return f64::NAN;
        }
        self.latencies_ms[((self.latencies_ms.len() - 1) as f64 * p).round() as usize]
    }
    fn json(&self, a: &NetworkArgs, suite: Suite) -> Value {
        json!({
            "bench": "network", "validators": a.validators, "scheme": a.scheme.name(),
            "suite": suite.name(), "workload": format!("{:?}", a.workload).to_lowercase(),
            "offered_tps": self.offered, "secs": a.secs, "sent": self.sent,
            "rejected": self.rejected, "committed": self.committed,
            "committed_tps": self.tps().round(),
            "latency_ms": {
                "p50": self.pct(0.5).round(), "p90": self.pct(0.9).round(),
                "p99": self.pct(0.99).round(), "max": self.pct(1.0).round(),
                "samples": self.latencies_ms.len(),
            },
            "view_changes": self.timeouts,
            "cpu_cores_per_node": self.cpu.iter().map(|c| (c * 100.0).round() / 100.0).collect::<Vec<_>>(),
            "stage_us_per_tx": self.stages_us.iter()
                .map(|(s, us)| (s.name().to_string(), json!((us * 10.0).round() / 10.0)))
                .collect::<serde_json::Map<String, Value>>(),
        })
    }
}

/// The running network; `Drop` stops the processes and removes the folder.
struct LocalNet {
    dir: PathBuf,
    rpcs: Vec<String>,
    pids: Vec<u32>,
    keep: bool,
}

impl Drop for LocalNet {
    fn drop(&mut self) {
        if let Err(e) = cmd_network::down(&self.dir, Duration::from_secs(20)) {
            eprintln!("warning: stopping the bench network: {e}");
        }
        if self.keep {
            eprintln!("network folder kept: {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub(crate) fn network(a: NetworkArgs) -> Result<(), CliError> {
    if !(1..=16).contains(&a.validators)
        || a.rate == 0
        || a.secs == 0
        || a.senders == 0
        || a.submitters == 0
        || a.submitters > 64
        || a.step_factor.partial_cmp(&1.0) != Some(std::cmp::Ordering::Greater)
    {
        return Err(CliError::Usage(
            "--validators 1..=16, --submitters 1..=64, --step-factor > 1, and --rate, --secs, --senders > 0".into(),
        ));
    }
    let suite = a.suite.unwrap_or(if a.scheme == Scheme::Sm2 {
        Suite::Gm
    } else {
        Suite::Intl
    });
    if !suite.allows(a.scheme) {
        return Err(CliError::Usage(format!(
            "the {suite} suite does not accept {} signatures",
            a.scheme
        )));
    }
    let (users, addrs) = super::bench_senders(a.scheme, suite, a.senders)?;
    let net = start_network(&a, suite, &addrs)?;
    let clients: Vec<Client> = net.rpcs.iter().map(|u| Client::new(u)).collect();
    let chain_id = clients[0].chain()?.chain_id;
    eprintln!(
        "network up: {} validators, {suite}, rpc {}",
        a.validators,
        net.rpcs.join(" ")
    );
    let mut nonces = vec![0u64; a.senders];
    let mut serial = 0u64;
    let mut results = Vec::new();
    let mut rate = a.rate;
    let steps = if a.search { a.max_steps.max(1) } else { 1 };
    for step in 0..steps {
        let total = usize::try_from(rate.saturating_mul(a.secs))
            .map_err(|_| CliError::Usage("--rate × --secs too large".into()))?;
        eprintln!(
            "step {}: signing {total} {} {:?} transactions...",
            step + 1,
            a.scheme,
            a.workload
        );
        let txs = sign_load(
            &a,
            suite,
            chain_id,
            &users,
            &addrs,
            &mut nonces,
            &mut serial,
            total,
        );
        let r = run_step(&a, &net, &clients, rate, txs)?;
        print_step(&r);
        let saturated =
            r.tps() < 0.9 * rate as f64 || r.pct(0.99) > a.max_p99_ms as f64 || r.rejected > 0;
        results.push(r);
        if saturated {
            break;
        }
        rate = ((rate as f64) * a.step_factor).round() as u64;
    }
    println!(
        "keel bench network — {} validator processes, {} {:?} ({suite}), {} cores, {}",
        a.validators,
        a.scheme,
        a.workload,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if a.search {
            "rate search"
        } else {
            "fixed rate"
        }
    );
    println!(
        "  {:>8} {:>9} {:>7} {:>7} {:>7} {:>7} {:>6} {:>5}  cpu/node (cores)",
        "offered", "committed", "p50 ms", "p90 ms", "p99 ms", "max ms", "reject", "vchg"
    );
    for r in &results {
        println!(
            "  {:>8} {:>9.0} {:>7.0} {:>7.0} {:>7.0} {:>7.0} {:>6} {:>5}  {}",
            r.offered,
            r.tps(),
            r.pct(0.5),
            r.pct(0.9),
            r.pct(0.99),
            r.pct(1.0),
            r.rejected,
            r.timeouts,
            r.cpu
                .iter()
                .map(|c| format!("{c:.2}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    if let Some(last) = results.last() {
        println!("  per-stage thread time per committed tx, summed over all nodes (last step):");
        for (s, us) in &last.stages_us {
            println!("    {:<16} {us:>8.1} µs", s.name());
        }
    }
    if a.search {
        let best = results
            .iter()
            .filter(|r| r.tps() >= 0.9 * r.offered as f64 && r.pct(0.99) <= a.max_p99_ms as f64)
            .map(|r| r.tps())
            .fold(0.0f64, f64::max);
        println!(
            "  best sustained: {best:.0} TPS (committed ≥ 90 % of offered, p99 ≤ {} ms)",
            a.max_p99_ms
        );
    }
    for r in &results {
        println!("{}", r.json(&a, suite));
    }
    drop(net);
    Ok(())
}

/// `keel network init` into a temp folder with free ports, fund the bench accounts in the
/// genesis, `keel network up`.
fn start_network(a: &NetworkArgs, suite: Suite, addrs: &[Address]) -> Result<LocalNet, CliError> {
    let dir = super::tempdir()?;
    let n = a.validators;
    let rpc_base = free_port_base(n, &[])?;
    let p2p_base = free_port_base(n, &[rpc_base])?;
    cmd_network::init(NetInitArgs {
        validators: n,
        observers: 0,
        suite,
        dir: dir.clone(),
        chain_id: 4444,
        chain_name: "bench-network".into(),
        accounts: 1,
        balance: 1_000_000_000,
        gas_price: 0,
        rpc_base_port: rpc_base,
        p2p_base_port: p2p_base,
        round_timeout_ms: a.round_timeout_ms,
        block_interval_ms: a.block_interval_ms,
        busy_block_interval_ms: a.busy_block_interval_ms,
        idle_heartbeat_ms: 60_000,
        trail_heartbeat_ms: 1_000,
        orgs: 0,
        force: true,
    })?;
    let gpath = dir.join("genesis.json");
    let mut genesis = Genesis::load(&gpath)?;
    genesis.alloc.extend(addrs.iter().map(|a| GenesisAccount {
        address: *a,
        balance: u128::from(u64::MAX),
    }));
    genesis.validate().map_err(CliError::Usage)?;
    genesis.save(&gpath)?;
    let mut net = LocalNet {
        dir: dir.clone(),
        rpcs: (0..n)
            .map(|i| format!("http://127.0.0.1:{}", rpc_base as usize + i))
            .collect(),
        pids: Vec::new(),
        keep: a.keep,
    };
    cmd_network::up(&dir, Duration::from_secs(60))?;
    for i in 0..n {
        let p = dir.join(format!("node-{i}")).join("node.pid");
        let pid = std::fs::read_to_string(&p)
            .map_err(|e| CliError::io(&p, e))?
            .trim()
            .parse::<u32>()
            .map_err(|e| CliError::Usage(format!("{}: {e}", p.display())))?;
        net.pids.push(pid);
    }
    Ok(net)
}

/// A base port such that `base..base+n` are free on 127.0.0.1 and do not overlap `avoid`'s
/// ranges of the same length.
fn free_port_base(n: usize, avoid: &[u16]) -> Result<u16, CliError> {
    let mut r = [0u8; 2];
    for _ in 0..200 {
        getrandom::fill(&mut r).map_err(|e| CliError::Usage(format!("no OS entropy: {e}")))?;
        let base = 20_000 + (u16::from_le_bytes(r) % 30_000);
        let clash = avoid
            .iter()
            .any(|b| (base as usize) < *b as usize + n && (*b as usize) < base as usize + n);
        if clash {
            continue;
        }
        let free =
            (0..n).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i as u16)).is_ok());
        if free {
            return Ok(base);
        }
    }
    Err(CliError::Usage("no free port range on 127.0.0.1".into()))
}

/// Sign `total` transactions round-robin over the senders, continuing their nonces.
#[allow(clippy::too_many_arguments)]
fn sign_load(
    a: &NetworkArgs,
    suite: Suite,
    chain_id: u64,
    users: &[KeyPair],
    addrs: &[Address],
    nonces: &mut [u64],
    serial: &mut u64,
    total: usize,
) -> Vec<(String, String)> {
    let senders = users.len();
    let plan: Vec<(usize, u64, u64)> = (0..total)
        .map(|i| {
            let s = i % senders;
            let nonce = nonces[s];
            nonces[s] += 1;
            *serial += 1;
            (s, nonce, *serial)
        })
        .collect();
    let alg = suite.hash();
    plan.into_par_iter()
        .map(|(s, nonce, serial)| {
            let payload = match a.workload {
                Workload::Transfer => Payload::Transfer {
                    to: addrs[(s + 1) % senders],
                    amount: 1,
                },
                Workload::Evidence => Payload::EvidencePut(EvidencePut {
                    content_hash: Hash(alg.digest(&serial.to_le_bytes())),
                    hash_alg: if suite == Suite::Gm {
                        ContentHashAlg::Sm3
                    } else {
                        ContentHashAlg::Sha256
                    },
                    size: 1024,
                    media_type: "application/octet-stream".into(),
                    metadata: String::new(),
                }),
            };
            let tx = Transaction {
                chain_id,
                nonce,
                expires_at_height: 90_000,
                gas_limit: 100_000,
                signer: Signer {
                    scheme: users[s].scheme(),
                    public_key: users[s].public_key(),
                },
                payload,
            }
            .sign(&users[s]);
            (
                tx.hash(alg).to_string(),
                format!("0x{}", hex::encode(tx.encode())),
            )
        })
        .collect()
}

/// Counters and metric snapshots taken at the start and end of a step.
struct Snapshot {
    cpu_ticks: Vec<Option<u64>>,
    stages: Vec<HashMap<String, f64>>,
    timeouts: Vec<f64>,
    txs: f64,
}

fn snapshot(net: &LocalNet, agent: &ureq::Agent) -> Snapshot {
    let metrics: Vec<Vec<(String, f64)>> = net
        .rpcs
        .iter()
        .map(|u| fetch_metrics(agent, &format!("{u}/metrics")))
        .collect();
    let pick = |m: &[(String, f64)], prefix: &str| -> HashMap<String, f64> {
        m.iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    };
    Snapshot {
        cpu_ticks: net.pids.iter().map(|p| cpu_ticks(*p)).collect(),
        stages: metrics
            .iter()
            .map(|m| pick(m, "keel_stage_seconds_total"))
            .collect(),
        timeouts: metrics
            .iter()
            .map(|m| {
                pick(m, "keel_consensus_messages_total")
                    .iter()
                    .filter(|(k, _)| {
                        k.contains("direction=\"sent\"") && k.contains("kind=\"timeout\"")
                    })
                    .map(|(_, v)| *v)
                    .sum()
            })
            .collect(),
        txs: metrics
            .first()
            .map(|m| pick(m, "keel_txs_committed_total").values().sum::<f64>())
            .unwrap_or(0.0),
    }
}

/// `name{labels} value` lines of a Prometheus text page (comments skipped).
fn fetch_metrics(agent: &ureq::Agent, url: &str) -> Vec<(String, f64)> {
    let Ok(mut resp) = agent.get(url).call() else {
        return Vec::new();
    };
    let Ok(text) = resp.body_mut().read_to_string() else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn run_step(
    a: &NetworkArgs,
    net: &LocalNet,
    clients: &[Client],
    rate: u64,
    txs: Vec<(String, String)>,
) -> Result<StepResult, CliError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let total = txs.len();
    let txs = Arc::new(txs);
    let sampled: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let sent = Arc::new(AtomicU64::new(0));
    let rejected = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let before = snapshot(net, &agent);
    let mut height = clients[0].chain()?.height;
    let start = Instant::now();
    let k = a.submitters;
    let share = rate as f64 / k as f64;
    let submitters: Vec<_> = (0..k)
        .map(|t| {
            let txs = txs.clone();
            let sampled = sampled.clone();
            let sent = sent.clone();
            let rejected = rejected.clone();
            let stop = stop.clone();
            let client = Client::new(&net.rpcs[t % net.rpcs.len()]);
            let every = a.sample_every.max(1);
            std::thread::spawn(move || {
                // This submitter's transactions: indexes t, t+k, t+2k…
                let mine: Vec<usize> = (t..total).step_by(k).collect();
                let mut done = 0usize;
                while done < mine.len() && !stop.load(Ordering::Relaxed) {
                    let due = ((start.elapsed().as_secs_f64() * share) as usize).min(mine.len());
                    if due <= done {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    let end = due.min(done + MAX_CALL_TXS);
                    let batch: Vec<&str> =
                        mine[done..end].iter().map(|i| txs[*i].1.as_str()).collect();
                    let now = Instant::now();
                    match client.call("keel_sendTransactions", json!([batch])) {
                        Ok(Value::Array(results)) => {
                            let mut s = sampled.lock().unwrap_or_else(|p| p.into_inner());
                            for (j, r) in results.iter().enumerate() {
                                let i = mine[done + j];
                                if r.get("error").is_some() {
                                    rejected.fetch_add(1, Ordering::Relaxed);
                                } else if i.is_multiple_of(every) {
                                    s.insert(txs[i].0.clone(), now);
                                }
                            }
                        }
                        _ => {
                            rejected.fetch_add((end - done) as u64, Ordering::Relaxed);
                        }
                    }
                    sent.fetch_add((end - done) as u64, Ordering::Relaxed);
                    done = end;
                }
            })
        })
        .collect();
    // Watch node 0's blocks: commit time of sampled transactions.
    let mut latencies_ms = Vec::new();
    let mut committed_seen = 0u64;
    let load_end = start + Duration::from_secs(a.secs);
    let mut last_progress = Instant::now();
    let mut drain_deadline: Option<Instant> = None;
    loop {
        let mut advanced = false;
        while let Ok(b) = clients[0].call("keel_getBlock", json!([height + 1])) {
            if b.is_null() {
                break;
            }
            height += 1;
            advanced = true;
            let now = Instant::now();
            let hashes = b["transactions"].as_array().cloned().unwrap_or_default();
            committed_seen += hashes.len() as u64;
            let mut s = sampled.lock().unwrap_or_else(|p| p.into_inner());
            for h in hashes {
                if let Some(t0) = h.as_str().and_then(|h| s.remove(h)) {
                    latencies_ms.push((now - t0).as_secs_f64() * 1e3);
                }
            }
        }
        let sent_now = sent.load(Ordering::Relaxed) as usize;
        if last_progress.elapsed() >= Duration::from_secs(2) {
            last_progress = Instant::now();
            eprintln!(
                "  t={:>5.1}s offered {rate}/s sent {sent_now} committed {committed_seen} height {height}",
                start.elapsed().as_secs_f64()
            );
        }
        if sent_now >= total {
            let deadline = *drain_deadline.get_or_insert_with(|| Instant::now() + DRAIN_LIMIT);
            let outstanding = sampled.lock().unwrap_or_else(|p| p.into_inner()).len();
            let accepted = total as u64 - rejected.load(Ordering::Relaxed);
            if (committed_seen >= accepted && outstanding == 0) || Instant::now() >= deadline {
                break;
            }
        } else if Instant::now() > load_end + DRAIN_LIMIT {
            break; // submitters cannot keep up
        }
        if !advanced {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    stop.store(true, Ordering::Relaxed);
    for s in submitters {
        let _ = s.join();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let after = snapshot(net, &agent);
    let committed = (after.txs - before.txs).max(0.0) as u64;
    latencies_ms.sort_by(|x, y| x.total_cmp(y));
    let cpu = before
        .cpu_ticks
        .iter()
        .zip(&after.cpu_ticks)
        .map(|(b, e)| match (b, e) {
            (Some(b), Some(e)) => e.saturating_sub(*b) as f64 / CLK_TCK / elapsed,
            _ => f64::NAN,
        })
        .collect();
    let timeouts = before
        .timeouts
        .iter()
        .zip(&after.timeouts)
        .map(|(b, e)| (e - b).max(0.0) as u64)
        .max()
        .unwrap_or(0);
    let stages_us = Stage::ALL
        .iter()
        .map(|s| {
            let key = format!("keel_stage_seconds_total{{stage=\"{}\"}}", s.name());
            let secs: f64 = before
                .stages
                .iter()
                .zip(&after.stages)
                .map(|(b, e)| e.get(&key).unwrap_or(&0.0) - b.get(&key).unwrap_or(&0.0))
                .sum();
            (*s, secs * 1e6 / committed.max(1) as f64)
        })
        .collect();
    Ok(StepResult {
        offered: rate,
        sent: sent.load(Ordering::Relaxed) as usize,
        rejected: rejected.load(Ordering::Relaxed) as usize,
        committed,
        elapsed,
        latencies_ms,
        timeouts,
        cpu,
        stages_us,
    })
}

fn print_step(r: &StepResult) {
    eprintln!(
        "  → offered {} committed {:.0} TPS, p50 {:.0} ms p99 {:.0} ms, rejected {}, view changes {}",
        r.offered,
        r.tps(),
        r.pct(0.5),
        r.pct(0.99),
        r.rejected,
        r.timeouts
    );
}
