//! The DID document record: reads over any state view, and the write the operations use.

use crate::ExecutionError;
use crate::context::read_value as read;
use crate::keys;
use crate::overlay::{Overlay, StateView};
use borsh::{BorshDeserialize, BorshSerialize};
use keel_crypto::HashAlgorithm;
use keel_types::{Address, DidId, DidMethod, DidService, codec};

/// A DID document as stored at `keys::did` (one record, so one state proof shows all of it).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct DidDocument {
    /// The 16-byte id.
    pub id: DidId,
    /// Who may update or deactivate it; never empty, the creator first.
    pub controllers: Vec<Address>,
    /// Verification methods, in the order they were added.
    pub methods: Vec<DidMethod>,
    /// Services, in the order they were added.
    pub services: Vec<DidService>,
    /// Updates so far (0 at creation; the deactivation counts as one).
    pub version: u64,
    /// Height of the creating block.
    pub created_height: u64,
    /// Timestamp of the creating block, ms.
    pub created_ms: u64,
    /// Height of the last change (= `created_height` until the first update).
    pub updated_height: u64,
    /// Timestamp of the last change, ms.
    pub updated_ms: u64,
    /// Deactivated for good.
    pub deactivated: bool,
}

impl DidDocument {
    /// Whether `a` controls the document.
    pub fn is_controller(&self, a: &Address) -> bool {
        self.controllers.contains(a)
    }
}

/// A DID's document, if it was ever created.
pub fn did_document(
    view: &dyn StateView,
    alg: HashAlgorithm,
    id: &DidId,
) -> Result<Option<DidDocument>, ExecutionError> {
    read(view, "did document", &keys::did(alg, id))
}

/// Store the document.
pub(super) fn put_document(ov: &mut Overlay<'_>, alg: HashAlgorithm, d: &DidDocument) {
    ov.put(keys::did(alg, &d.id), codec::encode(d));
}
