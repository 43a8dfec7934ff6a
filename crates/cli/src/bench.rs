//! `keel bench`: throughput numbers printed as a table and a JSON line.

mod bft;
mod execute;
mod network;

use crate::CliError;
use clap::{Args, Subcommand};
use keel_crypto::{KeyPair, Scheme, Suite, VerifyItem};
use keel_ledger::{Genesis, GenesisAccount};
use keel_mempool::MempoolConfig;
use keel_node::{KeyFile, Node};
use keel_storage::StoreOptions;
use keel_types::{Address, Payload, Signer, Transaction};
use rayon::prelude::*;
use serde_json::json;
use std::time::Instant;

#[derive(Subcommand)]
pub(crate) enum BenchCmd {
    /// Single validator, in process: admission (decode + verify), execution and durable commit.
    Solo(SoloArgs),
    /// Sign / verify rates per scheme on one core (and Ed25519 batch verification).
    Crypto(CryptoArgs),
    /// N validators in process over real loopback links: committed TPS and latency percentiles.
    Bft(bft::BftArgs),
    /// N validator processes (`keel network up`) driven through JSON-RPC at an open-loop rate or
    /// a rate search: TPS, latency percentiles, view changes, CPU per node, per-stage breakdown.
    Network(network::NetworkArgs),
    /// The execute stage alone, serial and parallel (ADR 0013): native transfers with a share
    /// of them to one hot account; tx/s per thread count and the speed-up over one thread.
    Execute(execute::ExecuteArgs),
}

#[derive(Args)]
pub(crate) struct SoloArgs {
    /// Signature scheme of the transactions (sm2 runs a gm chain, the others an intl chain).
    #[arg(long, default_value = "ed25519")]
    scheme: Scheme,
    /// Number of transfers.
    #[arg(long, default_value_t = 20_000)]
    txs: usize,
    /// Number of distinct senders.
    #[arg(long, default_value_t = 500)]
    senders: usize,
    /// Transactions per block.
    #[arg(long, default_value_t = 5_000)]
    block_txs: usize,
    /// Transactions per admission batch.
    #[arg(long, default_value_t = 2_000)]
    submit_batch: usize,
    /// Admit and produce blocks at the same time (as a loaded node does: RPC threads admit
    /// while the producer commits) instead of one stage after the other.
    #[arg(long)]
    pipelined: bool,
}

#[derive(Args)]
pub(crate) struct CryptoArgs {
    /// Operations per measurement.
    #[arg(long, default_value_t = 2_000)]
    iters: usize,
}

pub(crate) fn run(c: BenchCmd) -> Result<(), CliError> {
    match c {
        BenchCmd::Solo(a) => solo(a),
        BenchCmd::Crypto(a) => crypto(a),
        BenchCmd::Bft(a) => bft::bft(a),
        BenchCmd::Network(a) => network::network(a),
        BenchCmd::Execute(a) => execute::execute(a),
    }
}

fn solo(a: SoloArgs) -> Result<(), CliError> {
    if a.txs == 0 || a.senders == 0 || a.block_txs == 0 {
        return Err(CliError::Usage(
            "--txs, --senders and --block-txs must be positive".into(),
        ));
    }
    let suite = if a.scheme == Scheme::Sm2 {
        Suite::Gm
    } else {
        Suite::Intl
    };
    let dir = tempdir()?;
    let vkey = KeyPair::from_seed(suite.signature_scheme(), &[0xAA; 32]);
    let vkf = KeyFile::from_key(&vkey, suite);
    let (senders, addrs) = bench_senders(a.scheme, suite, a.senders)?;
    let genesis = bench_genesis(4242, "bench", suite, 0, &[vkf], &addrs);
    let mut mcfg = MempoolConfig::new(genesis.chain_id, suite, 0);
    mcfg.max_txs = a.txs.max(1);
    let node = Node::open_with(
        genesis,
        vkey,
        &dir.join("data"),
        StoreOptions::default(),
        mcfg,
    )?;
    eprintln!(
        "signing {} {} transfers from {} senders...",
        a.txs, a.scheme, a.senders
    );
    let raws: Vec<Vec<u8>> = (0..a.txs)
        .into_par_iter()
        .map(|i| {
            let s = i % a.senders;
            let key = &senders[s];
            let tx = Transaction {
                chain_id: 4242,
                nonce: (i / a.senders) as u64,
                expires_at_height: 100_000, // within the pool's max_expiry_blocks window
                gas_limit: 21_000,
                signer: Signer {
                    scheme: key.scheme(),
                    public_key: key.public_key(),
                },
                payload: Payload::Transfer {
                    to: addrs[(s + 1) % a.senders],
                    amount: 1,
                },
            };
            tx.sign(key).encode()
        })
        .collect();
    let (admit_s, commit_s, total_s, blocks, committed, rejected, first_rejection) = if a.pipelined
    {
        solo_pipelined(&node, &raws, &a)?
    } else {
        solo_sequential(&node, &raws, &a)?
    };
    let admit_rate = a.txs as f64 / admit_s;
    let commit_rate = committed as f64 / commit_s;
    let e2e = committed as f64 / total_s;
    println!(
        "keel bench solo — scheme {}, suite {}, {} txs, {} senders, {} tx/block, {} cores, {}",
        a.scheme,
        suite,
        a.txs,
        a.senders,
        a.block_txs,
        rayon::current_num_threads(),
        if a.pipelined {
            "admission and commit overlapped (stage rates = txs / time busy in the stage)"
        } else {
            "admission, then commit"
        }
    );
    println!("  {:<34} {:>12}", "stage", "tx/s");
    println!(
        "  {:<34} {:>12.0}",
        "admission (decode+verify+pool)", admit_rate
    );
    println!(
        "  {:<34} {:>12.0}",
        "execute+state root+fsync commit", commit_rate
    );
    println!("  {:<34} {:>12.0}", "end to end (committed)", e2e);
    println!(
        "  committed {committed} in {blocks} blocks, rejected {rejected}, {total_s:.2}s total"
    );
    let per_tx = |stage: keel_ledger::Stage| {
        node.ledger().counters.stages.seconds(stage) * 1e6 / committed.max(1) as f64
    };
    println!(
        "  per tx: admission {:.1} µs (wall, all cores), execute {:.1} µs, state root {:.1} µs, storage {:.1} µs",
        per_tx(keel_ledger::Stage::Admission),
        per_tx(keel_ledger::Stage::Execute),
        per_tx(keel_ledger::Stage::StateRoot),
        per_tx(keel_ledger::Stage::Storage)
    );
    println!(
        "{}",
        json!({
            "bench": "solo", "scheme": a.scheme.name(), "suite": suite.name(), "txs": a.txs,
            "committed": committed, "rejected": rejected, "blocks": blocks,
            "admission_tps": admit_rate.round(), "commit_tps": commit_rate.round(), "end_to_end_tps": e2e.round(),
            "pipelined": a.pipelined,
            "stage_us_per_tx": {
                "admission": per_tx(keel_ledger::Stage::Admission), "execute": per_tx(keel_ledger::Stage::Execute),
                "state_root": per_tx(keel_ledger::Stage::StateRoot), "storage": per_tx(keel_ledger::Stage::Storage),
            },
        })
    );
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(e) = first_rejection {
        return Err(CliError::Usage(format!(
            "{rejected} of {} benchmark transactions were rejected; first: {e}",
            a.txs
        )));
    }
    if committed != a.txs {
        return Err(CliError::Usage(format!(
            "only {committed} of {} transactions committed",
            a.txs
        )));
    }
    Ok(())
}

type SoloOutcome = (
    f64,
    f64,
    f64,
    u64,
    usize,
    usize,
    Option<keel_mempool::AdmitError>,
);

/// Admit everything, then produce blocks until the pool is empty.
fn solo_sequential(node: &Node, raws: &[Vec<u8>], a: &SoloArgs) -> Result<SoloOutcome, CliError> {
    let t0 = Instant::now();
    let mut rejected = 0usize;
    let mut first_rejection = None;
    for chunk in raws.chunks(a.submit_batch.max(1)) {
        for r in node.submit(chunk) {
            if let Err(e) = r {
                rejected += 1;
                first_rejection.get_or_insert(e);
            }
        }
    }
    let admit_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let mut blocks = 0u64;
    let mut committed = 0usize;
    let mut ts = 1u64;
    while !node.mempool().is_empty() {
        ts += 1;
        match node.produce_block(ts, a.block_txs, false)? {
            Some(b) => {
                blocks += 1;
                committed += b.transactions.len();
            }
            None => break,
        }
    }
    let commit_s = t1.elapsed().as_secs_f64();
    Ok((
        admit_s,
        commit_s,
        admit_s + commit_s,
        blocks,
        committed,
        rejected,
        first_rejection,
    ))
}

/// A submitter thread admits batches while this thread produces blocks from whatever is
/// pending; stage rates are transactions over the time spent in each stage.
fn solo_pipelined(node: &Node, raws: &[Vec<u8>], a: &SoloArgs) -> Result<SoloOutcome, CliError> {
    let start = Instant::now();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let submitter = scope.spawn(|| {
            let mut rejected = 0usize;
            let mut first_rejection = None;
            let mut busy = 0.0f64;
            for chunk in raws.chunks(a.submit_batch.max(1)) {
                let t = Instant::now();
                for r in node.submit(chunk) {
                    if let Err(e) = r {
                        rejected += 1;
                        first_rejection.get_or_insert(e);
                    }
                }
                busy += t.elapsed().as_secs_f64();
            }
            done.store(true, std::sync::atomic::Ordering::Release);
            (busy, rejected, first_rejection)
        });
        let mut blocks = 0u64;
        let mut committed = 0usize;
        let mut commit_busy = 0.0f64;
        let mut ts = 1u64;
        loop {
            let finished = done.load(std::sync::atomic::Ordering::Acquire);
            ts += 1;
            let t = Instant::now();
            match node.produce_block(ts, a.block_txs, false)? {
                Some(b) => {
                    commit_busy += t.elapsed().as_secs_f64();
                    blocks += 1;
                    committed += b.transactions.len();
                }
                None if finished => break,
                None => std::thread::sleep(std::time::Duration::from_millis(1)),
            }
        }
        let total_s = start.elapsed().as_secs_f64();
        let (admit_busy, rejected, first_rejection) = submitter
            .join()
            .map_err(|_| CliError::Usage("submitter thread panicked".into()))?;
        Ok((
            admit_busy,
            commit_busy,
            total_s,
            blocks,
            committed,
            rejected,
            first_rejection,
        ))
    })
}

/// `n` deterministic benchmark senders of `scheme` and their addresses on a `suite` chain.
pub(super) fn bench_senders(
    scheme: Scheme,
    suite: Suite,
    n: usize,
) -> Result<(Vec<KeyPair>, Vec<Address>), CliError> {
    let keys: Vec<KeyPair> = (0..n)
        .into_par_iter()
        .map(|i| KeyPair::from_seed(scheme, &seed(i as u64)))
        .collect();
    let addrs = keys
        .iter()
        .map(|k| {
            keel_crypto::address_of(k.scheme(), &k.public_key(), suite.hash())
                .map(Address)
                .map_err(|e| CliError::Usage(format!("bench key: {e}")))
        })
        .collect::<Result<_, _>>()?;
    Ok((keys, addrs))
}

/// A benchmark genesis: `validators` (named v0, v1, …) and every `funded` address holding
/// u64::MAX.
pub(super) fn bench_genesis(
    chain_id: u64,
    name: &str,
    suite: Suite,
    timestamp_ms: u64,
    validators: &[KeyFile],
    funded: &[Address],
) -> Genesis {
    Genesis {
        governance: None,
        chain_id,
        chain_name: name.into(),
        suite: suite.name().into(),
        timestamp_ms,
        gas_price: 0,
        validators: validators
            .iter()
            .enumerate()
            .map(|(i, f)| f.genesis_validator(format!("v{i}")))
            .collect(),
        alloc: funded
            .iter()
            .map(|a| GenesisAccount {
                address: *a,
                balance: u128::from(u64::MAX),
            })
            .collect(),
        observers: vec![],
    }
}

pub(super) fn seed(i: u64) -> [u8; 32] {
    let mut s = [7u8; 32];
    s[..8].copy_from_slice(&i.to_le_bytes());
    s
}

pub(super) fn tempdir() -> Result<std::path::PathBuf, CliError> {
    let mut r = [0u8; 8];
    getrandom::fill(&mut r).map_err(|e| CliError::Usage(format!("no OS entropy: {e}")))?;
    let d = std::env::temp_dir().join(format!("keel-bench-{}", hex::encode(r)));
    std::fs::create_dir_all(&d).map_err(|e| CliError::io(&d, e))?;
    Ok(d)
}

fn rate(n: usize, f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    n as f64 / t.elapsed().as_secs_f64()
}

/// Sign and verify rates of the `sm2` crate (the generic reference) on the given keys; its
/// signatures must equal the fast implementation's `fast_sigs` bit for bit and every one must
/// verify.
fn sm2_generic(
    keys: &[KeyPair],
    pks: &[Vec<u8>],
    msgs: &[Vec<u8>],
    fast_sigs: &[Vec<u8>],
) -> Result<(f64, f64), CliError> {
    let n = keys.len();
    let mut sigs = Vec::with_capacity(n);
    let mut ok = true;
    let sign = rate(n, || {
        for (k, m) in keys.iter().zip(msgs) {
            match keel_crypto::sm2::generic_sign(k, m) {
                Ok(sig) => sigs.push(sig),
                Err(_) => ok = false,
            }
        }
    });
    let verify = rate(n, || {
        for ((pk, m), s) in pks.iter().zip(msgs).zip(&sigs) {
            ok &= keel_crypto::sm2::generic_verify(pk, m, s).is_ok();
        }
    });
    if !ok || sigs != fast_sigs {
        return Err(CliError::Verify(
            "generic sm2 signatures differ from the fast ones or did not verify".into(),
        ));
    }
    Ok((sign, verify))
}

fn crypto(a: CryptoArgs) -> Result<(), CliError> {
    let n = a.iters.max(10);
    let msgs: Vec<Vec<u8>> = (0..n)
        .map(|i| format!("keel bench message {i}").into_bytes())
        .collect();
    let mut rows = Vec::new();
    // Build the fast SM2 generator tables outside the timed loops.
    keel_crypto::sm2::precompute_tables();
    println!("keel bench crypto — {n} operations each, one core");
    println!(
        "  {:<24} {:>12} {:>12} {:>16}",
        "scheme", "sign/s", "verify/s", "batch verify/s"
    );
    let mut sm2_rates = Vec::new();
    for scheme in [Scheme::Sm2, Scheme::Ed25519, Scheme::Secp256k1] {
        let keys: Vec<KeyPair> = (0..n)
            .map(|i| KeyPair::from_seed(scheme, &seed(i as u64)))
            .collect();
        let pks: Vec<Vec<u8>> = keys.iter().map(|k| k.public_key()).collect();
        let mut sigs = Vec::with_capacity(n);
        let sign = rate(n, || {
            for (k, m) in keys.iter().zip(&msgs) {
                sigs.push(k.sign(m));
            }
        });
        let mut ok = true;
        let verify = rate(n, || {
            for ((pk, m), s) in pks.iter().zip(&msgs).zip(&sigs) {
                ok &= keel_crypto::verify(scheme, pk, m, s).is_ok();
            }
        });
        let items: Vec<VerifyItem<'_>> = pks
            .iter()
            .zip(&msgs)
            .zip(&sigs)
            .map(|((pk, m), s)| VerifyItem {
                public_key: pk,
                message: m,
                signature: s,
            })
            .collect();
        let batch = rate(n, || {
            for chunk in items.chunks(64) {
                ok &= keel_crypto::verify_batch(scheme, chunk).is_ok();
            }
        });
        if !ok {
            return Err(CliError::Verify(format!(
                "{scheme} benchmark signatures did not verify"
            )));
        }
        let name = if scheme == Scheme::Sm2 {
            "sm2 (keel fast)".to_string()
        } else {
            scheme.name().to_string()
        };
        println!("  {name:<24} {sign:>12.0} {verify:>12.0} {batch:>16.0}");
        rows.push(json!({ "scheme": scheme.name(), "implementation": name, "sign_per_s": sign.round(), "verify_per_s": verify.round(), "batch64_verify_per_s": batch.round() }));
        if scheme == Scheme::Sm2 {
            // The generic RustCrypto `sm2` crate on the same keys and messages, same run.
            let (generic_sign, generic_verify) = sm2_generic(&keys, &pks, &msgs, &sigs)?;
            println!(
                "  {:<24} {generic_sign:>12.0} {generic_verify:>12.0} {:>16}",
                "sm2 (generic sm2 crate)", "-"
            );
            rows.push(json!({ "scheme": "sm2", "implementation": "sm2 (generic sm2 crate)", "sign_per_s": generic_sign.round(), "verify_per_s": generic_verify.round() }));
            sm2_rates = vec![sign / generic_sign, verify / generic_verify];
        }
    }
    // Repeat senders (the consortium case): 64 accounts each sign n/64 messages. Keel caches a
    // decoded key per sender (SM2: also Z_A and, after a few uses, a comb table of the key).
    let senders = 64usize;
    for scheme in [Scheme::Sm2, Scheme::Ed25519] {
        let keys: Vec<KeyPair> = (0..senders)
            .map(|i| KeyPair::from_seed(scheme, &seed(1_000_000 + i as u64)))
            .collect();
        let pks: Vec<Vec<u8>> = keys.iter().map(|k| k.public_key()).collect();
        let sigs: Vec<Vec<u8>> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| keys[i % senders].sign(m))
            .collect();
        // Warm-up: every sender verifies a few signatures first (not timed).
        for (i, (m, s)) in msgs.iter().zip(&sigs).enumerate().take(senders * 8) {
            let _ = keel_crypto::verify(scheme, &pks[i % senders], m, s);
        }
        let mut ok = true;
        let verify = rate(n, || {
            for (i, (m, s)) in msgs.iter().zip(&sigs).enumerate() {
                ok &= keel_crypto::verify(scheme, &pks[i % senders], m, s).is_ok();
            }
        });
        if !ok {
            return Err(CliError::Verify(format!(
                "{scheme} repeat-sender signatures did not verify"
            )));
        }
        let name = format!("{} (repeat keys)", scheme.name());
        println!("  {name:<24} {:>12} {verify:>12.0} {:>16}", "-", "-");
        rows.push(json!({ "scheme": scheme.name(), "implementation": name, "repeat_senders": senders, "verify_per_s": verify.round() }));
    }
    if let [sign_ratio, verify_ratio] = sm2_rates[..] {
        println!("  sm2 fast / generic: sign {sign_ratio:.2}x, verify {verify_ratio:.2}x");
        rows.push(json!({ "sm2_fast_over_generic": { "sign": (sign_ratio * 100.0).round() / 100.0, "verify": (verify_ratio * 100.0).round() / 100.0 } }));
    }
    let hash_mb = 16usize;
    let data = vec![0x5au8; hash_mb * 1024 * 1024];
    for alg in [
        keel_crypto::HashAlgorithm::Sm3,
        keel_crypto::HashAlgorithm::Sha256,
        keel_crypto::HashAlgorithm::Keccak256,
    ] {
        let t = Instant::now();
        let d = alg.digest(&data);
        let mbs = hash_mb as f64 / t.elapsed().as_secs_f64();
        println!(
            "  {:<24} {:>12.0} MB/s (digest {})",
            alg.name(),
            mbs,
            hex::encode(&d[..4])
        );
        rows.push(json!({ "hash": alg.name(), "mb_per_s": mbs.round() }));
    }
    println!(
        "{}",
        json!({ "bench": "crypto", "iters": n, "results": rows })
    );
    Ok(())
}
