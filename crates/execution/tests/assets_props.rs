//! Random sequences of asset operations against a reference model: every operation succeeds or
//! fails exactly as the model says (with the model's error code); after each one, every asset's
//! supply is the sum of its holdings (no balance created or lost) and within its max supply;
//! and every refused operation leaves the state as it was except the sender's nonce and fee.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use ExecErrorCode::*;
use common::*;
use keel_execution::keys;
use keel_types::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Actors are accounts 1..=ACTORS.
const ACTORS: u8 = 5;

fn actor(i: u8) -> Address {
    addr(i + 1)
}

#[derive(Clone, Debug)]
enum Op {
    Mint(u8, u128),
    Burn(u128),
    Transfer(u8, u128),
    Approve(u8, u128),
    TransferFrom(u8, u8, u128),
    Freeze(u8),
    Unfreeze(u8),
    SetListed(u8, bool),
    SetIssuer(u8),
}

/// An operation by `sender` on asset `asset` (0, 1: issued; 2: unknown).
#[derive(Clone, Debug)]
struct Step {
    sender: u8,
    asset: u8,
    op: Op,
}

#[derive(Clone, Debug)]
struct Model {
    issuer: u8,
    max: u128,
    supply: u128,
    mintable: bool,
    burnable: bool,
    freezable: bool,
    has_list: bool,
    bal: [u128; ACTORS as usize],
    frozen: [bool; ACTORS as usize],
    listed: [bool; ACTORS as usize],
    allow: BTreeMap<(u8, u8), u128>,
}

type Outcome = Result<(), ExecErrorCode>;

fn check(ok: bool, code: ExecErrorCode) -> Outcome {
    if ok { Ok(()) } else { Err(code) }
}

impl Model {
    fn may_hold(&self, a: u8) -> Outcome {
        check(!self.frozen[a as usize], AssetHolderFrozen)?;
        check(
            !self.has_list || self.listed[a as usize] || a == self.issuer,
            AssetNotListed,
        )
    }

    fn transfer(&mut self, from: u8, to: u8, amount: u128) -> Outcome {
        self.may_hold(from)?;
        self.may_hold(to)?;
        check(self.bal[from as usize] >= amount, AssetInsufficientBalance)?;
        self.bal[from as usize] -= amount;
        self.bal[to as usize] += amount;
        Ok(())
    }

    /// The module's rules, in the module's order of checks.
    fn apply(&mut self, sender: u8, op: &Op) -> Outcome {
        let issuer = sender == self.issuer;
        match *op {
            Op::Mint(to, amount) => {
                check(issuer, AssetNotIssuer)?;
                check(self.mintable, AssetNotMintable)?;
                self.may_hold(to)?;
                check(amount <= self.max - self.supply, AssetMaxSupply)?;
                self.supply += amount;
                self.bal[to as usize] += amount;
            }
            Op::Burn(amount) => {
                check(self.burnable, AssetNotBurnable)?;
                check(!self.frozen[sender as usize], AssetHolderFrozen)?;
                check(
                    self.bal[sender as usize] >= amount,
                    AssetInsufficientBalance,
                )?;
                self.supply -= amount;
                self.bal[sender as usize] -= amount;
            }
            Op::Transfer(to, amount) => self.transfer(sender, to, amount)?,
            Op::Approve(spender, amount) => {
                check(!self.frozen[sender as usize], AssetHolderFrozen)?;
                self.allow.insert((sender, spender), amount);
            }
            Op::TransferFrom(from, to, amount) => {
                check(!self.frozen[sender as usize], AssetHolderFrozen)?;
                let allowed = self.allow.get(&(from, sender)).copied().unwrap_or(0);
                check(allowed >= amount, AssetAllowanceExceeded)?;
                self.transfer(from, to, amount)?;
                self.allow.insert((from, sender), allowed - amount);
            }
            Op::Freeze(h) | Op::Unfreeze(h) => {
                check(issuer, AssetNotIssuer)?;
                check(self.freezable, AssetNotFreezable)?;
                self.frozen[h as usize] = matches!(op, Op::Freeze(_));
            }
            Op::SetListed(h, listed) => {
                check(issuer, AssetNotIssuer)?;
                check(self.has_list, AssetInvalid)?;
                self.listed[h as usize] = listed;
            }
            Op::SetIssuer(to) => {
                check(issuer, AssetNotIssuer)?;
                self.issuer = to;
            }
        }
        Ok(())
    }
}

fn payload(asset: Hash, op: &Op) -> AssetOp {
    match *op {
        Op::Mint(to, amount) => AssetOp::Mint {
            asset,
            to: actor(to),
            amount,
        },
        Op::Burn(amount) => AssetOp::Burn { asset, amount },
        Op::Transfer(to, amount) => AssetOp::Transfer {
            asset,
            to: actor(to),
            amount,
        },
        Op::Approve(s, amount) => AssetOp::Approve {
            asset,
            spender: actor(s),
            amount,
        },
        Op::TransferFrom(f, to, amount) => AssetOp::TransferFrom {
            asset,
            from: actor(f),
            to: actor(to),
            amount,
        },
        Op::Freeze(h) => AssetOp::Freeze {
            asset,
            holder: actor(h),
        },
        Op::Unfreeze(h) => AssetOp::Unfreeze {
            asset,
            holder: actor(h),
        },
        Op::SetListed(h, listed) => AssetOp::SetListed {
            asset,
            holder: actor(h),
            listed,
        },
        Op::SetIssuer(to) => AssetOp::SetIssuer {
            asset,
            issuer: actor(to),
        },
    }
}

fn arb_model() -> impl Strategy<Value = Model> {
    (
        0..ACTORS,
        1u128..5_000,
        0u128..=100,
        any::<[bool; 4]>(),
        any::<[bool; 5]>(),
    )
        .prop_map(|(issuer, max, pct, f, listed)| {
            let supply = max * pct / 100;
            let mut bal = [0; ACTORS as usize];
            bal[issuer as usize] = supply;
            Model {
                issuer,
                max,
                supply,
                mintable: f[0],
                burnable: f[1],
                freezable: f[2],
                has_list: f[3],
                bal,
                frozen: [false; ACTORS as usize],
                listed: if f[3] {
                    listed
                } else {
                    [false; ACTORS as usize]
                },
                allow: BTreeMap::new(),
            }
        })
}

fn arb_step() -> impl Strategy<Value = Step> {
    let (a, n) = (|| 0..ACTORS, || 0u128..2_000);
    let op = prop_oneof![
        3 => (a(), n()).prop_map(|(t, x)| Op::Mint(t, x)),
        2 => n().prop_map(Op::Burn),
        6 => (a(), n()).prop_map(|(t, x)| Op::Transfer(t, x)),
        2 => (a(), n()).prop_map(|(s, x)| Op::Approve(s, x)),
        3 => (a(), a(), n()).prop_map(|(f, t, x)| Op::TransferFrom(f, t, x)),
        1 => a().prop_map(Op::Freeze),
        2 => a().prop_map(Op::Unfreeze),
        2 => (a(), any::<bool>()).prop_map(|(h, l)| Op::SetListed(h, l)),
        1 => a().prop_map(Op::SetIssuer),
    ];
    // Asset 2 (unknown) one time in ten.
    (a(), prop_oneof![9 => 0u8..2, 1 => Just(2u8)], op).prop_map(|(sender, asset, op)| Step {
        sender,
        asset,
        op,
    })
}

fn issue(c: &mut Chain, m: &Model, i: u8) -> Hash {
    let list: Vec<Address> = (0..ACTORS)
        .filter(|a| m.listed[*a as usize])
        .map(actor)
        .collect();
    c.issue(
        m.issuer + 1,
        AssetIssue {
            name: format!("Asset {i}"),
            symbol: format!("A{i}"),
            decimals: 0,
            max_supply: m.max,
            initial_supply: m.supply,
            issuer: actor(m.issuer),
            mintable: m.mintable,
            burnable: m.burnable,
            freezable: m.freezable,
            holder_list: m.has_list.then_some(list),
        },
    )
}

/// The chain agrees with the models, and every supply is the sum of its holdings.
fn agree(c: &Chain, ids: &[Hash], models: &[Model]) -> Result<(), TestCaseError> {
    for (id, m) in ids.iter().zip(models) {
        let info = c.info(id);
        let held: Vec<u128> = (0..ACTORS).map(|a| c.balance(id, a + 1)).collect();
        prop_assert_eq!(
            held.iter().sum::<u128>(),
            info.supply,
            "supply = sum of holdings"
        );
        prop_assert!(info.supply <= info.max_supply);
        prop_assert_eq!(&held[..], &m.bal[..]);
        prop_assert_eq!((info.supply, info.issuer), (m.supply, actor(m.issuer)));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_operations_conserve_supply_and_refusals_change_nothing(
        mut models in proptest::collection::vec(arb_model(), 2),
        steps in proptest::collection::vec(arb_step(), 1..60),
    ) {
        let mut c = Chain::new(&[]);
        let ids = [issue(&mut c, &models[0], 0), issue(&mut c, &models[1], 1)];
        agree(&c, &ids, &models)?;
        for step in &steps {
            let asset = ids.get(step.asset as usize).copied().unwrap_or(Hash([0xee; 32]));
            let expected = match models.get_mut(step.asset as usize) {
                Some(m) => {
                    let mut next = m.clone();
                    let outcome = next.apply(step.sender, &step.op);
                    if outcome.is_ok() {
                        *m = next;
                    }
                    outcome
                }
                None => Err(AssetUnknown),
            };
            let op = payload(asset, &step.op);
            match expected {
                Ok(()) => {
                    let r = c.asset(step.sender + 1, op);
                    prop_assert_eq!(r.status, TxStatus::Success, "{:?}: {:?}", step, r.error);
                    prop_assert!(r.events.iter().all(|e| e.attributes[0].1 == asset.to_string()));
                }
                Err(code) => {
                    c.refused(step.sender + 1, op, code);
                }
            }
            agree(&c, &ids, &models)?;
        }
        // Allowances agree too.
        for (id, m) in ids.iter().zip(&models) {
            for ((o, s), amount) in &m.allow {
                let got = keel_execution::assets::allowance(&c.state, ALG, id, &actor(*o), &actor(*s)).unwrap();
                prop_assert_eq!(got, *amount);
            }
        }
        // Nothing of an asset is stored for the unknown id.
        prop_assert!(!c.state.0.contains_key(&keys::asset(ALG, &Hash([0xee; 32]))));
    }
}
