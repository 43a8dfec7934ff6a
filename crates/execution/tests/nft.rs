//! The nft module: create a collection, mint, transfer (as owner and approved spender),
//! approve, burn, provenance (ordered, bounded), governance policies — what each does, its
//! events, and every refusal with its specific code and no effect beyond the sender's nonce
//! and fee.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use ExecErrorCode::*;
use common::*;
use keel_execution::{keys, nft};
use keel_types::*;

fn attr<'a>(e: &'a Event, k: &str) -> &'a str {
    &e.attributes.iter().find(|(a, _)| a == k).unwrap().1
}

fn coll(max: Option<u64>) -> NftCollectionCreate {
    NftCollectionCreate {
        name: "Keel Deeds".into(),
        symbol: "DEED".into(),
        issuer: addr(1),
        max_supply: max,
    }
}

fn meta(evidence: Option<Hash>) -> NftMetadata {
    NftMetadata {
        uri: "ipfs://deed/1".into(),
        content_hash: Hash([9; 32]),
        hash_alg: ContentHashAlg::Sm3,
        evidence,
    }
}

fn mint(collection: Hash, token: u64, to: u8) -> NftOp {
    NftOp::Mint {
        collection,
        token,
        to: addr(to),
        metadata: meta(None),
    }
}

fn xfer(collection: Hash, token: u64, to: u8) -> NftOp {
    NftOp::Transfer {
        collection,
        token,
        to: addr(to),
    }
}

trait NftChain {
    fn nft(&mut self, sender: u8, op: NftOp) -> Receipt;
    fn nft_ok(&mut self, sender: u8, op: NftOp) -> Receipt;
    fn nft_refused(&mut self, sender: u8, op: NftOp, code: ExecErrorCode) -> String;
    fn create(&mut self, sender: u8, c: NftCollectionCreate) -> Hash;
    fn token(&self, c: &Hash, t: u64) -> nft::TokenInfo;
    fn count(&self, c: &Hash, who: u8) -> u64;
}

impl NftChain for Chain {
    fn nft(&mut self, sender: u8, op: NftOp) -> Receipt {
        self.exec(addr(sender), Payload::Nft(op)).0
    }

    fn nft_ok(&mut self, sender: u8, op: NftOp) -> Receipt {
        let gas = op.gas();
        let r = self.nft(sender, op);
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
        assert_eq!((r.gas_used, r.fee), (gas, u128::from(gas) * GAS_PRICE));
        for e in &r.events {
            assert_eq!(e.module, "nft");
            assert_eq!(e.attributes[0].0, "collection");
        }
        r
    }

    /// Refused with `code`: only the sender's account changed (nonce + fee), no events.
    fn nft_refused(&mut self, sender: u8, op: NftOp, code: ExecErrorCode) -> String {
        let before = self.state.clone();
        let gas = op.gas();
        let (r, _, out) = self.exec(addr(sender), Payload::Nft(op));
        assert_eq!(r.status, TxStatus::Failed);
        let (got, msg) = r.error.clone().unwrap();
        assert_eq!(got, code, "{msg}");
        assert!(r.events.is_empty());
        assert_eq!((r.gas_used, r.fee), (gas, u128::from(gas) * GAS_PRICE));
        let sender_key = keys::account(ALG, &addr(sender));
        let changed: Vec<_> = out.changes.iter().map(|c| c.0).collect();
        assert_eq!(changed, vec![sender_key]);
        assert_eq!(
            without(&before, &sender_key),
            without(&self.state, &sender_key)
        );
        msg
    }

    fn create(&mut self, sender: u8, c: NftCollectionCreate) -> Hash {
        let (r, hash, _) = self.exec(addr(sender), Payload::Nft(NftOp::CreateCollection(c)));
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
        assert_eq!(r.output, hash.0.to_vec(), "the output is the collection id");
        hash
    }

    fn token(&self, c: &Hash, t: u64) -> nft::TokenInfo {
        nft::token_info(&self.state, ALG, c, t).unwrap().unwrap()
    }

    fn count(&self, c: &Hash, who: u8) -> u64 {
        nft::nft_balance(&self.state, ALG, c, &addr(who)).unwrap()
    }
}

#[test]
fn create_collection_stores_it_and_emits_an_event() {
    let mut c = Chain::new(&[]);
    let (r, id, _) = c.exec(
        addr(5),
        Payload::Nft(NftOp::CreateCollection(coll(Some(2)))),
    );
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let gas = NftOp::CreateCollection(coll(Some(2))).gas();
    assert_eq!(gas, GAS_NFT_COLLECTION + 16 * (10 + 4));
    assert_eq!(r.gas_used, gas);
    assert_eq!(r.events[0].name, "CollectionCreated");
    assert_eq!(attr(&r.events[0], "issuer"), addr(1).to_string());
    assert_eq!(attr(&r.events[0], "max_supply"), "2");
    let info = nft::collection_info(&c.state, ALG, &id).unwrap().unwrap();
    assert_eq!(
        (
            info.issuer,
            info.max_supply,
            info.minted,
            info.created_height
        ),
        (addr(1), Some(2), 0, 1)
    );
    assert_eq!(
        (info.name.as_str(), info.symbol.as_str()),
        ("Keel Deeds", "DEED")
    );
}

#[test]
fn mint_stores_owner_metadata_and_the_first_provenance_step() {
    let mut c = Chain::new(&[]);
    let id = c.create(5, coll(None));
    let r = c.nft_ok(1, mint(id, 42, 2));
    assert_eq!(r.events[0].name, "Minted");
    assert_eq!(attr(&r.events[0], "token"), "42");
    assert_eq!(attr(&r.events[0], "to"), addr(2).to_string());
    assert_eq!(attr(&r.events[0], "uri"), "ipfs://deed/1");
    let t = c.token(&id, 42);
    assert_eq!((t.owner, t.approved, t.burned), (addr(2), None, false));
    assert_eq!(t.metadata, meta(None));
    assert_eq!((t.minted_height, t.provenance_len), (2, 1));
    assert_eq!(c.count(&id, 2), 1);
    let p = nft::provenance(&c.state, ALG, &id, 42).unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].seq, p[0].owner, p[0].height, p[0].burned),
        (0, addr(2), 2, false)
    );
    let info = nft::collection_info(&c.state, ALG, &id).unwrap().unwrap();
    assert_eq!(info.minted, 1);
}

#[test]
fn mint_tied_to_an_existing_evidence_record() {
    let mut c = Chain::new(&[]);
    let id = c.create(1, coll(None));
    let (r, record, _) = c.exec(
        addr(1),
        Payload::EvidencePut(EvidencePut {
            content_hash: Hash([9; 32]),
            hash_alg: ContentHashAlg::Sm3,
            size: 10,
            media_type: "text/plain".into(),
            metadata: String::new(),
        }),
    );
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let op = NftOp::Mint {
        collection: id,
        token: 1,
        to: addr(1),
        metadata: meta(Some(record)),
    };
    let r = c.nft_ok(1, op);
    assert_eq!(attr(&r.events[0], "evidence"), record.to_string());
    assert_eq!(c.token(&id, 1).metadata.evidence, Some(record));
}

#[test]
fn mint_refusals() {
    let mut c = Chain::new(&[]);
    c.nft_refused(1, mint(Hash([3; 32]), 1, 2), NftUnknownCollection);
    let id = c.create(5, coll(Some(1)));
    c.nft_refused(2, mint(id, 1, 2), NftNotIssuer);
    let unknown = NftOp::Mint {
        collection: id,
        token: 1,
        to: addr(2),
        metadata: meta(Some(Hash([4; 32]))),
    };
    c.nft_refused(1, unknown, NftEvidenceUnknown);
    c.nft_ok(1, mint(id, 1, 2));
    c.nft_refused(1, mint(id, 1, 3), NftTokenExists);
    c.nft_refused(1, mint(id, 2, 3), NftMaxSupply);
    let long = NftOp::Mint {
        collection: id,
        token: 9,
        to: addr(2),
        metadata: NftMetadata {
            uri: "x".repeat(MAX_NFT_URI_BYTES + 1),
            ..meta(None)
        },
    };
    c.nft_refused(1, long, NftInvalid);
}

#[test]
fn collection_field_limits_are_rechecked_in_execution() {
    let mut c = Chain::new(&[]);
    for bad in [
        NftCollectionCreate {
            name: String::new(),
            ..coll(None)
        },
        NftCollectionCreate {
            name: "a\nb".into(),
            ..coll(None)
        },
        NftCollectionCreate {
            symbol: "DE-ED".into(),
            ..coll(None)
        },
        NftCollectionCreate {
            symbol: "X".repeat(17),
            ..coll(None)
        },
        coll(Some(0)),
    ] {
        c.nft_refused(1, NftOp::CreateCollection(bad), NftInvalid);
    }
}

#[test]
fn transfer_by_owner_then_by_approved_spender_records_provenance() {
    let mut c = Chain::new(&[]);
    let id = c.create(1, coll(None));
    c.nft_ok(1, mint(id, 7, 2)); // height 2
    let r = c.nft_ok(2, xfer(id, 7, 3)); // height 3
    assert_eq!(r.events[0].name, "Transfer");
    assert_eq!(attr(&r.events[0], "from"), addr(2).to_string());
    assert_eq!(attr(&r.events[0], "to"), addr(3).to_string());
    assert_eq!((c.count(&id, 2), c.count(&id, 3)), (0, 1));
    assert!(
        !c.state
            .0
            .contains_key(&keys::nft_balance(ALG, &id, &addr(2))),
        "zero count deleted"
    );
    let approve = NftOp::Approve {
        collection: id,
        token: 7,
        spender: Some(addr(4)),
    };
    let r = c.nft_ok(3, approve); // height 4
    assert_eq!(r.events[0].name, "Approval");
    assert_eq!(attr(&r.events[0], "spender"), addr(4).to_string());
    assert_eq!(c.token(&id, 7).approved, Some(addr(4)));
    let r = c.nft_ok(4, xfer(id, 7, 5)); // height 5
    assert_eq!(attr(&r.events[0], "spender"), addr(4).to_string());
    let t = c.token(&id, 7);
    assert_eq!(
        (t.owner, t.approved),
        (addr(5), None),
        "a transfer clears the approval"
    );
    c.nft_refused(4, xfer(id, 7, 4), NftNotOwner);
    let p = nft::provenance(&c.state, ALG, &id, 7).unwrap();
    let steps: Vec<_> = p.iter().map(|e| (e.seq, e.owner, e.height)).collect();
    assert_eq!(
        steps,
        vec![(0, addr(2), 2), (1, addr(3), 3), (2, addr(5), 5)]
    );
}

#[test]
fn transfer_and_approve_refusals() {
    let mut c = Chain::new(&[]);
    let id = c.create(1, coll(None));
    c.nft_refused(2, xfer(Hash([3; 32]), 1, 3), NftUnknownCollection);
    c.nft_refused(2, xfer(id, 1, 3), NftUnknownToken);
    c.nft_ok(1, mint(id, 1, 2));
    c.nft_refused(3, xfer(id, 1, 3), NftNotOwner);
    c.nft_refused(1, xfer(id, 1, 3), NftNotOwner); // the issuer does not own it
    let approve = |spender| NftOp::Approve {
        collection: id,
        token: 1,
        spender,
    };
    c.nft_refused(3, approve(Some(addr(3))), NftNotOwner);
    c.nft_refused(
        2,
        NftOp::Approve {
            collection: id,
            token: 5,
            spender: None,
        },
        NftUnknownToken,
    );
    c.nft_ok(2, approve(Some(addr(3))));
    // The approved spender may transfer, not re-approve.
    c.nft_refused(3, approve(Some(addr(4))), NftNotOwner);
    c.nft_ok(2, approve(None));
    c.nft_refused(3, xfer(id, 1, 3), NftNotOwner);
    assert_eq!(c.token(&id, 1).owner, addr(2));
}

#[test]
fn burn_keeps_record_and_provenance_and_refuses_afterwards() {
    let mut c = Chain::new(&[]);
    let id = c.create(1, coll(Some(5)));
    c.nft_ok(1, mint(id, 1, 2));
    c.nft_refused(
        3,
        NftOp::Burn {
            collection: id,
            token: 1,
        },
        NftNotOwner,
    );
    c.nft_refused(
        2,
        NftOp::Burn {
            collection: id,
            token: 2,
        },
        NftUnknownToken,
    );
    let r = c.nft_ok(
        2,
        NftOp::Burn {
            collection: id,
            token: 1,
        },
    );
    assert_eq!(r.events[0].name, "Burned");
    assert_eq!(attr(&r.events[0], "from"), addr(2).to_string());
    let t = c.token(&id, 1);
    assert!(t.burned);
    assert_eq!(c.count(&id, 2), 0);
    let info = nft::collection_info(&c.state, ALG, &id).unwrap().unwrap();
    assert_eq!((info.minted, info.burned), (1, 1));
    let p = nft::provenance(&c.state, ALG, &id, 1).unwrap();
    assert_eq!(p.last().map(|e| (e.owner, e.burned)), Some((addr(2), true)));
    c.nft_refused(2, xfer(id, 1, 3), NftBurned);
    c.nft_refused(
        2,
        NftOp::Burn {
            collection: id,
            token: 1,
        },
        NftBurned,
    );
    c.nft_refused(
        2,
        NftOp::Approve {
            collection: id,
            token: 1,
            spender: None,
        },
        NftBurned,
    );
    c.nft_refused(1, mint(id, 1, 2), NftTokenExists);
}

#[test]
fn provenance_is_bounded_to_the_last_entries() {
    let mut c = Chain::new(&[]);
    let id = c.create(1, coll(None));
    c.nft_ok(1, mint(id, 1, 2));
    let n = MAX_NFT_PROVENANCE + 10;
    for i in 1..n {
        let (from, to) = if i % 2 == 1 { (2, 3) } else { (3, 2) };
        c.nft_ok(from, xfer(id, 1, to));
    }
    let t = c.token(&id, 1);
    assert_eq!(t.provenance_len, n);
    let p = nft::provenance(&c.state, ALG, &id, 1).unwrap();
    assert_eq!(p.len() as u64, MAX_NFT_PROVENANCE);
    assert_eq!(p[0].seq, n - MAX_NFT_PROVENANCE);
    assert_eq!(p.last().unwrap().seq, n - 1);
    assert!(
        p.windows(2)
            .all(|w| w[0].seq + 1 == w[1].seq && w[0].height < w[1].height)
    );
    assert_eq!(p.last().unwrap().owner, t.owner);
    let prov_keys = c
        .state
        .0
        .keys()
        .filter(|k| (0..MAX_NFT_PROVENANCE).any(|s| **k == keys::nft_provenance(ALG, &id, 1, s)))
        .count();
    assert_eq!(
        prov_keys as u64, MAX_NFT_PROVENANCE,
        "the state holds no more entries"
    );
}

#[test]
fn governance_operation_policies_apply_to_nft_operations() {
    let mut c = Chain::new(&[7]);
    let policy = |op, list| {
        Payload::Gov(GovPayload::Propose {
            action: GovAction::SetOperationPolicy {
                op,
                policy: OpPolicy::AllowList(list),
            },
            ttl_blocks: 0,
        })
    };
    assert_eq!(Operation::from_name("nft_issue"), Some(Operation::NftIssue));
    let (r, _, _) = c.exec(addr(7), policy(Operation::NftIssue, vec![addr(1)]));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    c.nft_refused(2, NftOp::CreateCollection(coll(None)), NotPermitted);
    let id = c.create(1, coll(None));
    c.exec(addr(7), policy(Operation::NftMint, vec![]));
    c.nft_refused(1, mint(id, 1, 2), NotPermitted);
    c.exec(addr(7), policy(Operation::NftMint, vec![addr(1)]));
    c.nft_ok(1, mint(id, 1, 2));
    c.exec(addr(7), policy(Operation::NftTransfer, vec![addr(1)]));
    c.nft_refused(2, xfer(id, 1, 3), NotPermitted);
    assert_eq!(c.token(&id, 1).owner, addr(2));
}
