//! `keel network init|up|down|status`: a local consortium of validator processes on 127.0.0.1.
//!
//! Layout of a network folder `DIR` (made by `init`):
//!
//! ```text
//! DIR/genesis.json              shared genesis naming every validator
//! DIR/accounts/account-{i}.key  funded sample accounts
//! DIR/node-{i}/validator.key    the node's identity (consensus and P2P)
//! DIR/node-{i}/node.toml        rpc_listen, data_dir "data", genesis "../genesis.json", [p2p]
//! DIR/ca/                      with `--orgs N`: consortium root CA, org CAs, CRL (`keel ca`)
//! DIR/node-{i}/node.crt         with `--orgs N`: node certificate + its org CA (PEM chain)
//! DIR/node-{i}/root.crt, crl.pem  with `--orgs N`: trusted root and revocation list
//! DIR/node-{i}/node.log         stdout + stderr of the process started by `up` (appended)
//! DIR/node-{i}/node.pid         pid of that process while it runs
//! ```
//!
//! `up` starts each node as its own process group (Ctrl-C in the terminal does not reach the
//! nodes); `down` stops them with SIGTERM, then SIGKILL after a bound. A pid is only signalled
//! when it still runs `keel node start` for that node folder (checked through `/proc` on Linux),
//! so a stale pid file never hits an unrelated process.

use crate::CliError;
use crate::cmd_chain::sample_accounts;
use clap::{Args, Subcommand};
use keel_crypto::Suite;
use keel_ledger::{Genesis, GenesisValidator};
use keel_node::{KeyFile, NodeConfig, P2pConfig, PeerConfig};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Most validators `init` creates.
const MAX_VALIDATORS: usize = 16;
/// Most observers `init` creates.
const MAX_OBSERVERS: usize = 8;
/// Most organisations `init --orgs` creates.
const MAX_ORGS: usize = 16;
/// Validity of the node certificates `init --orgs` issues, days.
const NODE_CERT_DAYS: u64 = 365;
/// Lines of a node's log shown when it fails to start.
const LOG_TAIL_LINES: usize = 30;
/// How long a node may take to exit after SIGKILL before `down` gives up on it.
const KILL_WAIT: Duration = Duration::from_secs(5);

#[derive(Subcommand)]
pub(crate) enum NetworkCmd {
    /// Create a local consortium: keys, one shared genesis, per-node configs with distinct ports.
    Init(NetInitArgs),
    /// Start every node of DIR as its own background process and wait until all are healthy.
    Up {
        /// Network folder made by `keel network init`.
        dir: PathBuf,
        /// Give up (and stop the started nodes) if not all are healthy within this many seconds.
        #[arg(long, default_value_t = 60)]
        timeout_secs: u64,
    },
    /// Stop the nodes started by `keel network up` (SIGTERM, then SIGKILL after the timeout).
    Down {
        /// Network folder.
        dir: PathBuf,
        /// Seconds to wait for a clean exit before SIGKILL.
        #[arg(long, default_value_t = 20)]
        timeout_secs: u64,
    },
    /// Show each node's process, height and head hash.
    Status {
        /// Network folder.
        dir: PathBuf,
    },
}

#[derive(Args, Clone)]
pub(crate) struct NetInitArgs {
    /// Number of validators (1..=16).
    #[arg(long, default_value_t = 4)]
    pub(crate) validators: usize,
    /// Number of observer nodes (0..=8): they follow the chain and serve RPC but never vote.
    #[arg(long, default_value_t = 0)]
    pub(crate) observers: usize,
    /// Crypto suite: gm (SM2/SM3/SM4) or intl (Ed25519/SHA-256/AES-GCM).
    #[arg(long, default_value = "gm")]
    pub(crate) suite: Suite,
    /// Network folder to create.
    #[arg(long)]
    pub(crate) dir: PathBuf,
    /// Chain id (replay protection between chains).
    #[arg(long, default_value_t = 1001)]
    pub(crate) chain_id: u64,
    /// Chain name.
    #[arg(long, default_value = "keel-consortium")]
    pub(crate) chain_name: String,
    /// Number of funded sample accounts to create.
    #[arg(long, default_value_t = 4)]
    pub(crate) accounts: usize,
    /// Balance of each sample account.
    #[arg(long, default_value_t = 1_000_000_000_000)]
    pub(crate) balance: u128,
    /// Gas price (0 = free transactions).
    #[arg(long, default_value_t = 0)]
    pub(crate) gas_price: u128,
    /// Node i serves JSON-RPC on 127.0.0.1:(rpc-base-port + i).
    #[arg(long, default_value_t = 8545)]
    pub(crate) rpc_base_port: u16,
    /// Node i accepts peer links on 127.0.0.1:(p2p-base-port + i).
    #[arg(long, default_value_t = 30300)]
    pub(crate) p2p_base_port: u16,
    /// Base round timeout before exponential back-off, ms.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) round_timeout_ms: u64,
    /// Light pace: when a block is needed (transactions to order or to commit, a heartbeat), a
    /// leader proposes it this long after the previous one, ms, so that light load batches
    /// transactions (keep it well under the round timeout; ADR 0014).
    #[arg(long, default_value_t = 100)]
    pub(crate) block_interval_ms: u64,
    /// Busy pace: while the pool holds at least a full block, a leader proposes this long after
    /// the previous block, ms.
    #[arg(long, default_value_t = 10)]
    pub(crate) busy_block_interval_ms: u64,
    /// Idle heartbeat: with no transactions the chain makes no blocks until the last committed
    /// block is this old, ms (then about three); 0 = never (ADR 0014).
    #[arg(long, default_value_t = 60_000)]
    pub(crate) idle_heartbeat_ms: u64,
    /// Trailing heartbeat: for 12 s after the last block with transactions, a block every
    /// this many ms, so wallets watching for the next block after sending see one (ethers.js
    /// `wait()`); 0 = off (ADR 0014).
    #[arg(long, default_value_t = 1_000)]
    pub(crate) trail_heartbeat_ms: u64,
    /// Write into an existing folder (overwrites keys and configs; refuses if a node has data).
    #[arg(long)]
    pub(crate) force: bool,
    /// Build a multi-organisation consortium with certificates (0 = none, admission by
    /// address only): a root CA in DIR/ca, one CA per organisation (org-1..org-N) and for
    /// every node a certificate from its organisation's CA (node i belongs to org-(i mod N + 1));
    /// nodes then only link to peers presenting a valid chain (docs/pki.md).
    #[arg(long, default_value_t = 0)]
    pub(crate) orgs: usize,
}

pub(crate) fn run(c: NetworkCmd) -> Result<(), CliError> {
    match c {
        NetworkCmd::Init(a) => init(a),
        NetworkCmd::Up { dir, timeout_secs } => up(&dir, Duration::from_secs(timeout_secs)),
        NetworkCmd::Down { dir, timeout_secs } => down(&dir, Duration::from_secs(timeout_secs)),
        NetworkCmd::Status { dir } => status(&dir),
    }
}

// ---------------------------------------------------------------------------------------------
// init

/// `base + i` for every node, or a usage error naming the flag.
fn port_range(base: u16, n: usize, flag: &str) -> Result<Vec<u16>, CliError> {
    if base == 0 {
        return Err(CliError::Usage(format!("{flag} must be 1..=65535")));
    }
    (0..n)
        .map(|i| {
            u16::try_from(usize::from(base) + i).map_err(|_| {
                CliError::Usage(format!(
                    "{flag} {base} + {n} nodes does not fit in a TCP port (max 65535)"
                ))
            })
        })
        .collect()
}

pub(crate) fn init(a: NetInitArgs) -> Result<(), CliError> {
    let n = a.validators;
    if !(1..=MAX_VALIDATORS).contains(&n) {
        return Err(CliError::Usage(format!(
            "--validators must be 1..={MAX_VALIDATORS}, got {n}"
        )));
    }
    if a.observers > MAX_OBSERVERS {
        return Err(CliError::Usage(format!(
            "--observers must be 0..={MAX_OBSERVERS}, got {}",
            a.observers
        )));
    }
    // Node folders node-0..node-{n-1} are validators, then the observers.
    let total = n + a.observers;
    let rpc_ports = port_range(a.rpc_base_port, total, "--rpc-base-port")?;
    let p2p_ports = port_range(a.p2p_base_port, total, "--p2p-base-port")?;
    if let Some(p) = rpc_ports.iter().find(|p| p2p_ports.contains(p)) {
        return Err(CliError::Usage(format!(
            "port {p} would be both an RPC and a P2P port; move --rpc-base-port or --p2p-base-port apart"
        )));
    }
    if a.orgs > MAX_ORGS {
        return Err(CliError::Usage(format!(
            "--orgs must be 0..={MAX_ORGS}, got {}",
            a.orgs
        )));
    }
    if a.round_timeout_ms == 0 || a.block_interval_ms == 0 {
        return Err(CliError::Usage(
            "--round-timeout-ms and --block-interval-ms must be positive".into(),
        ));
    }
    let dir = &a.dir;
    let non_empty = match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(CliError::io(dir, e)),
    };
    if non_empty && !a.force {
        return Err(CliError::Usage(format!(
            "{} already exists and is not empty; choose another --dir, or pass --force to overwrite its keys and configs",
            dir.display()
        )));
    }
    // Never touch a database, even with --force: a new genesis would not open it anyway.
    for i in 0..MAX_VALIDATORS + MAX_OBSERVERS {
        let data = node_dir(dir, i).join("data");
        if data.exists() {
            return Err(CliError::Usage(format!(
                "{} holds a database; remove it first to create a new network",
                data.display()
            )));
        }
    }
    let suite = a.suite;
    let scheme = suite.signature_scheme();
    std::fs::create_dir_all(dir.join("accounts")).map_err(|e| CliError::io(dir, e))?;
    let alloc = sample_accounts(dir, a.accounts, suite, a.balance)?;
    let mut keys = Vec::with_capacity(total);
    let mut pairs = Vec::with_capacity(total);
    for i in 0..total {
        let nd = node_dir(dir, i);
        std::fs::create_dir_all(&nd).map_err(|e| CliError::io(&nd, e))?;
        let (kf, pair) = KeyFile::generate(scheme, suite)?;
        kf.save(&nd.join("validator.key"))?;
        keys.push(kf);
        pairs.push(pair);
    }
    let orgs = if a.orgs > 0 {
        Some(issue_node_certs(&a, &pairs)?)
    } else {
        None
    };
    let genesis = Genesis {
        governance: None,
        chain_id: a.chain_id,
        chain_name: a.chain_name.clone(),
        suite: suite.name().into(),
        timestamp_ms: keel_node::producer::now_ms(),
        gas_price: a.gas_price,
        validators: keys[..n]
            .iter()
            .enumerate()
            .map(|(i, k)| GenesisValidator {
                name: format!("validator-{i}"),
                scheme: scheme.name().into(),
                public_key: k.public_key.clone(),
                address: k.address,
            })
            .collect(),
        alloc,
        observers: keys[n..]
            .iter()
            .enumerate()
            .map(|(j, k)| GenesisValidator {
                name: format!("observer-{j}"),
                scheme: scheme.name().into(),
                public_key: k.public_key.clone(),
                address: k.address,
            })
            .collect(),
    };
    genesis.validate().map_err(CliError::Usage)?;
    genesis.save(&dir.join("genesis.json"))?;
    // Everyone dials the validators; observers are admitted inbound (from genesis).
    let peers: Vec<PeerConfig> = keys[..n]
        .iter()
        .zip(&p2p_ports)
        .map(|(k, port)| PeerConfig {
            address: k.address,
            socket: format!("127.0.0.1:{port}"),
        })
        .collect();
    for i in 0..total {
        let mut cfg = NodeConfig::new_in(format!("127.0.0.1:{}", rpc_ports[i]));
        cfg.genesis_file = "../genesis.json".into();
        cfg.p2p = Some(P2pConfig {
            listen: format!("127.0.0.1:{}", p2p_ports[i]),
            peers: peers.clone(),
            round_timeout_ms: a.round_timeout_ms,
            block_interval_ms: a.block_interval_ms,
            busy_block_interval_ms: a.busy_block_interval_ms,
            idle_heartbeat_ms: a.idle_heartbeat_ms,
            trail_heartbeat_ms: a.trail_heartbeat_ms,
            network_id: format!("{}/{}", a.chain_name, a.chain_id),
        });
        if orgs.is_some() {
            cfg.pki = Some(keel_node::CertConfig {
                root_cert: "root.crt".into(),
                cert_chain: "node.crt".into(),
                crl_file: Some("crl.pem".into()),
                expiry_warning_days: keel_node::DEFAULT_EXPIRY_WARNING_DAYS,
            });
        }
        cfg.save(&node_dir(dir, i).join("node.toml"))?;
    }
    println!(
        "initialised a {n}-validator {suite} consortium {:?} (chain id {}, {} observers) in {}",
        a.chain_name,
        a.chain_id,
        a.observers,
        dir.display()
    );
    for (i, k) in keys.iter().enumerate() {
        let role = if i < n { "validator" } else { "observer " };
        let org = orgs
            .as_ref()
            .map(|o| format!("  {}", o[i]))
            .unwrap_or_default();
        println!(
            "  node-{i}  {role} {}  rpc http://127.0.0.1:{}  p2p 127.0.0.1:{}{org}",
            k.address, rpc_ports[i], p2p_ports[i]
        );
    }
    if orgs.is_some() {
        println!(
            "  certificates: root CA and {} organisation CAs in {} (revoke with `keel ca revoke SERIAL --dir {}`, then copy crl.pem to the nodes)",
            a.orgs,
            dir.join("ca").display(),
            dir.join("ca").display()
        );
    }
    crate::cmd_chain::print_accounts(dir, &genesis.alloc);
    println!("start it with: keel network up {}", dir.display());
    Ok(())
}

/// `--orgs`: the consortium CA in DIR/ca, one CA per organisation, and a node certificate
/// (validator or observer) per node from its organisation's CA, written with the root and the
/// CRL next to the node's key. Returns each node's organisation.
fn issue_node_certs(
    a: &NetInitArgs,
    pairs: &[keel_crypto::KeyPair],
) -> Result<Vec<String>, CliError> {
    use crate::cmd_ca;
    let ca_dir = a.dir.join("ca");
    cmd_ca::ca_init(&cmd_ca::CaInitArgs {
        dir: ca_dir.clone(),
        suite: a.suite,
        name: a.chain_name.clone(),
        days: 3650,
        force: a.force,
    })?;
    let org_names: Vec<String> = (1..=a.orgs).map(|k| format!("org-{k}")).collect();
    for org in &org_names {
        cmd_ca::ca_org(&ca_dir, org, 1825)?;
    }
    let root = std::fs::read_to_string(ca_dir.join("root.crt"))
        .map_err(|e| CliError::io(ca_dir.join("root.crt"), e))?;
    let crl = std::fs::read_to_string(ca_dir.join("crl.pem"))
        .map_err(|e| CliError::io(ca_dir.join("crl.pem"), e))?;
    let mut assigned = Vec::with_capacity(pairs.len());
    for (i, pair) in pairs.iter().enumerate() {
        let org = &org_names[i % a.orgs];
        let role = if i < a.validators {
            keel_pki::Role::Validator
        } else {
            keel_pki::Role::Observer
        };
        let chain = cmd_ca::ca_issue(
            &ca_dir,
            org,
            role,
            &format!("node-{i}"),
            pair,
            NODE_CERT_DAYS,
        )?;
        let nd = node_dir(&a.dir, i);
        for (name, text) in [
            ("node.crt", cmd_ca::chain_pem(&chain)),
            ("root.crt", root.clone()),
            ("crl.pem", crl.clone()),
        ] {
            std::fs::write(nd.join(name), text).map_err(|e| CliError::io(nd.join(name), e))?;
        }
        assigned.push(org.clone());
    }
    Ok(assigned)
}

// ---------------------------------------------------------------------------------------------
// node folders, pid files, processes

fn node_dir(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("node-{i}"))
}

/// A node of a network folder.
struct NodeEntry {
    name: String,
    dir: PathBuf,
    rpc: String,
}

impl NodeEntry {
    fn pid_file(&self) -> PathBuf {
        self.dir.join("node.pid")
    }
    fn log_file(&self) -> PathBuf {
        self.dir.join("node.log")
    }
}

/// The `node-{i}` folders of `dir` (with a `node.toml`), in index order.
fn nodes(dir: &Path) -> Result<Vec<NodeEntry>, CliError> {
    let dir = dir.canonicalize().map_err(|e| CliError::io(dir, e))?;
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| CliError::io(&dir, e))? {
        let entry = entry.map_err(|e| CliError::io(&dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(index) = name
            .strip_prefix("node-")
            .and_then(|s| s.parse::<usize>().ok())
        else {
            continue;
        };
        let cfg_path = entry.path().join("node.toml");
        if !cfg_path.is_file() {
            continue;
        }
        let cfg = NodeConfig::load(&cfg_path)?;
        let rpc = rpc_url(&cfg.rpc_listen).map_err(|reason| {
            CliError::Usage(format!("{}: rpc_listen: {reason}", cfg_path.display()))
        })?;
        found.push((
            index,
            NodeEntry {
                name,
                dir: entry.path(),
                rpc,
            },
        ));
    }
    if found.is_empty() {
        return Err(CliError::Usage(format!(
            "{} has no node-*/node.toml; create a network with `keel network init --dir {}`",
            dir.display(),
            dir.display()
        )));
    }
    found.sort_by_key(|(i, _)| *i);
    Ok(found.into_iter().map(|(_, n)| n).collect())
}

/// `http://HOST:PORT` to reach a node listening on `listen` (a wildcard address is reached on
/// the loopback interface).
fn rpc_url(listen: &str) -> Result<String, String> {
    let mut addr: SocketAddr = listen
        .parse()
        .map_err(|_| format!("{listen:?} is not host:port"))?;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    Ok(format!("http://{addr}"))
}

fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn remove_pid_file(path: &Path) {
    let _ = std::fs::remove_file(path);
}

/// Is `pid` a live (not zombie) process running `keel node start` for `node_dir`?
///
/// On Linux this reads `/proc`: a zombie counts as gone, and a pid reused by another program
/// (its command line does not name `node_dir`) is not ours. Elsewhere, `kill -0` decides.
fn node_alive(pid: u32, node_dir: &Path) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    if Path::new("/proc/self/stat").exists() {
        let Ok(stat) = std::fs::read_to_string(proc_dir.join("stat")) else {
            return false;
        };
        // `pid (comm) S ...`: the state follows the last ')'.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next());
        if matches!(state, Some('Z' | 'X' | 'x') | None) {
            return false;
        }
        let Ok(cmdline) = std::fs::read(proc_dir.join("cmdline")) else {
            return true; // not readable (another user): trust the pid file
        };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let cwd = std::fs::read_link(proc_dir.join("cwd")).ok();
        let want = node_dir.canonicalize().ok();
        return args.windows(2).any(|w| {
            let dir_arg = match (w[0], w[1]) {
                (b"--dir", d) => PathBuf::from(String::from_utf8_lossy(d).into_owned()),
                (b"--config", c) => {
                    let c = PathBuf::from(String::from_utf8_lossy(c).into_owned());
                    c.parent().map(Path::to_path_buf).unwrap_or_default()
                }
                _ => return false,
            };
            let dir_arg = match (&cwd, dir_arg.is_relative()) {
                (Some(cwd), true) => cwd.join(dir_arg),
                _ => dir_arg,
            };
            dir_arg.canonicalize().ok() == want
        });
    }
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Send `signal` (`TERM`, `KILL`) to `pid`; false if `kill` failed.
fn signal(pid: u32, signal: &str) -> bool {
    Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The last `n` lines of a log file.
fn log_tail(path: &Path, n: usize) -> String {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// How a node was stopped.
enum Stopped {
    NotRunning,
    Term,
    Kill,
    Survived,
}

/// SIGTERM every live pid of `targets`, wait up to `timeout`, SIGKILL the rest, remove the pid
/// files. `children` are processes we spawned ourselves (reaped here so they are not zombies).
fn stop_all(
    targets: &[(&NodeEntry, Option<u32>)],
    children: &mut [Option<Child>],
    timeout: Duration,
) -> Vec<Stopped> {
    let mut result: Vec<Stopped> = Vec::with_capacity(targets.len());
    let mut live: Vec<usize> = Vec::new();
    for (i, (node, pid)) in targets.iter().enumerate() {
        match pid {
            Some(pid) if node_alive(*pid, &node.dir) && signal(*pid, "TERM") => {
                live.push(i);
                result.push(Stopped::Term);
            }
            _ => result.push(Stopped::NotRunning),
        }
    }
    let reap = |children: &mut [Option<Child>], i: usize| {
        if let Some(Some(c)) = children.get_mut(i) {
            let _ = c.try_wait();
        }
    };
    let alive = |children: &mut [Option<Child>], i: usize| {
        reap(children, i);
        let (node, pid) = &targets[i];
        pid.is_some_and(|p| node_alive(p, &node.dir))
    };
    let wait_for = |children: &mut [Option<Child>], live: &mut Vec<usize>, bound: Duration| {
        let start = Instant::now();
        while !live.is_empty() && start.elapsed() < bound {
            std::thread::sleep(Duration::from_millis(50));
            live.retain(|&i| alive(children, i));
        }
    };
    wait_for(children, &mut live, timeout);
    for &i in &live {
        if let Some(pid) = targets[i].1 {
            signal(pid, "KILL");
        }
        result[i] = Stopped::Kill;
    }
    wait_for(children, &mut live, KILL_WAIT);
    for &i in &live {
        result[i] = Stopped::Survived;
    }
    for (i, (node, _)) in targets.iter().enumerate() {
        if !matches!(result[i], Stopped::Survived) {
            remove_pid_file(&node.pid_file());
        }
    }
    result
}

// ---------------------------------------------------------------------------------------------
// up

fn health_agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// Does `GET {rpc}/health` answer 200?
fn healthy(agent: &ureq::Agent, rpc: &str) -> bool {
    agent
        .get(&format!("{rpc}/health"))
        .call()
        .is_ok_and(|r| r.status() == 200)
}

fn spawn_node(node: &NodeEntry) -> Result<Child, CliError> {
    let exe = std::env::current_exe().map_err(|e| {
        CliError::Usage(format!(
            "cannot find the keel executable to start nodes: {e}"
        ))
    })?;
    let log_path = node.log_file();
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| CliError::io(&log_path, e))?;
    {
        use std::io::Write;
        let _ = writeln!(
            log,
            "=== keel network up: starting {} at {} ms since the epoch ===",
            node.name,
            keel_node::producer::now_ms()
        );
    }
    let err = log.try_clone().map_err(|e| CliError::io(&log_path, e))?;
    let mut cmd = Command::new(exe);
    cmd.args(["node", "start", "--dir"])
        .arg(&node.dir)
        .current_dir(&node.dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    cmd.spawn().map_err(|e| {
        CliError::Usage(format!(
            "cannot start {} (keel node start --dir {}): {e}",
            node.name,
            node.dir.display()
        ))
    })
}

pub(crate) fn up(dir: &Path, timeout: Duration) -> Result<(), CliError> {
    let nodes = nodes(dir)?;
    let running: Vec<String> = nodes
        .iter()
        .filter_map(|n| {
            let pid = read_pid(&n.pid_file())?;
            node_alive(pid, &n.dir).then(|| format!("{} (pid {pid})", n.name))
        })
        .collect();
    if !running.is_empty() {
        return Err(CliError::Usage(format!(
            "already running: {}; stop them with `keel network down {}` first",
            running.join(", "),
            dir.display()
        )));
    }
    let mut children: Vec<Option<Child>> = Vec::with_capacity(nodes.len());
    let mut pids: Vec<Option<u32>> = Vec::with_capacity(nodes.len());
    let mut failure: Option<String> = None;
    for n in &nodes {
        remove_pid_file(&n.pid_file());
        match spawn_node(n) {
            Ok(child) => {
                let pid = child.id();
                if let Err(e) = std::fs::write(n.pid_file(), format!("{pid}\n")) {
                    failure = Some(format!("{}: {e}", n.pid_file().display()));
                }
                pids.push(Some(pid));
                children.push(Some(child));
            }
            Err(e) => {
                failure = Some(e.to_string());
                pids.push(None);
                children.push(None);
            }
        }
        if failure.is_some() {
            break;
        }
        println!(
            "started {} (pid {})",
            n.name,
            pids.last().copied().flatten().unwrap_or(0)
        );
    }
    if failure.is_none() {
        failure = wait_all_healthy(&nodes, &mut children, timeout);
    }
    if let Some(reason) = failure {
        eprintln!("stopping the nodes that were started");
        let targets: Vec<(&NodeEntry, Option<u32>)> =
            nodes.iter().zip(pids.iter().copied()).collect();
        stop_all(&targets, &mut children, Duration::from_secs(10));
        return Err(CliError::Usage(reason));
    }
    println!("network up: {} nodes healthy", nodes.len());
    for (n, pid) in nodes.iter().zip(&pids) {
        println!(
            "  {}  pid {}  rpc {}  log {}",
            n.name,
            pid.unwrap_or(0),
            n.rpc,
            n.log_file().display()
        );
    }
    println!(
        "status: keel network status {0}\nstop:   keel network down {0}",
        dir.display()
    );
    Ok(())
}

/// Wait until every node answers `GET /health`; on a node exiting or the deadline, print the
/// tail of the relevant logs and return the reason.
fn wait_all_healthy(
    nodes: &[NodeEntry],
    children: &mut [Option<Child>],
    timeout: Duration,
) -> Option<String> {
    let agent = health_agent(Duration::from_secs(2));
    let start = Instant::now();
    let mut ok = vec![false; nodes.len()];
    loop {
        for (i, n) in nodes.iter().enumerate() {
            if ok[i] {
                continue;
            }
            if let Some(Some(child)) = children.get_mut(i)
                && let Ok(Some(status)) = child.try_wait()
            {
                eprintln!(
                    "{} exited during startup ({status}); last lines of {}:\n{}",
                    n.name,
                    n.log_file().display(),
                    log_tail(&n.log_file(), LOG_TAIL_LINES)
                );
                return Some(format!("{} exited during startup ({status})", n.name));
            }
            ok[i] = healthy(&agent, &n.rpc);
        }
        if ok.iter().all(|h| *h) {
            return None;
        }
        if start.elapsed() > timeout {
            let slow: Vec<&str> = nodes
                .iter()
                .zip(&ok)
                .filter(|(_, h)| !**h)
                .map(|(n, _)| n.name.as_str())
                .collect();
            for n in nodes.iter().zip(&ok).filter(|(_, h)| !**h).map(|(n, _)| n) {
                eprintln!(
                    "{} not healthy at {}/health; last lines of {}:\n{}",
                    n.name,
                    n.rpc,
                    n.log_file().display(),
                    log_tail(&n.log_file(), LOG_TAIL_LINES)
                );
            }
            return Some(format!(
                "not healthy within {}s: {}",
                timeout.as_secs(),
                slow.join(", ")
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------------------------------------
// down

pub(crate) fn down(dir: &Path, timeout: Duration) -> Result<(), CliError> {
    let nodes = nodes(dir)?;
    let targets: Vec<(&NodeEntry, Option<u32>)> =
        nodes.iter().map(|n| (n, read_pid(&n.pid_file()))).collect();
    let mut no_children: Vec<Option<Child>> = Vec::new();
    let result = stop_all(&targets, &mut no_children, timeout);
    let mut survivors = Vec::new();
    for ((n, pid), r) in targets.iter().zip(&result) {
        let pid_text = pid.map_or("-".to_string(), |p| p.to_string());
        let what = match r {
            Stopped::NotRunning if pid.is_some() => "not running (stale pid file removed)",
            Stopped::NotRunning => "not running",
            Stopped::Term => "stopped (SIGTERM)",
            Stopped::Kill => "killed (SIGKILL: no exit within the timeout)",
            Stopped::Survived => {
                survivors.push(n.name.clone());
                "STILL RUNNING after SIGKILL"
            }
        };
        println!("  {}  pid {pid_text}  {what}", n.name);
    }
    if !survivors.is_empty() {
        return Err(CliError::Usage(format!(
            "could not stop: {}",
            survivors.join(", ")
        )));
    }
    println!("network down: {}", dir.display());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// status

fn rpc_call(agent: &ureq::Agent, url: &str, method: &str) -> Result<serde_json::Value, String> {
    let req = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": [] });
    let mut resp = agent.post(url).send_json(&req).map_err(|e| e.to_string())?;
    let v: serde_json::Value = resp.body_mut().read_json().map_err(|e| e.to_string())?;
    match v.get("error") {
        Some(e) => Err(e["message"].as_str().unwrap_or("error").to_string()),
        None => Ok(v["result"].clone()),
    }
}

fn status(dir: &Path) -> Result<(), CliError> {
    let nodes = nodes(dir)?;
    let agent = health_agent(Duration::from_secs(3));
    for n in &nodes {
        let process = match read_pid(&n.pid_file()) {
            Some(pid) if node_alive(pid, &n.dir) => format!("pid {pid} alive"),
            Some(pid) => format!("pid {pid} dead"),
            None => "no pid file".to_string(),
        };
        let chain = match rpc_call(&agent, &n.rpc, "keel_chainInfo") {
            Ok(info) => {
                let mut s = format!(
                    "height {}  head {}",
                    info["height"].as_u64().unwrap_or(0),
                    info["headHash"].as_str().unwrap_or("?")
                );
                // Consensus detail when the node offers it.
                if let Ok(st) = rpc_call(&agent, &n.rpc, "keel_status")
                    && let Some(c) = st.get("consensus")
                    && let Some(round) = c.get("round").and_then(|r| r.as_u64())
                {
                    s.push_str(&format!(
                        "  round {round}  leader {}",
                        c["leader"].as_str().unwrap_or("?")
                    ));
                }
                s
            }
            Err(_) => "unreachable".to_string(),
        };
        println!("{}  {process}  rpc {}  {chain}", n.name, n.rpc);
    }
    Ok(())
}
