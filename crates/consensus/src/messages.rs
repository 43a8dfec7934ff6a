//! Wire messages (`Proposal`, `Vote`, `Timeout`) and exactly what each signature covers.
//!
//! Every signature covers `domain ‖ chain_id (u64 BE) ‖ borsh(content)`, with a distinct
//! domain per message kind, so a signature can never be replayed as another kind or on
//! another chain.

use borsh::{BorshDeserialize, BorshSerialize};
use keel_types::codec;
use keel_types::{Address, Hash};

use crate::Round;
use crate::certificates::{QuorumCert, TimeoutCert};
use crate::crypto::Crypto;
use crate::error::ConsensusError;

/// Upper bound of an encoded [`ConsensusMessage`]: a proposal with a QC and a TC of
/// `MAX_VALIDATORS` signatures each fits with room to spare.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Upper bound of one signature (SM2/Ed25519: 64, secp256k1: 65).
pub const MAX_SIGNATURE_BYTES: usize = 96;

const VOTE_DOMAIN: &[u8] = b"KEEL/CONSENSUS/VOTE/v1\0";
const PROPOSAL_DOMAIN: &[u8] = b"KEEL/CONSENSUS/PROPOSAL/v1\0";
const TIMEOUT_DOMAIN: &[u8] = b"KEEL/CONSENSUS/TIMEOUT/v1\0";

/// What consensus knows about a block: the host owns the body and computes `id`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct BlockMeta {
    /// Block id (the host's header hash).
    pub id: Hash,
    /// Parent block id.
    pub parent_id: Hash,
    /// Height: parent height + 1; genesis is 0.
    pub height: u64,
}

/// The block a vote commits if its QC forms (DiemBFT-v4 LedgerCommitInfo).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct CommitInfo {
    /// Height of the committed block.
    pub height: u64,
    /// Id of the committed block.
    pub block_id: Hash,
}

/// What a vote signs (DiemBFT-v4 VoteInfo + LedgerCommitInfo): the voted block, its round,
/// its parent's round, and the commit the 2-chain rule implies once 2f+1 sign it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct VoteData {
    /// The voted block (its `parent_id` is the parent).
    pub block: BlockMeta,
    /// Round the block was proposed in.
    pub round: Round,
    /// Round of the parent (= round of the QC the block carries).
    pub parent_round: Round,
    /// `Some(parent)` iff `round == parent_round + 1` (and the parent is not genesis).
    pub commit: Option<CommitInfo>,
}

impl VoteData {
    /// DiemBFT-v4 Safety.make_vote's VoteInfo / LedgerCommitInfo for `proposal`
    /// (commit_state_id_candidate: the parent commits iff the rounds are consecutive).
    pub fn for_proposal(proposal: &Proposal) -> VoteData {
        let parent = &proposal.qc.vote;
        let commit =
            (proposal.round == parent.round + 1 && parent.round > 0).then_some(CommitInfo {
                height: parent.block.height,
                block_id: parent.block.id,
            });
        VoteData {
            block: proposal.block,
            round: proposal.round,
            parent_round: parent.round,
            commit,
        }
    }

    /// The commit decision that follows from the rounds and parent link.
    pub(crate) fn expected_commit(&self) -> Option<CommitInfo> {
        (self.round == self.parent_round + 1 && self.parent_round > 0).then_some(CommitInfo {
            height: self.block.height.saturating_sub(1),
            block_id: self.block.parent_id,
        })
    }

    /// Structural checks any honestly produced vote passes.
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if self.round == 0 || self.block.height == 0 {
            return Err("vote for round 0 or height 0");
        }
        if self.parent_round >= self.round {
            return Err("parent round not below block round");
        }
        if self.commit != self.expected_commit() {
            return Err("commit decision does not follow the 2-chain rule");
        }
        Ok(())
    }

    /// Bytes a validator signs for this vote.
    pub fn signing_bytes(&self, chain_id: u64) -> Vec<u8> {
        signing_bytes(VOTE_DOMAIN, chain_id, self)
    }
}

/// A signed vote, broadcast to every validator.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Vote {
    /// What is voted for.
    pub data: VoteData,
    /// Voter.
    pub author: Address,
    /// Signature over [`VoteData::signing_bytes`].
    pub signature: Vec<u8>,
}

impl Vote {
    /// Signs `data` as `crypto.me()`.
    pub fn sign(data: VoteData, chain_id: u64, crypto: &impl Crypto) -> Vote {
        let signature = crypto.sign(&data.signing_bytes(chain_id));
        Vote {
            data,
            author: crypto.me(),
            signature,
        }
    }
}

/// A leader's block proposal for `round`, justified by `qc` (and `tc` after a timeout).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Proposal {
    /// The proposed block.
    pub block: BlockMeta,
    /// Proposal round.
    pub round: Round,
    /// QC certifying the parent block.
    pub qc: QuorumCert,
    /// TC of `round - 1`, present iff `round != qc round + 1`.
    pub tc: Option<TimeoutCert>,
    /// The leader.
    pub author: Address,
    /// Signature over [`Proposal::signing_bytes`].
    pub signature: Vec<u8>,
}

impl Proposal {
    /// Builds and signs a proposal as `crypto.me()`.
    pub fn sign(
        block: BlockMeta,
        round: Round,
        qc: QuorumCert,
        tc: Option<TimeoutCert>,
        chain_id: u64,
        crypto: &impl Crypto,
    ) -> Proposal {
        let mut proposal = Proposal {
            block,
            round,
            qc,
            tc,
            author: crypto.me(),
            signature: Vec::new(),
        };
        proposal.signature = crypto.sign(&proposal.signing_bytes(chain_id));
        proposal
    }

    /// Bytes the leader signs: everything but the signature.
    pub fn signing_bytes(&self, chain_id: u64) -> Vec<u8> {
        signing_bytes(
            PROPOSAL_DOMAIN,
            chain_id,
            &(&self.block, &self.round, &self.qc, &self.tc, &self.author),
        )
    }
}

/// A validator gives up on `round` (DiemBFT-v4 TimeoutMsg with TimeoutInfo).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TimeoutMsg {
    /// The round timed out.
    pub round: Round,
    /// The sender's highest QC; only its round is signed (DIP-201 TimeoutSigningRepr).
    pub high_qc: QuorumCert,
    /// The TC that brought the sender into `round`, if any (lets laggards catch up).
    pub last_round_tc: Option<TimeoutCert>,
    /// Sender.
    pub author: Address,
    /// Signature over [`timeout_signing_bytes`]`(round, high_qc round)`.
    pub signature: Vec<u8>,
}

impl TimeoutMsg {
    /// Builds and signs a timeout as `crypto.me()`.
    pub fn sign(
        round: Round,
        high_qc: QuorumCert,
        last_round_tc: Option<TimeoutCert>,
        chain_id: u64,
        crypto: &impl Crypto,
    ) -> TimeoutMsg {
        let signature = crypto.sign(&timeout_signing_bytes(chain_id, round, high_qc.vote.round));
        TimeoutMsg {
            round,
            high_qc,
            last_round_tc,
            author: crypto.me(),
            signature,
        }
    }
}

/// Bytes signed by a timeout for `round` whose sender's high QC has `high_qc_round`; the same
/// bytes verify the entries of a [`TimeoutCert`].
pub fn timeout_signing_bytes(chain_id: u64, round: Round, high_qc_round: Round) -> Vec<u8> {
    signing_bytes(TIMEOUT_DOMAIN, chain_id, &(round, high_qc_round))
}

fn signing_bytes(domain: &[u8], chain_id: u64, content: &impl BorshSerialize) -> Vec<u8> {
    let mut bytes = domain.to_vec();
    bytes.extend_from_slice(&chain_id.to_be_bytes());
    bytes.extend_from_slice(&codec::encode(content));
    bytes
}

/// Everything validators send each other about consensus.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ConsensusMessage {
    /// A leader's proposal.
    Proposal(Proposal),
    /// A vote.
    Vote(Vote),
    /// A timeout.
    Timeout(TimeoutMsg),
}

impl ConsensusMessage {
    /// Canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// Bounded decode: refuses more than [`MAX_MESSAGE_BYTES`], trailing bytes and unknown
    /// tags. Never panics.
    pub fn decode(bytes: &[u8]) -> Result<ConsensusMessage, ConsensusError> {
        Ok(codec::decode(
            "consensus message",
            bytes,
            MAX_MESSAGE_BYTES,
        )?)
    }

    /// Claimed author (authenticated only after signature verification).
    pub fn author(&self) -> Address {
        match self {
            ConsensusMessage::Proposal(p) => p.author,
            ConsensusMessage::Vote(v) => v.author,
            ConsensusMessage::Timeout(t) => t.author,
        }
    }

    /// Round the message is about.
    pub fn round(&self) -> Round {
        match self {
            ConsensusMessage::Proposal(p) => p.round,
            ConsensusMessage::Vote(v) => v.data.round,
            ConsensusMessage::Timeout(t) => t.round,
        }
    }
}
