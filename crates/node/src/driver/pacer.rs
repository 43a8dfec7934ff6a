//! Proposal pacing: when this node, as leader, proposes on top of a parent. Busy pace while
//! there is work, the idle heartbeat otherwise, both counted from the parent's timestamp — but
//! never from a timestamp ahead of the local clock: a Byzantine leader's future timestamp would
//! otherwise make the next leader wait past the round timeout (security review finding 9).
//! Pure: the caller passes the clock.

use super::clock::Now;
use keel_consensus::{BlockMeta, Round};
use std::time::{Duration, Instant};

/// The two paces, ms after the parent's timestamp.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// While there is work.
    pub busy_ms: u64,
    /// Heartbeat: an empty block.
    pub idle_ms: u64,
}

/// A proposal that is due: propose now if `idle` or if there is work, else
/// [`ProposalPacer::snooze`] it.
#[derive(Debug)]
pub struct Due {
    /// Round to propose in.
    pub round: Round,
    /// Parent to extend.
    pub parent: BlockMeta,
    /// The idle heartbeat deadline has passed: propose even an empty block.
    pub idle: bool,
    idle_at: Instant,
}

#[derive(Debug)]
struct Pending {
    round: Round,
    parent: BlockMeta,
    check_at: Instant,
    idle_at: Instant,
}

/// The pending own proposal of the current round, if any.
#[derive(Debug, Default)]
pub struct ProposalPacer {
    pending: Option<Pending>,
}

impl ProposalPacer {
    /// Pace a proposal of `round` on `parent`, whose header says `parent_ts_ms`.
    pub fn schedule(
        &mut self,
        round: Round,
        parent: BlockMeta,
        parent_ts_ms: u64,
        now: Now,
        pace: Pace,
    ) {
        // A parent from the future paces as if it had been made now.
        let parent_ts_ms = parent_ts_ms.min(now.wall_ms);
        let after = |ms: u64| {
            now.mono + Duration::from_millis((parent_ts_ms + ms).saturating_sub(now.wall_ms))
        };
        self.pending = Some(Pending {
            round,
            parent,
            check_at: after(pace.busy_ms.min(pace.idle_ms)),
            idle_at: after(pace.idle_ms),
        });
    }

    /// When the pending proposal is next looked at.
    pub fn next_check(&self) -> Option<Instant> {
        self.pending.as_ref().map(|p| p.check_at)
    }

    /// The pending proposal, taken out, if it is due at `now`.
    pub fn take_due(&mut self, now: Instant) -> Option<Due> {
        if self.pending.as_ref()?.check_at > now {
            return None;
        }
        let p = self.pending.take()?;
        Some(Due {
            round: p.round,
            parent: p.parent,
            idle: now >= p.idle_at,
            idle_at: p.idle_at,
        })
    }

    /// Nothing to order yet: look again after `busy`, up to the heartbeat.
    pub fn snooze(&mut self, due: Due, now: Instant, busy: Duration) {
        self.pending = Some(Pending {
            round: due.round,
            parent: due.parent,
            check_at: (now + busy).min(due.idle_at),
            idle_at: due.idle_at,
        });
    }

    /// Forget the pending proposal (epoch switch).
    pub fn clear(&mut self) {
        self.pending = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_types::Hash;

    const PACE: Pace = Pace {
        busy_ms: 10,
        idle_ms: 250,
    };

    fn at(wall_ms: u64, mono: Instant) -> Now {
        Now { wall_ms, mono }
    }

    fn parent() -> BlockMeta {
        BlockMeta {
            id: Hash([1; 32]),
            parent_id: Hash::ZERO,
            height: 1,
        }
    }

    /// Security review finding 9: a parent stamped 10 s ahead made the next leader wait ~10 s,
    /// ten round timeouts.
    #[test]
    fn a_future_parent_timestamp_does_not_delay_the_next_proposal() {
        let now = Instant::now();
        let now_ms = 1_000_000;
        let mut pacer = ProposalPacer::default();
        pacer.schedule(3, parent(), now_ms + 10_000, at(now_ms, now), PACE);
        let check = pacer.next_check().unwrap();
        assert!(check <= now + Duration::from_millis(10), "{check:?}");
        let idle_at = now + Duration::from_millis(250);
        assert!(pacer.take_due(now).is_none());
        let due = pacer.take_due(idle_at).unwrap();
        assert!(due.idle && due.round == 3);
    }

    #[test]
    fn busy_then_idle_pacing_from_the_parent_timestamp() {
        let now = Instant::now();
        let now_ms = 1_000_000;
        let mut pacer = ProposalPacer::default();
        // Parent made 100 ms ago: busy pace already passed, heartbeat in 150 ms.
        pacer.schedule(1, parent(), now_ms - 100, at(now_ms, now), PACE);
        let due = pacer.take_due(now).unwrap();
        assert!(!due.idle);
        pacer.snooze(due, now, Duration::from_millis(10));
        assert_eq!(pacer.next_check(), Some(now + Duration::from_millis(10)));
        let due = pacer.take_due(now + Duration::from_millis(150)).unwrap();
        assert!(due.idle);
        assert!(pacer.next_check().is_none());
    }
}
