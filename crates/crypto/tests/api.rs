//! Names, parsing, redaction, error shapes.

// Helper functions outside #[test] unwrap too: in tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use keel_crypto::{
    CryptoError, HashAlgorithm, KeyPair, Scheme, Suite, VerifyItem, address_of, verify,
    verify_batch,
};

#[test]
fn names_round_trip() {
    for scheme in Scheme::ALL {
        assert_eq!(scheme.name().parse::<Scheme>().unwrap(), scheme);
        assert_eq!(scheme.to_string(), scheme.name());
        assert_eq!(Scheme::from_u8(scheme as u8), Some(scheme));
    }
    assert_eq!(Scheme::from_u8(0), None);
    assert_eq!(Scheme::from_u8(4), None);
    assert_eq!(Scheme::Sm2 as u8, 1);
    assert_eq!(Scheme::Ed25519 as u8, 2);
    assert_eq!(Scheme::Secp256k1 as u8, 3);
    assert!(
        matches!("SM2".parse::<Scheme>(), Err(CryptoError::UnknownScheme { name }) if name == "SM2")
    );
    for hash in [
        HashAlgorithm::Sm3,
        HashAlgorithm::Sha256,
        HashAlgorithm::Keccak256,
    ] {
        assert_eq!(hash.name().parse::<HashAlgorithm>().unwrap(), hash);
        assert_eq!(hash.to_string(), hash.name());
    }
    assert!("sha3".parse::<HashAlgorithm>().is_err());
    for suite in [Suite::Gm, Suite::Intl] {
        assert_eq!(suite.name().parse::<Suite>().unwrap(), suite);
        assert_eq!(suite.to_string(), suite.name());
    }
    assert!("GM".parse::<Suite>().is_err());
}

#[test]
fn lengths_and_suites() {
    assert_eq!(Scheme::Sm2.public_key_len(), 33);
    assert_eq!(Scheme::Ed25519.public_key_len(), 32);
    assert_eq!(Scheme::Secp256k1.public_key_len(), 33);
    assert_eq!(Scheme::Sm2.signature_len(), 64);
    assert_eq!(Scheme::Ed25519.signature_len(), 64);
    assert_eq!(Scheme::Secp256k1.signature_len(), 65);
    assert_eq!(Suite::Gm.hash(), HashAlgorithm::Sm3);
    assert_eq!(Suite::Intl.hash(), HashAlgorithm::Sha256);
    assert_eq!(Suite::Gm.signature_scheme(), Scheme::Sm2);
    assert_eq!(Suite::Intl.signature_scheme(), Scheme::Ed25519);
    assert!(Suite::Gm.allows(Scheme::Sm2) && Suite::Gm.allows(Scheme::Secp256k1));
    assert!(!Suite::Gm.allows(Scheme::Ed25519));
    assert!(Suite::Intl.allows(Scheme::Ed25519) && Suite::Intl.allows(Scheme::Secp256k1));
    assert!(!Suite::Intl.allows(Scheme::Sm2));
}

#[test]
fn debug_does_not_print_the_secret() {
    for scheme in Scheme::ALL {
        let key = KeyPair::from_seed(scheme, &[0x5a; 32]);
        let debug = format!("{key:?} {:?}", key.clone());
        let secret_hex = hex::encode(&*key.secret_bytes());
        assert!(!debug.contains(&secret_hex), "{debug}");
        assert!(debug.contains("redacted"));
        assert!(debug.contains(&hex::encode(key.public_key())));
    }
}

#[test]
fn bad_secret_keys_are_typed_errors() {
    for scheme in Scheme::ALL {
        assert!(matches!(
            KeyPair::from_secret_bytes(scheme, &[1u8; 31]),
            Err(CryptoError::InvalidSecretKeyLength { len: 31, .. })
        ));
    }
    for scheme in [Scheme::Sm2, Scheme::Secp256k1] {
        assert!(matches!(
            KeyPair::from_secret_bytes(scheme, &[0u8; 32]),
            Err(CryptoError::InvalidSecretKey { .. })
        ));
        assert!(matches!(
            KeyPair::from_secret_bytes(scheme, &[0xffu8; 32]),
            Err(CryptoError::InvalidSecretKey { .. })
        ));
    }
}

#[test]
fn verify_errors_are_structured() {
    let key = KeyPair::from_seed(Scheme::Ed25519, &[1; 32]);
    let sig = key.sign(b"m");
    assert!(matches!(
        verify(Scheme::Ed25519, &key.public_key()[..31], b"m", &sig),
        Err(CryptoError::InvalidPublicKeyLength {
            expected: 32,
            len: 31,
            ..
        })
    ));
    assert!(matches!(
        verify(Scheme::Ed25519, &key.public_key(), b"m", &sig[..63]),
        Err(CryptoError::InvalidSignatureEncoding { len: 63, .. })
    ));
    assert!(matches!(
        verify(Scheme::Ed25519, &key.public_key(), b"x", &sig),
        Err(CryptoError::VerificationFailed {
            scheme: Scheme::Ed25519
        })
    ));
    // Small-order Ed25519 key (the identity point) is rejected as a key.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert!(matches!(
        address_of(Scheme::Ed25519, &identity, HashAlgorithm::Sha256),
        Err(CryptoError::InvalidPublicKey { .. })
    ));
    // A 65-byte uncompressed SM2 key is not the address encoding.
    assert!(address_of(Scheme::Sm2, &[4u8; 65], HashAlgorithm::Sm3).is_err());
    // SM2 signature scalar out of range.
    let sm2 = KeyPair::from_seed(Scheme::Sm2, &[1; 32]);
    assert!(matches!(
        verify(Scheme::Sm2, &sm2.public_key(), b"m", &[0xff; 64]),
        Err(CryptoError::InvalidSignatureEncoding { .. })
    ));
}

#[test]
fn empty_batches_verify_and_single_bad_items_fail() {
    for scheme in Scheme::ALL {
        verify_batch(scheme, &[]).unwrap();
        let key = KeyPair::from_seed(scheme, &[2; 32]);
        let pk = key.public_key();
        let sig = key.sign(b"a");
        let good = VerifyItem {
            public_key: &pk,
            message: b"a",
            signature: &sig,
        };
        let bad = VerifyItem {
            public_key: &pk,
            message: b"b",
            signature: &sig,
        };
        verify_batch(scheme, &[good]).unwrap();
        verify_batch(scheme, &[good, good, good]).unwrap();
        assert!(verify_batch(scheme, &[bad]).is_err());
        assert!(verify_batch(scheme, &[good, bad, good]).is_err());
    }
}

#[test]
fn ed25519_batch_rejects_small_order_r_like_single_verify() {
    // R = identity, S = 0 under any key: passes the cofactorless equation only if hA = 0,
    // but must be rejected as a small-order R either way.
    let key = KeyPair::from_seed(Scheme::Ed25519, &[3; 32]);
    let pk = key.public_key();
    let mut sig = [0u8; 64];
    sig[0] = 1;
    let good_sig = key.sign(b"ok");
    let good = VerifyItem {
        public_key: &pk,
        message: b"ok",
        signature: &good_sig,
    };
    let forged = VerifyItem {
        public_key: &pk,
        message: b"x",
        signature: &sig,
    };
    assert!(verify(Scheme::Ed25519, &pk, b"x", &sig).is_err());
    assert!(verify_batch(Scheme::Ed25519, &[good, forged]).is_err());
}

#[test]
fn sm2_only_operations_reject_other_keys() {
    let ed = KeyPair::from_seed(Scheme::Ed25519, &[4; 32]);
    assert!(matches!(
        keel_crypto::sm2::sign_with_id(&ed, b"id", b"m"),
        Err(CryptoError::UnsupportedOperation {
            scheme: Scheme::Ed25519,
            ..
        })
    ));
    assert!(keel_crypto::sm2::decrypt(&ed, &[0u8; 120]).is_err());
}
