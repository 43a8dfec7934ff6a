//! What one request may cost: a wall-clock deadline and an EVM gas budget per request, and a
//! small gate on concurrent EVM runs. Overload never hangs a client: it gets `SERVER_BUSY`
//! (1102), `GAS_BUDGET_EXCEEDED` (1103) or `REQUEST_TIMEOUT` (1104), listed in docs/rpc.md.

use crate::error::RpcError;
use keel_node::RpcLimits;
use std::cell::Cell;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// The budget of one HTTP request (a whole batch) or one WebSocket message. Lives on the one
/// blocking thread that processes the request.
#[derive(Debug)]
pub(crate) struct RequestBudget {
    deadline: Instant,
    gas_left: Cell<u64>,
    busy_wait: Duration,
}

impl RequestBudget {
    pub(crate) fn new(limits: &RpcLimits, started: Instant) -> Self {
        RequestBudget {
            deadline: started + Duration::from_millis(limits.request_timeout_ms),
            gas_left: Cell::new(limits.request_gas_budget),
            busy_wait: Duration::from_millis(limits.busy_wait_ms),
        }
    }

    /// `REQUEST_TIMEOUT` once the deadline has passed.
    pub(crate) fn check_deadline(&self) -> Result<(), RpcError> {
        if Instant::now() >= self.deadline {
            return Err(RpcError::timeout("the request ran past its deadline"));
        }
        Ok(())
    }

    /// Before an EVM run with `gas_limit`: the deadline has not passed and what is left of
    /// the budget covers the whole limit, so no run can take the request over its budget.
    pub(crate) fn reserve_gas(&self, gas_limit: u64) -> Result<(), RpcError> {
        self.check_deadline()?;
        let left = self.gas_left.get();
        if gas_limit > left {
            return Err(RpcError::gas_budget(gas_limit, left));
        }
        Ok(())
    }

    /// After an EVM run: take the gas it used from the budget.
    pub(crate) fn spend_gas(&self, gas_used: u64) {
        self.gas_left
            .set(self.gas_left.get().saturating_sub(gas_used));
    }

    /// How long this request may wait for a busy resource.
    pub(crate) fn wait_bound(&self) -> Duration {
        self.busy_wait
            .min(self.deadline.saturating_duration_since(Instant::now()))
    }
}

/// A counting semaphore for blocking threads: at most `max` holders, a bounded wait.
#[derive(Debug)]
pub(crate) struct Gate {
    held: Mutex<usize>,
    freed: Condvar,
    max: usize,
}

/// A held slot of a [`Gate`]; released on drop.
#[derive(Debug)]
pub(crate) struct GatePass<'a>(&'a Gate);

impl Gate {
    pub(crate) fn new(max: usize) -> Self {
        Gate {
            held: Mutex::new(0),
            freed: Condvar::new(),
            max: max.max(1),
        }
    }

    /// A slot, or `SERVER_BUSY` when none frees up within `wait`.
    pub(crate) fn enter(&self, wait: Duration) -> Result<GatePass<'_>, RpcError> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let (mut held, timed_out) = self
            .freed
            .wait_timeout_while(held, wait, |h| *h >= self.max)
            .unwrap_or_else(|p| p.into_inner());
        if timed_out.timed_out() && *held >= self.max {
            return Err(RpcError::busy("every EVM slot is in use; retry shortly"));
        }
        *held += 1;
        Ok(GatePass(self))
    }
}

impl Drop for GatePass<'_> {
    fn drop(&mut self) {
        let mut held = self.0.held.lock().unwrap_or_else(|p| p.into_inner());
        *held = held.saturating_sub(1);
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_admits_max_then_reports_busy_and_frees_on_drop() {
        let g = Gate::new(2);
        let a = g.enter(Duration::ZERO).expect("first slot");
        let _b = g.enter(Duration::ZERO).expect("second slot");
        let busy = g
            .enter(Duration::from_millis(10))
            .expect_err("no third slot");
        assert_eq!(busy.code, 1102);
        drop(a);
        assert!(g.enter(Duration::ZERO).is_ok());
    }

    #[test]
    fn budget_reserves_limits_and_spends_what_runs_used() {
        let limits = RpcLimits {
            request_gas_budget: 100,
            ..RpcLimits::default()
        };
        let b = RequestBudget::new(&limits, Instant::now());
        assert!(b.reserve_gas(100).is_ok());
        b.spend_gas(60);
        assert_eq!(b.reserve_gas(41).expect_err("over budget").code, 1103);
        assert!(b.reserve_gas(40).is_ok());
        b.spend_gas(1_000);
        assert_eq!(b.reserve_gas(1).expect_err("spent").code, 1103);
    }

    #[test]
    fn budget_past_its_deadline_times_out() {
        let limits = RpcLimits {
            request_timeout_ms: 0,
            ..RpcLimits::default()
        };
        let b = RequestBudget::new(&limits, Instant::now());
        assert_eq!(b.check_deadline().expect_err("late").code, 1104);
    }
}
