//! RFC 6962 (Certificate Transparency) Merkle Tree Hash, parameterised by the suite hash.
//!
//! `MTH({}) = H()`, `MTH({d}) = H(0x00 || d)`, `MTH(D[n]) = H(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`
//! with `k` the largest power of two smaller than `n`. Leaf and node prefixes make a leaf
//! impossible to pass off as an inner node (second-preimage resistance).

use crate::Hash;
use keel_crypto::HashAlgorithm;

/// Hash of one leaf: `H(0x00 || data)`.
pub fn leaf_hash(alg: HashAlgorithm, data: &[u8]) -> Hash {
    Hash(alg.digest_parts(&[&[0x00], data]))
}

/// Hash of an inner node: `H(0x01 || left || right)`.
pub fn node_hash(alg: HashAlgorithm, left: &Hash, right: &Hash) -> Hash {
    Hash(alg.digest_parts(&[&[0x01], &left.0, &right.0]))
}

/// Root over already-hashed leaves (`leaf_hash` of each item).
pub fn root_from_leaf_hashes(alg: HashAlgorithm, leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Hash(alg.digest(&[])),
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n);
            let left = root_from_leaf_hashes(alg, &leaves[..k]);
            let right = root_from_leaf_hashes(alg, &leaves[k..]);
            node_hash(alg, &left, &right)
        }
    }
}

/// Root over raw leaf data.
pub fn root<D: AsRef<[u8]>>(alg: HashAlgorithm, items: &[D]) -> Hash {
    let leaves: Vec<Hash> = items.iter().map(|d| leaf_hash(alg, d.as_ref())).collect();
    root_from_leaf_hashes(alg, &leaves)
}

fn largest_power_of_two_below(n: usize) -> usize {
    debug_assert!(n > 1);
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}
