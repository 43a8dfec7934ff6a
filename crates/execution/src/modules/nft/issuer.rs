//! What the issuer does: create a collection, mint tokens.

use super::event;
use super::state::{
    CollectionInfo, TokenInfo, add_balance, load_collection, put_collection, put_token,
    record_step, token_info,
};
use crate::keys;
use crate::modules::face::{FaceTarget, face_address};
use crate::modules::{Applied, Call, ModResult, refuse};
use crate::overlay::Overlay;
use keel_types::{Address, ExecErrorCode, Hash, NftCollectionCreate, NftMetadata};

/// Create the collection (id = tx hash); the output is its id.
pub(super) fn create(
    ov: &mut Overlay<'_>,
    call: &Call,
    c: &NftCollectionCreate,
) -> ModResult<Applied> {
    let id = call.tx_hash;
    if super::collection_info(ov, call.alg, &id)?.is_some() {
        // A transaction executes once (its nonce is consumed), so its hash cannot repeat.
        return refuse(ExecErrorCode::NftInvalid, format!("collection {id} exists"));
    }
    let info = CollectionInfo {
        id,
        name: c.name.clone(),
        symbol: c.symbol.clone(),
        issuer: c.issuer,
        max_supply: c.max_supply,
        minted: 0,
        burned: 0,
        created_height: call.ctx.height,
    };
    put_collection(ov, call.alg, &info);
    let face = FaceTarget::Erc721(id);
    crate::modules::face::register(ov, call.alg, face, ExecErrorCode::NftInvalid)?;
    let max = c
        .max_supply
        .map_or_else(|| "none".into(), |m| m.to_string());
    Ok(Applied {
        events: vec![event(
            "CollectionCreated",
            &id,
            None,
            vec![
                ("name", c.name.clone()),
                ("symbol", c.symbol.clone()),
                ("issuer", c.issuer.to_string()),
                ("max_supply", max),
                ("erc721", face_address(&id).to_string()),
            ],
        )],
        output: id.0.to_vec(),
    })
}

/// Issuer only: mint `token` to `to`. Checks, in order: the collection exists; the sender is
/// its issuer; the id is unused; the max supply has room; the evidence record exists.
pub(super) fn mint(
    ov: &mut Overlay<'_>,
    call: &Call,
    (collection, token): (&Hash, u64),
    to: &Address,
    metadata: &NftMetadata,
) -> ModResult<Applied> {
    let mut info = load_collection(ov, call.alg, collection)?;
    if info.issuer != call.sender {
        return refuse(
            ExecErrorCode::NftNotIssuer,
            format!("only the issuer {} may mint in {collection}", info.issuer),
        );
    }
    if token_info(ov, call.alg, collection, token)?.is_some() {
        return refuse(
            ExecErrorCode::NftTokenExists,
            format!("token {token} of {collection} was already minted"),
        );
    }
    if info.max_supply.is_some_and(|m| info.minted >= m) {
        return refuse(
            ExecErrorCode::NftMaxSupply,
            format!(
                "collection {collection} has minted its {} tokens",
                info.minted
            ),
        );
    }
    if let Some(e) = &metadata.evidence
        && ov.get(&keys::evidence(call.alg, e))?.is_none()
    {
        return refuse(
            ExecErrorCode::NftEvidenceUnknown,
            format!("no evidence record {e}"),
        );
    }
    info.minted += 1;
    let mut t = TokenInfo {
        collection: *collection,
        token,
        owner: *to,
        approved: None,
        metadata: metadata.clone(),
        burned: false,
        minted_height: call.ctx.height,
        provenance_len: 0,
    };
    record_step(ov, call.alg, &mut t, call.ctx.height, false);
    put_token(ov, call.alg, &t, true)?;
    put_collection(ov, call.alg, &info);
    add_balance(ov, call.alg, collection, to, true)?;
    let mut attrs = vec![
        ("to", to.to_string()),
        ("uri", metadata.uri.clone()),
        ("content_hash", metadata.content_hash.to_string()),
    ];
    if let Some(e) = &metadata.evidence {
        attrs.push(("evidence", e.to_string()));
    }
    Ok(Applied::events(vec![event(
        "Minted",
        collection,
        Some(token),
        attrs,
    )]))
}
