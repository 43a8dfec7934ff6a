//! SM3 (GB/T 32905), SM4 (GB/T 32907) and the pyca/cryptography SM4 mode files.

// Helper functions outside #[test] unwrap too: in tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{hex_field, json_vector, nist_records, read_vector, unhex};
use keel_crypto::{HashAlgorithm, sm4};

#[test]
fn sm3_gbt32905_examples() {
    let doc = json_vector("gm-standards/sm3_gbt32905.json");
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let msg = hex_field(case, "msg_hex");
        assert_eq!(msg, case["msg_ascii"].as_str().unwrap().as_bytes());
        let expected = hex_field(case, "digest");
        assert_eq!(HashAlgorithm::Sm3.digest(&msg).to_vec(), expected);
        // digest_parts equals the hash of the concatenation, however it is split.
        for split in [0, 1, msg.len() / 2, msg.len()] {
            let (a, b) = msg.split_at(split);
            assert_eq!(HashAlgorithm::Sm3.digest_parts(&[a, b]).to_vec(), expected);
        }
    }
}

#[test]
fn sha256_and_keccak256_known_answers() {
    assert_eq!(
        hex::encode(HashAlgorithm::Sha256.digest(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        hex::encode(HashAlgorithm::Keccak256.digest(b"")),
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    );
    assert_eq!(
        HashAlgorithm::Keccak256.digest_parts(&[]),
        HashAlgorithm::Keccak256.digest(b"")
    );
}

fn sm4_cases() -> Vec<serde_json::Value> {
    json_vector("gm-standards/sm4_gbt32907.json")["cases"]
        .as_array()
        .unwrap()
        .clone()
}

fn iterate_sm4(case: &serde_json::Value) -> Vec<u8> {
    let key: [u8; 16] = hex_field(case, "key").try_into().unwrap();
    let mut block: [u8; 16] = hex_field(case, "plaintext").try_into().unwrap();
    for _ in 0..case["iterations"].as_u64().unwrap() {
        sm4::encrypt_block(&key, &mut block);
    }
    block.to_vec()
}

#[test]
fn sm4_gbt32907_example_1() {
    let cases = sm4_cases();
    let case = cases.iter().find(|c| c["iterations"] == 1).unwrap();
    assert_eq!(iterate_sm4(case), hex_field(case, "ciphertext"));
}

#[test]
#[ignore = "1M iterations; run with --release --ignored"]
fn sm4_gbt32907_example_2_one_million_iterations() {
    let cases = sm4_cases();
    let case = cases.iter().find(|c| c["iterations"] == 1_000_000).unwrap();
    assert_eq!(iterate_sm4(case), hex_field(case, "ciphertext"));
}

fn key16(s: &str) -> [u8; 16] {
    unhex(s).try_into().unwrap()
}

#[test]
fn sm4_ecb_draft_ribose() {
    let records = nist_records(&read_vector(
        "pyca-cryptography/sm4_draft-ribose-cfrg-sm4-10-ecb.txt",
    ));
    assert_eq!(records.len(), 4);
    for r in records {
        let key = key16(&r["KEY"]);
        let pt = unhex(&r["PLAINTEXT"]);
        let mut out = Vec::new();
        for chunk in pt.chunks(16) {
            let mut block: [u8; 16] = chunk.try_into().unwrap();
            sm4::encrypt_block(&key, &mut block);
            out.extend_from_slice(&block);
        }
        assert_eq!(out, unhex(&r["CIPHERTEXT"]), "COUNT {}", r["COUNT"]);
    }
}

#[test]
fn sm4_cbc_draft_ribose() {
    let records = nist_records(&read_vector(
        "pyca-cryptography/sm4_draft-ribose-cfrg-sm4-10-cbc.txt",
    ));
    assert_eq!(records.len(), 2);
    for r in records {
        let (key, iv) = (key16(&r["KEY"]), key16(&r["IV"]));
        let pt = unhex(&r["PLAINTEXT"]);
        let ct = unhex(&r["CIPHERTEXT"]);
        assert_eq!(sm4::cbc_encrypt_nopad(&key, &iv, &pt).unwrap(), ct);
        assert_eq!(sm4::cbc_decrypt_nopad(&key, &iv, &ct).unwrap(), pt);
        // With PKCS#7 the vector is a prefix (a full padding block follows).
        let padded = sm4::cbc_encrypt(&key, &iv, &pt);
        assert_eq!(&padded[..ct.len()], &ct[..]);
        assert_eq!(padded.len(), ct.len() + 16);
        assert_eq!(sm4::cbc_decrypt(&key, &iv, &padded).unwrap(), pt);
    }
}

#[test]
fn sm4_ctr_draft_ribose() {
    let records = nist_records(&read_vector(
        "pyca-cryptography/sm4_draft-ribose-cfrg-sm4-10-ctr.txt",
    ));
    assert_eq!(records.len(), 2);
    for r in records {
        let (key, iv) = (key16(&r["KEY"]), key16(&r["IV"]));
        let mut data = unhex(&r["PLAINTEXT"]);
        sm4::ctr_apply(&key, &iv, &mut data);
        assert_eq!(data, unhex(&r["CIPHERTEXT"]));
        sm4::ctr_apply(&key, &iv, &mut data);
        assert_eq!(data, unhex(&r["PLAINTEXT"]));
    }
}

#[test]
fn sm4_gcm_rfc8998() {
    let records = nist_records(&read_vector("pyca-cryptography/sm4_rfc8998_gcm.txt"));
    assert_eq!(records.len(), 1);
    for r in records {
        let key = key16(&r["KEY"]);
        let nonce: [u8; 12] = unhex(&r["IV"]).try_into().unwrap();
        let aad = unhex(&r["AAD"]);
        let pt = unhex(&r["PLAINTEXT"]);
        let expected = [unhex(&r["CIPHERTEXT"]), unhex(&r["TAG"])].concat();
        assert_eq!(sm4::gcm_seal(&key, &nonce, &aad, &pt), expected);
        assert_eq!(sm4::gcm_open(&key, &nonce, &aad, &expected).unwrap(), pt);
        let mut bad = expected.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(sm4::gcm_open(&key, &nonce, &aad, &bad).is_err());
        assert!(sm4::gcm_open(&key, &nonce, b"other aad", &expected).is_err());
    }
}

#[test]
fn aes256gcm_known_answer() {
    // NIST GCM test case 14 (McGrew & Viega): zero key, zero nonce, one zero block.
    let key = [0u8; 32];
    let nonce = [0u8; 12];
    let sealed = keel_crypto::aes256gcm::seal(&key, &nonce, b"", &[0u8; 16]);
    assert_eq!(
        hex::encode(&sealed),
        "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"
    );
    assert_eq!(
        keel_crypto::aes256gcm::open(&key, &nonce, b"", &sealed).unwrap(),
        vec![0u8; 16]
    );
    assert!(keel_crypto::aes256gcm::open(&key, &nonce, b"x", &sealed).is_err());
    assert!(keel_crypto::aes256gcm::open(&key, &nonce, b"", &sealed[..15]).is_err());
}

#[test]
fn sm4_cbc_rejects_bad_lengths_and_padding() {
    let key = [1u8; 16];
    let iv = [2u8; 16];
    assert!(sm4::cbc_encrypt_nopad(&key, &iv, &[0u8; 15]).is_err());
    assert!(sm4::cbc_decrypt_nopad(&key, &iv, &[0u8; 17]).is_err());
    assert!(sm4::cbc_decrypt(&key, &iv, &[]).is_err());
    assert!(sm4::cbc_decrypt(&key, &iv, &[0u8; 15]).is_err());
    // A block whose decryption does not end in valid PKCS#7 padding.
    let ct = sm4::cbc_encrypt_nopad(&key, &iv, &[0u8; 16]).unwrap();
    assert!(sm4::cbc_decrypt(&key, &iv, &ct).is_err());
}
