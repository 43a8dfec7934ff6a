//! DiemBFT-v4 Pacemaker: round timer with exponential back-off and timeout aggregation.

use std::collections::BTreeMap;

use keel_types::Address;

use crate::Round;
use crate::certificates::{TimeoutCert, TimeoutSignature};

/// Largest back-off exponent accepted in [`PacemakerConfig`] (2^16 × base is already hours).
pub const MAX_BACKOFF_EXPONENT: u32 = 16;

/// Round-timer settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacemakerConfig {
    /// Timeout of a round entered right after a QC.
    pub base_timeout_ms: u64,
    /// Back-off cap: the timeout is `base_timeout_ms * 2^min(k, backoff_exponent_cap)`, k =
    /// rounds since the last QC (clamped to [`MAX_BACKOFF_EXPONENT`]).
    pub backoff_exponent_cap: u32,
}

impl Default for PacemakerConfig {
    fn default() -> Self {
        PacemakerConfig {
            base_timeout_ms: 1_000,
            backoff_exponent_cap: 6,
        }
    }
}

impl PacemakerConfig {
    /// DiemBFT-v4 Pacemaker.get_round_timer: exponential in the rounds since the last QC,
    /// reset by progress.
    pub fn round_timeout_ms(&self, round: Round, high_qc_round: Round) -> u64 {
        let k = round.saturating_sub(high_qc_round + 1);
        let cap = self.backoff_exponent_cap.min(MAX_BACKOFF_EXPONENT);
        let exponent = u32::try_from(k).unwrap_or(u32::MAX).min(cap);
        self.base_timeout_ms.saturating_mul(1u64 << exponent)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct RoundTimeouts {
    signatures: BTreeMap<Address, TimeoutSignature>,
    tc_formed: bool,
}

/// Pacemaker.pending_timeouts: signed timeouts per round, bounded like the vote collector.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TimeoutCollector {
    rounds: BTreeMap<Round, RoundTimeouts>,
}

impl TimeoutCollector {
    pub(crate) fn contains(&self, round: Round, author: &Address) -> bool {
        self.rounds
            .get(&round)
            .is_some_and(|r| r.signatures.contains_key(author))
    }

    pub(crate) fn count(&self, round: Round) -> usize {
        self.rounds.get(&round).map_or(0, |r| r.signatures.len())
    }

    pub(crate) fn signers(&self, round: Round) -> Vec<Address> {
        self.rounds
            .get(&round)
            .map(|r| r.signatures.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Pacemaker.process_remote_timeout's aggregation: adds a verified timeout; returns the
    /// TC once `quorum` distinct validators timed out `round`.
    pub(crate) fn add(
        &mut self,
        round: Round,
        sig: TimeoutSignature,
        quorum: usize,
    ) -> Option<TimeoutCert> {
        let entry = self.rounds.entry(round).or_default();
        entry.signatures.entry(sig.validator).or_insert(sig);
        if entry.tc_formed || entry.signatures.len() < quorum {
            return None;
        }
        entry.tc_formed = true;
        Some(TimeoutCert {
            round,
            signatures: entry.signatures.values().cloned().collect(),
        })
    }

    pub(crate) fn prune_below(&mut self, min_round: Round) {
        self.rounds = self.rounds.split_off(&min_round);
    }

    pub(crate) fn rounds_held(&self) -> usize {
        self.rounds.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_until_the_cap_and_resets_on_progress() {
        let p = PacemakerConfig {
            base_timeout_ms: 100,
            backoff_exponent_cap: 3,
        };
        let timeouts: Vec<u64> = (5..11).map(|r| p.round_timeout_ms(r, 4)).collect();
        assert_eq!(timeouts, vec![100, 200, 400, 800, 800, 800]);
        assert_eq!(p.round_timeout_ms(10, 9), 100);
    }
}
