//! What must hold on every step, and how a violation is reported.

use std::collections::BTreeMap;
use std::fmt;

use keel_consensus::{RejectReason, Round, VoteData};
use keel_types::{Address, Hash};

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Two honest nodes committed different blocks at one height.
    Agreement {
        /// Height.
        height: u64,
        /// Block committed first.
        first: Hash,
        /// Conflicting block.
        second: Hash,
        /// Node that committed `second`.
        node: usize,
    },
    /// An honest node committed a block whose body is invalid.
    Validity {
        /// Node.
        node: usize,
        /// Height.
        height: u64,
        /// Block.
        block: Hash,
    },
    /// A commit's proof does not verify against the validator set.
    Certificate {
        /// Node.
        node: usize,
        /// Height.
        height: u64,
        /// Why.
        error: String,
    },
    /// A commit does not extend the node's committed chain (parent link or height gap).
    Continuity {
        /// Node.
        node: usize,
        /// Height where the chain breaks.
        height: u64,
        /// What is wrong.
        detail: String,
    },
    /// An honest node signed two different votes in one round (e.g. forgot its vote across
    /// a restart).
    DoubleSign {
        /// Node.
        node: usize,
        /// Round.
        round: Round,
    },
    /// An honest node's message was rejected by another honest node for a reason honest
    /// messages never have.
    HonestRejected {
        /// Receiving node.
        node: usize,
        /// Why.
        reason: RejectReason,
    },
    /// After GST some honest node did not commit enough new blocks in time.
    Progress {
        /// Node.
        node: usize,
        /// Its committed height at GST.
        height_at_gst: u64,
        /// Its committed height at the deadline.
        height_at_deadline: u64,
    },
    /// The run hit the step bound.
    StepBound {
        /// Steps processed.
        steps: u64,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// Global record checked by the invariants.
#[derive(Debug, Default)]
pub(crate) struct Checker {
    /// First block any honest node committed at each height.
    committed: BTreeMap<u64, Hash>,
    /// Vote data each honest validator signed, per round.
    honest_votes: BTreeMap<(Address, Round), VoteData>,
}

impl Checker {
    pub(crate) fn record_commit(
        &mut self,
        node: usize,
        height: u64,
        block: Hash,
    ) -> Result<(), Violation> {
        match self.committed.get(&height) {
            Some(first) if *first != block => Err(Violation::Agreement {
                height,
                first: *first,
                second: block,
                node,
            }),
            Some(_) => Ok(()),
            None => {
                self.committed.insert(height, block);
                Ok(())
            }
        }
    }

    pub(crate) fn record_honest_vote(
        &mut self,
        node: usize,
        author: Address,
        data: &VoteData,
    ) -> Result<(), Violation> {
        match self.honest_votes.get(&(author, data.round)) {
            Some(first) if first != data => Err(Violation::DoubleSign {
                node,
                round: data.round,
            }),
            Some(_) => Ok(()),
            None => {
                self.honest_votes.insert((author, data.round), data.clone());
                Ok(())
            }
        }
    }

    pub(crate) fn highest_agreed(&self) -> u64 {
        self.committed.keys().next_back().copied().unwrap_or(0)
    }
}

/// Reasons an honest author's message is never rejected for.
pub(crate) fn impossible_for_honest(reason: &RejectReason) -> bool {
    matches!(
        reason,
        RejectReason::Malformed { .. }
            | RejectReason::UnknownValidator { .. }
            | RejectReason::WrongLeader { .. }
            | RejectReason::BadSignature { .. }
            | RejectReason::InvalidCertificate(_)
            | RejectReason::UnjustifiedProposal { .. }
            | RejectReason::BadParentLink { .. }
            | RejectReason::Equivocation { .. }
            | RejectReason::InvalidBlock { .. }
    )
}
