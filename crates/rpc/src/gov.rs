//! Governance methods (ADR 0011): members and validators, proposals, account permissions.

use crate::error::RpcError;
use keel_execution::governance::{MAX_OPEN_PROPOSALS, Proposal, ProposalStatus};
use keel_node::Node;
use keel_types::{Address, ChainParam, GovAction, GovPayload, Hash, OpPolicy, Operation};
use serde_json::{Value, json};

/// The governance methods.
pub(crate) const GOV_METHODS: &[&str] = &[
    "keel_getMembers",
    "keel_getProposal",
    "keel_listProposals",
    "keel_getPermissions",
];

fn param<'a>(method: &str, params: &'a Value, i: usize, what: &str) -> Result<&'a str, RpcError> {
    params
        .as_array()
        .and_then(|a| a.get(i))
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            RpcError::invalid_params(format!("{method} param {}: expected {what}", i + 1))
        })
}

fn arity(method: &str, params: &Value, n: usize) -> Result<(), RpcError> {
    let len = match params {
        Value::Null => 0,
        Value::Array(a) => a.len(),
        _ => {
            return Err(RpcError::invalid_params(format!(
                "{method} takes positional params (a JSON array)"
            )));
        }
    };
    if len > n {
        return Err(RpcError::invalid_params(format!(
            "{method} takes at most {n} params, got {len}"
        )));
    }
    Ok(())
}

/// Run a governance method (`method` is one of [`GOV_METHODS`]).
pub(crate) fn dispatch(node: &Node, method: &str, params: &Value) -> Result<Value, RpcError> {
    match method {
        "keel_getMembers" => {
            arity(method, params, 0)?;
            members(node)
        }
        "keel_getProposal" => {
            arity(method, params, 1)?;
            let id: Hash = param(method, params, 0, "a 0x-prefixed proposal id")?
                .parse()
                .map_err(|_| {
                    RpcError::invalid_params(format!(
                        "{method} param 1: expected a 0x-prefixed proposal id"
                    ))
                })?;
            let head = node.head().height;
            Ok(node
                .proposal(&id)?
                .map(|p| proposal(&p, head))
                .unwrap_or(Value::Null))
        }
        "keel_listProposals" => {
            arity(method, params, 0)?;
            let head = node.head().height;
            let Some(g) = node.gov_state()? else {
                return Ok(json!({ "open": [], "recent": [] }));
            };
            let load = |ids: &[Hash]| -> Result<Vec<Value>, RpcError> {
                let mut out = Vec::new();
                for id in ids.iter().rev().take(MAX_OPEN_PROPOSALS) {
                    if let Some(p) = node.proposal(id)? {
                        out.push(proposal(&p, head));
                    }
                }
                Ok(out)
            };
            let recent = keel_execution::governance::recent_proposals(
                &node.head_view(),
                node.suite().hash(),
            )
            .map_err(|e| RpcError::internal(e.to_string()))?;
            Ok(json!({ "open": load(&g.open)?, "recent": load(&recent)? }))
        }
        "keel_getPermissions" => {
            arity(method, params, 1)?;
            let a: Address = param(method, params, 0, "a 0x-prefixed address")?
                .parse()
                .map_err(|_| {
                    RpcError::invalid_params(format!(
                        "{method} param 1: expected a 0x-prefixed address"
                    ))
                })?;
            let perm = node.account_perm(&a)?;
            let g = node.gov_state()?;
            let member = g.as_ref().and_then(|g| g.weight_of(&a));
            let permissioned = g.as_ref().is_some_and(|g| g.permissioned);
            let may_send = !perm.frozen
                && (member.is_some()
                    || (perm.admitted && perm.role.may_write())
                    || (!perm.admitted && !permissioned));
            Ok(json!({
                "address": a,
                "admitted": perm.admitted,
                "role": perm.admitted.then(|| perm.role.name()),
                "org": perm.org,
                "frozen": perm.frozen,
                "member": member.is_some(),
                "weight": member,
                "validator": node.current_validators().contains(&a),
                "maySend": may_send,
                "certFingerprint": perm.cert_fingerprint,
            }))
        }
        _ => Err(RpcError::method_not_found(method)),
    }
}

fn members(node: &Node) -> Result<Value, RpcError> {
    let epoch = node.epoch()?;
    let alg = node.suite().hash();
    let validators: Vec<Value> = epoch
        .validators
        .iter()
        .map(|v| {
            json!({
                "name": v.name,
                "address": keel_execution::governance::validator_address(alg, v),
                "scheme": v.key.scheme.name(),
                "publicKey": format!("0x{}", hex::encode(&v.key.public_key)),
                "p2pAddr": v.p2p_addr,
            })
        })
        .collect();
    let online: Vec<Address> = node.online_validators()?.into_iter().collect();
    let g = node.gov_state()?;
    let (committee, permissioned, threshold, ttl, params) = match &g {
        Some(g) => (
            g.members
                .iter()
                .map(|m| {
                    json!({
                        "address": m.address,
                        "weight": m.weight,
                        "org": m.org,
                        "certFingerprint": m.cert_fingerprint,
                    })
                })
                .collect::<Vec<_>>(),
            g.permissioned,
            format!("{}/{}", g.threshold_num, g.threshold_den),
            g.proposal_ttl_blocks,
            json!({
                "gasPrice": g.gas_price.map(|p| p.to_string()),
                "maxBlockTxs": g.max_block_txs,
                "blockIntervalMs": g.block_interval_ms,
            }),
        ),
        None => (vec![], false, String::new(), 0, Value::Null),
    };
    let mut policies = serde_json::Map::new();
    for op in Operation::ALL {
        let p = keel_execution::governance::op_policy(&node.head_view(), alg, op)
            .map_err(|e| RpcError::internal(e.to_string()))?;
        if p != OpPolicy::Open {
            policies.insert(op.name().into(), policy_json(&p));
        }
    }
    let nodes = keel_execution::governance::node_policy(&node.head_view(), alg)
        .map_err(|e| RpcError::internal(e.to_string()))?;
    let revoked = keel_execution::governance::revoked_fingerprints(&node.head_view(), alg)
        .map_err(|e| RpcError::internal(e.to_string()))?;
    Ok(json!({
        "operationPolicies": policies,
        "nodePolicy": policy_json(&nodes),
        "revokedCertificates": revoked,
        "epoch": epoch.epoch,
        "epochStartHeight": epoch.start_height,
        "validators": validators,
        "onlineValidators": online,
        "committee": committee,
        "permissioned": permissioned,
        "threshold": threshold,
        "proposalTtlBlocks": ttl,
        "params": params,
    }))
}

/// JSON view of an action.
pub(crate) fn action(a: &GovAction) -> Value {
    let body = match a {
        GovAction::AddMember {
            address,
            weight,
            org,
        } => json!({ "address": address, "weight": weight, "org": org }),
        GovAction::RemoveMember { address }
        | GovAction::RemoveValidator { address }
        | GovAction::RemoveAccount { address }
        | GovAction::Freeze { address }
        | GovAction::Unfreeze { address } => json!({ "address": address }),
        GovAction::AddValidator(v) => json!({
            "name": v.name,
            "scheme": v.key.scheme.name(),
            "publicKey": format!("0x{}", hex::encode(&v.key.public_key)),
            "p2pAddr": v.p2p_addr,
        }),
        GovAction::SetAccount {
            address,
            role,
            org,
            cert_fingerprint,
        } => json!({
            "address": address,
            "role": role.name(),
            "org": org,
            "certFingerprint": cert_fingerprint,
        }),
        GovAction::SetAccountCertificate {
            address,
            fingerprint,
            role,
            org,
            not_after_secs,
        } => json!({
            "address": address,
            "certFingerprint": fingerprint,
            "role": role.name(),
            "org": org,
            "notAfter": not_after_secs,
        }),
        GovAction::RevokeCertificate { fingerprint } => json!({ "fingerprint": fingerprint }),
        GovAction::SetOperationPolicy { op, policy } => {
            json!({ "operation": op.name(), "policy": policy_json(policy) })
        }
        GovAction::SetNodePolicy { policy } => json!({ "policy": policy_json(policy) }),
        GovAction::SetParam(p) => match p {
            ChainParam::GasPrice(g) => json!({ "param": "gas_price", "value": g.to_string() }),
            ChainParam::MaxBlockTxs(n) => json!({ "param": "max_block_txs", "value": n }),
            ChainParam::BlockIntervalMs(ms) => {
                json!({ "param": "block_interval_ms", "value": ms })
            }
            ChainParam::ProposalTtlBlocks(t) => {
                json!({ "param": "proposal_ttl_blocks", "value": t })
            }
            ChainParam::MaxBlockGas(g) => json!({ "param": "max_block_gas", "value": g }),
            ChainParam::RequireAccountCertificates(on) => {
                json!({ "param": "require_account_certificates", "value": on })
            }
        },
    };
    json!({ "type": a.name(), "args": body })
}

fn policy_json(p: &OpPolicy) -> Value {
    match p {
        OpPolicy::Open => json!({ "type": "open" }),
        OpPolicy::AllowList(l) => json!({ "type": "allow", "addresses": l }),
        OpPolicy::DenyList(l) => json!({ "type": "deny", "addresses": l }),
    }
}

/// JSON view of a governance payload (for `keel_getTransaction`).
pub(crate) fn payload(g: &GovPayload) -> Value {
    match g {
        GovPayload::Propose {
            action: a,
            ttl_blocks,
        } => {
            json!({ "type": "govPropose", "action": action(a), "ttlBlocks": ttl_blocks })
        }
        GovPayload::Vote { proposal, approve } => {
            json!({ "type": "govVote", "proposal": proposal, "approve": approve })
        }
        GovPayload::RevokeMemberCertificate { certificate } => json!({
            "type": "govRevokeMemberCertificate",
            "certificate": format!("0x{}", hex::encode(certificate)),
        }),
    }
}

fn proposal(p: &Proposal, head: u64) -> Value {
    // An open proposal past its expiry is reported as expired (it is closed in state by the
    // next governance transaction).
    let (status, detail) = match &p.status {
        ProposalStatus::Open if head > p.expires_at_height => ("expired", Value::Null),
        ProposalStatus::Failed { code, message, .. } => {
            ("failed", json!({ "code": code, "message": message }))
        }
        s => (s.name(), Value::Null),
    };
    let closed_at = match &p.status {
        ProposalStatus::Open => None,
        ProposalStatus::Accepted { height }
        | ProposalStatus::Rejected { height }
        | ProposalStatus::Expired { height }
        | ProposalStatus::Failed { height, .. } => Some(*height),
    };
    json!({
        "id": p.id,
        "proposer": p.proposer,
        "action": action(&p.action),
        "createdHeight": p.created_height,
        "expiresAtHeight": p.expires_at_height,
        "votes": p.votes.iter().map(|(a, y)| json!({ "voter": a, "approve": y })).collect::<Vec<_>>(),
        "status": status,
        "closedAtHeight": closed_at,
        "failure": detail,
    })
}

/// Governance gauges for `GET /metrics`: epoch, validators, open proposals.
pub(crate) fn render_metrics(
    node: &Node,
    o: &mut String,
    family: fn(&mut String, &str, &str, &str),
) {
    use std::fmt::Write;
    if let Ok(e) = node.epoch() {
        family(o, "keel_gov_epoch", "gauge", "Current validator-set epoch.");
        let _ = writeln!(o, "keel_gov_epoch {}", e.epoch);
        family(
            o,
            "keel_gov_validators",
            "gauge",
            "Validators of the current epoch.",
        );
        let _ = writeln!(o, "keel_gov_validators {}", e.validators.len());
    }
    if let Ok(Some(g)) = node.gov_state() {
        family(
            o,
            "keel_gov_open_proposals",
            "gauge",
            "Governance proposals collecting votes.",
        );
        let _ = writeln!(o, "keel_gov_open_proposals {}", g.open.len());
    }
}
