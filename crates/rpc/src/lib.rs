//! Keel's JSON-RPC 2.0 API over HTTP (`POST /`), documented with every error code in
//! `docs/rpc.md`; `GET /health` for liveness and `GET /metrics` (Prometheus text format, listed
//! in `docs/metrics.md`).
//!
//! Requests are bounded ([`RpcConfig::max_body_bytes`], at most [`MAX_BATCH`] calls per batch,
//! [`MAX_SEND_BATCH`] transactions per `keel_sendTransactions`); a bad request gets a JSON-RPC
//! error with a precise code and never disturbs the node. Handlers run on the blocking pool
//! because they touch storage and verify signatures.

mod certs;
mod conn;
mod did;
mod error;
pub mod eth;
mod explorer;
mod gov;
mod limits;
pub(crate) mod methods;
mod metrics;
pub use methods::METHODS;
mod render;
mod server;
mod status;
mod web;
mod ws;

pub use error::RpcError;
pub use explorer::{SIGNATURE_SCAN_BLOCKS, audit_path};
pub use server::{RpcConfig, router, serve};
pub use web::MAX_EVENT_CLIENTS;

/// Most calls in one JSON-RPC batch.
pub const MAX_BATCH: usize = 100;
/// Most transactions in one `keel_sendTransactions` call.
pub const MAX_SEND_BATCH: usize = 5_000;
/// Most evidence records returned by one `keel_listEvidence` call.
pub const MAX_LIST: usize = 100;
