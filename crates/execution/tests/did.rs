//! The did module: create (chosen and derived ids), update (key rotation, controllers,
//! services), deactivate — what each stores, its events, and every refusal with its specific
//! code and no effect beyond the sender's nonce and fee.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use ExecErrorCode::*;
use common::*;
use keel_crypto::KeyPair;
use keel_execution::{did, keys};
use keel_types::*;

const ID: DidId = [0xd1; 16];

fn key(scheme: Scheme, seed: u8) -> Signer {
    Signer {
        scheme,
        public_key: KeyPair::from_seed(scheme, &[seed; 32]).public_key(),
    }
}

fn method(fragment: &str, scheme: Scheme, seed: u8) -> DidMethod {
    DidMethod {
        fragment: fragment.into(),
        key: key(scheme, seed),
        authentication: true,
        assertion: true,
    }
}

fn service(fragment: &str) -> DidService {
    DidService {
        fragment: fragment.into(),
        kind: "LinkedDomains".into(),
        endpoint: "https://example.org".into(),
    }
}

fn create(id: Option<DidId>) -> DidOp {
    DidOp::Create {
        id,
        methods: vec![
            method("key-1", Scheme::Sm2, 1),
            method("key-2", Scheme::Ed25519, 2),
            method("key-3", Scheme::Secp256k1, 3),
        ],
        controllers: vec![addr(2)],
        services: vec![service("hub")],
    }
}

fn update(version: u64, changes: Vec<DidChange>) -> DidOp {
    DidOp::Update {
        id: ID,
        version,
        changes,
    }
}

trait DidChain {
    fn did_ok(&mut self, sender: u8, op: DidOp) -> Receipt;
    fn did_refused(&mut self, sender: u8, op: DidOp, code: ExecErrorCode) -> String;
    fn doc(&self, id: &DidId) -> did::DidDocument;
}

impl DidChain for Chain {
    fn did_ok(&mut self, sender: u8, op: DidOp) -> Receipt {
        let gas = op.gas();
        let r = self.exec(addr(sender), Payload::Did(op)).0;
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
        assert_eq!((r.gas_used, r.fee), (gas, u128::from(gas) * GAS_PRICE));
        for e in &r.events {
            assert_eq!(
                (e.module.as_str(), e.attributes[0].0.as_str()),
                ("did", "id")
            );
        }
        r
    }

    /// Refused with `code`: only the sender's account changed (nonce + fee), no events.
    fn did_refused(&mut self, sender: u8, op: DidOp, code: ExecErrorCode) -> String {
        let before = self.state.clone();
        let gas = op.gas();
        let (r, _, out) = self.exec(addr(sender), Payload::Did(op));
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

    fn doc(&self, id: &DidId) -> did::DidDocument {
        did::did_document(&self.state, ALG, id).unwrap().unwrap()
    }
}

#[test]
fn create_stores_the_document_with_the_sender_as_first_controller() {
    let mut c = Chain::new(&[]);
    let r = c.did_ok(1, create(Some(ID)));
    assert_eq!(r.output, ID.to_vec(), "the output is the DID id");
    assert_eq!(r.events[0].name, "Created");
    assert_eq!(r.events[0].attributes[0].1, hex::encode(ID));
    let d = c.doc(&ID);
    assert_eq!(d.controllers, vec![addr(1), addr(2)]);
    let schemes: Vec<_> = d.methods.iter().map(|m| m.key.scheme).collect();
    assert_eq!(
        schemes,
        vec![Scheme::Sm2, Scheme::Ed25519, Scheme::Secp256k1]
    );
    assert_eq!(d.services, vec![service("hub")]);
    assert_eq!(
        (d.version, d.created_height, d.updated_height, d.deactivated),
        (0, 1, 1, false)
    );
    // The record sits at its documented key.
    assert!(c.state.0.contains_key(&keys::did(ALG, &ID)));
}

#[test]
fn create_without_an_id_derives_it_from_the_transaction_hash() {
    let mut c = Chain::new(&[]);
    let (r, hash, _) = c.exec(addr(1), Payload::Did(create(None)));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(r.output, hash.0[..16].to_vec());
    let id: DidId = hash.0[..16].try_into().unwrap();
    assert_eq!(c.doc(&id).controllers[0], addr(1));
    // A second create from the same sender (next nonce) gets another id.
    let (r2, _, _) = c.exec(addr(1), Payload::Did(create(None)));
    assert_ne!(r2.output, r.output);
}

#[test]
fn create_refusals_are_specific() {
    let mut c = Chain::new(&[]);
    c.did_ok(1, create(Some(ID)));
    c.did_refused(3, create(Some(ID)), DidExists);
    let with = |f: fn(&mut Vec<DidMethod>, &mut Vec<Address>, &mut Vec<DidService>)| {
        let (mut m, mut a, mut s) = (vec![method("k", Scheme::Sm2, 1)], vec![], vec![]);
        f(&mut m, &mut a, &mut s);
        DidOp::Create {
            id: Some([2; 16]),
            methods: m,
            controllers: a,
            services: s,
        }
    };
    c.did_refused(
        1,
        with(|m, _, _| m.push(method("k", Scheme::Ed25519, 2))),
        DidInvalid,
    );
    c.did_refused(
        1,
        with(|_, _, s| s.extend([service("s"), service("s")])),
        DidInvalid,
    );
    c.did_refused(1, with(|_, a, _| a.push(addr(1))), DidInvalid);
    c.did_refused(1, with(|_, a, _| a.extend((2..10).map(addr))), DidLimit);
    // Broken field limits inside a block (admission would have stopped them).
    c.did_refused(1, with(|m, _, _| m[0].fragment = "a#b".into()), DidInvalid);
    c.did_refused(
        1,
        with(|m, _, _| {
            *m = (0..=MAX_DID_METHODS)
                .map(|i| method(&format!("k{i}"), Scheme::Ed25519, 1))
                .collect()
        }),
        DidInvalid,
    );
    c.did_ok(1, with(|_, a, _| a.extend((2..9).map(addr))));
}

#[test]
fn key_rotation_adds_the_new_key_and_removes_the_old_one() {
    let mut c = Chain::new(&[]);
    c.did_ok(1, create(Some(ID)));
    let rotate = vec![
        DidChange::AddMethod(method("key-4", Scheme::Sm2, 9)),
        DidChange::RemoveMethod("key-1".into()),
    ];
    let r = c.did_ok(2, update(0, rotate));
    let names: Vec<_> = r.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["MethodAdded", "MethodRemoved", "Updated"]);
    let d = c.doc(&ID);
    let frags: Vec<_> = d.methods.iter().map(|m| m.fragment.as_str()).collect();
    assert_eq!(frags, ["key-2", "key-3", "key-4"]);
    assert_eq!(d.methods[2].key, key(Scheme::Sm2, 9));
    assert_eq!((d.version, d.created_height, d.updated_height), (1, 1, 2));
}

#[test]
fn controllers_and_services_change_and_the_last_controller_stays() {
    let mut c = Chain::new(&[]);
    c.did_ok(1, create(Some(ID)));
    c.did_ok(
        1,
        update(
            0,
            vec![
                DidChange::AddController(addr(3)),
                DidChange::RemoveController(addr(2)),
                DidChange::RemoveService("hub".into()),
                DidChange::AddService(service("inbox")),
            ],
        ),
    );
    let d = c.doc(&ID);
    assert_eq!(d.controllers, vec![addr(1), addr(3)]);
    assert_eq!(d.services, vec![service("inbox")]);
    // Addr 2 no longer controls it; addr 3 now does.
    c.did_refused(
        2,
        update(1, vec![DidChange::RemoveService("inbox".into())]),
        DidNotController,
    );
    c.did_ok(3, update(1, vec![DidChange::RemoveController(addr(1))]));
    let last = vec![DidChange::RemoveController(addr(3))];
    c.did_refused(3, update(2, last), DidInvalid);
    // A controller may hand the DID on: add the new one, then remove itself, in one update.
    let hand_on = vec![
        DidChange::AddController(addr(4)),
        DidChange::RemoveController(addr(3)),
    ];
    c.did_ok(3, update(2, hand_on));
    assert_eq!(c.doc(&ID).controllers, vec![addr(4)]);
}

#[test]
fn update_refusals_are_specific_and_all_or_nothing() {
    let mut c = Chain::new(&[]);
    c.did_ok(1, create(Some(ID)));
    let add = |f: &str| DidChange::AddMethod(method(f, Scheme::Ed25519, 5));
    let other = DidOp::Update {
        id: [9; 16],
        version: 0,
        changes: vec![add("x")],
    };
    c.did_refused(1, other, DidUnknown);
    c.did_refused(7, update(0, vec![add("x")]), DidNotController);
    c.did_refused(1, update(1, vec![add("x")]), DidStale);
    // A later change failing undoes the earlier ones of the same update.
    c.did_refused(1, update(0, vec![add("x"), add("key-2")]), DidInvalid);
    c.did_refused(
        1,
        update(0, vec![DidChange::RemoveMethod("nope".into())]),
        DidInvalid,
    );
    c.did_refused(
        1,
        update(0, vec![DidChange::RemoveService("nope".into())]),
        DidInvalid,
    );
    c.did_refused(
        1,
        update(0, vec![DidChange::AddController(addr(2))]),
        DidInvalid,
    );
    c.did_refused(
        1,
        update(0, vec![DidChange::RemoveController(addr(9))]),
        DidInvalid,
    );
    c.did_refused(1, update(0, vec![]), DidInvalid);
    assert_eq!(c.doc(&ID).version, 0);
    // A stale update: two controllers race; the second, made against version 0, is refused.
    c.did_ok(1, update(0, vec![add("x")]));
    c.did_refused(2, update(0, vec![add("y")]), DidStale);
}

#[test]
fn limits_hold_across_updates() {
    let mut c = Chain::new(&[]);
    c.did_ok(1, create(Some(ID)));
    let adds = |from: usize, n: usize| {
        (from..from + n)
            .map(|i| DidChange::AddMethod(method(&format!("m{i}"), Scheme::Ed25519, 4)))
            .collect()
    };
    // 3 methods + 13 = 16, the most; one more is over the limit.
    c.did_ok(1, update(0, adds(0, 13)));
    assert_eq!(c.doc(&ID).methods.len(), MAX_DID_METHODS);
    c.did_refused(1, update(1, adds(13, 1)), DidLimit);
    let svcs: Vec<_> = (0..15)
        .map(|i| DidChange::AddService(service(&format!("s{i}"))))
        .collect();
    c.did_ok(1, update(1, svcs));
    let one_more = vec![DidChange::AddService(service("s99"))];
    c.did_refused(1, update(2, one_more), DidLimit);
    let ctrl: Vec<_> = (3..9).map(|i| DidChange::AddController(addr(i))).collect();
    c.did_ok(1, update(2, ctrl));
    let ninth = vec![DidChange::AddController(addr(9))];
    c.did_refused(1, update(3, ninth), DidLimit);
}

#[test]
fn deactivated_did_keeps_its_document_and_cannot_change() {
    let mut c = Chain::new(&[]);
    c.did_ok(1, create(Some(ID)));
    c.did_refused(5, DidOp::Deactivate { id: ID }, DidNotController);
    c.did_refused(1, DidOp::Deactivate { id: [7; 16] }, DidUnknown);
    let r = c.did_ok(2, DidOp::Deactivate { id: ID });
    assert_eq!(r.events[0].name, "Deactivated");
    let d = c.doc(&ID);
    assert!(d.deactivated);
    // Each exec is a block: the two refusals took heights 2 and 3.
    assert_eq!((d.version, d.updated_height, d.methods.len()), (1, 4, 3));
    let add = vec![DidChange::AddService(service("x"))];
    c.did_refused(1, update(1, add), DidDeactivated);
    c.did_refused(1, DidOp::Deactivate { id: ID }, DidDeactivated);
    // The id is never reused.
    c.did_refused(3, create(Some(ID)), DidExists);
}

#[test]
fn the_did_operation_policy_applies() {
    let mut c = Chain::new(&[7]);
    let policy = Payload::Gov(GovPayload::Propose {
        action: GovAction::SetOperationPolicy {
            op: Operation::Did,
            policy: OpPolicy::AllowList(vec![addr(1)]),
        },
        ttl_blocks: 0,
    });
    assert_eq!(Operation::from_name("did"), Some(Operation::Did));
    let (r, _, _) = c.exec(addr(7), policy);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    c.did_refused(2, create(Some(ID)), NotPermitted);
    c.did_ok(1, create(Some(ID)));
}
