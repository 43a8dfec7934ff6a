//! The Ethereum face of a native asset (ADR 0015, `docs/assets.md`): every fungible asset is
//! also an ERC-20 contract at a deterministic address, `0x4b45454c` ("KEEL") followed by the
//! first 16 bytes of the asset id. The address is indexed at issuance so the EVM finds the
//! asset from the address alone; the balances stay where the native module keeps them.

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
}

/// The ERC-20 face address of asset `id`: [`FACE_PREFIX`] ‖ `id[0..16]`.
pub fn erc20_face(id: &Hash) -> Address {
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

/// Index the face of a new asset. Two ids sharing 16 leading bytes would share a face: the
/// later issuance is refused (`ASSET_INVALID`) rather than shadow the earlier one.
pub(super) fn register(ov: &mut Overlay<'_>, alg: HashAlgorithm, id: &Hash) -> ModResult<()> {
    let face = erc20_face(id);
    let key = keys::face(alg, &face);
    if ov.get(&key)?.is_some() {
        return refuse(
            ExecErrorCode::AssetInvalid,
            format!("the ERC-20 face {face} of asset {id} is taken"),
        );
    }
    ov.put(key, codec::encode(&FaceTarget::Erc20(*id)));
    Ok(())
}
