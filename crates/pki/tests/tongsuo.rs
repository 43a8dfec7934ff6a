//! The Tongsuo SM2 certificate samples (`/work/shared/vectors/tongsuo-certs`, see its
//! SOURCE.txt): the chain verifies with the GM/T default ID, the `*_expire.crt` variants are
//! rejected as expired, tampered signatures are rejected.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cloned_ref_to_slice_refs
)]

use std::path::PathBuf;

use keel_crypto::Scheme;
use keel_pki::{Certificate, NoRevocation, PkiError, RevokedSet, verify_chain};

fn dir() -> PathBuf {
    let base = std::env::var("KEEL_VECTORS").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
        PathBuf::from,
    );
    let candidates = [base, PathBuf::from("/work/shared/vectors")];
    candidates
        .into_iter()
        .map(|b| b.join("tongsuo-certs/gmtls-chain"))
        .find(|p| p.is_dir())
        .expect("tongsuo-certs vectors not found (set KEEL_VECTORS)")
}

fn load(name: &str) -> Vec<Certificate> {
    let text = std::fs::read_to_string(dir().join(name)).unwrap();
    Certificate::from_pem_chain(&text).unwrap()
}

/// 2024-06-01, inside the 2023–2123 validity of the samples.
const NOW: u64 = 1_717_200_000;

fn manifest() -> serde_json::Value {
    let text = std::fs::read_to_string(dir().join("../MANIFEST.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_manifest_entry_verifies_as_described() {
    let m = manifest();
    let entries = m["sets"]["gmtls-chain"].as_array().unwrap();
    assert_eq!(entries.len(), 10);
    for e in entries {
        let certs = load(e["file"].as_str().unwrap());
        let cert = &certs[e["index_in_file"].as_u64().unwrap() as usize];
        let issuers = load(e["signature_check"]["issuer_file"].as_str().unwrap());
        let issuer = &issuers[e["signature_check"]["issuer_index"].as_u64().unwrap() as usize];
        assert_eq!(cert.scheme(), Scheme::Sm2);
        let expect = e["signature_check"]["verifies_with_ZA_default_id"]
            .as_bool()
            .unwrap();
        assert_eq!(
            cert.verify_signed_by(issuer).is_ok(),
            expect,
            "{}",
            e["file"]
        );
        // The manifest's subject is in OpenSSL's one-line order; compare the CN.
        let cn = e["subject"].as_str().unwrap().split(',').next().unwrap();
        assert_eq!(format!("CN={}", cert.common_name().unwrap()), cn);
        let ca = e["basicConstraints"]
            .as_str()
            .unwrap()
            .starts_with("CA:TRUE");
        assert_eq!(cert.is_ca(), ca);
    }
}

#[test]
fn valid_chains_verify_and_expired_variants_are_rejected() {
    let ca = load("chain-ca.crt");
    assert_eq!(ca.len(), 2);
    let roots = vec![ca[0].clone()];
    let sub = ca[1].clone();
    for leaf in ["server_sign", "server_enc", "client_sign", "client_enc"] {
        let cert = load(&format!("{leaf}.crt")).remove(0);
        let chain = verify_chain(&[cert.clone(), sub.clone()], &roots, NOW, &NoRevocation)
            .unwrap_or_else(|e| panic!("{leaf}: {e}"));
        assert_eq!(chain.path().len(), 3);
        assert_eq!(chain.path()[2], roots[0]);
        // Without the sub CA the issuer is unknown.
        assert!(matches!(
            verify_chain(&[cert.clone()], &roots, NOW, &NoRevocation),
            Err(PkiError::UnknownIssuer { .. })
        ));
        let expired = load(&format!("{leaf}_expire.crt")).remove(0);
        // Same key, same issuer, valid signature: only the date is wrong.
        expired.verify_signed_by(&sub).unwrap();
        let err = verify_chain(&[expired, sub.clone()], &roots, NOW, &NoRevocation).unwrap_err();
        assert!(
            matches!(
                err,
                PkiError::Expired {
                    not_after: 978_307_200,
                    ..
                }
            ),
            "{leaf}: {err}"
        );
        // Revoking the leaf or the sub CA rejects the chain.
        for serial in [cert.serial(), sub.serial()] {
            let revoked: RevokedSet = [serial].into_iter().collect();
            let err =
                verify_chain(&[cert.clone(), sub.clone()], &roots, NOW, &revoked).unwrap_err();
            assert!(matches!(err, PkiError::Revoked { .. }), "{err}");
        }
    }
}

#[test]
fn sign_certificates_pass_the_usage_check_and_enc_certificates_do_not() {
    let ca = load("chain-ca.crt");
    let roots = vec![ca[0].clone()];
    let sign = load("server_sign.crt").remove(0);
    let enc = load("server_enc.crt").remove(0);
    let ok = verify_chain(&[sign, ca[1].clone()], &roots, NOW, &NoRevocation).unwrap();
    // No Keel role (OU=DD), so not usable as a node certificate.
    let err = keel_pki::check_usage(&ok, &[keel_pki::Role::Validator]).unwrap_err();
    assert!(
        matches!(err, PkiError::WrongUsage { ref reason, .. } if reason.contains("role")),
        "{err}"
    );
    let enc_chain = verify_chain(&[enc, ca[1].clone()], &roots, NOW, &NoRevocation).unwrap();
    let err = keel_pki::check_usage(&enc_chain, &[keel_pki::Role::Validator]).unwrap_err();
    assert!(
        matches!(err, PkiError::WrongUsage { ref reason, .. } if reason.contains("digitalSignature")),
        "{err}"
    );
}

#[test]
fn tampered_signatures_and_tbs_are_rejected() {
    let ca = load("chain-ca.crt");
    let roots = vec![ca[0].clone()];
    let leaf = load("server_sign.crt").remove(0);
    let der = leaf.der().to_vec();
    // Flip a bit in the last byte (inside s of the DER signature).
    let mut sig_tampered = der.clone();
    *sig_tampered.last_mut().unwrap() ^= 1;
    let bad = Certificate::from_der(&sig_tampered).unwrap();
    let err = verify_chain(&[bad, ca[1].clone()], &roots, NOW, &NoRevocation).unwrap_err();
    assert!(matches!(err, PkiError::BadSignature { .. }), "{err}");
    // Change a byte of the subject's CN inside the TBS ("server sign" -> "server sigo").
    let pos = der.windows(11).position(|w| w == b"server sign").unwrap();
    let mut tbs_tampered = der;
    tbs_tampered[pos + 10] = b'o';
    let bad = Certificate::from_der(&tbs_tampered).unwrap();
    let err = verify_chain(&[bad, ca[1].clone()], &roots, NOW, &NoRevocation).unwrap_err();
    assert!(matches!(err, PkiError::BadSignature { .. }), "{err}");
    // A tampered root self-signature is caught too.
    let mut root = ca[0].der().to_vec();
    *root.last_mut().unwrap() ^= 1;
    let bad_root = Certificate::from_der(&root).unwrap();
    let err = verify_chain(&[leaf, ca[1].clone()], &[bad_root], NOW, &NoRevocation).unwrap_err();
    assert!(matches!(err, PkiError::BadSignature { .. }), "{err}");
}

#[test]
fn a_chain_to_another_root_is_untrusted() {
    let ca = load("chain-ca.crt");
    let leaf = load("server_sign.crt").remove(0);
    // Trusting only the sub CA works (it is a trust anchor then); trusting nothing related fails.
    verify_chain(&[leaf.clone()], &[ca[1].clone()], NOW, &NoRevocation).unwrap();
    let err = verify_chain(
        &[leaf.clone(), ca[1].clone(), ca[0].clone()],
        &[leaf.clone()],
        NOW,
        &NoRevocation,
    );
    // The leaf itself is "trusted" here: the path ends at once.
    assert!(err.is_ok());
    let unrelated = load("client_sign.crt").remove(0);
    let err = verify_chain(
        &[leaf, ca[1].clone(), ca[0].clone()],
        &[unrelated],
        NOW,
        &NoRevocation,
    )
    .unwrap_err();
    assert!(matches!(err, PkiError::UntrustedRoot { .. }), "{err}");
}
