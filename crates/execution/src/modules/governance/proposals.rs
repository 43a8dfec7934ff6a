//! Proposals and votes: open, count weights against the threshold, accept, reject, expire.

use super::Refusal;
use super::actions::{apply_action, precheck};
use super::state::{
    EpochState, GovState, MAX_OPEN_PROPOSALS, MAX_RECENT_PROPOSALS, Proposal, ProposalStatus,
    epoch_state, gov_state, proposal, proposal_key, recent_key, recent_proposals, state_key,
};
use crate::ExecutionError;
use crate::context::BlockContext;
use crate::overlay::{Overlay, StateView};
use keel_crypto::HashAlgorithm;
use keel_types::{Address, Event, ExecErrorCode, GovPayload, Hash, codec};

pub(crate) type TxResult<T> = Result<T, Result<Refusal, ExecutionError>>;

pub(super) fn refuse<T>(code: ExecErrorCode, msg: impl Into<String>) -> TxResult<T> {
    Err(Ok((code, msg.into())))
}

fn load_state(ov: &Overlay<'_>, alg: HashAlgorithm) -> TxResult<GovState> {
    match gov_state(ov, alg).map_err(Err)? {
        Some(s) => Ok(s),
        None => refuse(
            ExecErrorCode::GovInvalid,
            "this chain has no governance state",
        ),
    }
}

pub(super) fn load_epoch(ov: &Overlay<'_>, alg: HashAlgorithm) -> TxResult<EpochState> {
    match epoch_state(ov, alg).map_err(Err)? {
        Some(s) => Ok(s),
        None => refuse(ExecErrorCode::GovInvalid, "this chain has no epoch state"),
    }
}

fn event(name: &str, attrs: Vec<(&str, String)>) -> Event {
    Event {
        module: "gov".into(),
        name: name.into(),
        attributes: attrs.into_iter().map(|(k, v)| (k.into(), v)).collect(),
    }
}

/// Execute a governance payload in the transaction overlay.
pub(crate) fn apply(
    ov: &mut Overlay<'_>,
    alg: HashAlgorithm,
    ctx: BlockContext,
    sender: &Address,
    tx_hash: Hash,
    payload: &GovPayload,
) -> TxResult<Vec<Event>> {
    let mut state = load_state(ov, alg)?;
    let mut events = expire(ov, alg, ctx, &mut state)?;
    match payload {
        GovPayload::Propose { action, ttl_blocks } => {
            precheck(ov, alg, ctx, &state, action)?;
            if state.open.len() >= MAX_OPEN_PROPOSALS {
                return refuse(
                    ExecErrorCode::GovInvalid,
                    format!("{MAX_OPEN_PROPOSALS} proposals are already open"),
                );
            }
            let ttl = if *ttl_blocks == 0 {
                state.proposal_ttl_blocks
            } else {
                *ttl_blocks
            };
            let p = Proposal {
                id: tx_hash,
                proposer: *sender,
                action: action.clone(),
                created_height: ctx.height,
                expires_at_height: ctx.height.saturating_add(ttl),
                votes: vec![(*sender, true)],
                status: ProposalStatus::Open,
            };
            state.open.push(tx_hash);
            events.push(event(
                "ProposalCreated",
                vec![
                    ("id", tx_hash.to_string()),
                    ("action", action.name().into()),
                    ("proposer", sender.to_string()),
                ],
            ));
            decide(ov, alg, ctx, &mut state, p, &mut events)?;
        }
        GovPayload::Vote {
            proposal: id,
            approve,
        } => {
            let Some(mut p) = proposal(ov, alg, id).map_err(Err)? else {
                return refuse(ExecErrorCode::GovInvalid, format!("no proposal {id}"));
            };
            if p.status != ProposalStatus::Open {
                return refuse(
                    ExecErrorCode::GovInvalid,
                    format!("proposal {id} is {}, not open", p.status.name()),
                );
            }
            if p.votes.iter().any(|(a, _)| a == sender) {
                return refuse(
                    ExecErrorCode::GovInvalid,
                    format!("{sender} already voted on proposal {id}"),
                );
            }
            p.votes.push((*sender, *approve));
            events.push(event(
                "Voted",
                vec![
                    ("id", id.to_string()),
                    ("voter", sender.to_string()),
                    ("approve", approve.to_string()),
                ],
            ));
            decide(ov, alg, ctx, &mut state, p, &mut events)?;
        }
        GovPayload::RevokeMemberCertificate { certificate } => {
            let fp = super::actions::revoke_member(ov, alg, ctx, sender, certificate)?;
            events.push(event(
                "CertificateRevoked",
                vec![("fingerprint", fp.to_string()), ("by", sender.to_string())],
            ));
        }
    }
    ov.put(state_key(alg), codec::encode(&state));
    Ok(events)
}

/// Close proposals past their expiry.
fn expire(
    ov: &mut Overlay<'_>,
    alg: HashAlgorithm,
    ctx: BlockContext,
    state: &mut GovState,
) -> TxResult<Vec<Event>> {
    let mut events = vec![];
    let mut still_open = Vec::with_capacity(state.open.len());
    for id in std::mem::take(&mut state.open) {
        match proposal(ov, alg, &id).map_err(Err)? {
            Some(mut p) if ctx.height > p.expires_at_height => {
                p.status = ProposalStatus::Expired { height: ctx.height };
                ov.put(proposal_key(alg, &id), codec::encode(&p));
                push_recent(ov, alg, id)?;
                events.push(event("ProposalExpired", vec![("id", id.to_string())]));
            }
            Some(_) => still_open.push(id),
            None => {}
        }
    }
    state.open = still_open;
    Ok(events)
}

/// Remember a closed proposal (kept apart from [`GovState`], which every transaction reads).
fn push_recent(ov: &mut Overlay<'_>, alg: HashAlgorithm, id: Hash) -> TxResult<()> {
    let mut recent = recent_proposals(ov, alg).map_err(Err)?;
    recent.push(id);
    if recent.len() > MAX_RECENT_PROPOSALS {
        let extra = recent.len() - MAX_RECENT_PROPOSALS;
        recent.drain(..extra);
    }
    ov.put(recent_key(alg), codec::encode(&recent));
    Ok(())
}

/// Count weights; accept (apply), reject or keep open. Stores the proposal.
fn decide(
    ov: &mut Overlay<'_>,
    alg: HashAlgorithm,
    ctx: BlockContext,
    state: &mut GovState,
    mut p: Proposal,
    events: &mut Vec<Event>,
) -> TxResult<()> {
    let total = u128::from(state.total_weight());
    let (mut yes, mut no) = (0u128, 0u128);
    for (a, approve) in &p.votes {
        let w = u128::from(state.weight_of(a).unwrap_or(0));
        if *approve {
            yes += w;
        } else {
            no += w;
        }
    }
    let (num, den) = (
        u128::from(state.threshold_num),
        u128::from(state.threshold_den.max(1)),
    );
    let closed = if total > 0 && yes * den >= total * num {
        match precheck(ov, alg, ctx, state, &p.action)
            .and_then(|()| apply_action(ov, alg, ctx, state, &p.action))
        {
            Ok(()) => {
                p.status = ProposalStatus::Accepted { height: ctx.height };
                events.push(event(
                    "ProposalAccepted",
                    vec![("id", p.id.to_string()), ("action", p.action.name().into())],
                ));
            }
            Err(Err(e)) => return Err(Err(e)),
            Err(Ok((code, message))) => {
                events.push(event(
                    "ProposalFailed",
                    vec![("id", p.id.to_string()), ("code", code.name().into())],
                ));
                p.status = ProposalStatus::Failed {
                    height: ctx.height,
                    code: code.name().into(),
                    message,
                };
            }
        }
        true
    } else if total > 0 && (total - no) * den < total * num {
        p.status = ProposalStatus::Rejected { height: ctx.height };
        events.push(event("ProposalRejected", vec![("id", p.id.to_string())]));
        true
    } else {
        false
    };
    if closed {
        state.open.retain(|id| *id != p.id);
        push_recent(ov, alg, p.id)?;
    }
    ov.put(proposal_key(alg, &p.id), codec::encode(&p));
    Ok(())
}

/// Run a governance payload against `view` without keeping its effects: the admission-time
/// check that refuses, with an explanation, what execution would refuse.
pub fn dry_run(
    view: &dyn StateView,
    alg: HashAlgorithm,
    ctx: BlockContext,
    sender: &Address,
    tx_hash: Hash,
    payload: &GovPayload,
) -> Result<(), Result<Refusal, ExecutionError>> {
    let mut ov = Overlay::new(view);
    apply(&mut ov, alg, ctx, sender, tx_hash, payload).map(|_| ())
}
