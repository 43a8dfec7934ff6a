//! Ethereum JSON-RPC (ADR 0009): the `eth_*`, `net_*` and `web3_*` methods of the
//! ethereum/execution-apis specification that Ethereum clients (ethers.js, web3.py) need,
//! served on the same `POST /` as Keel's own methods and over WebSocket (`GET /ws`, see
//! [`crate::ws`]).
//!
//! Keel has BFT finality, so `latest`, `pending`, `safe` and `finalized` all name the head.
//! Block hashes are Keel header hashes; transaction hashes of Ethereum transactions are
//! `keccak256(raw)`; native Keel transactions appear with their Keel hash, type `0x0` and a
//! zero signature. Every list is bounded ([`MAX_LOG_BLOCK_RANGE`], [`MAX_LOGS`],
//! [`MAX_FILTERS`]).

use crate::error::RpcError;
use crate::limits::{Gate, RequestBudget};
use keel_evm::exec::{self, CallOutcome, CallRequest};
use keel_evm::{ethtx, logs};
use keel_ledger::TxLocation;
use keel_mempool::AdmitError;
use keel_node::{Node, RpcLimits};
use keel_types::{Address, Block, Hash, Payload, Receipt, SignedTransaction, TxStatus};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Every Ethereum method served (documented in `docs/rpc.md`).
pub const ETH_METHODS: &[&str] = &[
    "web3_clientVersion",
    "net_version",
    "net_listening",
    "eth_chainId",
    "eth_syncing",
    "eth_accounts",
    "eth_blockNumber",
    "eth_getBalance",
    "eth_getTransactionCount",
    "eth_getCode",
    "eth_getStorageAt",
    "eth_call",
    "eth_estimateGas",
    "eth_gasPrice",
    "eth_maxPriorityFeePerGas",
    "eth_feeHistory",
    "eth_sendRawTransaction",
    "eth_getTransactionByHash",
    "eth_getTransactionReceipt",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getBlockTransactionCountByNumber",
    "eth_getLogs",
    "eth_newFilter",
    "eth_newBlockFilter",
    "eth_getFilterChanges",
    "eth_getFilterLogs",
    "eth_uninstallFilter",
    "eth_subscribe",
    "eth_unsubscribe",
];

/// Most blocks one `eth_getLogs` / filter query scans.
pub const MAX_LOG_BLOCK_RANGE: u64 = 10_000;
/// Most logs one query returns.
pub const MAX_LOGS: usize = 10_000;
/// Most installed filters per server (HTTP); a filter idle for [`FILTER_TTL`] is removed.
pub const MAX_FILTERS: usize = 1_024;
/// Most addresses plus topics over all filters installed over HTTP (≈ 32 bytes each).
pub const MAX_FILTER_CRITERIA_TOTAL: usize = 200_000;
/// Most addresses in one log filter (geth: 1,000).
pub const MAX_FILTER_ADDRESSES: usize = 1_000;
/// Most alternatives for one topic position of a log filter (geth: 1,000).
pub const MAX_FILTER_TOPIC_ALTERNATIVES: usize = 1_000;
/// Most reward percentiles in one `eth_feeHistory` (geth: 100).
pub const MAX_REWARD_PERCENTILES: usize = 100;
/// Idle lifetime of a filter.
pub const FILTER_TTL: Duration = Duration::from_secs(300);
/// Most blocks `eth_feeHistory` reports.
pub const MAX_FEE_HISTORY: u64 = 1_024;

/// True for methods this module serves.
pub fn is_eth_method(method: &str) -> bool {
    method.starts_with("eth_") || method.starts_with("net_") || method.starts_with("web3_")
}

/// An Ethereum JSON-RPC error: code per the execution-apis spec / EIP-1474, optional data
/// (revert data for code 3).
#[derive(Debug, Clone, PartialEq)]
pub struct EthError {
    /// Code: 3 execution reverted, -32000 invalid input / rejected, -32601, -32602, -32603.
    pub code: i64,
    /// Message.
    pub message: String,
    /// `data` member (hex revert data for code 3; `None` = `{name}`).
    pub data: Option<Value>,
    /// Symbolic name for metrics.
    pub name: &'static str,
}

impl EthError {
    fn new(code: i64, name: &'static str, message: impl Into<String>) -> Self {
        EthError {
            code,
            message: message.into(),
            data: None,
            name,
        }
    }
    fn params(message: impl Into<String>) -> Self {
        EthError::new(-32602, "INVALID_PARAMS", message)
    }
    fn internal(message: impl ToString) -> Self {
        EthError::new(-32603, "INTERNAL", message.to_string())
    }
    /// Code 3 with the revert data.
    fn reverted(output: &[u8]) -> Self {
        EthError {
            code: 3,
            message: exec::revert_message(output),
            data: Some(Value::String(hex0x(output))),
            name: "EXECUTION_REVERTED",
        }
    }
    /// JSON form; without explicit data, `data.name` carries the symbolic name as for Keel's
    /// own errors.
    pub fn to_json(&self) -> Value {
        let data = self
            .data
            .clone()
            .unwrap_or_else(|| json!({ "name": self.name }));
        json!({ "code": self.code, "message": self.message, "data": data })
    }
}

impl From<keel_ledger::LedgerError> for EthError {
    fn from(e: keel_ledger::LedgerError) -> Self {
        EthError::internal(e)
    }
}

impl From<keel_execution::ExecutionError> for EthError {
    fn from(e: keel_execution::ExecutionError) -> Self {
        EthError::internal(e)
    }
}

impl From<RpcError> for EthError {
    /// Keel's errors keep their exact JSON form (`data.name`).
    fn from(e: RpcError) -> Self {
        EthError {
            code: e.code,
            data: None,
            message: e.message,
            name: e.name,
        }
    }
}

/// Admission errors as Ethereum clients expect them: code -32000 and geth's wording first
/// (ethers maps "nonce too low", "insufficient funds", "already known"), Keel's name in `data`.
fn admit_error(e: AdmitError) -> EthError {
    let prefix = match &e {
        AdmitError::NonceTooLow { .. } => "nonce too low: ",
        AdmitError::InsufficientBalance { .. } => "insufficient funds for gas * price + value: ",
        AdmitError::FeeTooLow { .. } => "max fee per gas less than block base fee: ",
        AdmitError::AlreadyKnown { .. } | AdmitError::NonceAlreadyPending { .. } => {
            "already known: "
        }
        _ => "",
    };
    EthError {
        code: -32000,
        message: format!("{prefix}{e}"),
        data: Some(json!({ "name": e.name(), "keelCode": e.code() })),
        name: e.name(),
    }
}

// ------------------------------------------------------------------------------------------
// Hex helpers

fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

fn qty(n: impl Into<u128>) -> String {
    format!("0x{:x}", n.into())
}

fn parse_qty(v: &Value, what: &str) -> Result<u128, EthError> {
    match v {
        Value::String(s) => {
            let h = s
                .strip_prefix("0x")
                .ok_or_else(|| EthError::params(format!("{what}: expected a 0x quantity")))?;
            if h.is_empty() {
                return Ok(0);
            }
            u128::from_str_radix(h, 16)
                .map_err(|_| EthError::params(format!("{what}: invalid quantity {s}")))
        }
        Value::Number(n) => n
            .as_u64()
            .map(u128::from)
            .ok_or_else(|| EthError::params(format!("{what}: invalid number"))),
        _ => Err(EthError::params(format!("{what}: expected a quantity"))),
    }
}

fn parse_bytes(v: &Value, what: &str) -> Result<Vec<u8>, EthError> {
    let s = v
        .as_str()
        .ok_or_else(|| EthError::params(format!("{what}: expected 0x hex")))?;
    let h = s
        .strip_prefix("0x")
        .ok_or_else(|| EthError::params(format!("{what}: expected 0x hex")))?;
    hex::decode(h).map_err(|e| EthError::params(format!("{what}: {e}")))
}

fn parse_addr(v: &Value, what: &str) -> Result<Address, EthError> {
    let b = parse_bytes(v, what)?;
    let a: [u8; 20] = b
        .try_into()
        .map_err(|_| EthError::params(format!("{what}: expected a 20-byte address")))?;
    Ok(Address(a))
}

fn parse_hash(v: &Value, what: &str) -> Result<Hash, EthError> {
    let b = parse_bytes(v, what)?;
    let a: [u8; 32] = b
        .try_into()
        .map_err(|_| EthError::params(format!("{what}: expected 32 bytes")))?;
    Ok(Hash(a))
}

fn addr_hex(a: &Address) -> String {
    hex0x(&a.0)
}

fn param(params: &[Value], i: usize) -> Option<&Value> {
    params.get(i).filter(|v| !v.is_null())
}

fn required<'a>(params: &'a [Value], i: usize, what: &str) -> Result<&'a Value, EthError> {
    param(params, i).ok_or_else(|| EthError::params(format!("param {}: missing {what}", i + 1)))
}

// ------------------------------------------------------------------------------------------
// Block tags

/// Resolve a block tag or number to a committed height.
fn block_height(node: &Node, v: Option<&Value>) -> Result<u64, EthError> {
    let head = node.head().height;
    let Some(v) = v else { return Ok(head) };
    if let Some(obj) = v.as_object() {
        // EIP-1898: { blockNumber } or { blockHash }.
        if let Some(n) = obj.get("blockNumber") {
            return block_height(node, Some(n));
        }
        if let Some(h) = obj.get("blockHash") {
            let hash = parse_hash(h, "blockHash")?;
            return node
                .chain()
                .height_of(&hash)?
                .ok_or_else(|| EthError::new(-32001, "NOT_FOUND", "block not found"));
        }
        return Err(EthError::params(
            "block: expected a tag, number or EIP-1898 object",
        ));
    }
    match v.as_str() {
        Some("latest" | "pending" | "safe" | "finalized") => Ok(head),
        Some("earliest") => Ok(0),
        _ => {
            let n = parse_qty(v, "block")?;
            let n = u64::try_from(n).map_err(|_| EthError::params("block number too large"))?;
            if n > head {
                return Err(EthError::new(
                    -32001,
                    "NOT_FOUND",
                    format!("block {n} is beyond the head {head}"),
                ));
            }
            Ok(n)
        }
    }
}

// ------------------------------------------------------------------------------------------
// Views

/// `from`, `to`, `value`, `input`, type and fee fields of any Keel transaction, Ethereum-style.
struct TxView {
    from: Address,
    to: Option<Address>,
    value: u128,
    input: Vec<u8>,
    eth: Option<ethtx::EthFields>,
}

fn tx_view(node: &Node, t: &SignedTransaction) -> TxView {
    let from = t.sender(node.suite()).unwrap_or(Address([0; 20]));
    match &t.tx.payload {
        Payload::Ethereum { raw } => match ethtx::fields(raw) {
            Ok(f) => TxView {
                from,
                to: f.to,
                value: f.value,
                input: f.input.to_vec(),
                eth: Some(f),
            },
            Err(_) => TxView {
                from,
                to: None,
                value: 0,
                input: vec![],
                eth: None,
            },
        },
        Payload::EvmCall { to, value, data } => TxView {
            from,
            to: *to,
            value: *value,
            input: data.clone(),
            eth: None,
        },
        Payload::Transfer { to, amount } => TxView {
            from,
            to: Some(*to),
            value: *amount,
            input: vec![],
            eth: None,
        },
        Payload::EvidencePut(_)
        | Payload::Gov(_)
        | Payload::Asset(_)
        | Payload::Nft(_)
        | Payload::Did(_) => TxView {
            from,
            to: None,
            value: 0,
            input: vec![],
            eth: None,
        },
    }
}

/// `gas_price`: the one its block charged ([`Node::gas_price_of_block`]), or the next block's
/// for a pending transaction.
fn render_tx(
    node: &Node,
    t: &SignedTransaction,
    hash: &Hash,
    loc: Option<(TxLocation, Hash)>,
    gas_price: u128,
) -> Value {
    let v = tx_view(node, t);
    let mut out = json!({
        "hash": hash,
        "nonce": qty(t.tx.nonce),
        "from": addr_hex(&v.from),
        "to": v.to.map(|a| addr_hex(&a)),
        "value": qty(v.value),
        "input": hex0x(&v.input),
        "gas": qty(t.tx.gas_limit),
        "gasPrice": qty(gas_price),
        "chainId": qty(t.tx.chain_id),
        "type": "0x0",
        "v": "0x0",
        "r": "0x0",
        "s": "0x0",
        "blockHash": Value::Null,
        "blockNumber": Value::Null,
        "transactionIndex": Value::Null,
    });
    if let Some(f) = &v.eth {
        out["type"] = json!(qty(f.tx_type));
        out["v"] = json!(qty(f.v));
        out["r"] = json!(qty_bytes(&f.r));
        out["s"] = json!(qty_bytes(&f.s));
        if f.tx_type != 0 {
            out["yParity"] = json!(qty(u8::from(f.y_parity)));
            out["accessList"] = Value::Array(
                f.access_list
                    .iter()
                    .map(|(a, keys)| {
                        json!({
                            "address": addr_hex(a),
                            "storageKeys": keys.iter().map(|k| hex0x(k)).collect::<Vec<_>>(),
                        })
                    })
                    .collect(),
            );
        }
        if f.tx_type == 2 {
            out["maxFeePerGas"] = json!(qty(f.max_fee_per_gas));
            out["maxPriorityFeePerGas"] =
                json!(qty(f.max_priority_fee_per_gas.unwrap_or_default()));
        }
    }
    if let Some((loc, block_hash)) = loc {
        out["blockHash"] = json!(block_hash);
        out["blockNumber"] = json!(qty(loc.height));
        out["transactionIndex"] = json!(qty(loc.index));
    }
    out
}

/// A 32-byte big-endian integer as a minimal quantity.
fn qty_bytes(b: &[u8; 32]) -> String {
    let h = hex::encode(b);
    let t = h.trim_start_matches('0');
    if t.is_empty() {
        "0x0".into()
    } else {
        format!("0x{t}")
    }
}

/// One log with its position.
struct PositionedLog {
    log: logs::EthLog,
    height: u64,
    block_hash: Hash,
    tx_hash: Hash,
    tx_index: u32,
    log_index: u64,
}

fn render_log(l: &PositionedLog) -> Value {
    json!({
        "address": hex0x(l.log.address.as_slice()),
        "topics": l.log.topics.iter().map(|t| hex0x(t.as_slice())).collect::<Vec<_>>(),
        "data": hex0x(&l.log.data),
        "blockNumber": qty(l.height),
        "blockHash": l.block_hash,
        "transactionHash": l.tx_hash,
        "transactionIndex": qty(l.tx_index),
        "logIndex": qty(l.log_index),
        "removed": false,
    })
}

/// Every log of block `height`, in order.
fn block_logs(node: &Node, height: u64) -> Result<Vec<PositionedLog>, EthError> {
    let Some(header) = node.chain().header(height)? else {
        return Ok(vec![]);
    };
    if header.gas_used == 0 {
        // No gas, no EVM transaction, no logs: skip reading receipts.
        return Ok(vec![]);
    }
    let block_hash = header.hash(node.suite().hash());
    let receipts = node.chain().block_receipts(height)?;
    let mut out = Vec::new();
    let mut log_index = 0u64;
    for (i, r) in receipts.iter().enumerate() {
        for e in &r.events {
            if let Some(log) = logs::from_event(e) {
                out.push(PositionedLog {
                    log,
                    height,
                    block_hash,
                    tx_hash: r.tx_hash,
                    tx_index: u32::try_from(i).unwrap_or(u32::MAX),
                    log_index,
                });
                log_index += 1;
            }
        }
    }
    Ok(out)
}

fn receipt_logs(r: &Receipt) -> Vec<logs::EthLog> {
    r.events.iter().filter_map(logs::from_event).collect()
}

fn render_receipt(
    node: &Node,
    t: &SignedTransaction,
    r: &Receipt,
    loc: TxLocation,
) -> Result<Value, EthError> {
    let header = node
        .chain()
        .header(loc.height)?
        .ok_or_else(|| EthError::internal("receipt of a missing block"))?;
    let block_hash = header.hash(node.suite().hash());
    let receipts = node.chain().block_receipts(loc.height)?;
    let before = receipts.iter().take(loc.index as usize);
    let cumulative: u64 = before.clone().map(|x| x.gas_used).sum::<u64>() + r.gas_used;
    let first_log: u64 = before.map(|x| receipt_logs(x).len() as u64).sum();
    let v = tx_view(node, t);
    let rlogs = receipt_logs(r);
    let bloom = logs::bloom(&rlogs);
    let contract = (v.to.is_none()
        && r.status == TxStatus::Success
        && r.output.len() == 20
        && t.tx.payload.is_evm())
    .then(|| hex0x(&r.output));
    let logs_json: Vec<Value> = rlogs
        .into_iter()
        .enumerate()
        .map(|(i, log)| {
            render_log(&PositionedLog {
                log,
                height: loc.height,
                block_hash,
                tx_hash: r.tx_hash,
                tx_index: loc.index,
                log_index: first_log + i as u64,
            })
        })
        .collect();
    let tx_type = v.eth.as_ref().map_or(0, |f| f.tx_type);
    let mut out = json!({
        "transactionHash": r.tx_hash,
        "transactionIndex": qty(loc.index),
        "blockHash": block_hash,
        "blockNumber": qty(loc.height),
        "from": addr_hex(&v.from),
        "to": v.to.map(|a| addr_hex(&a)),
        "cumulativeGasUsed": qty(cumulative),
        "gasUsed": qty(r.gas_used),
        "effectiveGasPrice": qty(node.gas_price_of_block(loc.height)?),
        "contractAddress": contract,
        "logs": logs_json,
        "logsBloom": hex0x(bloom.as_slice()),
        "status": if r.status == TxStatus::Success { "0x1" } else { "0x0" },
        "type": qty(tx_type),
    });
    if let Some((code, msg)) = &r.error {
        // Not in the Ethereum schema; clients ignore it. Keel's failure reason.
        out["keelError"] = json!({ "code": code.code(), "name": code.name(), "message": msg });
        if !r.output.is_empty() && r.status == TxStatus::Failed {
            out["revertData"] = json!(hex0x(&r.output));
        }
    }
    Ok(out)
}

fn render_block(node: &Node, block: &Block, full: bool) -> Result<Value, EthError> {
    let alg = node.suite().hash();
    let h = &block.header;
    let hash = h.hash(alg);
    let receipts = if h.gas_used > 0 {
        node.chain().block_receipts(h.height)?
    } else {
        vec![]
    };
    let all_logs: Vec<logs::EthLog> = receipts.iter().flat_map(receipt_logs).collect();
    let bloom = logs::bloom(&all_logs);
    // The price this block's transactions paid (Keel's base fee; no tips).
    let gas_price = node.gas_price_of_block(h.height)?;
    let txs: Vec<Value> = block
        .transactions
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let th = t.hash(alg);
            if full {
                let loc = TxLocation {
                    height: h.height,
                    index: u32::try_from(i).unwrap_or(u32::MAX),
                };
                render_tx(node, t, &th, Some((loc, hash)), gas_price)
            } else {
                json!(th)
            }
        })
        .collect();
    Ok(json!({
        "number": qty(h.height),
        "hash": hash,
        "parentHash": h.parent_hash,
        "nonce": "0x0000000000000000",
        "sha3Uncles": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
        "logsBloom": hex0x(bloom.as_slice()),
        "transactionsRoot": h.tx_root,
        "stateRoot": h.state_root,
        "receiptsRoot": h.receipts_root,
        "miner": addr_hex(&h.proposer),
        "difficulty": "0x0",
        "totalDifficulty": "0x0",
        "extraData": "0x",
        "size": qty(block.encode().len() as u64),
        "gasLimit": qty(keel_evm::BLOCK_GAS_LIMIT),
        "gasUsed": qty(h.gas_used),
        "timestamp": qty(h.timestamp_ms / 1000),
        "mixHash": Hash([0; 32]),
        "baseFeePerGas": qty(gas_price),
        "transactions": txs,
        "uncles": [],
    }))
}

/// Header-only `newHeads` view of block `height`.
pub(crate) fn head_json(node: &Node, height: u64) -> Result<Option<Value>, EthError> {
    let Some(block) = node.chain().block(height)? else {
        return Ok(None);
    };
    let mut v = render_block(node, &block, false)?;
    if let Some(o) = v.as_object_mut() {
        o.remove("transactions");
        o.remove("uncles");
        o.remove("size");
        o.remove("totalDifficulty");
    }
    Ok(Some(v))
}

// ------------------------------------------------------------------------------------------
// Log filters

/// Criteria of `eth_getLogs`, `eth_newFilter` and `logs` subscriptions.
#[derive(Clone, Debug, Default)]
pub(crate) struct LogFilter {
    from: Option<Value>,
    to: Option<Value>,
    block_hash: Option<Hash>,
    addresses: Vec<[u8; 20]>,
    /// Per position: any of these (empty = wildcard).
    topics: Vec<Vec<[u8; 32]>>,
}

impl LogFilter {
    pub(crate) fn parse(v: Option<&Value>) -> Result<LogFilter, EthError> {
        let mut f = LogFilter::default();
        let Some(v) = v else { return Ok(f) };
        let o = v
            .as_object()
            .ok_or_else(|| EthError::params("filter: expected an object"))?;
        f.from = o.get("fromBlock").filter(|v| !v.is_null()).cloned();
        f.to = o.get("toBlock").filter(|v| !v.is_null()).cloned();
        if let Some(h) = o.get("blockHash").filter(|v| !v.is_null()) {
            f.block_hash = Some(parse_hash(h, "blockHash")?);
        }
        match o.get("address") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                if list.len() > MAX_FILTER_ADDRESSES {
                    return Err(limit_exceeded(format!(
                        "{} addresses in one filter; the limit is {MAX_FILTER_ADDRESSES}",
                        list.len()
                    )));
                }
                for a in list {
                    f.addresses.push(parse_addr(a, "address")?.0);
                }
            }
            Some(a) => f.addresses.push(parse_addr(a, "address")?.0),
        }
        if let Some(Value::Array(ts)) = o.get("topics") {
            if ts.len() > 4 {
                return Err(EthError::params("topics: at most 4 positions"));
            }
            for t in ts {
                let alts = match t {
                    Value::Null => vec![],
                    Value::Array(alts) if alts.len() > MAX_FILTER_TOPIC_ALTERNATIVES => {
                        return Err(limit_exceeded(format!(
                            "{} alternatives for one topic; the limit is \
                             {MAX_FILTER_TOPIC_ALTERNATIVES}",
                            alts.len()
                        )));
                    }
                    Value::Array(alts) => alts
                        .iter()
                        .map(|x| parse_hash(x, "topic").map(|h| h.0))
                        .collect::<Result<_, _>>()?,
                    x => vec![parse_hash(x, "topic")?.0],
                };
                f.topics.push(alts);
            }
        }
        Ok(f)
    }

    /// Addresses plus topic alternatives: what the filter costs to keep and to match.
    pub(crate) fn criteria(&self) -> usize {
        self.addresses.len() + self.topics.iter().map(Vec::len).sum::<usize>()
    }

    pub(crate) fn matches(&self, l: &logs::EthLog) -> bool {
        if !self.addresses.is_empty() && !self.addresses.contains(&l.address.0.0) {
            return false;
        }
        for (i, alts) in self.topics.iter().enumerate() {
            if alts.is_empty() {
                continue;
            }
            match l.topics.get(i) {
                Some(t) if alts.contains(&t.0) => {}
                _ => return false,
            }
        }
        true
    }

    /// Heights the filter covers, clamped to `[min_from, head]`.
    fn range(&self, node: &Node, min_from: u64) -> Result<(u64, u64), EthError> {
        if let Some(h) = &self.block_hash {
            let n = node
                .chain()
                .height_of(h)?
                .ok_or_else(|| EthError::new(-32001, "NOT_FOUND", "block not found"))?;
            return Ok((n.max(min_from), n));
        }
        let head = node.head().height;
        let from = match &self.from {
            None => head,
            Some(v) => block_height_clamped(node, v)?,
        };
        let to = match &self.to {
            None => head,
            Some(v) => block_height_clamped(node, v)?,
        };
        Ok((from.max(min_from), to))
    }
}

/// Like [`block_height`] but a number above the head clamps to the head (filters may name
/// future blocks).
fn block_height_clamped(node: &Node, v: &Value) -> Result<u64, EthError> {
    if v.is_string() && v.as_str().is_some_and(|s| s.starts_with("0x")) {
        let n = parse_qty(v, "block")?;
        return Ok(u64::try_from(n).unwrap_or(u64::MAX).min(node.head().height));
    }
    block_height(node, Some(v))
}

/// The logs of block `height` matching each of `filters` (the block's receipts are read once).
pub(crate) fn block_matches(
    node: &Node,
    height: u64,
    filters: &[&LogFilter],
) -> Result<Vec<Vec<Value>>, EthError> {
    let logs = block_logs(node, height)?;
    Ok(filters
        .iter()
        .map(|f| {
            logs.iter()
                .filter(|l| f.matches(&l.log))
                .map(render_log)
                .collect()
        })
        .collect())
}

pub(crate) fn query_logs(
    node: &Node,
    f: &LogFilter,
    from: u64,
    to: u64,
) -> Result<Vec<Value>, EthError> {
    if to < from {
        return Ok(vec![]);
    }
    if to - from >= MAX_LOG_BLOCK_RANGE {
        return Err(EthError::new(
            -32005,
            "LIMIT_EXCEEDED",
            format!("block range over {MAX_LOG_BLOCK_RANGE} blocks; narrow fromBlock/toBlock"),
        ));
    }
    let mut out = Vec::new();
    for h in from..=to {
        for l in block_logs(node, h)? {
            if f.matches(&l.log) {
                if out.len() >= MAX_LOGS {
                    return Err(EthError::new(
                        -32005,
                        "LIMIT_EXCEEDED",
                        format!("more than {MAX_LOGS} logs; narrow the query"),
                    ));
                }
                out.push(render_log(&l));
            }
        }
    }
    Ok(out)
}

enum FilterKind {
    Logs(LogFilter),
    Blocks,
}

struct Installed {
    kind: FilterKind,
    /// Last height reported.
    cursor: u64,
    touched: Instant,
}

/// Installed filters: one set per server for HTTP, one per WebSocket connection (a
/// connection's filters are its own). Ids are random 128-bit numbers, so a client cannot
/// guess another's.
pub struct EthState {
    filters: Mutex<HashMap<u128, Installed>>,
    max_filters: usize,
    max_criteria: usize,
}

impl Default for EthState {
    fn default() -> Self {
        EthState::new(MAX_FILTERS, MAX_FILTER_CRITERIA_TOTAL)
    }
}

impl std::fmt::Debug for EthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EthState").finish()
    }
}

/// `-32005 LIMIT_EXCEEDED`.
pub(crate) fn limit_exceeded(message: impl Into<String>) -> EthError {
    EthError::new(-32005, "LIMIT_EXCEEDED", message)
}

/// A random 128-bit id from the OS generator, as `0x` + 32 hex digits.
pub(crate) fn random_id() -> Result<(u128, String), EthError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| EthError::internal(format!("OS random source: {e}")))?;
    let id = u128::from_be_bytes(b);
    Ok((id, format!("0x{id:032x}")))
}

impl EthState {
    /// At most `max_filters` filters holding at most `max_criteria` addresses and topics.
    pub(crate) fn new(max_filters: usize, max_criteria: usize) -> Self {
        EthState {
            filters: Mutex::new(HashMap::new()),
            max_filters,
            max_criteria,
        }
    }

    fn install(&self, kind: FilterKind, cursor: u64) -> Result<String, EthError> {
        let mut filters = self.filters.lock().unwrap_or_else(|p| p.into_inner());
        filters.retain(|_, f| f.touched.elapsed() < FILTER_TTL);
        if filters.len() >= self.max_filters {
            return Err(limit_exceeded(format!(
                "{} filters installed; uninstall some",
                self.max_filters
            )));
        }
        let criteria = |k: &FilterKind| match k {
            FilterKind::Logs(f) => f.criteria(),
            FilterKind::Blocks => 0,
        };
        let held: usize = filters.values().map(|f| criteria(&f.kind)).sum();
        if held + criteria(&kind) > self.max_criteria {
            return Err(limit_exceeded(format!(
                "installed filters would hold over {} addresses and topics; uninstall some",
                self.max_criteria
            )));
        }
        let (id, text) = random_id()?;
        filters.insert(
            id,
            Installed {
                kind,
                cursor,
                touched: Instant::now(),
            },
        );
        Ok(text)
    }
}

fn filter_id(v: &Value) -> Result<u128, EthError> {
    parse_qty(v, "filter id")
}

// ------------------------------------------------------------------------------------------
// Calls

/// The call of an `eth_call` / `eth_estimateGas`; its gas (default: all of it) is capped at
/// `gas_cap`, like geth's `RPCGasCap`.
fn call_request(v: &Value, gas_cap: u64) -> Result<CallRequest, EthError> {
    let o = v
        .as_object()
        .ok_or_else(|| EthError::params("call: expected a transaction object"))?;
    let get = |k: &str| o.get(k).filter(|v| !v.is_null());
    let from = match get("from") {
        Some(a) => parse_addr(a, "from")?,
        None => Address([0; 20]),
    };
    let to = get("to").map(|a| parse_addr(a, "to")).transpose()?;
    let value = get("value")
        .map(|x| parse_qty(x, "value"))
        .transpose()?
        .unwrap_or(0);
    let data = match get("input").or_else(|| get("data")) {
        Some(d) => parse_bytes(d, "input")?,
        None => vec![],
    };
    if data.len() > keel_types::limits::MAX_TX_BYTES * 2 {
        return Err(EthError::params("input too large"));
    }
    let gas = get("gas")
        .map(|x| parse_qty(x, "gas"))
        .transpose()?
        .map_or(gas_cap, |g| {
            u64::try_from(g).unwrap_or(u64::MAX).min(gas_cap)
        });
    Ok(CallRequest {
        from,
        to,
        value,
        data,
        gas,
    })
}

fn outcome_error(o: CallOutcome) -> EthError {
    match o {
        CallOutcome::Revert { output, .. } => EthError::reverted(&output),
        CallOutcome::Halt { reason } => EthError::new(
            -32000,
            "EXECUTION_HALTED",
            format!("execution halted: {reason}"),
        ),
        CallOutcome::Success { .. } => EthError::internal("not an error"),
    }
}

// ------------------------------------------------------------------------------------------
// Dispatch

/// What the calls of one request share: the server's limits, the request's budget, the EVM
/// gate and the filters of the client (the server's for HTTP, the connection's for WebSocket).
pub(crate) struct CallCtx<'a> {
    pub(crate) limits: &'a RpcLimits,
    pub(crate) budget: &'a RequestBudget,
    pub(crate) evm: &'a Gate,
    pub(crate) filters: &'a EthState,
}

/// Run one EVM call within the request's gas budget and the EVM gate.
fn metered_call(node: &Node, ctx: &CallCtx<'_>, p: &[Value]) -> Result<Value, EthError> {
    let req = call_request(required(p, 0, "transaction")?, ctx.limits.call_gas_cap)?;
    let h = block_height(node, param(p, 1))?;
    ctx.budget.reserve_gas(req.gas)?;
    let _pass = ctx.evm.enter(ctx.budget.wait_bound())?;
    let params = node.chain_params_at(h)?;
    let out = exec::call(&node.state_at(h), &params, node.call_context(h), &req)?;
    ctx.budget.spend_gas(out.gas_used(req.gas));
    match out {
        CallOutcome::Success { output, .. } => Ok(json!(hex0x(&output))),
        other => Err(outcome_error(other)),
    }
}

/// The request's budget as the meter of an estimate's runs.
struct BudgetMeter<'a>(&'a RequestBudget);

impl exec::RunMeter for BudgetMeter<'_> {
    type Stop = EthError;
    fn before(&mut self, gas_limit: u64) -> Result<(), EthError> {
        Ok(self.0.reserve_gas(gas_limit)?)
    }
    fn after(&mut self, gas_used: u64) {
        self.0.spend_gas(gas_used);
    }
}

/// Estimate gas: every probe is metered by the request's gas budget, all under one EVM slot.
fn metered_estimate(node: &Node, ctx: &CallCtx<'_>, p: &[Value]) -> Result<Value, EthError> {
    let req = call_request(required(p, 0, "transaction")?, ctx.limits.call_gas_cap)?;
    let h = block_height(node, param(p, 1))?;
    ctx.budget.check_deadline()?;
    let _pass = ctx.evm.enter(ctx.budget.wait_bound())?;
    let params = node.chain_params_at(h)?;
    let view = node.state_at(h);
    let mut meter = BudgetMeter(ctx.budget);
    match exec::estimate_gas_metered(&view, &params, node.call_context(h), &req, &mut meter)? {
        Ok(g) => Ok(json!(qty(g))),
        Err(o) => Err(outcome_error(o)),
    }
}

/// Number of reward percentiles of `eth_feeHistory`: at most [`MAX_REWARD_PERCENTILES`]
/// numbers in 0..=100, non-decreasing.
fn reward_percentiles(v: Option<&Value>) -> Result<usize, EthError> {
    let Some(v) = v else { return Ok(0) };
    let list = v
        .as_array()
        .ok_or_else(|| EthError::params("rewardPercentiles: expected an array of numbers"))?;
    if list.len() > MAX_REWARD_PERCENTILES {
        return Err(EthError::params(format!(
            "rewardPercentiles: {} values; the limit is {MAX_REWARD_PERCENTILES}",
            list.len()
        )));
    }
    let mut previous = 0.0;
    for (i, x) in list.iter().enumerate() {
        let f = x
            .as_f64()
            .filter(|f| (0.0..=100.0).contains(f))
            .ok_or_else(|| {
                EthError::params(format!("rewardPercentiles[{i}]: expected a number 0..=100"))
            })?;
        if f < previous {
            return Err(EthError::params(format!(
                "rewardPercentiles[{i}]: {f} is below the previous value {previous}"
            )));
        }
        previous = f;
    }
    Ok(list.len())
}

/// Serve one Ethereum method.
pub(crate) fn dispatch(
    node: &Node,
    ctx: &CallCtx<'_>,
    method: &str,
    params: &Value,
) -> Result<Value, EthError> {
    let state = ctx.filters;
    let empty = Vec::new();
    let p: &[Value] = match params {
        Value::Null => &empty,
        Value::Array(a) => a,
        _ => return Err(EthError::params("params must be a JSON array")),
    };
    // Chain id from genesis; the gas price is read from the head state where it is needed.
    let chain_id = node.genesis().chain_id;
    match method {
        "web3_clientVersion" => Ok(json!(format!("keel/v{}", env!("CARGO_PKG_VERSION")))),
        "net_version" => Ok(json!(chain_id.to_string())),
        "net_listening" => Ok(json!(true)),
        "eth_chainId" => Ok(json!(qty(chain_id))),
        "eth_syncing" => Ok(json!(false)),
        "eth_accounts" => Ok(json!([])),
        "eth_blockNumber" => Ok(json!(qty(node.head().height))),
        "eth_gasPrice" => Ok(json!(qty(node.chain_params()?.gas_price))),
        "eth_maxPriorityFeePerGas" => Ok(json!("0x0")),
        "eth_getBalance" | "eth_getTransactionCount" | "eth_getCode" => {
            let addr = parse_addr(required(p, 0, "address")?, "address")?;
            let tag = param(p, 1);
            let h = block_height(node, tag)?;
            let view = node.state_at(h);
            let alg = node.suite().hash();
            match method {
                "eth_getBalance" => {
                    let a = keel_evm::db::read_account(&view, alg, &addr)?.unwrap_or_default();
                    Ok(json!(qty(a.balance)))
                }
                "eth_getTransactionCount" => {
                    let n = if tag.and_then(|t| t.as_str()) == Some("pending") {
                        node.pending_nonce(&addr)?
                    } else {
                        keel_evm::db::read_account(&view, alg, &addr)?
                            .unwrap_or_default()
                            .nonce
                    };
                    Ok(json!(qty(n)))
                }
                _ => Ok(json!(hex0x(&keel_evm::db::read_code(&view, alg, &addr)?))),
            }
        }
        "eth_getStorageAt" => {
            let addr = parse_addr(required(p, 0, "address")?, "address")?;
            let slot = parse_qty_u256(required(p, 1, "slot")?)?;
            let h = block_height(node, param(p, 2))?;
            let v =
                keel_evm::db::read_storage(&node.state_at(h), node.suite().hash(), &addr, &slot)?;
            Ok(json!(hex0x(&v)))
        }
        "eth_call" => metered_call(node, ctx, p),
        "eth_estimateGas" => metered_estimate(node, ctx, p),
        "eth_feeHistory" => {
            let count = u64::try_from(parse_qty(required(p, 0, "block count")?, "blockCount")?)
                .unwrap_or(u64::MAX)
                .clamp(1, MAX_FEE_HISTORY);
            let newest = block_height(node, param(p, 1))?;
            let oldest = newest.saturating_sub(count - 1);
            let percentiles = reward_percentiles(param(p, 2))?;
            let mut ratios = Vec::new();
            let mut rewards = Vec::new();
            for h in oldest..=newest {
                let used = node.chain().header(h)?.map_or(0, |hd| hd.gas_used);
                ratios.push(json!(used as f64 / keel_evm::BLOCK_GAS_LIMIT as f64));
                rewards.push(json!(vec!["0x0"; percentiles]));
            }
            let n = (newest - oldest + 2) as usize;
            let mut out = json!({
                "oldestBlock": qty(oldest),
                "baseFeePerGas": vec![qty(node.chain_params()?.gas_price); n],
                "gasUsedRatio": ratios,
            });
            if percentiles > 0 {
                out["reward"] = json!(rewards);
            }
            Ok(out)
        }
        "eth_sendRawTransaction" => {
            let raw = parse_bytes(required(p, 0, "raw transaction")?, "raw transaction")?;
            let admitted = node.submit_ethereum(&raw).map_err(admit_error)?;
            Ok(json!(admitted.hash))
        }
        "eth_getTransactionByHash" => {
            let hash = parse_hash(required(p, 0, "hash")?, "hash")?;
            let Some((t, loc)) = node.transaction(&hash)? else {
                // Pending in this node's pool: no block fields yet.
                let price = node.chain_params()?.gas_price;
                return Ok(node
                    .mempool()
                    .get(&hash)
                    .map_or(Value::Null, |p| render_tx(node, &p.tx, &hash, None, price)));
            };
            let block_hash = node
                .chain()
                .header(loc.height)?
                .map(|h| h.hash(node.suite().hash()))
                .unwrap_or(Hash([0; 32]));
            let price = node.gas_price_of_block(loc.height)?;
            Ok(render_tx(node, &t, &hash, Some((loc, block_hash)), price))
        }
        "eth_getTransactionReceipt" => {
            let hash = parse_hash(required(p, 0, "hash")?, "hash")?;
            let Some((t, loc)) = node.transaction(&hash)? else {
                return Ok(Value::Null);
            };
            let Some((r, _)) = node.receipt(&hash)? else {
                return Ok(Value::Null);
            };
            render_receipt(node, &t, &r, loc)
        }
        "eth_getBlockByNumber" | "eth_getBlockByHash" | "eth_getBlockTransactionCountByNumber" => {
            let height = if method == "eth_getBlockByHash" {
                let hash = parse_hash(required(p, 0, "block hash")?, "block hash")?;
                match node.chain().height_of(&hash)? {
                    Some(h) => h,
                    None => return Ok(Value::Null),
                }
            } else {
                match block_height(node, param(p, 0)) {
                    Ok(h) => h,
                    Err(e) if e.code == -32001 => return Ok(Value::Null),
                    Err(e) => return Err(e),
                }
            };
            let Some(block) = node.chain().block(height)? else {
                return Ok(Value::Null);
            };
            if method == "eth_getBlockTransactionCountByNumber" {
                return Ok(json!(qty(block.transactions.len() as u64)));
            }
            let full = param(p, 1).and_then(|v| v.as_bool()).unwrap_or(false);
            render_block(node, &block, full)
        }
        "eth_getLogs" => {
            let f = LogFilter::parse(param(p, 0))?;
            let (from, to) = f.range(node, 0)?;
            Ok(json!(query_logs(node, &f, from, to)?))
        }
        "eth_newFilter" => {
            let f = LogFilter::parse(param(p, 0))?;
            // Changes start after the filter's fromBlock (or the head).
            let (from, _) = f.range(node, 0)?;
            Ok(json!(
                state.install(FilterKind::Logs(f), from.saturating_sub(1))?
            ))
        }
        "eth_newBlockFilter" => Ok(json!(
            state.install(FilterKind::Blocks, node.head().height)?
        )),
        "eth_uninstallFilter" => {
            let id = filter_id(required(p, 0, "filter id")?)?;
            let mut filters = state.filters.lock().unwrap_or_else(|p| p.into_inner());
            Ok(json!(filters.remove(&id).is_some()))
        }
        "eth_getFilterChanges" | "eth_getFilterLogs" => {
            let id = filter_id(required(p, 0, "filter id")?)?;
            let head = node.head().height;
            let (kind_logs, cursor) = {
                let mut filters = state.filters.lock().unwrap_or_else(|p| p.into_inner());
                let f = filters
                    .get_mut(&id)
                    .ok_or_else(|| EthError::new(-32000, "FILTER_NOT_FOUND", "filter not found"))?;
                f.touched = Instant::now();
                let kind = match &f.kind {
                    FilterKind::Logs(l) => Some(l.clone()),
                    FilterKind::Blocks => None,
                };
                let cursor = f.cursor;
                if method == "eth_getFilterChanges" {
                    // Bounded step: a slow poller catches up over several calls.
                    f.cursor = head.min(cursor + MAX_LOG_BLOCK_RANGE);
                }
                (kind, cursor)
            };
            let to = head.min(cursor + MAX_LOG_BLOCK_RANGE);
            match (kind_logs, method) {
                (Some(f), "eth_getFilterLogs") => {
                    let (from, to) = f.range(node, 0)?;
                    Ok(json!(query_logs(node, &f, from, to)?))
                }
                (Some(f), _) => {
                    let (from, end) = f.range(node, cursor + 1)?;
                    Ok(json!(query_logs(node, &f, from, end.min(to))?))
                }
                (None, "eth_getFilterLogs") => Err(EthError::params("not a log filter")),
                (None, _) => {
                    let alg = node.suite().hash();
                    let mut hashes = Vec::new();
                    for h in cursor + 1..=to {
                        if let Some(hd) = node.chain().header(h)? {
                            hashes.push(json!(hd.hash(alg)));
                        }
                    }
                    Ok(json!(hashes))
                }
            }
        }
        "eth_subscribe" | "eth_unsubscribe" => Err(EthError::new(
            -32601,
            "METHOD_NOT_FOUND",
            format!("{method} is only available over WebSocket (GET /ws)"),
        )),
        _ => Err(EthError::new(
            -32601,
            "METHOD_NOT_FOUND",
            format!("unknown method {method:?}; see docs/rpc.md for the method list"),
        )),
    }
}

fn parse_qty_u256(v: &Value) -> Result<[u8; 32], EthError> {
    let s = v
        .as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .ok_or_else(|| EthError::params("slot: expected a 0x quantity"))?;
    if s.len() > 64 {
        return Err(EthError::params("slot: over 32 bytes"));
    }
    let padded = format!("{s:0>64}");
    let b = hex::decode(padded).map_err(|e| EthError::params(format!("slot: {e}")))?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&b);
    Ok(out)
}
