//! Governance records, their state keys and reads over any state view.

use crate::ExecutionError;
use crate::context::read_value as read;
use crate::keys::StateKey;
use crate::overlay::StateView;
use borsh::{BorshDeserialize, BorshSerialize};
use keel_crypto::HashAlgorithm;
use keel_types::{Address, GovAction, Hash, OpPolicy, Operation, Role, ValidatorInfo};

/// Most open proposals at once (bounds the state record and the votes scanned).
pub const MAX_OPEN_PROPOSALS: usize = 64;
/// Most closed proposal ids remembered for `keel_listProposals`.
pub const MAX_RECENT_PROPOSALS: usize = 256;
/// Most committee members.
pub const MAX_MEMBERS: usize = 128;
/// Most validators (mirrors `keel_consensus::MAX_VALIDATORS`).
pub const MAX_VALIDATORS: usize = 128;
/// Certificates governance can revoke over a chain's life (the list is one state value,
/// rewritten on each revocation: 4,096 × 32 bytes = 128 KiB at most). Beyond it, rotate the
/// organisation CA and revoke it, which drops every certificate it issued.
pub const MAX_REVOKED_CERTIFICATES: usize = 4096;
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

pub(super) fn state_key(alg: HashAlgorithm) -> StateKey {
    alg.digest_parts(&[b"keel/gov/v1", b"state"])
}

/// Kept apart from [`GovState`] so that its stored encoding does not change.
pub(super) fn block_gas_key(alg: HashAlgorithm) -> StateKey {
    alg.digest_parts(&[b"keel/gov/v1", b"max-block-gas"])
}

pub(super) fn recent_key(alg: HashAlgorithm) -> StateKey {
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

/// Key of an account's client-certificate expiry (notAfter, Unix seconds).
pub fn account_cert_key(alg: HashAlgorithm, a: &Address) -> StateKey {
    alg.digest_parts(&[b"keel/gov/acct-cert/v1", &a.0])
}

/// Key of the "accounts need a certificate" switch
/// ([`keel_types::ChainParam::RequireAccountCertificates`]).
pub(super) fn require_certs_key(alg: HashAlgorithm) -> StateKey {
    alg.digest_parts(&[b"keel/gov/v1", b"require-account-certs"])
}

/// Key of the node list ([`GovAction::SetNodePolicy`]).
pub fn node_policy_key(alg: HashAlgorithm) -> StateKey {
    alg.digest_parts(&[b"keel/gov/v1", b"node-policy"])
}

/// Key of the list of every revoked fingerprint, in revocation order: what a node hands its
/// network layer so that links of revoked certificates close (issue 14).
pub fn revoked_list_key(alg: HashAlgorithm) -> StateKey {
    alg.digest_parts(&[b"keel/gov/v1", b"revoked-list"])
}

/// Key of a revoked certificate fingerprint.
pub fn revoked_key(alg: HashAlgorithm, fingerprint: &Hash) -> StateKey {
    alg.digest_parts(&[b"keel/gov/revoked/v1", &fingerprint.0])
}

// ---------------------------------------------------------------------------------------------
// reads (any state view)

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

/// The node list ([`OpPolicy::Open`] unless governance set one): which nodes may link and vote.
pub fn node_policy(view: &dyn StateView, alg: HashAlgorithm) -> Result<OpPolicy, ExecutionError> {
    Ok(read(view, "node policy", &node_policy_key(alg))?.unwrap_or(OpPolicy::Open))
}

/// The notAfter (Unix seconds) of the client certificate an account is bound to, if it was
/// admitted with one ([`GovAction::SetAccountCertificate`]).
pub fn account_cert_expiry(
    view: &dyn StateView,
    alg: HashAlgorithm,
    a: &Address,
) -> Result<Option<u64>, ExecutionError> {
    read(view, "account certificate", &account_cert_key(alg, a))
}

/// Whether admitted accounts must hold a client certificate (permissioned mode).
pub fn accounts_need_certificates(
    view: &dyn StateView,
    alg: HashAlgorithm,
) -> Result<bool, ExecutionError> {
    Ok(read(view, "certificate requirement", &require_certs_key(alg))?.unwrap_or(false))
}

/// Every certificate fingerprint governance revoked, in revocation order (at most
/// [`MAX_REVOKED_CERTIFICATES`]).
pub fn revoked_fingerprints(
    view: &dyn StateView,
    alg: HashAlgorithm,
) -> Result<Vec<Hash>, ExecutionError> {
    Ok(read(view, "revocation list", &revoked_list_key(alg))?.unwrap_or_default())
}

/// Height at which a certificate fingerprint was revoked, if it was.
pub fn revoked_at(
    view: &dyn StateView,
    alg: HashAlgorithm,
    fingerprint: &Hash,
) -> Result<Option<u64>, ExecutionError> {
    read(view, "revocation", &revoked_key(alg, fingerprint))
}
