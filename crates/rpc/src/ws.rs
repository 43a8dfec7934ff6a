//! JSON-RPC over WebSocket (`GET /ws`): every method of `POST /`, plus `eth_subscribe` /
//! `eth_unsubscribe` for `newHeads` and `logs` (ADR 0009). Bounded: open connections
//! (`rpc.max_ws_connections`, per IP `rpc.max_ws_connections_per_ip`), an idle timeout
//! (`rpc.ws_idle_timeout_ms`, the server pings), message size [`MAX_WS_MESSAGE`],
//! [`MAX_SUBSCRIPTIONS`] per connection holding at most [`MAX_WS_FILTER_CRITERIA`] addresses and
//! topics, at most [`MAX_BLOCKS_PER_TICK`] blocks of notifications per poll. Filters installed
//! over a connection (`eth_newFilter`) belong to it: no other client can see or remove them.

use crate::eth::{self, EthError, EthState, LogFilter};
use crate::server::App;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest incoming WebSocket message.
pub const MAX_WS_MESSAGE: usize = 2 * 1024 * 1024;
/// Most subscriptions per connection.
pub const MAX_SUBSCRIPTIONS: usize = 64;
/// Most addresses plus topics over one connection's log subscriptions, and again over its
/// installed filters (≈ 32 bytes each).
pub const MAX_WS_FILTER_CRITERIA: usize = 10_000;
/// Most filters installed over one connection (`eth_newFilter`, `eth_newBlockFilter`).
pub const MAX_WS_FILTERS: usize = 16;
/// Most blocks reported per poll (a lagging subscriber catches up over several polls).
pub const MAX_BLOCKS_PER_TICK: u64 = 64;
/// How often subscriptions look for new blocks.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

pub(crate) async fn upgrade(State(app): State<App>, req: Request) -> Response {
    let (mut parts, _) = req.into_parts();
    // Set by the accept loop; absent when the router is served some other way.
    let ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &app).await {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let limits = app.cfg.limits;
    let slot = match app.work.ws.open(
        ip,
        limits.max_ws_connections,
        limits.max_ws_connections_per_ip,
    ) {
        Ok(slot) => slot,
        Err(e) => {
            let body = json!({ "jsonrpc": "2.0", "id": Value::Null, "error": e.to_json() });
            return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
        }
    };
    ws.max_message_size(MAX_WS_MESSAGE)
        .on_upgrade(move |socket| async move {
            serve(socket, app).await;
            drop(slot);
        })
}

#[derive(Clone)]
enum Sub {
    NewHeads,
    Logs(LogFilter),
}

/// A connection's subscriptions; shared with the notification job without copying filters.
type Subs = Arc<BTreeMap<String, Sub>>;

async fn serve(mut socket: WebSocket, app: App) {
    let filters = Arc::new(EthState::new(MAX_WS_FILTERS, MAX_WS_FILTER_CRITERIA));
    let mut subs: Subs = Arc::default();
    let mut seen = app.node.head().height;
    let mut tick = tokio::time::interval(POLL_INTERVAL);
    let idle = Duration::from_millis(app.cfg.limits.ws_idle_timeout_ms.max(2));
    let mut ping = tokio::time::interval(idle / 2);
    let mut heard = Instant::now();
    let mut closing = app.closing.clone();
    loop {
        tokio::select! {
            msg = socket.recv() => {
                let Some(Ok(msg)) = msg else { return };
                heard = Instant::now();
                let text = match msg {
                    Message::Text(t) => t.to_string(),
                    Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
                    Message::Close(_) => return,
                    _ => continue,
                };
                let reply = handle(&app, &filters, &mut subs, text).await;
                if let Some(r) = reply
                    && socket.send(Message::Text(r.to_string().into())).await.is_err()
                {
                    return;
                }
            }
            _ = ping.tick() => {
                if heard.elapsed() >= idle {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
            _ = async { closing.as_mut()?.wait_for(|c| *c).await.ok().map(|_| ()) }, if closing.is_some() => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
            _ = tick.tick() => {
                let head = app.node.head().height;
                if subs.is_empty() || head <= seen {
                    seen = seen.max(head);
                    continue;
                }
                let to = head.min(seen + MAX_BLOCKS_PER_TICK);
                let (from, now) = (seen + 1, subs.clone());
                let out = crate::server::run_blocking(&app, move |app, _| {
                    notifications(&app.node, &now, from, to)
                })
                .await;
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

/// Notifications for blocks `from..=to`; each block's logs are read once for all
/// subscriptions.
fn notifications(node: &keel_node::Node, subs: &Subs, from: u64, to: u64) -> Vec<Value> {
    let logs: Vec<(&String, &LogFilter)> = subs
        .iter()
        .filter_map(|(id, s)| match s {
            Sub::Logs(f) => Some((id, f)),
            Sub::NewHeads => None,
        })
        .collect();
    let heads: Vec<&String> = subs
        .iter()
        .filter_map(|(id, s)| matches!(s, Sub::NewHeads).then_some(id))
        .collect();
    let note = |id: &String, r: Value| {
        json!({
            "jsonrpc": "2.0",
            "method": "eth_subscription",
            "params": { "subscription": id, "result": r },
        })
    };
    let mut out = Vec::new();
    for h in from..=to {
        if !heads.is_empty()
            && let Ok(Some(head)) = eth::head_json(node, h)
        {
            out.extend(heads.iter().map(|id| note(id, head.clone())));
        }
        if logs.is_empty() {
            continue;
        }
        let filters: Vec<&LogFilter> = logs.iter().map(|(_, f)| *f).collect();
        let Ok(matched) = eth::block_matches(node, h, &filters) else {
            continue;
        };
        for ((id, _), found) in logs.iter().zip(matched) {
            out.extend(found.into_iter().map(|r| note(id, r)));
        }
    }
    out
}

async fn handle(
    app: &App,
    filters: &Arc<EthState>,
    subs: &mut Subs,
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
        let empty = Vec::new();
        let params = parsed
            .get("params")
            .and_then(|p| p.as_array())
            .unwrap_or(&empty);
        let result = if method == "eth_subscribe" {
            subscribe(subs, params)
        } else {
            let sid = params.first().and_then(|v| v.as_str()).unwrap_or_default();
            Ok(json!(Arc::make_mut(subs).remove(sid).is_some()))
        };
        return Some(match result {
            Ok(v) => json!({ "jsonrpc": "2.0", "id": id, "result": v }),
            Err(e) => json!({ "jsonrpc": "2.0", "id": id, "error": e.to_json() }),
        });
    }
    let filters = filters.clone();
    let out = crate::server::run_blocking(app, move |app, budget| {
        crate::server::process(app, &filters, budget, text.as_bytes())
    })
    .await;
    match out {
        Ok(v) => v,
        Err(e) => Some(json!({ "jsonrpc": "2.0", "id": Value::Null, "error": e.to_json() })),
    }
}

fn subscribe(subs: &mut Subs, params: &[Value]) -> Result<Value, EthError> {
    if subs.len() >= MAX_SUBSCRIPTIONS {
        return Err(eth::limit_exceeded(format!(
            "{MAX_SUBSCRIPTIONS} subscriptions on this connection"
        )));
    }
    let sub = match params.first().and_then(|v| v.as_str()) {
        Some("newHeads") => Sub::NewHeads,
        Some("logs") => {
            let f = LogFilter::parse(params.get(1))?;
            let held: usize = subs
                .values()
                .map(|s| match s {
                    Sub::Logs(f) => f.criteria(),
                    Sub::NewHeads => 0,
                })
                .sum();
            if held + f.criteria() > MAX_WS_FILTER_CRITERIA {
                return Err(eth::limit_exceeded(format!(
                    "this connection's subscriptions would hold over {MAX_WS_FILTER_CRITERIA} \
                     addresses and topics"
                )));
            }
            Sub::Logs(f)
        }
        other => {
            return Err(EthError {
                code: -32602,
                message: format!("unsupported subscription {other:?} (newHeads, logs)"),
                data: None,
                name: "INVALID_PARAMS",
            });
        }
    };
    let (_, id) = eth::random_id()?;
    Arc::make_mut(subs).insert(id.clone(), sub);
    Ok(json!(id))
}
