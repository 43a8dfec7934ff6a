//! Ed25519 (RFC 8032, ed25519-dalek TESTVECTORS) and secp256k1 (EIP-155 example, ethereum/tests
//! keyaddrtest) vectors.

// Helper functions outside #[test] unwrap too: in tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{hex_field, json_vector, read_vector, unhex, unhex32};
use keel_crypto::{
    HashAlgorithm, KeyPair, Scheme, VerifyItem, address_of, recover_secp256k1, verify, verify_batch,
};
use num_bigint::BigUint;

fn check_ed25519(sk: &[u8], pk: &[u8], msg: &[u8], sig: &[u8]) {
    let key = KeyPair::from_secret_bytes(Scheme::Ed25519, sk).unwrap();
    assert_eq!(key.public_key(), pk);
    assert_eq!(key.sign(msg), sig);
    verify(Scheme::Ed25519, pk, msg, sig).unwrap();
    let mut bad = sig.to_vec();
    bad[0] ^= 1;
    assert!(verify(Scheme::Ed25519, pk, msg, &bad).is_err());
}

#[test]
fn rfc8032_ed25519() {
    let doc = json_vector("rfc8032/rfc8032_ed25519.json");
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        check_ed25519(
            &hex_field(case, "secret_key"),
            &hex_field(case, "public_key"),
            &hex_field(case, "message"),
            &hex_field(case, "signature"),
        );
    }
}

/// Lines `sk‖pk:pk:msg:sig‖msg:` (SUPERCOP sign.input format).
/// (secret key, public key, message, signature).
type Line = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);

fn dalek_vectors() -> Vec<Line> {
    read_vector("ed25519-dalek/TESTVECTORS")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let parts: Vec<&str> = line.split(':').collect();
            assert_eq!(parts.len(), 5, "{line}");
            let sk_pk = unhex(parts[0]);
            let pk = unhex(parts[1]);
            let msg = unhex(parts[2]);
            let sig_msg = unhex(parts[3]);
            assert_eq!(&sk_pk[32..], &pk[..]);
            assert_eq!(&sig_msg[64..], &msg[..]);
            (sk_pk[..32].to_vec(), pk, msg, sig_msg[..64].to_vec())
        })
        .collect()
}

#[test]
fn ed25519_dalek_testvectors() {
    let vectors = dalek_vectors();
    assert_eq!(vectors.len(), 128);
    for (sk, pk, msg, sig) in &vectors {
        check_ed25519(sk, pk, msg, sig);
    }
    // The whole file as one batch, and with one signature broken.
    let items: Vec<VerifyItem<'_>> = vectors
        .iter()
        .map(|(_, pk, msg, sig)| VerifyItem {
            public_key: pk,
            message: msg,
            signature: sig,
        })
        .collect();
    verify_batch(Scheme::Ed25519, &items).unwrap();
    let mut broken = vectors[77].3.clone();
    broken[40] ^= 4;
    let mut bad_items = items.clone();
    bad_items[77].signature = &broken;
    assert!(verify_batch(Scheme::Ed25519, &bad_items).is_err());
}

fn decimal32(s: &str) -> [u8; 32] {
    let bytes = BigUint::parse_bytes(s.as_bytes(), 10)
        .unwrap()
        .to_bytes_be();
    let mut out = [0u8; 32];
    out[32 - bytes.len()..].copy_from_slice(&bytes);
    out
}

#[test]
fn eip155_example() {
    let doc = json_vector("eips/eip155_example.json");
    let secret = hex_field(&doc, "private_key");
    let key = KeyPair::from_secret_bytes(Scheme::Secp256k1, &secret).unwrap();
    let sender = hex_field(&doc["derived_not_in_eip"], "sender");
    let address = address_of(Scheme::Secp256k1, &key.public_key(), HashAlgorithm::Sm3).unwrap();
    assert_eq!(address.to_vec(), sender);

    // The signing hash is keccak256 of the signing data.
    let signing_data = hex_field(&doc, "signing_data");
    let signing_hash = unhex32(doc["signing_hash"].as_str().unwrap());
    assert_eq!(HashAlgorithm::Keccak256.digest(&signing_data), signing_hash);

    // v = chain_id * 2 + 35 + recovery id.
    let chain_id = doc["chain_id"].as_u64().unwrap();
    let v = doc["v"].as_u64().unwrap() - chain_id * 2 - 35;
    let mut signature = [0u8; 65];
    signature[..32].copy_from_slice(&decimal32(doc["r"].as_str().unwrap()));
    signature[32..64].copy_from_slice(&decimal32(doc["s"].as_str().unwrap()));
    signature[64] = u8::try_from(v).unwrap();
    let recovered = recover_secp256k1(&signing_hash, &signature).unwrap();
    assert_eq!(recovered, key.public_key());
    assert_eq!(
        address_of(Scheme::Secp256k1, &recovered, HashAlgorithm::Sha256)
            .unwrap()
            .to_vec(),
        sender
    );

    // RFC 6979 signing reproduces the EIP's r and s exactly.
    assert_eq!(
        key.sign_prehash_recoverable(&signing_hash).unwrap(),
        signature
    );
    // And the signed transaction carries them (…a0 r a0 s at the end).
    let signed_tx = hex_field(&doc, "signed_tx");
    assert_eq!(&signed_tx[signed_tx.len() - 32..], &signature[32..64]);
}

#[test]
fn ethereum_keyaddrtest() {
    let doc = json_vector("ethereum-tests/BasicTests/keyaddrtest.json");
    let cases = doc.as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let key = KeyPair::from_secret_bytes(Scheme::Secp256k1, &hex_field(case, "key")).unwrap();
        let address =
            address_of(Scheme::Secp256k1, &key.public_key(), HashAlgorithm::Sha256).unwrap();
        assert_eq!(address.to_vec(), hex_field(case, "addr"));

        // `sig_of_emptystring` is not checked: its (historical pyethereum) message convention is
        // undocumented — it recovers to this key from neither keccak256(""), sha256("") nor 0^32.
    }
}

#[test]
fn secp256k1_recovery_rejects_bad_v_and_high_s() {
    let key = KeyPair::from_seed(Scheme::Secp256k1, &[5; 32]);
    let prehash = [0x42u8; 32];
    let sig = key.sign_prehash_recoverable(&prehash).unwrap();
    assert_eq!(recover_secp256k1(&prehash, &sig).unwrap(), key.public_key());
    for v in [2u8, 27, 28, 255] {
        let mut bad = sig;
        bad[64] = v;
        assert!(matches!(
            recover_secp256k1(&prehash, &bad),
            Err(keel_crypto::CryptoError::InvalidRecoveryId { .. })
        ));
    }
    // The high-s twin (n - s, flipped v) is the same signature in ECDSA terms; it is rejected.
    let n = BigUint::parse_bytes(
        b"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",
        16,
    )
    .unwrap();
    let s = BigUint::from_bytes_be(&sig[32..64]);
    let high = (&n - s).to_bytes_be();
    let mut twin = sig;
    twin[32..64].fill(0);
    twin[64 - high.len()..64].copy_from_slice(&high);
    twin[64] ^= 1;
    assert!(recover_secp256k1(&prehash, &twin).is_err());
    // Other schemes cannot sign a prehash.
    let sm2 = KeyPair::from_seed(Scheme::Sm2, &[5; 32]);
    assert!(sm2.sign_prehash_recoverable(&prehash).is_err());
}
