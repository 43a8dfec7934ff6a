//! Per-peer rate budgets (token buckets) for work a peer can make this node do on the
//! consensus thread: serving block sync, admitting gossiped transactions. Pure: the caller
//! passes the clock. The peer set is the network's allow-set, so the map is bounded by it;
//! it is also capped here in case the allow-set is large.

use keel_types::Address;
use std::collections::HashMap;
use std::time::Instant;

/// Most peers tracked by one budget (the least recently seen is forgotten beyond this).
pub const MAX_BUDGET_PEERS: usize = 1_024;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A token bucket per peer: `per_sec` units per second, up to `burst` saved.
#[derive(Debug)]
pub struct PeerBudget {
    per_sec: f64,
    burst: f64,
    peers: HashMap<Address, Bucket>,
}

impl PeerBudget {
    /// A budget of `per_sec` units a second with bursts of `burst`.
    pub fn new(per_sec: u64, burst: u64) -> PeerBudget {
        PeerBudget {
            per_sec: per_sec as f64,
            burst: burst.max(1) as f64,
            peers: HashMap::new(),
        }
    }

    /// Spend `units` of `peer`'s budget at `now`; false (nothing spent) if it has too few.
    pub fn try_spend(&mut self, peer: Address, units: u64, now: Instant) -> bool {
        if !self.peers.contains_key(&peer) && self.peers.len() >= MAX_BUDGET_PEERS {
            let stalest = self.peers.iter().min_by_key(|(_, b)| b.at).map(|(a, _)| *a);
            if let Some(a) = stalest {
                self.peers.remove(&a);
            }
        }
        let b = self.peers.entry(peer).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_sec).min(self.burst);
        b.at = now;
        let units = units as f64;
        if b.tokens < units {
            return false;
        }
        b.tokens -= units;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_peer_spends_its_burst_then_its_rate() {
        let mut budget = PeerBudget::new(10, 20);
        let (a, b) = (Address([1; 20]), Address([2; 20]));
        let t0 = Instant::now();
        assert!(budget.try_spend(a, 20, t0));
        assert!(!budget.try_spend(a, 1, t0), "burst spent");
        assert!(budget.try_spend(b, 20, t0), "peers have their own budgets");
        assert!(budget.try_spend(a, 5, t0 + Duration::from_millis(500)));
        assert!(!budget.try_spend(a, 5, t0 + Duration::from_millis(500)));
    }
}
