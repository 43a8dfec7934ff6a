//! The web UI's in-browser crypto (`crates/rpc/ui/hash.js`) agrees with the Rust code: SM3
//! against the GB/T 32905 vectors, SM3 and SHA-256 against `keel-crypto` on many lengths (also
//! streamed), RFC 6962 audit paths from [`keel_rpc::audit_path`] (valid and tampered), header
//! hashes and decoding, and evidence transaction decoding. Runs `node tests/browser/hash_check.mjs`.
//! Without Node.js the test fails when `CI` is set and is skipped (loudly) otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{HashAlgorithm, KeyPair, Scheme};
use keel_types::{
    Address, ContentHashAlg, EvidencePut, Hash, Header, Payload, Signer, Transaction, merkle,
};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared vectors: `../shared/vectors` beside the repository (as scripts/test.sh requires),
/// or `KEEL_VECTORS_DIR` when the checkout lives elsewhere.
fn vectors() -> PathBuf {
    std::env::var_os("KEEL_VECTORS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/vectors"))
}

fn node_available() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn hx(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

fn signed(payload: Payload, key: &KeyPair) -> keel_types::SignedTransaction {
    Transaction {
        chain_id: 9,
        nonce: 4,
        expires_at_height: 77,
        gas_limit: 50_000,
        signer: Signer {
            scheme: key.scheme(),
            public_key: key.public_key(),
        },
        payload,
    }
    .sign(key)
}

#[test]
fn js_hashing_and_proof_code_matches_rust() {
    if !node_available() {
        if std::env::var_os("CI").is_some() {
            panic!("Node.js (`node`) is required for the web UI tests in CI; install nodejs");
        }
        eprintln!(
            "\n*** SKIPPING js_hashing_and_proof_code_matches_rust: `node` is not installed ***\n"
        );
        return;
    }
    let algs = [
        (HashAlgorithm::Sm3, "sm3"),
        (HashAlgorithm::Sha256, "sha256"),
    ];
    let mut digests = Vec::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in [
        0usize, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 70_001,
    ] {
        let msg: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for (alg, name) in algs {
            digests
                .push(json!({ "alg": name, "msgHex": hx(&msg), "digest": hx(&alg.digest(&msg)) }));
        }
    }
    let mut paths = Vec::new();
    for (alg, name) in algs {
        for n in [1usize, 2, 3, 5, 8, 13] {
            let leaves: Vec<Hash> = (0..n)
                .map(|i| merkle::leaf_hash(alg, &[i as u8; 32]))
                .collect();
            let root = merkle::root_from_leaf_hashes(alg, &leaves);
            for m in 0..n {
                let path: Vec<String> = keel_rpc::audit_path(alg, &leaves, m)
                    .iter()
                    .map(|h| hx(&h.0))
                    .collect();
                let case = |leaf: &Hash, index: usize, root: &Hash, valid: bool| {
                    json!({ "alg": name, "leaf": hx(&leaf.0), "index": index, "size": n,
                            "path": path, "root": hx(&root.0), "valid": valid })
                };
                paths.push(case(&leaves[m], m, &root, true));
                let mut bad_root = root;
                bad_root.0[31] ^= 1;
                paths.push(case(&leaves[m], m, &bad_root, false));
                if n > 1 {
                    paths.push(case(&leaves[(m + 1) % n], m, &root, false));
                }
            }
        }
    }
    let header = Header {
        chain_id: 1001,
        height: 123_456_789_012,
        parent_hash: Hash([7; 32]),
        timestamp_ms: 1_764_000_000_123,
        tx_root: Hash([8; 32]),
        receipts_root: Hash([9; 32]),
        state_root: Hash([10; 32]),
        proposer: Address([11; 20]),
        tx_count: 4_000_000_000,
        gas_used: u64::MAX,
    };
    let headers: Vec<Value> = algs
        .iter()
        .map(|(alg, name)| {
            json!({
                "hex": hx(&header.encode()), "hash": hx(&header.hash(*alg).0), "alg": name,
                "domainHex": hx(b"KEEL/HEADER/v1\0"),
                "fields": { "chainId": 1001, "height": "123456789012", "timestampMs": "1764000000123",
                            "txRoot": hx(&[8; 32]), "proposer": hx(&[11; 20]), "txCount": 4_000_000_000u64,
                            "gasUsed": u64::MAX.to_string() },
            })
        })
        .collect();
    let key = KeyPair::from_seed(Scheme::Sm2, &[5; 32]);
    let ev = signed(
        Payload::EvidencePut(EvidencePut {
            content_hash: Hash([0xab; 32]),
            hash_alg: ContentHashAlg::Sm3,
            size: 12_345,
            media_type: "text/plain".into(),
            metadata: "{\"case\":\"合同\"}".into(),
        }),
        &key,
    );
    let transfer = signed(
        Payload::Transfer {
            to: Address([1; 20]),
            amount: 5,
        },
        &key,
    );
    let txs = json!([
        { "hex": hx(&ev.encode()), "evidence": { "contentHash": hx(&[0xab; 32]), "hashAlg": "sm3",
          "size": 12345, "mediaType": "text/plain", "metadata": "{\"case\":\"合同\"}", "nonce": 4, "chainId": 9 } },
        { "hex": hx(&transfer.encode()), "evidence": null },
    ]);
    let cases = json!({
        "sm3Vectors": vectors().join("gm-standards/sm3_gbt32905.json"),
        "digests": digests, "paths": paths, "headers": headers, "txs": txs,
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cases.json");
    std::fs::write(&file, cases.to_string()).unwrap();
    let out = Command::new("node")
        .arg(repo().join("tests/browser/hash_check.mjs"))
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "hash_check.mjs failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every case was checked.
    let n: usize = stdout
        .trim()
        .strip_prefix("ok ")
        .and_then(|s| s.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 2 * 14 * 2 + 100, "only {n} checks ran: {stdout}");
}
