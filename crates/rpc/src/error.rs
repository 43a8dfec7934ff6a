use keel_mempool::AdmitError;
use serde_json::{Value, json};

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code} {name}: {message}")]
pub struct RpcError {
    /// Numeric code.
    pub code: i64,
    /// Symbolic name (in `data.name`).
    pub name: &'static str,
    /// Human message: what is wrong and what to do.
    pub message: String,
}

impl RpcError {
    /// -32700.
    pub fn parse(msg: impl Into<String>) -> Self {
        RpcError {
            code: -32700,
            name: "PARSE_ERROR",
            message: msg.into(),
        }
    }
    /// -32600.
    pub fn invalid_request(msg: impl Into<String>) -> Self {
        RpcError {
            code: -32600,
            name: "INVALID_REQUEST",
            message: msg.into(),
        }
    }
    /// -32601.
    pub fn method_not_found(method: &str) -> Self {
        RpcError {
            code: -32601,
            name: "METHOD_NOT_FOUND",
            message: format!("unknown method {method:?}; see docs/rpc.md for the method list"),
        }
    }
    /// -32602.
    pub fn invalid_params(msg: impl Into<String>) -> Self {
        RpcError {
            code: -32602,
            name: "INVALID_PARAMS",
            message: msg.into(),
        }
    }
    /// -32603.
    pub fn internal(msg: impl Into<String>) -> Self {
        RpcError {
            code: -32603,
            name: "INTERNAL",
            message: msg.into(),
        }
    }
    /// 1100: body too large.
    pub fn too_large(limit: usize) -> Self {
        RpcError {
            code: 1100,
            name: "REQUEST_TOO_LARGE",
            message: format!("request body exceeds the limit of {limit} bytes"),
        }
    }
    /// 1101: batch too large.
    pub fn batch_too_large(n: usize, max: usize) -> Self {
        RpcError {
            code: 1101,
            name: "BATCH_TOO_LARGE",
            message: format!("{n} entries in one batch; the limit is {max}"),
        }
    }
    /// 1102: every slot for this kind of work is taken (HTTP 503 for a whole request).
    pub fn busy(msg: impl Into<String>) -> Self {
        RpcError {
            code: 1102,
            name: "SERVER_BUSY",
            message: msg.into(),
        }
    }
    /// 1103: the request's EVM gas budget cannot cover the next run.
    pub fn gas_budget(asked: u64, left: u64) -> Self {
        RpcError {
            code: 1103,
            name: "GAS_BUDGET_EXCEEDED",
            message: format!(
                "this request asks for {asked} more gas of EVM work but only {left} is left of \
                 its budget (rpc.request_gas_budget); split the batch"
            ),
        }
    }
    /// 1104: the request (or its body) did not complete in time.
    pub fn timeout(msg: impl Into<String>) -> Self {
        RpcError {
            code: 1104,
            name: "REQUEST_TIMEOUT",
            message: msg.into(),
        }
    }
    /// 1105: too many open connections (in total or from this address).
    pub fn too_many_connections(msg: impl Into<String>) -> Self {
        RpcError {
            code: 1105,
            name: "TOO_MANY_CONNECTIONS",
            message: msg.into(),
        }
    }
    /// JSON form.
    pub fn to_json(&self) -> Value {
        json!({ "code": self.code, "message": self.message, "data": { "name": self.name } })
    }
}

impl From<AdmitError> for RpcError {
    fn from(e: AdmitError) -> Self {
        RpcError {
            code: e.code(),
            name: e.name(),
            message: e.to_string(),
        }
    }
}

impl From<keel_ledger::LedgerError> for RpcError {
    fn from(e: keel_ledger::LedgerError) -> Self {
        RpcError::internal(e.to_string())
    }
}
