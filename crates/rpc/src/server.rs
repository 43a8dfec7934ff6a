//! HTTP transport.

use crate::error::RpcError;
use crate::metrics::{self, RpcCounters};
use crate::{MAX_BATCH, methods};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use keel_node::Node;
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;

/// Transport limits.
#[derive(Clone, Copy, Debug)]
pub struct RpcConfig {
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            max_body_bytes: 2 * 1024 * 1024,
        }
    }
}

#[derive(Clone)]
pub(crate) struct App {
    pub(crate) node: Arc<Node>,
    cfg: RpcConfig,
    pub(crate) counters: Arc<RpcCounters>,
    /// Becomes true when [`serve`] is shutting down: long-lived responses (`/events`) end so
    /// the graceful shutdown does not wait for browsers to close their tabs.
    pub(crate) closing: Option<tokio::sync::watch::Receiver<bool>>,
    /// Ethereum filters (ADR 0009).
    pub(crate) eth: Arc<crate::eth::EthState>,
}

/// The HTTP router: `POST /` JSON-RPC, `GET /health` liveness, `GET /metrics` Prometheus,
/// `GET /ui/` the web UI and `GET /events` its live event stream.
pub fn router(node: Arc<Node>, cfg: RpcConfig) -> Router {
    router_with(node, cfg, None)
}

fn router_with(
    node: Arc<Node>,
    cfg: RpcConfig,
    closing: Option<tokio::sync::watch::Receiver<bool>>,
) -> Router {
    Router::new()
        .route("/", post(handle))
        .route("/health", get(health))
        .route("/metrics", get(prometheus))
        .route("/events", get(crate::web::events))
        .route("/ui", get(crate::web::ui_root))
        .route("/ui/", get(crate::web::ui_index))
        .route("/ui/{file}", get(crate::web::ui_file))
        .route("/ws", get(crate::ws::upgrade))
        .with_state(App {
            node,
            cfg,
            counters: Arc::new(RpcCounters::default()),
            closing,
            eth: Arc::new(crate::eth::EthState::default()),
        })
}

/// Serve until `shutdown` resolves; then open event streams end and in-flight requests finish.
pub async fn serve(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    cfg: RpcConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
    axum::serve(listener, router_with(node, cfg, Some(closing_rx)))
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = closing_tx.send(true);
        })
        .await
}

async fn prometheus(State(app): State<App>) -> Response {
    let text = metrics::render(&app.node, &app.counters);
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

async fn health(State(app): State<App>) -> Response {
    let head = app.node.head();
    match app.node.halted() {
        None => (StatusCode::OK, format!("ok height={}\n", head.height)).into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("halted height={} reason={reason}\n", head.height),
        )
            .into_response(),
    }
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut r = (status, v.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn error_response(status: StatusCode, e: &RpcError) -> Response {
    json_response(
        status,
        &json!({ "jsonrpc": "2.0", "id": Value::Null, "error": e.to_json() }),
    )
}

async fn handle(State(app): State<App>, req: Request<Body>) -> Response {
    let limit = app.cfg.max_body_bytes;
    let bytes = match axum::body::to_bytes(req.into_body(), limit).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(StatusCode::PAYLOAD_TOO_LARGE, &RpcError::too_large(limit));
        }
    };
    let node = app.node.clone();
    let counters = app.counters.clone();
    let started = std::time::Instant::now();
    let eth = app.eth.clone();
    let out = tokio::task::spawn_blocking(move || process(&node, &counters, &eth, &bytes)).await;
    app.counters.record_request(started.elapsed());
    match out {
        Ok(Some(v)) => json_response(StatusCode::OK, &v),
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &RpcError::internal(e.to_string()),
        ),
    }
}

/// Process a request body: a single call or a batch. `None` when only notifications came.
pub(crate) fn process(
    node: &Node,
    counters: &RpcCounters,
    eth: &crate::eth::EthState,
    body: &[u8],
) -> Option<Value> {
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            let err = RpcError::parse(format!("request is not valid JSON: {e}"));
            return Some(json!({ "jsonrpc": "2.0", "id": Value::Null, "error": err.to_json() }));
        }
    };
    match parsed {
        Value::Array(calls) => {
            if calls.is_empty() {
                let err = RpcError::invalid_request("empty batch");
                return Some(
                    json!({ "jsonrpc": "2.0", "id": Value::Null, "error": err.to_json() }),
                );
            }
            if calls.len() > MAX_BATCH {
                let err = RpcError::batch_too_large(calls.len(), MAX_BATCH);
                return Some(
                    json!({ "jsonrpc": "2.0", "id": Value::Null, "error": err.to_json() }),
                );
            }
            let out: Vec<Value> = calls
                .iter()
                .filter_map(|c| call(node, counters, eth, c))
                .collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        single => call(node, counters, eth, &single),
    }
}

fn call(
    node: &Node,
    counters: &RpcCounters,
    eth: &crate::eth::EthState,
    c: &Value,
) -> Option<Value> {
    let Some(obj) = c.as_object() else {
        let err = RpcError::invalid_request("a call must be a JSON object");
        return Some(json!({ "jsonrpc": "2.0", "id": Value::Null, "error": err.to_json() }));
    };
    let id = obj.get("id").cloned();
    let reply = |result: Result<Value, crate::eth::EthError>| {
        let id = id.clone().unwrap_or(Value::Null);
        match result {
            Ok(v) => json!({ "jsonrpc": "2.0", "id": id, "result": v }),
            Err(e) => json!({ "jsonrpc": "2.0", "id": id, "error": e.to_json() }),
        }
    };
    if obj.get("jsonrpc").and_then(|v| v.as_str()) != Some("2.0") {
        return Some(reply(Err(RpcError::invalid_request(
            "\"jsonrpc\" must be \"2.0\"",
        )
        .into())));
    }
    let Some(method) = obj.get("method").and_then(|m| m.as_str()) else {
        return Some(reply(Err(RpcError::invalid_request(
            "\"method\" must be a string",
        )
        .into())));
    };
    let params = obj.get("params").unwrap_or(&Value::Null);
    // Ethereum methods (ADR 0009) have their own error codes and `data`.
    let result = if crate::eth::is_eth_method(method) {
        crate::eth::dispatch(node, eth, method, params)
    } else {
        methods::dispatch(node, method, params).map_err(Into::into)
    };
    counters.record(
        method,
        result.as_ref().map(|_| "ok").unwrap_or_else(|e| e.name),
    );
    if let Err(e) = &result {
        tracing::debug!(method, code = e.code, message = %e.message, "rpc error");
    }
    // A call without an id is a notification: no reply.
    id.as_ref()?;
    Some(reply(result))
}
