//! SM2 worked examples of GB/T 32918 (gm-standards/sm2_gbt32918.json): every signature and
//! encryption example, on the recommended curve with the production code and on the test curve
//! with the reference implementation in `common/sm2_ref.rs`, plus production ↔ reference
//! cross-checks on random keys.

// Helper functions outside #[test] unwrap too: in tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::sm2_ref::{Curve, from_hex_be, to32};
use common::{hex_field, json_vector, unhex32};
use keel_crypto::sm2::{self, CurveParams, SM2P256V1};
use keel_crypto::{HashAlgorithm, KeyPair, Scheme, verify};
use num_bigint::BigUint;

const FILE: &str = "gm-standards/sm2_gbt32918.json";

fn curve(doc: &serde_json::Value, name: &str) -> Curve {
    Curve::from_json(&doc["curves"][name])
}

fn params_of(doc: &serde_json::Value, name: &str) -> CurveParams {
    let c = &doc["curves"][name];
    let f = |k: &str| unhex32(c[k].as_str().unwrap());
    CurveParams {
        a: f("a"),
        b: f("b"),
        gx: f("Gx"),
        gy: f("Gy"),
    }
}

/// Uncompressed 04 ‖ x ‖ y from the derived public key fields.
fn uncompressed(derived: &serde_json::Value) -> Vec<u8> {
    [
        &[4u8][..],
        &hex_field(derived, "public_key_x"),
        &hex_field(derived, "public_key_y"),
    ]
    .concat()
}

#[test]
fn recommended_curve_constants_match_the_vector_file() {
    let doc = json_vector(FILE);
    assert_eq!(params_of(&doc, "sm2p256v1_recommended"), SM2P256V1);
}

#[test]
fn signature_examples() {
    let doc = json_vector(FILE);
    let examples = doc["signature"].as_array().unwrap();
    assert_eq!(examples.len(), 2);
    for example in examples {
        let name = example["name"].as_str().unwrap();
        let curve_name = example["curve"].as_str().unwrap();
        let std = &example["standard"];
        let derived = &example["derived"];
        let id = hex_field(std, "user_id_hex");
        let msg = std["message_ascii"].as_str().unwrap().as_bytes();
        let d = hex_field(std, "private_key");
        let k = unhex32(std["k"].as_str().unwrap());
        let expected_sig = [hex_field(std, "r"), hex_field(std, "s")].concat();
        let x = unhex32(derived["public_key_x"].as_str().unwrap());
        let y = unhex32(derived["public_key_y"].as_str().unwrap());
        let expected_za = hex_field(std.get("ZA").map_or(derived, |_| std), "ZA");
        assert_eq!(expected_za, hex_field(derived, "ZA"), "{name}");

        // Z_A and e through the production `za`, with the example's own curve parameters.
        let params = params_of(&doc, curve_name);
        let za = sm2::za(&params, &id, &x, &y).unwrap();
        assert_eq!(za.to_vec(), expected_za, "{name}: Z_A");
        let e = HashAlgorithm::Sm3.digest_parts(&[&za, msg]);
        assert_eq!(e.to_vec(), hex_field(derived, "e"), "{name}: e");

        // The reference implementation reproduces the example on its curve.
        let reference = curve(&doc, curve_name);
        let d_big = from_hex_be(&d);
        let public = reference.public_key(&d_big);
        assert_eq!(
            public,
            Some((from_hex_be(&x), from_hex_be(&y))),
            "{name}: ref public key"
        );
        assert_eq!(
            reference.za(&id, &public).to_vec(),
            expected_za,
            "{name}: ref Z_A"
        );
        let (r, s) = reference.sign(&d_big, &id, msg, &from_hex_be(&k)).unwrap();
        assert_eq!(
            [to32(&r), to32(&s)].concat(),
            expected_sig,
            "{name}: ref signature"
        );
        assert!(
            reference.verify(&public, &id, msg, &r, &s),
            "{name}: ref verify"
        );

        if curve_name != "sm2p256v1_recommended" {
            continue;
        }
        // Production code on the recommended curve.
        let key = KeyPair::from_secret_bytes(Scheme::Sm2, &d).unwrap();
        let pk = key.public_key();
        assert_eq!(pk[0], if y[31] & 1 == 1 { 3 } else { 2 }, "{name}: parity");
        assert_eq!(&pk[1..], &x, "{name}: public key x");
        let sig = sm2::sign_with_k(&key, &id, msg, &k).unwrap();
        assert_eq!(sig, expected_sig, "{name}: signature with k");
        sm2::verify_with_id(&pk, &id, msg, &sig).unwrap();
        sm2::verify_with_id(&uncompressed(derived), &id, msg, &sig).unwrap();
        // The example uses the default ID, so the plain API verifies it too.
        assert_eq!(id, sm2::DEFAULT_ID);
        verify(Scheme::Sm2, &pk, msg, &sig).unwrap();
        assert!(verify(Scheme::Sm2, &pk, b"message digesT", &sig).is_err());
        // Deterministic signing over the same message verifies, also in the reference.
        let own = key.sign(msg);
        verify(Scheme::Sm2, &pk, msg, &own).unwrap();
        let (r2, s2) = (from_hex_be(&own[..32]), from_hex_be(&own[32..]));
        assert!(reference.verify(&public, &id, msg, &r2, &s2));
    }
}

#[test]
fn encryption_examples() {
    let doc = json_vector(FILE);
    let examples = doc["encryption"].as_array().unwrap();
    assert_eq!(examples.len(), 2);
    for example in examples {
        let name = example["name"].as_str().unwrap();
        let curve_name = example["curve"].as_str().unwrap();
        let std = &example["standard"];
        let derived = &example["derived"];
        let d = hex_field(std, "private_key");
        let msg = hex_field(std, "message_hex");
        assert_eq!(msg, std["message_ascii"].as_str().unwrap().as_bytes());
        let k = unhex32(std["k"].as_str().unwrap());
        let expected = [
            &[4u8][..],
            &hex_field(std, "C1_x"),
            &hex_field(std, "C1_y"),
            &hex_field(std, "C3"),
            &hex_field(std, "C2"),
        ]
        .concat();
        assert_eq!(
            expected,
            hex_field(derived, "ciphertext_C1C3C2_uncompressed"),
            "{name}"
        );
        let expected_der = hex_field(derived, "ciphertext_gmt0009_der");

        // Reference implementation on the example's curve.
        let reference = curve(&doc, curve_name);
        let d_big = from_hex_be(&d);
        let public = reference.public_key(&d_big);
        let x = hex_field(derived, "public_key_x");
        assert_eq!(
            to32(&public.clone().unwrap().0).to_vec(),
            x,
            "{name}: ref public key"
        );
        let shared = reference.mul(&from_hex_be(&k), &public).unwrap();
        assert_eq!(
            to32(&shared.0).to_vec(),
            hex_field(derived, "x2"),
            "{name}: x2"
        );
        assert_eq!(
            to32(&shared.1).to_vec(),
            hex_field(derived, "y2"),
            "{name}: y2"
        );
        let ct = reference.encrypt(&public, &msg, &from_hex_be(&k)).unwrap();
        assert_eq!(ct, expected, "{name}: ref ciphertext");
        assert_eq!(
            reference.decrypt(&d_big, &ct).unwrap(),
            msg,
            "{name}: ref decrypt"
        );

        // The DER conversion is curve-independent: production code on both examples.
        assert_eq!(
            sm2::ciphertext_to_der(&expected).unwrap(),
            expected_der,
            "{name}: DER"
        );
        assert_eq!(
            sm2::ciphertext_from_der(&expected_der).unwrap(),
            expected,
            "{name}: from DER"
        );

        if curve_name != "sm2p256v1_recommended" {
            continue;
        }
        let key = KeyPair::from_secret_bytes(Scheme::Sm2, &d).unwrap();
        for pk in [key.public_key(), uncompressed(derived)] {
            let ct = sm2::encrypt_with_k(&pk, &msg, &k).unwrap();
            assert_eq!(ct, expected, "{name}: production ciphertext");
        }
        assert_eq!(
            sm2::decrypt(&key, &expected).unwrap(),
            msg,
            "{name}: decrypt"
        );
        // The `sm2` crate's own decryption agrees.
        let crate_key = ::sm2::pke::DecryptingKey::from_slice(&d).unwrap();
        assert_eq!(crate_key.decrypt(&expected).unwrap(), msg);
        // Any change to C3 or C2 is rejected.
        for i in [70, expected.len() - 1] {
            let mut bad = expected.clone();
            bad[i] ^= 1;
            assert!(
                sm2::decrypt(&key, &bad).is_err(),
                "{name}: tampered byte {i}"
            );
        }
    }
}

#[test]
fn test_curve_public_key_is_rejected_by_production_code() {
    // The test-curve examples' keys are not points on sm2p256v1.
    let doc = json_vector(FILE);
    let derived = &doc["encryption"][0]["derived"];
    assert!(sm2::encrypt_with_k(&uncompressed(derived), b"x", &[1u8; 32]).is_err());
}

/// Deterministic pseudo-random bytes for the cross-checks (no OS randomness needed).
fn stream(seed: u8, n: usize) -> Vec<[u8; 32]> {
    (0..n as u32)
        .map(|i| {
            HashAlgorithm::Sha256.digest_parts(&[b"sm2 cross-check", &[seed], &i.to_be_bytes()])
        })
        .collect()
}

#[test]
fn production_and_reference_agree_on_random_keys() {
    let doc = json_vector(FILE);
    let reference = curve(&doc, "sm2p256v1_recommended");
    let ids: [&[u8]; 3] = [sm2::DEFAULT_ID, b"", b"ALICE123@YAHOO.COM"];
    for (i, seed) in stream(1, 6).iter().enumerate() {
        let key = KeyPair::from_seed(Scheme::Sm2, seed);
        let d = from_hex_be(&key.secret_bytes());
        let public = reference.public_key(&d);
        let (px, py) = public.clone().unwrap();
        let pk = key.public_key();
        assert_eq!(&pk[1..], &to32(&px));
        assert_eq!(pk[0], if py.bit(0) { 3 } else { 2 });
        let id = ids[i % ids.len()];
        let msg = format!("cross-check message {i}").into_bytes();

        // Z_A agrees.
        assert_eq!(
            sm2::za(&SM2P256V1, id, &to32(&px), &to32(&py)).unwrap(),
            reference.za(id, &public)
        );
        // Production signature verifies in the reference.
        let sig = sm2::sign_with_id(&key, id, &msg).unwrap();
        assert!(reference.verify(
            &public,
            id,
            &msg,
            &from_hex_be(&sig[..32]),
            &from_hex_be(&sig[32..])
        ));
        // Explicit k: identical signatures, and the reference's verifies in production.
        let k = stream(2, 6)[i];
        let (r, s) = reference
            .sign(&d, id, &msg, &(from_hex_be(&k) % &reference.n))
            .unwrap();
        let expected = [to32(&r), to32(&s)].concat();
        assert_eq!(
            sm2::sign_with_k(&key, id, &msg, &to32(&(from_hex_be(&k) % &reference.n))).unwrap(),
            expected
        );
        sm2::verify_with_id(&pk, id, &msg, &expected).unwrap();
        // Encryption both ways.
        let ct = sm2::encrypt(&pk, &msg, &k).unwrap();
        assert_eq!(reference.decrypt(&d, &ct).unwrap(), msg);
        let ct = reference
            .encrypt(&public, &msg, &(from_hex_be(&k) % &reference.n))
            .unwrap();
        assert_eq!(sm2::decrypt(&key, &ct).unwrap(), msg);
    }
}

#[test]
fn signing_matches_the_sm2_crate_bit_for_bit() {
    use ::sm2::dsa::signature::{Signer as _, Verifier as _};
    for seed in stream(3, 4) {
        let key = KeyPair::from_seed(Scheme::Sm2, &seed);
        let secret = key.secret_bytes();
        let crate_key = ::sm2::dsa::SigningKey::from_slice("1234567812345678", &secret).unwrap();
        let msg = b"same nonce derivation as the sm2 crate";
        let theirs: ::sm2::dsa::Signature = crate_key.sign(msg);
        assert_eq!(key.sign(msg), theirs.to_bytes().to_vec());
        let sig = ::sm2::dsa::Signature::from_slice(&key.sign(b"other")).unwrap();
        crate_key.verifying_key().verify(b"other", &sig).unwrap();
    }
}

#[test]
fn za_rejects_ids_that_overflow_entl() {
    let x = [1u8; 32];
    assert!(sm2::za(&SM2P256V1, &[0u8; 8191], &x, &x).is_ok());
    assert!(matches!(
        sm2::za(&SM2P256V1, &[0u8; 8192], &x, &x),
        Err(keel_crypto::CryptoError::DistinguishingIdTooLong { len: 8192 })
    ));
    let key = KeyPair::from_seed(Scheme::Sm2, &[7; 32]);
    assert!(sm2::sign_with_id(&key, &[0u8; 8192], b"m").is_err());
    let sig = key.sign(b"m");
    assert!(sm2::verify_with_id(&key.public_key(), &[0u8; 8192], b"m", &sig).is_err());
}

#[test]
fn non_utf8_ids_work() {
    let key = KeyPair::from_seed(Scheme::Sm2, &[9; 32]);
    let id = [0xffu8, 0xfe, 0x00, 0x80];
    let sig = sm2::sign_with_id(&key, &id, b"msg").unwrap();
    sm2::verify_with_id(&key.public_key(), &id, b"msg", &sig).unwrap();
    assert!(sm2::verify_with_id(&key.public_key(), b"other", b"msg", &sig).is_err());
    assert!(verify(Scheme::Sm2, &key.public_key(), b"msg", &sig).is_err());
}

#[test]
fn degenerate_nonces_are_rejected() {
    let key = KeyPair::from_seed(Scheme::Sm2, &[3; 32]);
    let n = BigUint::parse_bytes(
        b"FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123",
        16,
    )
    .unwrap();
    for k in [[0u8; 32], to32(&n), [0xff; 32]] {
        assert!(sm2::sign_with_k(&key, sm2::DEFAULT_ID, b"m", &k).is_err());
        assert!(sm2::encrypt_with_k(&key.public_key(), b"m", &k).is_err());
    }
}

#[test]
fn der_rejects_malformed_input() {
    let doc = json_vector(FILE);
    let der = hex_field(&doc["encryption"][1]["derived"], "ciphertext_gmt0009_der");
    assert!(sm2::ciphertext_from_der(&der[..der.len() - 1]).is_err());
    assert!(sm2::ciphertext_from_der(&[der.clone(), vec![0]].concat()).is_err());
    let mut bad_tag = der.clone();
    bad_tag[0] = 0x31;
    assert!(sm2::ciphertext_from_der(&bad_tag).is_err());
    assert!(sm2::ciphertext_from_der(&[]).is_err());
    assert!(sm2::ciphertext_to_der(&[4u8; 96]).is_err());
    // A long (0x81-form) C2 round-trips.
    let mut long = hex_field(
        &doc["encryption"][1]["derived"],
        "ciphertext_C1C3C2_uncompressed",
    );
    long.extend_from_slice(&[0xab; 300]);
    let der = sm2::ciphertext_to_der(&long).unwrap();
    assert_eq!(sm2::ciphertext_from_der(&der).unwrap(), long);
}
