//! The commit certificate codec (ADR 0006, ADR 0011): a block's [`CommitCertificate`] carries
//! the consensus commit proof (vote data and quorum signatures), for an epoch-ending block
//! possibly through an empty suffix of descendants; the consensus signing domain of each epoch.
//! Shared by the ledger (certificate checks) and the host's BFT driver (building certificates).

use crate::LedgerError;
use borsh::{BorshDeserialize, BorshSerialize};
use keel_consensus::{CommitProof, Crypto, QuorumCert, ValidatorSignature};
use keel_crypto::Scheme;
use keel_types::{Address, CommitCertificate, CommitSignature, Hash, Header, codec};
use std::collections::BTreeMap;

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
pub fn commit_proof(cert: &CommitCertificate) -> Result<CommitProof, LedgerError> {
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
) -> Result<(keel_consensus::VoteData, Vec<Header>), LedgerError> {
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

/// A signature checker over an epoch's validator keys, for [`keel_consensus::verify_commit`]:
/// the ledger checks certificates without holding any key, so it never signs.
#[derive(Debug)]
pub(crate) struct CertVerifier {
    public_keys: BTreeMap<Address, (Scheme, Vec<u8>)>,
}

impl CertVerifier {
    /// `validators`: address, scheme and encoded public key of each validator.
    pub fn new(validators: Vec<(Address, Scheme, Vec<u8>)>) -> CertVerifier {
        CertVerifier {
            public_keys: validators
                .into_iter()
                .map(|(a, scheme, pk)| (a, (scheme, pk)))
                .collect(),
        }
    }
}

impl Crypto for CertVerifier {
    fn me(&self) -> Address {
        Address::ZERO
    }

    /// Never called by certificate verification; a verifier has no key.
    fn sign(&self, _msg: &[u8]) -> Vec<u8> {
        Vec::new()
    }

    fn verify(&self, signer: &Address, msg: &[u8], sig: &[u8]) -> bool {
        self.public_keys
            .get(signer)
            .is_some_and(|(scheme, key)| keel_crypto::verify(*scheme, key, msg, sig).is_ok())
    }
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
