//! JSON-RPC over WebSocket (`GET /ws`): every method of `POST /`, plus `eth_subscribe` /
//! `eth_unsubscribe` for `newHeads` and `logs` (ADR 0009). Bounded: message size
//! [`MAX_WS_MESSAGE`], [`MAX_SUBSCRIPTIONS`] per connection, at most [`MAX_BLOCKS_PER_TICK`]
//! blocks of notifications per poll.

use crate::eth::{self, EthError, LogFilter};
use crate::server::App;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// Largest incoming WebSocket message.
pub const MAX_WS_MESSAGE: usize = 2 * 1024 * 1024;
/// Most subscriptions per connection.
pub const MAX_SUBSCRIPTIONS: usize = 64;
/// Most blocks reported per poll (a lagging subscriber catches up over several polls).
pub const MAX_BLOCKS_PER_TICK: u64 = 64;
/// How often subscriptions look for new blocks.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

pub(crate) async fn upgrade(ws: WebSocketUpgrade, State(app): State<App>) -> Response {
    ws.max_message_size(MAX_WS_MESSAGE)
        .on_upgrade(move |socket| serve(socket, app))
}

#[derive(Clone)]
enum Sub {
    NewHeads,
    Logs(LogFilter),
}

async fn serve(mut socket: WebSocket, app: App) {
    let mut subs: HashMap<String, Sub> = HashMap::new();
    let mut next_sub = 0u64;
    let mut seen = app.node.head().height;
    let mut tick = tokio::time::interval(POLL_INTERVAL);
    loop {
        tokio::select! {
            msg = socket.recv() => {
                let Some(Ok(msg)) = msg else { return };
                let text = match msg {
                    Message::Text(t) => t.to_string(),
                    Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
                    Message::Close(_) => return,
                    _ => continue,
                };
                let reply = handle(&app, &mut subs, &mut next_sub, text).await;
                if let Some(r) = reply
                    && socket.send(Message::Text(r.to_string().into())).await.is_err()
                {
                    return;
                }
            }
            _ = tick.tick() => {
                if subs.is_empty() {
                    seen = app.node.head().height;
                    continue;
                }
                let head = app.node.head().height;
                if head <= seen {
                    continue;
                }
                let to = head.min(seen + MAX_BLOCKS_PER_TICK);
                let node = app.node.clone();
                let subs_now = subs.clone();
                let from = seen + 1;
                let out = tokio::task::spawn_blocking(move || notifications(&node, &subs_now, from, to)).await;
                seen = to;
                let Ok(out) = out else { continue };
                for n in out {
                    if socket.send(Message::Text(n.to_string().into())).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

fn notifications(
    node: &keel_node::Node,
    subs: &HashMap<String, Sub>,
    from: u64,
    to: u64,
) -> Vec<Value> {
    let mut out = Vec::new();
    for h in from..=to {
        for (id, sub) in subs {
            let results: Vec<Value> = match sub {
                Sub::NewHeads => eth::head_json(node, h).ok().flatten().into_iter().collect(),
                Sub::Logs(f) => eth::query_logs(node, f, h, h).unwrap_or_default(),
            };
            for r in results {
                out.push(json!({
                    "jsonrpc": "2.0",
                    "method": "eth_subscription",
                    "params": { "subscription": id, "result": r },
                }));
            }
        }
    }
    out
}

async fn handle(
    app: &App,
    subs: &mut HashMap<String, Sub>,
    next_sub: &mut u64,
    text: String,
) -> Option<Value> {
    let Ok(parsed) = serde_json::from_str::<Value>(&text) else {
        let err = crate::RpcError::parse("message is not valid JSON");
        return Some(json!({ "jsonrpc": "2.0", "id": Value::Null, "error": err.to_json() }));
    };
    let method = parsed
        .get("method")
        .and_then(|m| m.as_str())
        .unwrap_or_default();
    if method == "eth_subscribe" || method == "eth_unsubscribe" {
        let id = parsed.get("id").cloned().unwrap_or(Value::Null);
        let params = parsed
            .get("params")
            .and_then(|p| p.as_array())
            .cloned()
            .unwrap_or_default();
        let result = if method == "eth_subscribe" {
            subscribe(subs, next_sub, &params)
        } else {
            let sid = params.first().and_then(|v| v.as_str()).unwrap_or_default();
            Ok(json!(subs.remove(sid).is_some()))
        };
        return Some(match result {
            Ok(v) => json!({ "jsonrpc": "2.0", "id": id, "result": v }),
            Err(e) => json!({ "jsonrpc": "2.0", "id": id, "error": e.to_json() }),
        });
    }
    let node = app.node.clone();
    let counters = app.counters.clone();
    let eth = app.eth.clone();
    tokio::task::spawn_blocking(move || {
        crate::server::process(&node, &counters, &eth, text.as_bytes())
    })
    .await
    .ok()
    .flatten()
}

fn subscribe(
    subs: &mut HashMap<String, Sub>,
    next_sub: &mut u64,
    params: &[Value],
) -> Result<Value, EthError> {
    if subs.len() >= MAX_SUBSCRIPTIONS {
        return Err(EthError {
            code: -32005,
            message: format!("{MAX_SUBSCRIPTIONS} subscriptions on this connection"),
            data: None,
            name: "LIMIT_EXCEEDED",
        });
    }
    let sub = match params.first().and_then(|v| v.as_str()) {
        Some("newHeads") => Sub::NewHeads,
        Some("logs") => Sub::Logs(LogFilter::parse(params.get(1))?),
        other => {
            return Err(EthError {
                code: -32602,
                message: format!("unsupported subscription {other:?} (newHeads, logs)"),
                data: None,
                name: "INVALID_PARAMS",
            });
        }
    };
    *next_sub += 1;
    let id = format!("0x{:x}", *next_sub);
    subs.insert(id.clone(), sub);
    Ok(json!(id))
}
