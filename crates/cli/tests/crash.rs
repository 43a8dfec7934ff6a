//! SIGKILL crash test: a node child process commits blocks under continuous transfer load and is
//! killed with SIGKILL at random moments, then restarted. Nothing observed as committed before a
//! kill may be lost or changed afterwards, balances are conserved, and the database passes
//! `keel node check` (after crashes and at the end).
//!
//! The kill moments come from a seeded PRNG; the seed is printed at the start and can be replayed
//! with `KEEL_CRASH_SEED=<seed> cargo test -p keel-cli --test crash -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{NodeProc, Rng, Rpc, RpcFail, amount, init_chain, run, seed_from_env};
use keel_crypto::KeyPair;
use keel_ledger::Genesis;
use keel_node::KeyFile;
use keel_types::{Address, Payload, Signer, Transaction};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const ROUNDS: usize = 10;
const ACCOUNTS: usize = 8;
const BATCH: usize = 30;

/// A block as seen over RPC.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SeenBlock {
    hash: String,
    state_root: String,
}

/// A receipt as seen over RPC.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SeenReceipt {
    status: String,
    block_height: u64,
    index: u64,
}

/// Everything the load client observed as committed (i.e. acknowledged by the node).
#[derive(Default)]
struct Observed {
    blocks: BTreeMap<u64, SeenBlock>,
    receipts: HashMap<String, SeenReceipt>,
    sent: u64,
    rejected: u64,
}

impl Observed {
    fn max_height(&self) -> u64 {
        let b = self.blocks.keys().next_back().copied().unwrap_or(0);
        let r = self
            .receipts
            .values()
            .map(|r| r.block_height)
            .max()
            .unwrap_or(0);
        b.max(r)
    }
}

struct Account {
    address: Address,
    key: KeyPair,
}

fn load_accounts(dir: &Path) -> Vec<Account> {
    (0..ACCOUNTS)
        .map(|i| {
            let (kf, key) =
                KeyFile::load(&dir.join("accounts").join(format!("account-{i}.key"))).unwrap();
            Account {
                address: kf.address,
                key,
            }
        })
        .collect()
}

fn record_block(obs: &Mutex<Observed>, b: &Value) {
    let Some(height) = b["height"].as_u64() else {
        return;
    };
    let seen = SeenBlock {
        hash: b["hash"].as_str().unwrap().to_string(),
        state_root: b["stateRoot"].as_str().unwrap().to_string(),
    };
    let mut o = obs.lock().unwrap();
    if let Some(prev) = o.blocks.get(&height) {
        // The same node life (or a later one) must never show a different block at a height.
        assert_eq!(prev, &seen, "block {height} changed while observing");
    }
    o.blocks.insert(height, seen);
}

/// The load client: sends batches of transfers between the sample accounts until `stop`, polls
/// receipts of a sample of them and records the head block after each batch. Transport errors
/// (the node was killed) end it quietly.
fn spawn_load(
    port: u16,
    chain_id: u64,
    accounts: Arc<Vec<Account>>,
    obs: Arc<Mutex<Observed>>,
    stop: Arc<AtomicBool>,
    mut rng: Rng,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("crash-load".into())
        .spawn(move || {
            let rpc = Rpc::new(port);
            let started = Instant::now();
            let Ok(mut nonces) = read_nonces(&rpc, &accounts) else {
                return;
            };
            // Sampled (tx hash, sent at) awaiting a receipt.
            let mut watch: Vec<(String, Instant)> = Vec::new();
            let mut sender = 0usize;
            // Bounded: a round lasts a few seconds; the caps are far above what is reached.
            for _ in 0..100_000 {
                if stop.load(Ordering::SeqCst) || started.elapsed() > Duration::from_secs(300) {
                    return;
                }
                let Ok(head) = rpc.call("keel_getBlock", json!(["latest"])) else {
                    return;
                };
                record_block(&obs, &head);
                let height = head["height"].as_u64().unwrap();
                let mut raws = Vec::with_capacity(BATCH);
                let mut hashes = Vec::with_capacity(BATCH);
                for _ in 0..BATCH {
                    let from = sender % accounts.len();
                    sender += 1;
                    let to = (from + 1 + rng.range(0, accounts.len() as u64 - 2) as usize)
                        % accounts.len();
                    let a = &accounts[from];
                    let mut tx = Transaction {
                        chain_id,
                        nonce: nonces[from],
                        expires_at_height: height + 1_000,
                        gas_limit: 0,
                        signer: Signer {
                            scheme: a.key.scheme(),
                            public_key: a.key.public_key(),
                        },
                        payload: Payload::Transfer {
                            to: accounts[to].address,
                            amount: u128::from(rng.range(1, 1_000)),
                        },
                    };
                    tx.gas_limit = tx.intrinsic_gas();
                    nonces[from] += 1;
                    let signed = tx.sign(&a.key);
                    raws.push(format!("0x{}", hex::encode(signed.encode())));
                    hashes.push(signed.hash(keel_crypto::Suite::Gm.hash()).to_string());
                }
                let results = match rpc.call("keel_sendTransactions", json!([raws])) {
                    Ok(Value::Array(r)) => r,
                    Ok(other) => panic!("keel_sendTransactions returned {other}"),
                    Err(RpcFail::Transport(_)) => return,
                    Err(RpcFail::Rpc(e)) => panic!("keel_sendTransactions failed: {e}"),
                };
                assert_eq!(results.len(), BATCH);
                let mut any_rejected = false;
                {
                    let mut o = obs.lock().unwrap();
                    for (r, h) in results.iter().zip(&hashes) {
                        if r.get("error").is_some() {
                            any_rejected = true;
                            o.rejected += 1;
                        } else {
                            assert_eq!(r["hash"].as_str(), Some(h.as_str()), "{r}");
                            o.sent += 1;
                        }
                    }
                }
                // Watch the first and last of the batch plus one at random.
                let now = Instant::now();
                for i in [0, BATCH - 1, rng.range(1, BATCH as u64 - 2) as usize] {
                    if results[i].get("error").is_none() {
                        watch.push((hashes[i].clone(), now));
                    }
                }
                if poll_receipts(&rpc, &obs, &mut watch).is_err() {
                    return;
                }
                if any_rejected {
                    // Our nonce view is off (should not happen within one node life): let the
                    // pool drain, then re-read nonces from committed state.
                    if wait_pool_empty(&rpc).is_err() {
                        return;
                    }
                    match read_nonces(&rpc, &accounts) {
                        Ok(n) => nonces = n,
                        Err(_) => return,
                    }
                }
                std::thread::sleep(Duration::from_millis(rng.range(5, 40)));
            }
        })
        .expect("spawning the load thread")
}

fn read_nonces(rpc: &Rpc, accounts: &[Account]) -> Result<Vec<u64>, RpcFail> {
    accounts
        .iter()
        .map(|a| {
            rpc.call("keel_getAccount", json!([a.address]))
                .map(|v| v["nonce"].as_u64().unwrap())
        })
        .collect()
}

fn wait_pool_empty(rpc: &Rpc) -> Result<(), RpcFail> {
    let start = Instant::now();
    for _ in 0..1_000 {
        let info = rpc.call("keel_chainInfo", json!([]))?;
        if info["pendingTxs"] == 0 || start.elapsed() > Duration::from_secs(20) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Poll the watched transactions once; record receipts; forget very old ones (lost with a
/// killed mempool is fine, but within one life they should commit quickly).
fn poll_receipts(
    rpc: &Rpc,
    obs: &Mutex<Observed>,
    watch: &mut Vec<(String, Instant)>,
) -> Result<(), RpcFail> {
    let mut keep = Vec::with_capacity(watch.len());
    for (h, at) in watch.drain(..) {
        let r = rpc.call("keel_getReceipt", json!([h]))?;
        if r.is_null() {
            if at.elapsed() < Duration::from_secs(30) {
                keep.push((h, at));
            }
            continue;
        }
        assert_eq!(r["txHash"].as_str(), Some(h.as_str()), "{r}");
        let seen = SeenReceipt {
            status: r["status"].as_str().unwrap().to_string(),
            block_height: r["blockHeight"].as_u64().unwrap(),
            index: r["index"].as_u64().unwrap(),
        };
        obs.lock().unwrap().receipts.insert(h, seen);
    }
    *watch = keep;
    Ok(())
}

/// Everything observed so far is still there, unchanged; balances are conserved.
fn check_observed(rpc: &Rpc, obs: &Observed, accounts: &[Account], total: u128, when: &str) {
    let head = rpc.ok("keel_getBlock", json!(["latest"]));
    let head_height = head["height"].as_u64().unwrap();
    assert!(
        head_height >= obs.max_height(),
        "{when}: head {head_height} is below the highest observed committed height {}",
        obs.max_height()
    );
    for (height, seen) in &obs.blocks {
        let b = rpc.ok("keel_getBlock", json!([height]));
        assert!(!b.is_null(), "{when}: observed block {height} is gone");
        assert_eq!(
            b["hash"].as_str(),
            Some(seen.hash.as_str()),
            "{when}: block {height} hash changed"
        );
        assert_eq!(
            b["stateRoot"].as_str(),
            Some(seen.state_root.as_str()),
            "{when}: block {height} state root changed"
        );
    }
    for (h, seen) in &obs.receipts {
        let r = rpc.ok("keel_getReceipt", json!([h]));
        assert!(
            !r.is_null(),
            "{when}: receipt of {h} (seen in block {}) is gone",
            seen.block_height
        );
        let now = SeenReceipt {
            status: r["status"].as_str().unwrap().to_string(),
            block_height: r["blockHeight"].as_u64().unwrap(),
            index: r["index"].as_u64().unwrap(),
        };
        assert_eq!(&now, seen, "{when}: receipt of {h} changed");
        assert_eq!(seen.status, "success", "{when}: transfer {h} failed: {r}");
    }
    let sum: u128 = accounts
        .iter()
        .map(|a| amount(&rpc.ok("keel_getAccount", json!([a.address]))["balance"]))
        .sum();
    assert_eq!(sum, total, "{when}: sum of balances is not conserved");
}

/// Replay every committed block: per-sender nonces and per-account balances derived from the
/// transactions must equal the node's account state, and every observed receipt must point at
/// its transaction.
fn check_replay(rpc: &Rpc, obs: &Observed, accounts: &[Account], genesis: &Genesis) -> u64 {
    let head = rpc.ok("keel_getBlock", json!(["latest"]))["height"]
        .as_u64()
        .unwrap();
    let mut balance: HashMap<String, i128> = genesis
        .alloc
        .iter()
        .map(|a| (a.address.to_string(), a.balance as i128))
        .collect();
    let mut nonce: HashMap<String, u64> = HashMap::new();
    let mut located: HashMap<String, (u64, u64)> = HashMap::new();
    let mut parent: Option<String> = None;
    for h in 0..=head {
        let b = rpc.ok("keel_getBlock", json!([h, true]));
        assert_eq!(b["height"].as_u64(), Some(h), "{b}");
        if let Some(p) = &parent {
            assert_eq!(b["parentHash"].as_str(), Some(p.as_str()), "block {h} link");
        }
        parent = Some(b["hash"].as_str().unwrap().to_string());
        for (i, t) in b["transactions"].as_array().unwrap().iter().enumerate() {
            let sender = t["sender"].as_str().unwrap().to_string();
            let n = nonce.entry(sender.clone()).or_insert(0);
            assert_eq!(
                t["nonce"].as_u64(),
                Some(*n),
                "block {h} tx {i}: nonce out of order"
            );
            *n += 1;
            assert_eq!(t["payload"]["type"], "transfer", "{t}");
            let amt = amount(&t["payload"]["amount"]) as i128;
            *balance.entry(sender).or_insert(0) -= amt;
            *balance
                .entry(t["payload"]["to"].as_str().unwrap().to_string())
                .or_insert(0) += amt;
            located.insert(t["hash"].as_str().unwrap().to_string(), (h, i as u64));
        }
    }
    for a in accounts {
        let acct = rpc.ok("keel_getAccount", json!([a.address]));
        let addr = a.address.to_string();
        assert_eq!(
            acct["nonce"].as_u64(),
            Some(nonce.get(&addr).copied().unwrap_or(0)),
            "nonce of {addr} does not match the committed transactions"
        );
        assert_eq!(
            amount(&acct["balance"]) as i128,
            balance[&addr],
            "balance of {addr} does not match the committed transfers"
        );
    }
    for (h, seen) in &obs.receipts {
        assert_eq!(
            located.get(h),
            Some(&(seen.block_height, seen.index)),
            "observed tx {h} is not where its receipt said"
        );
    }
    head
}

fn node_check(dir: &Path, when: &str) -> String {
    let out = run(&["node", "check", "--dir", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{when}: keel node check failed\n{}",
        common::show(&out)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("ok: "), "{when}: {stdout}");
    stdout
}

#[test]
fn sigkill_under_load_loses_nothing_committed_and_leaves_a_consistent_database() {
    let seed = seed_from_env("KEEL_CRASH_SEED");
    eprintln!("crash test seed: {seed} (replay with KEEL_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let test_start = Instant::now();

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let port = common::free_port();
    init_chain(
        "gm",
        dir,
        port,
        &[
            "--accounts",
            &ACCOUNTS.to_string(),
            "--block-interval-ms",
            "50",
            "--gas-price",
            "0",
        ],
    );
    let genesis = Genesis::load(&dir.join("genesis.json")).unwrap();
    let total: u128 = genesis.alloc.iter().map(|a| a.balance).sum();
    let accounts = Arc::new(load_accounts(dir));
    let obs = Arc::new(Mutex::new(Observed::default()));

    for round in 0..ROUNDS {
        let mut node = NodeProc::start(dir, &format!("r{round}"));
        let rpc = Rpc::new(port);
        node.wait_healthy(&rpc, common::HEALTHY_TIMEOUT);
        check_observed(
            &rpc,
            &obs.lock().unwrap(),
            &accounts,
            total,
            &format!("after restart {round}"),
        );

        let stop = Arc::new(AtomicBool::new(false));
        let load = spawn_load(
            port,
            genesis.chain_id,
            accounts.clone(),
            obs.clone(),
            stop.clone(),
            Rng(rng.next()),
        );
        // "Had load": wait until a transaction sent in this life is observed committed.
        let before = obs.lock().unwrap().receipts.len();
        let wait_start = Instant::now();
        let mut loaded = false;
        for _ in 0..100_000 {
            if obs.lock().unwrap().receipts.len() > before {
                loaded = true;
                break;
            }
            if load.is_finished() || wait_start.elapsed() > common::WAIT {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            loaded,
            "round {round}: no transaction observed committed within {:?} (load client \
             finished: {})\n{}",
            common::WAIT,
            load.is_finished(),
            node.logs()
        );
        let delay = rng.range(200, 1_500);
        std::thread::sleep(Duration::from_millis(delay));
        let status = node.kill();
        stop.store(true, Ordering::SeqCst);
        // A panic in the load thread (an inconsistent observation) fails the test here.
        load.join().expect("load thread panicked");
        {
            let o = obs.lock().unwrap();
            eprintln!(
                "round {round} (t={:.1}s): SIGKILL after {delay} ms ({status}); observed so far: \
                 {} blocks (max height {}), {} receipts, {} txs admitted, {} rejected",
                test_start.elapsed().as_secs_f64(),
                o.blocks.len(),
                o.max_height(),
                o.receipts.len(),
                o.sent,
                o.rejected
            );
        }
        // Every other crash, check the on-disk state straight after the kill, before the node
        // itself reopens it.
        if round % 2 == 1 {
            node_check(dir, &format!("after kill {round}"));
        }
    }

    // Final life: everything still there, then replay the whole chain.
    let mut node = NodeProc::start(dir, "final");
    let rpc = Rpc::new(port);
    node.wait_healthy(&rpc, common::HEALTHY_TIMEOUT);
    let o = obs.lock().unwrap();
    check_observed(&rpc, &o, &accounts, total, "final restart");
    let head = check_replay(&rpc, &o, &accounts, &genesis);
    assert!(
        o.receipts.len() >= ROUNDS,
        "too few receipts observed: {}",
        o.receipts.len()
    );
    let status = node
        .terminate(common::WAIT)
        .expect("node did not exit within 20 s of SIGTERM");
    assert!(
        status.success(),
        "node exit status {status}\n{}",
        node.logs()
    );
    let checked = node_check(dir, "final");
    assert!(
        checked.starts_with(&format!("ok: {} blocks verified, head {head} ", head + 1)),
        "{checked}"
    );
    eprintln!(
        "crash test: {ROUNDS} kills, head {head}, {} receipts checked, {:.1}s",
        o.receipts.len(),
        test_start.elapsed().as_secs_f64()
    );
}
