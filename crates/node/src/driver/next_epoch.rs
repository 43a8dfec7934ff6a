//! Consensus messages of the next epoch, buffered until this node switches (a peer that
//! switched first already speaks it). Bounded per peer and in total, and only messages whose
//! author is the peer that sent them: nothing relayed, so one peer (an observer, say) cannot
//! fill the buffer and push out the genuine messages of others (security review finding 14).
//! They are unverified until replayed into the new epoch's consensus instance.

use keel_consensus::ConsensusMessage;
use keel_types::Address;

/// Most buffered next-epoch messages in total.
pub const MAX_NEXT_EPOCH_MESSAGES: usize = 1_024;
/// Most buffered next-epoch messages per peer.
pub const MAX_NEXT_EPOCH_MESSAGES_PER_PEER: usize = 64;

/// What became of a next-epoch message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buffered {
    /// Kept; the first one from this peer (a hint that this node is behind).
    First,
    /// Kept.
    Again,
    /// Dropped: relayed, or over a bound.
    Refused,
}

/// The buffer.
#[derive(Debug, Default)]
pub struct NextEpochBuffer {
    msgs: Vec<(Address, ConsensusMessage)>,
}

impl NextEpochBuffer {
    /// Buffer `msg` received from peer `from`.
    pub fn push(&mut self, from: Address, msg: ConsensusMessage) -> Buffered {
        if msg.author() != from || self.msgs.len() >= MAX_NEXT_EPOCH_MESSAGES {
            return Buffered::Refused;
        }
        let count = self.msgs.iter().filter(|(a, _)| *a == from).count();
        if count >= MAX_NEXT_EPOCH_MESSAGES_PER_PEER {
            return Buffered::Refused;
        }
        self.msgs.push((from, msg));
        if count == 0 {
            Buffered::First
        } else {
            Buffered::Again
        }
    }

    /// Everything buffered, in arrival order, emptying the buffer.
    pub fn take(&mut self) -> Vec<ConsensusMessage> {
        std::mem::take(&mut self.msgs)
            .into_iter()
            .map(|(_, m)| m)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::test_vote as vote;

    #[test]
    fn one_peer_cannot_fill_the_buffer_nor_relay_others_messages() {
        let (flooder, honest) = (Address([6; 20]), Address([1; 20]));
        let mut buf = NextEpochBuffer::default();
        assert_eq!(buf.push(flooder, vote(flooder)), Buffered::First);
        for _ in 0..2 * MAX_NEXT_EPOCH_MESSAGES {
            let r = buf.push(flooder, vote(flooder));
            assert_ne!(r, Buffered::First, "one sync hint per peer");
        }
        assert_eq!(
            buf.push(flooder, vote(honest)),
            Buffered::Refused,
            "relayed"
        );
        assert_eq!(buf.push(honest, vote(honest)), Buffered::First);
        let msgs = buf.take();
        assert_eq!(msgs.len(), MAX_NEXT_EPOCH_MESSAGES_PER_PEER + 1);
        assert!(buf.take().is_empty());
    }
}
