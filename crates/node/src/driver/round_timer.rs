//! The round timer (ADR 0014): it runs only while this node has work for consensus. Armed
//! by `Effect::ScheduleTimeout`; while the node has nothing to order, nothing to commit and no
//! heartbeat due, the timer is parked instead of running, so an idle network changes no
//! views. Once work appears the timer runs for the round's whole timeout (a leader that then
//! fails to propose is still detected one timeout later). Pure: the caller passes the clock
//! and whether there is work.

use keel_consensus::Round;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Off,
    Running {
        round: Round,
        at: Instant,
        after_ms: u64,
    },
    Parked {
        round: Round,
        after_ms: u64,
    },
}

/// The single round timer of the driver.
#[derive(Clone, Copy, Debug)]
pub struct RoundTimer {
    state: State,
}

impl Default for RoundTimer {
    fn default() -> Self {
        RoundTimer { state: State::Off }
    }
}

impl RoundTimer {
    /// Arm the timer of `round` (replacing any other): running if there is `work`, else parked.
    pub fn schedule(&mut self, round: Round, after_ms: u64, now: Instant, work: bool) {
        self.state = if work {
            State::Running {
                round,
                at: now + Duration::from_millis(after_ms),
                after_ms,
            }
        } else {
            State::Parked { round, after_ms }
        };
    }

    /// When the running timer expires.
    pub fn deadline(&self) -> Option<Instant> {
        match self.state {
            State::Running { at, .. } => Some(at),
            _ => None,
        }
    }

    /// Whether the timer waits for work.
    pub fn parked(&self) -> bool {
        matches!(self.state, State::Parked { .. })
    }

    /// At `now`: the round that timed out (there is still work), or `None`. A timer whose work
    /// went away meanwhile parks instead of firing.
    pub fn expire(&mut self, now: Instant, work: bool) -> Option<Round> {
        let State::Running {
            round,
            at,
            after_ms,
        } = self.state
        else {
            return None;
        };
        if at > now {
            return None;
        }
        if work {
            self.state = State::Off;
            Some(round)
        } else {
            self.state = State::Parked { round, after_ms };
            None
        }
    }

    /// Work appeared: a parked timer starts its whole timeout from `now`.
    pub fn wake(&mut self, now: Instant) {
        if let State::Parked { round, after_ms } = self.state {
            self.schedule(round, after_ms, now, true);
        }
    }

    /// Stop the timer (epoch switch).
    pub fn clear(&mut self) {
        self.state = State::Off;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn with_work_the_timer_fires_after_its_timeout() {
        let t0 = Instant::now();
        let mut timer = RoundTimer::default();
        timer.schedule(5, 1_000, t0, true);
        assert_eq!(timer.deadline(), Some(t0 + ms(1_000)));
        assert_eq!(timer.expire(t0 + ms(999), true), None);
        assert_eq!(timer.expire(t0 + ms(1_000), true), Some(5));
        assert_eq!(timer.deadline(), None);
        assert_eq!(timer.expire(t0 + ms(5_000), true), None, "fires once");
    }

    #[test]
    fn idle_the_timer_never_fires_and_work_starts_a_whole_timeout() {
        let t0 = Instant::now();
        let mut timer = RoundTimer::default();
        timer.schedule(9, 1_000, t0, false);
        assert!(timer.parked());
        assert_eq!(timer.deadline(), None, "no deadline while idle");
        assert_eq!(timer.expire(t0 + ms(3_600_000), false), None);
        // A transaction arrives an hour later: the leader gets a whole round timeout.
        let work_at = t0 + ms(3_600_000);
        timer.wake(work_at);
        assert_eq!(timer.deadline(), Some(work_at + ms(1_000)));
        assert_eq!(timer.expire(work_at + ms(999), true), None);
        assert_eq!(timer.expire(work_at + ms(1_000), true), Some(9));
    }

    #[test]
    fn a_running_timer_whose_work_committed_parks_instead_of_firing() {
        let t0 = Instant::now();
        let mut timer = RoundTimer::default();
        timer.schedule(3, 500, t0, true);
        assert_eq!(timer.expire(t0 + ms(500), false), None);
        assert!(timer.parked());
        timer.wake(t0 + ms(800));
        assert_eq!(timer.expire(t0 + ms(1_300), true), Some(3));
    }

    #[test]
    fn wake_does_not_restart_a_running_timer() {
        let t0 = Instant::now();
        let mut timer = RoundTimer::default();
        timer.schedule(1, 1_000, t0, true);
        timer.wake(t0 + ms(900));
        assert_eq!(timer.deadline(), Some(t0 + ms(1_000)));
        timer.clear();
        assert_eq!(timer.deadline(), None);
        assert!(!timer.parked());
    }
}
