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

/// A token.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
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

/// One step of a token's history: who held it from which height (`burned`: the step that
/// destroyed it, `owner` the last owner).
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
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
    read(view, "nft token", &keys::nft_token(alg, collection, token))
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
        let entry: Option<ProvenanceEntry> = read(view, "nft provenance", &key)?;
        match entry {
            Some(e) if e.seq == seq => out.push(e),
            _ => {
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

pub(super) fn put_token(ov: &mut Overlay<'_>, alg: HashAlgorithm, t: &TokenInfo) {
    ov.put(
        keys::nft_token(alg, &t.collection, t.token),
        codec::encode(t),
    );
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
    let entry = ProvenanceEntry {
        seq: t.provenance_len,
        owner: t.owner,
        height,
        burned,
    };
    let slot = entry.seq % MAX_NFT_PROVENANCE;
    ov.put(
        keys::nft_provenance(alg, &t.collection, t.token, slot),
        codec::encode(&entry),
    );
    t.provenance_len += 1;
}
