//! Quorum certificates, timeout certificates, and commit proofs checkable from the validator
//! set alone.

use borsh::{BorshDeserialize, BorshSerialize};
use keel_types::{Address, Hash};

use crate::Round;
use crate::crypto::Crypto;
use crate::error::{CertificateError, ConsensusError};
use crate::messages::{
    BlockMeta, CommitInfo, MAX_SIGNATURE_BYTES, VoteData, timeout_signing_bytes,
};
use crate::validators::ValidatorSet;

/// One validator's signature in a QC.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ValidatorSignature {
    /// Signer.
    pub validator: Address,
    /// Signature over the vote's signing bytes.
    pub signature: Vec<u8>,
}

/// 2f+1 signatures over the same [`VoteData`], ordered by signer address.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct QuorumCert {
    /// The certified vote data.
    pub vote: VoteData,
    /// Signatures, strictly increasing by validator address.
    pub signatures: Vec<ValidatorSignature>,
}

impl QuorumCert {
    /// A QC over `vote` from collected signatures (a map keeps them sorted and distinct by
    /// validator, as the certificate requires). Does not check the quorum or the signatures.
    pub fn from_votes(
        vote: VoteData,
        signatures: &std::collections::BTreeMap<keel_types::Address, Vec<u8>>,
    ) -> QuorumCert {
        QuorumCert {
            vote,
            signatures: signatures
                .iter()
                .map(|(validator, signature)| ValidatorSignature {
                    validator: *validator,
                    signature: signature.clone(),
                })
                .collect(),
        }
    }

    /// The unsigned round-0 QC every chain starts from, certifying the genesis block.
    pub fn genesis(genesis_id: Hash) -> QuorumCert {
        QuorumCert::genesis_at(genesis_id, 0)
    }

    /// The unsigned round-0 QC of an epoch whose genesis block is at `height` (ADR 0011).
    pub fn genesis_at(genesis_id: Hash, height: u64) -> QuorumCert {
        QuorumCert {
            vote: VoteData {
                block: BlockMeta {
                    id: genesis_id,
                    parent_id: Hash::ZERO,
                    height,
                },
                round: 0,
                parent_round: 0,
                commit: None,
            },
            signatures: Vec::new(),
        }
    }

    /// Round of the certified block.
    pub fn round(&self) -> Round {
        self.vote.round
    }

    /// Verifies a signed (non-genesis) QC against the validator set.
    pub fn verify(
        &self,
        validators: &ValidatorSet,
        crypto: &impl Crypto,
    ) -> Result<(), CertificateError> {
        self.vote
            .check()
            .map_err(|reason| CertificateError::Malformed { reason })?;
        let signers: Vec<Address> = self.signatures.iter().map(|s| s.validator).collect();
        check_signers(validators, &signers)?;
        let msg = self.vote.signing_bytes(validators.chain_id());
        for s in &self.signatures {
            if s.signature.len() > MAX_SIGNATURE_BYTES
                || !crypto.verify(&s.validator, &msg, &s.signature)
            {
                return Err(CertificateError::BadSignature {
                    signer: s.validator,
                });
            }
        }
        Ok(())
    }
}

/// One validator's signed timeout inside a TC, with the round of its high QC.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TimeoutSignature {
    /// Signer.
    pub validator: Address,
    /// Round of the signer's high QC when it timed out.
    pub high_qc_round: Round,
    /// Signature over `timeout_signing_bytes(round, high_qc_round)`.
    pub signature: Vec<u8>,
}

/// 2f+1 timeouts for the same round (DiemBFT-v4 TC with `tmo_high_qc_rounds`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TimeoutCert {
    /// The round that timed out.
    pub round: Round,
    /// Signed timeouts, strictly increasing by validator address.
    pub signatures: Vec<TimeoutSignature>,
}

impl TimeoutCert {
    /// `max(tc.tmo_high_qc_rounds)`: a proposal after this TC must carry a QC at least this
    /// high (DiemBFT-v4 Safety.safe_to_extend).
    pub fn max_high_qc_round(&self) -> Round {
        self.signatures
            .iter()
            .map(|s| s.high_qc_round)
            .max()
            .unwrap_or(0)
    }

    /// Verifies the TC against the validator set.
    pub fn verify(
        &self,
        validators: &ValidatorSet,
        crypto: &impl Crypto,
    ) -> Result<(), CertificateError> {
        if self.round == 0 {
            return Err(CertificateError::Malformed {
                reason: "timeout certificate for round 0",
            });
        }
        if self
            .signatures
            .iter()
            .any(|s| s.high_qc_round >= self.round)
        {
            return Err(CertificateError::Malformed {
                reason: "high QC round not below the timed-out round",
            });
        }
        let signers: Vec<Address> = self.signatures.iter().map(|s| s.validator).collect();
        check_signers(validators, &signers)?;
        for s in &self.signatures {
            let msg = timeout_signing_bytes(validators.chain_id(), self.round, s.high_qc_round);
            if s.signature.len() > MAX_SIGNATURE_BYTES
                || !crypto.verify(&s.validator, &msg, &s.signature)
            {
                return Err(CertificateError::BadSignature {
                    signer: s.validator,
                });
            }
        }
        Ok(())
    }
}

/// Cheap structural checks before any signature is verified: canonical order, no duplicates,
/// only validators, at least a quorum.
fn check_signers(validators: &ValidatorSet, signers: &[Address]) -> Result<(), CertificateError> {
    if signers.len() > validators.len() {
        return Err(CertificateError::TooManySigners {
            got: signers.len(),
            validators: validators.len(),
        });
    }
    for pair in signers.windows(2) {
        if pair[0] == pair[1] {
            return Err(CertificateError::DuplicateSigner { signer: pair[0] });
        }
        if pair[0] > pair[1] {
            return Err(CertificateError::UnsortedSigners);
        }
    }
    if let Some(signer) = signers.iter().find(|s| !validators.contains(s)) {
        return Err(CertificateError::UnknownSigner { signer: *signer });
    }
    if signers.len() < validators.quorum() {
        return Err(CertificateError::TooFewSigners {
            got: signers.len(),
            need: validators.quorum(),
        });
    }
    Ok(())
}

/// Proof that a block is committed: the QC of its child B' whose votes name it in
/// [`VoteData::commit`] (2-chain rule: B'.round == B.round + 1). Anyone holding the validator
/// set can check it with [`verify_commit`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CommitProof {
    /// QC of the committing child.
    pub qc: QuorumCert,
}

impl CommitProof {
    /// The block this proof commits, if it is a commit proof at all.
    pub fn committed(&self) -> Option<CommitInfo> {
        self.qc.vote.commit
    }
}

/// Checks that `proof` commits `block_id` at `height` under `validators`: 2f+1 distinct
/// validators signed a vote whose commit decision names exactly this block.
pub fn verify_commit(
    validators: &ValidatorSet,
    crypto: &impl Crypto,
    proof: &CommitProof,
    height: u64,
    block_id: &Hash,
) -> Result<(), ConsensusError> {
    let expected = CommitInfo {
        height,
        block_id: *block_id,
    };
    if proof.qc.vote.commit != Some(expected) {
        return Err(ConsensusError::CommitMismatch {
            height,
            block_id: *block_id,
            proven_height: proof.qc.vote.commit.map_or(0, |c| c.height),
            proven_id: proof.qc.vote.commit.map(|c| c.block_id),
        });
    }
    proof.qc.verify(validators, crypto)?;
    Ok(())
}
