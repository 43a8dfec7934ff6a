//! What goes into the state machine ([`Input`]) and what comes out ([`Effect`]).

use keel_types::{Address, Hash};

use crate::Round;
use crate::certificates::{CommitProof, QuorumCert, TimeoutCert};
use crate::error::RejectReason;
use crate::messages::{BlockMeta, CommitInfo, ConsensusMessage, Proposal};
use crate::safety::SafetyState;

/// An event the host feeds to [`crate::Consensus::handle`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A decoded message from the network (authenticated here by its signature, not by the
    /// link it arrived on).
    Message(ConsensusMessage),
    /// The timer armed by [`Effect::ScheduleTimeout`] for `round` fired.
    Timeout {
        /// Round the timer was armed for.
        round: Round,
    },
    /// Answer to [`Effect::ProposeRequest`]: the host built `block` on the requested parent.
    PayloadReady {
        /// Round of the request.
        round: Round,
        /// The new block (`parent_id`/`height` as requested).
        block: BlockMeta,
    },
    /// Answer to [`Effect::ValidateBlock`].
    BlockValidated {
        /// The validated block.
        id: Hash,
        /// Whether its body is valid (signatures, nonces, limits, execution).
        valid: bool,
    },
}

/// Something the host must do. Perform the effects of one call **in order** (see the crate
/// docs' ordering contract).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Make this safety state durable (fsync) before performing any later effect.
    PersistSafety(SafetyState),
    /// Send to every other validator (best effort; loss is tolerated).
    Broadcast(ConsensusMessage),
    /// Arm (replacing any earlier) the round timer: after `after_ms` feed
    /// `Input::Timeout { round }`.
    ScheduleTimeout {
        /// Round the timer is for.
        round: Round,
        /// Delay in milliseconds.
        after_ms: u64,
    },
    /// This node leads `round`: build a block on `parent` and answer `Input::PayloadReady`.
    ProposeRequest {
        /// Round to propose in.
        round: Round,
        /// Parent block (certified by `qc`).
        parent: BlockMeta,
        /// QC the proposal will carry.
        qc: QuorumCert,
        /// TC the proposal will carry, if the round was entered by timeout.
        tc: Option<TimeoutCert>,
    },
    /// Validate the body of the proposed block and answer `Input::BlockValidated`. The node
    /// votes only after a `valid: true` answer.
    ValidateBlock {
        /// The proposal (the host matches it with the body received alongside).
        proposal: Proposal,
    },
    /// Blocks are final. `blocks` is the chain this node knows ending at `committed`,
    /// ascending; if `blocks` is empty or starts above the host's last committed height + 1,
    /// the host fetches the missing ancestors by block sync (following `parent_id` links).
    Commit {
        /// The newly committed head.
        committed: CommitInfo,
        /// Known newly committed blocks, ascending, ending at `committed`.
        blocks: Vec<BlockMeta>,
        /// Certificate anyone can check with [`crate::verify_commit`].
        proof: CommitProof,
    },
    /// An input was refused; the state is unchanged. Log and count it.
    Rejected {
        /// Claimed author of the rejected message (`None` for host inputs).
        from: Option<Address>,
        /// Why.
        reason: RejectReason,
    },
}

/// Snapshot for operators: answers "why is this node not progressing".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusStatus {
    /// Current round.
    pub round: Round,
    /// Leader of the current round.
    pub leader: Address,
    /// Highest round voted or timed out in (persisted).
    pub highest_voted_round: Round,
    /// Lock: highest QC round among blocks voted for (persisted).
    pub highest_qc_round: Round,
    /// Round of the highest QC known.
    pub high_qc_round: Round,
    /// Round of the TC that started the current round, if it was entered by timeout.
    pub last_tc_round: Option<Round>,
    /// Committed height.
    pub committed_height: u64,
    /// Committed block.
    pub committed_block_id: Hash,
    /// Proposal of the current round received (or made), if any.
    pub current_proposal: Option<Hash>,
    /// Whether this node voted in the current round.
    pub voted_current_round: bool,
    /// Whether this node timed out the current round.
    pub timed_out_current_round: bool,
    /// Validators whose vote for the current round arrived.
    pub votes_collected: Vec<Address>,
    /// Validators whose vote for the current round is missing.
    pub votes_missing: Vec<Address>,
    /// Validators whose timeout for the current round arrived.
    pub timeouts_collected: Vec<Address>,
    /// Uncommitted blocks held.
    pub pending_blocks: usize,
    /// Rounds with pending votes held.
    pub vote_rounds_held: usize,
    /// Rounds with pending timeouts held.
    pub timeout_rounds_held: usize,
}
