//! The ERC-721 face of a native NFT collection (ADR 0015): `eth_call` reads (`ownerOf`,
//! `balanceOf`, `tokenURI`, `getApproved`, `name`, `symbol`, `totalSupply`,
//! `supportsInterface`) over the native records, an Ethereum `transferFrom` that moves the
//! native token, appends its provenance and logs `Transfer`, `approve` + spender transfer, a
//! native transfer and a native burn seen through the face, and the native refusals as reverts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod face_world;
use face_world::*;

use alloy_primitives::U256;
use keel_crypto::{HashAlgorithm, KeyPair, Scheme};
use keel_evm::face::erc20::{APPROVAL_TOPIC, TRANSFER_TOPIC};
use keel_evm::face::erc721::sel;
use keel_evm::logs;
use keel_execution::face::{FaceTarget, face_address, face_target};
use keel_execution::{keys, nft};
use keel_types::{
    Address, ContentHashAlg, ExecErrorCode, Hash, NftCollectionCreate, NftMetadata, NftOp, Payload,
    Receipt, TxStatus,
};

fn t(token: u64) -> Vec<u8> {
    word(u128::from(token))
}

struct Setup {
    w: World,
    issuer: KeyPair,
    user: KeyPair,
    id: Hash,
    face: Address,
}

fn mint(collection: Hash, token: u64, to: Address) -> NftOp {
    NftOp::Mint {
        collection,
        token,
        to,
        metadata: NftMetadata {
            uri: format!("ipfs://deed/{token}"),
            content_hash: Hash([token as u8; 32]),
            hash_alg: ContentHashAlg::Sha256,
            evidence: None,
        },
    }
}

/// A collection by an Ed25519 issuer; tokens 7 and 8 minted to a secp256k1 (Ethereum) user.
fn setup() -> Setup {
    let issuer = KeyPair::from_seed(Scheme::Ed25519, &[1; 32]);
    let user = KeyPair::from_seed(Scheme::Secp256k1, &[2; 32]);
    let mut w = World::new(&[addr_of(&issuer), addr_of(&user)]);
    let create = NftOp::CreateCollection(NftCollectionCreate {
        name: "Keel Deeds".into(),
        symbol: "DEED".into(),
        issuer: addr_of(&issuer),
        max_supply: None,
    });
    let (r, _) = w.native(&issuer, Payload::Nft(create));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let id = Hash(r.output.clone().try_into().unwrap());
    let face = face_address(&id);
    let named = r.events[0].attributes.iter().find(|(k, _)| k == "erc721");
    assert_eq!(named.map(|(_, v)| v.clone()), Some(face.to_string()));
    for token in [7, 8] {
        let (r, _) = w.native(&issuer, Payload::Nft(mint(id, token, addr_of(&user))));
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
    }
    Setup {
        w,
        issuer,
        user,
        id,
        face,
    }
}

fn owner_of(w: &World, face: Address, token: u64) -> Address {
    let out = w.call(face, [sel::OWNER_OF.to_vec(), t(token)].concat());
    Address(out[12..32].try_into().unwrap())
}

fn reverted(w: &World, face: Address, data: Vec<u8>) -> String {
    match w.try_call(face, data) {
        keel_evm::exec::CallOutcome::Revert { output, .. } => {
            keel_evm::exec::decode_revert_reason(&output).unwrap()
        }
        other => panic!("expected a revert, got {other:?}"),
    }
}

fn reason(r: &Receipt) -> String {
    assert_eq!(
        r.error.as_ref().unwrap().0,
        ExecErrorCode::Reverted,
        "{r:?}"
    );
    keel_evm::exec::decode_revert_reason(&r.output).unwrap()
}

#[test]
fn erc721_reads_see_the_native_records() {
    let s = setup();
    let user = addr_of(&s.user);
    assert_eq!(
        face_target(&s.w.state, ALG, &s.face).unwrap(),
        Some(FaceTarget::Erc721(s.id))
    );
    assert_eq!(owner_of(&s.w, s.face, 7), user);
    let bal =
        s.w.call(s.face, [sel::BALANCE_OF.to_vec(), aw(&user)].concat());
    assert_eq!(bal, word(2));
    assert_eq!(s.w.call(s.face, sel::TOTAL_SUPPLY.to_vec()), word(2));
    let uri = s.w.call(s.face, [sel::TOKEN_URI.to_vec(), t(7)].concat());
    let len = usize::try_from(U256::from_be_slice(&uri[32..64])).unwrap();
    assert_eq!(&uri[64..64 + len], b"ipfs://deed/7");
    let approved =
        s.w.call(s.face, [sel::GET_APPROVED.to_vec(), t(7)].concat());
    assert_eq!(approved, word(0));
    let supports = |id: [u8; 4]| {
        let mut w = [0u8; 32];
        w[..4].copy_from_slice(&id);
        s.w.call(
            s.face,
            [sel::SUPPORTS_INTERFACE.to_vec(), w.to_vec()].concat(),
        )
    };
    assert_eq!(supports([0x01, 0xff, 0xc9, 0xa7]), word(1), "ERC-165");
    assert_eq!(
        supports([0x5b, 0x5e, 0x13, 0x9f]),
        word(1),
        "ERC-721 Metadata"
    );
    assert_eq!(
        supports([0x80, 0xac, 0x58, 0xcd]),
        word(0),
        "no operators, no safe transfer"
    );
    let unknown = reverted(&s.w, s.face, [sel::OWNER_OF.to_vec(), t(9)].concat());
    assert!(unknown.starts_with("NFT_UNKNOWN_TOKEN"), "{unknown}");
}

#[test]
fn selectors_are_the_erc721_ones() {
    let k = |s: &str| HashAlgorithm::Keccak256.digest(s.as_bytes());
    let cases = [
        (sel::OWNER_OF, "ownerOf(uint256)"),
        (sel::GET_APPROVED, "getApproved(uint256)"),
        (sel::TOKEN_URI, "tokenURI(uint256)"),
        (sel::APPROVE, "approve(address,uint256)"),
        (sel::TRANSFER_FROM, "transferFrom(address,address,uint256)"),
        (sel::SUPPORTS_INTERFACE, "supportsInterface(bytes4)"),
        (sel::BALANCE_OF, "balanceOf(address)"),
        (sel::TOTAL_SUPPLY, "totalSupply()"),
    ];
    for (s, sig) in cases {
        assert_eq!(s, k(sig)[..4], "{sig}");
    }
}

#[test]
fn ethereum_transfer_from_moves_the_native_token_and_its_provenance() {
    let mut s = setup();
    let (user, bob) = (addr_of(&s.user), Address([0xb0; 20]));
    let data = [sel::TRANSFER_FROM.to_vec(), aw(&user), aw(&bob), t(7)].concat();
    let (r, changed) = s.w.eth(&s.user, s.face, data);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let height = s.w.height();
    let tok = nft::token_info(&s.w.state, ALG, &s.id, 7).unwrap().unwrap();
    assert_eq!((tok.owner, tok.provenance_len), (bob, 2));
    let p = nft::provenance(&s.w.state, ALG, &s.id, 7).unwrap();
    assert_eq!(
        p.last().map(|e| (e.seq, e.owner, e.height)),
        Some((1, bob, height))
    );
    assert_eq!(nft::nft_balance(&s.w.state, ALG, &s.id, &user).unwrap(), 1);
    assert_eq!(nft::nft_balance(&s.w.state, ALG, &s.id, &bob).unwrap(), 1);
    assert_eq!(owner_of(&s.w, s.face, 7), bob);
    // Transfer(from, to, tokenId), all indexed.
    let log = logs::from_event(&r.events[0]).unwrap();
    assert_eq!(log.address.0.0, s.face.0);
    assert_eq!(log.topics.len(), 4);
    assert_eq!(log.topics[0], TRANSFER_TOPIC);
    assert_eq!(&log.topics[2].0[12..], &bob.0);
    assert_eq!(log.topics[3].0.to_vec(), t(7));
    assert!(log.data.is_empty());
    // Nothing of the face's own account or EVM storage.
    for k in [keys::account(ALG, &s.face), keys::code(ALG, &s.face)] {
        assert!(!s.w.state.0.contains_key(&k) && !changed.contains(&k));
    }
    // ERC-721: never to the zero address.
    let zero = [
        sel::TRANSFER_FROM.to_vec(),
        aw(&bob),
        aw(&Address::ZERO),
        t(7),
    ]
    .concat();
    let why = reverted(&s.w, s.face, zero);
    assert!(why.starts_with("NFT_INVALID"), "{why}");
    // Now user does not own 7: refused, with the native code.
    let again = [sel::TRANSFER_FROM.to_vec(), aw(&user), aw(&user), t(7)].concat();
    let (r, _) = s.w.eth(&s.user, s.face, again);
    assert!(reason(&r).starts_with("NFT_NOT_OWNER"), "{r:?}");
}

#[test]
fn approve_lets_a_spender_transfer_and_the_transfer_clears_it() {
    let mut s = setup();
    let spender = KeyPair::from_seed(Scheme::Secp256k1, &[3; 32]);
    let (user, sp, carol) = (addr_of(&s.user), addr_of(&spender), Address([0xca; 20]));
    s.w.native(
        &s.issuer,
        Payload::Transfer {
            to: sp,
            amount: 10u128.pow(18),
        },
    );
    let move_ = [sel::TRANSFER_FROM.to_vec(), aw(&user), aw(&carol), t(8)].concat();
    let (r, _) = s.w.eth(&spender, s.face, move_.clone());
    assert!(reason(&r).starts_with("NFT_NOT_OWNER"), "{r:?}");
    let (r, _) = s.w.eth(
        &spender,
        s.face,
        [sel::APPROVE.to_vec(), aw(&sp), t(8)].concat(),
    );
    assert!(
        reason(&r).starts_with("NFT_NOT_OWNER"),
        "only the owner approves"
    );
    let (r, _) = s.w.eth(
        &s.user,
        s.face,
        [sel::APPROVE.to_vec(), aw(&sp), t(8)].concat(),
    );
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(
        logs::from_event(&r.events[0]).unwrap().topics[0],
        APPROVAL_TOPIC
    );
    let tok = nft::token_info(&s.w.state, ALG, &s.id, 8).unwrap().unwrap();
    assert_eq!(
        tok.approved,
        Some(sp),
        "the face's approval is the native one"
    );
    let (r, _) = s.w.eth(&spender, s.face, move_);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let tok = nft::token_info(&s.w.state, ALG, &s.id, 8).unwrap().unwrap();
    assert_eq!((tok.owner, tok.approved), (carol, None));
    assert!(!s.w.state.0.contains_key(&keys::nft_approved(ALG, &s.id, 8)));
}

#[test]
fn native_transfer_and_burn_are_seen_through_the_face() {
    let mut s = setup();
    let bob = KeyPair::from_seed(Scheme::Ed25519, &[5; 32]);
    let b = addr_of(&bob);
    s.w.native(
        &s.issuer,
        Payload::Transfer {
            to: b,
            amount: 10u128.pow(18),
        },
    );
    // The Ethereum user moves 7 to bob through the face; bob burns it natively.
    let data = [
        sel::TRANSFER_FROM.to_vec(),
        aw(&addr_of(&s.user)),
        aw(&b),
        t(7),
    ]
    .concat();
    assert_eq!(s.w.eth(&s.user, s.face, data).0.status, TxStatus::Success);
    let burn = NftOp::Burn {
        collection: s.id,
        token: 7,
    };
    let (r, _) = s.w.native(&bob, Payload::Nft(burn));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let why = reverted(&s.w, s.face, [sel::OWNER_OF.to_vec(), t(7)].concat());
    assert!(why.starts_with("NFT_BURNED"), "{why}");
    assert_eq!(s.w.call(s.face, sel::TOTAL_SUPPLY.to_vec()), word(1));
    let p = nft::provenance(&s.w.state, ALG, &s.id, 7).unwrap();
    let owners: Vec<_> = p.iter().map(|e| (e.owner, e.burned)).collect();
    assert_eq!(
        owners,
        vec![(addr_of(&s.user), false), (b, false), (b, true)]
    );
}
