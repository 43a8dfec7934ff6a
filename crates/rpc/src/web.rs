//! The web UI (`GET /ui/…`, static files compiled into the binary from `crates/rpc/ui/`) and the
//! live event stream (`GET /events`, server-sent events). Both are read-only: the UI reads the
//! same public JSON-RPC (`POST /`) any client can call; the event stream only publishes what
//! `keel_getBlock` and `keel_status` return.

use crate::metrics::RpcCounters;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use futures_util::stream::{self, Stream};
use keel_node::Node;
use serde_json::json;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Most clients on `GET /events` at once; more get HTTP 503.
pub const MAX_EVENT_CLIENTS: usize = 64;
/// How often the event stream checks for a new head.
pub const HEAD_POLL: Duration = Duration::from_millis(200);
/// How often the event stream sends `keel_status`.
pub const STATUS_EVERY: Duration = Duration::from_secs(1);
/// Heads sent at most per poll (when the chain moved faster than the poll interval, the rest
/// are skipped and the client can fetch them with `keel_getBlock`).
const MAX_HEADS_PER_POLL: u64 = 16;
/// Transaction hashes listed per `head` event (the first ones of the block); the rest are in
/// `keel_getBlock`.
pub const MAX_EVENT_TXS: usize = 32;

/// `(path, content type, bytes)` of every UI file.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../ui/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../ui/app.js"),
    ),
    (
        "hash.js",
        "text/javascript; charset=utf-8",
        include_str!("../ui/hash.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../ui/style.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../ui/favicon.svg"),
    ),
];

/// The UI's Content-Security-Policy: nothing from other origins, no inline script.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub(crate) async fn ui_root() -> Redirect {
    Redirect::permanent("/ui/")
}

pub(crate) async fn ui_index() -> Response {
    asset("index.html")
}

pub(crate) async fn ui_file(Path(name): Path<String>) -> Response {
    asset(&name)
}

fn asset(name: &str) -> Response {
    let Some((_, ctype, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return (StatusCode::NOT_FOUND, "no such UI file\n").into_response();
    };
    let mut r = (StatusCode::OK, *body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// Decrements the client gauge when the stream is dropped (client gone).
struct ClientSlot(Arc<RpcCounters>);

impl Drop for ClientSlot {
    fn drop(&mut self) {
        self.0.sse_clients.fetch_sub(1, Ordering::Relaxed);
    }
}

struct StreamState {
    node: Arc<Node>,
    last_height: Option<u64>,
    last_status: Option<tokio::time::Instant>,
    queue: std::collections::VecDeque<Event>,
    closing: Option<tokio::sync::watch::Receiver<bool>>,
    _slot: ClientSlot,
}

impl StreamState {
    fn closing(&self) -> bool {
        self.closing.as_ref().is_some_and(|c| *c.borrow())
    }

    /// Resolves when the server starts shutting down (never without a shutdown signal).
    async fn closed(&mut self) {
        match &mut self.closing {
            Some(c) => {
                if c.wait_for(|v| *v).await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    }
}

pub(crate) async fn events(State(app): State<crate::server::App>) -> Response {
    let counters = app.counters.clone();
    let n = counters.sse_clients.fetch_add(1, Ordering::Relaxed);
    let slot = ClientSlot(counters);
    if n >= MAX_EVENT_CLIENTS {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("too many event stream clients (limit {MAX_EVENT_CLIENTS})\n"),
        )
            .into_response();
    }
    let st = StreamState {
        node: app.node.clone(),
        last_height: None,
        last_status: None,
        queue: Default::default(),
        closing: app.closing.clone(),
        _slot: slot,
    };
    Sse::new(event_stream(st))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
        .into_response()
}

fn event_stream(st: StreamState) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(st, |mut st| async move {
        loop {
            if st.closing() {
                return None;
            }
            if let Some(e) = st.queue.pop_front() {
                return Some((Ok(e), st));
            }
            let node = st.node.clone();
            let last = st.last_height;
            let due = st.last_status.is_none_or(|t| t.elapsed() >= STATUS_EVERY);
            let out = tokio::task::spawn_blocking(move || poll(&node, last, due)).await;
            match out {
                Ok((height, evs)) => {
                    st.last_height = Some(height);
                    if due {
                        st.last_status = Some(tokio::time::Instant::now());
                    }
                    st.queue.extend(evs);
                }
                Err(_) => return None,
            }
            if st.queue.is_empty() {
                tokio::select! {
                    _ = tokio::time::sleep(HEAD_POLL) => {}
                    _ = st.closed() => return None,
                }
            }
        }
    })
}

/// New `head` events since `last` (all blocks up to [`MAX_HEADS_PER_POLL`]) and, if `status`,
/// a `status` event. Returns the head height sent up to.
fn poll(node: &Node, last: Option<u64>, status: bool) -> (u64, Vec<Event>) {
    let head = node.head().height;
    let from = match last {
        None => head,
        Some(l) => (l + 1).max(head.saturating_sub(MAX_HEADS_PER_POLL - 1)),
    };
    let mut out = Vec::new();
    let alg = node.suite().hash();
    for h in from..=head {
        if Some(h) == last {
            continue;
        }
        match node.chain().block(h) {
            Ok(Some(b)) => {
                let v = json!({
                    "height": h,
                    "hash": b.hash(alg),
                    "timestampMs": b.header.timestamp_ms,
                    "txCount": b.header.tx_count,
                    "gasUsed": b.header.gas_used,
                    "proposer": b.header.proposer,
                    "round": b.certificate.round,
                    "transactions": b.transactions.iter().take(MAX_EVENT_TXS).map(|t| t.hash(alg)).collect::<Vec<_>>(),
                    "pendingTxs": node.mempool().len(),
                });
                out.push(Event::default().event("head").data(v.to_string()));
            }
            Ok(None) | Err(_) => break,
        }
    }
    if status {
        let s = crate::status::status(node);
        out.push(Event::default().event("status").data(s.to_string()));
    }
    (head, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_referenced_by_the_index_is_served() {
        let index = ASSETS[0].2;
        for (name, _, body) in ASSETS {
            assert!(!body.is_empty(), "{name} is empty");
            if *name != "index.html" {
                assert!(index.contains(name), "index.html does not load {name}");
            }
        }
        // No external resources: the UI must work without internet.
        for (name, _, body) in ASSETS {
            // The SVG namespace is an identifier, not a fetched resource.
            let body = body
                .replace("\"http://www.w3.org/2000/svg\"", "")
                .replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
            for bad in ["http://", "https://", "//cdn", "@import", "url("] {
                assert!(!body.contains(bad), "{name} references {bad}");
            }
        }
    }
}
