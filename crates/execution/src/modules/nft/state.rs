//! Collection and token records, per-owner counts and provenance entries: reads over any state
//! view, and the writes the operations use.

use crate::ExecutionError;
use crate::context::read_value as read;
use crate::keys;
use crate::modules::{ModResult, refuse};
use crate::overlay::{Overlay, StateView};
use borsh::{BorshDeserialize, BorshSerialize};
use keel_crypto::HashAlgorithm;
use keel_types::{Address, ExecErrorCode, Hash, MAX_NFT_PROVENANCE, NftMetadata, codec};

/// An NFT collection.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CollectionInfo {
    /// Id: hash of the creating transaction.
    pub id: Hash,
    /// Name.
    pub name: String,
    /// Symbol.
    pub symbol: String,
    /// Who may mint.
    pub issuer: Address,
    /// Most tokens ever minted, if bounded.
    pub max_supply: Option<u64>,
    /// Tokens minted so far (burned ones included).
    pub minted: u64,
    /// Tokens burned so far.
    pub burned: u64,
    /// Height of the creating block.
    pub created_height: u64,
}

/// A token as the module and its readers see it: its immutable record
/// ([`TokenRecord`]), its ownership ([`TokenState`]) and its approval, which are three records
/// so that each of the last two fits one EVM storage word (the ERC-721 face, ADR 0015).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    /// Collection id.
    pub collection: Hash,
    /// Token id.
    pub token: u64,
    /// Current owner (the last owner once burned).
    pub owner: Address,
    /// Who may transfer it besides the owner (cleared on every transfer).
    pub approved: Option<Address>,
    /// Metadata set at mint.
    pub metadata: NftMetadata,
    /// Destroyed by its owner.
    pub burned: bool,
    /// Height of the minting block.
    pub minted_height: u64,
    /// Provenance entries ever written (mint, each transfer, the burn).
    pub provenance_len: u64,
}

/// The immutable part of a token, at `keys::nft_token`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TokenRecord {
    /// Collection id.
    pub collection: Hash,
    /// Token id.
    pub token: u64,
    /// Metadata set at mint.
    pub metadata: NftMetadata,
    /// Height of the minting block.
    pub minted_height: u64,
}

/// Who holds a token, at `keys::nft_owner`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TokenState {
    /// Current owner (the last owner once burned).
    pub owner: Address,
    /// Destroyed by its owner.
    pub burned: bool,
    /// Provenance entries ever written.
    pub provenance_len: u64,
}

/// One step of a token's history: who held it from which height (`burned`: the step that
/// destroyed it, `owner` the last owner).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProvenanceEntry {
    /// Sequence number (0 = the mint).
    pub seq: u64,
    /// Owner from this step on.
    pub owner: Address,
    /// Block height of the step.
    pub height: u64,
    /// This step burned the token.
    pub burned: bool,
}

/// A provenance entry as stored at `keys::nft_provenance` (its sequence number is implied by
/// its slot and the token's count).
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Step {
    /// Owner from this step on.
    pub owner: Address,
    /// Block height of the step.
    pub height: u64,
    /// This step burned the token.
    pub burned: bool,
}

/// A collection's record, if it exists.
pub fn collection_info(
    view: &dyn StateView,
    alg: HashAlgorithm,
    id: &Hash,
) -> Result<Option<CollectionInfo>, ExecutionError> {
    read(view, "nft collection", &keys::nft_collection(alg, id))
}

/// A token's record, if it was ever minted.
pub fn token_info(
    view: &dyn StateView,
    alg: HashAlgorithm,
    collection: &Hash,
    token: u64,
) -> Result<Option<TokenInfo>, ExecutionError> {
    let key = keys::nft_token(alg, collection, token);
    let Some(r): Option<TokenRecord> = read(view, "nft token", &key)? else {
        return Ok(None);
    };
    let state_key = keys::nft_owner(alg, collection, token);
    let Some(st): Option<TokenState> = read(view, "nft owner", &state_key)? else {
        return Err(ExecutionError::Corrupt {
            what: "nft owner",
            key: hex::encode(state_key),
            reason: "a minted token has no owner record".into(),
        });
    };
    let approved = read(
        view,
        "nft approval",
        &keys::nft_approved(alg, collection, token),
    )?;
    Ok(Some(TokenInfo {
        collection: r.collection,
        token: r.token,
        owner: st.owner,
        approved,
        metadata: r.metadata,
        burned: st.burned,
        minted_height: r.minted_height,
        provenance_len: st.provenance_len,
    }))
}

/// How many live tokens of `collection` `owner` holds.
pub fn nft_balance(
    view: &dyn StateView,
    alg: HashAlgorithm,
    collection: &Hash,
    owner: &Address,
) -> Result<u64, ExecutionError> {
    let key = keys::nft_balance(alg, collection, owner);
    Ok(read(view, "nft balance", &key)?.unwrap_or(0))
}

/// A token's provenance, oldest first: its last [`MAX_NFT_PROVENANCE`] entries at most.
pub fn provenance(
    view: &dyn StateView,
    alg: HashAlgorithm,
    collection: &Hash,
    token: u64,
) -> Result<Vec<ProvenanceEntry>, ExecutionError> {
    let Some(t) = token_info(view, alg, collection, token)? else {
        return Ok(vec![]);
    };
    let first = t.provenance_len.saturating_sub(MAX_NFT_PROVENANCE);
    let mut out = Vec::with_capacity((t.provenance_len - first) as usize);
    for seq in first..t.provenance_len {
        let key = keys::nft_provenance(alg, collection, token, seq % MAX_NFT_PROVENANCE);
        let step: Option<Step> = read(view, "nft provenance", &key)?;
        match step {
            Some(e) => out.push(ProvenanceEntry {
                seq,
                owner: e.owner,
                height: e.height,
                burned: e.burned,
            }),
            None => {
                return Err(ExecutionError::Corrupt {
                    what: "nft provenance",
                    key: hex::encode(key),
                    reason: format!("entry {seq} missing"),
                });
            }
        }
    }
    Ok(out)
}

/// The collection, or `NFT_UNKNOWN_COLLECTION`.
pub(super) fn load_collection(
    ov: &Overlay<'_>,
    alg: HashAlgorithm,
    id: &Hash,
) -> ModResult<CollectionInfo> {
    match collection_info(ov, alg, id)? {
        Some(c) => Ok(c),
        None => refuse(
            ExecErrorCode::NftUnknownCollection,
            format!("no NFT collection {id}"),
        ),
    }
}

/// A live token, or `NFT_UNKNOWN_COLLECTION` / `NFT_UNKNOWN_TOKEN` / `NFT_BURNED`.
pub(super) fn load_token(
    ov: &Overlay<'_>,
    alg: HashAlgorithm,
    (collection, token): (&Hash, u64),
) -> ModResult<TokenInfo> {
    load_collection(ov, alg, collection)?;
    match token_info(ov, alg, collection, token)? {
        Some(t) if t.burned => refuse(
            ExecErrorCode::NftBurned,
            format!("token {token} of {collection} was burned"),
        ),
        Some(t) => Ok(t),
        None => refuse(
            ExecErrorCode::NftUnknownToken,
            format!("no token {token} in collection {collection}"),
        ),
    }
}

pub(super) fn put_collection(ov: &mut Overlay<'_>, alg: HashAlgorithm, c: &CollectionInfo) {
    ov.put(keys::nft_collection(alg, &c.id), codec::encode(c));
}

/// Store the token's ownership and approval (and, at its mint, its immutable record).
pub(super) fn put_token(
    ov: &mut Overlay<'_>,
    alg: HashAlgorithm,
    t: &TokenInfo,
    mint: bool,
) -> ModResult<()> {
    let (c, id) = (&t.collection, t.token);
    if mint {
        let record = TokenRecord {
            collection: *c,
            token: id,
            metadata: t.metadata.clone(),
            minted_height: t.minted_height,
        };
        ov.put(keys::nft_token(alg, c, id), codec::encode(&record));
    }
    let state = TokenState {
        owner: t.owner,
        burned: t.burned,
        provenance_len: t.provenance_len,
    };
    ov.put(keys::nft_owner(alg, c, id), codec::encode(&state));
    let approved_key = keys::nft_approved(alg, c, id);
    match &t.approved {
        Some(a) => ov.put(approved_key, codec::encode(a)),
        None if ov.get(&approved_key)?.is_some() => ov.set(approved_key, None),
        None => {}
    }
    Ok(())
}

/// Add `delta` (±1) to `owner`'s count; deleted at zero.
pub(super) fn add_balance(
    ov: &mut Overlay<'_>,
    alg: HashAlgorithm,
    collection: &Hash,
    owner: &Address,
    up: bool,
) -> ModResult<()> {
    let n = nft_balance(ov, alg, collection, owner)?;
    let n = if up {
        n.saturating_add(1)
    } else {
        n.saturating_sub(1)
    };
    let key = keys::nft_balance(alg, collection, owner);
    if n == 0 {
        ov.set(key, None);
    } else {
        ov.put(key, codec::encode(&n));
    }
    Ok(())
}

/// Append a provenance step to `t` (bumps `t.provenance_len`; the caller stores `t`).
pub(super) fn record_step(
    ov: &mut Overlay<'_>,
    alg: HashAlgorithm,
    t: &mut TokenInfo,
    height: u64,
    burned: bool,
) {
    let step = Step {
        owner: t.owner,
        height,
        burned,
    };
    let slot = t.provenance_len % MAX_NFT_PROVENANCE;
    ov.put(
        keys::nft_provenance(alg, &t.collection, t.token, slot),
        codec::encode(&step),
    );
    t.provenance_len += 1;
}
