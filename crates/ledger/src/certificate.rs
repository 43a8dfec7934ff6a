//! The commit certificate codec (ADR 0006, ADR 0011): a block's [`CommitCertificate`] carries
//! the consensus commit proof (vote data and quorum signatures), for an epoch-ending block
//! possibly through an empty suffix of descendants; the consensus signing domain of each epoch.
//! Shared by the ledger (certificate checks in `verify.rs`) and the host's BFT driver (building
//! certificates). Pure: it knows nothing of the ledger.

use crate::LedgerError;
use borsh::{BorshDeserialize, BorshSerialize};
use keel_consensus::{CommitProof, QuorumCert, ValidatorSignature};
use keel_types::{Address, CodecError, CommitCertificate, CommitSignature, Hash, Header, codec};

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

/// Rebuild the consensus commit proof stored in a block certificate (for an epoch-ending block
/// it may prove a descendant reached over empty blocks, see ADR 0011).
pub fn commit_proof(cert: &CommitCertificate) -> Result<CommitProof, CodecError> {
    let (vote, _suffix) = decode_vote(cert)?;
    Ok(CommitProof {
        qc: QuorumCert {
            vote,
            signatures: cert
                .signatures
                .iter()
                .map(|s| ValidatorSignature {
                    validator: s.validator,
                    signature: s.signature.clone(),
                })
                .collect(),
        },
    })
}

pub fn certificate_of(proof: &CommitProof) -> CommitCertificate {
    certificate_with_suffix(proof, Vec::new())
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
pub fn decode_vote(
    cert: &CommitCertificate,
) -> Result<(keel_consensus::VoteData, Vec<Header>), CodecError> {
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
            _ => Err(e),
        },
    }
}

/// A certificate for `proof` carrying `suffix` (possibly empty: then plain vote data).
pub fn certificate_with_suffix(
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
pub fn check_suffix(
    alg: keel_crypto::HashAlgorithm,
    block: &Header,
    hash: &Hash,
    suffix: &[Header],
) -> Result<(u64, Hash), CertificateError> {
    let (mut height, mut id) = (block.height, *hash);
    for h in suffix {
        if h.parent_hash != id || h.height != height + 1 {
            return Err(CertificateError::SuffixUnlinked(h.height));
        }
        if h.tx_count != 0 || h.state_root != block.state_root {
            return Err(CertificateError::SuffixNotEmpty(h.height));
        }
        height = h.height;
        id = h.hash(alg);
    }
    Ok((height, id))
}

/// Why a block's commit certificate does not prove it.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// The vote data or suffix proof does not decode.
    #[error("certificate vote data: {0}")]
    Encoding(#[from] CodecError),
    /// The validator set of the block's epoch could not be read (not a verdict on the block).
    #[error("certificate epoch: {0}")]
    Epoch(#[from] Box<LedgerError>),
    /// A suffix header does not extend the previous one.
    #[error("suffix header {0} does not link")]
    SuffixUnlinked(u64),
    /// A suffix block carries transactions or changes the state.
    #[error("suffix block {0} is not empty")]
    SuffixNotEmpty(u64),
    /// The quorum certificate does not verify against the epoch's validator set.
    #[error("commit proof: {0}")]
    Commit(#[from] keel_consensus::ConsensusError),
    /// A solo certificate is signed by a non-validator.
    #[error("certificate signer {0} is not a validator")]
    UnknownSigner(Address),
    /// A solo certificate signature does not verify.
    #[error("certificate signature of {validator}: {source}")]
    Signature {
        /// Signer.
        validator: Address,
        /// Cause.
        source: keel_crypto::CryptoError,
    },
    /// A solo certificate lists a signer twice.
    #[error("certificate lists {0} twice")]
    DuplicateSigner(Address),
    /// Too few signatures.
    #[error("certificate has {signatures} signatures, quorum is {quorum}")]
    NoQuorum {
        /// Distinct valid signatures.
        signatures: usize,
        /// Needed.
        quorum: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_consensus::{BlockMeta, CommitInfo, VoteData};
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
}
