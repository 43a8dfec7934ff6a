//! Validators whose certificate this node's PKI has revoked. The network closes their links and
//! refuses their handshakes; this set makes the driver also ignore their consensus messages
//! when another peer relays them (issue 11: "relayed votes of a revoked validator still count").
//! Refreshed from the network on the status tick (every [`super::STATUS_PUBLISH_MS`]).
//!
//! Signatures of a revoked validator inside a quorum or timeout certificate that a leader
//! assembled still count until governance removes it from the validator set at the next epoch:
//! nodes may learn of a revocation at different times, and a certificate one honest node
//! accepts must be accepted by all (docs/operations.md, "Revoking a validator").

use keel_consensus::ConsensusMessage;
use keel_types::Address;
use std::collections::BTreeSet;

/// The revoked authors this node knows of.
#[derive(Debug, Default)]
pub struct RevokedAuthors {
    set: BTreeSet<Address>,
}

impl RevokedAuthors {
    /// Replace the set with `revoked`; the addresses newly revoked (for the log).
    pub fn refresh(&mut self, revoked: impl IntoIterator<Item = Address>) -> Vec<Address> {
        let next: BTreeSet<Address> = revoked.into_iter().collect();
        let added = next.difference(&self.set).copied().collect();
        self.set = next;
        added
    }

    /// Whether `msg` is authored by a revoked validator (whoever delivered it).
    pub fn refuses(&self, msg: &ConsensusMessage) -> bool {
        self.set.contains(&msg.author())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::test_vote as vote;

    #[test]
    fn a_revoked_validators_messages_are_refused_until_the_revocation_is_lifted() {
        let (revoked, honest) = (Address([3; 20]), Address([1; 20]));
        let mut set = RevokedAuthors::default();
        assert!(!set.refuses(&vote(revoked)), "nothing revoked yet");
        assert_eq!(set.refresh([revoked]), vec![revoked]);
        assert!(set.refuses(&vote(revoked)));
        assert!(!set.refuses(&vote(honest)));
        assert!(set.refresh([revoked]).is_empty(), "already known");
        assert!(set.refresh([]).is_empty());
        assert!(!set.refuses(&vote(revoked)), "a new CRL without it");
    }
}
