//! Ethereum transaction vectors: ethereum/tests TransactionTests (decode, validity and sender of
//! every case), the curated valid transactions (hash and sender) and the EIP-155 example.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_evm::ethtx::{self, EthTxError};
use keel_types::{HashAlgorithm, Payload};
use revm::primitives::hardfork::SpecId;
use std::path::{Path, PathBuf};

/// `shared/vectors` next to the repository (or next to an ancestor, for worktrees).
fn vectors() -> PathBuf {
    let mut dir = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    loop {
        let candidate = dir.join("shared/vectors");
        if candidate.is_dir() {
            return candidate;
        }
        assert!(
            dir.pop(),
            "no shared/vectors above {}",
            env!("CARGO_MANIFEST_DIR")
        );
    }
}

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).unwrap()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

/// Valid Ethereum vectors whose gas price / fee cap does not fit 128 bits (alloy's fee type).
/// (Each has a gas price or max fee of 31 bytes.)
const UNREPRESENTABLE: &[&str] = &[
    "V_equals38",
    "GasLimitPriceProductOverflowtMinusOne",
    "TransactionWithHighGasPrice",
];

/// Every TransactionTests case, judged under its newest listed fork (Cancun, else Shanghai,
/// else London): an expected exception must be rejected, a valid case must decode, recover the
/// published sender and hash to the published hash.
#[test]
fn transaction_tests_every_case() {
    let mut files = Vec::new();
    walk(
        &vectors().join("ethereum-tests/TransactionTests"),
        &mut files,
    );
    assert!(files.len() >= 200, "only {} files", files.len());
    let (mut valid, mut invalid, mut unrepresentable) = (0, 0, 0);
    let mut failures = Vec::new();
    for f in files {
        for (name, case) in json(&f).as_object().unwrap() {
            let raw_hex = case["txbytes"].as_str().unwrap();
            let raw = hex::decode(raw_hex.trim_start_matches("0x"));
            let results = case["result"].as_object().unwrap();
            let (fork, spec) = [
                ("Cancun", SpecId::CANCUN),
                ("Shanghai", SpecId::SHANGHAI),
                ("London", SpecId::LONDON),
            ]
            .into_iter()
            .find(|(f, _)| results.contains_key(*f))
            .unwrap_or_else(|| panic!("{name}: no recent fork"));
            let expect = &results[fork];
            let got = raw
                .as_ref()
                .map_err(|e| EthTxError::Decode(e.to_string()))
                .and_then(|raw| ethtx::validate(raw, 1, spec));
            if UNREPRESENTABLE.contains(&name.as_str()) {
                // Valid in Ethereum, but a fee field exceeds 128 bits: alloy (and Keel, whose
                // balances are 128-bit) cannot represent it. Must be rejected as such.
                assert!(expect.get("exception").is_none(), "{name}");
                assert!(matches!(got, Err(EthTxError::Decode(_))), "{name}: {got:?}");
                assert!(raw_hex.contains("9f"), "{name}: no 31-byte field");
                unrepresentable += 1;
            } else if let Some(exc) = expect.get("exception") {
                if got.is_ok() {
                    failures.push(format!("{name} ({fork}): expected {exc}, accepted"));
                }
                invalid += 1;
            } else {
                let v = match got {
                    Ok(v) => v,
                    Err(e) => {
                        failures.push(format!("{name} ({fork}): rejected: {e:?}"));
                        continue;
                    }
                };
                assert_eq!(
                    format!("0x{}", hex::encode(v.hash)),
                    expect["hash"].as_str().unwrap(),
                    "{name} hash"
                );
                assert_eq!(
                    v.sender.to_string().to_lowercase(),
                    expect["sender"].as_str().unwrap().to_lowercase(),
                    "{name} sender"
                );
                // alloy's own recovery agrees with Keel's (libsecp256k1).
                let alloy = ethtx::recover_sender_alloy(&v.envelope).unwrap();
                assert_eq!(alloy.0.0, v.sender.0, "{name} alloy sender");
                if let Some(g) = expect.get("intrinsicGas").and_then(|g| g.as_str()) {
                    let g = u64::from_str_radix(g.trim_start_matches("0x"), 16).unwrap();
                    assert_eq!(v.intrinsic_gas, g, "{name} intrinsic gas");
                }
                valid += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(valid + invalid + unrepresentable, 210);
    assert_eq!(unrepresentable, UNREPRESENTABLE.len());
    assert_eq!(valid + unrepresentable, 50, "valid cases");
}

/// The curated index: 50 ethereum/tests valid transactions and 4 execution-apis raw
/// transactions, with hash and sender; the Keel envelope hashes like Ethereum.
#[test]
fn curated_valid_transactions() {
    let doc = json(&vectors().join("ethereum-tests/curated_valid_transactions.json"));
    let mut n = 0;
    for (list, sender_field) in [
        ("ethereum_tests", "expected_sender"),
        ("execution_apis", "derived_sender"),
    ] {
        for case in doc[list].as_array().unwrap() {
            if UNREPRESENTABLE.contains(&case["name"].as_str().unwrap_or_default()) {
                n += 1;
                continue;
            }
            let raw = unhex(case["txbytes"].as_str().unwrap());
            let env = ethtx::decode(&raw).unwrap();
            let key = ethtx::recover_key(&env).unwrap();
            let sender = ethtx::sender_of_key(&key).unwrap();
            assert_eq!(
                sender.to_string().to_lowercase(),
                case[sender_field].as_str().unwrap().to_lowercase()
            );
            let hash = HashAlgorithm::Keccak256.digest(&raw);
            assert_eq!(
                format!("0x{}", hex::encode(hash)),
                case["expected_hash"].as_str().unwrap()
            );
            // Keel's envelope (for txs with a chain id) hashes to the Ethereum hash under any
            // suite and verifies.
            if let Some(chain) = ethtx::chain_id(&env)
                && let Ok(stx) = ethtx::envelope(&raw, chain)
            {
                assert_eq!(stx.hash(HashAlgorithm::Sm3).0, hash);
                assert!(ethtx::verify_envelope(&stx));
                assert_eq!(stx.sender(keel_types::Suite::Gm).unwrap(), sender);
            }
            n += 1;
        }
    }
    assert_eq!(n, 54);
}

#[test]
fn eip155_example() {
    let doc = json(&vectors().join("eips/eip155_example.json"));
    let raw = unhex(doc["signed_tx"].as_str().unwrap());
    let stx = ethtx::envelope(&raw, 1).unwrap();
    assert_eq!(stx.tx.nonce, 9);
    assert_eq!(stx.tx.chain_id, 1);
    assert_eq!(stx.tx.gas_limit, 21_000);
    assert!(ethtx::verify_envelope(&stx));
    assert_eq!(
        stx.sender(keel_types::Suite::Intl)
            .unwrap()
            .to_string()
            .to_lowercase(),
        doc["derived_not_in_eip"]["sender"].as_str().unwrap()
    );
    assert_eq!(
        format!("0x{}", hex::encode(stx.hash(HashAlgorithm::Sha256).0)),
        doc["derived_not_in_eip"]["tx_hash"].as_str().unwrap()
    );
    let env = ethtx::decode(&raw).unwrap();
    assert_eq!(
        format!("0x{}", hex::encode(env.signature_hash())),
        doc["signing_hash"].as_str().unwrap()
    );
    let f = ethtx::fields(&raw).unwrap();
    assert_eq!(f.v, 37);
    // Wrong chain, tampered envelope and a pre-EIP-155 transaction are refused.
    assert!(matches!(
        ethtx::envelope(&raw, 2),
        Err(EthTxError::WrongChainId { .. })
    ));
    let mut bad = stx.clone();
    bad.tx.nonce += 1;
    assert!(!ethtx::verify_envelope(&bad));
    let mut bad = stx.clone();
    bad.tx.expires_at_height = 5;
    assert!(!ethtx::verify_envelope(&bad));
    if let Payload::Ethereum { raw } = &mut bad.tx.payload {
        raw[20] ^= 1;
    }
    bad.tx.expires_at_height = u64::MAX;
    assert!(!ethtx::verify_envelope(&bad));
}

#[test]
fn pre_eip155_legacy_is_refused_by_the_envelope() {
    // The largest accepted raw transaction still has an envelope within MAX_TX_BYTES.
    let big = vec![0u8; keel_evm::ethtx::MAX_RAW_BYTES + 1];
    assert!(matches!(
        ethtx::envelope(&big, 1),
        Err(EthTxError::TooLarge(_))
    ));
    let doc = json(&vectors().join("ethereum-tests/curated_valid_transactions.json"));
    let mut seen = false;
    for case in doc["ethereum_tests"].as_array().unwrap() {
        if UNREPRESENTABLE.contains(&case["name"].as_str().unwrap()) {
            continue;
        }
        let raw = unhex(case["txbytes"].as_str().unwrap());
        if raw.len() <= keel_evm::ethtx::MAX_RAW_BYTES
            && ethtx::chain_id(&ethtx::decode(&raw).unwrap()).is_none()
        {
            assert_eq!(ethtx::envelope(&raw, 1), Err(EthTxError::NoChainId));
            seen = true;
        }
    }
    assert!(seen);
}
