//! Parallel block execution (ADR 0013): optimistic, Block-STM style, committed in block order.
//!
//! Worker threads take transactions in block order and execute each one *speculatively* on the
//! state as of the last committed prefix (base state + [`MvMemory`] versions), recording the
//! keys it reads. Whoever holds the commit lock commits transactions strictly in block order:
//! transaction `j`, speculated on the prefix of its first `s` transactions, is valid when no
//! transaction in `s..j` wrote a key it read; then its writes become version `j`. Otherwise (or
//! when speculation hit an operating error) it is re-executed on the exact prefix `j` — the
//! state serial execution sees — so every transaction runs at most twice, and the outcome is
//! serial execution's, bit for bit.
//!
//! Governance transactions (committee, roles, parameters, epochs) are barriers: the block is
//! split at them and each runs alone on the exact prefix. Short segments run inline.

mod mv;

use crate::ExecutionError;
use crate::context::{BlockContext, TxInput};
use crate::executor::{BlockOutcome, Executor};
use crate::keys::StateKey;
use crate::overlay::StateView;
use keel_types::{Address, Hash, Payload, Receipt};
use mv::{MvMemory, PrefixView, Seen, TrackedView};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Segments shorter than this run inline on the calling thread.
const MIN_PARALLEL: usize = 8;
/// How many transactions per thread past the last committed one workers may speculate (the
/// more, the more work a conflict wastes; the fewer, the sooner a slow committer stalls them).
const WINDOW_PER_THREAD: usize = 8;
/// Of the last 64 commits, this many re-executions make the segment *contended*: workers stop
/// speculating (it would be wasted) and the committer executes the next transactions in order,
/// as serial execution does, for a hold period; then speculation is tried again.
const CONTENDED: u32 = 8;
/// First hold period (transactions); it doubles, up to [`MAX_HOLD`], each time contention comes
/// back right after a hold (a hot block stays serial, a hot burst does not).
const FIRST_HOLD: usize = 64;
const MAX_HOLD: usize = 4_096;

/// One execution of one transaction: its receipt, its writes (sorted), its evidence record.
#[derive(Debug)]
pub(crate) struct TxRun {
    pub(crate) receipt: Receipt,
    pub(crate) writes: Vec<(StateKey, Option<Vec<u8>>)>,
    pub(crate) evidence: Vec<(Address, Hash)>,
}

/// A speculative execution, with what validating it needs.
struct Spec {
    /// Length of the committed prefix it read.
    snapshot: u32,
    /// Keys it read from that prefix.
    reads: Vec<(StateKey, Seen)>,
    run: Result<TxRun, ExecutionError>,
}

/// The block's results so far, in block order.
#[derive(Default)]
struct Acc {
    receipts: Vec<Receipt>,
    gas_used: u64,
    new_evidence: Vec<(Address, Hash)>,
    error: Option<ExecutionError>,
    /// Speculations found invalid and re-executed.
    reexecuted: usize,
}

impl Acc {
    /// Add a committed run's receipt and evidence; give back its writes.
    fn push(&mut self, run: TxRun) -> Vec<(StateKey, Option<Vec<u8>>)> {
        self.gas_used = self.gas_used.saturating_add(run.receipt.gas_used);
        self.receipts.push(run.receipt);
        self.new_evidence.extend(run.evidence);
        run.writes
    }
}

/// Whether `input` must run alone: governance can change who may do what (and epochs and
/// parameters), which every later transaction depends on.
fn is_barrier(input: &TxInput<'_>) -> bool {
    matches!(input.tx.tx.payload, Payload::Gov(_))
}

/// Execute `txs` on `view` with `threads` threads (≥ 2); same result as serial execution.
pub(crate) fn execute(
    exec: &Executor,
    view: &(dyn StateView + Sync),
    ctx: BlockContext,
    txs: &[TxInput<'_>],
    threads: usize,
) -> Result<BlockOutcome, ExecutionError> {
    let block = Block {
        exec,
        base: view,
        mv: MvMemory::with_capacity(3 * txs.len()),
        ctx,
        txs,
    };
    let mut acc = Acc::default();
    let mut start = 0;
    while start < txs.len() {
        let end = (start..txs.len())
            .find(|&i| is_barrier(&txs[i]))
            .unwrap_or(txs.len());
        if end - start >= MIN_PARALLEL {
            block.run_segment(start, end, threads, &mut acc);
        } else {
            (start..end).for_each(|j| block.run_inline(j, &mut acc));
        }
        if end < txs.len() {
            block.run_inline(end, &mut acc);
        }
        if let Some(e) = acc.error {
            return Err(e);
        }
        start = end + 1;
    }
    Ok(BlockOutcome {
        receipts: acc.receipts,
        changes: block.mv.into_changes(),
        gas_used: acc.gas_used,
        new_evidence: acc.new_evidence,
    })
}

/// What every segment of a block shares.
struct Block<'a> {
    exec: &'a Executor,
    base: &'a (dyn StateView + Sync),
    mv: MvMemory,
    ctx: BlockContext,
    txs: &'a [TxInput<'a>],
}

/// Transaction indices are bounded by the block size limit, far below `u32::MAX`.
fn idx(j: usize) -> u32 {
    u32::try_from(j).unwrap_or(u32::MAX)
}

impl Block<'_> {
    /// Execute transaction `j` on the exact state serial execution gives it.
    fn exact(&self, j: usize) -> Result<TxRun, ExecutionError> {
        let view = PrefixView {
            mv: &self.mv,
            base: self.base,
            before: idx(j),
        };
        self.exec.run_tx(&view, self.ctx, &self.txs[j])
    }

    /// Execute and commit transaction `j` on this thread (all before it are committed).
    fn run_inline(&self, j: usize, acc: &mut Acc) {
        if acc.error.is_some() {
            return;
        }
        match self.exact(j) {
            Ok(run) => self.mv.write(idx(j), acc.push(run)),
            Err(e) => acc.error = Some(e),
        }
    }

    /// Execute `start..end` (no barrier inside) with `threads` threads, committing into `acc`.
    fn run_segment(&self, start: usize, end: usize, threads: usize, acc: &mut Acc) {
        if acc.error.is_some() {
            return;
        }
        let seg = Segment::new(self, (start, end), threads, acc);
        std::thread::scope(|s| {
            for _ in 1..threads {
                s.spawn(|| seg.work());
            }
            seg.work();
        });
    }
}

/// One barrier-free run of transactions executed in parallel.
struct Segment<'a, 'b> {
    block: &'a Block<'a>,
    start: usize,
    end: usize,
    /// Next transaction to speculate.
    next: AtomicUsize,
    /// Transactions committed: the block's committed prefix length.
    committed: AtomicUsize,
    /// Speculative results waiting for commit, by index − `start`.
    slots: Vec<Mutex<Option<Spec>>>,
    /// The commit lock and what it guards.
    acc: Mutex<&'b mut Acc>,
    /// An operating error stopped the block.
    failed: AtomicBool,
    /// The last 64 commits, newest in bit 0: 1 = re-executed.
    recent: AtomicU64,
    /// Contended: no speculation until this many transactions are committed.
    hold_until: AtomicUsize,
    /// Length of the last hold (committer-owned).
    hold: AtomicUsize,
    /// Speculation window (transactions past the last committed one).
    window: usize,
}

/// What a worker does next.
enum Next {
    Speculate(usize),
    Wait,
    Done,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<'a, 'b> Segment<'a, 'b> {
    fn new(block: &'a Block<'a>, range: (usize, usize), threads: usize, acc: &'b mut Acc) -> Self {
        let (start, end) = range;
        Segment {
            block,
            start,
            end,
            next: AtomicUsize::new(start),
            committed: AtomicUsize::new(start),
            slots: (start..end).map(|_| Mutex::new(None)).collect(),
            acc: Mutex::new(acc),
            failed: AtomicBool::new(false),
            recent: AtomicU64::new(0),
            hold_until: AtomicUsize::new(0),
            hold: AtomicUsize::new(0),
            window: WINDOW_PER_THREAD * threads,
        }
    }

    /// A worker: commit what is ready, speculate the next transaction, until all committed.
    /// Waiting is blocking on the commit lock: a contended segment runs on one thread while
    /// the others sleep.
    fn work(&self) {
        while !self.failed.load(Ordering::Acquire) {
            match self.next_task() {
                Next::Speculate(j) => {
                    let spec = self.speculate(j);
                    *lock(&self.slots[j - self.start]) = Some(spec);
                    if let Ok(mut acc) = self.acc.try_lock() {
                        self.commit_ready(&mut acc);
                    }
                }
                Next::Wait => {
                    if !self.commit_ready(&mut lock(&self.acc)) {
                        std::thread::yield_now();
                    }
                }
                Next::Done => return,
            }
        }
    }

    fn contended(&self) -> bool {
        self.committed.load(Ordering::Acquire) < self.hold_until.load(Ordering::Relaxed)
    }

    /// Under the commit lock, after committing `j`: note whether it was re-executed, and enter
    /// a hold when re-executions pile up (see [`CONTENDED`]).
    fn note(&self, j: usize, reexecuted: bool) {
        let recent = self.recent.load(Ordering::Relaxed) << 1 | u64::from(reexecuted);
        if recent.count_ones() < CONTENDED {
            self.recent.store(recent, Ordering::Relaxed);
            return;
        }
        let last_end = self.hold_until.load(Ordering::Relaxed);
        let hold = match self.hold.load(Ordering::Relaxed) {
            h if h > 0 && j < last_end + 2 * FIRST_HOLD => (2 * h).min(MAX_HOLD),
            _ => FIRST_HOLD,
        };
        self.hold.store(hold, Ordering::Relaxed);
        self.hold_until.store(j + 1 + hold, Ordering::Relaxed);
        self.recent.store(0, Ordering::Relaxed);
    }

    fn next_task(&self) -> Next {
        loop {
            let committed = self.committed.load(Ordering::Acquire);
            if committed >= self.end {
                return Next::Done;
            }
            let j = self.next.load(Ordering::Acquire);
            if j >= self.end || j >= committed + self.window || self.contended() {
                return Next::Wait;
            }
            if self.claim(j) {
                return Next::Speculate(j);
            }
        }
    }

    /// Take transaction `j` if no one has.
    fn claim(&self, j: usize) -> bool {
        self.next
            .compare_exchange(j, j + 1, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Execute `j` on the committed prefix as it is now, recording its reads.
    fn speculate(&self, j: usize) -> Spec {
        let snapshot = idx(self.committed.load(Ordering::Acquire));
        let view = TrackedView {
            prefix: PrefixView {
                mv: &self.block.mv,
                base: self.block.base,
                before: snapshot,
            },
            reads: std::cell::RefCell::new(Vec::with_capacity(8)),
        };
        let run = self
            .block
            .exec
            .run_tx(&view, self.block.ctx, &self.block.txs[j]);
        Spec {
            snapshot,
            reads: view.reads.into_inner(),
            run,
        }
    }

    /// Commit, in order, every transaction whose speculation is done (validating it, and
    /// re-executing it if invalid); execute inline the next one if no one has taken it, until
    /// the segment is no longer contended. Whether anything was committed.
    fn commit_ready(&self, acc: &mut Acc) -> bool {
        let mut progressed = false;
        loop {
            let j = self.committed.load(Ordering::Acquire);
            if j >= self.end || self.failed.load(Ordering::Acquire) {
                return progressed;
            }
            let spec = lock(&self.slots[j - self.start]).take();
            let before = acc.reexecuted;
            let run = match spec {
                Some(spec) => self.validated(acc, j, spec),
                None if progressed && !self.contended() => return true,
                None if self.claim(j) => self.block.exact(j),
                None => return progressed,
            };
            self.note(j, acc.reexecuted > before);
            match run {
                Ok(run) => self.block.mv.write(idx(j), acc.push(run)),
                Err(e) => {
                    acc.error = Some(e);
                    self.failed.store(true, Ordering::Release);
                    return true;
                }
            }
            self.committed.store(j + 1, Ordering::Release);
            progressed = true;
        }
    }

    /// The speculative run if every value it read is still the value at its position (all
    /// before it are committed, so a key's newest version is that value): unwritten since the
    /// snapshot, or rewritten with the same bytes (an EVM call rewrites the contract's account
    /// unchanged); else a re-execution on the exact prefix.
    fn validated(&self, acc: &mut Acc, j: usize, spec: Spec) -> Result<TxRun, ExecutionError> {
        let mv = &self.block.mv;
        let unchanged = |(k, seen): &(StateKey, Seen)| match mv.last_writer(k) {
            None => true,
            Some(w) if w < spec.snapshot => true,
            Some(_) => mv.newest_is(k, seen),
        };
        match spec.run {
            Ok(run) if spec.reads.iter().all(unchanged) => Ok(run),
            _ => {
                acc.reexecuted += 1;
                self.block.exact(j)
            }
        }
    }
}

#[cfg(test)]
mod tests;
