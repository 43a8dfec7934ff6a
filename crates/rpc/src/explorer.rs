//! Read-only methods for explorers and the web UI: `keel_getTxProof` (RFC 6962 audit path of a
//! transaction in its block, with the encoded header, so a browser can check it alone) and
//! `keel_validators` (every genesis validator and observer with link state and last signed
//! height).

use crate::error::RpcError;
use keel_crypto::HashAlgorithm;
use keel_node::Node;
use keel_types::{Address, Hash, merkle};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Newest blocks whose certificates `keel_validators` scans for each validator's last signature.
pub const SIGNATURE_SCAN_BLOCKS: u64 = 64;

/// Domain prefix of a header hash: `hash = H(HEADER_HASH_DOMAIN ‖ borsh(header))` (as in
/// `keel_types::Header::hash`; a test keeps the two equal).
pub(crate) const HEADER_HASH_DOMAIN: &[u8] = b"KEEL/HEADER/v1\0";

/// Run `keel_getTxProof` (listed in [`crate::METHODS`]); `None` for any other method.
/// `keel_validators` needs the server's [`SignedCache`]: see [`validators`].
pub(crate) fn dispatch(
    node: &Node,
    method: &str,
    params: &Value,
) -> Option<Result<Value, RpcError>> {
    match method {
        "keel_getTxProof" => Some(tx_proof(node, params)),
        _ => None,
    }
}

/// Last height each member signed a certificate among the newest [`SIGNATURE_SCAN_BLOCKS`],
/// as of one head. Kept per server and advanced block by block, so `keel_validators` decodes
/// each block once instead of 64 blocks per call (×100 per batch).
#[derive(Debug, Default)]
pub(crate) struct SignedCache {
    inner: std::sync::Mutex<Option<Scan>>,
}

#[derive(Clone, Debug)]
struct Scan {
    head: Hash,
    height: u64,
    from: u64,
    last_signed: BTreeMap<Address, u64>,
}

impl SignedCache {
    /// The scan at the node's head: the cached one, advanced over new blocks if needed.
    fn at_head(&self, node: &Node) -> Result<Scan, RpcError> {
        let head = node.head();
        let from = head.height.saturating_sub(SIGNATURE_SCAN_BLOCKS - 1).max(1);
        let mut cached = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = cached.as_ref().filter(|s| s.head == head.hash) {
            return Ok(s.clone());
        }
        // Reuse a scan of an older head of the same chain; rescan everything otherwise.
        let mut scan = match cached.take() {
            Some(s)
                if s.height < head.height && node.chain().height_of(&s.head)? == Some(s.height) =>
            {
                s
            }
            _ => Scan {
                head: Hash::ZERO,
                height: from.saturating_sub(1),
                from,
                last_signed: BTreeMap::new(),
            },
        };
        for h in scan.height.max(from - 1) + 1..=head.height {
            let Some(b) = node.chain().block(h)? else {
                continue;
            };
            for s in &b.certificate.signatures {
                scan.last_signed.insert(s.validator, h);
            }
        }
        scan.last_signed.retain(|_, h| *h >= from);
        scan.head = head.hash;
        scan.height = head.height;
        scan.from = from;
        *cached = Some(scan.clone());
        Ok(scan)
    }
}

fn tx_proof(node: &Node, params: &Value) -> Result<Value, RpcError> {
    let what = "keel_getTxProof param 1: expected a 0x-prefixed 32-byte hex hash";
    let hash: Hash = match params {
        Value::Array(a) if a.len() == 1 => a[0]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| RpcError::invalid_params(what))?,
        _ => return Err(RpcError::invalid_params(what)),
    };
    let alg = node.suite().hash();
    let Some(loc) = node.tx_location(&hash)? else {
        return Ok(Value::Null);
    };
    let Some(block) = node.chain().block(loc.height)? else {
        return Ok(Value::Null);
    };
    let index = loc.index as usize;
    let Some(tx) = block.transactions.get(index) else {
        return Err(RpcError::internal(format!(
            "index of tx {hash} points past the end of block {}",
            loc.height
        )));
    };
    let leaves: Vec<Hash> = block
        .transactions
        .iter()
        .map(|t| merkle::leaf_hash(alg, &t.hash(alg).0))
        .collect();
    let path = audit_path(alg, &leaves, index);
    let header = block.header.encode();
    Ok(json!({
        "txHash": hash,
        "hashAlgorithm": alg.name(),
        "height": loc.height,
        "index": loc.index,
        "txCount": leaves.len(),
        "auditPath": path,
        "txRoot": block.header.tx_root,
        "rawTx": format!("0x{}", hex::encode(tx.encode())),
        "header": format!("0x{}", hex::encode(header)),
        "headerHash": block.hash(alg),
        "headerHashDomain": format!("0x{}", hex::encode(HEADER_HASH_DOMAIN)),
    }))
}

/// RFC 6962 audit path (`PATH(m, D[n])`, RFC 9162 §2.1.3.1) of leaf `m` over already-hashed
/// leaves, ordered from the leaf up. Empty for a single leaf or an out-of-range index.
pub fn audit_path(alg: HashAlgorithm, leaves: &[Hash], m: usize) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 || m >= n {
        return Vec::new();
    }
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    if m < k {
        let mut p = audit_path(alg, &leaves[..k], m);
        p.push(merkle::root_from_leaf_hashes(alg, &leaves[k..]));
        p
    } else {
        let mut p = audit_path(alg, &leaves[k..], m - k);
        p.push(merkle::root_from_leaf_hashes(alg, &leaves[..k]));
        p
    }
}

/// Verify an audit path (RFC 9162 §2.1.3.2): the same algorithm the web UI runs in JS.
#[cfg(test)]
pub(crate) fn verify_audit_path(
    alg: HashAlgorithm,
    leaf: Hash,
    index: usize,
    size: usize,
    path: &[Hash],
    root: &Hash,
) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s, mut r) = (index, size - 1, leaf);
    for p in path {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = merkle::node_hash(alg, p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = merkle::node_hash(alg, &r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// `keel_validators`.
pub(crate) fn validators(
    node: &Node,
    cache: &SignedCache,
    params: &Value,
) -> Result<Value, RpcError> {
    match params {
        Value::Null => {}
        Value::Array(a) if a.is_empty() => {}
        _ => return Err(RpcError::invalid_params("keel_validators takes no params")),
    }
    let scan = cache.at_head(node)?;
    let (last_signed, from) = (scan.last_signed, scan.from);
    let head = node.head();
    let me = node.validator_address();
    let bft = node.counters.bft();
    let genesis = node.genesis();
    let leader = bft
        .as_ref()
        .and_then(|b| b.consensus.as_ref())
        .map(|c| c.leader);
    let own_cert_expiry = node.counters.certificates().and_then(|c| {
        c.certs
            .iter()
            .filter(|e| !e.cert.starts_with("root"))
            .map(|e| e.not_after_secs)
            .min()
    });
    let entry = |v: &keel_ledger::GenesisValidator, role: &str| {
        let peer = bft
            .as_ref()
            .and_then(|b| b.peers.iter().find(|p| p.address == v.address));
        let online = if v.address == me {
            Some(node.halted().is_none())
        } else {
            peer.map(|p| p.connected)
        };
        let signed = last_signed.get(&v.address).copied();
        json!({
            "name": v.name,
            "address": v.address,
            "role": role,
            "scheme": v.scheme,
            "isSelf": v.address == me,
            "online": online,
            "lastError": peer.and_then(|p| p.last_error.clone()),
            "isLeader": leader == Some(v.address),
            "lastSignedHeight": signed,
            "lag": signed.map(|h| head.height - h),
            // Earliest notAfter on the member's certificate chain (ms), with certificate
            // admission: this node's own chain, or the chain a peer presented on its link.
            "certificateExpiry": if v.address == me { own_cert_expiry } else {
                peer.and_then(|p| p.cert_not_after_secs)
            }.map(|s| s.saturating_mul(1000)),
        })
    };
    let mut out: Vec<Value> = genesis
        .validators
        .iter()
        .map(|v| entry(v, "validator"))
        .collect();
    out.extend(genesis.observers.iter().map(|v| entry(v, "observer")));
    Ok(json!({
        "height": head.height,
        "scannedBlocks": head.height + 1 - from.min(head.height + 1),
        "self": me,
        "members": out,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_paths_verify_for_every_size_and_index_and_fail_when_tampered() {
        for alg in [HashAlgorithm::Sm3, HashAlgorithm::Sha256] {
            for n in 1..=17usize {
                let leaves: Vec<Hash> = (0..n)
                    .map(|i| merkle::leaf_hash(alg, &[i as u8; 32]))
                    .collect();
                let root = merkle::root_from_leaf_hashes(alg, &leaves);
                for m in 0..n {
                    let path = audit_path(alg, &leaves, m);
                    assert!(
                        verify_audit_path(alg, leaves[m], m, n, &path, &root),
                        "n={n} m={m}"
                    );
                    // Wrong leaf, wrong index, wrong size or a flipped sibling must fail.
                    let other = leaves[(m + 1) % n];
                    if n > 1 {
                        assert!(!verify_audit_path(alg, other, m, n, &path, &root));
                        assert!(!verify_audit_path(
                            alg,
                            leaves[m],
                            (m + 1) % n,
                            n,
                            &path,
                            &root
                        ));
                        let mut bad = path.clone();
                        bad[0].0[0] ^= 1;
                        assert!(!verify_audit_path(alg, leaves[m], m, n, &bad, &root));
                    }
                    // (The tree size is bound by the header's tx count, which the caller uses.)
                }
            }
        }
    }

    #[test]
    fn header_hash_domain_matches_the_header_hash() {
        let h = keel_types::Header {
            chain_id: 7,
            height: 3,
            parent_hash: Hash([1; 32]),
            timestamp_ms: 99,
            tx_root: Hash([2; 32]),
            receipts_root: Hash([3; 32]),
            state_root: Hash([4; 32]),
            proposer: keel_types::Address([5; 20]),
            tx_count: 1,
            gas_used: 21_000,
        };
        for alg in [HashAlgorithm::Sm3, HashAlgorithm::Sha256] {
            let ours = Hash(alg.digest_parts(&[HEADER_HASH_DOMAIN, &h.encode()]));
            assert_eq!(ours, h.hash(alg));
        }
    }

    #[test]
    fn audit_path_matches_the_block_tx_root() {
        let alg = HashAlgorithm::Sm3;
        let tx_hashes: Vec<Hash> = (0..5u8).map(|i| Hash([i; 32])).collect();
        let root = keel_types::Block::tx_root(alg, &tx_hashes);
        let leaves: Vec<Hash> = tx_hashes
            .iter()
            .map(|h| merkle::leaf_hash(alg, &h.0))
            .collect();
        for m in 0..5 {
            let path = audit_path(alg, &leaves, m);
            assert!(verify_audit_path(alg, leaves[m], m, 5, &path, &root));
        }
    }
}
