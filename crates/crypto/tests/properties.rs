//! Property tests: round trips, tampering, never panicking on arbitrary bytes, batch agreement.

// Helper functions outside #[test] unwrap too: in tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use keel_crypto::{
    HashAlgorithm, KeyPair, Scheme, VerifyItem, address_of, aes256gcm, sm2, sm4, verify,
    verify_batch,
};
use proptest::prelude::*;

fn scheme() -> impl Strategy<Value = Scheme> {
    prop::sample::select(Scheme::ALL.to_vec())
}

fn seed() -> impl Strategy<Value = [u8; 32]> {
    any::<[u8; 32]>()
}

fn msg() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..200)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn sign_verify_round_trip(scheme in scheme(), seed in seed(), msg in msg()) {
        let key = KeyPair::from_seed(scheme, &seed);
        let pk = key.public_key();
        prop_assert_eq!(pk.len(), scheme.public_key_len());
        let sig = key.sign(&msg);
        prop_assert_eq!(sig.len(), scheme.signature_len());
        prop_assert!(verify(scheme, &pk, &msg, &sig).is_ok());
        // Deterministic.
        prop_assert_eq!(key.sign(&msg), sig);
    }

    #[test]
    fn wrong_message_key_or_bit_fails(
        scheme in scheme(),
        seed in seed(),
        other_seed in seed(),
        msg in msg(),
        bit in 0usize..(65 * 8),
    ) {
        prop_assume!(seed != other_seed);
        let key = KeyPair::from_seed(scheme, &seed);
        let pk = key.public_key();
        let sig = key.sign(&msg);
        let mut other_msg = msg.clone();
        other_msg.push(0);
        prop_assert!(verify(scheme, &pk, &other_msg, &sig).is_err());
        let other_pk = KeyPair::from_seed(scheme, &other_seed).public_key();
        prop_assert!(verify(scheme, &other_pk, &msg, &sig).is_err());
        let mut flipped = sig.clone();
        let bit = bit % (sig.len() * 8);
        flipped[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify(scheme, &pk, &msg, &flipped).is_err());
    }

    #[test]
    fn verify_never_panics_on_arbitrary_bytes(
        scheme in scheme(),
        pk in prop::collection::vec(any::<u8>(), 0..80),
        sig in prop::collection::vec(any::<u8>(), 0..80),
        msg in msg(),
    ) {
        let _ = verify(scheme, &pk, &msg, &sig);
        let _ = address_of(scheme, &pk, HashAlgorithm::Sm3);
        let item = VerifyItem { public_key: &pk, message: &msg, signature: &sig };
        let _ = verify_batch(scheme, &[item, item]);
        let _ = sm2::verify_with_id(&pk, &msg, &msg, &sig);
        let _ = sm2::ciphertext_from_der(&sig);
        let _ = sm2::ciphertext_to_der(&sig);
    }

    #[test]
    fn verify_never_panics_on_mutated_valid_inputs(
        scheme in scheme(),
        seed in seed(),
        index in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        truncate in any::<bool>(),
    ) {
        // Near-valid inputs reach deeper than random bytes: valid key, one byte changed.
        let key = KeyPair::from_seed(scheme, &seed);
        let mut pk = key.public_key();
        let mut sig = key.sign(b"m");
        let i = index.index(pk.len());
        pk[i] = byte;
        let i = index.index(sig.len());
        sig[i] = byte;
        if truncate {
            sig.pop();
        }
        let _ = verify(scheme, &pk, b"m", &sig);
        let _ = verify(scheme, &key.public_key(), b"m", &sig);
    }

    #[test]
    fn verify_batch_agrees_with_individual_verify(
        scheme in scheme(),
        seeds in prop::collection::vec(seed(), 1..6),
        bad in any::<prop::sample::Index>(),
        corrupt in any::<bool>(),
    ) {
        let keys: Vec<KeyPair> = seeds.iter().map(|s| KeyPair::from_seed(scheme, s)).collect();
        let pks: Vec<Vec<u8>> = keys.iter().map(KeyPair::public_key).collect();
        let msgs: Vec<Vec<u8>> = (0..keys.len()).map(|i| format!("message {i}").into_bytes()).collect();
        let mut sigs: Vec<Vec<u8>> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
        if corrupt {
            let i = bad.index(sigs.len());
            sigs[i][5] ^= 0x10;
        }
        let items: Vec<VerifyItem<'_>> = (0..keys.len())
            .map(|i| VerifyItem { public_key: &pks[i], message: &msgs[i], signature: &sigs[i] })
            .collect();
        let individually = items
            .iter()
            .all(|it| verify(scheme, it.public_key, it.message, it.signature).is_ok());
        prop_assert_eq!(individually, !corrupt);
        prop_assert_eq!(verify_batch(scheme, &items).is_ok(), individually);
    }

    #[test]
    fn from_seed_is_deterministic_and_round_trips(scheme in scheme(), seed in seed()) {
        let a = KeyPair::from_seed(scheme, &seed);
        let b = KeyPair::from_seed(scheme, &seed);
        prop_assert_eq!(a.public_key(), b.public_key());
        prop_assert_eq!(&*a.secret_bytes(), &*b.secret_bytes());
        prop_assert_eq!(a.scheme(), scheme);
        let c = KeyPair::from_secret_bytes(scheme, &a.secret_bytes()).unwrap();
        prop_assert_eq!(c.public_key(), a.public_key());
        if scheme == Scheme::Ed25519 {
            prop_assert_eq!(&*a.secret_bytes(), &seed[..]);
        }
    }

    #[test]
    fn address_of_is_stable(scheme in scheme(), seed in seed()) {
        let pk = KeyPair::from_seed(scheme, &seed).public_key();
        for hash in [HashAlgorithm::Sm3, HashAlgorithm::Sha256] {
            let a = address_of(scheme, &pk, hash).unwrap();
            prop_assert_eq!(a, address_of(scheme, &pk, hash).unwrap());
            if scheme != Scheme::Secp256k1 {
                prop_assert_eq!(&a[..], &hash.digest(&pk)[12..]);
            }
        }
    }

    #[test]
    fn sm2_encrypt_decrypt_round_trip(seed in seed(), entropy in seed(), msg in msg()) {
        let key = KeyPair::from_seed(Scheme::Sm2, &seed);
        let ct = sm2::encrypt(&key.public_key(), &msg, &entropy).unwrap();
        prop_assert_eq!(ct.len(), 97 + msg.len());
        prop_assert_eq!(&ct, &sm2::encrypt(&key.public_key(), &msg, &entropy).unwrap());
        prop_assert_eq!(&sm2::decrypt(&key, &ct).unwrap(), &msg);
        let der = sm2::ciphertext_to_der(&ct).unwrap();
        prop_assert_eq!(&sm2::ciphertext_from_der(&der).unwrap(), &ct);
        let other = KeyPair::from_seed(Scheme::Sm2, &entropy);
        if other.public_key() != key.public_key() {
            prop_assert!(sm2::decrypt(&other, &ct).is_err());
        }
    }

    #[test]
    fn sm2_decrypt_never_panics(seed in seed(), ct in prop::collection::vec(any::<u8>(), 0..200)) {
        let key = KeyPair::from_seed(Scheme::Sm2, &seed);
        let _ = sm2::decrypt(&key, &ct);
    }

    #[test]
    fn sm4_cbc_round_trip(key in any::<[u8; 16]>(), iv in any::<[u8; 16]>(), pt in msg()) {
        let ct = sm4::cbc_encrypt(&key, &iv, &pt);
        prop_assert_eq!(ct.len(), (pt.len() / 16 + 1) * 16);
        prop_assert_eq!(sm4::cbc_decrypt(&key, &iv, &ct).unwrap(), pt.clone());
        let mut data = pt.clone();
        sm4::ctr_apply(&key, &iv, &mut data);
        sm4::ctr_apply(&key, &iv, &mut data);
        prop_assert_eq!(data, pt);
    }

    #[test]
    fn gcm_round_trip_and_tamper(
        key in any::<[u8; 32]>(),
        nonce in any::<[u8; 12]>(),
        aad in msg(),
        pt in msg(),
        flip in any::<prop::sample::Index>(),
    ) {
        let k16: [u8; 16] = key[..16].try_into().unwrap();
        let sealed = sm4::gcm_seal(&k16, &nonce, &aad, &pt);
        prop_assert_eq!(sealed.len(), pt.len() + 16);
        prop_assert_eq!(sm4::gcm_open(&k16, &nonce, &aad, &sealed).unwrap(), pt.clone());
        let mut bad = sealed.clone();
        let i = flip.index(bad.len());
        bad[i] ^= 0x80;
        prop_assert!(sm4::gcm_open(&k16, &nonce, &aad, &bad).is_err());
        prop_assert!(sm4::gcm_open(&k16, &nonce, &aad, &sealed[..sealed.len() - 1]).is_err());

        let sealed = aes256gcm::seal(&key, &nonce, &aad, &pt);
        prop_assert_eq!(aes256gcm::open(&key, &nonce, &aad, &sealed).unwrap(), pt);
        let mut bad = sealed.clone();
        let i = flip.index(bad.len());
        bad[i] ^= 0x80;
        prop_assert!(aes256gcm::open(&key, &nonce, &aad, &bad).is_err());
    }

    #[test]
    fn cross_scheme_signatures_do_not_verify(
        signer in scheme(),
        declared in scheme(),
        seed in seed(),
        msg in msg(),
    ) {
        prop_assume!(signer != declared);
        let key = KeyPair::from_seed(signer, &seed);
        let pk = key.public_key();
        let sig = key.sign(&msg);
        prop_assert!(verify(declared, &pk, &msg, &sig).is_err());
        // Even with a key of the declared scheme from the same seed.
        let declared_pk = KeyPair::from_seed(declared, &seed).public_key();
        prop_assert!(verify(declared, &declared_pk, &msg, &sig).is_err());
    }

    #[test]
    fn digest_parts_is_concatenation(
        parts in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..70), 0..5),
    ) {
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let joined = parts.concat();
        for hash in [HashAlgorithm::Sm3, HashAlgorithm::Sha256, HashAlgorithm::Keccak256] {
            prop_assert_eq!(hash.digest_parts(&refs), hash.digest(&joined));
        }
    }
}
