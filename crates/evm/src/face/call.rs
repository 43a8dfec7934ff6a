//! One call of a face, shared by both ERC faces: which asset or collection, the state it reads,
//! where its slots are noted, and the journal accesses and policy check they all use.

use super::abi::{Res, fatal, refuse};
use super::{FaceSlots, SlotKind};
use alloy_primitives::{Address as EthAddress, U256};
use keel_crypto::HashAlgorithm;
use keel_execution::keys::StateKey;
use keel_execution::{StateView, governance};
use keel_types::{Address, Hash, Operation};
use revm::context_interface::{ContextTr, JournalTr};

/// One call of a face.
pub struct FaceCall<'a> {
    /// State as of the start of the transaction (native records, policies).
    pub view: &'a dyn StateView,
    /// Suite hash (state keys).
    pub alg: HashAlgorithm,
    /// Slots noted for the database and the final writes.
    pub faces: &'a FaceSlots,
    /// The asset or collection.
    pub id: Hash,
    /// Its face address.
    pub face: EthAddress,
}

impl std::fmt::Debug for FaceCall<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceCall")
            .field("id", &self.id)
            .field("face", &self.face)
            .finish()
    }
}

impl FaceCall<'_> {
    /// The face slot standing for native record `key`, noted as `kind`.
    pub(super) fn slot(&self, key: StateKey, kind: SlotKind) -> U256 {
        let slot = U256::from_be_bytes(key);
        self.faces.note(self.face, slot, kind);
        slot
    }

    /// Read a slot through the journal.
    pub(super) fn sload<CTX: ContextTr>(&self, ctx: &mut CTX, slot: U256) -> Res<U256> {
        Ok(ctx
            .journal_mut()
            .sload(self.face, slot)
            .map_err(fatal)?
            .data)
    }

    /// Write a slot through the journal (undone by a revert).
    pub(super) fn sstore<CTX: ContextTr>(&self, ctx: &mut CTX, slot: U256, w: U256) -> Res<()> {
        ctx.journal_mut()
            .sstore(self.face, slot, w)
            .map_err(fatal)?;
        Ok(())
    }

    /// Governance's policy of `op` applies to the caller as to a native sender.
    pub(super) fn permitted_as(&self, caller: &Address, op: Operation) -> Res<()> {
        match governance::permits(self.view, self.alg, caller, op) {
            Ok(()) => Ok(()),
            Err(Ok((code, msg))) => refuse(code, msg),
            Err(Err(e)) => Err(fatal(e)),
        }
    }
}
