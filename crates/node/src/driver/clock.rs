//! The driver's clocks, read once per event by the run loop and passed into the parts, so that
//! they stay pure (and a simulator can drive them with its own time).

use std::time::Instant;

/// One reading of the wall clock (header timestamps) and the monotonic clock (deadlines).
#[derive(Clone, Copy, Debug)]
pub struct Now {
    /// Milliseconds since the Unix epoch.
    pub wall_ms: u64,
    /// Monotonic instant.
    pub mono: Instant,
}

impl Now {
    /// Read the system clocks.
    pub fn read() -> Now {
        Now {
            wall_ms: crate::producer::now_ms(),
            mono: Instant::now(),
        }
    }
}
