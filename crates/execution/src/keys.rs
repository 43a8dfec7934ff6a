//! Layout of the authenticated state: every logical key is hashed with the suite hash and a
//! module-specific domain into a 256-bit state key, which spreads keys uniformly over the tree
//! and keeps modules' key spaces disjoint.

use keel_crypto::HashAlgorithm;
use keel_types::{Address, ContentHashAlg, Hash};

/// A 256-bit key of the authenticated state.
pub type StateKey = [u8; 32];

/// Key of an account: `H("keel/acct/v1" || address)`.
pub fn account(alg: HashAlgorithm, addr: &Address) -> StateKey {
    alg.digest_parts(&[b"keel/acct/v1", &addr.0])
}

/// Key of an evidence record by id: `H("keel/evid/v1" || id)`.
pub fn evidence(alg: HashAlgorithm, id: &Hash) -> StateKey {
    alg.digest_parts(&[b"keel/evid/v1", &id.0])
}

/// Key of the content-hash index: `H("keel/evhash/v1" || alg name || content hash)` -> record id.
pub fn evidence_by_hash(
    alg: HashAlgorithm,
    content_alg: ContentHashAlg,
    content: &Hash,
) -> StateKey {
    alg.digest_parts(&[b"keel/evhash/v1", content_alg.name().as_bytes(), &content.0])
}

/// Key of an EVM contract's code: `H("keel/code/v1" || address)` -> raw bytecode (ADR 0009).
pub fn code(alg: HashAlgorithm, addr: &Address) -> StateKey {
    alg.digest_parts(&[b"keel/code/v1", &addr.0])
}

/// Key of an EVM storage slot: `H("keel/stor/v1" || address || slot)` -> 32-byte big-endian
/// value; a zero value is deleted (ADR 0009).
pub fn storage(alg: HashAlgorithm, addr: &Address, slot: &[u8; 32]) -> StateKey {
    alg.digest_parts(&[b"keel/stor/v1", &addr.0, slot])
}

/// Key of an asset's record: `H("keel/asset/v1" || asset id)` -> `AssetInfo` (issue 15).
pub fn asset(alg: HashAlgorithm, id: &Hash) -> StateKey {
    alg.digest_parts(&[b"keel/asset/v1", &id.0])
}

/// Key of a holder's balance and flags in an asset: `H("keel/asset/bal/v1" || asset id ||
/// holder)` -> `Holding`; absent = zero balance, not frozen, not listed.
pub fn asset_holding(alg: HashAlgorithm, id: &Hash, holder: &Address) -> StateKey {
    alg.digest_parts(&[b"keel/asset/bal/v1", &id.0, &holder.0])
}

/// Key of an allowance: `H("keel/asset/allow/v1" || asset id || owner || spender)` -> u128;
/// absent = zero.
pub fn asset_allowance(
    alg: HashAlgorithm,
    id: &Hash,
    owner: &Address,
    spender: &Address,
) -> StateKey {
    alg.digest_parts(&[b"keel/asset/allow/v1", &id.0, &owner.0, &spender.0])
}

/// Key of an NFT collection: `H("keel/nft/col/v1" || collection id)` -> `CollectionInfo`.
pub fn nft_collection(alg: HashAlgorithm, id: &Hash) -> StateKey {
    alg.digest_parts(&[b"keel/nft/col/v1", &id.0])
}

/// Key of a token: `H("keel/nft/tok/v1" || collection id || token id BE)` -> `TokenRecord`
/// (metadata, mint height).
pub fn nft_token(alg: HashAlgorithm, collection: &Hash, token: u64) -> StateKey {
    alg.digest_parts(&[b"keel/nft/tok/v1", &collection.0, &token.to_be_bytes()])
}

/// Key of how many tokens of a collection `owner` holds: `H("keel/nft/bal/v1" || collection
/// id || owner)` -> u64; absent = zero.
pub fn nft_balance(alg: HashAlgorithm, collection: &Hash, owner: &Address) -> StateKey {
    alg.digest_parts(&[b"keel/nft/bal/v1", &collection.0, &owner.0])
}

/// Key of a token's provenance entry `seq mod MAX_NFT_PROVENANCE`: `H("keel/nft/prov/v1" ||
/// collection id || token id BE || slot BE)` -> `Step`.
pub fn nft_provenance(alg: HashAlgorithm, collection: &Hash, token: u64, slot: u64) -> StateKey {
    alg.digest_parts(&[
        b"keel/nft/prov/v1",
        &collection.0,
        &token.to_be_bytes(),
        &slot.to_be_bytes(),
    ])
}

/// Key of the Ethereum face index: `H("keel/face/v1" || face address)` -> `FaceTarget`, the
/// native asset an ERC-20 face address stands for (`docs/assets.md`, ADR 0015).
pub fn face(alg: HashAlgorithm, addr: &Address) -> StateKey {
    alg.digest_parts(&[b"keel/face/v1", &addr.0])
}

/// Key of a token's ownership: `H("keel/nft/own/v1" || collection id || token id BE)` ->
/// `TokenState` (owner, burned, provenance count).
pub fn nft_owner(alg: HashAlgorithm, collection: &Hash, token: u64) -> StateKey {
    alg.digest_parts(&[b"keel/nft/own/v1", &collection.0, &token.to_be_bytes()])
}

/// Key of a token's approved spender: `H("keel/nft/appr/v1" || collection id || token id BE)`
/// -> `Address`; absent = none.
pub fn nft_approved(alg: HashAlgorithm, collection: &Hash, token: u64) -> StateKey {
    alg.digest_parts(&[b"keel/nft/appr/v1", &collection.0, &token.to_be_bytes()])
}

/// Key of a DID document: `H("keel/did/doc/v1" || 16-byte DID id)` -> `did::DidDocument`.
pub fn did(alg: HashAlgorithm, id: &keel_types::DidId) -> StateKey {
    alg.digest_parts(&[b"keel/did/doc/v1", id])
}
