//! Kill-safety of the shard store, with a real process kill.
//!
//! A child process (this test binary, re-run on `child_writer`) puts shards, printing
//! `begin <i>` before and `acked <i>` after each `put`. The parent kills it (SIGKILL) as it
//! begins a put, reopens the store and checks: every acknowledged shard is there and valid, no
//! half shard is visible, the temp folder is empty and usage equals the shards present.
//!
//! Where inside a put the kill lands depends on the scheduler (on a fast disk it is mostly
//! before the first write), so the states a crash leaves *inside* a put are covered
//! deterministically by `src/store/crash_tests.rs`. A kill keeps the page cache: neither test
//! proves power-loss durability, which rests on the fsyncs (`docs/filestore.md`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use keel_crypto::HashAlgorithm;
use keel_filestore::{OwnerId, Quota, ShardAddress, ShardStore, StoreConfig};

const CHILD_DIR_ENV: &str = "KEEL_FILESTORE_CRASH_CHILD_DIR";
const CHILD_START_ENV: &str = "KEEL_FILESTORE_CRASH_CHILD_START";
const OWNER: OwnerId = OwnerId([0x5e; 20]);
const PUTS_PER_CHILD_MAX: u64 = 100_000;

fn config() -> StoreConfig {
    StoreConfig::new(Quota {
        bytes_max: u64::MAX,
        shards_max: u64::MAX,
    })
}

/// Shard `i`: distinct bytes, 1 B to 4 KiB, cheap to make and to hash, so that a put's time
/// goes to its writes and fsyncs and the kill lands in one of them.
fn shard(i: u64) -> (ShardAddress, Vec<u8>) {
    let len = 1 + (i * 7919 % 4096) as usize;
    let mut bytes = vec![i as u8 ^ 0x5a; len];
    let tag = i.to_le_bytes();
    let n = tag.len().min(len);
    bytes[..n].copy_from_slice(&tag[..n]);
    (ShardAddress::of(HashAlgorithm::Sha256, &bytes), bytes)
}

/// The writer; does nothing unless started by `killed_writers_lose_no_acknowledged_shard`.
#[test]
fn child_writer() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    let start: u64 = std::env::var(CHILD_START_ENV)
        .expect("start index")
        .parse()
        .expect("a number");
    let mut store = ShardStore::open(Path::new(&dir), config()).expect("child opens");
    let mut next = shard(start);
    for i in start..start + PUTS_PER_CHILD_MAX {
        let (address, bytes) = next;
        println!("begin {i}");
        store.put(OWNER, &address, &bytes).expect("child put");
        println!("acked {i}");
        next = shard(i + 1);
    }
}

/// Runs a child from `start` and kills it as soon as it says it begins put number `kill_after`
/// (counted from 0), so the kill lands inside that put (temp write, fsync, rename or folder
/// fsync) or just after it; returns every ack the child printed.
fn run_and_kill(dir: &Path, start: u64, kill_after: usize) -> Vec<u64> {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_ENV, dir)
        .env(CHILD_START_ENV, start.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut acked = Vec::new();
    let mut killed = false;
    for line in stdout.lines() {
        let line = line.expect("child output");
        if let Some(i) = line.strip_prefix("acked ") {
            acked.push(i.parse().expect("index"));
        }
        if !killed && line.starts_with("begin ") && acked.len() >= kill_after {
            child.kill().expect("kill child");
            killed = true; // Keep reading: acks already in the pipe count too.
        }
    }
    child.wait().expect("reap child");
    assert!(killed, "the child ended before {kill_after} acks");
    acked
}

#[test]
fn killed_writers_lose_no_acknowledged_shard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut acked = Vec::new();
    let mut next = 0;
    for (round_no, kill_after) in [1, 2, 4, 7, 11, 16, 22].into_iter().enumerate() {
        let round = run_and_kill(dir.path(), next, kill_after);
        next = round.last().map_or(next, |i| i + 2); // Skip the one that was in flight.
        acked.extend(round);

        let store = ShardStore::open(dir.path(), config()).expect("reopen after kill");
        assert_eq!(store.open_report().unreadable_shards, 0, "no half shard");
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp"))
                .expect("tmp")
                .count(),
            0
        );
        for &i in &acked {
            let (address, bytes) = shard(i);
            assert_eq!(store.get(&address).expect("get"), Some(bytes), "acked {i}");
        }
        let listed = store.list().expect("list");
        // Each killed child may have renamed one shard it never got to acknowledge.
        let extra = listed.len() - acked.len();
        assert!(extra <= round_no + 1, "{extra} unacknowledged shards");
        let mut bytes_total = 0;
        for address in &listed {
            bytes_total += store.get(address).expect("valid").expect("present").len() as u64;
        }
        assert_eq!(store.usage(&OWNER).bytes, bytes_total);
        assert_eq!(store.usage(&OWNER).shards, listed.len() as u64);
    }
}
