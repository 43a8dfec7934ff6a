//! Random sequences of NFT operations against a reference model: every operation succeeds or
//! fails exactly as the model says (with its error code); after each one every live token has
//! exactly one owner, the per-owner counts equal the tokens each owns, minted − burned equals
//! the live tokens, a token's last provenance step names its owner; and a refused operation
//! leaves the state as it was except the sender's nonce and fee.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use ExecErrorCode::*;
use common::*;
use keel_execution::{keys, nft};
use keel_types::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Actors are accounts 1..=ACTORS; account 1 is the issuer; token ids 0..TOKENS.
const ACTORS: u8 = 4;
const TOKENS: u64 = 4;
const MAX_SUPPLY: u64 = 3;

#[derive(Clone, Debug)]
enum Op {
    Mint(u64, u8),
    Transfer(u64, u8),
    Approve(u64, Option<u8>),
    Burn(u64),
}

#[derive(Clone, Debug, Default)]
struct Tok {
    owner: u8,
    approved: Option<u8>,
    burned: bool,
}

#[derive(Default)]
struct Model {
    tokens: BTreeMap<u64, Tok>,
}

impl Model {
    /// The outcome the module must produce; applies it on success.
    fn apply(&mut self, sender: u8, op: &Op) -> Option<ExecErrorCode> {
        let live = |m: &Model, t: u64| match m.tokens.get(&t) {
            None => Err(NftUnknownToken),
            Some(k) if k.burned => Err(NftBurned),
            Some(k) => Ok(k.clone()),
        };
        match *op {
            Op::Mint(t, to) => {
                if sender != 1 {
                    return Some(NftNotIssuer);
                }
                if self.tokens.contains_key(&t) {
                    return Some(NftTokenExists);
                }
                if self.tokens.len() as u64 >= MAX_SUPPLY {
                    return Some(NftMaxSupply);
                }
                self.tokens.insert(
                    t,
                    Tok {
                        owner: to,
                        ..Tok::default()
                    },
                );
            }
            Op::Transfer(t, to) => {
                let k = match live(self, t) {
                    Ok(k) => k,
                    Err(e) => return Some(e),
                };
                if sender != k.owner && k.approved != Some(sender) {
                    return Some(NftNotOwner);
                }
                self.tokens.insert(
                    t,
                    Tok {
                        owner: to,
                        ..Tok::default()
                    },
                );
            }
            Op::Approve(t, spender) => {
                let k = match live(self, t) {
                    Ok(k) => k,
                    Err(e) => return Some(e),
                };
                if sender != k.owner {
                    return Some(NftNotOwner);
                }
                self.tokens.insert(
                    t,
                    Tok {
                        approved: spender,
                        ..k
                    },
                );
            }
            Op::Burn(t) => {
                let k = match live(self, t) {
                    Ok(k) => k,
                    Err(e) => return Some(e),
                };
                if sender != k.owner {
                    return Some(NftNotOwner);
                }
                self.tokens.insert(
                    t,
                    Tok {
                        burned: true,
                        approved: None,
                        ..k
                    },
                );
            }
        }
        None
    }
}

/// Who sends: the token's current owner (the issuer for a mint), its approved spender, or
/// any actor — resolved against the model when the step runs, so that most steps get past
/// the first checks.
#[derive(Clone, Copy, Debug)]
enum Who {
    Owner,
    Approved,
    Actor(u8),
}

impl Model {
    fn sender(&self, who: Who, op: &Op) -> u8 {
        let t = match *op {
            Op::Mint(..) => return if let Who::Actor(a) = who { a } else { 1 },
            Op::Transfer(t, _) | Op::Approve(t, _) | Op::Burn(t) => t,
        };
        let k = self.tokens.get(&t);
        match who {
            Who::Owner => k.map_or(1, |k| k.owner),
            Who::Approved => k.and_then(|k| k.approved).unwrap_or(2),
            Who::Actor(a) => a,
        }
    }
}

fn arb_step() -> impl Strategy<Value = (Who, Op)> {
    let who = prop_oneof![
        3 => Just(Who::Owner),
        1 => Just(Who::Approved),
        2 => (1..=ACTORS).prop_map(Who::Actor),
    ];
    let tok = 0..TOKENS;
    let op = prop_oneof![
        (tok.clone(), 1..=ACTORS).prop_map(|(t, to)| Op::Mint(t, to)),
        (tok.clone(), 1..=ACTORS).prop_map(|(t, to)| Op::Transfer(t, to)),
        (tok.clone(), proptest::option::of(1..=ACTORS)).prop_map(|(t, s)| Op::Approve(t, s)),
        tok.prop_map(Op::Burn),
    ];
    (who, op)
}

fn to_nft(c: Hash, op: &Op) -> NftOp {
    match *op {
        Op::Mint(token, to) => NftOp::Mint {
            collection: c,
            token,
            to: addr(to),
            metadata: NftMetadata {
                uri: format!("u{token}"),
                content_hash: Hash([1; 32]),
                hash_alg: ContentHashAlg::Sm3,
                evidence: None,
            },
        },
        Op::Transfer(token, to) => NftOp::Transfer {
            collection: c,
            token,
            to: addr(to),
        },
        Op::Approve(token, s) => NftOp::Approve {
            collection: c,
            token,
            spender: s.map(addr),
        },
        Op::Burn(token) => NftOp::Burn {
            collection: c,
            token,
        },
    }
}

/// The invariants, checked against the state after every step.
fn check(c: &Chain, id: &Hash, model: &Model) {
    let mut counts = BTreeMap::<u8, u64>::new();
    for (t, k) in &model.tokens {
        let got = nft::token_info(&c.state, ALG, id, *t).unwrap().unwrap();
        assert_eq!((got.owner, got.burned), (addr(k.owner), k.burned));
        assert_eq!(got.approved, k.approved.map(addr));
        let p = nft::provenance(&c.state, ALG, id, *t).unwrap();
        assert_eq!(p.last().map(|e| e.owner), Some(got.owner));
        if !k.burned {
            *counts.entry(k.owner).or_default() += 1;
        }
    }
    for who in 1..=ACTORS {
        let n = nft::nft_balance(&c.state, ALG, id, &addr(who)).unwrap();
        assert_eq!(n, counts.get(&who).copied().unwrap_or(0), "count of {who}");
    }
    let info = nft::collection_info(&c.state, ALG, id).unwrap().unwrap();
    let live = model.tokens.values().filter(|k| !k.burned).count() as u64;
    assert_eq!(info.minted - info.burned, live);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_nft_operations_keep_ownership_consistent(
        steps in proptest::collection::vec(arb_step(), 1..40),
    ) {
        let mut c = Chain::new(&[]);
        let create = NftOp::CreateCollection(NftCollectionCreate {
            name: "P".into(),
            symbol: "P".into(),
            issuer: addr(1),
            max_supply: Some(MAX_SUPPLY),
        });
        let (r, id, _) = c.exec(addr(1), Payload::Nft(create));
        prop_assert_eq!(r.status, TxStatus::Success);
        let mut model = Model::default();
        for (who, op) in &steps {
            let sender = &model.sender(*who, op);
            let want = model.apply(*sender, op);
            let before = c.state.clone();
            let (r, _, _) = c.exec(addr(*sender), Payload::Nft(to_nft(id, op)));
            prop_assert_eq!(r.error.as_ref().map(|e| e.0), want, "{:?} by {}", op, sender);
            if want.is_some() {
                let k = keys::account(ALG, &addr(*sender));
                prop_assert_eq!(without(&before, &k), without(&c.state, &k));
            }
            check(&c, &id, &model);
        }
    }
}
