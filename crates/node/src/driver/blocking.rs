//! Running block execution without stalling the runtime: inside a multi-threaded tokio runtime
//! the work moves off the async worker (`block_in_place`); anywhere else (a simulator calling
//! the driver's steps directly, a current-thread runtime) it simply runs, since
//! `block_in_place` would panic there.

use tokio::runtime::{Handle, RuntimeFlavor};

/// Run `f`, via `block_in_place` when on a multi-threaded tokio runtime.
pub(crate) fn run_blocking<T>(f: impl FnOnce() -> T) -> T {
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::run_blocking;

    /// A simulator calls the driver's steps with no runtime, or from a current-thread one;
    /// `block_in_place` panics in both.
    #[test]
    fn runs_without_a_runtime_and_on_a_current_thread_runtime() {
        assert_eq!(run_blocking(|| 1), 1);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime builds");
        assert_eq!(rt.block_on(async { run_blocking(|| 2) }), 2);
    }
}
