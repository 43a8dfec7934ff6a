//! The permission rule (ADR 0011), run at admission against the head and again in execution.

use super::state::{
    account_cert_expiry, account_perm, accounts_need_certificates, gov_state, op_policy, revoked_at,
};
use crate::ExecutionError;
use crate::overlay::StateView;
use keel_crypto::HashAlgorithm;
use keel_types::{Address, ExecErrorCode, GovPayload, OpPolicy, Operation, Payload, Role};

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

/// May `sender` send `payload` at `now_ms` (the block time; at admission, the head's)?
/// Checked at admission (mempool) and again in execution. Operating errors are `Err(Err(_))`.
pub fn authorize(
    view: &dyn StateView,
    alg: HashAlgorithm,
    sender: &Address,
    payload: &Payload,
    now_ms: u64,
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
    check_certificate(view, alg, sender, &perm, now_ms)?;
    if let Some(op) = keel_types::operation_of(payload) {
        policy_permits(view, alg, sender, op)?;
    }
    let member = gov.weight_of(sender).is_some();
    if let Payload::Gov(GovPayload::RevokeMemberCertificate { .. }) = payload {
        // No vote: an organisation's administrator, itself certified (checked above).
        if perm.admitted && perm.role == Role::OrgAdmin && perm.cert_fingerprint.is_some() {
            return Ok(());
        }
        return Err(Ok((
            ExecErrorCode::NotPermitted,
            format!(
                "{sender} is not an org_admin account bound to a certificate: only those revoke their organisation's certificates"
            ),
        )));
    }
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
        if gov.permissioned
            && perm.cert_fingerprint.is_none()
            && accounts_need_certificates(view, alg).map_err(Err)?
        {
            return Err(Ok((
                ExecErrorCode::NotAdmitted,
                format!(
                    "{sender} holds no client certificate, which this chain requires of accounts"
                ),
            )));
        }
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

/// The account's client certificate, if it is bound to one: not revoked on chain, not expired.
fn check_certificate(
    view: &dyn StateView,
    alg: HashAlgorithm,
    sender: &Address,
    perm: &super::state::AccountPerm,
    now_ms: u64,
) -> Result<(), Result<Refusal, ExecutionError>> {
    let Some(fp) = perm.cert_fingerprint else {
        return Ok(());
    };
    if let Some(h) = revoked_at(view, alg, &fp).map_err(Err)? {
        return Err(Ok((
            ExecErrorCode::CertificateRevoked,
            format!(
                "account {sender} is bound to certificate {fp}, revoked by governance at height {h}"
            ),
        )));
    }
    if let Some(not_after) = account_cert_expiry(view, alg, sender).map_err(Err)?
        && not_after.saturating_mul(1000) < now_ms
    {
        return Err(Ok((
            ExecErrorCode::CertificateExpired,
            format!("account {sender}'s client certificate {fp} expired (notAfter {not_after})"),
        )));
    }
    Ok(())
}
