//! [`StateProof`]: a self-contained inclusion / non-inclusion proof.

use jmt::proof::SparseMerkleProof;
use jmt::{KeyHash, RootHash, SimpleHasher};

use crate::error::StateError;
use crate::hasher::{Sha256Hasher, Sm3Hasher};
use crate::{StateHash, StateKey};

/// Largest encoded proof [`StateProof::from_bytes`] accepts, in bytes.
pub const PROOF_LEN_MAX_BYTES: usize = 64 * 1024;
/// A 256-bit-key sparse Merkle path never has more siblings than this.
const SIBLINGS_MAX: usize = 256;

/// Proof that a key has a given value (inclusion) or no value (non-inclusion) under a root.
///
/// Field for field the same borsh layout as jmt's `SparseMerkleProof` (which is generic over
/// the hasher and has private node types), so conversion is a borsh re-encode. The hash
/// suite is not inside the proof: the verifier supplies it from the chain's configuration.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct StateProof {
    /// The leaf found on the key's path: the key itself (inclusion), another key sharing the
    /// path (non-inclusion), or none (non-inclusion: empty subtree).
    leaf: Option<ProofLeaf>,
    /// Siblings from the bottom of the path up to the root.
    siblings: Vec<ProofNode>,
}

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
struct ProofLeaf {
    key_hash: [u8; 32],
    value_hash: [u8; 32],
}

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
enum ProofNode {
    Null,
    Internal { left: [u8; 32], right: [u8; 32] },
    Leaf(ProofLeaf),
}

impl StateProof {
    pub(crate) fn from_jmt<H: SimpleHasher>(
        proof: &SparseMerkleProof<H>,
    ) -> Result<StateProof, StateError> {
        let bytes = borsh::to_vec(proof).map_err(|e| StateError::decode("jmt proof", e))?;
        borsh::from_slice(&bytes).map_err(|e| StateError::decode("jmt proof", e))
    }

    pub(crate) fn to_jmt<H: SimpleHasher>(&self) -> Result<SparseMerkleProof<H>, StateError> {
        borsh::from_slice(&self.to_bytes()).map_err(|e| StateError::decode("state proof", e))
    }

    /// Number of sibling hashes on the path (the proof's depth in bits).
    pub fn siblings_len(&self) -> usize {
        self.siblings.len()
    }

    /// Checks the proof against `root` for `key` having `value` (`None`: absent).
    pub fn verify(
        &self,
        hash: StateHash,
        root: &RootHash32,
        key: &StateKey,
        value: Option<&[u8]>,
    ) -> Result<(), StateError> {
        match hash {
            StateHash::Sm3 => self.verify_with::<Sm3Hasher>(root, key, value),
            StateHash::Sha256 => self.verify_with::<Sha256Hasher>(root, key, value),
        }
    }

    fn verify_with<H: SimpleHasher>(
        &self,
        root: &RootHash32,
        key: &StateKey,
        value: Option<&[u8]>,
    ) -> Result<(), StateError> {
        if self.siblings.len() > SIBLINGS_MAX {
            return Err(StateError::ProofInvalid {
                reason: format!("{} siblings > {SIBLINGS_MAX}", self.siblings.len()),
            });
        }
        self.to_jmt::<H>()?
            .verify(RootHash(*root), KeyHash(*key), value)
            .map_err(|e| StateError::ProofInvalid {
                reason: format!("{e:#}"),
            })
    }

    /// Canonical borsh encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("borsh encoding into a Vec cannot fail")
    }

    /// Decodes [`StateProof::to_bytes`] output. Rejects inputs over [`PROOF_LEN_MAX_BYTES`],
    /// trailing bytes and paths deeper than 256 siblings.
    pub fn from_bytes(bytes: &[u8]) -> Result<StateProof, StateError> {
        if bytes.len() > PROOF_LEN_MAX_BYTES {
            return Err(StateError::decode(
                "state proof",
                format!("{} bytes > {PROOF_LEN_MAX_BYTES}", bytes.len()),
            ));
        }
        // `from_slice` fails on trailing bytes.
        let proof: StateProof =
            borsh::from_slice(bytes).map_err(|e| StateError::decode("state proof", e))?;
        if proof.siblings.len() > SIBLINGS_MAX {
            return Err(StateError::decode(
                "state proof",
                format!("{} siblings > {SIBLINGS_MAX}", proof.siblings.len()),
            ));
        }
        Ok(proof)
    }
}

/// Alias used in signatures to keep `RootHash` (ours) distinct from `jmt::RootHash`.
type RootHash32 = crate::RootHash;
