//! Shared helpers for the integration tests: vector loading and hex.
// Test-only helpers: a panic here is a test failure with a clear location, which is what we
// want (clippy's allow-unwrap-in-tests covers #[test] functions, not helper modules).
#![allow(dead_code, clippy::unwrap_used)]

pub mod sm2_ref;

use std::path::PathBuf;

/// Path of a file under the shared vectors directory (`../shared/vectors` from the repo root,
/// or `../../shared/vectors` when the checkout is a worktree one level deeper).
pub fn vector_path(relative: &str) -> PathBuf {
    let beside = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/"
    ));
    let above = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../../shared/vectors/"
    ));
    if beside.is_dir() || !above.is_dir() {
        beside.join(relative)
    } else {
        above.join(relative)
    }
}

pub fn read_vector(relative: &str) -> String {
    let path = vector_path(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub fn json_vector(relative: &str) -> serde_json::Value {
    serde_json::from_str(&read_vector(relative)).unwrap()
}

pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.trim().trim_start_matches("0x")).unwrap()
}

pub fn unhex32(s: &str) -> [u8; 32] {
    unhex(s).try_into().unwrap()
}

pub fn hex_field(v: &serde_json::Value, key: &str) -> Vec<u8> {
    unhex(
        v[key]
            .as_str()
            .unwrap_or_else(|| panic!("missing field {key}")),
    )
}

/// Records of a NIST-style `KEY = value` file (pyca format), one map per `COUNT` block.
pub fn nist_records(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut records = Vec::new();
    let mut current = std::collections::BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('[') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim().to_owned();
        if key == "COUNT" && !current.is_empty() {
            records.push(std::mem::take(&mut current));
        }
        current.insert(key, value.trim().to_owned());
    }
    if !current.is_empty() {
        records.push(current);
    }
    records
}
