//! Ethereum faces of native assets (ADR 0015): the ERC-20 contract every native fungible asset
//! is ([`erc20`]) and the ERC-721 contract every NFT collection is ([`erc721`]), at
//! `keel_execution::face::face_address(id)`.
//!
//! **One state.** A face has no storage of its own. Its logic runs in Rust as a precompile, and it reads and writes the native records through revm's journal under
//! *storage slots of the face account whose 32 bytes are the native state keys*
//! (`keys::asset_holding`, `keys::asset_allowance`, `keys::nft_owner`, …; each record packed
//! into one word, `words.rs`). [`FaceSlots`] remembers which kind of
//! record each touched slot is; the database ([`crate::db`]) then loads a slot from the native
//! record, and [`native_writes`] turns the changed slots back into native records when the
//! transaction ends. Because the journal holds the writes, a revert anywhere in the call
//! stack undoes a face transfer and its `Transfer` log like any contract's.

mod abi;
mod call;
pub mod erc20;
pub mod erc721;
mod words;

pub use call::FaceCall;
pub use words::{holding_word, word_holding};

use crate::db::DbError;
use alloy_primitives::{Address as EthAddress, U256};
use keel_execution::keys::StateKey;
use keel_execution::{ExecutionError, StateView};
use revm::state::Account;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// The kind of native record a face slot stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotKind {
    /// `keel_execution::assets::Holding`, as a word: balance in the low 128 bits, bit 128
    /// frozen, bit 129 listed.
    Holding,
    /// An allowance (u128).
    Allowance,
    /// `keel_execution::nft::TokenState`: owner in bytes 12..32, provenance count in bytes
    /// 4..12, burned in byte 3.
    NftState,
    /// A token's approved spender (`Address`; zero = none).
    NftApproved,
    /// Tokens of a collection an owner holds (u64).
    NftBalance,
    /// `keel_execution::nft::Step`: owner in bytes 12..32, height in bytes 4..12, burned in
    /// byte 3.
    NftStep,
}

/// The face slots one EVM transaction touched (shared by the precompile, which notes them,
/// and the database, which reads them). At most one entry per face read, each paid for with
/// gas, so its size is bounded by the gas limit.
#[derive(Clone, Debug, Default)]
pub struct FaceSlots(Rc<RefCell<Noted>>);

#[derive(Debug, Default)]
struct Noted {
    slots: HashMap<(EthAddress, U256), SlotKind>,
    faces: HashSet<EthAddress>,
}

impl FaceSlots {
    /// Remember that `slot` of `face` is a native record of `kind`.
    pub fn note(&self, face: EthAddress, slot: U256, kind: SlotKind) {
        let mut n = self.0.borrow_mut();
        n.slots.insert((face, slot), kind);
        n.faces.insert(face);
    }

    /// The kind of `slot` of `face`, if a face noted it.
    pub fn kind(&self, face: EthAddress, slot: U256) -> Option<SlotKind> {
        self.0.borrow().slots.get(&(face, slot)).copied()
    }

    /// Is `addr` a face this transaction used?
    pub fn is_face(&self, addr: &EthAddress) -> bool {
        self.0.borrow().faces.contains(addr)
    }
}

/// Load the native record behind a face slot, as a word.
pub fn load(view: &dyn StateView, slot: U256, kind: SlotKind) -> Result<U256, DbError> {
    let key: StateKey = slot.to_be_bytes::<32>();
    match view.get(&key)? {
        None => Ok(U256::ZERO),
        Some(bytes) => {
            words::to_word(kind, &bytes).map_err(|e| DbError(format!("face slot {slot}: {e}")))
        }
    }
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
        out.push((key, words::from_word(kind, v.present_value)));
    }
    Ok(out)
}
