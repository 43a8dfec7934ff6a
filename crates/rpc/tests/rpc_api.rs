//! JSON-RPC end to end against an in-process node on 127.0.0.1 (ephemeral port): the happy
//! path, and every bad input from the foundation issue with its specific error code.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use keel_crypto::{KeyPair, Scheme, Suite};
use keel_ledger::{Genesis, GenesisAccount, GenesisValidator, ProofResponse};
use keel_node::{KeyFile, Node, ProducerConfig};
use keel_types::*;
use serde_json::{Value, json};
use std::sync::Arc;

const CHAIN_ID: u64 = 31;

struct Harness {
    url: String,
    node: Arc<Node>,
    alice: KeyPair,
    bob: KeyPair,
    _keep: common::Keep,
    agent: ureq::Agent,
}

fn addr(k: &KeyPair, suite: Suite) -> Address {
    Address(keel_crypto::address_of(k.scheme(), &k.public_key(), suite.hash()).unwrap())
}

fn start(suite: Suite, max_body: usize) -> Harness {
    let scheme = suite.signature_scheme();
    let v = KeyPair::from_seed(scheme, &[1; 32]);
    let vkf = KeyFile::from_key(&v, suite);
    let alice = KeyPair::from_seed(scheme, &[2; 32]);
    let bob = KeyPair::from_seed(scheme, &[3; 32]);
    let genesis = Genesis {
        governance: None,
        chain_id: CHAIN_ID,
        chain_name: "rpc-test".into(),
        suite: suite.name().into(),
        timestamp_ms: 1,
        gas_price: 1,
        validators: vec![GenesisValidator {
            name: "v".into(),
            scheme: vkf.scheme.clone(),
            public_key: vkf.public_key.clone(),
            address: vkf.address,
        }],
        alloc: vec![
            GenesisAccount {
                address: addr(&alice, suite),
                balance: 10_000_000,
            },
            GenesisAccount {
                address: addr(&bob, suite),
                balance: 100_000,
            },
        ],
        observers: vec![],
    };
    let common::Served {
        url,
        node,
        agent,
        keep,
        ..
    } = common::serve_solo(
        genesis,
        v,
        suite,
        1,
        ProducerConfig {
            block_interval_ms: 50,
            max_block_txs: 1000,
            empty_blocks: false,
        },
        keel_rpc::RpcConfig {
            max_body_bytes: max_body,
            ..keel_rpc::RpcConfig::default()
        },
    );
    Harness {
        url,
        node,
        alice,
        bob,
        _keep: keep,
        agent,
    }
}

impl Harness {
    fn raw(&self, body: &str) -> (u16, Value) {
        let mut r = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .send(body)
            .unwrap();
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap();
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap()
            },
        )
    }

    fn call(&self, method: &str, params: Value) -> Value {
        let (_, v) =
            self.raw(&json!({"jsonrpc":"2.0","id":7,"method":method,"params":params}).to_string());
        assert_eq!(v["id"], 7, "{v}");
        v
    }

    fn ok(&self, method: &str, params: Value) -> Value {
        let v = self.call(method, params);
        assert!(v.get("error").is_none(), "{method} failed: {v}");
        v["result"].clone()
    }

    fn err_code(&self, method: &str, params: Value) -> (i64, String) {
        let v = self.call(method, params);
        let e = &v["error"];
        assert!(e.is_object(), "{method} should fail: {v}");
        (
            e["code"].as_i64().unwrap(),
            e["data"]["name"].as_str().unwrap().to_string(),
        )
    }

    fn tx(&self, key: &KeyPair, nonce: u64, payload: Payload) -> SignedTransaction {
        let mut t = Transaction {
            chain_id: CHAIN_ID,
            nonce,
            expires_at_height: self.node.head().height + 100,
            gas_limit: 0,
            signer: Signer {
                scheme: key.scheme(),
                public_key: key.public_key(),
            },
            payload,
        };
        t.gas_limit = t.intrinsic_gas();
        t.sign(key)
    }

    fn send(&self, t: &SignedTransaction) -> Value {
        self.call(
            "keel_sendTransaction",
            json!([format!("0x{}", hex::encode(t.encode()))]),
        )
    }

    fn wait_receipt(&self, hash: &Value) -> Value {
        common::wait_for(&format!("the receipt of {hash}"), || {
            let r = self.ok("keel_getReceipt", json!([hash]));
            (!r.is_null()).then_some(r)
        })
    }
}

#[test]
fn happy_path_transfer_evidence_queries_and_proofs() {
    for suite in [Suite::Gm, Suite::Intl] {
        let h = start(suite, 1 << 20);
        let bob_addr = addr(&h.bob, suite);
        let sent = h.send(&h.tx(
            &h.alice,
            0,
            Payload::Transfer {
                to: bob_addr,
                amount: 1234,
            },
        ));
        let hash = sent["result"]["hash"].clone();
        assert!(hash.is_string(), "{sent}");
        assert_eq!(sent["result"]["sender"], json!(addr(&h.alice, suite)));
        let r = h.wait_receipt(&hash);
        assert_eq!(r["status"], "success");
        assert_eq!(r["fee"], "21000");
        assert_eq!(r["events"][0]["attributes"]["amount"], "1234");
        let height = r["blockHeight"].as_u64().unwrap();
        let t = h.ok("keel_getTransaction", json!([hash]));
        assert_eq!(t["payload"]["type"], "transfer");
        assert_eq!(t["scheme"], suite.signature_scheme().name());
        let acct = h.ok("keel_getAccount", json!([bob_addr]));
        assert_eq!(acct["balance"], (100_000u64 + 1234).to_string());
        let b = h.ok("keel_getBlock", json!([height, true]));
        assert_eq!(b["transactions"][0]["hash"], hash);
        let by_hash = h.ok("keel_getBlock", json!([b["hash"]]));
        assert_eq!(by_hash["height"], height);
        assert_eq!(h.ok("keel_getBlock", json!([999_999])), Value::Null);

        // Evidence.
        let content = Hash(suite.hash().digest(b"contract text"));
        let calg = if suite == Suite::Gm {
            ContentHashAlg::Sm3
        } else {
            ContentHashAlg::Sha256
        };
        let put = Payload::EvidencePut(EvidencePut {
            content_hash: content,
            hash_alg: calg,
            size: 13,
            media_type: "text/plain".into(),
            metadata: "{}".into(),
        });
        let sent = h.send(&h.tx(&h.alice, 1, put.clone()));
        let id = sent["result"]["hash"].clone();
        assert!(id.is_string(), "{sent}");
        let r = h.wait_receipt(&id);
        assert_eq!(r["status"], "success", "{r}");
        let rec = h.ok("keel_getEvidence", json!([id]));
        assert_eq!(rec["owner"], json!(addr(&h.alice, suite)));
        assert_eq!(
            h.ok("keel_getEvidence", json!([content, calg.name()]))["id"],
            id
        );
        let list = h.ok("keel_listEvidence", json!([addr(&h.alice, suite)]));
        assert_eq!(list.as_array().unwrap().len(), 1);
        // Duplicate content hash: committed as failed with EVIDENCE_DUPLICATE.
        let dup = h.send(&h.tx(&h.bob, 0, put));
        assert!(dup["result"]["hash"].is_string(), "{dup}");
        let r = h.wait_receipt(&dup["result"]["hash"]);
        assert_eq!(r["status"], "failed");
        assert_eq!(r["error"]["name"], "EVIDENCE_DUPLICATE");

        // Proofs verify offline, inclusion and non-inclusion.
        for spec in [
            json!({"evidence": id}),
            json!({"account": bob_addr}),
            json!({"contentHash": content, "hashAlg": calg.name()}),
            json!({"account": Address([0xee; 20])}),
        ] {
            let p: ProofResponse =
                serde_json::from_value(h.ok("keel_getProof", json!([spec]))).unwrap();
            let (header, value) = p.verify().unwrap();
            assert_eq!(header.height, p.height);
            if spec.get("account") == Some(&json!(Address([0xee; 20]))) {
                assert!(value.is_none());
            } else {
                assert!(value.is_some());
            }
            // Tampering with the value breaks it.
            let mut bad = p.clone();
            bad.value = Some("00".into());
            assert!(bad.verify().is_err());
        }
        let info = h.ok("keel_chainInfo", json!([]));
        assert_eq!(info["suite"], suite.name());
        assert_eq!(info["chainId"], CHAIN_ID);
        assert_eq!(h.ok("keel_health", json!([]))["status"], "ok");
        assert_eq!(h.node.verify_chain().unwrap(), h.node.head().height + 1);
    }
}

#[test]
fn every_bad_input_has_a_specific_error_and_nothing_accepted_is_lost() {
    let suite = Suite::Intl;
    let h = start(suite, 256 * 1024);
    let bob_addr = addr(&h.bob, suite);
    // An accepted transaction, then a barrage of bad input.
    let good = h.tx(
        &h.alice,
        0,
        Payload::Transfer {
            to: bob_addr,
            amount: 5,
        },
    );
    let good_hash = h.send(&good)["result"]["hash"].clone();
    assert!(good_hash.is_string());

    // Malformed JSON.
    let (status, v) = h.raw("{\"jsonrpc\": \"2.0\", ");
    assert_eq!(status, 200);
    assert_eq!(v["error"]["code"], -32700);
    // Oversized request body.
    let (status, v) = h.raw(&format!("{{\"pad\":\"{}\"}}", "x".repeat(300 * 1024)));
    assert_eq!(status, 413);
    assert_eq!(v["error"]["code"], 1100);
    assert_eq!(v["error"]["data"]["name"], "REQUEST_TOO_LARGE");
    // Not JSON-RPC 2.0 / unknown method / bad params.
    let (_, v) = h.raw(r#"{"id":1,"method":"keel_health"}"#);
    assert_eq!(v["error"]["code"], -32600);
    assert_eq!(
        h.err_code("eth_mine", json!([])),
        (-32601, "METHOD_NOT_FOUND".into())
    );
    assert_eq!(h.err_code("keel_getAccount", json!(["0x12"])).0, -32602);
    assert_eq!(h.err_code("keel_getBlock", json!([{"x":1}])).0, -32602);
    assert_eq!(h.err_code("keel_sendTransaction", json!(["zz"])).0, -32602);

    let send_code = |t: &SignedTransaction| {
        let v = h.send(t);
        (
            v["error"]["code"].as_i64().unwrap_or(0),
            v["error"]["data"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        )
    };
    // Wrong chain id.
    let mut t = h.tx(
        &h.alice,
        1,
        Payload::Transfer {
            to: bob_addr,
            amount: 1,
        },
    );
    t.tx.chain_id = 999;
    assert_eq!(
        send_code(&t.tx.sign(&h.alice)),
        (1003, "WRONG_CHAIN_ID".into())
    );
    // Bad signature.
    let mut t = h.tx(
        &h.alice,
        1,
        Payload::Transfer {
            to: bob_addr,
            amount: 1,
        },
    );
    t.signature[0] ^= 1;
    assert_eq!(send_code(&t), (1005, "BAD_SIGNATURE".into()));
    // Signed with another scheme than declared (SM2 signature under a declared Ed25519 key).
    let mut t = h.tx(
        &h.alice,
        1,
        Payload::Transfer {
            to: bob_addr,
            amount: 1,
        },
    );
    t.signature = KeyPair::from_seed(Scheme::Sm2, &[2; 32]).sign(&t.signing_message());
    assert_eq!(send_code(&t), (1005, "BAD_SIGNATURE".into()));
    // Declares a scheme the suite does not accept.
    let sm2 = KeyPair::from_seed(Scheme::Sm2, &[4; 32]);
    assert_eq!(
        send_code(&h.tx(
            &sm2,
            0,
            Payload::Transfer {
                to: bob_addr,
                amount: 1
            }
        )),
        (1004, "SCHEME_NOT_ALLOWED".into())
    );
    // Replayed transaction / nonce. The producer may commit `good` at any moment: a resend
    // is ALREADY_KNOWN while it is pending, NONCE_TOO_LOW once its block is committed and
    // the pool pruned (docs/rpc.md); both say it was accepted, and nothing else is legal.
    let known = (1011, "ALREADY_KNOWN".to_string());
    let replay = (1006, "NONCE_TOO_LOW".to_string());
    let code = send_code(&good);
    assert!(code == known || code == replay, "{code:?}");
    h.wait_receipt(&good_hash);
    // The receipt is readable just before the pool forgets the transaction: wait for it.
    common::wait_for("the resend refused as a replay", || {
        let code = send_code(&good);
        assert!(code == known || code == replay, "{code:?}");
        (code == replay).then_some(())
    });
    // Nonce too far ahead.
    assert_eq!(
        send_code(&h.tx(
            &h.alice,
            1_000_000,
            Payload::Transfer {
                to: bob_addr,
                amount: 1
            }
        )),
        (1007, "NONCE_TOO_HIGH".into())
    );
    // Expired.
    let mut t = h.tx(
        &h.alice,
        1,
        Payload::Transfer {
            to: bob_addr,
            amount: 1,
        },
    );
    t.tx.expires_at_height = 0;
    assert_eq!(send_code(&t.tx.sign(&h.alice)), (1008, "TX_EXPIRED".into()));
    // Insufficient balance (bob has 100_005, needs amount + 21_000 fee).
    assert_eq!(
        send_code(&h.tx(
            &h.bob,
            0,
            Payload::Transfer {
                to: bob_addr,
                amount: 90_000
            }
        )),
        (1009, "INSUFFICIENT_BALANCE".into())
    );
    // Oversized transaction and garbage / truncated bytes.
    let big = format!("0x{}", "00".repeat(limits::MAX_TX_BYTES + 10));
    let v = h.call("keel_sendTransaction", json!([big]));
    assert_eq!(v["error"]["code"], 1002);
    let v = h.call("keel_sendTransaction", json!(["0xdeadbeef"]));
    assert_eq!(v["error"]["code"], 1001);
    let mut enc = good.encode();
    enc.truncate(enc.len() / 2);
    let v = h.call(
        "keel_sendTransaction",
        json!([format!("0x{}", hex::encode(enc))]),
    );
    assert_eq!(v["error"]["data"]["name"], "TX_MALFORMED");

    // Batch: mixed results, a notification gets no reply.
    let (_, v) = h.raw(r#"[{"jsonrpc":"2.0","id":1,"method":"keel_health"},{"jsonrpc":"2.0","method":"keel_health"},{"jsonrpc":"2.0","id":2,"method":"nope"}]"#);
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[1]["error"]["code"], -32601);

    // The node kept serving and kept what it accepted.
    let r = h.ok("keel_getReceipt", json!([good_hash]));
    assert_eq!(r["status"], "success");
    let next = h.tx(
        &h.alice,
        1,
        Payload::Transfer {
            to: bob_addr,
            amount: 1,
        },
    );
    let hh = h.send(&next)["result"]["hash"].clone();
    assert_eq!(h.wait_receipt(&hh)["status"], "success");
    assert_eq!(
        h.ok("keel_getAccount", json!([bob_addr]))["balance"],
        "100006"
    );
}

/// Minimal Prometheus text-format (0.0.4) checker: HELP/TYPE lines, sample syntax, every sample
/// belongs to a declared family, values parse. Returns `(family name, type)` pairs and samples.
type Families = Vec<(String, String)>;
type Samples = Vec<(String, f64)>;

fn parse_prometheus(text: &str) -> (Families, Samples) {
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c == '_' || c == ':' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
            })
    };
    let mut families: Vec<(String, String)> = Vec::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(valid_name(name), "bad HELP name: {line}");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let (name, kind) = (it.next().unwrap(), it.next().unwrap());
            assert!(valid_name(name), "{line}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                !families.iter().any(|(n, _)| n == name),
                "family declared twice: {name}"
            );
            families.push((name.to_string(), kind.to_string()));
        } else {
            assert!(
                !line.starts_with('#') && !line.trim().is_empty(),
                "unexpected line {line:?}"
            );
            let (series, value) = line.rsplit_once(' ').unwrap();
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line}"));
            let name = series.split('{').next().unwrap();
            assert!(valid_name(name), "{line}");
            if let Some(labels) = series.strip_prefix(name)
                && !labels.is_empty()
            {
                let inner = labels
                    .strip_prefix('{')
                    .and_then(|l| l.strip_suffix('}'))
                    .expect("braces");
                for pair in inner.split("\",") {
                    let (k, v) = pair
                        .split_once("=\"")
                        .unwrap_or_else(|| panic!("bad label in {line}"));
                    assert!(valid_name(k), "{line}");
                    assert!(!v.trim_end_matches('"').contains('"'), "{line}");
                }
            }
            let family = families
                .iter()
                .find(|(f, kind)| {
                    name == f
                        || (kind == "histogram"
                            && [
                                format!("{f}_bucket"),
                                format!("{f}_sum"),
                                format!("{f}_count"),
                            ]
                            .contains(&name.to_string()))
                })
                .unwrap_or_else(|| panic!("sample {name} has no TYPE line before it"));
            let _ = family;
            samples.push((series.to_string(), value));
        }
    }
    (families, samples)
}

#[test]
fn metrics_endpoint_is_valid_prometheus_text_and_documented() {
    let suite = Suite::Intl;
    let h = start(suite, 1 << 20);
    let bob_addr = addr(&h.bob, suite);
    let hash = h.send(&h.tx(
        &h.alice,
        0,
        Payload::Transfer {
            to: bob_addr,
            amount: 1,
        },
    ))["result"]["hash"]
        .clone();
    h.wait_receipt(&hash);
    let mut bad = h.tx(
        &h.alice,
        1,
        Payload::Transfer {
            to: bob_addr,
            amount: 1,
        },
    );
    bad.signature[0] ^= 1;
    assert_eq!(h.send(&bad)["error"]["code"], 1005);
    let _ = h.call("no_such_method", json!([]));

    let mut r = h.agent.get(&format!("{}/metrics", h.url)).call().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let ctype = r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    let text = r.body_mut().read_to_string().unwrap();
    let (families, samples) = parse_prometheus(&text);
    let get = |series: &str| samples.iter().find(|(s, _)| s == series).map(|(_, v)| *v);
    assert!(get("keel_chain_height").unwrap() >= 1.0);
    assert_eq!(
        get("keel_txs_committed_total{status=\"success\"}"),
        Some(1.0)
    );
    assert_eq!(
        get("keel_mempool_rejected_total{reason=\"BAD_SIGNATURE\"}"),
        Some(1.0)
    );
    assert_eq!(
        get("keel_rpc_calls_total{method=\"unknown\",outcome=\"METHOD_NOT_FOUND\"}"),
        Some(1.0)
    );
    assert!(get("keel_block_commit_seconds_count").unwrap() >= 1.0);
    assert_eq!(get("keel_node_halted"), Some(0.0));
    // The one transfer is committed, the bad one refused: nothing includable (ADR 0014 alert).
    assert_eq!(get("keel_mempool_ready"), Some(0.0));
    // Every family is documented with its type.
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/metrics.md"
    ))
    .unwrap();
    for (name, kind) in families {
        assert!(
            doc.contains(&format!("| `{name}` | {kind} |")),
            "docs/metrics.md lacks `{name}` ({kind})"
        );
    }
}
