//! What an owner does: transfer (also as the approved spender), approve, burn.

use super::event;
use super::state::{
    TokenInfo, add_balance, load_collection, load_token, put_collection, put_token, record_step,
};
use crate::modules::{Applied, Call, ModResult, refuse};
use crate::overlay::Overlay;
use keel_types::{Address, ExecErrorCode, Hash};

fn not_owner<T>(t: &TokenInfo, who: &Address, what: &str) -> ModResult<T> {
    refuse(
        ExecErrorCode::NftNotOwner,
        format!(
            "{who} may not {what} token {} of {}: owned by {}",
            t.token, t.collection, t.owner
        ),
    )
}

/// The owner or the approved spender gives the token to `to`; clears the approval.
pub(super) fn transfer(
    ov: &mut Overlay<'_>,
    call: &Call,
    id: (&Hash, u64),
    to: &Address,
) -> ModResult<Applied> {
    let mut t = load_token(ov, call.alg, id)?;
    let from = t.owner;
    if call.sender != from && t.approved != Some(call.sender) {
        return not_owner(&t, &call.sender, "transfer");
    }
    t.owner = *to;
    t.approved = None;
    record_step(ov, call.alg, &mut t, call.ctx.height, false);
    put_token(ov, call.alg, &t, false)?;
    if from != *to {
        add_balance(ov, call.alg, id.0, &from, false)?;
        add_balance(ov, call.alg, id.0, to, true)?;
    }
    let mut attrs = vec![("from", from.to_string()), ("to", to.to_string())];
    if call.sender != from {
        attrs.push(("spender", call.sender.to_string()));
    }
    Ok(Applied::events(vec![event(
        "Transfer",
        id.0,
        Some(id.1),
        attrs,
    )]))
}

/// The owner sets (or clears) the token's approved spender.
pub(super) fn approve(
    ov: &mut Overlay<'_>,
    call: &Call,
    id: (&Hash, u64),
    spender: Option<&Address>,
) -> ModResult<Applied> {
    let mut t = load_token(ov, call.alg, id)?;
    if call.sender != t.owner {
        return not_owner(&t, &call.sender, "approve a spender for");
    }
    t.approved = spender.copied();
    put_token(ov, call.alg, &t, false)?;
    let spender = spender.map_or_else(String::new, Address::to_string);
    Ok(Applied::events(vec![event(
        "Approval",
        id.0,
        Some(id.1),
        vec![("owner", t.owner.to_string()), ("spender", spender)],
    )]))
}

/// The owner destroys the token; its record stays (marked burned) with a last provenance step.
pub(super) fn burn(ov: &mut Overlay<'_>, call: &Call, id: (&Hash, u64)) -> ModResult<Applied> {
    let mut t = load_token(ov, call.alg, id)?;
    if call.sender != t.owner {
        return not_owner(&t, &call.sender, "burn");
    }
    let mut info = load_collection(ov, call.alg, id.0)?;
    info.burned += 1;
    t.burned = true;
    t.approved = None;
    record_step(ov, call.alg, &mut t, call.ctx.height, true);
    put_token(ov, call.alg, &t, false)?;
    put_collection(ov, call.alg, &info);
    add_balance(ov, call.alg, id.0, &t.owner, false)?;
    Ok(Applied::events(vec![event(
        "Burned",
        id.0,
        Some(id.1),
        vec![("from", t.owner.to_string())],
    )]))
}
