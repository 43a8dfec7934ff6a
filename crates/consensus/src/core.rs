//! The state machine: `handle(input) -> Vec<Effect>`, wiring Safety, Pacemaker, BlockTree and
//! LeaderElection as in the DiemBFT-v4 main loop.
//!
//! Every handler first *checks* the input against `&self` (no mutation) and only then
//! *applies* it, so a rejected input leaves the state exactly as it was (raft-rs habit).

use keel_types::{Address, Hash};

use crate::Round;
use crate::block_tree::BlockTree;
use crate::certificates::{CommitProof, QuorumCert, TimeoutCert, TimeoutSignature};
use crate::crypto::Crypto;
use crate::error::{CertificateError, ConsensusError, RejectReason};
use crate::io::{ConsensusStatus, Effect, Input};
use crate::messages::{
    BlockMeta, CommitInfo, ConsensusMessage, MAX_SIGNATURE_BYTES, Proposal, TimeoutMsg, Vote,
    VoteData, timeout_signing_bytes,
};
use crate::pacemaker::{PacemakerConfig, TimeoutCollector};
use crate::safety::SafetyState;
use crate::validators::ValidatorSet;
use crate::votes::VoteCollector;

/// Votes and timeouts are accepted only up to this many rounds ahead of the current round
/// (and never for rounds already certified), which bounds the pending collections.
pub const ROUND_WINDOW: Round = 100;

/// Static configuration of one chain's consensus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Validators (and the chain id).
    pub validators: ValidatorSet,
    /// Id of the genesis block (certified by the unsigned round-0 QC): the chain's genesis, or
    /// for a later epoch the block that ended the previous epoch (ADR 0011).
    pub genesis_id: Hash,
    /// Height of the genesis block: 0, or the height of the previous epoch's last block.
    pub genesis_height: u64,
    /// Round timer.
    pub pacemaker: PacemakerConfig,
}

/// What the host restores from durable storage when (re)starting a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovery {
    /// Last persisted [`SafetyState`] (or [`SafetyState::genesis`] on first start).
    pub safety: SafetyState,
    /// Last committed block the host holds.
    pub committed: CommitInfo,
    /// Highest QC the host holds (e.g. the last commit proof's QC), if any.
    pub high_qc: Option<QuorumCert>,
}

impl Recovery {
    /// A brand-new node at genesis.
    pub fn genesis(genesis_id: Hash) -> Recovery {
        Recovery {
            safety: SafetyState::genesis(genesis_id),
            committed: CommitInfo {
                height: 0,
                block_id: genesis_id,
            },
            high_qc: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Validation {
    Pending,
    Valid,
    Invalid,
    Voted,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct PendingProposal {
    proposal: Proposal,
    status: Validation,
}

/// Everything but the crypto capability; `Clone + Eq` so tests can prove that rejected
/// inputs leave it unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct State {
    config: Config,
    me: Address,
    is_validator: bool,
    genesis_qc: QuorumCert,
    safety: SafetyState,
    /// Pacemaker.current_round.
    round: Round,
    /// Pacemaker.last_round_tc.
    last_round_tc: Option<TimeoutCert>,
    tree: BlockTree,
    votes: VoteCollector,
    timeouts: TimeoutCollector,
    /// The current round's proposal (cleared on every round change).
    pending: Option<PendingProposal>,
    /// Highest round for which we asked the host for a payload.
    proposal_requested: Round,
    /// Our signed timeout for the current round, re-broadcast on every timer expiry.
    my_timeout: Option<TimeoutMsg>,
}

/// One validator's (or observer's) consensus state machine. Single-threaded: the host feeds
/// inputs one at a time and performs the returned effects in order.
#[derive(Debug)]
pub struct Consensus<C> {
    crypto: C,
    s: State,
}

type Effects = Vec<Effect>;

impl<C: Crypto> Consensus<C> {
    /// Builds the state machine from recovered durable state. The node starts in round
    /// `high_qc.round + 1`, never votes at or below `recovery.safety.highest_voted_round`, and
    /// does nothing until [`Consensus::start`].
    pub fn new(config: Config, crypto: C, recovery: Recovery) -> Result<Self, ConsensusError> {
        let genesis_qc = QuorumCert::genesis_at(config.genesis_id, config.genesis_height);
        let mut high_qc = recovery.safety.high_qc.clone();
        if let Some(qc) = recovery.high_qc
            && qc.round() > high_qc.round()
        {
            high_qc = qc;
        }
        if high_qc != genesis_qc {
            high_qc.verify(&config.validators, &crypto)?;
        }
        if recovery.safety.highest_qc_round > recovery.safety.highest_voted_round {
            return Err(ConsensusError::InvalidRecovery {
                reason: "lock round above the highest voted round",
            });
        }
        let me = crypto.me();
        let s = State {
            is_validator: config.validators.contains(&me),
            me,
            genesis_qc,
            safety: recovery.safety,
            round: high_qc.round() + 1,
            last_round_tc: None,
            tree: BlockTree::new(recovery.committed, high_qc),
            votes: VoteCollector::default(),
            timeouts: TimeoutCollector::default(),
            pending: None,
            proposal_requested: 0,
            my_timeout: None,
            config,
        };
        Ok(Consensus { crypto, s })
    }

    /// Arms the first round timer and, if this node leads the round, asks for a payload.
    pub fn start(&mut self) -> Vec<Effect> {
        let mut fx = Effects::new();
        self.schedule_timer(&mut fx);
        self.maybe_propose(&mut fx);
        fx
    }

    /// Processes one input and returns the effects to perform, in order.
    pub fn handle(&mut self, input: Input) -> Vec<Effect> {
        let mut fx = Effects::new();
        let (from, result) = match input {
            Input::Message(ConsensusMessage::Proposal(p)) => {
                (Some(p.author), self.on_proposal(p, &mut fx))
            }
            Input::Message(ConsensusMessage::Vote(v)) => (Some(v.author), self.on_vote(v, &mut fx)),
            Input::Message(ConsensusMessage::Timeout(t)) => {
                (Some(t.author), self.on_timeout_msg(t, &mut fx))
            }
            Input::Timeout { round } => (None, self.on_local_timer(round, &mut fx)),
            Input::PayloadReady { round, block } => {
                (None, self.on_payload_ready(round, block, &mut fx))
            }
            Input::BlockValidated { id, valid } => {
                (None, self.on_block_validated(id, valid, &mut fx))
            }
        };
        if let Err(reason) = result {
            debug_assert!(fx.is_empty(), "a rejected input must have no other effect");
            fx.push(Effect::Rejected { from, reason });
        }
        fx
    }

    /// Operator view of the current round.
    pub fn status(&self) -> ConsensusStatus {
        let s = &self.s;
        let votes_collected = s.votes.voters(s.round);
        let votes_missing = s
            .config
            .validators
            .addresses()
            .iter()
            .filter(|a| !votes_collected.contains(a))
            .copied()
            .collect();
        ConsensusStatus {
            round: s.round,
            leader: s.config.validators.leader(s.round),
            highest_voted_round: s.safety.highest_voted_round,
            highest_qc_round: s.safety.highest_qc_round,
            high_qc_round: s.tree.high_qc().round(),
            last_tc_round: s.last_round_tc.as_ref().map(|tc| tc.round),
            committed_height: s.tree.committed().height,
            committed_block_id: s.tree.committed().block_id,
            current_proposal: s.pending.as_ref().map(|p| p.proposal.block.id),
            voted_current_round: s
                .pending
                .as_ref()
                .is_some_and(|p| p.status == Validation::Voted),
            timed_out_current_round: s.my_timeout.is_some(),
            votes_collected,
            votes_missing,
            timeouts_collected: s.timeouts.signers(s.round),
            pending_blocks: s.tree.len(),
            vote_rounds_held: s.votes.rounds_held(),
            timeout_rounds_held: s.timeouts.rounds_held(),
        }
    }

    /// The safety state as last emitted (what the host should have persisted).
    pub fn safety_state(&self) -> &SafetyState {
        &self.s.safety
    }

    /// Highest QC known.
    pub fn high_qc(&self) -> &QuorumCert {
        self.s.tree.high_qc()
    }

    // ---- proposals -------------------------------------------------------------------

    /// DiemBFT-v4 Main.process_proposal_msg.
    fn on_proposal(&mut self, p: Proposal, fx: &mut Effects) -> Result<(), RejectReason> {
        self.check_proposal(&p)?;
        // process_certificate_qc(P.block.qc); Pacemaker.advance_round_tc(P.last_round_tc)
        self.process_qc(&p.qc, fx);
        if let Some(tc) = &p.tc {
            self.process_tc(tc, fx);
        }
        debug_assert_eq!(
            self.s.round, p.round,
            "checked: the proposal's certificates lead to its round"
        );
        self.s.pending = Some(PendingProposal {
            proposal: p.clone(),
            status: Validation::Pending,
        });
        // Block-tree.execute_and_insert is the host's job: we vote only after its answer.
        fx.push(Effect::ValidateBlock { proposal: p });
        Ok(())
    }

    fn check_proposal(&self, p: &Proposal) -> Result<(), RejectReason> {
        let validators = &self.s.config.validators;
        if !validators.contains(&p.author) {
            return Err(RejectReason::UnknownValidator { author: p.author });
        }
        if p.round == 0 {
            return Err(RejectReason::Malformed {
                reason: "proposal for round 0",
            });
        }
        let leader = validators.leader(p.round);
        if p.author != leader {
            return Err(RejectReason::WrongLeader {
                round: p.round,
                author: p.author,
                leader,
            });
        }
        let parent = &p.qc.vote.block;
        if p.block.parent_id != parent.id || Some(p.block.height) != parent.height.checked_add(1) {
            return Err(RejectReason::BadParentLink { id: p.block.id });
        }
        let qc_round = p.qc.round();
        let tc_round = p.tc.as_ref().map(|tc| tc.round);
        // Safety.safe_to_vote's shape, checked on receipt: consecutive(round, qc_round) or
        // safe_to_extend(round, qc_round, tc) with the TC of exactly the previous round.
        let via_qc = qc_round.checked_add(1) == Some(p.round) && p.tc.is_none();
        let via_tc = p.tc.as_ref().is_some_and(|tc| {
            tc.round.checked_add(1) == Some(p.round) && qc_round >= tc.max_high_qc_round()
        });
        if !via_qc && !via_tc {
            return Err(RejectReason::UnjustifiedProposal {
                round: p.round,
                qc_round,
                tc_round,
            });
        }
        let current = self.round_after(qc_round, tc_round);
        if p.round < current {
            return Err(RejectReason::StaleRound {
                round: p.round,
                current,
            });
        }
        let committed = self.s.tree.committed().height;
        if p.block.height <= committed {
            return Err(RejectReason::BelowCommitted {
                height: p.block.height,
                committed,
            });
        }
        if let Some(pending) = &self.s.pending
            && pending.proposal.round == p.round
        {
            return Err(if pending.proposal == *p {
                RejectReason::Duplicate {
                    author: p.author,
                    round: p.round,
                }
            } else {
                RejectReason::Equivocation {
                    author: p.author,
                    round: p.round,
                }
            });
        }
        self.check_signature(&p.author, &p.signing_bytes(self.chain_id()), &p.signature)?;
        self.verify_qc(&p.qc)?;
        if let Some(tc) = &p.tc {
            tc.verify(validators, &self.crypto)?;
        }
        Ok(())
    }

    /// The host's verdict on the current proposal's body.
    fn on_block_validated(
        &mut self,
        id: Hash,
        valid: bool,
        fx: &mut Effects,
    ) -> Result<(), RejectReason> {
        let pending = self
            .s
            .pending
            .as_mut()
            .filter(|p| p.proposal.block.id == id && p.status == Validation::Pending)
            .ok_or(RejectReason::UnexpectedValidation { id })?;
        if !valid {
            pending.status = Validation::Invalid;
            // Not a rejection of the host's input: the *proposal* is refused; report it.
            fx.push(Effect::Rejected {
                from: Some(pending.proposal.author),
                reason: RejectReason::InvalidBlock { id },
            });
            return Ok(());
        }
        pending.status = Validation::Valid;
        let (block, round) = (pending.proposal.block, pending.proposal.round);
        self.s.tree.insert(block, round);
        self.try_vote(None, fx);
        Ok(())
    }

    /// DiemBFT-v4 Safety.make_vote on the current (validated) proposal. `prefix` (our own
    /// proposal) is sent after the safety state is persisted and before the vote.
    fn try_vote(&mut self, prefix: Option<ConsensusMessage>, fx: &mut Effects) {
        let Some(pending) = self
            .s
            .pending
            .as_mut()
            .filter(|p| p.status == Validation::Valid)
        else {
            return;
        };
        let p = &pending.proposal;
        let safe = self.s.is_validator
            && self
                .s
                .safety
                .safe_to_vote(p.round, p.qc.round(), p.tc.as_ref());
        if !safe {
            fx.extend(prefix.map(Effect::Broadcast));
            return;
        }
        let data = VoteData::for_proposal(p);
        self.s
            .safety
            .record_vote(p.round, p.qc.round(), self.s.tree.high_qc());
        pending.status = Validation::Voted;
        let vote = Vote::sign(data, self.s.config.validators.chain_id(), &self.crypto);
        // Ordering contract: persist before the vote (or our proposal) leaves.
        fx.push(Effect::PersistSafety(self.s.safety.clone()));
        fx.extend(prefix.map(Effect::Broadcast));
        fx.push(Effect::Broadcast(ConsensusMessage::Vote(vote.clone())));
        self.collect_vote(vote, fx);
    }

    /// Main.process_new_round_event: the leader asks the host for a block on its high QC.
    fn maybe_propose(&mut self, fx: &mut Effects) {
        let s = &self.s;
        let round = s.round;
        if !s.is_validator
            || s.config.validators.leader(round) != s.me
            || s.proposal_requested >= round
            || round <= s.safety.highest_voted_round
            || !self.justified(round)
        {
            return;
        }
        self.s.proposal_requested = round;
        let qc = self.s.tree.high_qc().clone();
        fx.push(Effect::ProposeRequest {
            round,
            parent: qc.vote.block,
            tc: self.tc_for_proposal(round),
            qc,
        });
    }

    /// Block-tree.generate_block: sign the host's block, vote for it, send both.
    fn on_payload_ready(
        &mut self,
        round: Round,
        block: BlockMeta,
        fx: &mut Effects,
    ) -> Result<(), RejectReason> {
        let s = &self.s;
        let parent = s.tree.high_qc().vote.block;
        let expected = round == s.round
            && s.proposal_requested == round
            && s.pending.is_none()
            && round > s.safety.highest_voted_round
            && block.parent_id == parent.id
            && Some(block.height) == parent.height.checked_add(1)
            && self.justified(round);
        if !expected {
            return Err(RejectReason::UnexpectedPayload { round });
        }
        let proposal = Proposal::sign(
            block,
            round,
            self.s.tree.high_qc().clone(),
            self.tc_for_proposal(round),
            self.chain_id(),
            &self.crypto,
        );
        self.s.tree.insert(block, round);
        self.s.pending = Some(PendingProposal {
            proposal: proposal.clone(),
            status: Validation::Valid,
        });
        self.try_vote(Some(ConsensusMessage::Proposal(proposal)), fx);
        Ok(())
    }

    /// Whether our high QC (and last TC) justify a proposal in `round`.
    fn justified(&self, round: Round) -> bool {
        let qc_round = self.s.tree.high_qc().round();
        qc_round + 1 == round
            || self
                .s
                .last_round_tc
                .as_ref()
                .is_some_and(|tc| tc.round + 1 == round && qc_round >= tc.max_high_qc_round())
    }

    fn tc_for_proposal(&self, round: Round) -> Option<TimeoutCert> {
        if self.s.tree.high_qc().round() + 1 == round {
            None
        } else {
            self.s.last_round_tc.clone()
        }
    }

    // ---- votes -----------------------------------------------------------------------

    /// Main.process_vote_msg.
    fn on_vote(&mut self, v: Vote, fx: &mut Effects) -> Result<(), RejectReason> {
        self.check_vote(&v)?;
        self.collect_vote(v, fx);
        Ok(())
    }

    fn check_vote(&self, v: &Vote) -> Result<(), RejectReason> {
        if !self.s.config.validators.contains(&v.author) {
            return Err(RejectReason::UnknownValidator { author: v.author });
        }
        v.data
            .check()
            .map_err(|reason| RejectReason::Malformed { reason })?;
        let round = v.data.round;
        if round <= self.s.tree.high_qc().round() {
            return Err(RejectReason::StaleRound {
                round,
                current: self.s.round,
            });
        }
        if round > self.s.round + ROUND_WINDOW {
            return Err(RejectReason::RoundTooFarAhead {
                round,
                current: self.s.round,
            });
        }
        let committed = self.s.tree.committed().height;
        if v.data.block.height <= committed {
            return Err(RejectReason::BelowCommitted {
                height: v.data.block.height,
                committed,
            });
        }
        self.s.votes.check(v)?;
        self.check_signature(
            &v.author,
            &v.data.signing_bytes(self.chain_id()),
            &v.signature,
        )
    }

    /// Block-tree.process_vote: on 2f+1 matching votes, process the new QC.
    fn collect_vote(&mut self, vote: Vote, fx: &mut Effects) {
        let quorum = self.s.config.validators.quorum();
        if let Some(qc) = self.s.votes.add(vote, quorum) {
            self.process_qc(&qc, fx);
        }
    }

    // ---- timeouts --------------------------------------------------------------------

    /// Main.process_timeout_msg.
    fn on_timeout_msg(&mut self, t: TimeoutMsg, fx: &mut Effects) -> Result<(), RejectReason> {
        self.check_timeout(&t)?;
        // process_certificate_qc(M.tmo_info.high_qc); Pacemaker.advance_round_tc(M.last_round_tc)
        self.process_qc(&t.high_qc, fx);
        if let Some(tc) = &t.last_round_tc {
            self.process_tc(tc, fx);
        }
        // Pacemaker.process_remote_timeout
        if t.round >= self.s.round && !self.s.timeouts.contains(t.round, &t.author) {
            let signature = TimeoutSignature {
                validator: t.author,
                high_qc_round: t.high_qc.round(),
                signature: t.signature,
            };
            self.collect_timeout(t.round, signature, fx);
            // f+1 timeouts for our round: at least one honest node gave up, so join it
            // (Pacemaker.process_remote_timeout's Bracha-style rule).
            let f = self.s.config.validators.max_faulty();
            if t.round == self.s.round
                && self.s.my_timeout.is_none()
                && self.s.timeouts.count(t.round) > f
            {
                self.local_timeout_round(fx);
            }
        }
        Ok(())
    }

    fn check_timeout(&self, t: &TimeoutMsg) -> Result<(), RejectReason> {
        if !self.s.config.validators.contains(&t.author) {
            return Err(RejectReason::UnknownValidator { author: t.author });
        }
        let qc_round = t.high_qc.round();
        let tc_round = t.last_round_tc.as_ref().map(|tc| tc.round);
        if t.round == 0 || qc_round >= t.round || tc_round.is_some_and(|r| r >= t.round) {
            return Err(RejectReason::Malformed {
                reason: "timeout certificates not below the timed-out round",
            });
        }
        let improves =
            qc_round > self.s.tree.high_qc().round() || tc_round.is_some_and(|r| r >= self.s.round);
        if !improves {
            if t.round < self.s.round {
                return Err(RejectReason::StaleRound {
                    round: t.round,
                    current: self.s.round,
                });
            }
            if self.s.timeouts.contains(t.round, &t.author) {
                return Err(RejectReason::Duplicate {
                    author: t.author,
                    round: t.round,
                });
            }
        }
        let current = self.round_after(qc_round, tc_round);
        if t.round > current + ROUND_WINDOW {
            return Err(RejectReason::RoundTooFarAhead {
                round: t.round,
                current,
            });
        }
        let msg = timeout_signing_bytes(self.chain_id(), t.round, qc_round);
        self.check_signature(&t.author, &msg, &t.signature)?;
        self.verify_qc(&t.high_qc)?;
        if let Some(tc) = &t.last_round_tc {
            tc.verify(&self.s.config.validators, &self.crypto)?;
        }
        Ok(())
    }

    /// The round timer fired.
    fn on_local_timer(&mut self, round: Round, fx: &mut Effects) -> Result<(), RejectReason> {
        if round != self.s.round {
            return Ok(()); // a timer of a round we already left: not an error
        }
        match &self.s.my_timeout {
            // Re-broadcast so that lost timeouts cannot stall the round forever.
            Some(t) => fx.push(Effect::Broadcast(ConsensusMessage::Timeout(t.clone()))),
            None => self.local_timeout_round(fx),
        }
        if self.s.round == round {
            self.schedule_timer(fx);
        }
        Ok(())
    }

    /// Pacemaker.local_timeout_round with Safety.make_timeout.
    fn local_timeout_round(&mut self, fx: &mut Effects) {
        let round = self.s.round;
        let high_qc = self.s.tree.high_qc().clone();
        let safe = self.s.is_validator
            && self
                .s
                .safety
                .safe_to_timeout(round, high_qc.round(), self.s.last_round_tc.as_ref());
        if !safe {
            return;
        }
        self.s.safety.record_timeout(round, &high_qc);
        let t = TimeoutMsg::sign(
            round,
            high_qc,
            self.s.last_round_tc.clone(),
            self.chain_id(),
            &self.crypto,
        );
        // Ordering contract: persist before the timeout leaves.
        fx.push(Effect::PersistSafety(self.s.safety.clone()));
        fx.push(Effect::Broadcast(ConsensusMessage::Timeout(t.clone())));
        let signature = TimeoutSignature {
            validator: t.author,
            high_qc_round: t.high_qc.round(),
            signature: t.signature.clone(),
        };
        self.s.my_timeout = Some(t);
        self.collect_timeout(round, signature, fx);
    }

    fn collect_timeout(&mut self, round: Round, signature: TimeoutSignature, fx: &mut Effects) {
        let quorum = self.s.config.validators.quorum();
        if let Some(tc) = self.s.timeouts.add(round, signature, quorum) {
            self.process_tc(&tc, fx);
        }
    }

    // ---- certificates and rounds ----------------------------------------------------

    /// Main.process_certificate_qc: Block-tree.process_qc (high QC, 2-chain commit) then
    /// Pacemaker.advance_round_qc. `qc` is verified.
    fn process_qc(&mut self, qc: &QuorumCert, fx: &mut Effects) {
        self.s.tree.insert(qc.vote.block, qc.round());
        let improved = self.s.tree.update_high_qc(qc);
        if let Some(commit) = qc.vote.commit
            && commit.height > self.s.tree.committed().height
        {
            let blocks = self.s.tree.commit(commit);
            fx.push(Effect::Commit {
                committed: commit,
                blocks,
                proof: CommitProof { qc: qc.clone() },
            });
        }
        if qc.round() >= self.s.round {
            self.s.last_round_tc = None;
            self.advance_to(qc.round() + 1, fx);
        } else if improved {
            // A higher QC may justify the proposal we deferred after a TC.
            self.maybe_propose(fx);
        }
    }

    /// Pacemaker.advance_round_tc. `tc` is verified.
    fn process_tc(&mut self, tc: &TimeoutCert, fx: &mut Effects) {
        if tc.round >= self.s.round {
            self.s.last_round_tc = Some(tc.clone());
            self.advance_to(tc.round + 1, fx);
        }
    }

    /// Pacemaker.start_timer for a new round, plus pruning and a possible proposal.
    fn advance_to(&mut self, round: Round, fx: &mut Effects) {
        debug_assert!(round > self.s.round, "rounds only move forward");
        self.s.round = round;
        self.s.pending = None;
        self.s.my_timeout = None;
        self.s.votes.prune_below(self.s.tree.high_qc().round() + 1);
        self.s.timeouts.prune_below(round);
        self.schedule_timer(fx);
        self.maybe_propose(fx);
    }

    fn schedule_timer(&self, fx: &mut Effects) {
        let after_ms = self
            .s
            .config
            .pacemaker
            .round_timeout_ms(self.s.round, self.s.tree.high_qc().round());
        fx.push(Effect::ScheduleTimeout {
            round: self.s.round,
            after_ms,
        });
    }

    /// The round we would be in after processing certificates of these rounds.
    fn round_after(&self, qc_round: Round, tc_round: Option<Round>) -> Round {
        let mut round = self.s.round.max(qc_round.saturating_add(1));
        if let Some(tc) = tc_round {
            round = round.max(tc.saturating_add(1));
        }
        round
    }

    fn verify_qc(&self, qc: &QuorumCert) -> Result<(), CertificateError> {
        if *qc == self.s.genesis_qc {
            return Ok(());
        }
        qc.verify(&self.s.config.validators, &self.crypto)
    }

    fn check_signature(
        &self,
        author: &Address,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), RejectReason> {
        if sig.len() > MAX_SIGNATURE_BYTES || !self.crypto.verify(author, msg, sig) {
            return Err(RejectReason::BadSignature { author: *author });
        }
        Ok(())
    }

    fn chain_id(&self) -> u64 {
        self.s.config.validators.chain_id()
    }
}

#[cfg(test)]
impl<C> Consensus<C> {
    /// Opaque snapshot for "rejected input leaves the state unchanged" tests.
    pub(crate) fn snapshot(&self) -> State {
        self.s.clone()
    }
}
