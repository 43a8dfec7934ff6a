//! BlockTree.process_vote: collects votes per round until 2f+1 sign the same data.

use std::collections::BTreeMap;

use keel_types::Address;

use crate::Round;
use crate::certificates::QuorumCert;
use crate::error::RejectReason;
use crate::messages::{Vote, VoteData};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct RoundVotes {
    /// First vote data seen from each author (a second, different one is equivocation).
    by_author: BTreeMap<Address, VoteData>,
    /// Signatures per distinct vote data.
    by_data: BTreeMap<VoteData, BTreeMap<Address, Vec<u8>>>,
    qc_formed: bool,
}

/// Pending votes, kept only for rounds inside the window the core allows (bounded by
/// `ROUND_WINDOW` rounds × n authors × one vote each).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct VoteCollector {
    rounds: BTreeMap<Round, RoundVotes>,
}

impl VoteCollector {
    /// Rejects a second vote by the same author in the same round.
    pub(crate) fn check(&self, vote: &Vote) -> Result<(), RejectReason> {
        let round = vote.data.round;
        match self
            .rounds
            .get(&round)
            .and_then(|r| r.by_author.get(&vote.author))
        {
            None => Ok(()),
            Some(data) if *data == vote.data => Err(RejectReason::Duplicate {
                author: vote.author,
                round,
            }),
            Some(_) => Err(RejectReason::Equivocation {
                author: vote.author,
                round,
            }),
        }
    }

    /// Adds a verified vote that passed [`VoteCollector::check`]; returns the QC when this
    /// vote completes a quorum.
    pub(crate) fn add(&mut self, vote: Vote, quorum: usize) -> Option<QuorumCert> {
        let entry = self.rounds.entry(vote.data.round).or_default();
        entry.by_author.insert(vote.author, vote.data.clone());
        let signatures = entry.by_data.entry(vote.data.clone()).or_default();
        signatures.insert(vote.author, vote.signature);
        if entry.qc_formed || signatures.len() < quorum {
            return None;
        }
        entry.qc_formed = true;
        Some(QuorumCert::from_votes(vote.data, signatures))
    }

    /// Drops rounds below `min_round`.
    pub(crate) fn prune_below(&mut self, min_round: Round) {
        self.rounds = self.rounds.split_off(&min_round);
    }

    /// Who voted in `round` (any data).
    pub(crate) fn voters(&self, round: Round) -> Vec<Address> {
        self.rounds
            .get(&round)
            .map(|r| r.by_author.keys().copied().collect())
            .unwrap_or_default()
    }

    pub(crate) fn rounds_held(&self) -> usize {
        self.rounds.len()
    }
}
