//! Keel's fast SM2 (used by `KeyPair` and `verify`) against the generic RustCrypto `sm2` crate
//! (`sm2::generic_*`): both directions of sign/verify, identical signatures and public keys,
//! and tampering rejected by both.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{CryptoError, KeyPair, Scheme, sm2, verify};
use proptest::prelude::*;

fn flip(bytes: &[u8], index: usize, bit: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let i = index % out.len();
    out[i] ^= 1 << (bit % 8);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn fast_and_generic_agree(
        seed in any::<[u8; 32]>(),
        msg in prop::collection::vec(any::<u8>(), 0..300),
        index in any::<usize>(),
        bit in any::<u8>(),
    ) {
        let key = KeyPair::from_seed(Scheme::Sm2, &seed);
        let pk = key.public_key();
        // Public key derivation agrees.
        prop_assert_eq!(&pk, &sm2::generic_public_key(&key).unwrap());
        // Same RFC 6979 nonce, so the signatures are identical.
        let fast_sig = key.sign(&msg);
        let generic_sig = sm2::generic_sign(&key, &msg).unwrap();
        prop_assert_eq!(&fast_sig, &generic_sig);
        // Fast-sign → generic-verify and generic-sign → fast-verify.
        prop_assert!(sm2::generic_verify(&pk, &msg, &fast_sig).is_ok());
        prop_assert!(verify(Scheme::Sm2, &pk, &msg, &generic_sig).is_ok());

        // Tampered message, signature and key: both reject.
        let bad_msg = if msg.is_empty() { vec![0] } else { flip(&msg, index, bit) };
        prop_assert!(verify(Scheme::Sm2, &pk, &bad_msg, &fast_sig).is_err());
        prop_assert!(sm2::generic_verify(&pk, &bad_msg, &fast_sig).is_err());
        let bad_sig = flip(&fast_sig, index, bit);
        prop_assert!(verify(Scheme::Sm2, &pk, &msg, &bad_sig).is_err());
        prop_assert!(sm2::generic_verify(&pk, &msg, &bad_sig).is_err());
        let bad_pk = flip(&pk, index, bit);
        prop_assert!(verify(Scheme::Sm2, &bad_pk, &msg, &fast_sig).is_err());
        prop_assert!(sm2::generic_verify(&bad_pk, &msg, &fast_sig).is_err());
        // A flipped key is either invalid for both or a valid key for both.
        prop_assert_eq!(
            keel_crypto::address_of(Scheme::Sm2, &bad_pk, keel_crypto::HashAlgorithm::Sm3).is_ok(),
            !matches!(
                sm2::generic_verify(&bad_pk, &msg, &fast_sig),
                Err(CryptoError::InvalidPublicKey { .. })
            )
        );
    }

    #[test]
    fn ids_and_explicit_nonces_agree_with_the_reference(
        seed in any::<[u8; 32]>(),
        k in any::<[u8; 32]>(),
        id in prop::collection::vec(any::<u8>(), 0..40),
        msg in prop::collection::vec(any::<u8>(), 0..100),
    ) {
        let key = KeyPair::from_seed(Scheme::Sm2, &seed);
        let pk = key.public_key();
        let sig = sm2::sign_with_id(&key, &id, &msg).unwrap();
        prop_assert!(sm2::verify_with_id(&pk, &id, &msg, &sig).is_ok());
        // With an explicit k (valid with overwhelming probability for random bytes).
        if let Ok(sig) = sm2::sign_with_k(&key, &id, &msg, &k) {
            prop_assert!(sm2::verify_with_id(&pk, &id, &msg, &sig).is_ok());
            if id == sm2::DEFAULT_ID {
                prop_assert!(sm2::generic_verify(&pk, &msg, &sig).is_ok());
            }
        }
    }
}

#[test]
fn invalid_keys_and_signatures_are_rejected_by_both() {
    let key = KeyPair::from_seed(Scheme::Sm2, &[4; 32]);
    let pk = key.public_key();
    let sig = key.sign(b"m");
    // Not a point: x with no y on the curve, found by search; and the 0x00 "identity" prefix.
    let mut candidate = pk.clone();
    let not_on_curve = (0u8..=255)
        .find_map(|i| {
            candidate[32] = i;
            keel_crypto::address_of(Scheme::Sm2, &candidate, keel_crypto::HashAlgorithm::Sm3)
                .is_err()
                .then(|| candidate.clone())
        })
        .unwrap();
    let mut identity = vec![0u8; 33];
    identity[0] = 0;
    for bad in [not_on_curve, identity, vec![2u8; 33], vec![0xffu8; 33]] {
        assert!(matches!(
            verify(Scheme::Sm2, &bad, b"m", &sig),
            Err(CryptoError::InvalidPublicKey { .. })
        ));
        assert!(sm2::generic_verify(&bad, b"m", &sig).is_err());
    }
    // r or s out of [1, n − 1], and t = r + s = n.
    let n =
        hex::decode("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123").unwrap();
    let (r, s) = sig.split_at(32);
    for bad in [
        [&[0u8; 32][..], s].concat(),
        [r, &[0u8; 32][..]].concat(),
        [&n[..], s].concat(),
        [r, &n[..]].concat(),
    ] {
        assert!(matches!(
            verify(Scheme::Sm2, &pk, b"m", &bad),
            Err(CryptoError::InvalidSignatureEncoding { .. })
        ));
        assert!(sm2::generic_verify(&pk, b"m", &bad).is_err());
    }
    // s = n − r gives t = 0.
    let mut s_t0 = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(n[i]) - i16::from(r[i]) - borrow;
        s_t0[i] = d.rem_euclid(256) as u8;
        borrow = i16::from(d < 0);
    }
    let t0 = [r, &s_t0[..]].concat();
    assert!(verify(Scheme::Sm2, &pk, b"m", &t0).is_err());
    assert!(sm2::generic_verify(&pk, b"m", &t0).is_err());
    // Wrong lengths.
    assert!(verify(Scheme::Sm2, &pk, b"m", &sig[..63]).is_err());
    assert!(verify(Scheme::Sm2, &pk[..32], b"m", &sig).is_err());
}

#[test]
fn secret_n_minus_1_is_rejected() {
    // GB/T 32918.1 takes d ∈ [1, n − 2]: with d = n − 1, 1 + d has no inverse and signing fails.
    let mut n_minus_1 =
        hex::decode("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54122").unwrap();
    assert!(matches!(
        KeyPair::from_secret_bytes(Scheme::Sm2, &n_minus_1),
        Err(CryptoError::InvalidSecretKey { .. })
    ));
    n_minus_1[31] -= 1;
    let key = KeyPair::from_secret_bytes(Scheme::Sm2, &n_minus_1).unwrap();
    let sig = key.sign(b"n - 2 is fine");
    verify(Scheme::Sm2, &key.public_key(), b"n - 2 is fine", &sig).unwrap();
    sm2::generic_verify(&key.public_key(), b"n - 2 is fine", &sig).unwrap();
    assert_eq!(key.public_key(), sm2::generic_public_key(&key).unwrap());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A repeat sender's key gets a cached comb table after a few verifications: before and
    /// after, the fast path accepts exactly what the generic crate accepts (compressed and
    /// uncompressed encodings are cached separately and agree).
    #[test]
    fn cached_key_tables_agree_with_the_generic_crate(
        seed in any::<[u8; 32]>(),
        msgs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 8),
        index in 0usize..64,
        bit in 0u8..8,
    ) {
        let key = KeyPair::from_seed(Scheme::Sm2, &seed);
        let pk = key.public_key();
        for (i, msg) in msgs.iter().enumerate() {
            let sig = key.sign(msg);
            prop_assert!(verify(Scheme::Sm2, &pk, msg, &sig).is_ok(), "use {i}");
            prop_assert!(sm2::generic_verify(&pk, msg, &sig).is_ok());
            let bad = flip(&sig, index, bit);
            prop_assert_eq!(
                verify(Scheme::Sm2, &pk, msg, &bad).is_ok(),
                sm2::generic_verify(&pk, msg, &bad).is_ok(),
                "tampered signature, use {}", i
            );
            let other = [msg.as_slice(), b"!"].concat();
            prop_assert!(verify(Scheme::Sm2, &pk, &other, &sig).is_err());
        }
    }
}
