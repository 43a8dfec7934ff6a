//! Create a DID document.

use super::event;
use super::state::{DidDocument, did_document, put_document};
use crate::modules::{Applied, Call, ModResult, refuse};
use crate::overlay::Overlay;
use keel_types::{Address, DidId, DidMethod, DidService, ExecErrorCode, MAX_DID_CONTROLLERS};
use std::collections::BTreeSet;

/// Create the document (id chosen, or the first 16 bytes of the tx hash); the sender is its
/// first controller; the output is the id. Checks: the id is unused; controllers, method
/// fragments and service fragments are each distinct; at most [`MAX_DID_CONTROLLERS`]
/// controllers in all.
pub(super) fn create(
    ov: &mut Overlay<'_>,
    call: &Call,
    id: Option<DidId>,
    (methods, extra, services): (&[DidMethod], &[Address], &[DidService]),
) -> ModResult<Applied> {
    let id = id.unwrap_or_else(|| {
        let mut d = [0u8; 16];
        d.copy_from_slice(&call.tx_hash.0[..16]);
        d
    });
    if did_document(ov, call.alg, &id)?.is_some() {
        return refuse(
            ExecErrorCode::DidExists,
            format!("DID {} exists", hex::encode(id)),
        );
    }
    let mut controllers = vec![call.sender];
    for c in extra {
        if controllers.contains(c) {
            return refuse(ExecErrorCode::DidInvalid, format!("controller {c} twice"));
        }
        controllers.push(*c);
    }
    if controllers.len() > MAX_DID_CONTROLLERS {
        return refuse(
            ExecErrorCode::DidLimit,
            format!("over {MAX_DID_CONTROLLERS} controllers"),
        );
    }
    distinct("method", methods.iter().map(|m| m.fragment.as_str()))?;
    distinct("service", services.iter().map(|s| s.fragment.as_str()))?;
    let (h, t) = (call.ctx.height, call.ctx.timestamp_ms);
    let doc = DidDocument {
        id,
        controllers,
        methods: methods.to_vec(),
        services: services.to_vec(),
        version: 0,
        created_height: h,
        created_ms: t,
        updated_height: h,
        updated_ms: t,
        deactivated: false,
    };
    put_document(ov, call.alg, &doc);
    Ok(Applied {
        events: vec![event(
            "Created",
            &id,
            vec![
                ("controller", call.sender.to_string()),
                ("controllers", doc.controllers.len().to_string()),
                ("methods", methods.len().to_string()),
                ("services", services.len().to_string()),
            ],
        )],
        output: id.to_vec(),
    })
}

/// Refuse (`DID_INVALID`) if a fragment repeats.
fn distinct<'a>(what: &str, fragments: impl Iterator<Item = &'a str>) -> ModResult<()> {
    let mut seen = BTreeSet::new();
    for f in fragments {
        if !seen.insert(f) {
            return refuse(ExecErrorCode::DidInvalid, format!("{what} #{f} twice"));
        }
    }
    Ok(())
}
