//! Method dispatch.

use crate::error::RpcError;
use crate::{MAX_LIST, MAX_SEND_BATCH, render};
use keel_ledger::ProofKind;
use keel_node::Node;
use keel_types::{Address, ContentHashAlg, Hash, limits};
use serde_json::{Value, json};

/// Every method, for docs and `keel_methods`.
pub const METHODS: &[&str] = &[
    "keel_sendTransaction",
    "keel_sendTransactions",
    "keel_getTransaction",
    "keel_getReceipt",
    "keel_getBlock",
    "keel_getAccount",
    "keel_getEvidence",
    "keel_listEvidence",
    "keel_getProof",
    "keel_chainInfo",
    "keel_health",
    "keel_status",
    "keel_getTxProof",
    "keel_validators",
    "keel_getMembers",
    "keel_getProposal",
    "keel_listProposals",
    "keel_getPermissions",
    "keel_resolveDid",
];

struct Params<'a> {
    method: &'a str,
    items: &'a [Value],
}

impl<'a> Params<'a> {
    fn new(method: &'a str, params: &'a Value) -> Result<Self, RpcError> {
        let items: &[Value] = match params {
            Value::Null => &[],
            Value::Array(a) => a,
            _ => {
                return Err(RpcError::invalid_params(format!(
                    "{method} takes positional params (a JSON array)"
                )));
            }
        };
        Ok(Params { method, items })
    }

    fn bad(&self, i: usize, what: &str) -> RpcError {
        RpcError::invalid_params(format!("{} param {}: expected {what}", self.method, i + 1))
    }

    fn get(&self, i: usize) -> Option<&'a Value> {
        self.items.get(i).filter(|v| !v.is_null())
    }

    fn required(&self, i: usize, what: &str) -> Result<&'a Value, RpcError> {
        self.get(i).ok_or_else(|| self.bad(i, what))
    }

    fn str(&self, i: usize, what: &str) -> Result<&'a str, RpcError> {
        self.required(i, what)?
            .as_str()
            .ok_or_else(|| self.bad(i, what))
    }

    fn hash(&self, i: usize) -> Result<Hash, RpcError> {
        self.str(i, "a 0x-prefixed 32-byte hex hash")?
            .parse()
            .map_err(|_| self.bad(i, "a 0x-prefixed 32-byte hex hash"))
    }

    fn address(&self, i: usize) -> Result<Address, RpcError> {
        self.str(i, "a 0x-prefixed 20-byte hex address")?
            .parse()
            .map_err(|_| self.bad(i, "a 0x-prefixed 20-byte hex address"))
    }

    fn opt_u64(&self, i: usize, what: &str) -> Result<Option<u64>, RpcError> {
        self.get(i)
            .map(|v| v.as_u64().ok_or_else(|| self.bad(i, what)))
            .transpose()
    }

    fn max_arity(&self, n: usize) -> Result<(), RpcError> {
        if self.items.len() > n {
            return Err(RpcError::invalid_params(format!(
                "{} takes at most {n} params, got {}",
                self.method,
                self.items.len()
            )));
        }
        Ok(())
    }
}

fn raw_tx(v: &Value) -> Result<Vec<u8>, String> {
    let s = v
        .as_str()
        .ok_or("expected a 0x-prefixed hex string of an encoded transaction")?;
    let body = s.strip_prefix("0x").unwrap_or(s);
    // Bound before decoding hex: 2 chars per byte.
    if body.len() > 2 * (limits::MAX_TX_BYTES + 1) {
        return Ok(vec![0; limits::MAX_TX_BYTES + 1]); // let admission report TX_TOO_LARGE
    }
    hex::decode(body).map_err(|_| "transaction is not valid hex".to_string())
}

/// Run one call.
pub(crate) fn dispatch(node: &Node, method: &str, params: &Value) -> Result<Value, RpcError> {
    let p = Params::new(method, params)?;
    let suite = node.suite();
    let alg = suite.hash();
    match method {
        "keel_sendTransaction" => {
            p.max_arity(1)?;
            let raw = raw_tx(p.required(0, "a hex transaction")?)
                .map_err(|e| RpcError::invalid_params(format!("{method} param 1: {e}")))?;
            let admitted = node.submit(&[raw]).remove(0)?;
            Ok(json!({ "hash": admitted.hash, "sender": admitted.sender }))
        }
        "keel_sendTransactions" => {
            p.max_arity(1)?;
            let list = p.required(0, "an array of hex transactions")?;
            let list = list
                .as_array()
                .ok_or_else(|| p.bad(0, "an array of hex transactions"))?;
            if list.len() > MAX_SEND_BATCH {
                return Err(RpcError::batch_too_large(list.len(), MAX_SEND_BATCH));
            }
            let mut raws = Vec::with_capacity(list.len());
            let mut decode_errors = Vec::new();
            for (i, v) in list.iter().enumerate() {
                match raw_tx(v) {
                    Ok(r) => raws.push(r),
                    Err(e) => {
                        decode_errors.push((i, e));
                        raws.push(Vec::new()); // placeholder: decodes as malformed
                    }
                }
            }
            let results = node.submit(&raws);
            let out: Vec<Value> = results
                .into_iter()
                .enumerate()
                .map(
                    |(i, r)| match (decode_errors.iter().find(|(j, _)| *j == i), r) {
                        (Some((_, e)), _) => {
                            json!({ "error": RpcError::invalid_params(e.clone()).to_json() })
                        }
                        (None, Ok(a)) => json!({ "hash": a.hash, "sender": a.sender }),
                        (None, Err(e)) => json!({ "error": RpcError::from(e).to_json() }),
                    },
                )
                .collect();
            Ok(Value::Array(out))
        }
        "keel_getTransaction" => {
            p.max_arity(1)?;
            let h = p.hash(0)?;
            Ok(match node.transaction(&h)? {
                Some((t, loc)) => render::tx(&t, &h, suite, Some(loc)),
                None => Value::Null,
            })
        }
        "keel_getReceipt" => {
            p.max_arity(1)?;
            let h = p.hash(0)?;
            Ok(match node.receipt(&h)? {
                Some((r, loc)) => render::receipt(&r, loc),
                None => Value::Null,
            })
        }
        "keel_getBlock" => {
            p.max_arity(2)?;
            let what = "a height, \"latest\", \"earliest\" or a 0x block hash";
            let head = node.head();
            let height = match p.required(0, what)? {
                Value::Number(n) => n.as_u64().ok_or_else(|| p.bad(0, what))?,
                Value::String(s) if s == "latest" => head.height,
                Value::String(s) if s == "earliest" => 0,
                Value::String(s) => {
                    let h: Hash = s.parse().map_err(|_| p.bad(0, what))?;
                    match node.chain().height_of(&h)? {
                        Some(height) => height,
                        None => return Ok(Value::Null),
                    }
                }
                _ => return Err(p.bad(0, what)),
            };
            let full = match p.get(1) {
                None => false,
                Some(v) => v
                    .as_bool()
                    .ok_or_else(|| p.bad(1, "a boolean (full transactions)"))?,
            };
            Ok(match node.chain().block(height)? {
                Some(b) => render::block(&b, &b.hash(alg), suite, full),
                None => Value::Null,
            })
        }
        "keel_getAccount" => {
            p.max_arity(1)?;
            let a = p.address(0)?;
            Ok(render::account(&a, &node.account(&a)?))
        }
        "keel_getEvidence" => {
            p.max_arity(2)?;
            // [id] or [contentHash, hashAlg]
            let rec = if p.get(1).is_some() {
                let content = p.hash(0)?;
                let alg_name = p.str(1, "\"sm3\" or \"sha256\"")?;
                let calg = ContentHashAlg::from_name(alg_name)
                    .ok_or_else(|| p.bad(1, "\"sm3\" or \"sha256\""))?;
                node.evidence_by_hash(calg, &content)?
            } else {
                node.evidence(&p.hash(0)?)?
            };
            Ok(rec.as_ref().map(render::evidence).unwrap_or(Value::Null))
        }
        "keel_listEvidence" => {
            p.max_arity(3)?;
            let owner = p.address(0)?;
            let offset = p.opt_u64(1, "an offset")?.unwrap_or(0) as usize;
            let limit = p
                .opt_u64(2, "a limit")?
                .unwrap_or(MAX_LIST as u64)
                .min(MAX_LIST as u64) as usize;
            let recs = node.evidence_of_owner(&owner, offset, limit)?;
            Ok(Value::Array(recs.iter().map(render::evidence).collect()))
        }
        "keel_getProof" => {
            p.max_arity(2)?;
            let what = "{\"account\": addr} | {\"evidence\": id} | {\"contentHash\": h, \"hashAlg\": \"sm3\"|\"sha256\"} | {\"did\": \"did:keel:…\"}";
            let spec = p
                .required(0, what)?
                .as_object()
                .ok_or_else(|| p.bad(0, what))?;
            let field = |k: &str| spec.get(k).and_then(|v| v.as_str());
            let kind = if let Some(a) = field("account") {
                ProofKind::Account(a.parse().map_err(|_| p.bad(0, what))?)
            } else if let Some(id) = field("evidence") {
                ProofKind::Evidence(id.parse().map_err(|_| p.bad(0, what))?)
            } else if let Some(did) = field("did") {
                let (chain, id) = crate::did::parse_did(did).ok_or_else(|| p.bad(0, what))?;
                if chain != node.genesis().chain_id {
                    return Err(p.bad(0, what));
                }
                ProofKind::Did(id)
            } else if let (Some(h), Some(a)) = (field("contentHash"), field("hashAlg")) {
                let calg = ContentHashAlg::from_name(a).ok_or_else(|| p.bad(0, what))?;
                ProofKind::EvidenceHash(calg, h.parse().map_err(|_| p.bad(0, what))?)
            } else {
                return Err(p.bad(0, what));
            };
            let height = p.opt_u64(1, "a block height")?;
            Ok(match node.prove(kind, height)? {
                Some(pr) => {
                    serde_json::to_value(pr).map_err(|e| RpcError::internal(e.to_string()))?
                }
                None => Value::Null,
            })
        }
        "keel_chainInfo" => {
            p.max_arity(0)?;
            serde_json::to_value(node.chain_info()?).map_err(|e| RpcError::internal(e.to_string()))
        }
        "keel_status" => {
            p.max_arity(0)?;
            Ok(crate::status::status(node))
        }
        "keel_health" => {
            p.max_arity(0)?;
            let head = node.head();
            let age_ms = keel_node::producer::now_ms().saturating_sub(head.header.timestamp_ms);
            let halted = node.halted();
            Ok(json!({
                "status": if halted.is_some() { "halted" } else { "ok" },
                "haltReason": halted,
                "height": head.height,
                "headAgeMs": age_ms,
                "pendingTxs": node.mempool().len(),
            }))
        }
        "keel_resolveDid" => crate::did::resolve(node, params),
        m if crate::gov::GOV_METHODS.contains(&m) => crate::gov::dispatch(node, m, params),
        _ => crate::explorer::dispatch(node, method, params)
            .unwrap_or_else(|| Err(RpcError::method_not_found(method))),
    }
}
