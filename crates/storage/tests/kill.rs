//! Crash test: a child process commits numbered batches with `Durability::Sync` and prints
//! `committed N` after each; the parent SIGKILLs it at random moments, reopens the store and
//! checks that every acknowledged batch survived and that no batch is partially visible.
//!
//! The child is this same test binary re-executed with `CHILD_DIR_ENV` set, running only
//! `kill_child_writer`. Replay a failure with `KEEL_KILL_SEED=<seed>`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use keel_storage::{Durability, Store, StoreOptions, Table};

const CHILD_DIR_ENV: &str = "KEEL_STORAGE_KILL_CHILD_DIR";
const SEED_ENV: &str = "KEEL_KILL_SEED";
const ROUNDS: usize = 8;
const CHILD_BATCHES_MAX: u64 = 200_000;
/// Safety bound of a child that is never killed (it is, well before this).
const CHILD_RUN_MAX: Duration = Duration::from_secs(180);
/// Generous for a loaded CI box; a healthy child prints within milliseconds.
const FIRST_LINE_WAIT_MAX: Duration = Duration::from_secs(120);
const KILL_DELAY_MS_MAX: u64 = 400;
/// Large enough that memtable rotation and flushes happen during the run.
const BODY_LEN_BYTES: usize = 4096;
const COUNTER_KEY: &[u8] = b"counter";
const LATEST_KEY: &[u8] = b"latest";

fn read_counter(store: &Store) -> u64 {
    store
        .get(Table::Meta, COUNTER_KEY)
        .expect("read counter")
        .map_or(0, |v| {
            u64::from_be_bytes(v.try_into().expect("counter is 8 bytes"))
        })
}

fn body(n: u64) -> Vec<u8> {
    let mut v = vec![u8::try_from(n % 251).expect("< 251"); BODY_LEN_BYTES];
    v[..8].copy_from_slice(&n.to_be_bytes());
    v
}

/// Child mode: commit batches until killed (or the bounds are hit).
#[test]
fn kill_child_writer() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return; // Not in child mode: nothing to do.
    };
    let store = Store::open(Path::new(&dir), StoreOptions::default()).expect("child open");
    let start = Instant::now();
    let first = read_counter(&store) + 1;
    for n in first..first + CHILD_BATCHES_MAX {
        if start.elapsed() > CHILD_RUN_MAX {
            break;
        }
        let key = n.to_be_bytes();
        let mut batch = store.batch();
        batch.put(Table::Headers, &key, &[&key[..], b"header"].concat());
        batch.put(Table::Bodies, &key, &body(n));
        batch.put(Table::Receipts, &key, &[&key[..], b"receipt"].concat());
        batch.put(Table::TxIndex, LATEST_KEY, &key);
        // Deletes are part of the atomic unit too: only the newest 4 receipts stay.
        if let Some(old) = n.checked_sub(4) {
            batch.delete(Table::Receipts, &old.to_be_bytes());
        }
        batch.put(Table::Meta, COUNTER_KEY, &key);
        batch.commit(Durability::Sync).expect("child commit");
        println!("committed {n}");
    }
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        // xorshift64*: plenty for picking kill moments.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// Runs one child, kills it, and returns the highest batch number it acknowledged.
fn run_child_and_kill(dir: &Path, rng: &mut Rng) -> Option<u64> {
    let exe = std::env::current_exe().expect("current exe");
    let mut child = Command::new(exe)
        .args([
            "kill_child_writer",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel::<u64>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line.strip_prefix("committed ") {
                let n = n.trim().parse().expect("child prints numbers");
                if tx.send(n).is_err() {
                    break;
                }
            }
        }
    });
    let mut acked = None;
    // Sometimes kill while the child is still opening/recovering, usually mid-stream.
    if rng.below(4) != 0 {
        match rx.recv_timeout(FIRST_LINE_WAIT_MAX) {
            Ok(n) => acked = Some(n),
            Err(e) => panic!("child produced no commit within {FIRST_LINE_WAIT_MAX:?}: {e}"),
        }
    }
    std::thread::sleep(Duration::from_millis(rng.below(KILL_DELAY_MS_MAX)));
    child.kill().expect("SIGKILL child"); // `Child::kill` sends SIGKILL on unix.
    child.wait().expect("reap child");
    reader.join().expect("reader thread");
    acked.into_iter().chain(rx.try_iter()).max()
}

fn check_consistent(store: &Store, acked: Option<u64>) -> u64 {
    let counter = read_counter(store);
    if let Some(acked) = acked {
        assert!(
            counter >= acked,
            "acknowledged batch {acked} lost; counter = {counter}"
        );
    }
    let all = |t: Table| store.scan_prefix(t, b"", usize::MAX).expect("scan");
    let headers = all(Table::Headers);
    let bodies = all(Table::Bodies);
    assert_eq!(headers.len() as u64, counter, "headers count vs counter");
    assert_eq!(bodies.len() as u64, counter, "bodies count vs counter");
    for (i, ((hk, hv), (bk, bv))) in headers.iter().zip(&bodies).enumerate() {
        let n = i as u64 + 1;
        let key = n.to_be_bytes();
        assert_eq!(hk.as_slice(), key, "header keys contiguous");
        assert_eq!(hv, &[&key[..], b"header"].concat());
        assert_eq!(bk.as_slice(), key, "body keys contiguous");
        assert_eq!(bv, &body(n), "body {n} intact");
    }
    let receipts: Vec<u64> = all(Table::Receipts)
        .iter()
        .map(|(k, _)| u64::from_be_bytes(k.as_slice().try_into().expect("8-byte key")))
        .collect();
    let want: Vec<u64> = (counter.saturating_sub(3).max(1)..=counter).collect();
    assert_eq!(receipts, want, "receipt window matches counter {counter}");
    let latest = store.get(Table::TxIndex, LATEST_KEY).expect("latest");
    assert_eq!(
        latest,
        (counter > 0).then(|| counter.to_be_bytes().to_vec())
    );
    counter
}

#[test]
fn sigkill_mid_commit_loses_no_acknowledged_batch_and_tears_none() {
    let seed = std::env::var(SEED_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64 | 1)
        });
    eprintln!("kill test seed: {SEED_ENV}={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut previous = 0;
    for round in 0..ROUNDS {
        let acked = run_child_and_kill(dir.path(), &mut rng);
        let store = Store::open(dir.path(), StoreOptions::default()).expect("reopen after kill");
        let counter = check_consistent(&store, acked);
        assert!(counter >= previous, "counter went backwards");
        eprintln!("round {round}: acked {acked:?}, recovered counter {counter}");
        previous = counter;
    }
    assert!(previous > 0, "no batch was ever committed");
}
