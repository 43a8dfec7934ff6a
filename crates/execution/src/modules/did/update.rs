//! What a controller does: update the document (key rotation, controllers, services) and
//! deactivate it.

use super::event;
use super::state::{DidDocument, did_document, put_document};
use crate::modules::{Applied, Call, ModResult, refuse};
use crate::overlay::Overlay;
use keel_types::{
    DidChange, DidId, Event, ExecErrorCode, MAX_DID_CONTROLLERS, MAX_DID_METHODS, MAX_DID_SERVICES,
};

/// The document, if it exists, is active and the sender controls it (checked in that order:
/// `DID_UNKNOWN`, `DID_DEACTIVATED`, `DID_NOT_CONTROLLER`).
fn controlled(ov: &Overlay<'_>, call: &Call, id: &DidId) -> ModResult<DidDocument> {
    let Some(doc) = did_document(ov, call.alg, id)? else {
        return refuse(
            ExecErrorCode::DidUnknown,
            format!("no DID {}", hex::encode(id)),
        );
    };
    if doc.deactivated {
        return refuse(
            ExecErrorCode::DidDeactivated,
            format!("DID {} is deactivated", hex::encode(id)),
        );
    }
    if !doc.is_controller(&call.sender) {
        return refuse(
            ExecErrorCode::DidNotController,
            format!("{} does not control DID {}", call.sender, hex::encode(id)),
        );
    }
    Ok(doc)
}

/// Stamp a change: next version, this block's height and time.
fn touch(doc: &mut DidDocument, call: &Call) {
    doc.version += 1;
    doc.updated_height = call.ctx.height;
    doc.updated_ms = call.ctx.timestamp_ms;
}

/// Apply `changes` in order, all or nothing, against document `version` (`DID_STALE` if it
/// is not the current one). One event per change, then `Updated` with the new version.
pub(super) fn update(
    ov: &mut Overlay<'_>,
    call: &Call,
    id: &DidId,
    version: u64,
    changes: &[DidChange],
) -> ModResult<Applied> {
    let mut doc = controlled(ov, call, id)?;
    if version != doc.version {
        return refuse(
            ExecErrorCode::DidStale,
            format!(
                "update made against version {version}, the document is at {}",
                doc.version
            ),
        );
    }
    let mut events = Vec::with_capacity(changes.len() + 1);
    for c in changes {
        events.push(apply_change(&mut doc, c)?);
    }
    if doc.controllers.is_empty() {
        return refuse(
            ExecErrorCode::DidInvalid,
            "the last controller cannot be removed",
        );
    }
    touch(&mut doc, call);
    put_document(ov, call.alg, &doc);
    events.push(event(
        "Updated",
        id,
        vec![("version", doc.version.to_string())],
    ));
    Ok(Applied::events(events))
}

/// Apply one change to the document; its event.
fn apply_change(doc: &mut DidDocument, c: &DidChange) -> ModResult<Event> {
    let id = doc.id;
    let invalid = |msg: String| refuse(ExecErrorCode::DidInvalid, msg);
    let over =
        |what: &str, max: usize| refuse(ExecErrorCode::DidLimit, format!("over {max} {what}"));
    match c {
        DidChange::AddMethod(m) => {
            if doc.methods.iter().any(|x| x.fragment == m.fragment) {
                return invalid(format!("method #{} exists", m.fragment));
            }
            if doc.methods.len() >= MAX_DID_METHODS {
                return over("methods", MAX_DID_METHODS);
            }
            doc.methods.push(m.clone());
            let attrs = vec![
                ("fragment", m.fragment.clone()),
                ("scheme", m.key.scheme.name().to_string()),
                ("public_key", hex::encode(&m.key.public_key)),
            ];
            Ok(event("MethodAdded", &id, attrs))
        }
        DidChange::RemoveMethod(f) => {
            let Some(i) = doc.methods.iter().position(|x| &x.fragment == f) else {
                return invalid(format!("no method #{f}"));
            };
            doc.methods.remove(i);
            Ok(event("MethodRemoved", &id, vec![("fragment", f.clone())]))
        }
        DidChange::AddController(a) => {
            if doc.is_controller(a) {
                return invalid(format!("{a} is a controller already"));
            }
            if doc.controllers.len() >= MAX_DID_CONTROLLERS {
                return over("controllers", MAX_DID_CONTROLLERS);
            }
            doc.controllers.push(*a);
            Ok(event(
                "ControllerAdded",
                &id,
                vec![("controller", a.to_string())],
            ))
        }
        DidChange::RemoveController(a) => {
            let Some(i) = doc.controllers.iter().position(|x| x == a) else {
                return invalid(format!("{a} is not a controller"));
            };
            doc.controllers.remove(i);
            Ok(event(
                "ControllerRemoved",
                &id,
                vec![("controller", a.to_string())],
            ))
        }
        DidChange::AddService(s) => {
            if doc.services.iter().any(|x| x.fragment == s.fragment) {
                return invalid(format!("service #{} exists", s.fragment));
            }
            if doc.services.len() >= MAX_DID_SERVICES {
                return over("services", MAX_DID_SERVICES);
            }
            doc.services.push(s.clone());
            let attrs = vec![
                ("fragment", s.fragment.clone()),
                ("type", s.kind.clone()),
                ("endpoint", s.endpoint.clone()),
            ];
            Ok(event("ServiceAdded", &id, attrs))
        }
        DidChange::RemoveService(f) => {
            let Some(i) = doc.services.iter().position(|x| &x.fragment == f) else {
                return invalid(format!("no service #{f}"));
            };
            doc.services.remove(i);
            Ok(event("ServiceRemoved", &id, vec![("fragment", f.clone())]))
        }
    }
}

/// Deactivate the DID for good (its document stays, marked deactivated, for resolvers).
pub(super) fn deactivate(ov: &mut Overlay<'_>, call: &Call, id: &DidId) -> ModResult<Applied> {
    let mut doc = controlled(ov, call, id)?;
    doc.deactivated = true;
    touch(&mut doc, call);
    put_document(ov, call.alg, &doc);
    Ok(Applied::events(vec![event(
        "Deactivated",
        id,
        vec![
            ("by", call.sender.to_string()),
            ("version", doc.version.to_string()),
        ],
    )]))
}
