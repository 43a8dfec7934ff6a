//! Accepting connections: at most `max_connections` open (and `max_connections_per_ip` from one
//! address), request headers within `header_read_timeout_ms`, graceful shutdown. `axum::serve`
//! has none of these bounds, so the accept loop is ours; a refused connection gets an HTTP 503
//! with error 1105 `TOO_MANY_CONNECTIONS` and is closed.

use crate::error::RpcError;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use keel_node::RpcLimits;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// After a failed `accept` (e.g. out of file descriptors), wait this long before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Open connections in total and per IP address.
#[derive(Debug, Default)]
pub(crate) struct ConnCounter {
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One counted connection; uncounted on drop.
#[derive(Debug)]
pub(crate) struct ConnSlot {
    counter: Arc<ConnCounter>,
    ip: IpAddr,
}

impl ConnCounter {
    /// Count a connection from `ip`, unless `total` or `per_ip` are reached.
    pub(crate) fn open(
        self: &Arc<Self>,
        ip: IpAddr,
        total: usize,
        per_ip: usize,
    ) -> Result<ConnSlot, RpcError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let (all, by_ip) = &mut *open;
        if *all >= total {
            return Err(RpcError::too_many_connections(format!(
                "{total} connections are open; retry later"
            )));
        }
        let mine = by_ip.entry(ip).or_insert(0);
        if *mine >= per_ip {
            return Err(RpcError::too_many_connections(format!(
                "{per_ip} connections are open from {ip}; close some"
            )));
        }
        *mine += 1;
        *all += 1;
        Ok(ConnSlot {
            counter: self.clone(),
            ip,
        })
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let mut open = self.counter.open.lock().unwrap_or_else(|p| p.into_inner());
        let (all, by_ip) = &mut *open;
        *all = all.saturating_sub(1);
        if let Some(n) = by_ip.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                by_ip.remove(&self.ip);
            }
        }
    }
}

/// A complete HTTP 503 with a JSON-RPC error, written to a connection that is refused.
fn refusal(e: &RpcError) -> Vec<u8> {
    let body =
        serde_json::json!({ "jsonrpc": "2.0", "id": null, "error": e.to_json() }).to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Accept and serve connections until `shutdown` resolves; then tell open connections to
/// finish (`closing`) and wait for them.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    router: Router,
    limits: RpcLimits,
    closing: tokio::sync::watch::Sender<bool>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let counter = Arc::new(ConnCounter::default());
    // Every connection task holds a sender; when all are gone, every connection has ended.
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "rpc accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let total = limits.max_connections;
        match counter.open(peer.ip(), total, limits.max_connections_per_ip) {
            Ok(slot) => {
                let conn = serve_conn(stream, peer, router.clone(), &limits, closing.subscribe());
                let done = done_tx.clone();
                tokio::spawn(async move {
                    conn.await;
                    drop((slot, done));
                });
            }
            Err(e) => {
                // Best effort, never blocking the loop: a fresh socket's send buffer takes it.
                let _ = stream.try_write(&refusal(&e));
            }
        }
    }
    drop(listener);
    let _ = closing.send(true);
    drop(done_tx);
    let _ = done_rx.recv().await;
}

/// Serve one connection (HTTP/1.1, upgrades to WebSocket allowed) until it ends or the server
/// closes.
fn serve_conn(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: &RpcLimits,
    mut closing: tokio::sync::watch::Receiver<bool>,
) -> impl Future<Output = ()> + Send + 'static {
    let header_timeout = Duration::from_millis(limits.header_read_timeout_ms);
    async move {
        let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req.map(Body::new))
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout);
        let conn = builder
            .serve_connection(TokioIo::new(stream), svc)
            .with_upgrades();
        let mut conn = std::pin::pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => {}
            _ = async { closing.wait_for(|c| *c).await.map(|_| ()) } => {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_caps_total_and_per_ip_and_frees_on_drop() {
        let c = Arc::new(ConnCounter::default());
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let s1 = c.open(a, 3, 2).expect("first from a");
        let _s2 = c.open(a, 3, 2).expect("second from a");
        assert_eq!(c.open(a, 3, 2).expect_err("per ip").code, 1105);
        let _s3 = c.open(b, 3, 2).expect("first from b");
        assert_eq!(c.open(b, 3, 2).expect_err("total").code, 1105);
        drop(s1);
        assert!(c.open(a, 3, 2).is_ok());
    }
}
