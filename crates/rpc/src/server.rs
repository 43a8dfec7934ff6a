//! HTTP transport: the router, request processing on bounded blocking threads, and the
//! per-request budget (docs/rpc.md, "Limits").

use crate::error::RpcError;
use crate::eth::{CallCtx, EthState};
use crate::limits::{Gate, RequestBudget};
use crate::metrics::{self, RpcCounters};
use crate::{MAX_BATCH, methods};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use keel_node::{Node, RpcLimits};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Transport limits.
#[derive(Clone, Copy, Debug)]
pub struct RpcConfig {
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Everything else a client may cost (`[rpc]` in `node.toml`).
    pub limits: RpcLimits,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            max_body_bytes: 2 * 1024 * 1024,
            limits: RpcLimits::default(),
        }
    }
}

/// What bounds the server's work: blocking-thread slots for requests, EVM slots, open
/// WebSockets, and the `keel_validators` scan cache.
#[derive(Debug)]
pub(crate) struct Work {
    requests: Arc<tokio::sync::Semaphore>,
    pub(crate) evm: Gate,
    pub(crate) ws: Arc<crate::conn::ConnCounter>,
    pub(crate) signed: crate::explorer::SignedCache,
}

#[derive(Clone)]
pub(crate) struct App {
    pub(crate) node: Arc<Node>,
    pub(crate) cfg: RpcConfig,
    pub(crate) counters: Arc<RpcCounters>,
    /// Becomes true when [`serve`] is shutting down: long-lived responses (`/events`, `/ws`)
    /// end so the graceful shutdown does not wait for clients to close.
    pub(crate) closing: Option<tokio::sync::watch::Receiver<bool>>,
    /// Ethereum filters installed over HTTP (ADR 0009).
    pub(crate) eth: Arc<EthState>,
    pub(crate) work: Arc<Work>,
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
    let work = Work {
        requests: Arc::new(tokio::sync::Semaphore::new(
            cfg.limits.max_concurrent_requests.max(1),
        )),
        evm: Gate::new(cfg.limits.max_concurrent_evm),
        ws: Arc::default(),
        signed: Default::default(),
    };
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
            eth: Arc::new(EthState::default()),
            work: Arc::new(work),
        })
}

/// Serve until `shutdown` resolves; then open event streams and WebSockets end and in-flight
/// requests finish. Connections are capped and timed (`crate::conn`).
pub async fn serve(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    cfg: RpcConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
    let router = router_with(node, cfg, Some(closing_rx));
    crate::conn::accept_loop(listener, router, cfg.limits, closing_tx, shutdown).await;
    Ok(())
}

/// Run `job` on a blocking thread once one of `max_concurrent_requests` slots is free (waiting
/// at most `busy_wait_ms`), and wait at most `request_timeout_ms` for it. The job gets the
/// request's budget, whose deadline it checks between calls.
pub(crate) async fn run_blocking<T: Send + 'static>(
    app: &App,
    job: impl FnOnce(&App, &RequestBudget) -> T + Send + 'static,
) -> Result<T, RpcError> {
    let started = Instant::now();
    let limits = app.cfg.limits;
    let wait = Duration::from_millis(limits.busy_wait_ms);
    let work = app.work.clone();
    let permit = match tokio::time::timeout(wait, work.requests.clone().acquire_owned()).await {
        Ok(Ok(p)) => p,
        _ => {
            return Err(RpcError::busy(
                "every request slot is in use; retry shortly",
            ));
        }
    };
    let app2 = app.clone();
    let task = tokio::task::spawn_blocking(move || {
        // The slot is held until the job ends, even when its client stopped waiting.
        let _slot = permit;
        let budget = RequestBudget::new(&limits, started);
        job(&app2, &budget)
    });
    let deadline = Duration::from_millis(limits.request_timeout_ms);
    let out = tokio::time::timeout(deadline.saturating_sub(started.elapsed()), task).await;
    match out {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(RpcError::internal(e.to_string())),
        Err(_) => Err(RpcError::timeout(format!(
            "no answer within {} ms (rpc.request_timeout_ms)",
            limits.request_timeout_ms
        ))),
    }
}

/// HTTP status of an error that answers a whole request.
fn status_of(e: &RpcError) -> StatusCode {
    match e.code {
        1102 | 1105 => StatusCode::SERVICE_UNAVAILABLE,
        1104 => StatusCode::REQUEST_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn prometheus(State(app): State<App>) -> Response {
    let text = match run_blocking(&app, |app, _| metrics::render(&app.node, &app.counters)).await {
        Ok(t) => t,
        Err(e) => return error_response(status_of(&e), &e),
    };
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
    let body_wait = Duration::from_millis(app.cfg.limits.body_read_timeout_ms);
    let bytes =
        match tokio::time::timeout(body_wait, axum::body::to_bytes(req.into_body(), limit)).await {
            Ok(Ok(b)) => b,
            Ok(Err(_)) => {
                return error_response(StatusCode::PAYLOAD_TOO_LARGE, &RpcError::too_large(limit));
            }
            Err(_) => {
                let e = RpcError::timeout(format!(
                    "the request body did not arrive within {} ms (rpc.body_read_timeout_ms)",
                    body_wait.as_millis()
                ));
                return error_response(StatusCode::REQUEST_TIMEOUT, &e);
            }
        };
    let started = Instant::now();
    let out = run_blocking(&app, move |app, budget| {
        process(app, &app.eth, budget, &bytes)
    })
    .await;
    app.counters.record_request(started.elapsed());
    match out {
        Ok(Some(v)) => json_response(StatusCode::OK, &v),
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(status_of(&e), &e),
    }
}

/// Process a request body: a single call or a batch. `None` when only notifications came.
pub(crate) fn process(
    app: &App,
    filters: &EthState,
    budget: &RequestBudget,
    body: &[u8],
) -> Option<Value> {
    let ctx = CallCtx {
        limits: &app.cfg.limits,
        budget,
        evm: &app.work.evm,
        filters,
    };
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
            let out: Vec<Value> = calls.iter().filter_map(|c| call(app, &ctx, c)).collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        single => call(app, &ctx, &single),
    }
}

fn call(app: &App, ctx: &CallCtx<'_>, c: &Value) -> Option<Value> {
    let node = &app.node;
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
    let result = if let Err(e) = ctx.budget.check_deadline() {
        // Later calls of a batch that ran out of time are refused, not run.
        Err(e.into())
    } else if crate::eth::is_eth_method(method) {
        // Ethereum methods (ADR 0009) have their own error codes and `data`.
        crate::eth::dispatch(node, ctx, method, params)
    } else if method == "keel_validators" {
        crate::explorer::validators(node, &app.work.signed, params).map_err(Into::into)
    } else {
        methods::dispatch(node, method, params).map_err(Into::into)
    };
    app.counters.record(
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
