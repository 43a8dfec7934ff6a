//! Native non-fungible assets (issue 15; `docs/assets.md`): collections, tokens with metadata
//! (URI, content hash, optional evidence record), mint, transfer, approve, burn, and each
//! token's provenance (the ordered owners with the heights they received it at).
//!
//! State (keys in [`crate::keys`]):
//!
//! | key | value |
//! |---|---|
//! | `H("keel/nft/col/v1" ‖ id)` | [`CollectionInfo`]: name, symbol, issuer, max supply, counts |
//! | `H("keel/nft/tok/v1" ‖ id ‖ token)` | [`TokenRecord`]: metadata, mint height (immutable) |
//! | `H("keel/nft/own/v1" ‖ id ‖ token)` | [`TokenState`]: owner, burned, provenance count |
//! | `H("keel/nft/appr/v1" ‖ id ‖ token)` | approved spender, `Address` (deleted when none) |
//! | `H("keel/nft/bal/v1" ‖ id ‖ owner)` | u64: tokens of the collection held (deleted at zero) |
//! | `H("keel/nft/prov/v1" ‖ id ‖ token ‖ seq mod 256)` | [`Step`]: owner, height, burned |
//!
//! [`TokenInfo`] (what [`token_info`] returns) joins the first three.
//!
//! Provenance is bounded: entry `seq` lives in slot `seq mod MAX_NFT_PROVENANCE`, so a token
//! keeps its last 256 owners (plus the count of all). Every refusal is a specific `NFT_*`
//! code, and the executor drops the operation's writes. Every event has module `nft` and the
//! collection id and token id as its first attributes.

mod issuer;
mod owner;
mod state;

pub use state::{
    CollectionInfo, ProvenanceEntry, Step, TokenInfo, TokenRecord, TokenState, collection_info,
    nft_balance, provenance, token_info,
};

use super::{Applied, Call, ModResult, refuse};
use keel_types::{Event, ExecErrorCode, Hash, NftOp};

/// Execute an NFT operation in the transaction overlay.
pub(crate) fn apply(
    ov: &mut crate::overlay::Overlay<'_>,
    call: &Call,
    op: &NftOp,
) -> ModResult<Applied> {
    // Checked at admission already; a block is only as good as its proposer, so check again.
    if let Err((field, reason)) = op.check() {
        return refuse(ExecErrorCode::NftInvalid, format!("{field}: {reason}"));
    }
    match op {
        NftOp::CreateCollection(c) => issuer::create(ov, call, c),
        NftOp::Mint {
            collection,
            token,
            to,
            metadata,
        } => issuer::mint(ov, call, (collection, *token), to, metadata),
        NftOp::Transfer {
            collection,
            token,
            to,
        } => owner::transfer(ov, call, (collection, *token), to),
        NftOp::Approve {
            collection,
            token,
            spender,
        } => owner::approve(ov, call, (collection, *token), spender.as_ref()),
        NftOp::Burn { collection, token } => owner::burn(ov, call, (collection, *token)),
    }
}

/// An `nft` event whose first attributes are the collection id and (if any) the token id.
fn event(name: &str, collection: &Hash, token: Option<u64>, attrs: Vec<(&str, String)>) -> Event {
    let mut all = vec![("collection", collection.to_string())];
    if let Some(t) = token {
        all.push(("token", t.to_string()));
    }
    all.extend(attrs);
    super::event("nft", name, all)
}
