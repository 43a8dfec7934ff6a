//! The `keel` command end to end, for both crypto suites: init, a node child process, and every
//! client command against it (keys, transfer, account, evidence, block, tx, proofs), including
//! the failure exits (3 = verification failed, 2 = usage, 1 = cannot reach the node), then a
//! clean SIGTERM shutdown and an offline `keel node check`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{NodeProc, Rpc, amount, init_chain, run, run_ok, show};
use serde_json::{Value, json};
use std::path::Path;

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// The value after `label` on the first stdout line that starts with it (after trimming).
fn field(stdout: &str, label: &str) -> String {
    stdout
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix(label))
        .map(|rest| rest.trim().to_string())
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{stdout}"))
}

/// The JSON document (object or array) that ends stdout: the whole output, or everything from
/// the first line that starts with `{` or `[`.
fn json_tail(stdout: &str) -> Value {
    let at = if stdout.starts_with('{') || stdout.starts_with('[') {
        0
    } else {
        stdout
            .find("\n{")
            .or_else(|| stdout.find("\n["))
            .map(|i| i + 1)
            .unwrap_or_else(|| panic!("no JSON in:\n{stdout}"))
    };
    serde_json::from_str(&stdout[at..]).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Assert `keel ARGS` exits with `code` and its stderr contains every one of `needles`.
fn expect_exit(args: &[&str], code: i32, needles: &[&str]) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "keel {args:?} should exit {code}\n{}",
        show(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    for n in needles {
        assert!(
            stderr.contains(n),
            "keel {args:?}: stderr lacks {n:?}\n{}",
            show(&out)
        );
    }
    stderr
}

/// Rewrite one top-level string field of a proof bundle, changing its last hex digit.
fn tamper_field(src: &Path, dst: &Path, key: &str) {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(src).unwrap()).unwrap();
    let s = v[key]
        .as_str()
        .unwrap_or_else(|| panic!("bundle has no string {key}: {v}"))
        .to_string();
    let last = s.chars().last().unwrap();
    let flipped = if last == '0' { '1' } else { '0' };
    let changed = format!("{}{flipped}", &s[..s.len() - 1]);
    assert_ne!(changed, s);
    v[key] = Value::String(changed);
    std::fs::write(dst, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

/// `keel did create|resolve|update|deactivate` with `key` (a funded account) as controller.
fn did_end_to_end(scheme: &str, key: &Path, url: &str) {
    let sc = keel_crypto::Scheme::ALL
        .into_iter()
        .find(|s| s.name() == scheme)
        .unwrap();
    let pk = |seed: u8| hex::encode(keel_crypto::KeyPair::from_seed(sc, &[seed; 32]).public_key());
    let out = run_ok(&[
        "did",
        "create",
        "--method",
        &format!("key-1:{scheme}:{}", pk(9)),
        "--service",
        "hub:LinkedDomains:https://example.org",
        "--key",
        p(key),
        "--rpc",
        url,
    ]);
    let did = out.trim().to_string();
    assert!(did.starts_with("did:keel:"), "{out}");
    let doc = json_tail(&run_ok(&["did", "resolve", &did, "--rpc", url]));
    assert_eq!(doc["didDocument"]["id"], did.as_str(), "{doc}");
    assert_eq!(
        doc["didDocument"]["verificationMethod"][0]["id"],
        format!("{did}#key-1")
    );
    // Key rotation.
    let rotate = format!("key-2:{scheme}:{}:assert", pk(10));
    let args = [
        "did",
        "update",
        &did,
        "--add-method",
        &rotate,
        "--remove-method",
        "key-1",
    ];
    run_ok(&[&args[..], &["--key", p(key), "--rpc", url]].concat());
    let doc = json_tail(&run_ok(&["did", "resolve", &did, "--rpc", url]));
    assert_eq!(
        doc["didDocument"]["assertionMethod"],
        json!([format!("{did}#key-2")])
    );
    assert_eq!(doc["didDocument"]["authentication"], json!([]));
    assert_eq!(doc["didDocumentMetadata"]["versionId"], "1");
    // The document's proof bundle verifies offline.
    let bundle = key.with_file_name("did-proof.json");
    run_ok(&[
        "proof",
        "get",
        "--did",
        &did,
        "--out",
        p(&bundle),
        "--rpc",
        url,
    ]);
    let out = run_ok(&["proof", "verify", p(&bundle)]);
    assert!(out.contains("OK"), "{out}");
    run_ok(&["did", "deactivate", &did, "--key", p(key), "--rpc", url]);
    let doc = json_tail(&run_ok(&["did", "resolve", &did, "--rpc", url]));
    assert_eq!(doc["didDocumentMetadata"]["deactivated"], true);
    expect_exit(
        &["did", "deactivate", &did, "--key", p(key), "--rpc", url],
        2,
        &["DID_DEACTIVATED"],
    );
    expect_exit(
        &["did", "resolve", "did:keel:1:zz", "--rpc", url],
        2,
        &["invalidDid"],
    );
}

fn cli_end_to_end(suite: &str, scheme: &str, content_alg: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chain");
    let port = common::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let rpc_args = ["--rpc", url.as_str()];

    // init, and a second init into the same folder refuses.
    let out = init_chain(
        suite,
        &dir,
        port,
        &["--block-interval-ms", "100", "--accounts", "3"],
    );
    assert!(out.contains(&format!("initialised {suite} chain")), "{out}");
    for f in [
        "genesis.json",
        "node.toml",
        "validator.key",
        "accounts/account-0.key",
        "accounts/account-2.key",
    ] {
        assert!(dir.join(f).is_file(), "keel init did not write {f}");
    }
    expect_exit(
        &[
            "init",
            "--suite",
            suite,
            "--dir",
            p(&dir),
            "--rpc-listen",
            &format!("127.0.0.1:{port}"),
        ],
        2,
        &["already exists"],
    );
    let acct0 = dir.join("accounts/account-0.key");
    let acct1 = dir.join("accounts/account-1.key");
    let (kf0, _) = keel_node::KeyFile::load(&acct0).unwrap();
    let (kf1, _) = keel_node::KeyFile::load(&acct1).unwrap();
    let addr0 = kf0.address.to_string();
    let addr1 = kf1.address.to_string();

    let mut node = NodeProc::start(&dir, suite);
    let rpc = Rpc::new(port);
    node.wait_healthy(&rpc, common::HEALTHY_TIMEOUT);
    let node_out = std::fs::read_to_string(&node.stdout_path).unwrap();
    assert!(
        node_out.contains(&format!("JSON-RPC  {url}")),
        "node stdout lacks its endpoint:\n{node_out}"
    );

    // keys new / show (and new refuses to overwrite).
    let keyfile = tmp.path().join("new.key");
    let out = run_ok(&[
        "keys",
        "new",
        "--scheme",
        scheme,
        "--suite",
        suite,
        "--out",
        p(&keyfile),
    ]);
    let new_addr = field(&out, "address");
    assert!(new_addr.starts_with("0x") && new_addr.len() == 42, "{out}");
    let shown = run_ok(&["keys", "show", p(&keyfile)]);
    assert_eq!(field(&shown, "address"), new_addr, "{shown}");
    assert_eq!(field(&shown, "scheme"), scheme, "{shown}");
    assert_eq!(field(&shown, "suite"), suite, "{shown}");
    expect_exit(
        &[
            "keys",
            "new",
            "--scheme",
            scheme,
            "--suite",
            suite,
            "--out",
            p(&keyfile),
        ],
        2,
        &["refusing to overwrite"],
    );

    // transfer, then account shows the recipient's balance.
    let before0 = amount(&rpc.ok("keel_getAccount", json!([addr0]))["balance"]);
    let mut args = vec![
        "transfer",
        "--key",
        p(&acct0),
        "--to",
        &new_addr,
        "--amount",
        "12345",
    ];
    args.extend_from_slice(&rpc_args);
    let out = run_ok(&args);
    let tx_hash = field(&out, "submitted");
    let receipt = json_tail(&out);
    assert_eq!(receipt["status"], "success", "{out}");
    assert_eq!(receipt["txHash"].as_str(), Some(tx_hash.as_str()), "{out}");
    let tx_height = receipt["blockHeight"].as_u64().unwrap();

    let out = run_ok(&["account", &new_addr, "--rpc", &url]);
    let acct = json_tail(&out);
    assert_eq!(acct["balance"], "12345", "{out}");
    assert_eq!(acct["nonce"], 0, "{out}");
    let out = run_ok(&["account", &addr0, "--rpc", &url]);
    let acct = json_tail(&out);
    assert_eq!(amount(&acct["balance"]), before0 - 12345, "gas price is 0");
    assert_eq!(acct["nonce"], 1, "{out}");

    // tx HASH: the transaction and its receipt.
    let out = run_ok(&["tx", &tx_hash, "--rpc", &url]);
    let t = json_tail(&out);
    assert_eq!(t["transaction"]["hash"].as_str(), Some(tx_hash.as_str()));
    assert_eq!(t["transaction"]["payload"]["type"], "transfer");
    assert_eq!(
        t["transaction"]["payload"]["to"].as_str(),
        Some(new_addr.as_str())
    );
    assert_eq!(t["transaction"]["sender"].as_str(), Some(addr0.as_str()));
    assert_eq!(t["transaction"]["scheme"], scheme);
    assert_eq!(t["receipt"]["status"], "success");
    assert_eq!(t["receipt"]["blockHeight"].as_u64(), Some(tx_height));
    let unknown = format!("0x{}", "ab".repeat(32));
    expect_exit(&["tx", &unknown, "--rpc", &url], 2, &["not committed"]);

    // block latest / block N --full.
    let out = run_ok(&["block", "latest", "--rpc", &url]);
    let latest = json_tail(&out);
    assert!(latest["height"].as_u64().unwrap() >= tx_height, "{out}");
    assert!(latest["hash"].as_str().unwrap().starts_with("0x"), "{out}");
    let out = run_ok(&["block", &tx_height.to_string(), "--full", "--rpc", &url]);
    let b = json_tail(&out);
    assert_eq!(b["height"].as_u64(), Some(tx_height));
    let txs = b["transactions"].as_array().unwrap();
    let ours = txs
        .iter()
        .find(|t| t["hash"].as_str() == Some(tx_hash.as_str()))
        .unwrap_or_else(|| panic!("block {tx_height} --full lacks {tx_hash}:\n{out}"));
    assert_eq!(ours["payload"]["amount"], "12345", "full tx object: {ours}");
    let out = run_ok(&["block", &tx_height.to_string(), "--rpc", &url]);
    let b = json_tail(&out);
    assert!(
        b["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h.as_str() == Some(tx_hash.as_str())),
        "block without --full lists hashes: {out}"
    );
    expect_exit(&["block", "99999999", "--rpc", &url], 2, &["no block"]);

    // evidence put / verify / modified copy / get / list.
    let file = tmp.path().join("contract.txt");
    std::fs::write(&file, format!("keel {suite} e2e evidence\n").repeat(50)).unwrap();
    let out = run_ok(&[
        "evidence",
        "put",
        p(&file),
        "--key",
        p(&acct1),
        "--rpc",
        &url,
    ]);
    let record_id = field(&out, "record id");
    assert_eq!(field(&out, "owner"), addr1, "{out}");
    let ev_height: u64 = field(&out, "height").parse().unwrap();
    assert!(out.contains(content_alg), "{out}");

    let out = run_ok(&["evidence", "verify", p(&file), "--rpc", &url]);
    assert_eq!(field(&out, "record"), record_id, "{out}");
    assert_eq!(field(&out, "owner"), addr1, "{out}");
    assert_eq!(field(&out, "height"), ev_height.to_string(), "{out}");
    assert!(field(&out, "proof").starts_with("OK"), "{out}");

    let modified = tmp.path().join("contract-modified.txt");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend_from_slice(b"one more line\n");
    std::fs::write(&modified, bytes).unwrap();
    expect_exit(
        &["evidence", "verify", p(&modified), "--rpc", &url],
        3,
        &["verification FAILED", "not recorded", "modified"],
    );

    let out = run_ok(&["evidence", "get", &record_id, "--rpc", &url]);
    let rec = json_tail(&out);
    assert_eq!(rec["id"].as_str(), Some(record_id.as_str()), "{out}");
    assert_eq!(rec["owner"].as_str(), Some(addr1.as_str()), "{out}");
    let out = run_ok(&["evidence", "list", &addr1, "--rpc", &url]);
    let list = json_tail(&out);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{out}");
    assert_eq!(list[0]["id"].as_str(), Some(record_id.as_str()), "{out}");
    let out = run_ok(&["evidence", "list", &addr0, "--rpc", &url]);
    assert_eq!(json_tail(&out), json!([]), "{out}");

    did_end_to_end(scheme, &acct1, &url);

    // proof get / verify, tampered bundles and a wrong trusted header hash.
    let bundle = tmp.path().join("proof.json");
    let out = run_ok(&[
        "proof",
        "get",
        "--account",
        &new_addr,
        "--out",
        p(&bundle),
        "--rpc",
        &url,
    ]);
    assert!(out.contains("written to"), "{out}");
    let out = run_ok(&["proof", "verify", p(&bundle)]);
    assert!(out.starts_with("OK: inclusion proof"), "{out}");
    let bundle_json: Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    let header_hash = bundle_json["headerHash"].as_str().unwrap().to_string();
    let out = run_ok(&["proof", "verify", p(&bundle), "--header-hash", &header_hash]);
    assert!(out.starts_with("OK: "), "{out}");

    for key in ["value", "stateRoot"] {
        let bad = tmp.path().join(format!("proof-bad-{key}.json"));
        tamper_field(&bundle, &bad, key);
        expect_exit(&["proof", "verify", p(&bad)], 3, &["verification FAILED"]);
    }
    let mut wrong = header_hash.clone().into_bytes();
    let last = wrong.len() - 1;
    wrong[last] = if wrong[last] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    expect_exit(
        &["proof", "verify", p(&bundle), "--header-hash", &wrong],
        3,
        &["verification FAILED", "not the trusted"],
    );

    let ev_bundle = tmp.path().join("evidence-proof.json");
    run_ok(&[
        "proof",
        "get",
        "--evidence",
        &record_id,
        "--out",
        p(&ev_bundle),
        "--rpc",
        &url,
    ]);
    let out = run_ok(&["proof", "verify", p(&ev_bundle)]);
    assert!(out.starts_with("OK: inclusion proof"), "{out}");

    // Usage errors and help.
    let dead = format!("http://127.0.0.1:{}", common::free_port());
    expect_exit(
        &[
            "transfer",
            "--key",
            p(&acct0),
            "--to",
            &addr1,
            "--amount",
            "1",
            "--rpc",
            &dead,
        ],
        1,
        &["cannot reach", &dead, "hint:"],
    );
    let help = run_ok(&["--help"]);
    assert!(
        help.contains("evidence") && help.contains("transfer"),
        "{help}"
    );
    let help = run_ok(&["evidence", "--help"]);
    assert!(help.contains("verify") && help.contains("put"), "{help}");

    // The node still serves after all that, then stops cleanly on SIGTERM.
    let head = rpc.ok("keel_chainInfo", json!([]))["height"]
        .as_u64()
        .unwrap();
    assert!(head >= ev_height);
    let status = node
        .terminate(common::WAIT)
        .unwrap_or_else(|| panic!("node did not exit within 20 s of SIGTERM\n{}", node.logs()));
    assert!(
        status.success(),
        "node exited with {status}\n{}",
        node.logs()
    );
    let out = run_ok(&["node", "check", "--dir", p(&dir)]);
    assert!(
        out.starts_with(&format!("ok: {} blocks verified, head {head} ", head + 1)),
        "{out}"
    );
}

#[test]
fn cli_end_to_end_gm_suite_sm2() {
    cli_end_to_end("gm", "sm2", "sm3");
}

#[test]
fn cli_end_to_end_intl_suite_ed25519() {
    cli_end_to_end("intl", "ed25519", "sha256");
}
