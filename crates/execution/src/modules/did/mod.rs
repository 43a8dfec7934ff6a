//! did:keel (issue 15; `docs/did.md`): DID documents in chain state — controllers,
//! verification methods (SM2, Ed25519, secp256k1 keys), services — created, updated by a
//! controller, and deactivated.
//!
//! State (keys in [`crate::keys`]):
//!
//! | key | value |
//! |---|---|
//! | `H("keel/did/doc/v1" ‖ id)` | [`DidDocument`]: controllers, methods, services, version, heights and times, deactivated |
//!
//! The whole document is one record, so one state proof against a certified header shows it
//! all. Every refusal is a specific `DID_*` code, and the executor drops the operation's
//! writes. Every event has module `did` and the DID's 16-byte id (hex) as its first attribute.

mod create;
mod state;
mod update;

pub use state::{DidDocument, did_document};

use super::{Applied, Call, ModResult, refuse};
use keel_types::{DidId, DidOp, Event, ExecErrorCode};

/// Execute a DID operation in the transaction overlay.
pub(crate) fn apply(
    ov: &mut crate::overlay::Overlay<'_>,
    call: &Call,
    op: &DidOp,
) -> ModResult<Applied> {
    // Checked at admission already; a block is only as good as its proposer, so check again.
    if let Err((field, reason)) = op.check() {
        return refuse(ExecErrorCode::DidInvalid, format!("{field}: {reason}"));
    }
    match op {
        DidOp::Create {
            id,
            methods,
            controllers,
            services,
        } => create::create(ov, call, *id, (methods, controllers, services)),
        DidOp::Update {
            id,
            version,
            changes,
        } => update::update(ov, call, id, *version, changes),
        DidOp::Deactivate { id } => update::deactivate(ov, call, id),
    }
}

/// A `did` event whose first attribute is the DID id.
fn event(name: &str, id: &DidId, attrs: Vec<(&str, String)>) -> Event {
    let mut all = vec![("id", hex::encode(id))];
    all.extend(attrs);
    super::event("did", name, all)
}
