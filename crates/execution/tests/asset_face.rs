//! The ERC-20 face index an issuance writes (ADR 0015): the face address of an asset maps to
//! it, and an issuance whose face address is already taken is refused with `ASSET_INVALID`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use keel_execution::assets::{FaceTarget, erc20_face, face_target};
use keel_execution::keys;
use keel_types::*;

#[test]
fn issuance_indexes_the_face_and_names_it_in_the_event() {
    let mut c = Chain::new(&[]);
    let (r, id, _) = c.exec(addr(1), Payload::Asset(AssetOp::Issue(plain())));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let face = erc20_face(&id);
    assert_eq!(&face.0[..4], b"KEEL");
    assert_eq!(
        face_target(&c.state, ALG, &face).unwrap(),
        Some(FaceTarget::Erc20(id))
    );
    let named = r.events[0].attributes.iter().find(|(k, _)| k == "erc20");
    assert_eq!(named.map(|(_, v)| v.clone()), Some(face.to_string()));
}

#[test]
fn issuance_whose_face_is_taken_is_refused() {
    let mut c = Chain::new(&[]);
    // The next issuance from 1 is its nonce-0 transaction, built as `Chain::exec` builds it.
    let mut t = tx(0, Payload::Asset(AssetOp::Issue(plain())));
    t.tx.expires_at_height = u64::MAX;
    t.tx.gas_limit = 10_000_000;
    let id = t.hash(ALG);
    let face = erc20_face(&id);
    let squatter = FaceTarget::Erc20(Hash([7; 32]));
    c.state
        .0
        .insert(keys::face(ALG, &face), codec::encode(&squatter));
    let msg = c.refused(1, AssetOp::Issue(plain()), ExecErrorCode::AssetInvalid);
    assert!(msg.contains("face"), "{msg}");
    assert!(!c.state.0.contains_key(&keys::asset(ALG, &id)));
}
