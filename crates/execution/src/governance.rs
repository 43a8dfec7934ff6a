//! The governance module (ADR 0011): committee, account roles and freezes, proposals voted by
//! weight with a threshold, chain parameters, revoked certificates, and the epoch state (the
//! validator set), which changes only when a validator proposal is accepted — that block ends
//! the epoch.
//!
//! Everything lives in the authenticated state, so it is proven and synced like any other
//! module's data:
//!
//! | key | value |
//! |---|---|
//! | `H("keel/gov/v1" ‖ "state")` | [`GovState`]: permissioned flag, committee, threshold, params, open proposals |
//! | `H("keel/gov/v1" ‖ "recent")` | ids of recently closed proposals (≤ 256) |
//! | `H("keel/gov/v1" ‖ "epoch")` | [`EpochState`]: epoch number, first height, validators |
//! | `H("keel/gov/acct/v1" ‖ address)` | [`AccountPerm`]: role, frozen, admitted |
//! | `H("keel/gov/prop/v1" ‖ id)` | [`Proposal`] |
//! | `H("keel/gov/revoked/v1" ‖ fingerprint)` | height of revocation (u64) |
//! | `H("keel/gov/op/v1" ‖ operation tag)` | [`OpPolicy`] of an operation (allow/deny list) |

use crate::ExecutionError;
use crate::executor::{BlockContext, decode_value};
use crate::keys::StateKey;
use crate::overlay::{Overlay, StateView};
use borsh::{BorshDeserialize, BorshSerialize};
use keel_crypto::HashAlgorithm;
use keel_types::{
    Address, ChainParam, Event, ExecErrorCode, GovAction, GovPayload, Hash, OpPolicy, Operation,
    Payload, Role, ValidatorInfo, codec, limits,
};

/// Most open proposals at once (bounds the state record and the votes scanned).
pub const MAX_OPEN_PROPOSALS: usize = 64;
/// Most closed proposal ids remembered for `keel_listProposals`.
pub const MAX_RECENT_PROPOSALS: usize = 256;
/// Most committee members.
pub const MAX_MEMBERS: usize = 128;
/// Most validators (mirrors `keel_consensus::MAX_VALIDATORS`).
pub const MAX_VALIDATORS: usize = 128;
/// Default lifetime of a proposal, blocks.
pub const DEFAULT_PROPOSAL_TTL_BLOCKS: u64 = 1_000;

/// A committee member.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Member {
    /// Voting account.
    pub address: Address,
    /// Voting weight.
    pub weight: u64,
    /// Organisation.
    pub org: String,
    /// Optional certificate fingerprint (bound by the PKI later).
    pub cert_fingerprint: Option<Hash>,
}

/// Chain-wide governance state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct GovState {
    /// Only admitted accounts (and members) may send transactions.
    pub permissioned: bool,
    /// The committee.
    pub members: Vec<Member>,
    /// Acceptance threshold numerator (yes weight / total weight ≥ num / den).
    pub threshold_num: u64,
    /// Acceptance threshold denominator.
    pub threshold_den: u64,
    /// Default proposal lifetime, blocks.
    pub proposal_ttl_blocks: u64,
    /// Gas price set by governance (overrides genesis).
    pub gas_price: Option<u128>,
    /// Max transactions per block set by governance.
    pub max_block_txs: Option<u32>,
    /// Block interval set by governance, ms.
    pub block_interval_ms: Option<u64>,
    /// Open proposal ids, oldest first.
    pub open: Vec<Hash>,
}

impl GovState {
    /// Total voting weight.
    pub fn total_weight(&self) -> u64 {
        self.members.iter().map(|m| m.weight).sum()
    }

    /// A member's weight.
    pub fn weight_of(&self, a: &Address) -> Option<u64> {
        self.members
            .iter()
            .find(|m| m.address == *a)
            .map(|m| m.weight)
    }
}

/// The current epoch: its validator set and the height of its first block's parent.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct EpochState {
    /// Epoch number (0 at genesis).
    pub epoch: u64,
    /// Height of the block that started the epoch (its consensus genesis); 0 for epoch 0.
    pub start_height: u64,
    /// Validators of the epoch.
    pub validators: Vec<ValidatorInfo>,
}

impl EpochState {
    /// Validator addresses (derived from their keys with `alg`).
    pub fn addresses(&self, alg: HashAlgorithm) -> Vec<Address> {
        self.validators
            .iter()
            .filter_map(|v| validator_address(alg, v))
            .collect()
    }
}

/// The address of a validator's key.
pub fn validator_address(alg: HashAlgorithm, v: &ValidatorInfo) -> Option<Address> {
    keel_crypto::address_of(v.key.scheme, &v.key.public_key, alg)
        .ok()
        .map(Address)
}

/// An account's permissions.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AccountPerm {
    /// Admitted by governance (bound to a client identity).
    pub admitted: bool,
    /// Role.
    pub role: Role,
    /// Organisation.
    pub org: String,
    /// Frozen accounts send nothing.
    pub frozen: bool,
    /// Optional certificate fingerprint.
    pub cert_fingerprint: Option<Hash>,
}

impl Default for AccountPerm {
    fn default() -> Self {
        AccountPerm {
            admitted: false,
            role: Role::Client,
            org: String::new(),
            frozen: false,
            cert_fingerprint: None,
        }
    }
}

/// Where a proposal stands.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ProposalStatus {
    /// Collecting votes.
    Open,
    /// Accepted and applied at `height`.
    Accepted {
        /// Block height.
        height: u64,
    },
    /// Rejected (the threshold can no longer be reached).
    Rejected {
        /// Block height.
        height: u64,
    },
    /// Expired without a decision.
    Expired {
        /// Block height at which it was found expired.
        height: u64,
    },
    /// Accepted but could not be applied (the state changed since it was proposed).
    Failed {
        /// Block height.
        height: u64,
        /// Stable code name.
        code: String,
        /// Explanation.
        message: String,
    },
}

impl ProposalStatus {
    /// Stable name.
    pub fn name(&self) -> &'static str {
        match self {
            ProposalStatus::Open => "open",
            ProposalStatus::Accepted { .. } => "accepted",
            ProposalStatus::Rejected { .. } => "rejected",
            ProposalStatus::Expired { .. } => "expired",
            ProposalStatus::Failed { .. } => "failed",
        }
    }
}

/// A proposal.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Proposal {
    /// Id (hash of the proposing transaction).
    pub id: Hash,
    /// Proposing member.
    pub proposer: Address,
    /// What it does.
    pub action: GovAction,
    /// Height of the proposing block.
    pub created_height: u64,
    /// Last height at which votes count.
    pub expires_at_height: u64,
    /// Votes (member, approve), in order.
    pub votes: Vec<(Address, bool)>,
    /// Status.
    pub status: ProposalStatus,
}

/// Initial governance configuration (from genesis).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GovGenesis {
    /// Permissioned mode.
    pub permissioned: bool,
    /// Committee (address, weight, org).
    pub members: Vec<(Address, u64, String)>,
    /// Initial validators.
    pub validators: Vec<ValidatorInfo>,
    /// Accounts admitted at genesis.
    pub accounts: Vec<(Address, Role, String)>,
    /// Default proposal lifetime (0 = [`DEFAULT_PROPOSAL_TTL_BLOCKS`]).
    pub proposal_ttl_blocks: u64,
}

// ---------------------------------------------------------------------------------------------
// keys

fn state_key(alg: HashAlgorithm) -> StateKey {
    alg.digest_parts(&[b"keel/gov/v1", b"state"])
}

/// Kept apart from [`GovState`] so that its stored encoding does not change.
fn block_gas_key(alg: HashAlgorithm) -> StateKey {
    alg.digest_parts(&[b"keel/gov/v1", b"max-block-gas"])
}

fn recent_key(alg: HashAlgorithm) -> StateKey {
    alg.digest_parts(&[b"keel/gov/v1", b"recent"])
}

/// Key of the epoch state.
pub fn epoch_key(alg: HashAlgorithm) -> StateKey {
    alg.digest_parts(&[b"keel/gov/v1", b"epoch"])
}

/// Key of an account's permissions.
pub fn account_key(alg: HashAlgorithm, a: &Address) -> StateKey {
    alg.digest_parts(&[b"keel/gov/acct/v1", &a.0])
}

/// Key of a proposal.
pub fn proposal_key(alg: HashAlgorithm, id: &Hash) -> StateKey {
    alg.digest_parts(&[b"keel/gov/prop/v1", &id.0])
}

/// Key of an operation's policy.
pub fn policy_key(alg: HashAlgorithm, op: Operation) -> StateKey {
    alg.digest_parts(&[b"keel/gov/op/v1", &[op as u8]])
}

/// Key of a revoked certificate fingerprint.
pub fn revoked_key(alg: HashAlgorithm, fingerprint: &Hash) -> StateKey {
    alg.digest_parts(&[b"keel/gov/revoked/v1", &fingerprint.0])
}

// ---------------------------------------------------------------------------------------------
// reads (any state view)

fn read<T: BorshDeserialize>(
    view: &dyn StateView,
    what: &'static str,
    key: &StateKey,
) -> Result<Option<T>, ExecutionError> {
    match view.get(key)? {
        None => Ok(None),
        Some(b) => decode_value(what, key, &b).map(Some),
    }
}

/// The governance state (`None` on a chain initialised without it).
pub fn gov_state(
    view: &dyn StateView,
    alg: HashAlgorithm,
) -> Result<Option<GovState>, ExecutionError> {
    read(view, "governance state", &state_key(alg))
}

/// The per-block EVM gas budget set by governance, if any.
pub fn max_block_gas(
    view: &dyn StateView,
    alg: HashAlgorithm,
) -> Result<Option<u64>, ExecutionError> {
    read(view, "block gas budget", &block_gas_key(alg))
}

/// Recently closed proposal ids, oldest first (at most [`MAX_RECENT_PROPOSALS`]).
pub fn recent_proposals(
    view: &dyn StateView,
    alg: HashAlgorithm,
) -> Result<Vec<Hash>, ExecutionError> {
    Ok(read(view, "recent proposals", &recent_key(alg))?.unwrap_or_default())
}

/// The epoch state.
pub fn epoch_state(
    view: &dyn StateView,
    alg: HashAlgorithm,
) -> Result<Option<EpochState>, ExecutionError> {
    read(view, "epoch state", &epoch_key(alg))
}

/// An account's permissions (default: not admitted, not frozen).
pub fn account_perm(
    view: &dyn StateView,
    alg: HashAlgorithm,
    a: &Address,
) -> Result<AccountPerm, ExecutionError> {
    Ok(read(view, "account permissions", &account_key(alg, a))?.unwrap_or_default())
}

/// A proposal.
pub fn proposal(
    view: &dyn StateView,
    alg: HashAlgorithm,
    id: &Hash,
) -> Result<Option<Proposal>, ExecutionError> {
    read(view, "proposal", &proposal_key(alg, id))
}

/// The policy of an operation ([`OpPolicy::Open`] unless governance set one).
pub fn op_policy(
    view: &dyn StateView,
    alg: HashAlgorithm,
    op: Operation,
) -> Result<OpPolicy, ExecutionError> {
    Ok(read(view, "operation policy", &policy_key(alg, op))?.unwrap_or(OpPolicy::Open))
}

/// Height at which a certificate fingerprint was revoked, if it was.
pub fn revoked_at(
    view: &dyn StateView,
    alg: HashAlgorithm,
    fingerprint: &Hash,
) -> Result<Option<u64>, ExecutionError> {
    read(view, "revocation", &revoked_key(alg, fingerprint))
}

/// A refusal: stable code and explanation.
pub type Refusal = (ExecErrorCode, String);

/// Does the policy of `op` admit `sender`? (No policy, or no governance state: open.) Besides
/// the operation of each payload ([`keel_types::operation_of`]), the EVM checks
/// [`Operation::Transfer`] for an EVM transaction carrying value and
/// [`Operation::DeployContract`] for contract creations from inside a call (`keel_evm::policy`).
pub fn permits(
    view: &dyn StateView,
    alg: HashAlgorithm,
    sender: &Address,
    op: Operation,
) -> Result<(), Result<Refusal, ExecutionError>> {
    if gov_state(view, alg).map_err(Err)?.is_none() {
        return Ok(());
    }
    policy_permits(view, alg, sender, op)
}

/// [`permits`] on a state known to have governance.
fn policy_permits(
    view: &dyn StateView,
    alg: HashAlgorithm,
    sender: &Address,
    op: Operation,
) -> Result<(), Result<Refusal, ExecutionError>> {
    let policy = op_policy(view, alg, op).map_err(Err)?;
    if policy.permits(sender) {
        return Ok(());
    }
    let list = match policy {
        OpPolicy::AllowList(_) => "is not on the allow list",
        _ => "is on the deny list",
    };
    Err(Ok((
        ExecErrorCode::NotPermitted,
        format!("{sender} {list} of operation {}", op.name()),
    )))
}

/// May `sender` send `payload`? Checked at admission (mempool) and again in execution.
/// Operating errors are `Err(Err(_))`.
pub fn authorize(
    view: &dyn StateView,
    alg: HashAlgorithm,
    sender: &Address,
    payload: &Payload,
) -> Result<(), Result<Refusal, ExecutionError>> {
    let Some(gov) = gov_state(view, alg).map_err(Err)? else {
        return Ok(());
    };
    let perm = account_perm(view, alg, sender).map_err(Err)?;
    if perm.frozen {
        return Err(Ok((
            ExecErrorCode::AccountFrozen,
            format!("account {sender} is frozen by governance"),
        )));
    }
    if let Some(op) = keel_types::operation_of(payload) {
        policy_permits(view, alg, sender, op)?;
    }
    let member = gov.weight_of(sender).is_some();
    if let Payload::Gov(_) = payload {
        if !member {
            return Err(Ok((
                ExecErrorCode::NotPermitted,
                format!("{sender} is not a committee member: only members propose and vote"),
            )));
        }
        return Ok(());
    }
    if member {
        return Ok(());
    }
    if perm.admitted {
        if !perm.role.may_write() {
            return Err(Ok((
                ExecErrorCode::NotPermitted,
                format!(
                    "{sender} has the {} role, which is read-only",
                    perm.role.name()
                ),
            )));
        }
        return Ok(());
    }
    if gov.permissioned {
        return Err(Ok((
            ExecErrorCode::NotAdmitted,
            format!("{sender} is not an admitted account on this permissioned chain"),
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// genesis

/// State changes that create the genesis governance state and epoch 0.
pub fn genesis_changes(alg: HashAlgorithm, g: &GovGenesis) -> Vec<(StateKey, Option<Vec<u8>>)> {
    let state = GovState {
        permissioned: g.permissioned,
        members: g
            .members
            .iter()
            .map(|(address, weight, org)| Member {
                address: *address,
                weight: (*weight).max(1),
                org: org.clone(),
                cert_fingerprint: None,
            })
            .collect(),
        threshold_num: 2,
        threshold_den: 3,
        proposal_ttl_blocks: if g.proposal_ttl_blocks == 0 {
            DEFAULT_PROPOSAL_TTL_BLOCKS
        } else {
            g.proposal_ttl_blocks
        },
        gas_price: None,
        max_block_txs: None,
        block_interval_ms: None,
        open: vec![],
    };
    let epoch = EpochState {
        epoch: 0,
        start_height: 0,
        validators: g.validators.clone(),
    };
    let mut out = vec![
        (state_key(alg), Some(codec::encode(&state))),
        (epoch_key(alg), Some(codec::encode(&epoch))),
    ];
    for (a, role, org) in &g.accounts {
        let perm = AccountPerm {
            admitted: true,
            role: *role,
            org: org.clone(),
            ..AccountPerm::default()
        };
        out.push((account_key(alg, a), Some(codec::encode(&perm))));
    }
    out.sort_by_key(|a| a.0);
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

// ---------------------------------------------------------------------------------------------
// execution

pub(crate) type TxResult<T> = Result<T, Result<Refusal, ExecutionError>>;

fn refuse<T>(code: ExecErrorCode, msg: impl Into<String>) -> TxResult<T> {
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

fn load_epoch(ov: &Overlay<'_>, alg: HashAlgorithm) -> TxResult<EpochState> {
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

/// Checks an action against the current state, at proposal time and again before applying:
/// never remove the last member, at most one validator change per epoch (and one open
/// validator proposal at a time), targets must exist / must not exist.
fn precheck(
    ov: &Overlay<'_>,
    alg: HashAlgorithm,
    ctx: BlockContext,
    state: &GovState,
    action: &GovAction,
) -> TxResult<()> {
    match action {
        GovAction::AddMember { address, .. } => {
            if state.weight_of(address).is_some() {
                return refuse(
                    ExecErrorCode::GovInvalid,
                    format!("{address} is already a member"),
                );
            }
            if state.members.len() >= MAX_MEMBERS {
                return refuse(
                    ExecErrorCode::GovInvalid,
                    format!("the committee has {MAX_MEMBERS} members"),
                );
            }
        }
        GovAction::RemoveMember { address } => {
            if state.weight_of(address).is_none() {
                return refuse(
                    ExecErrorCode::GovInvalid,
                    format!("{address} is not a member"),
                );
            }
            if state.members.len() == 1 {
                return refuse(
                    ExecErrorCode::GovLastMember,
                    format!(
                        "{address} is the last committee member; the committee cannot be empty"
                    ),
                );
            }
        }
        GovAction::AddValidator(_) | GovAction::RemoveValidator { .. } => {
            let epoch = load_epoch(ov, alg)?;
            if epoch.start_height == ctx.height && epoch.epoch > 0 {
                return refuse(
                    ExecErrorCode::GovOneValidatorPerEpoch,
                    "a validator change was already accepted in this block's epoch",
                );
            }
            let addrs = epoch.addresses(alg);
            match action {
                GovAction::AddValidator(v) => {
                    let Some(a) = validator_address(alg, v) else {
                        return refuse(ExecErrorCode::GovInvalid, "the validator key is invalid");
                    };
                    if addrs.contains(&a) {
                        return refuse(
                            ExecErrorCode::GovInvalid,
                            format!("{a} is already a validator"),
                        );
                    }
                    if addrs.len() >= MAX_VALIDATORS {
                        return refuse(ExecErrorCode::GovInvalid, "the validator set is full");
                    }
                }
                GovAction::RemoveValidator { address } => {
                    if !addrs.contains(address) {
                        return refuse(
                            ExecErrorCode::GovInvalid,
                            format!("{address} is not a validator"),
                        );
                    }
                    if addrs.len() == 1 {
                        return refuse(
                            ExecErrorCode::GovInvalid,
                            "cannot remove the last validator",
                        );
                    }
                }
                _ => {}
            }
            // Only one validator proposal open at a time (another open one would be a second
            // change in the same epoch once both pass).
            for id in &state.open {
                if let Some(p) = proposal(ov, alg, id).map_err(Err)?
                    && p.action.changes_validators()
                    && p.action != *action
                {
                    return refuse(
                        ExecErrorCode::GovOneValidatorPerEpoch,
                        format!(
                            "validator proposal {id} is still open; one validator change per epoch"
                        ),
                    );
                }
            }
        }
        GovAction::SetParam(ChainParam::MaxBlockTxs(0))
        | GovAction::SetParam(ChainParam::BlockIntervalMs(0))
        | GovAction::SetParam(ChainParam::ProposalTtlBlocks(0)) => {
            return refuse(ExecErrorCode::GovInvalid, "the parameter must be positive");
        }
        GovAction::SetParam(ChainParam::MaxBlockGas(n)) if *n < limits::MIN_BLOCK_EVM_GAS => {
            return refuse(
                ExecErrorCode::GovInvalid,
                format!(
                    "max_block_gas must be at least {}",
                    limits::MIN_BLOCK_EVM_GAS
                ),
            );
        }
        _ => {}
    }
    Ok(())
}

fn apply_action(
    ov: &mut Overlay<'_>,
    alg: HashAlgorithm,
    ctx: BlockContext,
    state: &mut GovState,
    action: &GovAction,
) -> TxResult<()> {
    match action {
        GovAction::AddMember {
            address,
            weight,
            org,
        } => state.members.push(Member {
            address: *address,
            weight: *weight,
            org: org.clone(),
            cert_fingerprint: None,
        }),
        GovAction::RemoveMember { address } => state.members.retain(|m| m.address != *address),
        GovAction::AddValidator(v) => {
            let mut epoch = load_epoch(ov, alg)?;
            epoch.validators.push(v.clone());
            next_epoch(ov, alg, ctx, epoch);
        }
        GovAction::RemoveValidator { address } => {
            let mut epoch = load_epoch(ov, alg)?;
            epoch
                .validators
                .retain(|v| validator_address(alg, v) != Some(*address));
            next_epoch(ov, alg, ctx, epoch);
        }
        GovAction::SetAccount {
            address,
            role,
            org,
            cert_fingerprint,
        } => {
            let mut perm = account_perm(ov, alg, address).map_err(Err)?;
            perm.admitted = true;
            perm.role = *role;
            perm.org = org.clone();
            perm.cert_fingerprint = *cert_fingerprint;
            ov.put(account_key(alg, address), codec::encode(&perm));
        }
        GovAction::RemoveAccount { address } => {
            let mut perm = account_perm(ov, alg, address).map_err(Err)?;
            perm.admitted = false;
            ov.put(account_key(alg, address), codec::encode(&perm));
        }
        GovAction::Freeze { address } | GovAction::Unfreeze { address } => {
            let mut perm = account_perm(ov, alg, address).map_err(Err)?;
            perm.frozen = matches!(action, GovAction::Freeze { .. });
            ov.put(account_key(alg, address), codec::encode(&perm));
        }
        GovAction::RevokeCertificate { fingerprint } => {
            ov.put(revoked_key(alg, fingerprint), codec::encode(&ctx.height));
        }
        GovAction::SetOperationPolicy { op, policy } => {
            ov.put(policy_key(alg, *op), codec::encode(policy));
        }
        GovAction::SetParam(p) => match p {
            ChainParam::GasPrice(g) => state.gas_price = Some(*g),
            ChainParam::MaxBlockTxs(n) => state.max_block_txs = Some(*n),
            ChainParam::BlockIntervalMs(ms) => state.block_interval_ms = Some(*ms),
            ChainParam::ProposalTtlBlocks(t) => state.proposal_ttl_blocks = *t,
            ChainParam::MaxBlockGas(g) => ov.put(block_gas_key(alg), codec::encode(g)),
        },
    }
    Ok(())
}

/// The accepting block ends the epoch: the new set governs the blocks after it.
fn next_epoch(ov: &mut Overlay<'_>, alg: HashAlgorithm, ctx: BlockContext, mut epoch: EpochState) {
    epoch.epoch += 1;
    epoch.start_height = ctx.height;
    ov.put(epoch_key(alg), codec::encode(&epoch));
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
