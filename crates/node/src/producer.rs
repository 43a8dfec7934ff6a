//! The solo block producer: a thread that commits a block when the pool holds a full block, or
//! when `block_interval_ms` has passed since the last block and transactions are pending (or
//! empty blocks are enabled). A failed block halts the node ([`Node::halt`]) instead of
//! retrying: see ADR 0001 on why a failed commit must be followed by a restart.

use crate::{Node, ProducerConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Handle to the producer thread; stops it on drop.
#[derive(Debug)]
pub struct Producer {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// Wall-clock milliseconds since the Unix epoch (the node, not consensus, reads the clock).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Longest sleep between checks of the pool.
const POLL: Duration = Duration::from_millis(20);

impl Producer {
    /// Start producing.
    pub fn spawn(node: Arc<Node>, cfg: ProducerConfig) -> Producer {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("keel-producer".into())
            .spawn(move || run(&node, &cfg, &flag))
            .expect("spawning the producer thread");
        Producer {
            stop,
            handle: Some(handle),
        }
    }

    /// Stop and wait for the thread (an in-flight block finishes committing first).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn run(node: &Node, cfg: &ProducerConfig, stop: &AtomicBool) {
    let interval = Duration::from_millis(cfg.block_interval_ms.max(1));
    let mut last_block = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        let pending = node.mempool().len();
        let due = last_block.elapsed() >= interval;
        let full = pending >= cfg.max_block_txs;
        if full || (due && (pending > 0 || cfg.empty_blocks)) {
            match node.produce_block(now_ms(), cfg.max_block_txs, cfg.empty_blocks) {
                Ok(Some(_)) => last_block = Instant::now(),
                Ok(None) => {}
                Err(e) => {
                    // Nothing of the failed block is visible (it was one batch), but the storage
                    // engine may be poisoned (failed fsync): stop and let the operator restart.
                    node.halt(format!("block production failed: {e}"));
                    return;
                }
            }
            continue;
        }
        let wait = if due {
            POLL
        } else {
            interval.saturating_sub(last_block.elapsed()).min(POLL)
        };
        node.wait_for_event(u64::MAX, wait);
    }
}
