//! Ethereum faces of native assets (ADR 0015): the ERC-20 contract every native fungible asset
//! is, at `keel_execution::assets::erc20_face(id)`.
//!
//! **One state.** A face has no storage of its own. Its logic runs in Rust as a precompile
//! ([`erc20`]), and it reads and writes the native records through revm's journal under
//! *storage slots of the face account whose 32 bytes are the native state keys*
//! (`keys::asset_holding`, `keys::asset_allowance`). [`FaceSlots`] remembers which kind of
//! record each touched slot is; the database ([`crate::db`]) then loads a slot from the native
//! record, and [`native_writes`] turns the changed slots back into native records when the
//! transaction ends. Because the journal holds the writes, a revert anywhere in the call
//! stack undoes a face transfer and its `Transfer` log like any contract's.

pub mod erc20;

use crate::db::DbError;
use alloy_primitives::{Address as EthAddress, U256};
use keel_execution::assets::Holding;
use keel_execution::keys::StateKey;
use keel_execution::{ExecutionError, StateView};
use keel_types::codec;
use revm::state::Account;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// The kind of native record a face slot stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotKind {
    /// `keel_execution::assets::Holding`, as a word: balance in the low 128 bits, bit 128
    /// frozen, bit 129 listed.
    Holding,
    /// An allowance (u128).
    Allowance,
}

/// The face slots one EVM transaction touched (shared by the precompile, which notes them,
/// and the database, which reads them). At most one entry per face read, each paid for with
/// gas, so its size is bounded by the gas limit.
#[derive(Clone, Debug, Default)]
pub struct FaceSlots(Rc<RefCell<HashMap<(EthAddress, U256), SlotKind>>>);

impl FaceSlots {
    /// Remember that `slot` of `face` is a native record of `kind`.
    pub fn note(&self, face: EthAddress, slot: U256, kind: SlotKind) {
        self.0.borrow_mut().insert((face, slot), kind);
    }

    /// The kind of `slot` of `face`, if a face noted it.
    pub fn kind(&self, face: EthAddress, slot: U256) -> Option<SlotKind> {
        self.0.borrow().get(&(face, slot)).copied()
    }

    /// Is `addr` a face this transaction used?
    pub fn is_face(&self, addr: &EthAddress) -> bool {
        self.0.borrow().keys().any(|(a, _)| a == addr)
    }
}

/// A holding as a storage word.
pub fn holding_word(h: &Holding) -> U256 {
    let mut w = U256::from(h.balance);
    w.set_bit(128, h.frozen);
    w.set_bit(129, h.listed);
    w
}

/// A storage word as a holding (bits above 129 are never written).
pub fn word_holding(w: U256) -> Holding {
    Holding {
        balance: low_u128(w),
        frozen: w.bit(128),
        listed: w.bit(129),
    }
}

fn low_u128(w: U256) -> u128 {
    let limbs = w.as_limbs();
    u128::from(limbs[0]) | (u128::from(limbs[1]) << 64)
}

/// Load the native record behind a face slot, as a word.
pub fn load(view: &dyn StateView, slot: U256, kind: SlotKind) -> Result<U256, DbError> {
    let key: StateKey = slot.to_be_bytes::<32>();
    let Some(bytes) = view.get(&key)? else {
        return Ok(U256::ZERO);
    };
    let corrupt = |e: keel_types::CodecError| DbError(format!("face slot {slot}: {e}"));
    Ok(match kind {
        SlotKind::Holding => {
            holding_word(&codec::decode::<Holding>("holding", &bytes, 64).map_err(corrupt)?)
        }
        SlotKind::Allowance => {
            U256::from(codec::decode::<u128>("allowance", &bytes, 16).map_err(corrupt)?)
        }
    })
}

/// One state write (`None` deletes).
pub type StateWrite = (StateKey, Option<Vec<u8>>);

/// The native writes of a face account's changed slots (sorted by key; an empty holding or a
/// zero allowance deletes its record, as the native module does).
pub fn native_writes(
    faces: &FaceSlots,
    face: &EthAddress,
    acct: &Account,
) -> Result<Vec<StateWrite>, ExecutionError> {
    let mut slots: Vec<_> = acct.changed_storage_slots().collect();
    slots.sort_by_key(|(k, _)| **k);
    let mut out = Vec::with_capacity(slots.len());
    for (slot, v) in slots {
        let key: StateKey = slot.to_be_bytes::<32>();
        let Some(kind) = faces.kind(*face, *slot) else {
            return Err(ExecutionError::Corrupt {
                what: "face slot",
                key: hex::encode(key),
                reason: "written without being noted".into(),
            });
        };
        let value = match kind {
            SlotKind::Holding => {
                let h = word_holding(v.present_value);
                (h != Holding::default()).then(|| codec::encode(&h))
            }
            SlotKind::Allowance => {
                let a = low_u128(v.present_value);
                (a != 0).then(|| codec::encode(&a))
            }
        };
        out.push((key, value));
    }
    Ok(out)
}
