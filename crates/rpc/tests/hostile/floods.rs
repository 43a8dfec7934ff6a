//! Floods and slow clients, each answered with its documented code; a bystander's filters.

use super::{Harness, WAIT_BOUND, call, client, limits};
use client::Ws;
use serde_json::{Value, json};
use std::io::Write;
use std::time::{Duration, Instant};

/// A well-behaved client's HTTP filters, installed first and checked last.
pub struct Bystander {
    logs: String,
    blocks: String,
    logs_before: Value,
}

impl Bystander {
    pub fn install(h: &Harness) -> Bystander {
        let filter =
            json!([{"address": "0x0707070707070707070707070707070707070707", "fromBlock": "0x0"}]);
        let logs = h.ok("eth_newFilter", filter).as_str().unwrap().to_string();
        let blocks = h
            .ok("eth_newBlockFilter", json!([]))
            .as_str()
            .unwrap()
            .to_string();
        let logs_before = h.ok("eth_getFilterLogs", json!([logs]));
        Bystander {
            logs,
            blocks,
            logs_before,
        }
    }

    /// Ids are 128 random bits, not a counter.
    pub fn ids_are_random(&self) {
        for id in [&self.logs, &self.blocks] {
            assert_eq!(id.len(), 2 + 32, "{id}");
        }
        assert_ne!(self.logs, self.blocks);
    }

    pub fn unchanged(&self, h: &Harness) {
        assert_eq!(
            h.ok("eth_getFilterLogs", json!([self.logs])),
            self.logs_before
        );
        let changes = h.ok("eth_getFilterChanges", json!([self.blocks]));
        assert!(changes.is_array(), "{changes}");
    }
}

/// A body that stalls and one that trickles get 408 / 1104; stalled headers are cut off.
pub fn slow_clients(h: &Harness) {
    let lim = limits();
    let bound = Duration::from_millis(lim.body_read_timeout_ms) * 3 + WAIT_BOUND;
    for trickle in [false, true] {
        let mut s = client::connect(h.port);
        s.write_all(
            b"POST / HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n\
              content-length: 1000\r\n\r\n{\"jsonrpc\"",
        )
        .unwrap();
        let writer = trickle.then(|| {
            let mut w = s.try_clone().unwrap();
            std::thread::spawn(move || {
                // One byte every 100 ms, far less than the 1,000 announced before the deadline.
                for _ in 0..600 {
                    if w.write_all(b" ").is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        });
        let started = Instant::now();
        let (status, v) = client::read_response(&mut s).expect("a 408 reply");
        assert_eq!(
            (status, v["error"]["code"].as_i64()),
            (408, Some(1104)),
            "{v}"
        );
        assert!(started.elapsed() < bound);
        drop(s);
        if let Some(w) = writer {
            w.join().unwrap();
        }
    }
    let mut s = client::connect(h.port);
    s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let bound = Duration::from_millis(lim.header_read_timeout_ms) * 3 + WAIT_BOUND;
    assert!(
        client::closed_within(&mut s, bound),
        "stalled headers kept the connection"
    );
}

/// Connections beyond the per-IP cap get 503 / 1105 and are closed; once they are gone the
/// server serves again.
pub fn connection_flood(h: &Harness) {
    let cap = limits().max_connections_per_ip;
    // Open one more than the cap at once (the agent's pooled connections count too), then
    // look for the refusal: it is written at accept; an accepted connection waits for a
    // request, so it is probed only briefly (all within the header timeout).
    let mut open: Vec<_> = (0..=cap).map(|_| client::connect(h.port)).collect();
    let mut refusals = Vec::new();
    for s in &mut open {
        s.set_read_timeout(Some(Duration::from_millis(30))).unwrap();
        if let Some(reply) = client::read_response(s) {
            refusals.push(reply);
        }
    }
    assert!(
        !refusals.is_empty(),
        "{} connections from one IP accepted",
        open.len()
    );
    for (status, v) in &refusals {
        assert_eq!(
            (*status, v["error"]["code"].as_i64()),
            (503, Some(1105)),
            "{v}"
        );
    }
    drop(open);
    let started = Instant::now();
    loop {
        let (status, v) = h.post(&call("eth_chainId", json!([])));
        if status == 200 {
            assert!(v["result"].is_string(), "{v}");
            break;
        }
        assert!(
            started.elapsed() < WAIT_BOUND,
            "server did not recover: {status} {v}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// WebSocket caps, subscription caps and sizes, per-connection filters, idle timeout.
pub fn websockets(h: &Harness) {
    let cap = limits().max_ws_connections_per_ip;
    let mut socks: Vec<Ws> = (0..cap)
        .map(|_| Ws::open(h.port).expect("under the cap"))
        .collect();
    let Err((status, v)) = Ws::open(h.port) else {
        panic!("a WebSocket over the per-IP cap was accepted");
    };
    assert_eq!(
        (status, v["error"]["code"].as_i64()),
        (503, Some(1105)),
        "{v}"
    );

    let ws = &mut socks[0];
    for i in 0..64 {
        let r = ws.call("eth_subscribe", json!(["newHeads"]));
        assert!(r["result"].is_string(), "subscription {i}: {r}");
    }
    let r = ws.call("eth_subscribe", json!(["newHeads"]));
    assert_eq!(r["error"]["code"], -32005, "{r}");

    let addrs: Vec<String> = (0..1_000).map(|i| format!("0x{i:040x}")).collect();
    let ws = &mut socks[1];
    for i in 0..10 {
        let r = ws.call("eth_subscribe", json!(["logs", {"address": addrs}]));
        assert!(r["result"].is_string(), "subscription {i}: {r}");
    }
    let r = ws.call("eth_subscribe", json!(["logs", {"address": addrs}]));
    assert_eq!(r["error"]["code"], -32005, "criteria over budget: {r}");

    // A connection's filter is its own.
    let id = socks[2].call("eth_newBlockFilter", json!([]));
    let id = id["result"].as_str().unwrap().to_string();
    assert_eq!(
        socks[3].call("eth_uninstallFilter", json!([id]))["result"],
        false
    );
    assert_eq!(h.ok("eth_uninstallFilter", json!([id])), false);
    let r = socks[3].call("eth_getFilterChanges", json!([id]));
    assert_eq!(r["error"]["code"], -32000, "{r}");
    let r = socks[2].call("eth_getFilterChanges", json!([id]));
    assert!(r["result"].is_array(), "{r}");
    drop(socks);
}

/// Filters: a count cap and a size cap, both -32005; guessing ids uninstalls nothing.
pub fn filter_flood(h: &Harness) {
    for guess in 0..64u32 {
        assert_eq!(
            h.ok("eth_uninstallFilter", json!([format!("0x{guess:x}")])),
            false
        );
    }
    let addrs: Vec<String> = (0..1_000).map(|i| format!("0x{i:040x}")).collect();
    let mut mine = Vec::new();
    let big =
        json!({"jsonrpc":"2.0","id":1,"method":"eth_newFilter","params":[{"address": addrs}]});
    let refused = loop {
        assert!(
            mine.len() <= 200,
            "{} filters of 1,000 addresses",
            mine.len()
        );
        let (_, v) = h.post(big.to_string().as_bytes());
        match v["result"].as_str() {
            Some(id) => mine.push(id.to_string()),
            None => break v,
        }
    };
    assert_eq!(refused["error"]["code"], -32005, "{refused}");
    uninstall(h, &mut mine);
    let batch: Vec<Value> = (0..100)
        .map(|i| json!({"jsonrpc":"2.0","id":i,"method":"eth_newBlockFilter"}))
        .collect();
    let body = Value::Array(batch).to_string();
    let refused = 'flood: loop {
        assert!(mine.len() <= 1_100, "{} filters installed", mine.len());
        let (_, v) = h.post(body.as_bytes());
        for r in v.as_array().unwrap() {
            match r["result"].as_str() {
                Some(id) => mine.push(id.to_string()),
                None => break 'flood r.clone(),
            }
        }
    };
    assert_eq!(refused["error"]["code"], -32005, "{refused}");
    uninstall(h, &mut mine);
}

fn uninstall(h: &Harness, ids: &mut Vec<String>) {
    for chunk in ids.chunks(100) {
        let batch: Vec<Value> = chunk
            .iter()
            .map(|id| json!({"jsonrpc":"2.0","id":1,"method":"eth_uninstallFilter","params":[id]}))
            .collect();
        let (_, v) = h.post(Value::Array(batch).to_string().as_bytes());
        assert!(
            v.as_array().unwrap().iter().all(|r| r["result"] == true),
            "{v}"
        );
    }
    ids.clear();
}

/// `threads` clients send batches of creations at the gas cap at once. Every call ends with a
/// documented code: halted at the cap (-32000), server busy (1102), budget (1103) or deadline
/// (1104). Blocks commit meanwhile. Returns a summary.
pub fn evm_flood(h: &Harness, threads: usize) -> String {
    let batch: Vec<Value> = (0..5)
        .map(|i| json!({"jsonrpc":"2.0","id":i,"method":"eth_call","params":[{"input": "0x5b5f56"}]}))
        .collect();
    let body = Value::Array(batch).to_string();
    let started = Instant::now();
    let cpu = client::cpu_ticks();
    let codes = std::thread::scope(|s| {
        let clients: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut codes = Vec::new();
                    for _ in 0..3 {
                        let (_, v) = h.post(body.as_bytes());
                        let replies = v.as_array().cloned().unwrap_or_else(|| vec![v]);
                        codes.extend(replies.iter().map(|r| r["error"]["code"].as_i64()));
                    }
                    codes
                })
            })
            .collect();
        let height = h.still_commits(super::cases::ALICE_NONCE_AFTER_TABLE);
        let mut all: Vec<Option<i64>> = Vec::new();
        for c in clients {
            all.extend(c.join().unwrap());
        }
        (all, height)
    });
    let (codes, height) = codes;
    for c in &codes {
        assert!(
            matches!(c, Some(-32000 | 1102 | 1103 | 1104)),
            "undocumented outcome {c:?} in {codes:?}"
        );
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu_s = (client::cpu_ticks() - cpu) as f64 / 100.0;
    let busy = codes.iter().filter(|c| **c == Some(1102)).count();
    format!(
        "{} calls from {threads} clients in {wall:.1} s, {cpu_s:.1} s CPU, {busy} busy; a \
         block committed at height {height} meanwhile",
        codes.len()
    )
}
