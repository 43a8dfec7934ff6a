//! What the issuer does: issue, mint, freeze / unfreeze, edit the white list, hand on the role.

use super::event;
use super::state::{AssetInfo, Holding, holding, load, put_holding, put_info};
use crate::modules::face::FaceTarget;
use crate::modules::{Applied, Call, ModResult, refuse};
use crate::overlay::Overlay;
use keel_types::{Address, AssetIssue, ExecErrorCode, Hash};

/// Create the asset (id = tx hash), list its holders, credit the initial supply to the issuer.
pub(super) fn issue(ov: &mut Overlay<'_>, call: &Call, i: &AssetIssue) -> ModResult<Applied> {
    let id = call.tx_hash;
    if super::asset_info(ov, call.alg, &id)?.is_some() {
        // A transaction executes once (its nonce is consumed), so its hash cannot repeat.
        return refuse(ExecErrorCode::AssetInvalid, format!("asset {id} exists"));
    }
    let info = AssetInfo {
        id,
        name: i.name.clone(),
        symbol: i.symbol.clone(),
        decimals: i.decimals,
        max_supply: i.max_supply,
        supply: i.initial_supply,
        issuer: i.issuer,
        mintable: i.mintable,
        burnable: i.burnable,
        freezable: i.freezable,
        has_holder_list: i.holder_list.is_some(),
        created_height: call.ctx.height,
    };
    put_info(ov, call.alg, &info);
    let face = FaceTarget::Erc20(id);
    crate::modules::face::register(ov, call.alg, face, ExecErrorCode::AssetInvalid)?;
    for a in i.holder_list.iter().flatten() {
        put_holding(
            ov,
            call.alg,
            &id,
            a,
            &Holding {
                listed: true,
                ..Holding::default()
            },
        )?;
    }
    let mut issuer = holding(ov, call.alg, &id, &i.issuer)?;
    issuer.balance = i.initial_supply;
    put_holding(ov, call.alg, &id, &i.issuer, &issuer)?;
    let mut events = vec![event(
        "AssetIssued",
        &id,
        vec![
            ("name", i.name.clone()),
            ("symbol", i.symbol.clone()),
            ("decimals", i.decimals.to_string()),
            ("max_supply", i.max_supply.to_string()),
            ("issuer", i.issuer.to_string()),
            ("erc20", crate::modules::face::face_address(&id).to_string()),
        ],
    )];
    if i.initial_supply > 0 {
        events.push(minted(&id, &i.issuer, i.initial_supply, i.initial_supply));
    }
    Ok(Applied {
        events,
        output: id.0.to_vec(),
    })
}

/// The asset, if the sender holds its issuer role; `ASSET_NOT_ISSUER` otherwise.
fn as_issuer(ov: &Overlay<'_>, call: &Call, id: &Hash, what: &str) -> ModResult<AssetInfo> {
    let info = load(ov, call.alg, id)?;
    if info.issuer != call.sender {
        return refuse(
            ExecErrorCode::AssetNotIssuer,
            format!("only the issuer {} may {what} asset {id}", info.issuer),
        );
    }
    Ok(info)
}

pub(super) fn mint(
    ov: &mut Overlay<'_>,
    call: &Call,
    id: &Hash,
    to: &Address,
    amount: u128,
) -> ModResult<Applied> {
    let mut info = as_issuer(ov, call, id, "mint")?;
    if !info.mintable {
        return refuse(
            ExecErrorCode::AssetNotMintable,
            format!("asset {id} is not mintable"),
        );
    }
    let mut dst = holding(ov, call.alg, id, to)?;
    super::holder::may_hold(&info, to, &dst)?;
    // `supply <= max_supply` always holds, so the room never underflows.
    let room = info.max_supply.saturating_sub(info.supply);
    if amount > room {
        return refuse(
            ExecErrorCode::AssetMaxSupply,
            format!(
                "minting {amount} would take the supply {} above the max supply {}",
                info.supply, info.max_supply
            ),
        );
    }
    let Some(balance) = dst.balance.checked_add(amount) else {
        return refuse(
            ExecErrorCode::Overflow,
            format!("the balance of {to} would overflow"),
        );
    };
    dst.balance = balance;
    info.supply += amount;
    put_holding(ov, call.alg, id, to, &dst)?;
    put_info(ov, call.alg, &info);
    Ok(Applied::events(vec![minted(id, to, amount, info.supply)]))
}

fn minted(id: &Hash, to: &Address, amount: u128, supply: u128) -> keel_types::Event {
    event(
        "Minted",
        id,
        vec![
            ("to", to.to_string()),
            ("amount", amount.to_string()),
            ("supply", supply.to_string()),
        ],
    )
}

pub(super) fn set_frozen(
    ov: &mut Overlay<'_>,
    call: &Call,
    id: &Hash,
    holder: &Address,
    frozen: bool,
) -> ModResult<Applied> {
    let info = as_issuer(ov, call, id, if frozen { "freeze" } else { "unfreeze" })?;
    if !info.freezable {
        return refuse(
            ExecErrorCode::AssetNotFreezable,
            format!("asset {id} is not freezable"),
        );
    }
    let mut h = holding(ov, call.alg, id, holder)?;
    h.frozen = frozen;
    put_holding(ov, call.alg, id, holder, &h)?;
    let name = if frozen {
        "HolderFrozen"
    } else {
        "HolderUnfrozen"
    };
    Ok(Applied::events(vec![event(
        name,
        id,
        vec![("holder", holder.to_string())],
    )]))
}

pub(super) fn set_listed(
    ov: &mut Overlay<'_>,
    call: &Call,
    id: &Hash,
    holder: &Address,
    listed: bool,
) -> ModResult<Applied> {
    let info = as_issuer(ov, call, id, "edit the white list of")?;
    if !info.has_holder_list {
        return refuse(
            ExecErrorCode::AssetInvalid,
            format!("asset {id} has no holder white list"),
        );
    }
    let mut h = holding(ov, call.alg, id, holder)?;
    h.listed = listed;
    put_holding(ov, call.alg, id, holder, &h)?;
    Ok(Applied::events(vec![event(
        "HolderListed",
        id,
        vec![
            ("holder", holder.to_string()),
            ("listed", listed.to_string()),
        ],
    )]))
}

pub(super) fn set_issuer(
    ov: &mut Overlay<'_>,
    call: &Call,
    id: &Hash,
    issuer: &Address,
) -> ModResult<Applied> {
    let mut info = as_issuer(ov, call, id, "hand on the issuer role of")?;
    let previous = info.issuer;
    info.issuer = *issuer;
    put_info(ov, call.alg, &info);
    Ok(Applied::events(vec![event(
        "IssuerChanged",
        id,
        vec![("from", previous.to_string()), ("to", issuer.to_string())],
    )]))
}
