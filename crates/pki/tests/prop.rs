//! Property tests: issue → DER → parse preserves every field for random names, roles,
//! validity windows and keys (both suites); the CRL round-trips its entries; mutating any
//! byte of a certificate never panics and never yields a chain that still verifies with a
//! different TBS.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs
)]

use std::collections::BTreeMap;

use keel_crypto::{KeyPair, Scheme};
use keel_pki::{
    Certificate, IssueRequest, Issuer, NoRevocation, Profile, RevocationList, Role, Serial,
    Validity, issue, verify_chain,
};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9 ._-]{0,30}[A-Za-z0-9]"
}

fn scheme() -> impl Strategy<Value = Scheme> {
    prop_oneof![Just(Scheme::Sm2), Just(Scheme::Ed25519)]
}

fn role() -> impl Strategy<Value = Role> {
    (0..Role::ALL.len()).prop_map(|i| Role::ALL[i])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn issue_parse_round_trip(
        scheme in scheme(),
        cn in name(),
        org in name(),
        role in role(),
        seed in any::<[u8; 32]>(),
        not_before in 0u64..4_000_000_000,
        days in 0u64..20_000,
        serial in proptest::collection::vec(any::<u8>(), 1..20),
    ) {
        let ca_key = KeyPair::from_seed(scheme, &seed);
        let mut subject_seed = seed;
        subject_seed[0] ^= 0xff;
        let subject = KeyPair::from_seed(scheme, &subject_seed);
        let validity = Validity::days_from(not_before, days);
        let root = issue(
            &IssueRequest {
                common_name: &cn,
                organization: &org,
                profile: Profile::Ca { path_len: 0 },
                scheme,
                public_key: &ca_key.public_key(),
                validity,
                serial: Serial::random().unwrap(),
            },
            Issuer::SelfSigned(&ca_key),
        )
        .unwrap();
        let mut serial = serial;
        serial[0] |= 1; // non-zero magnitude
        serial[0] &= 0x7f;
        let serial = Serial::from_bytes(&serial);
        let cert = issue(
            &IssueRequest {
                common_name: &cn,
                organization: &org,
                profile: Profile::EndEntity(role),
                scheme,
                public_key: &subject.public_key(),
                validity,
                serial: serial.clone(),
            },
            Issuer::Ca { cert: &root, key: &ca_key },
        )
        .unwrap();
        let back = Certificate::from_der(cert.der()).unwrap();
        prop_assert_eq!(&back, &cert);
        prop_assert_eq!(back.common_name(), Some(cn.clone()));
        prop_assert_eq!(back.organization(), Some(org.clone()));
        prop_assert_eq!(back.role(), Some(role));
        prop_assert_eq!(back.serial(), serial.clone());
        prop_assert_eq!(back.not_before(), validity.not_before);
        prop_assert_eq!(back.not_after(), validity.not_after);
        prop_assert_eq!(back.public_key(), &subject.public_key()[..]);
        prop_assert_eq!(back.serial().to_string().parse::<Serial>().unwrap(), serial.clone());
        let at = validity.not_before + (validity.not_after - validity.not_before) / 2;
        prop_assert!(verify_chain(&[back.clone()], &[root.clone()], at, &NoRevocation).is_ok());
        let entries: BTreeMap<Serial, u64> = [(serial.clone(), at)].into_iter().collect();
        let crl = RevocationList::issue(&root, &ca_key, &entries, at).unwrap();
        let from_pem = RevocationList::from_pem(&crl.to_pem()).unwrap();
        prop_assert_eq!(from_pem.der(), crl.der());
        let crl = RevocationList::from_der(crl.der()).unwrap();
        prop_assert_eq!(crl.entries(), &entries);
        prop_assert!(crl.verify(&root).is_ok());
    }

    #[test]
    fn mutated_certificates_never_panic_or_verify(
        pos in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let key = KeyPair::from_seed(Scheme::Sm2, &[9; 32]);
        fn ca(profile: Profile, pk: &[u8], serial: u8) -> IssueRequest<'_> {
            IssueRequest {
            common_name: "Root",
            organization: "C",
            profile,
            scheme: Scheme::Sm2,
            public_key: pk,
            validity: Validity::days_from(1_000_000, 10),
            serial: Serial::from_bytes(&[serial; 16]),
            }
        }
        let root = issue(&ca(Profile::Ca { path_len: 1 }, &key.public_key(), 0x42), Issuer::SelfSigned(&key)).unwrap();
        let leaf_key = KeyPair::from_seed(Scheme::Sm2, &[10; 32]);
        let leaf_pk = leaf_key.public_key();
        let mut req = ca(Profile::EndEntity(Role::Validator), &leaf_pk, 0x43);
        req.common_name = "Leaf";
        let leaf = issue(&req, Issuer::Ca { cert: &root, key: &key }).unwrap();
        let mut der = leaf.der().to_vec();
        let i = pos.index(der.len());
        der[i] ^= 1 << bit;
        if let Ok(mutated) = Certificate::from_der(&der) {
            let _ = (mutated.role(), mutated.organization(), mutated.subject(), mutated.fingerprint());
            // A mutated certificate verifies under the root only if the signed bytes are
            // unchanged (i.e. the flip hit nothing the signature covers and the signature
            // still decodes to the same (r, s)).
            if verify_chain(&[mutated.clone()], &[root.clone()], 1_000_100, &NoRevocation).is_ok() {
                let original = x509_cert::Certificate::from_der(leaf.der()).unwrap();
                let again = x509_cert::Certificate::from_der(mutated.der()).unwrap();
                prop_assert_eq!(original.tbs_certificate(), again.tbs_certificate());
            }
        }
    }
}

use der::Decode as _;
