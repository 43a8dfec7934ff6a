//! The web UI's server side against an in-process solo node on 127.0.0.1: `keel_getTxProof`
//! and `keel_validators` (results and bad params), `/ui/` files and headers, `GET /events`
//! (head and status events, the client limit, the client gauge), and `/metrics` families
//! documented (the new execution/storage/RPC families included).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use keel_crypto::{KeyPair, Suite};
use keel_ledger::{Genesis, GenesisAccount, GenesisValidator};
use keel_node::{KeyFile, Node, ProducerConfig};
use keel_types::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

const CHAIN_ID: u64 = 77;

struct Harness {
    url: String,
    port: u16,
    node: Arc<Node>,
    alice: KeyPair,
    _keep: common::Keep,
    agent: ureq::Agent,
}

fn start() -> Harness {
    let suite = Suite::Gm;
    let scheme = suite.signature_scheme();
    let v = KeyPair::from_seed(scheme, &[1; 32]);
    let vkf = KeyFile::from_key(&v, suite);
    let alice = KeyPair::from_seed(scheme, &[2; 32]);
    let alice_addr = Address(
        keel_crypto::address_of(alice.scheme(), &alice.public_key(), suite.hash()).unwrap(),
    );
    let genesis = Genesis {
        chain_id: CHAIN_ID,
        chain_name: "web-test".into(),
        suite: suite.name().into(),
        timestamp_ms: 1,
        gas_price: 1,
        validators: vec![GenesisValidator {
            name: "solo".into(),
            scheme: vkf.scheme.clone(),
            public_key: vkf.public_key.clone(),
            address: vkf.address,
        }],
        alloc: vec![GenesisAccount {
            address: alice_addr,
            balance: 10_000_000,
        }],
        observers: vec![],
        governance: None,
    };
    let common::Served {
        url,
        port,
        node,
        agent,
        keep,
    } = common::serve_solo(
        genesis,
        v,
        suite,
        1,
        ProducerConfig {
            block_interval_ms: 50,
            max_block_txs: 1000,
            empty_blocks: true,
        },
        keel_rpc::RpcConfig::default(),
    );
    Harness {
        url,
        port,
        node,
        alice,
        _keep: keep,
        agent,
    }
}

impl Harness {
    fn call(&self, method: &str, params: Value) -> Value {
        let mut r = self
            .agent
            .post(&self.url)
            .send_json(json!({"jsonrpc":"2.0","id":1,"method":method,"params":params}))
            .unwrap();
        r.body_mut().read_json().unwrap()
    }

    fn ok(&self, method: &str, params: Value) -> Value {
        let v = self.call(method, params);
        assert!(v.get("error").is_none(), "{method}: {v}");
        v["result"].clone()
    }

    fn get(&self, path: &str) -> (u16, Vec<(String, String)>, String) {
        let mut r = self
            .agent
            .get(&format!("{}{path}", self.url))
            .call()
            .unwrap();
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

    /// Open `GET /events`; returns the socket after the status line, and the status code.
    fn open_events(&self) -> (BufReader<TcpStream>, u16) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(common::WAIT)).unwrap();
        write!(
            s,
            "GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let code = line.split(' ').nth(1).unwrap().parse().unwrap();
        (r, code)
    }
}

fn wait_receipt(h: &Harness, hash: &Value) {
    common::wait_for("a receipt", || {
        (!h.ok("keel_getReceipt", json!([hash])).is_null()).then_some(())
    });
}

#[test]
fn tx_proof_and_validators() {
    let h = start();
    let suite = Suite::Gm;
    let mut hashes = Vec::new();
    let mut txs = Vec::new();
    for nonce in 0..3 {
        let mut t = Transaction {
            chain_id: CHAIN_ID,
            nonce,
            expires_at_height: h.node.head().height + 100,
            gas_limit: 0,
            signer: Signer {
                scheme: h.alice.scheme(),
                public_key: h.alice.public_key(),
            },
            payload: Payload::Transfer {
                to: Address([9; 20]),
                amount: 1,
            },
        };
        t.gas_limit = t.intrinsic_gas();
        txs.push(format!("0x{}", hex::encode(t.sign(&h.alice).encode())));
    }
    for r in h
        .ok("keel_sendTransactions", json!([txs]))
        .as_array()
        .unwrap()
    {
        hashes.push(r["hash"].clone());
    }
    for x in &hashes {
        wait_receipt(&h, x);
    }
    let alg = suite.hash();
    for x in &hashes {
        let p = h.ok("keel_getTxProof", json!([x]));
        assert_eq!(p["txHash"], *x);
        assert_eq!(p["hashAlgorithm"], "sm3");
        assert_eq!(
            p["headerHashDomain"],
            format!("0x{}", hex::encode(b"KEEL/HEADER/v1\0"))
        );
        let header = Header::decode(
            &hex::decode(p["header"].as_str().unwrap().trim_start_matches("0x")).unwrap(),
        )
        .unwrap();
        assert_eq!(p["headerHash"], json!(header.hash(alg)));
        assert_eq!(p["txRoot"], json!(header.tx_root));
        assert_eq!(p["txCount"], header.tx_count);
        let block = h.ok("keel_getBlock", json!([p["height"]]));
        assert_eq!(block["hash"], p["headerHash"]);
        // The raw tx hashes to the tx hash; the path has the expected length for its tree.
        let raw = hex::decode(p["rawTx"].as_str().unwrap().trim_start_matches("0x")).unwrap();
        assert_eq!(json!(Hash(alg.digest(&raw))), *x);
        let path_len = p["auditPath"].as_array().unwrap().len();
        let n = header.tx_count as usize;
        assert!(
            path_len <= usize::BITS as usize && (n <= 1) == (path_len == 0),
            "{p}"
        );
    }
    // Unknown hash: null; bad params: INVALID_PARAMS.
    assert!(h.ok("keel_getTxProof", json!([Hash([3; 32])])).is_null());
    for bad in [
        json!([]),
        json!(["0x12"]),
        json!([1]),
        json!([Hash([3; 32]), 1]),
        json!({}),
    ] {
        let v = h.call("keel_getTxProof", bad.clone());
        assert_eq!(v["error"]["code"], -32602, "{bad}: {v}");
    }
    let v = h.call("keel_validators", json!([1]));
    assert_eq!(v["error"]["code"], -32602, "{v}");

    let st = h.ok("keel_status", json!([]));
    assert_eq!(st["healthy"], true, "{st}");
    let v = h.ok("keel_validators", json!([]));
    let members = v["members"].as_array().unwrap();
    assert_eq!(members.len(), 1);
    let m = &members[0];
    assert_eq!(m["name"], "solo");
    assert_eq!(m["role"], "validator");
    assert_eq!(m["isSelf"], true);
    assert_eq!(m["online"], true);
    assert!(m["certificateExpiry"].is_null());
    // Solo blocks carry the validator's signature: the last signed block is recent.
    assert!(m["lag"].as_u64().unwrap() <= 2, "{v}");
    assert!(v["scannedBlocks"].as_u64().unwrap() >= 1);
}

#[test]
fn ui_files_events_and_metrics() {
    let h = start();
    let (code, headers, body) = h.get("/ui/");
    assert_eq!(code, 200);
    let header = |hs: &[(String, String)], k: &str| {
        hs.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert!(header(&headers, "content-type").starts_with("text/html"));
    assert!(header(&headers, "content-security-policy").contains("script-src 'self'"));
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    for (file, ctype) in [
        ("app.js", "text/javascript"),
        ("hash.js", "text/javascript"),
        ("style.css", "text/css"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        assert!(body.contains(file), "index.html does not reference {file}");
        let (code, headers, body) = h.get(&format!("/ui/{file}"));
        assert_eq!(code, 200, "{file}");
        assert!(
            header(&headers, "content-type").starts_with(ctype),
            "{file}"
        );
        assert!(!body.is_empty());
    }
    for missing in ["/ui/none.js", "/ui/..%2Fsrc%2Flib.rs", "/ui/app.js/x"] {
        assert_eq!(h.get(missing).0, 404, "{missing}");
    }
    let (code, headers, _) = h.get("/ui");
    assert_eq!(code, 308);
    assert_eq!(header(&headers, "location"), "/ui/");

    // Events: a head (growing heights) and a status event.
    {
        let (mut r, code) = h.open_events();
        assert_eq!(code, 200);
        let mut heights = Vec::new();
        let mut status = false;
        let mut line = String::new();
        for _ in 0..10_000 {
            line.clear();
            if r.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if let Some(d) = line.strip_prefix("data: ") {
                let v: Value = serde_json::from_str(d.trim()).unwrap();
                if v.get("diagnosis").is_some() {
                    status = true;
                } else {
                    heights.push(v["height"].as_u64().unwrap());
                    assert!(v["hash"].is_string() && v["transactions"].is_array());
                }
            }
            if status && heights.len() >= 3 {
                break;
            }
        }
        assert!(status, "no status event");
        assert!(
            heights.len() >= 3 && heights.windows(2).all(|w| w[0] < w[1]),
            "{heights:?}"
        );
    }

    // The client limit: MAX_EVENT_CLIENTS streams, then 503; closing them frees the slots.
    let mut open = Vec::new();
    for _ in 0..keel_rpc::MAX_EVENT_CLIENTS {
        let (r, code) = h.open_events();
        assert_eq!(code, 200);
        open.push(r);
    }
    let (_, code) = h.open_events();
    assert_eq!(code, 503);
    let metrics = |h: &Harness| h.get("/metrics").2;
    assert!(metrics(&h).contains(&format!(
        "keel_rpc_events_clients {}",
        keel_rpc::MAX_EVENT_CLIENTS
    )));
    for r in open.drain(..) {
        let _ = r.into_inner().shutdown(std::net::Shutdown::Both);
    }
    // The server notices a closed stream at its next write (≤ 200 ms poll).
    common::wait_for("event clients released", || {
        metrics(&h)
            .contains("keel_rpc_events_clients 0")
            .then_some(())
    });
    let (mut r, code) = h.open_events();
    assert_eq!(code, 200);
    let mut buf = [0u8; 64];
    assert!(r.read(&mut buf).unwrap() > 0);

    // Every /metrics family is documented, the new ones included.
    let text = metrics(&h);
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/metrics.md"
    ))
    .unwrap();
    let mut families = 0;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(
                doc.contains(&format!("| `{name}` | {kind} |")),
                "docs/metrics.md lacks {name}"
            );
            families += 1;
        }
    }
    for f in [
        "keel_execution_gas_used_total",
        "keel_storage_commit_seconds_count",
        "keel_storage_disk_bytes",
        "keel_rpc_request_seconds_bucket",
        "keel_chain_head_txs",
    ] {
        assert!(text.contains(f), "{f} missing from /metrics");
    }
    assert!(families >= 20, "{families}");
}

#[test]
fn shutdown_ends_open_event_streams() {
    let h = start();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let listener = h
        ._keep
        .rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = h._keep.rt.spawn(keel_rpc::serve(
        h.node.clone(),
        listener,
        keel_rpc::RpcConfig::default(),
        async move {
            let _ = rx.await;
        },
    ));
    // A browser tab with the UI open: an event stream that never ends by itself.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(common::WAIT)).unwrap();
    write!(s, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.contains(" 200 "), "{line}");
    tx.send(()).unwrap();
    // (The server has no grace period: it would never finish if it waited for the stream.)
    common::wait_for("graceful shutdown despite an open /events stream", || {
        served.is_finished().then_some(())
    });
    // The stream ended: the socket reaches end of file.
    let mut rest = Vec::new();
    let _ = r.read_to_end(&mut rest);
    assert!(h._keep.rt.block_on(served).unwrap().is_ok());
}
