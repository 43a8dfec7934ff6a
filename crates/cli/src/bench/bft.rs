//! `keel bench bft`: N validators in one process, each with its own database, over real
//! authenticated loopback links; open-loop transfers at an offered rate; committed TPS and
//! submission-to-commit latency percentiles on sampled transactions.

use super::{seed, tempdir};
use crate::CliError;
use clap::Args;
use keel_consensus::PacemakerConfig;
use keel_crypto::{KeyPair, Scheme, Suite};
use keel_mempool::MempoolConfig;
use keel_network::{NetworkConfig, PeerAddr};
use keel_node::driver::DriverConfig;
use keel_node::{BftConfig, EngineConfig, KeyFile, LaunchConfig, Node};
use keel_storage::StoreOptions;
use keel_types::{Hash, Payload, Signer, Transaction};
use rayon::prelude::*;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args)]
pub(crate) struct BftArgs {
    /// Number of validators (all in this process, sharing the machine's cores).
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Signature scheme (sm2 runs a gm chain, the others an intl chain).
    #[arg(long, default_value = "ed25519")]
    scheme: Scheme,
    /// Offered load, transactions per second.
    #[arg(long, default_value_t = 2_000)]
    rate: u64,
    /// Load duration, seconds.
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Light pace, ms (while there is work but less than a full block pending; ADR 0014).
    #[arg(long, default_value_t = 100)]
    block_interval_ms: u64,
    /// Busy block interval, ms (while a full block is pending).
    #[arg(long, default_value_t = 10)]
    busy_block_interval_ms: u64,
    /// Threads that execute each block (1 = serial; ADR 0013).
    #[arg(long, default_value_t = 1)]
    exec_threads: usize,
    /// Every n-th transaction is sampled for latency.
    #[arg(long, default_value_t = 10)]
    sample_every: usize,
}

pub(crate) fn bft(a: BftArgs) -> Result<(), CliError> {
    if a.validators == 0 || a.validators > 16 || a.rate == 0 || a.secs == 0 {
        return Err(CliError::Usage(
            "--validators 1..=16, --rate and --secs > 0".into(),
        ));
    }
    let suite = if a.scheme == Scheme::Sm2 {
        Suite::Gm
    } else {
        Suite::Intl
    };
    let n = a.validators;
    let total = (a.rate * a.secs) as usize;
    let senders = 2_000.min(total.max(1));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Usage(format!("runtime: {e}")))?;
    let keys: Vec<KeyPair> = (0..n)
        .map(|i| KeyPair::from_seed(suite.signature_scheme(), &seed(1_000_000 + i as u64)))
        .collect();
    let files: Vec<KeyFile> = keys.iter().map(|k| KeyFile::from_key(k, suite)).collect();
    let (users, user_addrs) = super::bench_senders(a.scheme, suite, senders)?;
    let genesis = super::bench_genesis(4343, "bench-bft", suite, 1, &files, &user_addrs);
    let mut sockets = Vec::new();
    for _ in 0..n {
        let l = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| CliError::io("127.0.0.1:0", e))?;
        sockets.push(l.local_addr().map_err(|e| CliError::io("127.0.0.1:0", e))?);
    }
    let peers: Vec<PeerAddr> = files
        .iter()
        .zip(&sockets)
        .map(|(f, s)| PeerAddr {
            address: f.address,
            socket: *s,
        })
        .collect();
    let base = tempdir()?;
    let mut runs = Vec::new();
    for i in 0..n {
        let mut mempool = MempoolConfig::new(4343, suite, 0);
        mempool.max_txs = total.max(1_000);
        let driver = DriverConfig {
            pacemaker: PacemakerConfig {
                base_timeout_ms: 2_000,
                ..PacemakerConfig::default()
            },
            block_interval_ms: a.block_interval_ms,
            busy_block_interval_ms: a.busy_block_interval_ms,
            ..DriverConfig::default()
        };
        let launch = LaunchConfig {
            genesis: genesis.clone(),
            key: keys[i].clone(),
            data_dir: base.join(format!("v{i}")),
            store: StoreOptions::default(),
            mempool,
            exec_threads: a.exec_threads,
            engine: EngineConfig::Bft(BftConfig {
                network: NetworkConfig::new(sockets[i], peers.clone()),
                driver,
                watch: None,
            }),
        };
        runs.push(rt.block_on(keel_node::launch(launch))?);
    }
    let nodes: Vec<Arc<Node>> = runs.iter().map(|r| r.node.clone()).collect();
    eprintln!(
        "signing {total} {} transfers from {senders} senders...",
        a.scheme
    );
    let raws: Vec<(Hash, Vec<u8>)> = (0..total)
        .into_par_iter()
        .map(|i| {
            let s = i % senders;
            let tx = Transaction {
                chain_id: 4343,
                nonce: (i / senders) as u64,
                expires_at_height: 50_000,
                gas_limit: 21_000,
                signer: Signer {
                    scheme: users[s].scheme(),
                    public_key: users[s].public_key(),
                },
                payload: Payload::Transfer {
                    to: user_addrs[(s + 1) % senders],
                    amount: 1,
                },
            }
            .sign(&users[s]);
            (tx.hash(suite.hash()), tx.encode())
        })
        .collect();
    // Open loop: every 10 ms, submit the transactions due by then, round-robin across nodes.
    let start = Instant::now();
    let tick = Duration::from_millis(10);
    let mut sent = 0usize;
    let mut rejected = 0usize;
    let mut sampled: HashMap<Hash, Instant> = HashMap::new();
    let mut latencies_ms: Vec<f64> = Vec::new();
    let start_height = nodes[0].head().height;
    let start_txs = nodes[0]
        .ledger()
        .counters
        .txs
        .load(std::sync::atomic::Ordering::Relaxed);
    let mut round_robin = 0usize;
    let mut last_progress = Instant::now();
    let deadline = start + Duration::from_secs(a.secs) + Duration::from_secs(30);
    while Instant::now() < deadline {
        let due = ((start.elapsed().as_secs_f64() * a.rate as f64) as usize).min(total);
        if due > sent {
            let batch: Vec<Vec<u8>> = raws[sent..due].iter().map(|(_, r)| r.clone()).collect();
            let node = &nodes[round_robin % n];
            round_robin += 1;
            let now = Instant::now();
            for (k, r) in node.submit(&batch).into_iter().enumerate() {
                match r {
                    Ok(_) if (sent + k).is_multiple_of(a.sample_every.max(1)) => {
                        sampled.insert(raws[sent + k].0, now);
                    }
                    Ok(_) => {}
                    Err(_) => rejected += 1,
                }
            }
            sent = due;
        }
        // Latency: first time a sampled tx is committed on node 0.
        sampled.retain(|h, t0| match nodes[0].receipt(h) {
            Ok(Some(_)) => {
                latencies_ms.push(t0.elapsed().as_secs_f64() * 1e3);
                false
            }
            _ => true,
        });
        // Done when node 0 has committed every accepted transaction (its own pool being
        // empty is not enough: the last ones may still be on their way from another node).
        let committed_now = nodes[0]
            .ledger()
            .counters
            .txs
            .load(std::sync::atomic::Ordering::Relaxed)
            .saturating_sub(start_txs);
        if sent >= total && sampled.is_empty() && committed_now >= (sent - rejected) as u64 {
            break;
        }
        if last_progress.elapsed() >= Duration::from_secs(2) {
            last_progress = Instant::now();
            eprintln!(
                "  t={:>5.1}s sent {sent} height {} pending {}",
                start.elapsed().as_secs_f64(),
                nodes[0].head().height,
                nodes[0].mempool().len()
            );
        }
        std::thread::sleep(tick);
    }
    let elapsed = start.elapsed().as_secs_f64();
    for r in runs {
        let _ = rt.block_on(r.stop());
    }
    let head = nodes[0].head().height;
    let committed = nodes[0]
        .ledger()
        .counters
        .txs
        .load(std::sync::atomic::Ordering::Relaxed)
        - start_txs;
    let blocks = head - start_height;
    let agree = (1..=nodes.iter().map(|x| x.head().height).min().unwrap_or(0)).all(|h| {
        let ids: Vec<Option<Hash>> = nodes
            .iter()
            .map(|x| {
                x.chain()
                    .block(h)
                    .ok()
                    .flatten()
                    .map(|b| b.hash(suite.hash()))
            })
            .collect();
        ids.windows(2).all(|w| w[0] == w[1])
    });
    latencies_ms.sort_by(|x, y| x.total_cmp(y));
    let pct = |p: f64| -> f64 {
        if latencies_ms.is_empty() {
            return f64::NAN;
        }
        latencies_ms[((latencies_ms.len() - 1) as f64 * p).round() as usize]
    };
    let tps = committed as f64 / elapsed;
    let views: u64 = nodes[0]
        .counters
        .bft()
        .and_then(|b| b.consensus)
        .map(|c| c.round)
        .unwrap_or(0);
    println!(
        "keel bench bft — {n} validators in process, {} ({suite}), offered {}/s for {}s, {} cores",
        a.scheme,
        a.rate,
        a.secs,
        rayon::current_num_threads()
    );
    println!(
        "  committed {committed} of {total} in {blocks} blocks over {elapsed:.1}s, rejected {rejected}, rounds {views}, chains agree: {agree}"
    );
    println!(
        "  committed TPS {tps:.0}   latency p50 {:.0} ms  p90 {:.0} ms  p99 {:.0} ms  max {:.0} ms  ({} samples)",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0),
        latencies_ms.len()
    );
    println!(
        "{}",
        json!({
            "bench": "bft", "validators": n, "scheme": a.scheme.name(), "suite": suite.name(),
            "offered_tps": a.rate, "secs": a.secs, "txs": total, "committed": committed, "rejected": rejected,
            "blocks": blocks, "rounds": views, "committed_tps": tps.round(), "agree": agree,
            "latency_ms": { "p50": pct(0.5).round(), "p90": pct(0.9).round(), "p99": pct(0.99).round(), "max": pct(1.0).round(), "samples": latencies_ms.len() },
        })
    );
    drop(nodes);
    let _ = std::fs::remove_dir_all(&base);
    if !agree {
        return Err(CliError::Verify("validators disagree on a block".into()));
    }
    if committed as usize != total {
        return Err(CliError::Usage(format!(
            "only {committed} of {total} committed ({rejected} rejected)"
        )));
    }
    Ok(())
}
