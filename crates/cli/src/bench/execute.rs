//! `keel bench execute`: the execute stage alone (ADR 0013). Blocks of native transfers from
//! distinct senders, `--conflict` percent of them to one hot account (the rest to fresh
//! accounts), executed on an in-memory state with each `--threads` count; prints tx/s and the
//! speed-up over the first thread count, and checks every run gives the same outcome.

use crate::CliError;
use clap::Args;
use keel_crypto::{Scheme, Suite};
use keel_execution::{
    BlockContext, BlockOutcome, ChainParams, Executor, MemoryState, TxInput, genesis_changes,
};
use keel_types::{Address, Hash, Payload, SignedTransaction, Signer, Transaction};
use serde_json::json;

mod erc20;
use std::time::{Duration, Instant};

#[derive(Args)]
pub(crate) struct ExecuteArgs {
    /// Transfers per measurement.
    #[arg(long, default_value_t = 20_000)]
    txs: usize,
    /// Transactions per block.
    #[arg(long, default_value_t = 5_000)]
    block_txs: usize,
    /// Thread counts to compare (the first is the baseline).
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Percentages of transfers to the hot account.
    #[arg(long, value_delimiter = ',', default_value = "0,10,100")]
    conflict: Vec<u32>,
    /// Runs per point; the fastest counts.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// gm (SM3 state keys) or intl (SHA-256).
    #[arg(long, default_value = "intl")]
    suite: String,
    /// `transfer` (native) or `erc20` (EVM calls of an ERC-20's `transfer`, each sender
    /// holding tokens; the hot account is then a hot token holder).
    #[arg(long, default_value = "transfer")]
    workload: String,
}

const MAX_TXS: usize = 1_000_000;

pub(crate) fn execute(a: ExecuteArgs) -> Result<(), CliError> {
    let bad = a.txs == 0 || a.txs > MAX_TXS || a.block_txs == 0 || a.repeat == 0;
    if bad || a.threads.is_empty() || a.threads.iter().any(|t| *t == 0 || *t > 64) {
        return Err(CliError::Usage(format!(
            "--txs 1..={MAX_TXS}, --block-txs and --repeat > 0, --threads 1..=64"
        )));
    }
    if a.conflict.iter().any(|c| *c > 100) {
        return Err(CliError::Usage(
            "--conflict is a percentage, 0..=100".into(),
        ));
    }
    let suite = match a.suite.as_str() {
        "gm" => Suite::Gm,
        "intl" => Suite::Intl,
        other => return Err(CliError::Usage(format!("--suite gm|intl, not {other:?}"))),
    };
    let (state, ex) = setup(suite, a.txs);
    let (state, token) = match a.workload.as_str() {
        "transfer" => (state, None),
        "erc20" => {
            let (state, token) = erc20::setup(&ex, state, a.txs)?;
            (state, Some(token))
        }
        other => {
            return Err(CliError::Usage(format!(
                "--workload transfer|erc20, not {other:?}"
            )));
        }
    };
    println!(
        "execute: {} {} transfers in blocks of {}, suite {}, best of {}",
        a.txs,
        if token.is_some() { "ERC-20" } else { "native" },
        a.block_txs,
        a.suite,
        a.repeat
    );
    println!(
        "conflict%  threads       tx/s   best ms   CPU µs/tx   vs {} thread(s)",
        a.threads[0]
    );
    let mut rows = Vec::new();
    for &pct in &a.conflict {
        let txs = transfers(suite, a.txs, pct, token);
        let points = measure(&ex, &state, &txs, &a)?;
        let base_tps = a.txs as f64 / points[0].best.as_secs_f64();
        for (t, p) in a.threads.iter().zip(&points) {
            let tps = a.txs as f64 / p.best.as_secs_f64();
            let ratio = tps / base_tps;
            let cpu_us = p
                .cpu
                .map(|c| c.as_secs_f64() * 1e6 / (a.repeat * a.txs) as f64);
            let cpu = cpu_us.map_or("n/a".into(), |c| format!("{c:.2}"));
            println!(
                "{pct:>8}  {t:>7}  {tps:>9.0}  {:>8.1}  {cpu:>10}  {ratio:>8.2}x",
                p.best.as_secs_f64() * 1e3
            );
            rows.push(
                json!({"conflict_pct": pct, "threads": t, "tps": tps.round(),
                "cpu_us_per_tx": cpu_us, "ratio": ratio}),
            );
        }
    }
    println!(
        "{}",
        json!({"bench": "execute", "txs": a.txs, "results": rows})
    );
    Ok(())
}

fn sender(i: usize) -> Address {
    let mut a = [0u8; 20];
    // Never the zero address (an ERC-20 refuses it).
    a[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    Address(a)
}

fn recipient(i: usize) -> Address {
    let mut a = sender(i).0;
    a[19] = 1;
    Address(a)
}

const HOT: Address = Address([0xee; 20]);

/// Funded senders 0..n (and the token issuer) and an executor with a gas price of 1 and the EVM.
fn setup(suite: Suite, n: usize) -> (MemoryState, Executor) {
    let mut state = MemoryState::default();
    let mut alloc: Vec<(Address, u128)> = (0..n).map(|i| (sender(i), 1_000_000_000_000)).collect();
    alloc.push((erc20::ISSUER, 1_000_000_000_000_000));
    state.apply(&genesis_changes(suite.hash(), &alloc));
    let ex = Executor::new(ChainParams {
        chain_id: 1,
        suite,
        gas_price: 1,
    })
    .with_evm(&keel_evm::KEEL_EVM);
    (state, ex)
}

/// A transaction from an unchecked signer (execution does not verify signatures).
fn signed(nonce: u64, gas_limit: u64, payload: Payload) -> SignedTransaction {
    SignedTransaction {
        tx: Transaction {
            chain_id: 1,
            nonce,
            expires_at_height: u64::MAX,
            gas_limit,
            signer: Signer {
                scheme: Scheme::Ed25519,
                public_key: vec![0; 32],
            },
            payload,
        },
        signature: vec![0; 64],
    }
}

/// Transfer `i` from sender `i` (native, or of `token`); `pct` percent of them, evenly spread,
/// go to the hot account.
fn transfers(
    suite: Suite,
    n: usize,
    pct: u32,
    token: Option<Address>,
) -> Vec<(SignedTransaction, Hash, Address)> {
    (0..n)
        .map(|i| {
            let hot = (i as u64 * u64::from(pct)) % 100 < u64::from(pct);
            let to = if hot { HOT } else { recipient(i) };
            let tx = match token {
                None => signed(0, 100_000, Payload::Transfer { to, amount: 1 }),
                Some(t) => signed(0, 200_000, erc20::transfer(t, &to, 1)),
            };
            let hash = tx.hash(suite.hash());
            (tx, hash, sender(i))
        })
        .collect()
}

/// One thread count's measurement: fastest pass, process CPU time over all passes.
struct Point {
    best: Duration,
    cpu: Option<Duration>,
}

/// Process CPU time (user + system) from `/proc/self/stat` (Linux; ticks of 1/100 s).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let mut f = rest.split_whitespace().skip(11);
    let utime: u64 = f.next()?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Execute all blocks `repeat` times with each thread count, the counts interleaved so that
/// other load on the machine hits them alike; every pass must give the same outcomes.
fn measure(
    ex: &Executor,
    state: &MemoryState,
    txs: &[(SignedTransaction, Hash, Address)],
    a: &ExecuteArgs,
) -> Result<Vec<Point>, CliError> {
    let mut points: Vec<Point> = a
        .threads
        .iter()
        .map(|_| Point {
            best: Duration::MAX,
            cpu: Some(Duration::ZERO),
        })
        .collect();
    let mut reference: Option<Vec<BlockOutcome>> = None;
    for _ in 0..a.repeat {
        for (&t, p) in a.threads.iter().zip(points.iter_mut()) {
            let cpu0 = cpu_time();
            let (took, outs) = pass(&ex.with_threads(t), state, txs, a.block_txs)?;
            let used = cpu_time().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
            p.best = p.best.min(took);
            p.cpu = p.cpu.zip(used).map(|(c, u)| c + u);
            if *reference.get_or_insert_with(|| outs.clone()) != outs {
                return Err(CliError::Verify(format!(
                    "{t} threads gave another outcome than {} threads",
                    a.threads[0]
                )));
            }
        }
    }
    Ok(points)
}

/// Execute all blocks once on `state`: the time it took and the outcomes.
fn pass(
    ex: &Executor,
    state: &MemoryState,
    txs: &[(SignedTransaction, Hash, Address)],
    block_txs: usize,
) -> Result<(Duration, Vec<BlockOutcome>), CliError> {
    let inputs: Vec<TxInput<'_>> = txs
        .iter()
        .map(|(tx, hash, sender)| TxInput {
            tx,
            hash: *hash,
            sender: *sender,
        })
        .collect();
    let ctx = BlockContext {
        height: 1,
        timestamp_ms: 1,
    };
    let mut outs = Vec::new();
    let start = Instant::now();
    for block in inputs.chunks(block_txs) {
        outs.push(ex.execute_block(state, ctx, block)?);
    }
    Ok((start.elapsed(), outs))
}
