//! Native fungible assets (issue 15; `docs/assets.md`): issue, mint, burn, transfer,
//! approve / transfer-from, freeze / unfreeze a holder, a holder white list, and handing on the
//! issuer role.
//!
//! State (keys in [`crate::keys`]):
//!
//! | key | value |
//! |---|---|
//! | `H("keel/asset/v1" ‖ id)` | [`AssetInfo`]: metadata, flags, issuer, supply |
//! | `H("keel/asset/bal/v1" ‖ id ‖ holder)` | [`Holding`]: balance, frozen, listed (deleted when all zero) |
//! | `H("keel/asset/allow/v1" ‖ id ‖ owner ‖ spender)` | allowance, u128 (deleted at zero) |
//! | `H("keel/face/v1" ‖ face address)` | [`FaceTarget`]: the asset behind an ERC-20 face |
//!
//! Invariant: an asset's `supply` is the sum of its holdings and never exceeds `max_supply`.
//! Every refusal is a specific `ASSET_*` code (or `OVERFLOW`), and the executor drops the
//! operation's writes, so a refused operation changes nothing but the sender's nonce and fee.
//! Every event has module `asset` and the asset id as its first attribute.

mod holder;
mod issuer;
mod state;

pub use super::face::{FACE_PREFIX, FaceTarget, erc20_face, face_target};
pub use state::{AssetInfo, Holding, allowance, asset_info, holding};

use super::{Applied, Call, ModResult, refuse};
use keel_types::{AssetOp, Event, ExecErrorCode, Hash};

/// Execute an asset operation in the transaction overlay.
pub(crate) fn apply(
    ov: &mut crate::overlay::Overlay<'_>,
    call: &Call,
    op: &AssetOp,
) -> ModResult<Applied> {
    // Admission and block validation checked the limits already; a block is only as good as
    // its proposer, so check again (cheap) rather than trust it.
    if let Err((field, reason)) = op.check() {
        return refuse(ExecErrorCode::AssetInvalid, format!("{field}: {reason}"));
    }
    match op {
        AssetOp::Issue(i) => issuer::issue(ov, call, i),
        AssetOp::Mint { asset, to, amount } => issuer::mint(ov, call, asset, to, *amount),
        AssetOp::Freeze { asset, holder } => issuer::set_frozen(ov, call, asset, holder, true),
        AssetOp::Unfreeze { asset, holder } => issuer::set_frozen(ov, call, asset, holder, false),
        AssetOp::SetListed {
            asset,
            holder,
            listed,
        } => issuer::set_listed(ov, call, asset, holder, *listed),
        AssetOp::SetIssuer { asset, issuer } => issuer::set_issuer(ov, call, asset, issuer),
        AssetOp::Burn { asset, amount } => holder::burn(ov, call, asset, *amount),
        AssetOp::Transfer { asset, to, amount } => {
            let from = call.sender;
            holder::transfer(ov, call, asset, (&from, to), *amount)
        }
        AssetOp::Approve {
            asset,
            spender,
            amount,
        } => holder::approve(ov, call, asset, spender, *amount),
        AssetOp::TransferFrom {
            asset,
            from,
            to,
            amount,
        } => holder::transfer_from(ov, call, asset, (from, to), *amount),
    }
}

/// An `asset` event whose first attribute is the asset id.
fn event(name: &str, asset: &Hash, attrs: Vec<(&str, String)>) -> Event {
    let mut all = vec![("asset", asset.to_string())];
    all.extend(attrs);
    super::event("asset", name, all)
}
