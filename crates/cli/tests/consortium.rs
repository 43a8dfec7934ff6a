//! Multi-process consortium test (issue #3 item 7): 4 validator processes on 127.0.0.1, made by
//! `keel network init` and started by `keel network up`, under continuous transfer load. One
//! validator at a time is SIGKILLed (several times, including the current leader as reported by
//! `keel_status`), left down for 1–3 s and restarted. The load client resubmits every
//! transaction that is not yet committed (same bytes) to live nodes, as a real client must:
//! the mempool is not persisted, so a transaction acknowledged by a node that then died may be
//! lost. At the end every transaction is committed exactly once, all nodes agree on every block
//! hash, balances are conserved, heights kept growing after every restart, `keel network down`
//! stops everything and `keel node check` passes for every node.
//!
//! Kill targets and down times come from a seeded PRNG; the seed is printed and can be replayed
//! with `KEEL_CONSORTIUM_SEED=<seed> cargo test -p keel-cli --test consortium -- --nocapture`
//! (process scheduling still varies between runs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{NodeProc, Rng, Rpc, RpcFail, amount, run, run_ok, seed_from_env, show};
use keel_crypto::KeyPair;
use keel_ledger::Genesis;
use keel_node::{KeyFile, NodeConfig};
use keel_types::{Address, Payload, Signer, Transaction};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Validators.
const N: usize = 4;
/// Funded sample accounts used as senders.
const ACCOUNTS: usize = 8;
/// SIGKILLs (one validator down at a time).
const KILLS: usize = 5;
/// Most uncommitted transactions per sender.
const WINDOW: u64 = 16;
/// New transactions per sender per client round.
const NEW_PER_ROUND: u64 = 4;
/// An uncommitted transaction is sent again (same bytes) after this long.
const RESEND_AFTER: Duration = Duration::from_millis(1_500);
/// Bound for the load client to get everything committed after new transactions stop.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(180);
/// Bound for the network to grow past the pre-kill height after a restart.
const PROGRESS_TIMEOUT: Duration = common::WAIT;
/// Bound for a restarted validator to have a block it proposed committed.
const REJOIN_TIMEOUT: Duration = common::WAIT;
/// Admission errors a resubmitting client expects: the pool already holds the transaction, or
/// it is committed already.
const BENIGN: [&str; 2] = ["ALREADY_KNOWN", "NONCE_TOO_LOW"];

// ---------------------------------------------------------------------------------------------
// processes

/// Is `pid` a live, non-zombie process whose command line names `dir`?
fn runs_node(pid: u32, dir: &Path) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, r)| r.trim_start().chars().next());
    if matches!(state, Some('Z' | 'X') | None) {
        return false;
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let want = dir.as_os_str().as_encoded_bytes();
    cmdline.split(|b| *b == 0).any(|arg| arg == want)
}

/// The network under test. Dropping it SIGKILLs every node process, whether started by
/// `keel network up` (not our children: found through the pid files) or restarted by the test
/// (`NodeProc`, killed and reaped by its own drop), so nothing leaks when an assertion fails.
struct Net {
    /// Kept (not deleted) when the test fails, for the logs.
    tmp: Option<tempfile::TempDir>,
    dir: PathBuf,
    rpc_ports: Vec<u16>,
    addresses: Vec<Address>,
    /// Nodes restarted by the test (children of this process).
    procs: Vec<Option<NodeProc>>,
}

impl Net {
    fn node_dir(&self, i: usize) -> PathBuf {
        self.dir.join(format!("node-{i}"))
    }

    fn pid_file(&self, i: usize) -> PathBuf {
        self.node_dir(i).join("node.pid")
    }

    fn pid(&self, i: usize) -> Option<u32> {
        std::fs::read_to_string(self.pid_file(i))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    fn rpc(&self, i: usize) -> Rpc {
        Rpc::new(self.rpc_ports[i])
    }

    /// SIGKILL node `i` and wait (bounded) until it is gone.
    fn kill(&mut self, i: usize) {
        if let Some(p) = self.procs[i].take() {
            p.kill();
            return;
        }
        let pid = self
            .pid(i)
            .expect("a pid file for a node started by network up");
        let dir = self.node_dir(i);
        assert!(runs_node(pid, &dir), "node-{i} (pid {pid}) is not running");
        let st = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        assert!(st.success(), "kill -KILL {pid}: {st}");
        let start = Instant::now();
        while runs_node(pid, &dir) {
            assert!(
                start.elapsed() < common::WAIT,
                "node-{i} (pid {pid}) survived SIGKILL for {:?}",
                common::WAIT
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Restart node `i` as a child of the test (pid file updated so `network down` stops it).
    fn restart(&mut self, i: usize, label: &str) {
        let mut p = NodeProc::start(&self.node_dir(i), label);
        std::fs::write(self.pid_file(i), format!("{}\n", p.pid())).unwrap();
        p.wait_healthy(&self.rpc(i), common::HEALTHY_TIMEOUT);
        self.procs[i] = Some(p);
    }

    /// Heights of the nodes that answer.
    fn heights(&self) -> Vec<Option<u64>> {
        (0..N)
            .map(|i| {
                self.rpc(i)
                    .call("keel_chainInfo", json!([]))
                    .ok()
                    .and_then(|v| v["height"].as_u64())
            })
            .collect()
    }

    /// Everything useful when something goes wrong: each node's `keel_status` diagnosis and
    /// the tail of its log(s).
    fn diagnose(&self) -> String {
        let mut s = String::new();
        for i in 0..N {
            let status = match self.rpc(i).call("keel_status", json!([])) {
                Ok(v) => format!(
                    "height {} round {} leader {} diagnosis {}",
                    v["height"], v["consensus"]["round"], v["consensus"]["leader"], v["diagnosis"]
                ),
                Err(e) => format!("unreachable ({e:?})"),
            };
            s.push_str(&format!("=== node-{i}: {status}\n"));
            let mut logs: Vec<PathBuf> = std::fs::read_dir(self.node_dir(i))
                .unwrap()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let n = p.file_name().unwrap().to_string_lossy().into_owned();
                    n == "node.log" || n.ends_with(".err")
                })
                .collect();
            logs.sort();
            for log in logs {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let from = lines.len().saturating_sub(15);
                s.push_str(&format!(
                    "--- {} (tail)\n{}\n",
                    log.display(),
                    lines[from..].join("\n")
                ));
            }
        }
        s
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for i in 0..N {
            if let Some(pid) = self.pid(i)
                && runs_node(pid, &self.node_dir(i))
            {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
        // `procs` (NodeProc) kill and reap their own children when dropped after this.
        if std::thread::panicking()
            && let Some(tmp) = self.tmp.take()
        {
            eprintln!(
                "network folder kept for inspection: {}",
                tmp.keep().display()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// load client

struct TxRec {
    hash: String,
    raw: String,
    acked: bool,
    last_sent: Option<Instant>,
}

struct Sender {
    address: Address,
    key: KeyPair,
    /// Every transaction created, index = nonce.
    txs: Vec<TxRec>,
    /// Highest committed account nonce seen on any node.
    committed: u64,
}

#[derive(Default, Debug)]
struct LoadStats {
    rounds: u64,
    acked: u64,
    resent: u64,
    transport_errors: u64,
    errors: BTreeMap<String, u64>,
    per_node_acked: [u64; N],
}

/// Shared between the test and the load client.
#[derive(Default)]
struct Control {
    /// The node being killed / down: the client does not pick it.
    down: Mutex<Option<usize>>,
    /// Stop creating transactions; finish once everything created is committed.
    stop_new: AtomicBool,
    /// Give up now.
    stop: AtomicBool,
    committed_total: AtomicU64,
    created_total: AtomicU64,
}

fn load_senders(dir: &Path) -> Vec<Sender> {
    (0..ACCOUNTS)
        .map(|i| {
            let (kf, key) =
                KeyFile::load(&dir.join("accounts").join(format!("account-{i}.key"))).unwrap();
            Sender {
                address: kf.address,
                key,
                txs: Vec::new(),
                committed: 0,
            }
        })
        .collect()
}

/// Round-robin transfers from every sender to live nodes; resubmission of everything not yet
/// committed after `RESEND_AFTER`. Returns the senders (with every transaction made) and stats.
fn spawn_load(
    ports: Vec<u16>,
    chain_id: u64,
    mut senders: Vec<Sender>,
    ctl: Arc<Control>,
    mut rng: Rng,
) -> JoinHandle<(Vec<Sender>, LoadStats)> {
    std::thread::Builder::new()
        .name("consortium-load".into())
        .spawn(move || {
            let mut stats = LoadStats::default();
            let mut next_node = 0usize;
            let mut drain_start: Option<Instant> = None;
            // Bounded: a round takes at least a few ms; the deadline below ends it far sooner.
            for _ in 0..1_000_000 {
                stats.rounds += 1;
                if ctl.stop.load(Ordering::SeqCst) {
                    break;
                }
                let all_committed = senders.iter().all(|s| s.committed == s.txs.len() as u64);
                let stop_new = ctl.stop_new.load(Ordering::SeqCst);
                if stop_new {
                    let start = *drain_start.get_or_insert_with(Instant::now);
                    if all_committed || start.elapsed() > DRAIN_TIMEOUT {
                        break;
                    }
                }
                let down = *ctl.down.lock().unwrap();
                let node = (0..N)
                    .map(|k| (next_node + k) % N)
                    .find(|k| Some(*k) != down)
                    .unwrap();
                next_node = node + 1;
                let rpc = Rpc::new(ports[node]);
                // Committed nonces and the height, in one batch.
                let mut calls: Vec<(&str, Value)> = senders
                    .iter()
                    .map(|s| ("keel_getAccount", json!([s.address])))
                    .collect();
                calls.push(("keel_chainInfo", json!([])));
                let answers = match rpc.batch(&calls) {
                    Ok(a) => a,
                    Err(_) => {
                        stats.transport_errors += 1;
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                };
                for (s, a) in senders.iter_mut().zip(&answers) {
                    let nonce = a.as_ref().unwrap()["nonce"].as_u64().unwrap();
                    assert!(
                        nonce <= s.txs.len() as u64,
                        "node-{node} reports nonce {nonce} for {} but only {} transactions were made",
                        s.address,
                        s.txs.len()
                    );
                    s.committed = s.committed.max(nonce);
                }
                let height = answers[ACCOUNTS].as_ref().unwrap()["height"]
                    .as_u64()
                    .unwrap();
                ctl.committed_total.store(
                    senders.iter().map(|s| s.committed).sum(),
                    Ordering::SeqCst,
                );
                // What to send: everything uncommitted not sent recently, then new transfers.
                let now = Instant::now();
                let mut picks: Vec<(usize, usize)> = Vec::new();
                for si in 0..senders.len() {
                    let s = &senders[si];
                    for (ti, t) in s.txs.iter().enumerate().skip(s.committed as usize) {
                        if t.last_sent.is_none_or(|at| now - at >= RESEND_AFTER) {
                            picks.push((si, ti));
                        }
                    }
                    if stop_new {
                        continue;
                    }
                    let outstanding = s.txs.len() as u64 - s.committed;
                    for _ in outstanding..WINDOW.min(outstanding + NEW_PER_ROUND) {
                        let to = (si + 1 + rng.range(0, ACCOUNTS as u64 - 2) as usize) % ACCOUNTS;
                        let to = senders[to].address;
                        let s = &mut senders[si];
                        let mut tx = Transaction {
                            chain_id,
                            nonce: s.txs.len() as u64,
                            expires_at_height: height + 10_000,
                            gas_limit: 0,
                            signer: Signer {
                                scheme: s.key.scheme(),
                                public_key: s.key.public_key(),
                            },
                            payload: Payload::Transfer {
                                to,
                                amount: u128::from(rng.range(1, 1_000)),
                            },
                        };
                        tx.gas_limit = tx.intrinsic_gas();
                        let signed = tx.sign(&s.key);
                        s.txs.push(TxRec {
                            hash: signed.hash(keel_crypto::Suite::Gm.hash()).to_string(),
                            raw: format!("0x{}", hex::encode(signed.encode())),
                            acked: false,
                            last_sent: None,
                        });
                        picks.push((si, s.txs.len() - 1));
                        ctl.created_total.fetch_add(1, Ordering::SeqCst);
                    }
                }
                if !picks.is_empty() {
                    let raws: Vec<&str> = picks
                        .iter()
                        .map(|&(si, ti)| senders[si].txs[ti].raw.as_str())
                        .collect();
                    match rpc.call("keel_sendTransactions", json!([raws])) {
                        Err(RpcFail::Transport(_)) => stats.transport_errors += 1,
                        Err(RpcFail::Rpc(e)) => panic!("keel_sendTransactions failed: {e}"),
                        Ok(Value::Array(results)) => {
                            assert_eq!(results.len(), picks.len());
                            for (r, &(si, ti)) in results.iter().zip(&picks) {
                                let t = &mut senders[si].txs[ti];
                                if t.last_sent.is_some() {
                                    stats.resent += 1;
                                }
                                t.last_sent = Some(now);
                                match r.get("error") {
                                    None => {
                                        assert_eq!(r["hash"].as_str(), Some(t.hash.as_str()), "{r}");
                                        if !t.acked {
                                            t.acked = true;
                                            stats.acked += 1;
                                            stats.per_node_acked[node] += 1;
                                        }
                                    }
                                    Some(e) => {
                                        let name = e["data"]["name"]
                                            .as_str()
                                            .unwrap_or("?")
                                            .to_string();
                                        if !BENIGN.contains(&name.as_str()) {
                                            eprintln!("load: node-{node} rejected {}: {e}", t.hash);
                                        }
                                        *stats.errors.entry(name).or_insert(0) += 1;
                                    }
                                }
                            }
                        }
                        Ok(other) => panic!("keel_sendTransactions returned {other}"),
                    }
                }
                std::thread::sleep(Duration::from_millis(rng.range(10, 40)));
            }
            (senders, stats)
        })
        .expect("spawning the load thread")
}

// ---------------------------------------------------------------------------------------------
// checks

/// Wait until every node's height is above `above` (bounded), returning the heights.
fn wait_all_above(net: &Net, above: u64, timeout: Duration, what: &str) -> Vec<u64> {
    let start = Instant::now();
    for _ in 0..100_000 {
        let hs = net.heights();
        if hs.iter().all(|h| h.is_some_and(|h| h > above)) {
            return hs.into_iter().map(Option::unwrap).collect();
        }
        if start.elapsed() > timeout {
            panic!(
                "{what}: heights {hs:?} did not all pass {above} within {timeout:?}\n{}",
                net.diagnose()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    unreachable!("bounded above by the timeout");
}

/// Wait until a block proposed by validator `target` is committed above `from` (bounded): the
/// restarted validator takes part in consensus again (it validated its parent and proposed),
/// rather than only following committed blocks. Returns that height.
fn wait_rejoined(net: &Net, target: usize, from: u64, timeout: Duration) -> u64 {
    let want = net.addresses[target].to_string();
    let start = Instant::now();
    let mut next = from + 1;
    for _ in 0..100_000 {
        let observer = (target + 1) % N;
        let rpc = net.rpc(observer);
        if let Ok(head) = rpc.call("keel_chainInfo", json!([]))
            && let Some(head) = head["height"].as_u64()
        {
            while next <= head {
                let b = rpc.ok("keel_getBlock", json!([next]));
                if b["proposer"].as_str() == Some(want.as_str()) {
                    return next;
                }
                next += 1;
            }
        }
        if start.elapsed() > timeout {
            let unknown: usize = std::fs::read_dir(net.node_dir(target))
                .unwrap()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().ends_with(".err"))
                .map(|e| {
                    std::fs::read_to_string(e.path())
                        .unwrap_or_default()
                        .matches("cannot propose: parent unknown")
                        .count()
                })
                .sum();
            panic!(
                "node-{target} was restarted and follows the chain, but no block it proposed was \
                 committed in heights {}..{next} within {timeout:?}: the restarted validator does \
                 not rejoin consensus ({unknown} 'cannot propose: parent unknown' warnings in its \
                 log since the restart)\n{}",
                from + 1,
                net.diagnose()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    unreachable!("bounded above by the timeout");
}

/// `keel_status` leader of the current round, seen from node `from`, as a node index.
/// `Err` when the node has no `keel_status` (falls back to a round-robin target).
fn current_leader(net: &Net, from: usize) -> Result<(usize, u64), String> {
    match net.rpc(from).call("keel_status", json!([])) {
        Ok(v) => {
            let leader: Address = v["consensus"]["leader"]
                .as_str()
                .ok_or_else(|| format!("keel_status has no consensus.leader: {v}"))?
                .parse()
                .map_err(|_| format!("bad leader in {v}"))?;
            let round = v["consensus"]["round"].as_u64().unwrap_or(0);
            let i = net
                .addresses
                .iter()
                .position(|a| *a == leader)
                .ok_or_else(|| format!("leader {leader} is not one of the validators"))?;
            Ok((i, round))
        }
        Err(e) => Err(format!("keel_status unavailable: {e:?}")),
    }
}

/// Fetch blocks `0..=to` from a node in batches.
fn blocks(rpc: &Rpc, to: u64, full: bool) -> Vec<Value> {
    let mut out = Vec::with_capacity(to as usize + 1);
    let heights: Vec<u64> = (0..=to).collect();
    for chunk in heights.chunks(50) {
        let calls: Vec<(&str, Value)> = chunk
            .iter()
            .map(|h| ("keel_getBlock", json!([h, full])))
            .collect();
        let answers = rpc
            .batch(&calls)
            .unwrap_or_else(|e| panic!("keel_getBlock batch at {}: {e:?}", rpc.url));
        for (h, a) in chunk.iter().zip(answers) {
            let b = a.unwrap_or_else(|e| panic!("keel_getBlock {h} at {}: {e}", rpc.url));
            assert_eq!(b["height"].as_u64(), Some(*h), "{} block {h}: {b}", rpc.url);
            out.push(b);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// tests

fn init_network(dir: &Path, rpc_base: u16, p2p_base: u16) -> String {
    run_ok(&[
        "network",
        "init",
        "--validators",
        &N.to_string(),
        "--suite",
        "gm",
        "--dir",
        dir.to_str().unwrap(),
        "--accounts",
        &ACCOUNTS.to_string(),
        "--gas-price",
        "0",
        "--rpc-base-port",
        &rpc_base.to_string(),
        "--p2p-base-port",
        &p2p_base.to_string(),
        "--round-timeout-ms",
        "1000",
        "--block-interval-ms",
        "200",
        // These tests watch the chain grow without transactions (ADR 0014).
        "--idle-heartbeat-ms",
        "200",
    ])
}

#[test]
fn network_init_writes_distinct_ports_and_refuses_an_existing_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let out = init_network(&dir, 21_000, 21_100);
    let genesis = Genesis::load(&dir.join("genesis.json")).unwrap();
    assert_eq!(genesis.validators.len(), N);
    assert_eq!(genesis.alloc.len(), ACCOUNTS);
    let mut ports = HashSet::new();
    for i in 0..N {
        let nd = dir.join(format!("node-{i}"));
        let cfg = NodeConfig::load(&nd.join("node.toml")).unwrap();
        let (kf, _) = KeyFile::load(&nd.join("validator.key")).unwrap();
        assert_eq!(genesis.validators[i].address, kf.address);
        assert_eq!(
            cfg.genesis_file.canonicalize().unwrap(),
            dir.join("genesis.json").canonicalize().unwrap()
        );
        let p2p = cfg.p2p.as_ref().expect("a [p2p] section");
        assert_eq!(p2p.peers.len(), N);
        for (v, p) in genesis.validators.iter().zip(&p2p.peers) {
            assert_eq!(v.address, p.address);
        }
        assert!(ports.insert(cfg.rpc_listen.clone()), "{}", cfg.rpc_listen);
        assert!(ports.insert(p2p.listen.clone()), "{}", p2p.listen);
        assert!(
            out.contains(&format!("http://{}", cfg.rpc_listen)),
            "summary lacks node-{i}'s endpoint:\n{out}"
        );
    }
    assert_eq!(ports.len(), 2 * N);
    // An existing folder is refused and left alone.
    let before = std::fs::read(dir.join("genesis.json")).unwrap();
    let again = run(&[
        "network",
        "init",
        "--dir",
        dir.to_str().unwrap(),
        "--rpc-base-port",
        "22000",
    ]);
    assert_eq!(again.status.code(), Some(2), "{}", show(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        show(&again)
    );
    assert_eq!(std::fs::read(dir.join("genesis.json")).unwrap(), before);
    // Bad counts and ports.
    let other = tmp.path().join("other");
    let other = other.to_str().unwrap();
    for bad in [
        vec!["--validators", "0"],
        vec!["--validators", "17"],
        vec!["--rpc-base-port", "65534"],
        vec!["--rpc-base-port", "30000", "--p2p-base-port", "30002"],
    ] {
        let mut args = vec!["network", "init", "--dir", other];
        args.extend(bad.iter().copied());
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", show(&out));
    }
    assert!(!Path::new(other).exists(), "a refused init created files");
}

/// Issue #3 item 7: 4 validator processes under continuous load; SIGKILL rotates over the
/// validators (the current leader every other kill, found with `keel_status`); each restarted
/// validator must rejoin consensus (a block it proposed gets committed) before the next kill;
/// at the end every acknowledged transaction is committed exactly once and all nodes hold
/// identical blocks. (A restarted validator fetches the certified-but-uncommitted parents of
/// the current proposal by hash before it can vote again: keel-node's driver, ADR 0006.)
#[test]
fn consortium_survives_sigkill_of_rotating_validators_including_the_leader() {
    scenario(true);
}

/// `keel network init` of N validators in a temp folder on free port blocks (not started).
/// Returns the network and its RPC and P2P base ports.
fn new_net(rng: &mut Rng) -> (Net, u16, u16) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap().join("net");
    let rpc_base = common::free_port_block(N as u16, rng.next());
    let p2p_base = (0..20)
        .map(|_| common::free_port_block(N as u16, rng.next()))
        .find(|p| p.abs_diff(rpc_base) >= N as u16)
        .expect("a second port block");
    init_network(&dir, rpc_base, p2p_base);
    let net = Net {
        tmp: Some(tmp),
        dir: dir.clone(),
        rpc_ports: (0..N as u16).map(|k| rpc_base + k).collect(),
        addresses: (0..N)
            .map(|i| {
                KeyFile::load(&dir.join(format!("node-{i}/validator.key")))
                    .unwrap()
                    .0
                    .address
            })
            .collect(),
        procs: (0..N).map(|_| None).collect(),
    };
    (net, rpc_base, p2p_base)
}

fn scenario(rotate: bool) {
    let seed = seed_from_env("KEEL_CONSORTIUM_SEED");
    eprintln!("consortium test seed: {seed} (replay with KEEL_CONSORTIUM_SEED={seed})");
    let mut rng = Rng(seed);
    let t0 = Instant::now();
    let elapsed = || t0.elapsed().as_secs_f64();

    let (mut net, rpc_base, p2p_base) = new_net(&mut rng);
    let dir = net.dir.clone();
    let genesis = Genesis::load(&dir.join("genesis.json")).unwrap();
    let total: u128 = genesis.alloc.iter().map(|a| a.balance).sum();
    let d = dir.to_str().unwrap();

    // up / status / up-again refused.
    let up = run(&["network", "up", d, "--timeout-secs", "120"]);
    assert!(up.status.success(), "network up failed\n{}", show(&up));
    let up_out = String::from_utf8_lossy(&up.stdout).into_owned();
    for port in &net.rpc_ports {
        assert!(
            up_out.contains(&format!("http://127.0.0.1:{port}")),
            "{up_out}"
        );
    }
    for i in 0..N {
        let pid = net.pid(i).expect("network up wrote a pid file");
        assert!(runs_node(pid, &net.node_dir(i)), "node-{i} pid {pid}");
    }
    let again = run(&["network", "up", d]);
    assert_eq!(again.status.code(), Some(2), "{}", show(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already running"),
        "{}",
        show(&again)
    );
    eprintln!(
        "t={:.1}s: network up ({rpc_base}.., p2p {p2p_base}..)",
        elapsed()
    );
    wait_all_above(&net, 1, common::WAIT, "first blocks");
    let status = run_ok(&["network", "status", d]);
    assert_eq!(status.matches(" alive").count(), N, "{status}");
    assert_eq!(status.matches("height ").count(), N, "{status}");

    // Load.
    let ctl = Arc::new(Control::default());
    let load = spawn_load(
        net.rpc_ports.clone(),
        genesis.chain_id,
        load_senders(&dir),
        ctl.clone(),
        Rng(rng.next()),
    );
    let start = Instant::now();
    while ctl.committed_total.load(Ordering::SeqCst) < 50 {
        assert!(
            !load.is_finished(),
            "load client ended early: {:?}",
            load.join().err()
        );
        assert!(
            start.elapsed() < common::WAIT,
            "no load committed within {:?}\n{}",
            common::WAIT,
            net.diagnose()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Kills.
    let mut leader_kills = 0;
    let mut status_fallback: Option<String> = None;
    let mut min_growth = u64::MAX;
    let mut first_target: Option<usize> = None;
    for k in 0..KILLS {
        let observer = (0..N)
            .find(|i| net.rpc(*i).call("keel_chainInfo", json!([])).is_ok())
            .unwrap();
        let (target, why) = if let (false, Some(t)) = (rotate, first_target) {
            (t, "the same validator".to_string())
        } else if k % 2 == 0 {
            match current_leader(&net, observer) {
                Ok((i, round)) => {
                    leader_kills += 1;
                    (i, format!("leader of round {round} per node-{observer}"))
                }
                Err(e) => {
                    status_fallback = Some(e.clone());
                    (k % N, format!("round-robin ({e})"))
                }
            }
        } else {
            (rng.range(0, N as u64 - 1) as usize, "random".to_string())
        };
        first_target.get_or_insert(target);
        let before = net.heights().into_iter().flatten().max().unwrap();
        // The client keeps sending to the victim until it is dead: transactions it
        // acknowledged but had not yet gossiped are lost with its mempool and must be resent.
        net.kill(target);
        *ctl.down.lock().unwrap() = Some(target);
        let down_ms = rng.range(1_000, 3_000);
        eprintln!(
            "t={:.1}s: kill {k}: SIGKILL node-{target} ({why}) at height {before}; down {down_ms} ms",
            elapsed()
        );
        std::thread::sleep(Duration::from_millis(down_ms));
        let during = net.heights().into_iter().flatten().max().unwrap();
        net.restart(target, &format!("r{k}"));
        *ctl.down.lock().unwrap() = None;
        // Progress after the restart: every node, the restarted one included, passes the
        // height seen before the kill (and the one seen while it was down).
        let after = wait_all_above(
            &net,
            before.max(during) + 1,
            PROGRESS_TIMEOUT,
            &format!("after restart {k} of node-{target}"),
        );
        let grown = after.iter().min().unwrap() - before;
        min_growth = min_growth.min(grown);
        // One fault at a time: the restarted validator must take part again before the next
        // kill (otherwise a second kill leaves fewer than 2f + 1 voters).
        let proposed = if rotate {
            wait_rejoined(&net, target, before.max(during), REJOIN_TIMEOUT).to_string()
        } else {
            "(not required)".to_string()
        };
        eprintln!(
            "t={:.1}s: node-{target} restarted; heights {after:?} (3 live nodes reached {during} while it was down); it proposed block {proposed}; {} committed / {} created",
            elapsed(),
            ctl.committed_total.load(Ordering::SeqCst),
            ctl.created_total.load(Ordering::SeqCst)
        );
        assert!(!load.is_finished(), "load client ended early");
        std::thread::sleep(Duration::from_millis(rng.range(300, 1_000)));
    }

    // Drain: no new transactions; the client resubmits until everything is committed.
    ctl.stop_new.store(true, Ordering::SeqCst);
    let drain = Instant::now();
    while !load.is_finished() && drain.elapsed() < DRAIN_TIMEOUT + Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    ctl.stop.store(true, Ordering::SeqCst);
    let (senders, stats) = load.join().expect("load thread panicked");
    eprintln!(
        "t={:.1}s: load done: {stats:?}; drain took {:.1}s",
        elapsed(),
        drain.elapsed().as_secs_f64()
    );
    let created: u64 = senders.iter().map(|s| s.txs.len() as u64).sum();
    let acked: Vec<&TxRec> = senders
        .iter()
        .flat_map(|s| &s.txs)
        .filter(|t| t.acked)
        .collect();
    let unexpected: Vec<_> = stats
        .errors
        .iter()
        .filter(|(name, _)| !BENIGN.contains(&name.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "unexpected admission errors: {unexpected:?}"
    );
    for s in &senders {
        assert_eq!(
            s.committed,
            s.txs.len() as u64,
            "{}: only {} of {} transactions committed within {DRAIN_TIMEOUT:?} of the end of load\n{}",
            s.address,
            s.committed,
            s.txs.len(),
            net.diagnose()
        );
    }

    // Every node has every transaction: account nonces equal the transactions made.
    let start = Instant::now();
    for i in 0..N {
        loop {
            let calls: Vec<(&str, Value)> = senders
                .iter()
                .map(|s| ("keel_getAccount", json!([s.address])))
                .collect();
            let got: Vec<u64> = net
                .rpc(i)
                .batch(&calls)
                .unwrap()
                .into_iter()
                .map(|a| a.unwrap()["nonce"].as_u64().unwrap())
                .collect();
            let want: Vec<u64> = senders.iter().map(|s| s.txs.len() as u64).collect();
            if got == want {
                break;
            }
            assert!(
                start.elapsed() < common::WAIT,
                "node-{i} nonces {got:?} != {want:?}\n{}",
                net.diagnose()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    // Identical block hashes at every height up to the lowest head.
    let heads: Vec<u64> = net.heights().into_iter().map(Option::unwrap).collect();
    let min_head = *heads.iter().min().unwrap();
    let chain = blocks(&net.rpc(0), min_head, true);
    for i in 1..N {
        let other = blocks(&net.rpc(i), min_head, false);
        for (a, b) in chain.iter().zip(&other) {
            assert_eq!(
                a["hash"], b["hash"],
                "node-0 and node-{i} disagree at height {}",
                a["height"]
            );
        }
    }

    // Replay node 0's chain: links, nonces in order, each transaction exactly once, balances.
    let mut balance: HashMap<String, i128> = genesis
        .alloc
        .iter()
        .map(|a| (a.address.to_string(), a.balance as i128))
        .collect();
    let mut nonce: HashMap<String, u64> = HashMap::new();
    let mut located: HashMap<String, (u64, u64)> = HashMap::new();
    for (h, b) in chain.iter().enumerate() {
        if h > 0 {
            assert_eq!(b["parentHash"], chain[h - 1]["hash"], "link at {h}");
        }
        for (i, t) in b["transactions"].as_array().unwrap().iter().enumerate() {
            let sender = t["sender"].as_str().unwrap().to_string();
            let n = nonce.entry(sender.clone()).or_insert(0);
            assert_eq!(
                t["nonce"].as_u64(),
                Some(*n),
                "block {h} tx {i}: nonce order"
            );
            *n += 1;
            let amt = amount(&t["payload"]["amount"]) as i128;
            *balance.entry(sender).or_insert(0) -= amt;
            *balance
                .entry(t["payload"]["to"].as_str().unwrap().to_string())
                .or_insert(0) += amt;
            let prev = located.insert(
                t["hash"].as_str().unwrap().to_string(),
                (h as u64, i as u64),
            );
            assert!(prev.is_none(), "tx {} committed twice", t["hash"]);
        }
    }
    assert_eq!(located.len() as u64, created, "committed != created");
    for s in &senders {
        for t in &s.txs {
            assert!(
                located.contains_key(&t.hash),
                "tx {} not in the chain",
                t.hash
            );
        }
    }
    // Receipts of every acknowledged transaction on every node, where the chain says.
    for i in 0..N {
        let rpc = net.rpc(i);
        for chunk in acked.chunks(100) {
            let calls: Vec<(&str, Value)> = chunk
                .iter()
                .map(|t| ("keel_getReceipt", json!([t.hash])))
                .collect();
            for (t, r) in chunk.iter().zip(rpc.batch(&calls).unwrap()) {
                let r = r.unwrap();
                assert!(
                    !r.is_null(),
                    "node-{i}: no receipt for acknowledged {}",
                    t.hash
                );
                assert_eq!(r["status"], "success", "node-{i}: {r}");
                assert_eq!(
                    (
                        r["blockHeight"].as_u64().unwrap(),
                        r["index"].as_u64().unwrap()
                    ),
                    located[&t.hash],
                    "node-{i}: receipt of {} elsewhere",
                    t.hash
                );
            }
        }
        // Balances: state equals the replay; the sum is conserved (gas price 0).
        let calls: Vec<(&str, Value)> = senders
            .iter()
            .map(|s| ("keel_getAccount", json!([s.address])))
            .collect();
        let mut sum = 0u128;
        for (s, a) in senders.iter().zip(rpc.batch(&calls).unwrap()) {
            let a = a.unwrap();
            let bal = amount(&a["balance"]);
            assert_eq!(
                bal as i128,
                balance[&s.address.to_string()],
                "node-{i} {}",
                s.address
            );
            sum += bal;
        }
        assert_eq!(sum, total, "node-{i}: balances not conserved");
    }
    eprintln!(
        "t={:.1}s: checked {created} txs ({} acknowledged, {} resent), {} blocks agree on {N} nodes; {leader_kills} leader kills; min growth after a restart {min_growth}",
        elapsed(),
        acked.len(),
        stats.resent,
        min_head + 1
    );
    if let Some(e) = &status_fallback {
        eprintln!("NOTE: leader kill fell back to round-robin: {e}");
    }

    // Stop (SIGTERM) and check every database offline.
    let down = run_ok(&["network", "down", d, "--timeout-secs", "60"]);
    assert_eq!(down.matches("stopped (SIGTERM)").count(), N, "{down}");
    for i in 0..N {
        let out = run(&["node", "check", "--dir", net.node_dir(i).to_str().unwrap()]);
        assert!(out.status.success(), "node-{i}: {}", show(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with("ok: "),
            "{}",
            show(&out)
        );
    }
    let again = run_ok(&["network", "down", d]);
    assert_eq!(again.matches("not running").count(), N, "{again}");
    eprintln!("t={:.1}s: consortium test passed (seed {seed})", elapsed());
}

/// Every validator is SIGKILLed at (nearly) the same moment, three times, and restarted: the
/// chain must keep committing. Before uncommitted blocks were stored, a block certified just
/// before the crash existed nowhere afterwards while every node's persisted high QC required
/// extending it, and the network stalled for good.
#[test]
fn whole_consortium_killed_at_once_restarts_and_keeps_committing() {
    let seed = seed_from_env("KEEL_CONSORTIUM_SEED");
    let mut rng = Rng(seed);
    let (mut net, _, _) = new_net(&mut rng);
    let dir = net.dir.clone();
    let d = dir.to_str().unwrap();
    let up = run(&["network", "up", d, "--timeout-secs", "120"]);
    assert!(up.status.success(), "network up failed\n{}", show(&up));
    let mut reached = wait_all_above(&net, 2, common::WAIT, "first blocks");
    for round in 0..3 {
        // Let a few more blocks pass (some certified, not yet committed), then kill everyone.
        std::thread::sleep(Duration::from_millis(rng.range(100, 700)));
        let before = net.heights().into_iter().flatten().max().unwrap_or(0);
        for i in 0..N {
            net.kill(i);
        }
        for i in 0..N {
            net.restart(i, &format!("restart-{round}-{i}"));
        }
        let floor = before.max(*reached.iter().max().unwrap());
        reached = wait_all_above(
            &net,
            floor + 2,
            common::WAIT,
            &format!("progress after full restart {round}"),
        );
        eprintln!("restart {round}: heights {reached:?} (stored before: {before})");
    }
    let down = run(&["network", "down", d]);
    assert!(down.status.success(), "{}", show(&down));
    net.tmp.take();
}
