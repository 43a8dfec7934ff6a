//! `keel`: the Keel command-line tool. Run `keel --help`.

mod bench;
mod client;
mod cmd_ca;
mod cmd_chain;
mod cmd_did;
mod cmd_gov;
mod cmd_network;
mod cmd_query;
mod demo;
mod error;
mod node_pki;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

pub(crate) use error::CliError;

#[derive(Parser)]
#[command(name = "keel", version, about = "Keel: a permissioned consortium blockchain with national (SM2/SM3/SM4) and international cryptography", long_about = None)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a local chain with sample traffic and print its endpoints (the quick start).
    Demo(demo::DemoArgs),
    /// Key management.
    #[command(subcommand)]
    Keys(cmd_chain::KeysCmd),
    /// Create a new chain: genesis, validator key, node config and funded sample accounts.
    Init(cmd_chain::InitArgs),
    /// Run or check a node.
    #[command(subcommand)]
    Node(cmd_chain::NodeCmd),
    /// A local consortium of validator processes: init, up, down, status.
    #[command(subcommand)]
    Network(cmd_network::NetworkCmd),
    /// Send native tokens.
    Transfer(cmd_query::TransferArgs),
    /// Evidence (存证): record a file's hash on chain, or verify a file against the chain.
    #[command(subcommand)]
    Evidence(cmd_query::EvidenceCmd),
    /// Show a block by height, hash or `latest`.
    Block(cmd_query::BlockArgs),
    /// Show a transaction and its receipt.
    Tx(cmd_query::TxArgs),
    /// Show an account's balance and nonce.
    Account(cmd_query::AccountArgs),
    /// Get or verify Merkle proofs of state.
    #[command(subcommand)]
    Proof(cmd_query::ProofCmd),
    /// Consortium certificate authority: root, organisation CAs, issuing, revoking (docs/pki.md).
    #[command(subcommand)]
    Ca(cmd_ca::CaCmd),
    /// Inspect or verify certificates (verify exits 0 if valid, 3 if not).
    #[command(subcommand)]
    Cert(cmd_ca::CertCmd),
    /// did:keel DIDs: create, update (key rotation, controllers, services), deactivate,
    /// resolve (docs/did.md).
    #[command(subcommand)]
    Did(cmd_did::DidCmd),
    /// On-chain governance: members, proposals, votes, permissions (ADR 0011).
    #[command(subcommand)]
    Gov(cmd_gov::GovCmd),
    /// Benchmarks (print numbers; see docs/benchmarks.md).
    #[command(subcommand)]
    Bench(bench::BenchCmd),
}

fn main() {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,fjall=warn,lsm_tree=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.cmd {
        Cmd::Demo(a) => demo::run(a),
        Cmd::Keys(c) => cmd_chain::keys(c),
        Cmd::Init(a) => cmd_chain::init(a).map(|_| ()),
        Cmd::Node(c) => cmd_chain::node(c),
        Cmd::Network(c) => cmd_network::run(c),
        Cmd::Transfer(a) => cmd_query::transfer(a),
        Cmd::Evidence(c) => cmd_query::evidence(c),
        Cmd::Block(a) => cmd_query::block(a),
        Cmd::Tx(a) => cmd_query::tx(a),
        Cmd::Account(a) => cmd_query::account(a),
        Cmd::Proof(c) => cmd_query::proof(c),
        Cmd::Ca(c) => cmd_ca::ca(c),
        Cmd::Cert(c) => cmd_ca::cert(c),
        Cmd::Did(c) => cmd_did::run(c),
        Cmd::Gov(c) => cmd_gov::run(c),
        Cmd::Bench(c) => bench::run(c),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        if let Some(hint) = e.hint() {
            eprintln!("hint: {hint}");
        }
        std::process::exit(e.exit_code());
    }
}

/// Resolve `--dir`/`--config` to a config path.
pub(crate) fn config_path(dir: Option<PathBuf>, config: Option<PathBuf>) -> PathBuf {
    match (config, dir) {
        (Some(c), _) => c,
        (None, Some(d)) => d.join("node.toml"),
        (None, None) => PathBuf::from("node.toml"),
    }
}
