//! Shared helpers for the process-level tests: run the real `keel` binary, a node child process
//! that is always killed and reaped (even when an assertion fails), and a small JSON-RPC client.
//!
//! Every wait here is bounded both in time and in iterations.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// Path of the `keel` binary under test.
pub const KEEL: &str = env!("CARGO_BIN_EXE_keel");

/// How long a freshly started node may take to answer `keel_health`.
pub const HEALTHY_TIMEOUT: Duration = WAIT;

/// Upper bound of every wait on a condition in these tests: generous for a loaded CI box (3x
/// slower than a dev machine); a healthy run leaves each wait as soon as its condition holds.
pub const WAIT: Duration = Duration::from_secs(120);

/// A `keel` command with a quiet, predictable environment.
pub fn keel() -> Command {
    let mut c = Command::new(KEEL);
    c.env_remove("KEEL_RPC").env("RUST_LOG", "info");
    c
}

/// Run `keel ARGS` to completion and capture its output.
pub fn run(args: &[&str]) -> Output {
    keel()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running keel")
}

/// Run `keel ARGS`, assert exit 0, return stdout.
pub fn run_ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "keel {args:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// A free TCP port on 127.0.0.1 (bound, then released for the node to take).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// `keel init --suite SUITE --dir DIR --rpc-listen 127.0.0.1:PORT EXTRA...`.
pub fn init_chain(suite: &str, dir: &Path, port: u16, extra: &[&str]) -> String {
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec![
        "init",
        "--suite",
        suite,
        "--dir",
        dir.to_str().expect("utf-8 path"),
        "--rpc-listen",
        &listen,
    ];
    args.extend_from_slice(extra);
    run_ok(&args)
}

/// A running `keel node start` child. Dropping it kills (SIGKILL) and reaps the process.
pub struct NodeProc {
    child: Option<Child>,
    /// Where the node's stdout goes.
    pub stdout_path: PathBuf,
    /// Where the node's stderr (logs) goes.
    pub stderr_path: PathBuf,
}

impl NodeProc {
    /// Start `keel node start --dir DIR`; output goes to files `DIR/node-LABEL.{out,err}`.
    pub fn start(dir: &Path, label: &str) -> NodeProc {
        let stdout_path = dir.join(format!("node-{label}.out"));
        let stderr_path = dir.join(format!("node-{label}.err"));
        let child = keel()
            .args(["node", "start", "--dir"])
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
            .spawn()
            .expect("spawning keel node start");
        NodeProc {
            child: Some(child),
            stdout_path,
            stderr_path,
        }
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// The node's stdout and stderr so far (for failure messages).
    pub fn logs(&self) -> String {
        let out = std::fs::read_to_string(&self.stdout_path).unwrap_or_default();
        let err = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        // Keep failure messages readable: the tail of the log is what matters.
        let tail: String = {
            let lines: Vec<&str> = err.lines().collect();
            let from = lines.len().saturating_sub(40);
            lines[from..].join("\n")
        };
        format!("--- node stdout ---\n{out}--- node stderr (tail) ---\n{tail}")
    }

    /// Has the process exited already? (Non-blocking.)
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().expect("try_wait"))
    }

    /// Wait until the node answers `keel_health`, panicking with its logs after `timeout` or if
    /// it exits.
    pub fn wait_healthy(&mut self, rpc: &Rpc, timeout: Duration) -> Value {
        let start = Instant::now();
        for _ in 0..10_000 {
            if let Some(st) = self.try_status() {
                panic!("node exited early with {st}\n{}", self.logs());
            }
            if let Ok(v) = rpc.call("keel_health", json!([]))
                && v["status"] == "ok"
            {
                return v;
            }
            if start.elapsed() > timeout {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "node not healthy at {} within {timeout:?}\n{}",
            rpc.url,
            self.logs()
        );
    }

    /// SIGKILL and reap.
    pub fn kill(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = child.kill();
        child.wait().expect("reaping the node")
    }

    /// SIGTERM (via `kill -TERM`) and wait up to `timeout` for a clean exit. Returns the exit
    /// status, or `None` if it did not exit in time (it is then SIGKILLed on drop).
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let pid = self.pid();
        let st = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("running kill -TERM");
        assert!(st.success(), "kill -TERM {pid} failed: {st}");
        let start = Instant::now();
        for _ in 0..100_000 {
            if let Some(st) = self.try_status() {
                self.child = None;
                return Some(st);
            }
            if start.elapsed() > timeout {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A JSON-RPC error or transport failure.
#[derive(Debug)]
pub enum RpcFail {
    /// Could not talk to the node.
    Transport(String),
    /// The node answered with a JSON-RPC error object.
    Rpc(Value),
}

/// A minimal blocking JSON-RPC 2.0 client. Make a new one per node process: pooled keep-alive
/// connections do not survive a restart.
pub struct Rpc {
    /// Endpoint.
    pub url: String,
    agent: ureq::Agent,
}

impl Rpc {
    /// Client for `http://127.0.0.1:PORT`.
    pub fn new(port: u16) -> Rpc {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Rpc {
            url: format!("http://127.0.0.1:{port}"),
            agent,
        }
    }

    /// Call `method`.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, RpcFail> {
        let req = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let mut resp = self
            .agent
            .post(&self.url)
            .send_json(&req)
            .map_err(|e| RpcFail::Transport(e.to_string()))?;
        let v: Value = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_json()
            .map_err(|e| RpcFail::Transport(format!("bad response: {e}")))?;
        if let Some(e) = v.get("error") {
            return Err(RpcFail::Rpc(e.clone()));
        }
        Ok(v.get("result").cloned().unwrap_or(Value::Null))
    }

    /// Call `method`, panicking on any failure.
    pub fn ok(&self, method: &str, params: Value) -> Value {
        match self.call(method, params.clone()) {
            Ok(v) => v,
            Err(e) => panic!("{method} {params} failed: {e:?}"),
        }
    }
}

/// Parse a decimal-string amount (`"123"`) from JSON.
pub fn amount(v: &Value) -> u128 {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a decimal string, got {v}"))
        .parse()
        .unwrap_or_else(|e| panic!("bad amount {v}: {e}"))
}

/// Stdout + stderr of a finished command, for messages.
pub fn show(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The first of `n` consecutive free TCP ports on 127.0.0.1, chosen below the kernel's
/// ephemeral range so that an outgoing connection can never take one of them while its node is
/// down (a restart would then fail to bind). Bounded retries; `salt` varies the start.
pub fn free_port_block(n: u16, salt: u64) -> u16 {
    let ephemeral_low: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768);
    let lo: u64 = 10_000;
    let hi: u64 = u64::from(ephemeral_low.saturating_sub(n)).max(lo + 1);
    let mut x = salt ^ u64::from(std::process::id()).rotate_left(17);
    for _ in 0..200 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let base = u16::try_from(lo + (x >> 33) % (hi - lo)).expect("below u16::MAX");
        let held: Vec<_> = (0..n)
            .map_while(|k| std::net::TcpListener::bind(("127.0.0.1", base + k)).ok())
            .collect();
        if held.len() == usize::from(n) {
            return base;
        }
    }
    panic!("no block of {n} free ports found below {ephemeral_low}");
}

impl Rpc {
    /// Client for a URL such as `http://127.0.0.1:8545`.
    pub fn at(url: &str) -> Rpc {
        let mut r = Rpc::new(0);
        r.url = url.to_string();
        r
    }

    /// One JSON-RPC batch request (at most 100 calls): each call's result or error object, in
    /// call order.
    pub fn batch(&self, calls: &[(&str, Value)]) -> Result<Vec<Result<Value, Value>>, RpcFail> {
        let req: Vec<Value> = calls
            .iter()
            .enumerate()
            .map(|(i, (m, p))| json!({ "jsonrpc": "2.0", "id": i, "method": m, "params": p }))
            .collect();
        let mut resp = self
            .agent
            .post(&self.url)
            .send_json(&req)
            .map_err(|e| RpcFail::Transport(e.to_string()))?;
        let v: Value = resp
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_json()
            .map_err(|e| RpcFail::Transport(format!("bad response: {e}")))?;
        let Value::Array(items) = v else {
            return Err(RpcFail::Rpc(v));
        };
        let mut out: Vec<Option<Result<Value, Value>>> = vec![None; calls.len()];
        for item in items {
            let Some(i) = item["id"].as_u64().map(|i| i as usize) else {
                return Err(RpcFail::Rpc(item));
            };
            let r = match item.get("error") {
                Some(e) => Err(e.clone()),
                None => Ok(item.get("result").cloned().unwrap_or(Value::Null)),
            };
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(r);
            }
        }
        out.into_iter()
            .map(|r| r.ok_or_else(|| RpcFail::Transport("batch answer is missing a call".into())))
            .collect()
    }
}

/// splitmix64: tiny, seeded, good enough for picking kill targets, delays and amounts.
pub struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-ish in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// The seed from `var` (decimal u64) so a failure replays, else one from the clock.
pub fn seed_from_env(var: &str) -> u64 {
    match std::env::var(var) {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var} must be a decimal u64")),
        Err(_) => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            t.as_nanos() as u64 ^ u64::from(std::process::id())
        }
    }
}
