//! Random sequences of DID updates by random senders: after each one the document keeps its
//! invariants (at least one controller, limits, distinct controllers and fragments, version =
//! successful changes), a successful update is exactly the changes applied in order to the
//! previous document, and a refused one leaves the document untouched.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use keel_crypto::KeyPair;
use keel_execution::did;
use keel_types::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

const ID: DidId = [5; 16];

fn change() -> impl Strategy<Value = DidChange> {
    let frag = (0u8..6).prop_map(|i| format!("f{i}"));
    let who = (1u8..5).prop_map(addr);
    prop_oneof![
        (frag.clone(), 1u8..4).prop_map(|(fragment, seed)| DidChange::AddMethod(DidMethod {
            fragment,
            key: Signer {
                scheme: Scheme::Ed25519,
                public_key: KeyPair::from_seed(Scheme::Ed25519, &[seed; 32]).public_key(),
            },
            authentication: seed % 2 == 0,
            assertion: true,
        })),
        frag.clone().prop_map(DidChange::RemoveMethod),
        who.clone().prop_map(DidChange::AddController),
        who.prop_map(DidChange::RemoveController),
        frag.clone()
            .prop_map(|fragment| DidChange::AddService(DidService {
                fragment,
                kind: "LinkedDomains".into(),
                endpoint: "https://example.org".into(),
            })),
        frag.prop_map(DidChange::RemoveService),
    ]
}

fn distinct<T: Ord>(v: impl Iterator<Item = T>) -> bool {
    let all: Vec<T> = v.collect();
    let n = all.len();
    all.into_iter().collect::<BTreeSet<_>>().len() == n
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn random_updates_keep_the_document_consistent(
        steps in proptest::collection::vec(
            (prop_oneof![3 => Just(1u8), 1 => 2u8..5], proptest::collection::vec(change(), 1..3), 0u8..8),
            1..24,
        )
    ) {
        let mut c = Chain::new(&[]);
        let create = DidOp::Create { id: Some(ID), methods: vec![], controllers: vec![addr(2)], services: vec![] };
        let (r, _, _) = c.exec(addr(1), Payload::Did(create));
        prop_assert_eq!(r.status, TxStatus::Success);
        let mut successes = 0u64;
        for (sender, changes, roll) in steps {
            let stale = roll == 0;
            let before = did::did_document(&c.state, ALG, &ID).unwrap().unwrap();
            let version = before.version + u64::from(stale);
            let op = DidOp::Update { id: ID, version, changes: changes.clone() };
            let (r, _, _) = c.exec(addr(sender), Payload::Did(op));
            let after = did::did_document(&c.state, ALG, &ID).unwrap().unwrap();
            if r.status == TxStatus::Success {
                successes += 1;
                prop_assert!(before.is_controller(&addr(sender)) && !stale);
                prop_assert_eq!(after.version, before.version + 1);
            } else {
                prop_assert_eq!(&after, &before);
                let code = r.error.unwrap().0;
                if !before.is_controller(&addr(sender)) {
                    prop_assert_eq!(code, ExecErrorCode::DidNotController);
                } else if stale {
                    prop_assert_eq!(code, ExecErrorCode::DidStale);
                }
            }
            prop_assert_eq!(after.version, successes);
            prop_assert!(!after.controllers.is_empty());
            prop_assert!(after.controllers.len() <= MAX_DID_CONTROLLERS);
            prop_assert!(after.methods.len() <= MAX_DID_METHODS);
            prop_assert!(after.services.len() <= MAX_DID_SERVICES);
            prop_assert!(distinct(after.controllers.iter()));
            prop_assert!(distinct(after.methods.iter().map(|m| &m.fragment)));
            prop_assert!(distinct(after.services.iter().map(|s| &s.fragment)));
        }
    }
}
