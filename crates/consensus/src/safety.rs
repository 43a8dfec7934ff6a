//! DiemBFT-v4 Safety module: the only state whose loss could make an honest node equivocate,
//! and the rules that decide whether it may sign a vote or a timeout.

use borsh::{BorshDeserialize, BorshSerialize};
use keel_types::{Hash, codec};

use crate::Round;
use crate::certificates::{QuorumCert, TimeoutCert};
use crate::error::ConsensusError;

/// Upper bound of an encoded [`SafetyState`] (it holds one QC).
pub const MAX_SAFETY_STATE_BYTES: usize = 32 * 1024;

/// State the host must make durable (fsync) before sending any vote or timeout signed after
/// it was emitted — see the ordering contract in the crate docs.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SafetyState {
    /// Highest round in which this node voted or timed out; it never votes at or below it.
    pub highest_voted_round: Round,
    /// Highest QC round among blocks it voted for (the 2-chain lock / preferred round).
    pub highest_qc_round: Round,
    /// Highest QC known when the state was written (lets a restarted node time out at once).
    pub high_qc: QuorumCert,
}

impl SafetyState {
    /// The state of a validator that never signed anything.
    pub fn genesis(genesis_id: Hash) -> SafetyState {
        SafetyState::genesis_at(genesis_id, 0)
    }

    /// The state of a validator at the start of an epoch whose genesis block is at `height`.
    pub fn genesis_at(genesis_id: Hash, height: u64) -> SafetyState {
        SafetyState {
            highest_voted_round: 0,
            highest_qc_round: 0,
            high_qc: QuorumCert::genesis_at(genesis_id, height),
        }
    }

    /// Canonical encoding (what the host persists).
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// Bounded decode.
    pub fn decode(bytes: &[u8]) -> Result<SafetyState, ConsensusError> {
        Ok(codec::decode(
            "safety state",
            bytes,
            MAX_SAFETY_STATE_BYTES,
        )?)
    }

    /// DiemBFT-v4 Safety.safe_to_vote: the round is new, and the block extends either the QC
    /// of the previous round or, after a TC, a QC at least as high as every QC in the TC.
    pub(crate) fn safe_to_vote(
        &self,
        block_round: Round,
        qc_round: Round,
        tc: Option<&TimeoutCert>,
    ) -> bool {
        if block_round <= self.highest_voted_round.max(qc_round) {
            return false;
        }
        consecutive(block_round, qc_round) || safe_to_extend(block_round, qc_round, tc)
    }

    /// DiemBFT-v4 Safety.safe_to_timeout: never time out with a QC below the lock, never for
    /// a round below the last voted one, and only for a round entered through a QC or a TC.
    pub(crate) fn safe_to_timeout(
        &self,
        round: Round,
        qc_round: Round,
        tc: Option<&TimeoutCert>,
    ) -> bool {
        if qc_round < self.highest_qc_round
            || round <= self.highest_voted_round.saturating_sub(1).max(qc_round)
        {
            return false;
        }
        consecutive(round, qc_round) || tc.is_some_and(|tc| consecutive(round, tc.round))
    }

    /// DiemBFT-v4 Safety.make_vote's updates: update_highest_qc_round (protect the QC
    /// round) and increase_highest_vote_round (never vote again in this or a lower round).
    pub(crate) fn record_vote(
        &mut self,
        block_round: Round,
        qc_round: Round,
        high_qc: &QuorumCert,
    ) {
        self.highest_qc_round = self.highest_qc_round.max(qc_round);
        self.highest_voted_round = self.highest_voted_round.max(block_round);
        self.record_high_qc(high_qc);
    }

    /// DiemBFT-v4 Safety.make_timeout's update: increase_highest_vote_round (stop voting in
    /// the timed-out round).
    pub(crate) fn record_timeout(&mut self, round: Round, high_qc: &QuorumCert) {
        self.highest_voted_round = self.highest_voted_round.max(round);
        self.record_high_qc(high_qc);
    }

    fn record_high_qc(&mut self, high_qc: &QuorumCert) {
        if high_qc.round() > self.high_qc.round() {
            self.high_qc = high_qc.clone();
        }
    }
}

/// DiemBFT-v4 Safety.consecutive.
fn consecutive(block_round: Round, round: Round) -> bool {
    round + 1 == block_round
}

/// DiemBFT-v4 Safety.safe_to_extend.
fn safe_to_extend(block_round: Round, qc_round: Round, tc: Option<&TimeoutCert>) -> bool {
    tc.is_some_and(|tc| consecutive(block_round, tc.round) && qc_round >= tc.max_high_qc_round())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificates::TimeoutSignature;
    use keel_types::Address;

    fn state(hvr: Round, hqr: Round) -> SafetyState {
        SafetyState {
            highest_voted_round: hvr,
            highest_qc_round: hqr,
            high_qc: QuorumCert::genesis(Hash::ZERO),
        }
    }

    fn tc(round: Round, high_qc_rounds: &[Round]) -> TimeoutCert {
        TimeoutCert {
            round,
            signatures: high_qc_rounds
                .iter()
                .enumerate()
                .map(|(i, r)| TimeoutSignature {
                    validator: Address([i as u8; 20]),
                    high_qc_round: *r,
                    signature: vec![],
                })
                .collect(),
        }
    }

    #[test]
    fn votes_once_per_round_and_only_forward() {
        let s = state(5, 3);
        assert!(s.safe_to_vote(6, 5, None));
        assert!(!s.safe_to_vote(5, 4, None), "already voted in round 5");
        assert!(!s.safe_to_vote(4, 3, None));
        assert!(!s.safe_to_vote(7, 5, None), "gap without a TC");
    }

    #[test]
    fn votes_after_tc_only_when_extending_its_highest_qc() {
        let s = state(5, 3);
        assert!(s.safe_to_vote(7, 4, Some(&tc(6, &[4, 2, 3]))));
        assert!(
            !s.safe_to_vote(7, 3, Some(&tc(6, &[4, 2, 3]))),
            "QC below the TC's high QC"
        );
        assert!(
            !s.safe_to_vote(8, 4, Some(&tc(6, &[4]))),
            "TC not of the previous round"
        );
    }

    #[test]
    fn timeouts_follow_the_paper() {
        let s = state(5, 3);
        assert!(
            s.safe_to_timeout(5, 4, None),
            "may time out the round it voted in"
        );
        assert!(!s.safe_to_timeout(4, 3, None));
        assert!(
            !s.safe_to_timeout(6, 2, Some(&tc(5, &[2]))),
            "QC below the lock"
        );
        assert!(s.safe_to_timeout(6, 3, Some(&tc(5, &[3]))));
        assert!(
            !s.safe_to_timeout(7, 3, Some(&tc(5, &[3]))),
            "round not entered via QC/TC"
        );
    }

    #[test]
    fn encoding_round_trips() {
        let s = state(9, 7);
        assert_eq!(SafetyState::decode(&s.encode()), Ok(s));
    }
}
