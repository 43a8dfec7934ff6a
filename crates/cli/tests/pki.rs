//! Consortium PKI end to end (ADR 0010, docs/pki.md): `keel ca` + `keel cert verify` exit
//! codes; `keel network init --orgs 4` makes a 4-organisation network whose node processes
//! link with certificates and commit blocks, expose the certificate expiry metric and
//! status; a 5th organisation (named 上海某银行) joins by a vote while the network runs and its
//! validator signs commit certificates; then its certificate is revoked on chain by a
//! governance vote and its links drop while the others keep committing (issue 14), the CRL
//! file staying an offline path merged with it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{NodeProc, Rpc, free_port_block, run, run_ok, show};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The value after `label` on the first line that has it (`keel cert show` output).
fn field(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} in\n{text}"))
        .trim()
        .to_string()
}

fn expect_code(args: &[&str], code: i32, needle: &str) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "keel {args:?}: {}",
        show(&out)
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains(needle),
        "keel {args:?}: expected {needle:?} in\n{all}"
    );
    all
}

/// Org2 has a Chinese name (UTF8String O and CN, issue 14): issued, shown and verified like any.
fn ca_flow(suite: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let ca = tmp.path().join("ca");
    let root = ca.join("root.crt");
    let crl = ca.join("crl.pem");
    run_ok(&[
        "ca",
        "init",
        "--dir",
        p(&ca),
        "--suite",
        suite,
        "--name",
        "Test Consortium",
    ]);
    // A second init without --force is refused (the root would silently change).
    expect_code(&["ca", "init", "--dir", p(&ca)], 2, "--force");
    run_ok(&["ca", "org", "Org1", "--dir", p(&ca)]);
    run_ok(&["ca", "org", "上海某银行", "--dir", p(&ca)]);
    let mut serials = Vec::new();
    for (role, org) in [
        ("validator", "Org1"),
        ("observer", "上海某银行"),
        ("client", "Org1"),
        ("auditor", "上海某银行"),
        ("org-admin", "Org1"),
        ("committee", "上海某银行"),
    ] {
        let out = tmp.path().join(format!("{role}.crt"));
        run_ok(&[
            "ca",
            "issue",
            "--dir",
            p(&ca),
            "--org",
            org,
            "--role",
            role,
            "--key",
            "new",
            "--out",
            p(&out),
        ]);
        assert!(
            out.with_extension("key").is_file(),
            "new key written next to the chain"
        );
        let shown = run_ok(&["cert", "show", p(&out)]);
        assert_eq!(field(&shown, "role:"), role);
        assert_eq!(field(&shown, "organisation:"), org);
        let scheme = if suite == "gm" { "sm2" } else { "ed25519" };
        assert!(field(&shown, "key:").starts_with(scheme), "{shown}");
        assert!(
            shown.contains(&format!("subject:     CN={org} CA,OU=ca,O={org}")),
            "{shown}"
        );
        assert!(field(&shown, "fingerprint:").len() > 64, "{shown}");
        expect_code(
            &[
                "cert",
                "verify",
                p(&out),
                "--root",
                p(&root),
                "--crl",
                p(&crl),
            ],
            0,
            "OK:",
        );
        expect_code(
            &[
                "cert",
                "verify",
                p(&out),
                "--root",
                p(&root),
                "--role",
                role,
            ],
            0,
            &format!("role {role}"),
        );
        serials.push((role, out, field(&shown, "serial:")));
    }
    // Wrong role for the use, another root, a time after expiry, before validity.
    let (_, validator, validator_serial) = &serials[0];
    let (_, client, _) = &serials[2];
    expect_code(
        &[
            "cert",
            "verify",
            p(client),
            "--root",
            p(&root),
            "--role",
            "validator",
            "--role",
            "observer",
        ],
        3,
        "wrong_usage",
    );
    let other = tmp.path().join("other");
    run_ok(&["ca", "init", "--dir", p(&other), "--suite", suite]);
    expect_code(
        &[
            "cert",
            "verify",
            p(validator),
            "--root",
            p(&other.join("root.crt")),
        ],
        3,
        "verification FAILED",
    );
    expect_code(
        &[
            "cert",
            "verify",
            p(validator),
            "--root",
            p(&root),
            "--at",
            "4102444800",
        ],
        3,
        "expired",
    );
    expect_code(
        &[
            "cert",
            "verify",
            p(validator),
            "--root",
            p(&root),
            "--at",
            "946684800",
        ],
        3,
        "not_yet_valid",
    );
    // A CRL signed by another root is refused.
    expect_code(
        &[
            "cert",
            "verify",
            p(validator),
            "--root",
            p(&root),
            "--crl",
            p(&other.join("crl.pem")),
        ],
        3,
        "not signed by the given root",
    );
    // Revoke: the CRL now rejects it, the others still verify; revoking twice is a usage error.
    run_ok(&["ca", "revoke", validator_serial, "--dir", p(&ca)]);
    expect_code(
        &[
            "cert",
            "verify",
            p(validator),
            "--root",
            p(&root),
            "--crl",
            p(&crl),
        ],
        3,
        "revoked",
    );
    expect_code(
        &[
            "cert",
            "verify",
            p(&serials[1].1),
            "--root",
            p(&root),
            "--crl",
            p(&crl),
        ],
        0,
        "OK:",
    );
    expect_code(
        &["ca", "revoke", validator_serial, "--dir", p(&ca)],
        2,
        "already revoked",
    );
    let shown = run_ok(&["cert", "show", p(&crl)]);
    assert!(shown.contains(validator_serial.as_str()), "{shown}");
    // Issuing for an unknown organisation or with an unknown role is a usage error.
    expect_code(
        &[
            "ca",
            "issue",
            "--dir",
            p(&ca),
            "--org",
            "Nope",
            "--role",
            "client",
            "--key",
            "new",
        ],
        2,
        "keel ca org Nope",
    );
    expect_code(
        &[
            "ca",
            "issue",
            "--dir",
            p(&ca),
            "--org",
            "Org1",
            "--role",
            "king",
            "--key",
            "new",
        ],
        2,
        "unknown role",
    );
}

/// `keel cert verify`/`show` on certificates Keel did not make: the Tongsuo SM2 samples.
#[test]
fn cert_verify_accepts_the_tongsuo_chain_and_rejects_its_expired_variant() {
    let base = std::env::var("KEEL_VECTORS").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
        std::path::PathBuf::from,
    );
    let dir = [base, "/work/shared/vectors".into()]
        .into_iter()
        .map(|b| b.join("tongsuo-certs/gmtls-chain"))
        .find(|p| p.is_dir())
        .expect("tongsuo-certs vectors");
    let ca = dir.join("chain-ca.crt");
    let out = expect_code(
        &[
            "cert",
            "verify",
            p(&dir.join("server_sign.crt")),
            "--root",
            p(&ca),
            "--at",
            "1717200000",
        ],
        0,
        "OK:",
    );
    assert!(out.contains("CN=server sign"), "{out}");
    expect_code(
        &[
            "cert",
            "verify",
            p(&dir.join("server_sign_expire.crt")),
            "--root",
            p(&ca),
            "--at",
            "1717200000",
        ],
        3,
        "expired",
    );
    // Not a Keel node certificate: no role.
    expect_code(
        &[
            "cert",
            "verify",
            p(&dir.join("server_sign.crt")),
            "--root",
            p(&ca),
            "--role",
            "validator",
        ],
        3,
        "no Keel role",
    );
    let shown = run_ok(&["cert", "show", p(&ca)]);
    assert!(
        shown.contains("root CA") && shown.contains("CN=sub ca"),
        "{shown}"
    );
    assert_eq!(field(&shown, "key:").split(' ').next(), Some("sm2"));
}

#[test]
fn ca_and_cert_verify_gm() {
    ca_flow("gm");
}

#[test]
fn ca_and_cert_verify_intl() {
    ca_flow("intl");
}

const N: usize = 4;

fn wait_for(
    what: &str,
    timeout: Duration,
    mut ok: impl FnMut() -> bool,
    logs: impl Fn() -> String,
) {
    let start = Instant::now();
    for _ in 0..100_000 {
        if ok() {
            return;
        }
        if start.elapsed() > timeout {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}\n{}", logs());
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn height(rpc: &Rpc) -> u64 {
    rpc.call("keel_chainInfo", json!([]))
        .ok()
        .and_then(|v| v["height"].as_u64())
        .unwrap_or(0)
}

#[test]
fn network_init_orgs_4_links_with_certificates_admits_a_5th_org_and_drops_a_revoked_validator() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    // Ports: N RPC, N P2P, then the RPC and P2P ports of the organisation that joins later.
    let base = free_port_block(2 * N as u16 + 2, 0x9c1);
    let out = run_ok(&[
        "network",
        "init",
        "--validators",
        "4",
        "--orgs",
        "4",
        "--dir",
        p(&dir),
        "--rpc-base-port",
        &base.to_string(),
        "--p2p-base-port",
        &(base + N as u16).to_string(),
        "--round-timeout-ms",
        "500",
        "--block-interval-ms",
        "100",
        // These tests watch the chain grow without transactions (ADR 0014).
        "--idle-heartbeat-ms",
        "200",
    ]);
    for k in 1..=4 {
        assert!(out.contains(&format!("org-{k}")), "{out}");
        assert!(dir.join(format!("ca/orgs/org-{k}/ca.crt")).is_file());
    }
    // Every node has its chain next to its key, and it verifies as a validator of its org.
    for i in 0..N {
        let nd = dir.join(format!("node-{i}"));
        let cfg = keel_node::NodeConfig::load(&nd.join("node.toml")).unwrap();
        let pki = cfg.pki.expect("[pki] in node.toml");
        assert_eq!(pki.cert_chain, nd.join("node.crt"));
        let verified = run_ok(&[
            "cert",
            "verify",
            p(&pki.cert_chain),
            "--root",
            p(&pki.root_cert),
            "--crl",
            p(pki.crl_file.as_ref().unwrap()),
            "--role",
            "validator",
        ]);
        assert!(
            verified.contains(&format!("O=org-{}", i % 4 + 1)),
            "{verified}"
        );
    }
    // Node 0 warns a year ahead, so its 365-day certificate is inside the window.
    let toml = dir.join("node-0/node.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    assert!(text.contains("expiry_warning_days = 30"), "{text}");
    std::fs::write(
        &toml,
        text.replace("expiry_warning_days = 30", "expiry_warning_days = 400"),
    )
    .unwrap();
    let mut rpcs: Vec<Rpc> = (0..N).map(|i| Rpc::new(base + i as u16)).collect();
    let mut procs: Vec<NodeProc> = (0..N)
        .map(|i| NodeProc::start(&dir.join(format!("node-{i}")), "pki"))
        .collect();
    for (proc_, rpc) in procs.iter_mut().zip(&rpcs) {
        proc_.wait_healthy(rpc, common::HEALTHY_TIMEOUT);
    }
    let logs = |procs: &[NodeProc]| {
        procs
            .iter()
            .map(NodeProc::logs)
            .collect::<Vec<_>>()
            .join("\n")
    };
    wait_for(
        "all 4 nodes to commit height 3",
        common::WAIT,
        || rpcs.iter().all(|r| height(r) >= 3),
        || logs(&procs),
    );
    let status = rpcs[0].ok("keel_status", json!([]));
    let peers = status["peers"].as_array().unwrap();
    assert_eq!(peers.len(), N - 1);
    assert!(peers.iter().all(|p| p["connected"] == true), "{status}");
    let certs = status["certificates"].as_array().unwrap();
    let names: Vec<&str> = certs.iter().map(|c| c["cert"].as_str().unwrap()).collect();
    assert_eq!(names, ["node", "org_ca", "root"]);
    assert!(
        certs
            .iter()
            .all(|c| c["expiresInSeconds"].as_i64().unwrap() > 300 * 86_400)
    );
    // The dashboard's member table shows when each member's certificate chain expires: this
    // node's own, and the chains its peers presented (published with the status, ~250 ms).
    wait_for(
        "keel_validators to show every member's certificate expiry",
        common::WAIT,
        || {
            let v = rpcs[0].ok("keel_validators", json!([]));
            v["members"].as_array().is_some_and(|m| {
                m.len() == N
                    && m.iter().all(|m| {
                        m["certificateExpiry"]
                            .as_u64()
                            .is_some_and(|ms| ms > (300 * 86_400 + now_secs()) * 1000)
                    })
            })
        },
        || format!("{}", rpcs[0].ok("keel_validators", json!([]))),
    );
    let metrics = ureq::get(&format!("http://127.0.0.1:{base}/metrics"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert_eq!(
        metrics.matches("keel_cert_expiry_seconds{cert=").count(),
        3,
        "{metrics}"
    );

    let url = format!("http://127.0.0.1:{base}");
    let key = |i: usize| dir.join(format!("node-{i}/validator.key"));
    // A proposal from node-0's committee key with the votes of 1 and 2 (3 of 4: accepted).
    let pass = |args: &[&str]| {
        let mut all = vec!["gov", "propose"];
        all.extend_from_slice(args);
        let k0 = key(0);
        all.extend_from_slice(&["--key", p(&k0), "--rpc", &url]);
        let out = run_ok(&all);
        let id = out
            .lines()
            .find_map(|l| l.strip_prefix("proposal "))
            .unwrap_or_else(|| panic!("no proposal id in:\n{out}"))
            .trim()
            .to_string();
        for i in [1, 2] {
            run_ok(&["gov", "vote", &id, "--key", p(&key(i)), "--rpc", &url]);
        }
        let proposal = Rpc::new(base).ok("keel_getProposal", json!([id]));
        assert_eq!(proposal["status"], "accepted", "{proposal}");
    };

    // A 5th organisation joins while the network runs (issue 14): its CA under the consortium
    // root, its node's key and certificate, a node.toml listing the validators; the node is
    // in no genesis list, so the others refuse it until the members vote it in. Then every
    // running node admits it at the epoch switch, it syncs and signs commit certificates.
    let n4 = dir.join("node-4");
    std::fs::create_dir_all(&n4).unwrap();
    run_ok(&["ca", "org", "上海某银行", "--dir", p(&dir.join("ca"))]);
    run_ok(&["keys", "new", "--out", p(&n4.join("validator.key"))]);
    run_ok(&[
        "ca",
        "issue",
        "--dir",
        p(&dir.join("ca")),
        "--org",
        "上海某银行",
        "--role",
        "validator",
        "--key",
        p(&n4.join("validator.key")),
        "--out",
        p(&n4.join("node.crt")),
    ]);
    for f in ["root.crt", "crl.pem"] {
        std::fs::copy(dir.join("node-3").join(f), n4.join(f)).unwrap();
    }
    let (rpc4, p2p4) = (base + 2 * N as u16, base + 2 * N as u16 + 1);
    let toml3 = std::fs::read_to_string(dir.join("node-3/node.toml")).unwrap();
    let toml4 = toml3
        .replace(
            &format!("rpc_listen = \"127.0.0.1:{}\"", base + 3),
            &format!("rpc_listen = \"127.0.0.1:{rpc4}\""),
        )
        .replace(
            &format!("listen = \"127.0.0.1:{}\"", base + N as u16 + 3),
            &format!("listen = \"127.0.0.1:{p2p4}\""),
        );
    assert_ne!(toml3, toml4);
    std::fs::write(n4.join("node.toml"), toml4).unwrap();
    let mut newcomer = NodeProc::start(&n4, "pki-5th-org");
    rpcs.push(Rpc::new(rpc4));
    newcomer.wait_healthy(&rpcs[N], common::HEALTHY_TIMEOUT);
    procs.push(newcomer);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(height(&rpcs[N]), 0, "refused until admitted");
    let address4 = field(
        &run_ok(&["cert", "show", p(&n4.join("node.crt"))]),
        "address:",
    );
    pass(&[
        "add-validator",
        "--name",
        "上海某银行 validator",
        "--node-key",
        p(&n4.join("validator.key")),
        "--p2p",
        &format!("127.0.0.1:{p2p4}"),
    ]);
    wait_for(
        "the 5th organisation's validator to sign a commit certificate",
        common::WAIT,
        || {
            let top = height(&rpcs[0]);
            top > 0
                && rpcs[0].call("keel_getBlock", json!([top])).is_ok_and(|b| {
                    b["certificate"]["signatures"]
                        .as_array()
                        .is_some_and(|s| s.iter().any(|s| s["validator"] == address4.as_str()))
                })
        },
        || logs(&procs),
    );
    assert!(height(&rpcs[N]) > 3, "the newcomer synced");
    let members = rpcs[0].ok("keel_getMembers", json!([]));
    assert_eq!(members["validators"].as_array().unwrap().len(), N + 1);

    // Then the newcomer's certificate is revoked on chain (issue 14): node-0's committee key
    // proposes, 1 and 2 vote. Every node hands the revocation to its network layer, which
    // closes the links; the four genesis validators (a quorum of 5) keep committing.
    let shown = run_ok(&["cert", "show", p(&n4.join("node.crt"))]);
    let serial = field(&shown, "serial:");
    let address = field(&shown, "address:");
    assert_eq!(address, address4);
    pass(&["revoke-cert", "--cert", p(&n4.join("node.crt"))]);
    let dropped_by = |rpc: &Rpc| {
        rpc.call("keel_status", json!([])).is_ok_and(|s| {
            s["peers"].as_array().unwrap().iter().any(|p| {
                p["address"] == address.as_str()
                    && p["connected"] == false
                    && p["lastError"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("revoked")
            })
        })
    };
    wait_for(
        "the newcomer dropped as revoked on chain by nodes 0-3",
        common::WAIT,
        || rpcs[..N].iter().all(dropped_by),
        || logs(&procs),
    );
    // The CRL stays an offline path, merged with the chain's list: revoking the newcomer there
    // too is picked up by the watcher, and its links stay down.
    run_ok(&["ca", "revoke", &serial, "--dir", p(&dir.join("ca"))]);
    for i in 0..N {
        std::fs::copy(
            dir.join("ca/crl.pem"),
            dir.join(format!("node-{i}/crl.pem")),
        )
        .unwrap();
    }
    let h = height(&rpcs[0]);
    wait_for(
        "the four genesis validators to keep committing",
        common::WAIT,
        || rpcs[..N].iter().all(|r| height(r) >= h + 3),
        || logs(&procs),
    );
    let metric = |name: &str| -> u64 {
        let text = ureq::get(&format!("http://127.0.0.1:{base}/metrics"))
            .call()
            .ok()
            .and_then(|r| r.into_body().read_to_string().ok())
            .unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    wait_for(
        "the revocation counters on node-0",
        common::WAIT,
        || metric("keel_p2p_cert_rejections_total") >= 1,
        || logs(&procs),
    );
    wait_for(
        "node-0's CRL watcher to reload the list",
        common::WAIT,
        || {
            std::fs::read_to_string(&procs[0].stderr_path)
                .is_ok_and(|log| log.contains("revocation list reloaded"))
        },
        || logs(&procs),
    );
    let status = rpcs[0].ok("keel_status", json!([]));
    let peers = status["peers"].as_array().unwrap();
    assert!(
        peers
            .iter()
            .any(|p| p["address"] == address.as_str() && p["connected"] == false),
        "the newcomer stays out: {status}"
    );

    // An account bound to its client certificate (issue 14): admitted with the certificate,
    // it sends; once the certificate is revoked on chain, it is refused with CERTIFICATE_REVOKED.
    let acct_key = dir.join("accounts/account-0.key");
    let acct_crt = tmp.path().join("account-0.crt");
    run_ok(&[
        "ca",
        "issue",
        "--dir",
        p(&dir.join("ca")),
        "--org",
        "org-1",
        "--role",
        "client",
        "--key",
        p(&acct_key),
        "--out",
        p(&acct_crt),
    ]);
    let acct = field(&run_ok(&["keys", "show", p(&acct_key)]), "address");
    pass(&["admit", "--address", &acct, "--cert", p(&acct_crt)]);
    let send = || {
        run(&[
            "transfer",
            "--key",
            p(&acct_key),
            "--to",
            &address4,
            "--amount",
            "1",
            "--rpc",
            &url,
        ])
    };
    let out = send();
    assert!(out.status.success(), "{}", show(&out));
    pass(&["revoke-cert", "--cert", p(&acct_crt)]);
    let out = send();
    assert!(
        !out.status.success() && show(&out).contains("CERTIFICATE_REVOKED"),
        "{}",
        show(&out)
    );

    // The revoked newcomer is removed from the validator set (it cannot vote anyway), then the
    // node list: node-3, with a valid certificate, is deny-listed; every other node drops its
    // links at once and refuses it, and the three left (a quorum of 4) keep committing.
    pass(&["remove-validator", "--address", &address4]);
    wait_for(
        "epoch 2 with the four genesis validators",
        common::WAIT,
        || {
            rpcs[0]
                .call("keel_getMembers", json!([]))
                .is_ok_and(|m| m["validators"].as_array().is_some_and(|v| v.len() == N))
        },
        || logs(&procs),
    );
    let address3 = field(
        &run_ok(&["cert", "show", p(&dir.join("node-3/node.crt"))]),
        "address:",
    );
    pass(&["node-policy", "--deny", &address3]);
    wait_for(
        "node-3 dropped by the node list on nodes 0-2",
        common::WAIT,
        || {
            rpcs[..3].iter().all(|rpc| {
                rpc.call("keel_status", json!([])).is_ok_and(|s| {
                    s["peers"].as_array().unwrap().iter().any(|p| {
                        p["address"] == address3.as_str()
                            && p["connected"] == false
                            && p["lastError"]
                                .as_str()
                                .unwrap_or_default()
                                .contains("node list")
                    })
                })
            })
        },
        || logs(&procs),
    );
    let h = height(&rpcs[0]);
    wait_for(
        "nodes 0-2 to keep committing without node-3",
        common::WAIT,
        || rpcs[..3].iter().all(|r| height(r) >= h + 3),
        || logs(&procs),
    );
    for proc_ in &mut procs {
        proc_.terminate(common::WAIT);
    }
}
