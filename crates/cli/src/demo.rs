//! `keel demo`: a local chain with sample traffic, for a first look.

use crate::CliError;
use crate::client::{ChainFacts, Client, build_tx};
use crate::cmd_chain::{InitArgs, init, run_node};
use clap::Args;
use keel_crypto::Suite;
use keel_node::KeyFile;
use keel_types::{ContentHashAlg, EvidencePut, Hash, Payload};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Validators: 4 (default) runs a BFT consortium of 4 node processes; 1 runs a single
    /// in-process validator.
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Chain folder (created on first run; reused afterwards unless --fresh).
    #[arg(long, default_value = ".keel-local/demo")]
    dir: PathBuf,
    /// Crypto suite for a new chain: gm or intl.
    #[arg(long, default_value = "gm")]
    suite: Suite,
    /// JSON-RPC port on 127.0.0.1 (node i of a consortium uses port + i).
    #[arg(long, default_value_t = 8545)]
    port: u16,
    /// First P2P port of a consortium (node i uses p2p-port + i).
    #[arg(long, default_value_t = 30300)]
    p2p_port: u16,
    /// Delete the folder and start a new chain.
    #[arg(long)]
    fresh: bool,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    duration_secs: Option<u64>,
    /// Sample transactions per second.
    #[arg(long, default_value_t = 20)]
    tps: u32,
}

pub(crate) fn run(a: DemoArgs) -> Result<(), CliError> {
    if a.fresh && a.dir.exists() {
        // Stop anything still running from an earlier demo in this folder first.
        if a.dir.join("node-0").exists() {
            let _ = crate::cmd_network::down(&a.dir, Duration::from_secs(20));
        }
        std::fs::remove_dir_all(&a.dir).map_err(|e| CliError::io(&a.dir, e))?;
    }
    if a.validators > 1 {
        return consortium(a);
    }
    let cfg_path = a.dir.join("node.toml");
    if !cfg_path.exists() {
        init(InitArgs {
            suite: a.suite,
            dir: a.dir.clone(),
            chain_id: 1001,
            chain_name: "keel-demo".into(),
            rpc_listen: format!("127.0.0.1:{}", a.port),
            accounts: 4,
            balance: 1_000_000_000_000,
            gas_price: 0,
            block_interval_ms: 500,
            force: false,
        })?;
    }
    let dir = a.dir.clone();
    let tps = a.tps.max(1);
    let duration = a.duration_secs.map(Duration::from_secs);
    run_node(&cfg_path, move |_node, url| {
        println!("  data      {}", dir.join("data").display());
        println!(
            "sample traffic: {tps} tx/s of transfers between {}/accounts/*.key, plus an evidence record every 5 s",
            dir.display()
        );
        println!("open: {url}/ui/  (dashboard, explorer, evidence check)");
        println!("try:  keel block latest --rpc {url}");
        println!(
            "      keel evidence verify {}/samples/contract-0.txt --rpc {url}",
            dir.display()
        );
        println!(
            "      keel evidence put README.md --key {}/accounts/account-0.key --rpc {url}",
            dir.display()
        );
        let dir2 = dir.clone();
        std::thread::Builder::new()
            .name("keel-demo-traffic".into())
            .spawn(move || {
                let never = std::sync::atomic::AtomicBool::new(false);
                if let Err(e) = traffic(&dir2, &url, tps, duration, &never) {
                    eprintln!("sample traffic stopped: {e}");
                }
                if duration.is_some() {
                    // Graceful stop of the whole demo: SIGTERM ourselves.
                    terminate_self();
                }
            })
            .expect("spawning the traffic thread");
    })
}

/// A BFT consortium of `validators` node processes with sample traffic.
fn consortium(a: DemoArgs) -> Result<(), CliError> {
    if !a.dir.join("genesis.json").exists() {
        crate::cmd_network::init(crate::cmd_network::NetInitArgs {
            validators: a.validators,
            observers: 0,
            suite: a.suite,
            dir: a.dir.clone(),
            chain_id: 1001,
            chain_name: "keel-demo".into(),
            accounts: 4,
            balance: 1_000_000_000_000,
            gas_price: 0,
            rpc_base_port: a.port,
            p2p_base_port: a.p2p_port,
            round_timeout_ms: 1_000,
            block_interval_ms: 100,
            busy_block_interval_ms: 10,
            idle_heartbeat_ms: 60_000,
            trail_heartbeat_ms: 1_000,
            force: false,
            orgs: 0,
        })?;
    } else if !a.dir.join("node-0").exists() {
        return Err(CliError::Usage(format!(
            "{} holds a single-validator demo; use --fresh or --validators 1",
            a.dir.display()
        )));
    }
    crate::cmd_network::up(&a.dir, Duration::from_secs(60))?;
    let url = format!("http://127.0.0.1:{}", a.port);
    println!(
        "sample traffic: {} tx/s of transfers between {}/accounts/*.key, plus an evidence record every 5 s",
        a.tps.max(1),
        a.dir.display()
    );
    println!("open: {url}/ui/  (dashboard, explorer, evidence check)");
    println!("try:  keel block latest --rpc {url}");
    println!(
        "      keel evidence verify {}/samples/contract-0.txt --rpc {url}",
        a.dir.display()
    );
    println!(
        "      curl -s -X POST {url} -H 'content-type: application/json' -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"keel_status\"}}'"
    );
    println!("stop: Ctrl-C (or `keel network down {}`)", a.dir.display());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let dir = a.dir.clone();
    let tps = a.tps.max(1);
    let duration = a.duration_secs.map(Duration::from_secs);
    let traffic_url = url.clone();
    let worker = std::thread::Builder::new()
        .name("keel-demo-traffic".into())
        .spawn(move || {
            if let Err(e) = traffic(&dir, &traffic_url, tps, duration, &flag) {
                eprintln!("sample traffic stopped: {e}");
            }
        })
        .expect("spawning the traffic thread");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Usage(format!("runtime: {e}")))?;
    rt.block_on(async {
        let ctrl_c = tokio::signal::ctrl_c();
        match duration {
            Some(d) => {
                tokio::select! { _ = ctrl_c => {}, _ = tokio::time::sleep(d) => {} }
            }
            None => {
                let _ = ctrl_c.await;
            }
        }
    });
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = worker.join();
    println!("stopping the consortium...");
    crate::cmd_network::down(&a.dir, Duration::from_secs(20))
}

fn terminate_self() {
    #[cfg(unix)]
    {
        // The node handles SIGTERM by shutting down cleanly.
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(std::process::id().to_string())
            .status();
    }
}

fn traffic(
    dir: &Path,
    url: &str,
    tps: u32,
    duration: Option<Duration>,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<(), CliError> {
    let c = Client::new(url);
    let mut keys = Vec::new();
    for i in 0.. {
        let p = dir.join("accounts").join(format!("account-{i}.key"));
        if !p.exists() {
            break;
        }
        keys.push(KeyFile::load(&p)?);
    }
    if keys.len() < 2 {
        return Err(CliError::Usage("demo needs at least two accounts".into()));
    }
    let samples = dir.join("samples");
    std::fs::create_dir_all(&samples).map_err(|e| CliError::io(&samples, e))?;
    let start = Instant::now();
    let period = Duration::from_secs_f64(1.0 / f64::from(tps));
    let mut nonces: Vec<Option<u64>> = vec![None; keys.len()];
    let mut i: u64 = 0;
    let mut last_report = Instant::now();
    let mut evidence_n = 0u64;
    let mut last_evidence = Instant::now() - Duration::from_secs(10);
    loop {
        if duration.is_some_and(|d| start.elapsed() >= d)
            || stop.load(std::sync::atomic::Ordering::SeqCst)
        {
            return Ok(());
        }
        let chain: ChainFacts = c.chain()?;
        let from = (i as usize) % keys.len();
        let to = (from + 1 + (i as usize / keys.len()) % (keys.len() - 1)) % keys.len();
        let (kf, key) = &keys[from];
        let nonce = match nonces[from] {
            Some(n) => n,
            None => c.nonce(&kf.address)?,
        };
        let payload = if last_evidence.elapsed() >= Duration::from_secs(5) {
            last_evidence = Instant::now();
            let body = format!(
                "Sample contract #{evidence_n}\nParties: {} and {}\nCreated by keel demo.\n",
                kf.address, keys[to].0.address
            );
            let path = samples.join(format!("contract-{evidence_n}.txt"));
            std::fs::write(&path, &body).map_err(|e| CliError::io(&path, e))?;
            evidence_n += 1;
            let alg = match chain.suite {
                Suite::Gm => ContentHashAlg::Sm3,
                Suite::Intl => ContentHashAlg::Sha256,
            };
            Payload::EvidencePut(EvidencePut {
                content_hash: Hash(alg.algorithm().digest(body.as_bytes())),
                hash_alg: alg,
                size: body.len() as u64,
                media_type: "text/plain".into(),
                metadata: format!("{{\"file\":\"{}\"}}", path.display()),
            })
        } else {
            Payload::Transfer {
                to: keys[to].0.address,
                amount: u128::from(1 + i % 1000),
            }
        };
        let tx = build_tx(key, &chain, nonce, payload);
        match c.send(&tx) {
            Ok(_) => nonces[from] = Some(nonce + 1),
            Err(e) => {
                eprintln!("sample tx rejected ({e}); refreshing nonce");
                nonces[from] = None;
            }
        }
        i += 1;
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            let info = c.call("keel_chainInfo", serde_json::json!([]))?;
            println!(
                "height {:>6}  head {}  pending {}  sent {i}",
                info["height"],
                info["headHash"].as_str().unwrap_or(""),
                info["pendingTxs"]
            );
        }
        std::thread::sleep(period);
    }
}
