//! Proposal pacing (ADR 0014): when this node, as leader, proposes on top of a parent.
//!
//! A block is proposed only when it is needed ([`Need`]): transactions to order, an
//! uncommitted ancestor carrying transactions (it commits once two descendants are certified),
//! or a due heartbeat. With nothing needed the proposal waits, without a deadline, until the
//! driver sees a need ([`ProposalPacer::poll`] again); an idle chain does not grow. When
//! needed, the block follows its parent's timestamp by the light pace (`block_interval_ms`,
//! so that light load batches transactions), or by the busy pace when the pool holds a full
//! block. The parent's timestamp never counts from ahead of the local clock: a Byzantine
//! leader's future timestamp would otherwise make the next leader wait past the round timeout
//! (security review finding 9). Pure: the caller passes the clock and the need.

use super::clock::Now;
use keel_consensus::{BlockMeta, Round};
use std::time::{Duration, Instant};

/// The paces, ms after the parent's timestamp.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// The pool holds at least a full block.
    pub busy_ms: u64,
    /// Any other need (light load, commit push, heartbeat).
    pub light_ms: u64,
}

/// Why a block on the parent would be proposed now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Nothing to order, nothing to commit, no heartbeat due: wait.
    Nothing,
    /// Transactions to order or an uncommitted ancestor carrying transactions; `full` when the
    /// pool holds at least a full block.
    Work {
        /// The pool holds at least a full block: busy pace.
        full: bool,
    },
    /// The committed head is older than the idle heartbeat: an (empty) block is due.
    Heartbeat,
}

impl Pace {
    /// Delay after the parent's timestamp for `need`, or `None` to wait for a need.
    pub fn delay_ms(&self, need: Need) -> Option<u64> {
        match need {
            Need::Nothing => None,
            Need::Work { full: true } => Some(self.busy_ms.min(self.light_ms)),
            Need::Work { full: false } | Need::Heartbeat => Some(self.light_ms),
        }
    }
}

#[derive(Debug)]
struct Pending {
    round: Round,
    parent: BlockMeta,
    /// Parent timestamp, capped at the local wall clock when scheduled.
    parent_ts_ms: u64,
    /// When to look again; `None` while waiting for a need.
    check_at: Option<Instant>,
}

/// The pending own proposal of the current round, if any.
#[derive(Debug, Default)]
pub struct ProposalPacer {
    pending: Option<Pending>,
}

impl ProposalPacer {
    /// A proposal of `round` on `parent`, whose header says `parent_ts_ms`, is requested: look
    /// at it now.
    pub fn schedule(&mut self, round: Round, parent: BlockMeta, parent_ts_ms: u64, now: Now) {
        self.pending = Some(Pending {
            round,
            parent,
            // A parent from the future paces as if it had been made now.
            parent_ts_ms: parent_ts_ms.min(now.wall_ms),
            check_at: Some(now.mono),
        });
    }

    /// The parent of the pending proposal.
    pub fn parent(&self) -> Option<&BlockMeta> {
        self.pending.as_ref().map(|p| &p.parent)
    }

    /// When the pending proposal is next looked at (`None` also while it waits for a need).
    pub fn next_check(&self) -> Option<Instant> {
        self.pending.as_ref().and_then(|p| p.check_at)
    }

    /// Whether a proposal is pending without a deadline, waiting for a need.
    pub fn waiting(&self) -> bool {
        self.pending.as_ref().is_some_and(|p| p.check_at.is_none())
    }

    /// Decide the pending proposal at `now` given what it is needed for: the round and
    /// parent to propose now, or `None` (it stays pending, with a deadline if needed later).
    pub fn poll(&mut self, now: Now, need: Need, pace: Pace) -> Option<(Round, BlockMeta)> {
        let p = self.pending.as_mut()?;
        let Some(delay_ms) = pace.delay_ms(need) else {
            p.check_at = None;
            return None;
        };
        let at_ms = p.parent_ts_ms.saturating_add(delay_ms);
        if at_ms > now.wall_ms {
            p.check_at = Some(now.mono + Duration::from_millis(at_ms - now.wall_ms));
            return None;
        }
        let p = self.pending.take()?;
        Some((p.round, p.parent))
    }

    /// Forget the pending proposal (epoch switch).
    pub fn clear(&mut self) {
        self.pending = None;
    }
}

/// Whether the idle heartbeat is due: the committed head (timestamp capped at `now_ms`) is at
/// least `heartbeat_ms` old; never with `heartbeat_ms == 0`.
pub fn heartbeat_due(head_ts_ms: u64, now_ms: u64, heartbeat_ms: u64) -> bool {
    heartbeat_ms > 0 && now_ms.saturating_sub(head_ts_ms.min(now_ms)) >= heartbeat_ms
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_types::Hash;

    const PACE: Pace = Pace {
        busy_ms: 10,
        light_ms: 100,
    };
    const WORK: Need = Need::Work { full: false };

    fn at(wall_ms: u64, mono: Instant) -> Now {
        Now { wall_ms, mono }
    }

    fn later(now: Now, ms: u64) -> Now {
        at(now.wall_ms + ms, now.mono + Duration::from_millis(ms))
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
        let now = at(1_000_000, Instant::now());
        let mut pacer = ProposalPacer::default();
        pacer.schedule(3, parent(), now.wall_ms + 10_000, now);
        assert!(pacer.poll(now, WORK, PACE).is_none());
        assert_eq!(
            pacer.next_check(),
            Some(now.mono + Duration::from_millis(100))
        );
        let (round, _) = pacer.poll(later(now, 100), WORK, PACE).unwrap();
        assert_eq!(round, 3);
    }

    #[test]
    fn nothing_needed_waits_without_a_deadline_then_work_proposes_at_once() {
        let now = at(1_000_000, Instant::now());
        let mut pacer = ProposalPacer::default();
        // Parent made 5 s ago (the chain went idle).
        pacer.schedule(7, parent(), now.wall_ms - 5_000, now);
        assert!(pacer.poll(now, Need::Nothing, PACE).is_none());
        assert!(pacer.waiting());
        assert_eq!(pacer.next_check(), None, "an idle leader sets no deadline");
        // An hour later, still nothing: still waiting.
        let hour = later(now, 3_600_000);
        assert!(pacer.poll(hour, Need::Nothing, PACE).is_none());
        // A transaction arrives: the parent is old, so the block goes at once.
        let (round, p) = pacer.poll(later(hour, 1), WORK, PACE).unwrap();
        assert_eq!((round, p.id), (7, parent().id));
        assert!(pacer.parent().is_none());
    }

    #[test]
    fn light_load_waits_the_block_interval_a_full_pool_the_busy_pace() {
        let now = at(1_000_000, Instant::now());
        let mut pacer = ProposalPacer::default();
        pacer.schedule(1, parent(), now.wall_ms - 5, now);
        assert!(pacer.poll(now, WORK, PACE).is_none());
        assert_eq!(
            pacer.next_check(),
            Some(now.mono + Duration::from_millis(95))
        );
        assert!(pacer.poll(later(now, 94), WORK, PACE).is_none());
        // The pool filled up meanwhile: the busy pace (10 ms after the parent) has passed.
        let (round, _) = pacer
            .poll(later(now, 94), Need::Work { full: true }, PACE)
            .unwrap();
        assert_eq!(round, 1);
    }

    #[test]
    fn heartbeat_uses_the_light_pace_and_is_due_only_after_its_interval() {
        let now = at(1_000_000, Instant::now());
        let mut pacer = ProposalPacer::default();
        pacer.schedule(2, parent(), now.wall_ms - 50, now);
        assert!(pacer.poll(now, Need::Heartbeat, PACE).is_none());
        assert!(pacer.poll(later(now, 50), Need::Heartbeat, PACE).is_some());

        assert!(!heartbeat_due(1_000, 60_999, 60_000));
        assert!(heartbeat_due(1_000, 61_000, 60_000));
        assert!(!heartbeat_due(1_000, 10_000_000, 0), "0 = never");
        // A head stamped in the future is not "old".
        assert!(!heartbeat_due(90_000, 61_000, 60_000));
    }
}
