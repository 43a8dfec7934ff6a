//! Transaction gossip: batching of this node's admitted transactions into frames, and the
//! per-peer admission budget for frames received (admission verifies signatures on the consensus
//! thread, so one peer must not be able to monopolise it — security review finding 7), and
//! re-gossip of transactions that stay pending: a gossip frame lost on the way (a full queue,
//! a link that dropped) left a transaction only in the pool of the node that admitted it, and
//! if that node never proposes (an observer serving RPC, a validator removed from the set) it
//! never committed (found by the whole-node simulator). Pure: the caller passes the clock.

use super::budget::PeerBudget;
use keel_types::{Address, Hash};
use std::collections::HashSet;
use std::time::Instant;

/// Most transactions in one gossip frame.
pub const MAX_GOSSIP_BATCH: usize = 500;
/// Queue depth of transactions waiting to be gossiped.
pub const GOSSIP_QUEUE_TXS: usize = 50_000;
/// Gossiped transactions admitted per peer and second (sustained), well above what a
/// consortium member forwards.
pub const GOSSIP_TXS_PER_PEER_PER_SEC: u64 = 20_000;
/// Gossiped transactions a peer may send in a burst.
pub const GOSSIP_TXS_BURST: u64 = 40_000;

/// The outgoing batch and the incoming budget.
#[derive(Debug)]
pub struct Gossip {
    buf: Vec<Vec<u8>>,
    admission: PeerBudget,
    /// Transactions that were pending at the last re-gossip check.
    pending_before: HashSet<Hash>,
}

impl Default for Gossip {
    fn default() -> Self {
        Gossip {
            buf: Vec::new(),
            admission: PeerBudget::new(GOSSIP_TXS_PER_PEER_PER_SEC, GOSSIP_TXS_BURST),
            pending_before: HashSet::new(),
        }
    }
}

impl Gossip {
    /// Queue one admitted transaction; returns a full batch to send.
    pub fn push(&mut self, raw: Vec<u8>) -> Option<Vec<Vec<u8>>> {
        self.buf.push(raw);
        (self.buf.len() >= MAX_GOSSIP_BATCH).then(|| std::mem::take(&mut self.buf))
    }

    /// The batch to send now (flush tick), if any.
    pub fn take(&mut self) -> Option<Vec<Vec<u8>>> {
        (!self.buf.is_empty()).then(|| std::mem::take(&mut self.buf))
    }

    /// Given the pool's longest-pending transactions now (hash, encoding), those that were
    /// already pending at the previous check: gossip them again (at most one check period
    /// after they stalled, never more than one frame per check).
    pub fn stale(&mut self, pending: Vec<(Hash, Vec<u8>)>) -> Vec<Vec<u8>> {
        let before = std::mem::take(&mut self.pending_before);
        self.pending_before = pending.iter().map(|(h, _)| *h).collect();
        pending
            .into_iter()
            .filter(|(h, _)| before.contains(h))
            .map(|(_, raw)| raw)
            .take(MAX_GOSSIP_BATCH)
            .collect()
    }

    /// May a frame of `txs` transactions from `peer` be admitted at `now`? (Spends budget.)
    pub fn admit(&mut self, peer: Address, txs: usize, now: Instant) -> bool {
        self.admission.try_spend(peer, txs as u64, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_bounded_and_peers_are_budgeted() {
        let mut g = Gossip::default();
        for i in 0..MAX_GOSSIP_BATCH - 1 {
            assert!(g.push(vec![i as u8]).is_none());
        }
        assert_eq!(g.push(vec![0]).map(|b| b.len()), Some(MAX_GOSSIP_BATCH));
        assert!(g.take().is_none());
        let now = Instant::now();
        let peer = Address([3; 20]);
        let frames = GOSSIP_TXS_BURST as usize / MAX_GOSSIP_BATCH;
        for _ in 0..frames {
            assert!(g.admit(peer, MAX_GOSSIP_BATCH, now));
        }
        assert!(!g.admit(peer, MAX_GOSSIP_BATCH, now), "over budget");
        assert!(g.admit(Address([4; 20]), MAX_GOSSIP_BATCH, now));
    }

    #[test]
    fn only_transactions_pending_at_two_checks_are_gossiped_again() {
        let mut g = Gossip::default();
        let tx = |b: u8| (Hash([b; 32]), vec![b]);
        assert!(g.stale(vec![tx(1), tx(2)]).is_empty(), "first sighting");
        assert_eq!(g.stale(vec![tx(2), tx(3)]), vec![vec![2]]);
        assert_eq!(g.stale(vec![tx(3)]), vec![vec![3]]);
        assert!(g.stale(Vec::new()).is_empty());
        assert!(
            g.stale(vec![tx(3)]).is_empty(),
            "committed in between: seen anew"
        );
    }
}
