//! Multi-process governance test (issue #4, ADR 0011): 4 validator processes plus one observer
//! on 127.0.0.1 (made by `keel network init --observers 1`, genesis switched to permissioned
//! mode with a client and an auditor account).
//!
//! 1. Permissions: a non-admitted account and an auditor cannot send (`NOT_ADMITTED`,
//!    `NOT_PERMITTED`), the auditor can read; an admitted client can; after a freeze proposal
//!    passes, the client is refused with `ACCOUNT_FROZEN`.
//! 2. Join without restarts (issue 14): node-4 is in no genesis list (its observer entry is
//!    removed), so the validators refuse its links and it stays at height 0. The committee (the
//!    validators' node keys) adds it as a 5th validator with its P2P address; the accepting
//!    block ends epoch 0 and every running validator admits it to its network; it syncs from
//!    genesis and takes part in quorums of epoch 1 (its vote appears in commit certificates);
//!    killed and restarted, it resumes voting in epoch 1. No other process is restarted.
//! 3. Validator 3 is removed (epoch 2), its node deny-listed by the node list (its links drop
//!    on every node), and killed: the remaining 4 keep committing.
//! 4. Validator 2 is killed too; once it has been silent for the liveness window, a proposal
//!    that would leave the online validators short of a quorum is refused with
//!    `QUORUM_UNREACHABLE` and an explanation, and so is a node list that would cut one off.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{NodeProc, Rpc, free_port_block, run, run_ok, show};
use keel_node::KeyFile;
use keel_types::Address;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const VALIDATORS: usize = 4;
const NODES: usize = 5;
/// Bound for any single wait.
const WAIT: Duration = common::WAIT;

struct Net {
    tmp: Option<tempfile::TempDir>,
    dir: PathBuf,
    rpc_base: u16,
    p2p_base: u16,
    procs: Vec<Option<NodeProc>>,
}

impl Net {
    fn node_dir(&self, i: usize) -> PathBuf {
        self.dir.join(format!("node-{i}"))
    }

    fn rpc(&self, i: usize) -> Rpc {
        Rpc::new(self.rpc_base + i as u16)
    }

    fn url(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.rpc_base + i as u16)
    }

    fn node_key(&self, i: usize) -> PathBuf {
        self.node_dir(i).join("validator.key")
    }

    fn address(&self, key: &Path) -> Address {
        KeyFile::load(key).unwrap().0.address
    }

    fn account_key(&self, i: usize) -> PathBuf {
        self.dir.join("accounts").join(format!("account-{i}.key"))
    }

    fn height(&self, i: usize) -> Option<u64> {
        self.rpc(i)
            .call("keel_chainInfo", json!([]))
            .ok()
            .and_then(|v| v["height"].as_u64())
    }

    fn kill(&mut self, i: usize) {
        if let Some(p) = self.procs[i].take() {
            p.kill();
        }
    }

    /// Wait until `cond` holds, polling; panics with the logs after [`WAIT`].
    fn wait_for(&self, what: &str, mut cond: impl FnMut(&Net) -> bool) {
        let start = Instant::now();
        for _ in 0..10_000 {
            if cond(self) {
                return;
            }
            if start.elapsed() > WAIT {
                panic!("timed out waiting for {what}\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("gave up waiting for {what}");
    }

    /// Wait until every listed node's height grew by at least `blocks`.
    fn wait_progress(&self, nodes: &[usize], blocks: u64, what: &str) {
        let base: Vec<u64> = nodes.iter().map(|i| self.height(*i).unwrap_or(0)).collect();
        self.wait_for(what, |n| {
            nodes
                .iter()
                .zip(&base)
                .all(|(i, b)| n.height(*i).is_some_and(|h| h >= b + blocks))
        });
    }

    fn logs(&self) -> String {
        let mut s = String::new();
        for (i, p) in self.procs.iter().enumerate() {
            if let Some(p) = p {
                s.push_str(&format!("=== node-{i}\n{}\n", p.logs()));
            }
        }
        s
    }

    /// `keel gov propose ACTION ARGS --key KEY`; returns the proposal id.
    fn propose(&self, via: usize, key: &Path, args: &[&str]) -> String {
        let url = self.url(via);
        let mut all = vec!["gov", "propose"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--key", key.to_str().unwrap(), "--rpc", &url]);
        let out = run_ok(&all);
        out.lines()
            .find_map(|l| l.strip_prefix("proposal "))
            .unwrap_or_else(|| panic!("no proposal id in:\n{out}"))
            .trim()
            .to_string()
    }

    fn vote(&self, via: usize, key: &Path, id: &str) {
        let url = self.url(via);
        run_ok(&[
            "gov",
            "vote",
            id,
            "--key",
            key.to_str().unwrap(),
            "--rpc",
            &url,
        ]);
    }

    /// Propose from validator 0's key and vote with 1 and 2's: 3 of 4 weight ≥ 2/3.
    fn pass(&self, via: usize, args: &[&str]) -> String {
        let id = self.propose(via, &self.node_key(0), args);
        for k in [1, 2] {
            self.vote(via, &self.node_key(k), &id);
        }
        let p = self.rpc(via).ok("keel_getProposal", json!([id]));
        assert_eq!(p["status"], "accepted", "proposal {args:?}: {p}");
        id
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for p in self.procs.iter_mut() {
            drop(p.take());
        }
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

/// Transfer 1 unit from account `from`; returns the command output.
fn transfer(net: &Net, via: usize, key: &Path) -> std::process::Output {
    let to = net.address(&net.account_key(0)).to_string();
    let url = net.url(via);
    run(&[
        "transfer",
        "--key",
        key.to_str().unwrap(),
        "--to",
        &to,
        "--amount",
        "1",
        "--rpc",
        &url,
    ])
}

fn assert_refused(out: &std::process::Output, code: &str) {
    let text = show(out);
    assert!(!out.status.success(), "expected a refusal {code}:\n{text}");
    assert!(text.contains(code), "expected {code}:\n{text}");
}

fn setup() -> Net {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let rpc_base = free_port_block(NODES as u16, 11);
    let p2p_base = free_port_block(NODES as u16, 29);
    run_ok(&[
        "network",
        "init",
        "--validators",
        &VALIDATORS.to_string(),
        "--observers",
        "1",
        "--accounts",
        "3",
        "--dir",
        dir.to_str().unwrap(),
        "--rpc-base-port",
        &rpc_base.to_string(),
        "--p2p-base-port",
        &p2p_base.to_string(),
        "--round-timeout-ms",
        "600",
        "--block-interval-ms",
        "100",
        // These tests watch the chain grow without transactions (ADR 0014).
        "--idle-heartbeat-ms",
        "200",
    ]);
    // Permissioned: account-0 is a client, account-1 an auditor, account-2 not admitted.
    let gpath = dir.join("genesis.json");
    let mut g: Value = serde_json::from_str(&std::fs::read_to_string(&gpath).unwrap()).unwrap();
    let addr = |i: usize| {
        KeyFile::load(&dir.join("accounts").join(format!("account-{i}.key")))
            .unwrap()
            .0
            .address
    };
    g["governance"] = json!({
        "permissioned": true,
        "accounts": [
            { "address": addr(0), "role": "client", "org": "bank-a" },
            { "address": addr(1), "role": "auditor", "org": "regulator" },
        ],
    });
    // Node-4 joins later by a vote: it is not an observer of genesis either.
    g["observers"] = json!([]);
    std::fs::write(&gpath, serde_json::to_string_pretty(&g).unwrap()).unwrap();
    let mut net = Net {
        tmp: Some(tmp),
        dir,
        rpc_base,
        p2p_base,
        procs: (0..NODES).map(|_| None).collect(),
    };
    for i in 0..NODES {
        net.procs[i] = Some(NodeProc::start(&net.node_dir(i), &i.to_string()));
    }
    for i in 0..NODES {
        let rpc = net.rpc(i);
        net.procs[i]
            .as_mut()
            .unwrap()
            .wait_healthy(&rpc, common::HEALTHY_TIMEOUT);
    }
    net
}

/// Validators of `node`'s current epoch, and the epoch number.
fn members(net: &Net, node: usize) -> (u64, Vec<Address>) {
    let m = net.rpc(node).ok("keel_getMembers", json!([]));
    let vals = m["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["address"].as_str().unwrap().parse().unwrap())
        .collect();
    (m["epoch"].as_u64().unwrap(), vals)
}

/// Whether `who`'s vote is in the commit certificate of a block in `from..=to` on `node`.
fn took_part(net: &Net, node: usize, who: &Address, from: u64, to: u64) -> bool {
    let me = who.to_string();
    (from..=to).any(|h| {
        let Ok(b) = net.rpc(node).call("keel_getBlock", json!([h])) else {
            return false;
        };
        b["certificate"]["signatures"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["validator"] == me.as_str()))
    })
}

#[test]
fn governance_permissions_and_validator_changes() {
    let mut net = setup();
    net.wait_progress(&[0, 1, 2, 3], 3, "the validators to start committing");
    assert_eq!(
        net.height(4),
        Some(0),
        "node-4 is not admitted: it cannot sync"
    );

    // --- 1. permissions
    let c0 = net.account_key(0);
    let out = transfer(&net, 0, &c0);
    assert!(
        out.status.success(),
        "admitted client transfer:\n{}",
        show(&out)
    );
    assert_refused(&transfer(&net, 1, &net.account_key(2)), "NOT_ADMITTED");
    assert_refused(&transfer(&net, 1, &net.account_key(1)), "NOT_PERMITTED");
    // The auditor reads.
    let auditor = net.address(&net.account_key(1));
    let acct = net.rpc(1).ok("keel_getAccount", json!([auditor]));
    assert!(acct.is_object(), "auditor reads its account: {acct}");
    let perms = net.rpc(1).ok("keel_getPermissions", json!([auditor]));
    assert_eq!(perms["role"], "auditor");
    assert_eq!(perms["maySend"], false);
    // A non-member cannot propose.
    let url0 = net.url(0);
    let out = run(&[
        "gov",
        "propose",
        "freeze",
        "--address",
        &auditor.to_string(),
        "--key",
        c0.to_str().unwrap(),
        "--rpc",
        &url0,
    ]);
    assert_refused(&out, "NOT_PERMITTED");
    // Freeze the client by proposal + votes.
    let client = net.address(&c0).to_string();
    let freeze = net.pass(0, &["freeze", "--address", &client]);
    assert_refused(&transfer(&net, 0, &c0), "ACCOUNT_FROZEN");
    // The read commands show it.
    let shown = run_ok(&["gov", "show", &freeze, "--rpc", &url0]);
    assert!(
        shown.contains("\"accepted\"") && shown.contains("freeze"),
        "{shown}"
    );
    let listed = run_ok(&["gov", "list", "--rpc", &url0]);
    assert!(listed.contains(&freeze), "{listed}");
    let perms = run_ok(&["gov", "perms", &client, "--rpc", &url0]);
    assert!(perms.contains("\"frozen\": true"), "{perms}");
    let shown_members = run_ok(&["gov", "members", "--rpc", &url0]);
    assert!(
        shown_members.contains("\"permissioned\": true"),
        "{shown_members}"
    );

    // --- 2. admit node-4 (in no genesis list) as a 5th validator, no process restarted
    assert_eq!(net.height(4), Some(0), "node-4 is still refused");
    let v4 = net.address(&net.node_key(4));
    let (e0, vals) = members(&net, 0);
    assert_eq!((e0, vals.len()), (0, VALIDATORS));
    let node_key4 = net.node_key(4);
    let p2p4 = format!("127.0.0.1:{}", net.p2p_base + 4);
    net.pass(
        1,
        &[
            "add-validator",
            "--name",
            "validator-4",
            "--node-key",
            node_key4.to_str().unwrap(),
            "--p2p",
            &p2p4,
        ],
    );
    net.wait_for("every node in epoch 1 with 5 validators", |n| {
        (0..NODES).all(|i| {
            n.rpc(i)
                .call("keel_getMembers", json!([]))
                .is_ok_and(|m| m["epoch"] == 1 && m["validators"].as_array().unwrap().len() == 5)
        })
    });
    let switch = net.rpc(0).ok("keel_getMembers", json!([]))["epochStartHeight"]
        .as_u64()
        .unwrap();
    net.wait_progress(&[0, 1, 2, 3, 4], 5, "progress in epoch 1");
    net.wait_for("the 5th validator to take part in quorums", |n| {
        let top = n.height(4).unwrap_or(0);
        (0..NODES).any(|i| took_part(n, i, &v4, switch + 1, top.min(n.height(i).unwrap_or(0))))
    });
    eprintln!(
        "epoch 1 started at height {switch}; node-4 at height {:?}",
        net.height(4)
    );
    let metrics = ureq::get(&format!("{}/metrics", net.url(4)))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        metrics.contains("keel_gov_epoch 1\n") && metrics.contains("keel_gov_validators 5\n"),
        "metrics after the switch:\n{metrics}"
    );
    let status = net.rpc(4).ok("keel_status", json!([]));
    assert!(
        !status["consensus"].is_null(),
        "node-4 runs consensus after the switch: {status}"
    );

    // A restart in a later epoch resumes from durable state (epoch from the head's state,
    // epoch-tagged safety state) and the node votes again.
    net.kill(4);
    net.wait_progress(
        &[0, 1, 2, 3],
        3,
        "progress with node-4 down (4 of 5 validators)",
    );
    let mut p = NodeProc::start(&net.node_dir(4), "4-restarted");
    p.wait_healthy(&net.rpc(4), common::HEALTHY_TIMEOUT);
    net.procs[4] = Some(p);
    let back = net.height(0).unwrap();
    net.wait_for("the restarted 5th validator to vote again", |n| {
        let top = n.height(0).unwrap_or(0);
        top > back && took_part(n, 0, &v4, back + 1, top)
    });

    // --- 3. remove validator 3, then kill it: the network keeps committing
    let v3 = net.address(&net.node_key(3)).to_string();
    net.pass(4, &["remove-validator", "--address", &v3]);
    net.wait_for("epoch 2 with 4 validators on the remaining nodes", |n| {
        [0, 1, 2, 4].iter().all(|i| {
            n.rpc(*i)
                .call("keel_getMembers", json!([]))
                .is_ok_and(|m| m["epoch"] == 2 && m["validators"].as_array().unwrap().len() == 4)
        })
    });
    let m = net.rpc(0).ok("keel_getMembers", json!([]));
    eprintln!(
        "epoch 2 started at height {}; validators {}",
        m["epochStartHeight"], m["validators"]
    );
    // The node list (issue 14): deny-listing the removed validator's node drops its links on
    // every node at once, though its key and links were valid.
    net.pass(0, &["node-policy", "--deny", &v3]);
    net.wait_for("node-3's links dropped by the node list", |n| {
        [0, 1, 2, 4].iter().all(|i| {
            n.rpc(*i).call("keel_status", json!([])).is_ok_and(|s| {
                s["peers"].as_array().unwrap().iter().any(|p| {
                    p["address"] == v3.as_str()
                        && p["connected"] == false
                        && p["lastError"]
                            .as_str()
                            .unwrap_or_default()
                            .contains("node list")
                })
            })
        })
    });
    let members = net.rpc(0).ok("keel_getMembers", json!([]));
    assert_eq!(members["nodePolicy"]["type"], "deny", "{members}");
    net.kill(3);
    net.wait_progress(&[0, 1, 2, 4], 5, "progress without the removed validator");

    // --- 4. kill validator 2: once it is silent for the liveness window, removing validator 1
    // would leave {0, 2, 4} needing 3 votes with only 0 and 4 online: refused.
    net.kill(2);
    net.wait_progress(
        &[0, 1, 4],
        keel_ledger::gov::LIVENESS_WINDOW_BLOCKS + 2,
        "progress past the liveness window with validator 2 down",
    );
    let v1 = net.address(&net.node_key(1)).to_string();
    let key0 = net.node_key(0);
    let out = run(&[
        "gov",
        "propose",
        "remove-validator",
        "--address",
        &v1,
        "--key",
        key0.to_str().unwrap(),
        "--rpc",
        &url0,
    ]);
    assert_refused(&out, "QUORUM_UNREACHABLE");
    eprintln!("refused: {}", String::from_utf8_lossy(&out.stderr).trim());
    assert!(
        show(&out).contains("need 3 votes"),
        "explained: {}",
        show(&out)
    );
    // A node list that would cut validator 1 off is refused the same way (issue 14): 0 and 4
    // are all that would be online and allowed to link.
    let out = run(&[
        "gov",
        "propose",
        "node-policy",
        "--deny",
        &v1,
        "--key",
        key0.to_str().unwrap(),
        "--rpc",
        &url0,
    ]);
    assert_refused(&out, "QUORUM_UNREACHABLE");
    // The network still runs.
    net.wait_progress(&[0, 1, 4], 2, "progress after the refusal");
    // Every surviving node's chain verifies (links, roots, and each certificate against the
    // validator set of its block's epoch).
    for i in [0, 1, 4] {
        net.kill(i);
        let dir = net.node_dir(i);
        let out = run_ok(&["node", "check", "--dir", dir.to_str().unwrap()]);
        eprintln!("node-{i}: {}", out.trim());
    }
}
