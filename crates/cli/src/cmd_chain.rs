//! `keel keys`, `keel init`, `keel node`.

use crate::CliError;
use clap::{Args, Subcommand};
use keel_crypto::{Scheme, Suite};
use keel_ledger::{Genesis, GenesisAccount, GenesisValidator};
use keel_node::{KeyFile, Node, NodeConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Subcommand)]
pub(crate) enum KeysCmd {
    /// Create a key file.
    New {
        /// sm2, ed25519 or secp256k1.
        #[arg(long, default_value = "sm2")]
        scheme: Scheme,
        /// Suite whose hash derives the address (gm or intl; secp256k1 addresses are the same on both).
        #[arg(long, default_value = "gm")]
        suite: Suite,
        /// Where to write it (mode 0600). Prints to stdout if omitted.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Show the address and public key of a key file.
    Show {
        /// Key file.
        file: PathBuf,
    },
}

pub(crate) fn keys(c: KeysCmd) -> Result<(), CliError> {
    match c {
        KeysCmd::New { scheme, suite, out } => {
            if scheme != Scheme::Secp256k1 && suite.signature_scheme() != scheme {
                eprintln!(
                    "note: a {suite} chain accepts {} and secp256k1 keys, not {scheme}",
                    suite.signature_scheme()
                );
            }
            let (kf, _) = KeyFile::generate(scheme, suite)?;
            match out {
                Some(path) => {
                    if path.exists() {
                        return Err(CliError::Usage(format!(
                            "{} exists; refusing to overwrite a key",
                            path.display()
                        )));
                    }
                    kf.save(&path)?;
                    println!("address    {}", kf.address);
                    println!("public key {}", kf.public_key);
                    println!("written to {} (keep it secret)", path.display());
                }
                None => println!("{}", serde_json::to_string_pretty(&kf).expect("serializes")),
            }
            Ok(())
        }
        KeysCmd::Show { file } => {
            let (kf, _) = KeyFile::load(&file)?;
            println!(
                "scheme     {}\naddress    {}\npublic key {}\nsuite      {}",
                kf.scheme, kf.address, kf.public_key, kf.suite
            );
            Ok(())
        }
    }
}

#[derive(Args, Clone)]
pub(crate) struct InitArgs {
    /// Crypto suite: gm (SM2/SM3/SM4) or intl (Ed25519/SHA-256/AES-GCM).
    #[arg(long, default_value = "gm")]
    pub suite: Suite,
    /// Folder for genesis.json, node.toml, validator.key, accounts/ and data/.
    #[arg(long)]
    pub dir: PathBuf,
    /// Chain id (replay protection between chains).
    #[arg(long, default_value_t = 1001)]
    pub chain_id: u64,
    /// Chain name.
    #[arg(long, default_value = "keel-local")]
    pub chain_name: String,
    /// JSON-RPC listen address.
    #[arg(long, default_value = "127.0.0.1:8545")]
    pub rpc_listen: String,
    /// Number of funded sample accounts to create.
    #[arg(long, default_value_t = 3)]
    pub accounts: usize,
    /// Balance of each sample account.
    #[arg(long, default_value_t = 1_000_000_000_000)]
    pub balance: u128,
    /// Gas price (0 = free transactions).
    #[arg(long, default_value_t = 0)]
    pub gas_price: u128,
    /// Block interval in milliseconds.
    #[arg(long, default_value_t = 500)]
    pub block_interval_ms: u64,
    /// Overwrite an existing chain folder's configuration (never its data).
    #[arg(long)]
    pub force: bool,
}

/// Create a chain folder. Returns the config path.
pub(crate) fn init(a: InitArgs) -> Result<PathBuf, CliError> {
    let dir = &a.dir;
    let genesis_path = dir.join("genesis.json");
    if genesis_path.exists() && !a.force {
        return Err(CliError::Usage(format!(
            "{} already exists; pass --force to overwrite the configuration, or choose another --dir",
            genesis_path.display()
        )));
    }
    if dir.join("data").exists() {
        return Err(CliError::Usage(format!(
            "{} holds a database; remove it first to start a new chain",
            dir.join("data").display()
        )));
    }
    std::fs::create_dir_all(dir.join("accounts")).map_err(|e| CliError::io(dir, e))?;
    let suite = a.suite;
    let scheme = suite.signature_scheme();
    let (vkf, _) = KeyFile::generate(scheme, suite)?;
    vkf.save(&dir.join("validator.key"))?;
    let alloc = sample_accounts(dir, a.accounts, suite, a.balance)?;
    let genesis = Genesis {
        governance: None,
        chain_id: a.chain_id,
        chain_name: a.chain_name.clone(),
        suite: suite.name().into(),
        timestamp_ms: keel_node::producer::now_ms(),
        gas_price: a.gas_price,
        validators: vec![GenesisValidator {
            name: "validator-0".into(),
            scheme: scheme.name().into(),
            public_key: vkf.public_key.clone(),
            address: vkf.address,
        }],
        alloc,
        observers: Vec::new(),
    };
    genesis.validate().map_err(CliError::Usage)?;
    genesis.save(&genesis_path)?;
    let mut cfg = NodeConfig::new_in(a.rpc_listen.clone());
    cfg.producer.block_interval_ms = a.block_interval_ms;
    let cfg_path = dir.join("node.toml");
    cfg.save(&cfg_path)?;
    println!(
        "initialised {} chain {:?} (id {}) in {}",
        suite,
        a.chain_name,
        a.chain_id,
        dir.display()
    );
    println!("  validator   {}", vkf.address);
    print_accounts(dir, &genesis.alloc);
    println!("start it with: keel node start --dir {}", dir.display());
    Ok(cfg_path)
}

/// Print the sample accounts `sample_accounts` created.
pub(crate) fn print_accounts(dir: &Path, alloc: &[GenesisAccount]) {
    for (i, acc) in alloc.iter().enumerate() {
        let key = dir.join("accounts").join(format!("account-{i}.key"));
        println!(
            "  account-{i}  {}  balance {}  key {}",
            acc.address,
            acc.balance,
            key.display()
        );
    }
}

/// Create `count` funded sample accounts as `dir/accounts/account-{i}.key` (the folder must
/// exist) and return their genesis allocations.
pub(crate) fn sample_accounts(
    dir: &Path,
    count: usize,
    suite: Suite,
    balance: u128,
) -> Result<Vec<GenesisAccount>, CliError> {
    let mut alloc = Vec::with_capacity(count);
    for i in 0..count {
        let (kf, _) = KeyFile::generate(suite.signature_scheme(), suite)?;
        kf.save(&dir.join("accounts").join(format!("account-{i}.key")))?;
        alloc.push(GenesisAccount {
            address: kf.address,
            balance,
        });
    }
    Ok(alloc)
}

#[derive(Subcommand)]
pub(crate) enum NodeCmd {
    /// Run a validator node with its JSON-RPC endpoint until Ctrl-C / SIGTERM.
    Start {
        /// Chain folder made by `keel init` (uses DIR/node.toml).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Explicit node config file.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Check the whole database offline: hash links, roots, indexes, certificates, state roots.
    Check {
        /// Chain folder.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Explicit node config file.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

pub(crate) fn node(c: NodeCmd) -> Result<(), CliError> {
    match c {
        NodeCmd::Start { dir, config } => {
            let path = crate::config_path(dir, config);
            run_node(&path, |_, _| {})
        }
        NodeCmd::Check { dir, config } => {
            let path = crate::config_path(dir, config);
            let cfg = NodeConfig::load(&path)?;
            let node = Node::open(&cfg)?;
            let n = node.verify_chain()?;
            let head = node.head();
            println!(
                "ok: {n} blocks verified, head {} {}",
                head.height, head.hash
            );
            Ok(())
        }
    }
}

/// Launch the node (`keel_node::launch`: ledger, producer or network + BFT driver + PKI
/// watcher), start the RPC server, call `on_ready(node, rpc_url)` and serve until Ctrl-C or
/// SIGTERM.
pub(crate) fn run_node(
    cfg_path: &Path,
    on_ready: impl FnOnce(Arc<Node>, String),
) -> Result<(), CliError> {
    let cfg = NodeConfig::load(cfg_path)?;
    let launch_cfg = launch_config(&cfg, cfg_path)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Usage(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&cfg.rpc_listen)
            .await
            .map_err(|e| {
                CliError::Usage(format!(
                    "cannot listen on {}: {e} (is another node running? change rpc_listen in {})",
                    cfg.rpc_listen,
                    cfg_path.display()
                ))
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| CliError::io(cfg_path, e))?;
        let url = format!("http://{addr}");
        let running = keel_node::launch(launch_cfg).await?;
        let node = running.node.clone();
        let info = node.chain_info()?;
        println!(
            "keel node running: chain {} (id {}), suite {}, head {}",
            info.chain_name, info.chain_id, info.suite, info.height
        );
        println!("  JSON-RPC  {url}");
        println!("  health    {url}/health");
        println!("  metrics   {url}/metrics");
        println!("  web UI    {url}/ui/");
        if let Some(p2p) = &cfg.p2p {
            println!(
                "  p2p       {} ({} peers, BFT)",
                p2p.listen,
                p2p.peers.len().saturating_sub(1)
            );
        }
        on_ready(node.clone(), url);
        let rpc_cfg = keel_rpc::RpcConfig {
            max_body_bytes: cfg.rpc_max_body_bytes,
            limits: cfg.rpc,
        };
        let watched = node.clone();
        let halted = async move {
            while watched.halted().is_none() {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        };
        let stop = async move {
            tokio::select! { _ = shutdown_signal() => {}, _ = halted => {} }
        };
        let served = keel_rpc::serve(node.clone(), listener, rpc_cfg, stop).await;
        tracing::info!("shutting down");
        let _ = running.stop().await;
        served.map_err(|e| CliError::io(cfg_path, e))?;
        match node.halted() {
            Some(reason) => Err(CliError::Halted(reason)),
            None => Ok(()),
        }
    })
}

/// What `keel node start` launches, from `node.toml`, with the `[pki]` certificate admission
/// and its watcher added to the BFT part.
fn launch_config(cfg: &NodeConfig, cfg_path: &Path) -> Result<keel_node::LaunchConfig, CliError> {
    let mut launch = keel_node::LaunchConfig::from_config(cfg, cfg_path)?;
    if let keel_node::EngineConfig::Bft(bft) = &mut launch.engine
        && let Some(pki_cfg) = &cfg.pki
    {
        let pki = crate::node_pki::load(pki_cfg)?;
        bft.network.pki = Some(pki.network.clone());
        bft.watch = Some(Box::new(move |node, net, stop| {
            pki.publish(&node);
            pki.spawn_watch(node, net, stop);
        }));
    }
    Ok(launch)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
