//! On-disk key layout of the state (documented in the crate docs; part of the disk format).

use jmt::KeyHash;
use jmt::storage::NodeKey;

use crate::error::StateError;

/// `Table::StateNodes` key prefix for tree nodes: `b'n' ‖ borsh(NodeKey)`.
pub(crate) const NODE_PREFIX: u8 = b'n';
/// `Table::StateNodes` key prefix for per-version roots: `b'r' ‖ version (u64 BE)`.
pub(crate) const ROOT_PREFIX: u8 = b'r';
/// `Table::StateValues` value tag: key deleted at this version.
const VALUE_TAG_TOMBSTONE: u8 = 0;
/// `Table::StateValues` value tag: followed by the value bytes.
const VALUE_TAG_PRESENT: u8 = 1;

pub(crate) fn node_key(key: &NodeKey) -> Result<Vec<u8>, StateError> {
    let mut out = vec![NODE_PREFIX];
    borsh::to_writer(&mut out, key).map_err(|e| StateError::decode("node key", e))?;
    Ok(out)
}

pub(crate) fn root_key(version: u64) -> [u8; 9] {
    let mut out = [ROOT_PREFIX; 9];
    out[1..].copy_from_slice(&version.to_be_bytes());
    out
}

pub(crate) fn version_of_root_key(key: &[u8]) -> Result<u64, StateError> {
    match key {
        [ROOT_PREFIX, rest @ ..] => rest
            .try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| StateError::decode("root key", format!("{} bytes", key.len()))),
        _ => Err(StateError::decode("root key", "wrong prefix")),
    }
}

/// `Table::StateValues` key: `key_hash (32) ‖ version (u64 BE)`, so a reverse seek from
/// `key_hash ‖ v` finds the newest write at or before version `v`.
pub(crate) fn value_key(key_hash: &KeyHash, version: u64) -> [u8; 40] {
    let mut out = [0u8; 40];
    out[..32].copy_from_slice(&key_hash.0);
    out[32..].copy_from_slice(&version.to_be_bytes());
    out
}

/// The version part of a `Table::StateValues` key.
pub(crate) fn version_of_value_key(key: &[u8]) -> Result<u64, StateError> {
    key.get(32..)
        .and_then(|v| <[u8; 8]>::try_from(v).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| StateError::decode("value key", format!("{} bytes", key.len())))
}

pub(crate) fn encode_value(value: Option<&[u8]>) -> Vec<u8> {
    match value {
        None => vec![VALUE_TAG_TOMBSTONE],
        Some(v) => {
            let mut out = Vec::with_capacity(v.len() + 1);
            out.push(VALUE_TAG_PRESENT);
            out.extend_from_slice(v);
            out
        }
    }
}

pub(crate) fn decode_value(bytes: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
    match bytes.split_first() {
        Some((&VALUE_TAG_TOMBSTONE, [])) => Ok(None),
        Some((&VALUE_TAG_PRESENT, rest)) => Ok(Some(rest.to_vec())),
        _ => Err(StateError::decode("state value", "bad tag or length")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_keys_sort_by_version_and_round_trip() {
        assert!(root_key(1) < root_key(2));
        assert!(root_key(255) < root_key(256));
        assert_eq!(
            version_of_root_key(&root_key(u64::MAX)).ok(),
            Some(u64::MAX)
        );
        assert!(version_of_root_key(b"r123").is_err());
        assert!(version_of_root_key(&[b'n'; 9]).is_err());
    }

    #[test]
    fn value_encoding_round_trips_and_rejects_garbage() {
        for v in [None, Some(&b""[..]), Some(&b"xyz"[..])] {
            let enc = encode_value(v);
            assert_eq!(decode_value(&enc).ok(), Some(v.map(<[u8]>::to_vec)));
        }
        assert!(decode_value(&[]).is_err());
        assert!(decode_value(&[0, 1]).is_err());
        assert!(decode_value(&[7]).is_err());
    }
}
