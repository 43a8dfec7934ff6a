//! What a holder does: transfer, approve, transfer-from (as a spender), burn. Also the rule of
//! who may hold an asset at all (not frozen, on the white list if the asset has one).

use super::event;
use super::state::{AssetInfo, Holding, allowance, holding, load, put_allowance, put_holding};
use crate::ExecutionError;
use crate::modules::{Applied, Call, ModResult, TxError, refuse};
use crate::overlay::Overlay;
use keel_types::{Address, ExecErrorCode, Hash};

/// May `a` (with position `h`) send or receive `info`'s asset?
pub(super) fn may_hold(info: &AssetInfo, a: &Address, h: &Holding) -> ModResult<()> {
    if h.frozen {
        return refuse(
            ExecErrorCode::AssetHolderFrozen,
            format!("{a} is frozen for asset {}", info.id),
        );
    }
    if !info.admits(a, h) {
        return refuse(
            ExecErrorCode::AssetNotListed,
            format!("{a} is not on the white list of asset {}", info.id),
        );
    }
    Ok(())
}

/// Refuse if `a` is frozen for the asset (an approval or a spender need no listing: they move
/// nothing of their own).
fn not_frozen(ov: &Overlay<'_>, call: &Call, id: &Hash, a: &Address) -> ModResult<()> {
    if holding(ov, call.alg, id, a)?.frozen {
        return refuse(
            ExecErrorCode::AssetHolderFrozen,
            format!("{a} is frozen for asset {id}"),
        );
    }
    Ok(())
}

/// Move `amount` from `from` to `to`. Checks, in order: the asset exists; neither side is
/// frozen; both are admitted by the white list; the balance covers the amount.
pub(super) fn transfer(
    ov: &mut Overlay<'_>,
    call: &Call,
    id: &Hash,
    (from, to): (&Address, &Address),
    amount: u128,
) -> ModResult<Applied> {
    let info = load(ov, call.alg, id)?;
    let mut src = holding(ov, call.alg, id, from)?;
    let mut dst = holding(ov, call.alg, id, to)?;
    may_hold(&info, from, &src)?;
    may_hold(&info, to, &dst)?;
    if src.balance < amount {
        return refuse(
            ExecErrorCode::AssetInsufficientBalance,
            format!(
                "{from} holds {} of asset {id}, less than {amount}",
                src.balance
            ),
        );
    }
    if from != to {
        let Some(credited) = dst.balance.checked_add(amount) else {
            return refuse(
                ExecErrorCode::Overflow,
                format!("the balance of {to} would overflow"),
            );
        };
        dst.balance = credited;
        src.balance -= amount;
        put_holding(ov, call.alg, id, from, &src)?;
        put_holding(ov, call.alg, id, to, &dst)?;
    }
    Ok(Applied::events(vec![event(
        "Transfer",
        id,
        vec![
            ("from", from.to_string()),
            ("to", to.to_string()),
            ("amount", amount.to_string()),
        ],
    )]))
}

/// Set the sender's allowance for `spender` (replacing the previous one).
pub(super) fn approve(
    ov: &mut Overlay<'_>,
    call: &Call,
    id: &Hash,
    spender: &Address,
    amount: u128,
) -> ModResult<Applied> {
    load(ov, call.alg, id)?;
    not_frozen(ov, call, id, &call.sender)?;
    put_allowance(ov, call.alg, id, (&call.sender, spender), amount)?;
    Ok(Applied::events(vec![event(
        "Approval",
        id,
        vec![
            ("owner", call.sender.to_string()),
            ("spender", spender.to_string()),
            ("amount", amount.to_string()),
        ],
    )]))
}

/// As the sender (a spender), move `amount` from `from` to `to` within the allowance. Checks,
/// in order: the asset exists; the spender is not frozen; the allowance covers the amount;
/// then the checks of [`transfer`].
pub(super) fn transfer_from(
    ov: &mut Overlay<'_>,
    call: &Call,
    id: &Hash,
    (from, to): (&Address, &Address),
    amount: u128,
) -> ModResult<Applied> {
    load(ov, call.alg, id)?;
    not_frozen(ov, call, id, &call.sender)?;
    let allowed = allowance(ov, call.alg, id, from, &call.sender)?;
    if allowed < amount {
        return refuse(
            ExecErrorCode::AssetAllowanceExceeded,
            format!(
                "{} may move {allowed} of {from}'s asset {id}, less than {amount}",
                call.sender
            ),
        );
    }
    let mut applied = transfer(ov, call, id, (from, to), amount)?;
    put_allowance(ov, call.alg, id, (from, &call.sender), allowed - amount)?;
    for e in &mut applied.events {
        e.attributes
            .push(("spender".into(), call.sender.to_string()));
    }
    Ok(applied)
}

/// Destroy `amount` of the sender's balance (burnable assets; the sender must not be frozen).
pub(super) fn burn(
    ov: &mut Overlay<'_>,
    call: &Call,
    id: &Hash,
    amount: u128,
) -> ModResult<Applied> {
    let mut info = load(ov, call.alg, id)?;
    if !info.burnable {
        return refuse(
            ExecErrorCode::AssetNotBurnable,
            format!("asset {id} is not burnable"),
        );
    }
    let holder = call.sender;
    let mut h = holding(ov, call.alg, id, &holder)?;
    if h.frozen {
        return refuse(
            ExecErrorCode::AssetHolderFrozen,
            format!("{holder} is frozen for asset {id}"),
        );
    }
    if h.balance < amount {
        return refuse(
            ExecErrorCode::AssetInsufficientBalance,
            format!(
                "{holder} holds {} of asset {id}, less than {amount}",
                h.balance
            ),
        );
    }
    // The supply is the sum of the holdings, so it covers any one balance; if it does not, the
    // state is corrupt and execution must stop rather than guess.
    let Some(supply) = info.supply.checked_sub(amount) else {
        return Err(TxError::Fatal(ExecutionError::Corrupt {
            what: "asset supply",
            key: hex::encode(crate::keys::asset(call.alg, id)),
            reason: format!("supply {} below a holding of {}", info.supply, h.balance),
        }));
    };
    info.supply = supply;
    h.balance -= amount;
    put_holding(ov, call.alg, id, &holder, &h)?;
    super::state::put_info(ov, call.alg, &info);
    Ok(Applied::events(vec![event(
        "Burned",
        id,
        vec![
            ("from", holder.to_string()),
            ("amount", amount.to_string()),
            ("supply", info.supply.to_string()),
        ],
    )]))
}
