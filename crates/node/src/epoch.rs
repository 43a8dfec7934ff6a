//! Epochs for the BFT driver (ADR 0011): which consensus instance runs, built from the
//! committed head's epoch state; the epoch-tagged persisted safety state; the "epoch-ending
//! block" test used for the empty suffix rule.

use crate::driver::commit_proof;
use crate::pipeline::ExecutedBlock;
use crate::{Node, NodeError};
use borsh::{BorshDeserialize, BorshSerialize};
use keel_consensus::{
    CommitInfo, Config, Consensus, KeelCrypto, PacemakerConfig, Recovery, SafetyState,
};
use keel_types::{CommitCertificate, CommitSignature, Hash, Header, codec};

/// The id bound into every consensus signature of `epoch` (the consensus core signs over its
/// `ValidatorSet::chain_id`): the chain id in epoch 0, a hash of chain id and epoch after, so a
/// vote or timeout of one epoch can never be replayed into another (rounds restart at 1).
pub fn consensus_domain(alg: keel_crypto::HashAlgorithm, chain_id: u64, epoch: u64) -> u64 {
    if epoch == 0 {
        return chain_id;
    }
    let d = alg.digest_parts(&[
        b"keel/consensus-epoch/v1",
        &chain_id.to_be_bytes(),
        &epoch.to_be_bytes(),
    ]);
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b)
}

/// The persisted safety state, tagged with its epoch (a new epoch starts from a fresh state).
#[derive(BorshSerialize, BorshDeserialize)]
struct EpochSafety {
    epoch: u64,
    safety: Vec<u8>,
}

/// Encode a safety state for `epoch`.
pub(crate) fn encode_safety(epoch: u64, s: &SafetyState) -> Vec<u8> {
    codec::encode(&EpochSafety {
        epoch,
        safety: s.encode(),
    })
}

/// The consensus instance of the committed head's epoch (`None` when this node is not one of
/// its validators), its epoch number and quorum size.
pub(crate) struct EpochConsensus {
    pub(crate) epoch: u64,
    pub(crate) quorum: usize,
    pub(crate) consensus: Option<Consensus<KeelCrypto>>,
}

/// Build the consensus for the committed head's epoch from durable state (restart-safe).
pub(crate) fn build(node: &Node, pacemaker: PacemakerConfig) -> Result<EpochConsensus, NodeError> {
    let epoch = node.epoch()?;
    let (validators, crypto) = node.consensus_parts_for(&epoch)?;
    let quorum = validators.quorum();
    let head = node.head();
    let (genesis_id, genesis_height) = if epoch.start_height == 0 {
        (node.genesis_hash, 0)
    } else {
        let h = node.chain().header(epoch.start_height)?.ok_or_else(|| {
            NodeError::Invariant(format!("epoch start block {} missing", epoch.start_height))
        })?;
        (h.hash(node.suite().hash()), epoch.start_height)
    };
    let safety = stored_safety(
        node.load_safety()?.as_deref(),
        epoch.epoch,
        genesis_id,
        genesis_height,
    )?;
    let high_qc = if head.height > genesis_height {
        node.chain()
            .block(head.height)?
            .and_then(|b| {
                (!b.certificate.vote.is_empty())
                    .then(|| commit_proof(&b.certificate).ok())
                    .flatten()
            })
            .map(|p| p.qc)
    } else {
        None
    };
    let recovery = Recovery {
        safety,
        committed: CommitInfo {
            height: head.height,
            block_id: head.hash,
        },
        high_qc,
    };
    let config = Config {
        validators,
        genesis_id,
        genesis_height,
        pacemaker,
    };
    let consensus = if node.is_validator() {
        Some(
            Consensus::new(config, crypto, recovery)
                .map_err(|e| NodeError::Invariant(format!("consensus: {e}")))?,
        )
    } else {
        None
    };
    Ok(EpochConsensus {
        epoch: epoch.epoch,
        quorum,
        consensus,
    })
}

/// The safety state to start `epoch` from, given the stored bytes. A state that does not decode
/// is never replaced by a fresh one: that could sign a second vote in a round this node already
/// voted in (security review finding 14), so it is a [`NodeError::CorruptSafetyState`].
fn stored_safety(
    stored: Option<&[u8]>,
    epoch: u64,
    genesis_id: Hash,
    genesis_height: u64,
) -> Result<SafetyState, NodeError> {
    let corrupt = |reason: String| NodeError::CorruptSafetyState { epoch, reason };
    let Some(b) = stored else {
        return Ok(SafetyState::genesis_at(genesis_id, genesis_height));
    };
    match codec::decode::<EpochSafety>("epoch safety state", b, 64 * 1024) {
        Ok(es) if es.epoch == epoch => {
            SafetyState::decode(&es.safety).map_err(|e| corrupt(e.to_string()))
        }
        // Left over from an earlier epoch: this one starts fresh.
        Ok(es) if es.epoch < epoch => Ok(SafetyState::genesis_at(genesis_id, genesis_height)),
        Ok(es) => Err(corrupt(format!("tagged with the later epoch {}", es.epoch))),
        // Written before epochs existed: epoch 0.
        Err(_) if epoch == 0 => SafetyState::decode(b).map_err(|e| corrupt(e.to_string())),
        Err(e) => Err(corrupt(e.to_string())),
    }
}

/// Whether executing this block changed the validator set (it ends its epoch: only empty
/// blocks may follow it in the same epoch, and they are never committed).
pub(crate) fn ends_epoch(node: &Node, b: &ExecutedBlock) -> bool {
    let key = keel_execution::governance::epoch_key(node.suite().hash());
    b.delta.written(&key).is_some()
}

/// Whether any block of `chain` ends its epoch.
pub(crate) fn any_ends_epoch(node: &Node, chain: &[&ExecutedBlock]) -> bool {
    chain.iter().any(|b| ends_epoch(node, b))
}

/// Id of the block that started the current epoch (for logs).
pub(crate) fn start_id(node: &Node) -> Option<Hash> {
    let e = node.epoch().ok()?;
    node.chain()
        .header(e.start_height)
        .ok()
        .flatten()
        .map(|h| h.hash(node.suite().hash()))
}

/// Most empty suffix headers carried by an epoch-ending block's certificate.
pub const MAX_SUFFIX_HEADERS: usize = 64;
/// Bound of an encoded [`SuffixProof`].
const MAX_SUFFIX_PROOF_BYTES: usize = 64 * 1024;
/// Bound of encoded vote data.
const MAX_VOTE_BYTES: usize = 4096;

/// The `vote` field of a certificate that proves a block through a committed descendant
/// reached over empty blocks: the epoch-ending block `h` when consensus committed a later block
/// of its empty suffix (ADR 0011). `suffix` are the headers from `h + 1` to the proven block.
/// Unambiguous with plain vote data: that decoder rejects the trailing suffix bytes.
#[derive(BorshSerialize, BorshDeserialize)]
struct SuffixProof {
    vote: keel_consensus::VoteData,
    suffix: Vec<Header>,
}

/// Decode a certificate's vote data and the empty suffix headers it may carry.
pub(crate) fn decode_vote(
    cert: &CommitCertificate,
) -> Result<(keel_consensus::VoteData, Vec<Header>), NodeError> {
    match codec::decode("certificate vote data", &cert.vote, MAX_VOTE_BYTES) {
        Ok(v) => Ok((v, Vec::new())),
        Err(e) => match codec::decode::<SuffixProof>(
            "certificate suffix proof",
            &cert.vote,
            MAX_SUFFIX_PROOF_BYTES,
        ) {
            Ok(p) if !p.suffix.is_empty() && p.suffix.len() <= MAX_SUFFIX_HEADERS => {
                Ok((p.vote, p.suffix))
            }
            _ => Err(e.into()),
        },
    }
}

/// A certificate for `proof` carrying `suffix` (possibly empty: then plain vote data).
pub(crate) fn certificate_with_suffix(
    proof: &keel_consensus::CommitProof,
    suffix: Vec<Header>,
) -> CommitCertificate {
    let vote = if suffix.is_empty() {
        codec::encode(&proof.qc.vote)
    } else {
        codec::encode(&SuffixProof {
            vote: proof.qc.vote.clone(),
            suffix,
        })
    };
    CommitCertificate {
        round: proof.qc.vote.round,
        signatures: proof
            .qc
            .signatures
            .iter()
            .map(|s| CommitSignature {
                validator: s.validator,
                signature: s.signature.clone(),
            })
            .collect(),
        vote,
    }
}

/// Check that `suffix` is a chain of empty, state-preserving blocks on top of `block`; returns
/// the height and id of its last block (the one the commit proof must name).
pub(crate) fn check_suffix(
    alg: keel_crypto::HashAlgorithm,
    block: &Header,
    hash: &Hash,
    suffix: &[Header],
) -> Result<(u64, Hash), String> {
    let (mut height, mut id) = (block.height, *hash);
    for h in suffix {
        if h.parent_hash != id || h.height != height + 1 {
            return Err(format!("suffix header {} does not link", h.height));
        }
        if h.tx_count != 0 || h.state_root != block.state_root {
            return Err(format!("suffix block {} is not empty", h.height));
        }
        height = h.height;
        id = h.hash(alg);
    }
    Ok((height, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_consensus::{BlockMeta, CommitProof, QuorumCert, VoteData};
    use keel_crypto::HashAlgorithm;
    use keel_types::Address;

    const ALG: HashAlgorithm = HashAlgorithm::Sm3;

    fn header(height: u64, parent: Hash, state: u8, txs: u32) -> Header {
        Header {
            chain_id: 1,
            height,
            parent_hash: parent,
            timestamp_ms: height,
            tx_root: Hash::ZERO,
            receipts_root: Hash::ZERO,
            state_root: Hash([state; 32]),
            proposer: Address::ZERO,
            tx_count: txs,
            gas_used: 0,
        }
    }

    fn proof_for(height: u64, id: Hash) -> CommitProof {
        let vote = VoteData {
            block: BlockMeta {
                id: Hash([9; 32]),
                parent_id: id,
                height: height + 1,
            },
            round: 7,
            parent_round: 6,
            commit: Some(CommitInfo {
                height,
                block_id: id,
            }),
        };
        CommitProof {
            qc: QuorumCert {
                vote,
                signatures: vec![],
            },
        }
    }

    #[test]
    fn consensus_signatures_are_bound_to_the_epoch() {
        assert_eq!(
            consensus_domain(ALG, 1001, 0),
            1001,
            "epoch 0 keeps the chain id"
        );
        let ids: std::collections::BTreeSet<u64> =
            (0..50).map(|e| consensus_domain(ALG, 1001, e)).collect();
        assert_eq!(ids.len(), 50, "every epoch signs in its own domain");
        assert_ne!(
            consensus_domain(ALG, 1001, 1),
            consensus_domain(ALG, 1002, 1)
        );
    }

    #[test]
    fn suffix_proofs_round_trip_and_link() {
        let h = header(10, Hash([1; 32]), 5, 3);
        let hh = h.hash(ALG);
        let s1 = header(11, hh, 5, 0);
        let s2 = header(12, s1.hash(ALG), 5, 0);
        let proof = proof_for(12, s2.hash(ALG));
        let cert = certificate_with_suffix(&proof, vec![s1.clone(), s2.clone()]);
        let (vote, suffix) = decode_vote(&cert).unwrap();
        assert_eq!(vote, proof.qc.vote);
        assert_eq!(suffix, vec![s1.clone(), s2.clone()]);
        assert_eq!(
            check_suffix(ALG, &h, &hh, &suffix).unwrap(),
            (12, s2.hash(ALG))
        );
        // A plain certificate has no suffix and proves the block itself.
        let plain = certificate_with_suffix(&proof_for(10, hh), vec![]);
        let (_, none) = decode_vote(&plain).unwrap();
        assert!(none.is_empty());
        assert_eq!(check_suffix(ALG, &h, &hh, &none).unwrap(), (10, hh));
        // Broken links, non-empty or state-changing suffix blocks are refused.
        let bad_link = header(12, Hash([3; 32]), 5, 0);
        assert!(check_suffix(ALG, &h, &hh, &[s1.clone(), bad_link]).is_err());
        let with_txs = header(11, hh, 5, 1);
        assert!(check_suffix(ALG, &h, &hh, &[with_txs]).is_err());
        let other_state = header(11, hh, 6, 0);
        assert!(check_suffix(ALG, &h, &hh, &[other_state]).is_err());
        // Garbage is an error, not a panic.
        let junk = CommitCertificate {
            vote: vec![1, 2, 3],
            ..CommitCertificate::default()
        };
        assert!(decode_vote(&junk).is_err());
    }

    #[test]
    fn an_unreadable_safety_state_refuses_to_start_instead_of_resetting() {
        let g = Hash([3; 32]);
        let fresh = SafetyState::genesis_at(g, 10);
        assert_eq!(stored_safety(None, 2, g, 10).unwrap(), fresh);
        let old = encode_safety(1, &SafetyState::genesis_at(Hash([1; 32]), 0));
        assert_eq!(
            stored_safety(Some(&old), 2, g, 10).unwrap(),
            fresh,
            "an earlier epoch's state is left behind"
        );
        let current = encode_safety(2, &fresh);
        assert_eq!(stored_safety(Some(&current), 2, g, 10).unwrap(), fresh);
        for bad in [vec![1u8, 2, 3], encode_safety(3, &fresh)] {
            assert!(matches!(
                stored_safety(Some(&bad), 2, g, 10),
                Err(NodeError::CorruptSafetyState { epoch: 2, .. })
            ));
        }
    }
}
