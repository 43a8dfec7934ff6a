//! The web UI end to end (issue #7): a 4-validator network with one observer made by
//! `keel network init`, one `keel node start` process per node on 127.0.0.1, an evidence record plus background
//! transfers, then
//! * over plain HTTP: `/metrics` of a BFT node parses strictly as Prometheus text and every
//!   family is in docs/metrics.md; `keel_getTxProof` folds to the header's tx root and the header
//!   hashes to the block hash; `keel_validators` lists the four validators and the observer
//!   online; `GET /events`
//!   streams `head` and `status` events; `/ui/` files carry a strict Content-Security-Policy;
//! * in headless Chromium (`node tests/browser/e2e.mjs`, playwright-core driving
//!   /usr/bin/chromium): the overview's height increases, a transaction and a block open from the
//!   explorer, search works, the evidence check verifies the recorded file in the browser and
//!   reports a modified copy as not found; then, with 2 of the 4 validators killed, the
//!   overview shows them offline and the diagnosis (quorum lost) highlighted; screenshots go to
//!   `target/tmp/browser-e2e/` (`KEEL_UPDATE_SCREENSHOTS=1` also copies five into docs/img/).
//!
//! Without Node.js, Chromium or `tests/browser/node_modules` (`npm ci` there) the browser part
//! fails when `CI` is set and is skipped with a loud message otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{NodeProc, Rpc, free_port_block, run_ok, seed_from_env};
use keel_node::KeyFile;
use keel_types::{ContentHashAlg, EvidencePut, Hash, Payload, Signer, Transaction, merkle};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const N: usize = 4;
/// Oldest Node.js major version playwright-core supports.
const MIN_NODE_MAJOR: u32 = 20;
/// Bound for the whole browser script.
const E2E_TIMEOUT: Duration = Duration::from_secs(300);
/// Bound for a receipt to appear.
const RECEIPT_TIMEOUT: Duration = common::WAIT;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Why the browser part cannot run here, if it cannot.
fn browser_missing() -> Option<String> {
    let chromium = std::env::var("KEEL_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!(
            "{chromium} is missing (apt-get install chromium; scripts/test.sh does it)"
        ));
    }
    let Some(version) = Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    else {
        return Some("`node` (Node.js) is not installed".into());
    };
    // playwright-core (tests/browser/package-lock.json) needs Node.js 20 or newer.
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < MIN_NODE_MAJOR {
        return Some(format!(
            "Node.js {version} is too old: playwright-core needs {MIN_NODE_MAJOR} or newer"
        ));
    }
    if !repo()
        .join("tests/browser/node_modules/playwright-core")
        .exists()
    {
        return Some("tests/browser/node_modules is missing (run `npm ci` in tests/browser; scripts/test.sh does it)".into());
    }
    None
}

struct Nodes(Vec<NodeProc>);

/// Signs and sends transactions from one account.
struct Sender {
    key: keel_crypto::KeyPair,
    nonce: u64,
}

impl Sender {
    fn tx(&mut self, payload: Payload) -> keel_types::SignedTransaction {
        let mut t = Transaction {
            chain_id: 1001,
            nonce: self.nonce,
            expires_at_height: 50_000,
            gas_limit: 0,
            signer: Signer {
                scheme: self.key.scheme(),
                public_key: self.key.public_key(),
            },
            payload,
        };
        t.gas_limit = t.intrinsic_gas();
        self.nonce += 1;
        t.sign(&self.key)
    }
}

fn raw(t: &keel_types::SignedTransaction) -> String {
    format!("0x{}", hex::encode(t.encode()))
}

fn wait_receipt(rpc: &Rpc, hash: &str) -> Value {
    let start = Instant::now();
    for _ in 0..1_000 {
        let r = rpc.ok("keel_getReceipt", json!([hash]));
        if !r.is_null() {
            return r;
        }
        assert!(
            start.elapsed() < RECEIPT_TIMEOUT,
            "no receipt for {hash} after {RECEIPT_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no receipt for {hash}");
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).unwrap()
}

fn http_get(url: &str) -> (u16, Vec<(String, String)>, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut r = agent.get(url).call().unwrap();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    (
        r.status().as_u16(),
        headers,
        r.body_mut().read_to_string().unwrap_or_default(),
    )
}

/// Strict Prometheus text (0.0.4) check: HELP then TYPE before samples, known types, valid
/// names, labels and values, histogram series complete. Returns (families with type, samples).
/// `(family, type)` and `(series, value)` pairs.
type Parsed = (Vec<(String, String)>, Vec<(String, f64)>);

fn parse_prometheus(text: &str) -> Parsed {
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    let mut families: Vec<(String, String)> = Vec::new();
    let mut helped: Option<String> = None;
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has text");
            assert!(name_ok(name) && !help.is_empty(), "bad HELP line {line}");
            helped = Some(name.to_string());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a kind");
            assert_eq!(helped.as_deref(), Some(name), "TYPE {name} without HELP");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                !families.iter().any(|(n, _)| n == name),
                "family {name} declared twice"
            );
            families.push((name.to_string(), kind.to_string()));
        } else {
            assert!(
                !line.starts_with('#') && !line.is_empty(),
                "stray line {line:?}"
            );
            let (series, value) = line.rsplit_once(' ').expect("sample has a value");
            let v: f64 = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
            };
            let name = series.split('{').next().unwrap();
            assert!(name_ok(name), "bad metric name in {line}");
            if let Some(labels) = series.strip_prefix(name)
                && !labels.is_empty()
            {
                let inner = labels
                    .strip_prefix('{')
                    .and_then(|l| l.strip_suffix('}'))
                    .unwrap_or_else(|| panic!("bad labels in {line}"));
                for pair in inner.split("\",").filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once("=\"").expect("label k=\"v\"");
                    assert!(name_ok(k), "bad label name in {line}");
                    assert!(!v.trim_end_matches('"').contains('"'), "{line}");
                }
            }
            let (family, kind) = families
                .iter()
                .rev()
                .find(|(f, _)| {
                    name == f
                        || ["_bucket", "_sum", "_count"]
                            .iter()
                            .any(|s| name.strip_suffix(s) == Some(f.as_str()))
                })
                .unwrap_or_else(|| panic!("sample {name} has no TYPE before it"));
            assert!(
                name == family || kind == "histogram" || kind == "summary",
                "{name} is not a {kind} series"
            );
            samples.push((series.to_string(), v));
        }
    }
    (families, samples)
}

#[test]
fn web_ui_metrics_and_proofs_on_a_four_validator_network() {
    let seed = seed_from_env("KEEL_BROWSER_SEED");
    let missing = browser_missing();
    if let Some(why) = &missing
        && std::env::var_os("CI").is_some()
    {
        panic!("the browser test cannot run in CI: {why}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap().join("net");
    let rpc_base = free_port_block(N as u16 + 1, seed);
    let p2p_base = (1..20)
        .map(|i| free_port_block(N as u16 + 1, seed.wrapping_add(i)))
        .find(|p| p.abs_diff(rpc_base) > N as u16)
        .expect("a second port block");
    run_ok(&[
        "network",
        "init",
        "--validators",
        "4",
        "--observers",
        "1",
        "--suite",
        "gm",
        "--dir",
        dir.to_str().unwrap(),
        "--accounts",
        "2",
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
    ]);
    // node-0..3 are the validators, node-4 the observer.
    let mut nodes = Nodes(
        (0..=N)
            .map(|i| NodeProc::start(&dir.join(format!("node-{i}")), &i.to_string()))
            .collect(),
    );
    let rpcs: Vec<Rpc> = (0..=N).map(|i| Rpc::new(rpc_base + i as u16)).collect();
    for (p, r) in nodes.0.iter_mut().zip(&rpcs) {
        p.wait_healthy(r, common::HEALTHY_TIMEOUT);
    }
    let rpc = &rpcs[0];
    let url = rpc.url.clone();

    // An evidence record submitted together with transfers (so its block has several txs).
    let recorded = dir.join("contract.txt");
    let content = format!("Consortium contract {seed}: Alice pays Bob 100.\n");
    std::fs::write(&recorded, &content).unwrap();
    let modified = dir.join("contract-modified.txt");
    std::fs::write(&modified, content.replace("100", "1000")).unwrap();
    let (kf0, key0) = KeyFile::load(&dir.join("accounts/account-0.key")).unwrap();
    let (kf1, key1) = KeyFile::load(&dir.join("accounts/account-1.key")).unwrap();
    let mut s0 = Sender {
        key: key0,
        nonce: 0,
    };
    let content_hash = Hash(keel_crypto::HashAlgorithm::Sm3.digest(content.as_bytes()));
    let mut batch = vec![s0.tx(Payload::Transfer {
        to: kf1.address,
        amount: 1,
    })];
    batch.push(s0.tx(Payload::EvidencePut(EvidencePut {
        content_hash,
        hash_alg: ContentHashAlg::Sm3,
        size: content.len() as u64,
        media_type: "text/plain".into(),
        metadata: "{\"case\":\"browser e2e\"}".into(),
    })));
    for i in 0..3 {
        batch.push(s0.tx(Payload::Transfer {
            to: kf1.address,
            amount: 2 + i,
        }));
    }
    let sent = rpc.ok(
        "keel_sendTransactions",
        json!([batch.iter().map(raw).collect::<Vec<_>>()]),
    );
    let hashes: Vec<String> = sent
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["hash"]
                .as_str()
                .unwrap_or_else(|| panic!("rejected: {r}"))
                .to_string()
        })
        .collect();
    for h in &hashes {
        assert_eq!(wait_receipt(rpc, h)["status"], "success", "{h}");
    }
    let ev_id = &hashes[1];
    let record = rpc.ok("keel_getEvidence", json!([content_hash, "sm3"]));
    assert_eq!(record["id"].as_str(), Some(ev_id.as_str()));
    assert_eq!(
        record["owner"].as_str(),
        Some(kf0.address.to_string().as_str())
    );

    // keel_getTxProof folds to the header's tx root; the header hashes to the block hash.
    let alg = keel_crypto::HashAlgorithm::Sm3;
    let proof = rpc.ok("keel_getTxProof", json!([ev_id]));
    let raw_tx = unhex(proof["rawTx"].as_str().unwrap());
    assert_eq!(Hash(alg.digest(&raw_tx)).to_string(), *ev_id);
    let header = keel_types::Header::decode(&unhex(proof["header"].as_str().unwrap())).unwrap();
    let block = rpc.ok("keel_getBlock", json!([header.height]));
    assert_eq!(
        header.hash(alg).to_string(),
        block["hash"].as_str().unwrap(),
        "header in the proof is the block's"
    );
    assert_eq!(proof["headerHash"], block["hash"]);
    let (mut f, mut s) = (
        proof["index"].as_u64().unwrap(),
        u64::from(header.tx_count) - 1,
    );
    let mut r = merkle::leaf_hash(alg, &unhex(ev_id));
    for p in proof["auditPath"].as_array().unwrap() {
        let p: Hash = p.as_str().unwrap().parse().unwrap();
        assert!(s > 0, "audit path too long");
        if f & 1 == 1 || f == s {
            r = merkle::node_hash(alg, &p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = merkle::node_hash(alg, &r, &p);
        }
        f >>= 1;
        s >>= 1;
    }
    assert_eq!(
        (s, r),
        (0, header.tx_root),
        "audit path does not fold to the tx root"
    );
    eprintln!(
        "evidence tx {ev_id} is leaf {} of {} in block {} (audit path of {})",
        proof["index"],
        header.tx_count,
        header.height,
        proof["auditPath"].as_array().unwrap().len()
    );
    assert!(rpc.ok("keel_getTxProof", json!([Hash([7; 32])])).is_null());

    // keel_validators: every validator online and signing.
    let start = Instant::now();
    loop {
        let v = rpc.ok("keel_validators", json!([]));
        let members = v["members"].as_array().unwrap().clone();
        assert_eq!(members.len(), N + 1, "{v}");
        assert_eq!(members[N]["role"], "observer", "{v}");
        assert!(
            members[N]["lastSignedHeight"].is_null(),
            "an observer never signs: {v}"
        );
        let all_up = members.iter().all(|m| m["online"] == true);
        let signing = members[..N].iter().all(|m| m["lastSignedHeight"].is_u64());
        if all_up && signing {
            assert_eq!(members.iter().filter(|m| m["isSelf"] == true).count(), 1);
            assert!(members.iter().all(|m| m["certificateExpiry"].is_null()));
            break;
        }
        assert!(
            start.elapsed() < common::WAIT,
            "validators not all online and signing: {v}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // /metrics of a BFT node: strict parse, every family documented, BFT families present.
    let (status, headers, text) = http_get(&format!("{url}/metrics"));
    assert_eq!(status, 200);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("text/plain; version=0.0.4"))
    );
    let (families, samples) = parse_prometheus(&text);
    let doc = std::fs::read_to_string(repo().join("docs/metrics.md")).unwrap();
    for (name, kind) in &families {
        assert!(
            doc.contains(&format!("| `{name}` | {kind} |")),
            "docs/metrics.md lacks `{name}` ({kind})"
        );
    }
    let get = |series: &str| samples.iter().find(|(s, _)| s == series).map(|(_, v)| *v);
    // 3 validators and the observer are linked; only validators count toward the quorum.
    assert_eq!(get("keel_p2p_peers_connected"), Some(4.0));
    assert_eq!(get("keel_consensus_validators_reachable"), Some(4.0));
    assert_eq!(get("keel_consensus_quorum"), Some(3.0));
    assert!(get("keel_consensus_round").unwrap() >= 1.0);
    assert!(get("keel_p2p_frames_total{direction=\"in\"}").unwrap() > 0.0);
    assert!(
        get("keel_consensus_messages_total{direction=\"received\",kind=\"vote\"}")
            .is_some_and(|v| v > 0.0)
            || get("keel_consensus_messages_total{direction=\"received\",kind=\"proposal\"}")
                .is_some_and(|v| v > 0.0)
    );
    assert!(get("keel_execution_evidence_records_total").unwrap() >= 1.0);
    assert!(get("keel_storage_commit_seconds_count").unwrap() >= 1.0);
    assert!(get("keel_storage_disk_bytes").unwrap() > 0.0);
    assert!(get("keel_rpc_request_seconds_count").unwrap() >= 1.0);

    // /ui/ and its headers; unknown files are 404.
    let (status, headers, body) = http_get(&format!("{url}/ui/"));
    assert_eq!(status, 200);
    assert!(body.contains("app.js"));
    let csp = headers
        .iter()
        .find(|(k, _)| k == "content-security-policy")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    assert_eq!(http_get(&format!("{url}/ui/nope.js")).0, 404);

    // GET /events streams a head and a status event.
    {
        let mut sock = std::net::TcpStream::connect(("127.0.0.1", rpc_base)).unwrap();
        sock.set_read_timeout(Some(common::WAIT)).unwrap();
        write!(
            sock,
            "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(sock.take(1 << 20));
        let (mut head, mut status) = (false, false);
        let mut line = String::new();
        for _ in 0..10_000 {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            head |= line.trim() == "event: head";
            status |= line.trim() == "event: status";
            if let Some(d) = line.strip_prefix("data: ")
                && d.starts_with('{')
            {
                let v: Value = serde_json::from_str(d.trim()).unwrap();
                assert!(v["height"].is_u64(), "{v}");
            }
            if head && status {
                break;
            }
        }
        assert!(head && status, "no head and status events on /events");
    }

    if let Some(why) = missing {
        eprintln!(
            "\n**********************************************************************\n\
             SKIPPING the browser part of web_ui_metrics_and_proofs_on_a_four_validator_network:\n  {why}\n\
             (it is required when CI is set)\n\
             **********************************************************************\n"
        );
        return;
    }

    // Background traffic so the explorer's latest transactions and the TPS chart are live.
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = {
        let stop = stop.clone();
        let url = url.clone();
        let to = kf0.address;
        std::thread::spawn(move || {
            let rpc = Rpc::at(&url);
            let mut s1 = Sender {
                key: key1,
                nonce: 0,
            };
            for _ in 0..2_000 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let t = s1.tx(Payload::Transfer { to, amount: 1 });
                if rpc.call("keel_sendTransaction", json!([raw(&t)])).is_err() {
                    s1.nonce -= 1;
                }
                std::thread::sleep(Duration::from_millis(400));
            }
        })
    };

    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-e2e");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).unwrap();
    let outcome = run_e2e(
        &[
            url.as_str(),
            out_dir.to_str().unwrap(),
            recorded.to_str().unwrap(),
            modified.to_str().unwrap(),
        ],
        &out_dir,
        "e2e",
    );
    stop.store(true, Ordering::SeqCst);
    let _ = traffic.join();
    if let Err(e) = outcome {
        panic!("{e}\n{}", nodes.0[0].logs());
    }
    let result: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("result.json")).unwrap())
            .unwrap();
    assert_eq!(result["ok"], true, "{result}");
    assert!(result["steps"].as_array().unwrap().len() >= 9, "{result}");
    for shot in [
        "overview.png",
        "overview-dark.png",
        "explorer.png",
        "transaction.png",
        "block.png",
        "evidence-verified.png",
        "evidence-not-found.png",
    ] {
        let bytes = std::fs::read(out_dir.join(shot)).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{shot} is not a real screenshot"
        );
    }
    if std::env::var_os("KEEL_UPDATE_SCREENSHOTS").is_some() {
        let img = repo().join("docs/img");
        std::fs::create_dir_all(&img).unwrap();
        for (from, to) in [
            ("overview.png", "dashboard-overview.png"),
            ("block.png", "dashboard-block.png"),
            ("evidence-verified.png", "dashboard-evidence.png"),
            ("governance.png", "dashboard-governance.png"),
        ] {
            std::fs::copy(out_dir.join(from), img.join(to)).unwrap();
        }
    }
    // Two validators down: the quorum is lost; the overview must say so.
    for p in nodes.0.drain(2..N) {
        p.kill();
    }
    if let Err(e) = run_e2e(
        &["--stalled", url.as_str(), out_dir.to_str().unwrap()],
        &out_dir,
        "e2e-stalled",
    ) {
        panic!("{e}\n{}", nodes.0[0].logs());
    }
    let bytes = std::fs::read(out_dir.join("overview-stalled.png")).unwrap();
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000);
    if std::env::var_os("KEEL_UPDATE_SCREENSHOTS").is_some() {
        std::fs::copy(
            out_dir.join("overview-stalled.png"),
            repo().join("docs/img/dashboard-stalled.png"),
        )
        .unwrap();
    }
    eprintln!(
        "{}screenshots in {}",
        std::fs::read_to_string(out_dir.join("e2e.log")).unwrap_or_default(),
        out_dir.display()
    );
    drop(nodes);
}

/// Run `node tests/browser/e2e.mjs ARGS` (bounded by [`E2E_TIMEOUT`]), output in
/// `OUT_DIR/NAME.{log,err}`; the error names the screenshots and carries the script's output.
fn run_e2e(args: &[&str], out_dir: &Path, name: &str) -> Result<(), String> {
    let log_path = out_dir.join(format!("{name}.log"));
    let err_path = out_dir.join(format!("{name}.err"));
    let mut child = Command::new("node")
        .arg(repo().join("tests/browser/e2e.mjs"))
        .args(args)
        .current_dir(repo().join("tests/browser"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log_path).unwrap())
        .stderr(Stdio::from(std::fs::File::create(&err_path).unwrap()))
        .spawn()
        .expect("spawning node e2e.mjs");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if start.elapsed() > E2E_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    if status.is_some_and(|s| s.success()) {
        return Ok(());
    }
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    Err(format!(
        "browser e2e {args:?} failed ({status:?}; None = timed out after {E2E_TIMEOUT:?}); screenshots in {}\n--- stdout ---\n{log}\n--- stderr ---\n{err}",
        out_dir.display()
    ))
}
