//! The Ethereum faces of native assets (ADR 0015, `docs/assets.md`): every fungible asset is
//! also an ERC-20 contract, every NFT collection an ERC-721 contract, at a deterministic
//! address: `0x4b45454c` ("KEEL") followed by the first 16 bytes of the asset or collection id.
//! The address is indexed at creation so the EVM finds the asset from the address alone; the
//! balances and owners stay where the native modules keep them.

use crate::ExecutionError;
use crate::context::read_value;
use crate::keys;
use crate::modules::{ModResult, refuse};
use crate::overlay::{Overlay, StateView};
use borsh::{BorshDeserialize, BorshSerialize};
use keel_crypto::HashAlgorithm;
use keel_types::{Address, ExecErrorCode, Hash, codec};

/// First four bytes of every face address: ASCII "KEEL".
pub const FACE_PREFIX: [u8; 4] = *b"KEEL";

/// What a face address stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum FaceTarget {
    /// The ERC-20 face of the fungible asset with this id.
    Erc20(Hash),
    /// The ERC-721 face of the NFT collection with this id.
    Erc721(Hash),
}

impl FaceTarget {
    /// The asset or collection id.
    pub fn id(&self) -> &Hash {
        match self {
            FaceTarget::Erc20(id) | FaceTarget::Erc721(id) => id,
        }
    }
}

/// The ERC-20 face address of asset `id` (or the ERC-721 face of collection `id`):
/// [`FACE_PREFIX`] ‖ `id[0..16]`.
pub fn erc20_face(id: &Hash) -> Address {
    face_address(id)
}

/// The face address of an asset or collection id: [`FACE_PREFIX`] ‖ `id[0..16]`.
pub fn face_address(id: &Hash) -> Address {
    let mut a = [0u8; 20];
    a[..4].copy_from_slice(&FACE_PREFIX);
    a[4..].copy_from_slice(&id.0[..16]);
    Address(a)
}

/// What `addr` is the face of, if anything (one state read, only for prefixed addresses).
pub fn face_target(
    view: &dyn StateView,
    alg: HashAlgorithm,
    addr: &Address,
) -> Result<Option<FaceTarget>, ExecutionError> {
    if addr.0[..4] != FACE_PREFIX {
        return Ok(None);
    }
    read_value(view, "face index", &keys::face(alg, addr))
}

/// Index the face of a new asset or collection. Two ids sharing 16 leading bytes would share
/// a face: the later creation is refused with `taken` (`ASSET_INVALID`, `NFT_INVALID`) rather
/// than shadow the earlier one.
pub(crate) fn register(
    ov: &mut Overlay<'_>,
    alg: HashAlgorithm,
    target: FaceTarget,
    taken: ExecErrorCode,
) -> ModResult<()> {
    let face = face_address(target.id());
    let key = keys::face(alg, &face);
    if ov.get(&key)?.is_some() {
        return refuse(
            taken,
            format!("the face {face} of {} is taken", target.id()),
        );
    }
    ov.put(key, codec::encode(&target));
    Ok(())
}
