//! Governance on the node (ADR 0011): the genesis governance section, epoch and validator-set
//! reads at any committed height, admission-time permission checks, and the liveness safety
//! check that refuses a validator proposal the currently online validators could not carry.

use crate::pipeline::{ExecutedBlock, PendingView};
use crate::{Ledger, LedgerError};
use keel_crypto::Scheme;
use keel_execution::governance::{
    self, AccountPerm, EpochState, GovGenesis, GovState, Proposal, validator_address,
};
use keel_execution::{BlockContext, ExecutionError, StateView, keys::StateKey};
use keel_mempool::AdmitError;
use keel_types::{
    Address, ExecErrorCode, GovAction, GovPayload, Hash, OpPolicy, Payload, Role,
    SignedTransaction, Signer, ValidatorInfo,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Validators that signed a commit certificate within this many latest blocks count as online
/// for the quorum safety check.
pub const LIVENESS_WINDOW_BLOCKS: u64 = 20;

/// A committee member in genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisMember {
    /// Voting account.
    pub address: Address,
    /// Voting weight (default 1).
    #[serde(default = "one")]
    pub weight: u64,
    /// Organisation.
    #[serde(default)]
    pub org: String,
}

fn one() -> u64 {
    1
}

/// An account admitted at genesis with a role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisRoleAccount {
    /// Account.
    pub address: Address,
    /// `client`, `auditor`, `observer` or `org_admin`.
    pub role: String,
    /// Organisation.
    #[serde(default)]
    pub org: String,
}

/// The `governance` section of `genesis.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisGovernance {
    /// Only admitted accounts (and members) may send transactions.
    #[serde(default)]
    pub permissioned: bool,
    /// Committee; empty = the validators' node keys, weight 1 each.
    #[serde(default)]
    pub committee: Vec<GenesisMember>,
    /// Admitted accounts with roles.
    #[serde(default)]
    pub accounts: Vec<GenesisRoleAccount>,
    /// Default proposal lifetime in blocks (0 = 1,000).
    #[serde(default)]
    pub proposal_ttl_blocks: u64,
}

impl crate::Genesis {
    /// The initial governance configuration this genesis describes.
    pub fn gov_genesis(&self) -> Result<GovGenesis, String> {
        let gov = self.governance.clone().unwrap_or_default();
        let validators = self
            .validators
            .iter()
            .map(|v| {
                let scheme: Scheme = v
                    .scheme
                    .parse()
                    .map_err(|_| format!("validator {}: unknown scheme", v.name))?;
                let public_key = hex::decode(v.public_key.trim_start_matches("0x"))
                    .map_err(|_| format!("validator {}: public_key is not hex", v.name))?;
                Ok(ValidatorInfo {
                    name: v.name.clone(),
                    key: Signer { scheme, public_key },
                    p2p_addr: String::new(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let members = if gov.committee.is_empty() {
            self.validators
                .iter()
                .map(|v| (v.address, 1, v.name.clone()))
                .collect()
        } else {
            gov.committee
                .iter()
                .map(|m| (m.address, m.weight.max(1), m.org.clone()))
                .collect()
        };
        let accounts = gov
            .accounts
            .iter()
            .map(|a| {
                Role::from_name(&a.role)
                    .map(|r| (a.address, r, a.org.clone()))
                    .ok_or_else(|| format!("account {}: unknown role {:?}", a.address, a.role))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(GovGenesis {
            permissioned: gov.permissioned,
            members,
            validators,
            accounts,
            proposal_ttl_blocks: gov.proposal_ttl_blocks,
        })
    }
}

/// Committed state at one version.
pub(crate) struct VersionView<'a> {
    pub(crate) node: &'a Ledger,
    pub(crate) version: u64,
}

impl StateView for VersionView<'_> {
    fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>, ExecutionError> {
        self.node
            .state
            .get(key, self.version)
            .map_err(|e| ExecutionError::State(e.to_string()))
    }
}

/// A validator-set or liveness refusal.
fn refused(code: &'static str, reason: String) -> AdmitError {
    AdmitError::GovRefused { code, reason }
}

fn admit_error((code, msg): (ExecErrorCode, String)) -> AdmitError {
    match code {
        ExecErrorCode::NotAdmitted => AdmitError::NotAdmitted(msg),
        ExecErrorCode::AccountFrozen => AdmitError::AccountFrozen(msg),
        ExecErrorCode::NotPermitted => AdmitError::NotPermitted(msg),
        other => refused(other.name(), msg),
    }
}

/// Quorum size for `n` validators (`n - f`, as in `keel_consensus::ValidatorSet::quorum`).
pub fn quorum_of(n: usize) -> usize {
    n - n.saturating_sub(1) / 3
}

impl Ledger {
    fn view(&self, version: u64) -> VersionView<'_> {
        VersionView {
            node: self,
            version,
        }
    }

    /// A read view of the committed head state (for module reads such as
    /// `governance::op_policy`).
    pub fn head_view(&self) -> impl StateView + '_ {
        self.view(self.head().height)
    }

    /// Epoch state at a committed height.
    pub fn epoch_at(&self, height: u64) -> Result<EpochState, LedgerError> {
        governance::epoch_state(&self.view(height), self.suite.hash())?
            .ok_or_else(|| LedgerError::Invariant(format!("no epoch state at height {height}")))
    }

    /// Epoch state at the committed head.
    pub fn epoch(&self) -> Result<EpochState, LedgerError> {
        self.epoch_at(self.head().height)
    }

    /// Epoch state after `pending` (uncommitted ancestors, oldest first) or the committed head.
    pub fn epoch_on(&self, pending: &[&ExecutedBlock]) -> Result<EpochState, LedgerError> {
        let deltas: Vec<&keel_state::StateDelta> = pending.iter().map(|p| &*p.delta).collect();
        let view = PendingView(self.state.snapshot(&deltas)?);
        governance::epoch_state(&view, self.suite.hash())?
            .ok_or_else(|| LedgerError::Invariant("no epoch state".into()))
    }

    /// Validators (address, scheme, key) of an epoch.
    pub fn epoch_validators(&self, epoch: &EpochState) -> Vec<(Address, Scheme, Vec<u8>)> {
        let alg = self.suite.hash();
        epoch
            .validators
            .iter()
            .filter_map(|v| {
                Some((
                    validator_address(alg, v)?,
                    v.key.scheme,
                    v.key.public_key.clone(),
                ))
            })
            .collect()
    }

    /// Governance state at the head.
    pub fn gov_state(&self) -> Result<Option<GovState>, LedgerError> {
        Ok(governance::gov_state(
            &self.view(self.head().height),
            self.suite.hash(),
        )?)
    }

    /// An account's permissions at the head.
    pub fn account_perm(&self, a: &Address) -> Result<AccountPerm, LedgerError> {
        Ok(governance::account_perm(
            &self.view(self.head().height),
            self.suite.hash(),
            a,
        )?)
    }

    /// A proposal at the head.
    pub fn proposal(&self, id: &Hash) -> Result<Option<Proposal>, LedgerError> {
        Ok(governance::proposal(
            &self.view(self.head().height),
            self.suite.hash(),
            id,
        )?)
    }

    /// Every certificate fingerprint governance revoked, in order, at the head: the node hands
    /// them to its network layer, which closes their links (issue 14).
    pub fn revoked_fingerprints(&self) -> Result<Vec<Hash>, LedgerError> {
        Ok(governance::revoked_fingerprints(
            &self.view(self.head().height),
            self.suite.hash(),
        )?)
    }

    /// Governance's node list at the head (issue 14): which nodes may link and vote.
    pub fn node_policy(&self) -> Result<OpPolicy, LedgerError> {
        Ok(governance::node_policy(
            &self.view(self.head().height),
            self.suite.hash(),
        )?)
    }

    /// Height a certificate fingerprint was revoked at, if it was.
    pub fn revoked_at(&self, fingerprint: &Hash) -> Result<Option<u64>, LedgerError> {
        Ok(governance::revoked_at(
            &self.view(self.head().height),
            self.suite.hash(),
            fingerprint,
        )?)
    }

    /// Validators that signed a commit certificate of, or proposed, one of the last
    /// [`LIVENESS_WINDOW_BLOCKS`] committed blocks: the node's view of who is online.
    pub fn online_validators(&self) -> Result<BTreeSet<Address>, LedgerError> {
        let head = self.head().height;
        let mut online = BTreeSet::new();
        for h in head.saturating_sub(LIVENESS_WINDOW_BLOCKS - 1).max(1)..=head {
            if let Some(b) = self.chain.block(h)? {
                // A proposer is alive too (leaders rotate, so every live validator proposes).
                online.insert(b.header.proposer);
                online.extend(b.certificate.signatures.iter().map(|s| s.validator));
            }
        }
        Ok(online)
    }

    /// Refuse a validator change (or a node list) the online validators could not carry: after
    /// the change, the validators known to be online — and, for a node list, still allowed to
    /// link — must form a quorum of the new set.
    pub fn check_validator_change(&self, action: &GovAction) -> Result<(), AdmitError> {
        let alg = self.suite.hash();
        let state = |e: LedgerError| AdmitError::State(e.to_string());
        let epoch = self.epoch().map_err(state)?;
        let mut set: BTreeSet<Address> = epoch.addresses(alg).into_iter().collect();
        // A node list cuts the validators it excludes off the network: only the others count.
        let mut linked: Option<&OpPolicy> = None;
        match action {
            GovAction::AddValidator(v) => {
                if let Some(a) = validator_address(alg, v) {
                    set.insert(a);
                }
            }
            GovAction::RemoveValidator { address } => {
                set.remove(address);
            }
            GovAction::SetNodePolicy { policy } => linked = Some(policy),
            _ => return Ok(()),
        }
        let online = self.online_validators().map_err(state)?;
        let live = set
            .iter()
            .filter(|a| online.contains(a) && linked.is_none_or(|p| p.permits(a)))
            .count();
        let quorum = quorum_of(set.len());
        if live < quorum {
            return Err(refused(
                "QUORUM_UNREACHABLE",
                format!(
                    "after this change the {} validators need {quorum} votes per quorum, but only \
                     {live} of them signed or proposed a block in the last \
                     {LIVENESS_WINDOW_BLOCKS} blocks (and may link); bring validators back online first",
                    set.len()
                ),
            ));
        }
        Ok(())
    }

    /// Admission-time governance checks: permissions (for EVM payloads carrying value, the
    /// `transfer` policy too), then (for governance payloads) a dry run of the payload and the
    /// liveness check.
    pub(crate) fn authorize_tx(
        &self,
        sender: &Address,
        tx: &SignedTransaction,
    ) -> Result<(), AdmitError> {
        let alg = self.suite.hash();
        let head = self.head();
        let view = self.view(head.height);
        let payload = &tx.tx.payload;
        let now_ms = head.header.timestamp_ms;
        governance::authorize(&view, alg, sender, payload, now_ms).map_err(|e| match e {
            Ok(r) => admit_error(r),
            Err(e) => AdmitError::State(e.to_string()),
        })?;
        if payload.is_evm() {
            // Value in an EVM transaction needs the `transfer` policy too (`keel_evm::policy`).
            let value = keel_evm::policy::payload_value(payload);
            if let Some(msg) = keel_evm::policy::value_refusal(&view, alg, sender, value)
                .map_err(|e| AdmitError::State(e.to_string()))?
            {
                return Err(AdmitError::NotPermitted(msg));
            }
        }
        let Payload::Gov(g) = payload else {
            return Ok(());
        };
        let ctx = BlockContext {
            height: head.height + 1,
            timestamp_ms: head.header.timestamp_ms,
        };
        governance::dry_run(&view, alg, ctx, sender, tx.hash(alg), g).map_err(|e| match e {
            Ok(r) => admit_error(r),
            Err(e) => AdmitError::State(e.to_string()),
        })?;
        match g {
            GovPayload::Propose { action, .. } => self.check_validator_change(action)?,
            // A yes vote may be the one that applies the change: check liveness again, the
            // online set may have shrunk since the proposal.
            GovPayload::Vote {
                proposal,
                approve: true,
            } => {
                if let Some(p) = self
                    .proposal(proposal)
                    .map_err(|e| AdmitError::State(e.to_string()))?
                {
                    self.check_validator_change(&p.action)?;
                }
            }
            GovPayload::Vote { .. } | GovPayload::RevokeMemberCertificate { .. } => {}
        }
        Ok(())
    }
}

impl Ledger {
    /// Validators of the current epoch with their P2P addresses (empty when unknown), for the
    /// network's allow-set and dial list at start (validators added by governance).
    pub fn epoch_peers(&self) -> Vec<(Address, String)> {
        let alg = self.suite.hash();
        self.epoch()
            .map(|e| {
                e.validators
                    .iter()
                    .filter_map(|v| Some((validator_address(alg, v)?, v.p2p_addr.clone())))
                    .collect()
            })
            .unwrap_or_default()
    }
}
