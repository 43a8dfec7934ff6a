//! What an action checks before it is proposed and applied, and what it does once accepted.

use super::proposals::{TxResult, load_epoch, refuse};
use super::state::{
    EpochState, GovState, MAX_MEMBERS, MAX_REVOKED_CERTIFICATES, MAX_VALIDATORS, Member,
    account_cert_expiry, account_cert_key, account_key, account_perm, block_gas_key, epoch_key,
    node_policy_key, policy_key, proposal, require_certs_key, revoked_at, revoked_fingerprints,
    revoked_key, revoked_list_key, validator_address,
};
use crate::context::BlockContext;
use crate::overlay::Overlay;
use keel_crypto::HashAlgorithm;
use keel_types::{Address, ChainParam, ExecErrorCode, GovAction, Hash, codec, limits};

/// Checks an action against the current state, at proposal time and again before applying:
/// never remove the last member, at most one validator change per epoch (and one open
/// validator proposal at a time), targets must exist / must not exist.
pub(super) fn precheck(
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
        GovAction::RevokeCertificate { fingerprint } => precheck_revoke(ov, alg, fingerprint)?,
        GovAction::SetAccountCertificate {
            fingerprint,
            not_after_secs,
            ..
        } => {
            if let Some(h) = revoked_at(ov, alg, fingerprint).map_err(Err)? {
                return refuse(
                    ExecErrorCode::GovInvalid,
                    format!("certificate {fingerprint} was revoked at height {h}"),
                );
            }
            if not_after_secs.saturating_mul(1000) <= ctx.timestamp_ms {
                return refuse(
                    ExecErrorCode::GovInvalid,
                    format!("the certificate expired (notAfter {not_after_secs})"),
                );
            }
        }
        GovAction::SetNodePolicy { policy } => {
            let epoch = load_epoch(ov, alg)?;
            let validators = epoch.addresses(alg);
            let kept = validators.iter().filter(|a| policy.permits(a)).count();
            let n = validators.len();
            let quorum = n - (n.saturating_sub(1)) / 3;
            if kept < quorum {
                return refuse(
                    ExecErrorCode::GovInvalid,
                    format!(
                        "the node list would leave {kept} of {n} validators able to link, below a quorum of {quorum}; remove validators first"
                    ),
                );
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

pub(super) fn apply_action(
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
            // A binding without a certificate file has no known expiry (delete only what is
            // there: a no-op delete would still be a state change).
            if account_cert_expiry(ov, alg, address)
                .map_err(Err)?
                .is_some()
            {
                ov.set(account_cert_key(alg, address), None);
            }
        }
        GovAction::SetAccountCertificate {
            address,
            fingerprint,
            role,
            org,
            not_after_secs,
        } => {
            let mut perm = account_perm(ov, alg, address).map_err(Err)?;
            perm.admitted = true;
            perm.role = *role;
            perm.org = org.clone();
            perm.cert_fingerprint = Some(*fingerprint);
            ov.put(account_key(alg, address), codec::encode(&perm));
            ov.put(
                account_cert_key(alg, address),
                codec::encode(not_after_secs),
            );
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
        GovAction::RevokeCertificate { fingerprint } => revoke(ov, alg, ctx, fingerprint)?,
        GovAction::SetOperationPolicy { op, policy } => {
            ov.put(policy_key(alg, *op), codec::encode(policy));
        }
        GovAction::SetNodePolicy { policy } => {
            ov.put(node_policy_key(alg), codec::encode(policy));
        }
        GovAction::SetParam(p) => match p {
            ChainParam::GasPrice(g) => state.gas_price = Some(*g),
            ChainParam::MaxBlockTxs(n) => state.max_block_txs = Some(*n),
            ChainParam::BlockIntervalMs(ms) => state.block_interval_ms = Some(*ms),
            ChainParam::ProposalTtlBlocks(t) => state.proposal_ttl_blocks = *t,
            ChainParam::MaxBlockGas(g) => ov.put(block_gas_key(alg), codec::encode(g)),
            ChainParam::RequireAccountCertificates(on) => {
                ov.put(require_certs_key(alg), codec::encode(on));
            }
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

/// A revocation may be recorded: not revoked yet, room in the list.
fn precheck_revoke(ov: &Overlay<'_>, alg: HashAlgorithm, fingerprint: &Hash) -> TxResult<()> {
    if let Some(h) = revoked_at(ov, alg, fingerprint).map_err(Err)? {
        return refuse(
            ExecErrorCode::GovInvalid,
            format!("certificate {fingerprint} was already revoked at height {h}"),
        );
    }
    if revoked_fingerprints(ov, alg).map_err(Err)?.len() >= MAX_REVOKED_CERTIFICATES {
        return refuse(
            ExecErrorCode::GovInvalid,
            format!(
                "{MAX_REVOKED_CERTIFICATES} certificates are revoked already; revoke the issuing organisation CA instead"
            ),
        );
    }
    Ok(())
}

/// Record a revocation: the fingerprint's height, and the ordered list nodes hand to their
/// network layers.
fn revoke(
    ov: &mut Overlay<'_>,
    alg: HashAlgorithm,
    ctx: BlockContext,
    fingerprint: &Hash,
) -> TxResult<()> {
    ov.put(revoked_key(alg, fingerprint), codec::encode(&ctx.height));
    let mut list = revoked_fingerprints(ov, alg).map_err(Err)?;
    list.push(*fingerprint);
    ov.put(revoked_list_key(alg), codec::encode(&list));
    Ok(())
}

/// An organisation's administrator revokes one of its certificates without a vote
/// ([`GovPayload::RevokeMemberCertificate`]; `authorize` checked the sender is a certified
/// `org_admin`): the certificate's subject O must be the administrator's organisation. The
/// fingerprint is computed here from the DER, so no other organisation's certificate can be
/// named.
pub(super) fn revoke_member(
    ov: &mut Overlay<'_>,
    alg: HashAlgorithm,
    ctx: BlockContext,
    sender: &Address,
    der: &[u8],
) -> TxResult<Hash> {
    let cert = match keel_pki::Certificate::from_der(der) {
        Ok(c) => c,
        Err(e) => return refuse(ExecErrorCode::GovInvalid, format!("certificate: {e}")),
    };
    let admin = account_perm(ov, alg, sender).map_err(Err)?;
    let org = cert.organization().unwrap_or_default();
    if org.is_empty() || org != admin.org {
        return refuse(
            ExecErrorCode::NotPermitted,
            format!(
                "the certificate belongs to organisation {org:?}, not {:?}: an organisation revokes only its own",
                admin.org
            ),
        );
    }
    let fingerprint = Hash(cert.fingerprint_digest());
    precheck_revoke(ov, alg, &fingerprint)?;
    revoke(ov, alg, ctx, &fingerprint)?;
    Ok(fingerprint)
}
