//! The ERC-20 workload of `keel bench execute`: the `KeelToken` artefact the client tests use,
//! deployed by [`ISSUER`], which then gives every sender tokens (set-up, not measured).

use super::{sender, signed};
use crate::CliError;
use keel_crypto::HashAlgorithm;
use keel_execution::{BlockContext, Executor, MemoryState, TxInput};
use keel_types::{Address, Payload, TxStatus};

/// Deploys the token and funds the senders.
pub(super) const ISSUER: Address = Address([0xcc; 20]);

const CONTRACTS: &str = include_str!("../../../../../tests/clients/contracts/build/Contracts.json");

fn word(x: u128) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[16..].copy_from_slice(&x.to_be_bytes());
    w
}

fn bad(what: &str) -> CliError {
    CliError::Usage(format!("erc20 workload: {what}"))
}

/// Init code: the artefact's bytecode and the ABI-encoded `(string, string, uint256)`.
fn init_code(supply: u128) -> Result<Vec<u8>, CliError> {
    let v: serde_json::Value =
        serde_json::from_str(CONTRACTS).map_err(|e| bad(&format!("artefact: {e}")))?;
    let code = v["contracts"]["KeelToken"]["bytecode"]
        .as_str()
        .ok_or_else(|| bad("no KeelToken bytecode"))?;
    let code = hex::decode(code.trim_start_matches("0x")).map_err(|e| bad(&e.to_string()))?;
    let string = |s: &str| {
        let mut b = s.as_bytes().to_vec();
        b.resize(32, 0);
        [word(s.len() as u128).to_vec(), b].concat()
    };
    let (name, symbol) = (string("Bench"), string("BNCH"));
    Ok([
        code,
        word(96).to_vec(),
        word(96 + name.len() as u128).to_vec(),
        word(supply).to_vec(),
        name,
        symbol,
    ]
    .concat())
}

/// `transfer(to, amount)` on `token`.
pub(super) fn transfer(token: Address, to: &Address, amount: u128) -> Payload {
    let mut to_word = [0u8; 32];
    to_word[12..].copy_from_slice(&to.0);
    let selector = &HashAlgorithm::Keccak256.digest(b"transfer(address,uint256)")[..4];
    Payload::EvmCall {
        to: Some(token),
        value: 0,
        data: [selector, &to_word, &word(amount)].concat(),
    }
}

/// Run `payloads` from the issuer (nonces from `nonce`) as one block and apply it; every one
/// must succeed.
fn run(
    ex: &Executor,
    state: &mut MemoryState,
    nonce: u64,
    payloads: Vec<Payload>,
) -> Result<Vec<Vec<u8>>, CliError> {
    let alg = ex.params().suite.hash();
    let txs: Vec<_> = (nonce..)
        .zip(payloads)
        .map(|(n, p)| signed(n, 3_000_000, p))
        .collect();
    let inputs: Vec<TxInput<'_>> = txs
        .iter()
        .map(|tx| TxInput {
            tx,
            hash: tx.hash(alg),
            sender: ISSUER,
        })
        .collect();
    let ctx = BlockContext {
        height: 1,
        timestamp_ms: 1,
    };
    let out = ex.execute_block(&*state, ctx, &inputs)?;
    if let Some(r) = out.receipts.iter().find(|r| r.status != TxStatus::Success) {
        return Err(bad(&format!("set-up transaction failed: {:?}", r.error)));
    }
    state.apply(&out.changes);
    Ok(out.receipts.into_iter().map(|r| r.output).collect())
}

/// Deploy the token and give each of the `n` senders 1,000 tokens; the state and the token.
pub(super) fn setup(
    ex: &Executor,
    mut state: MemoryState,
    n: usize,
) -> Result<(MemoryState, Address), CliError> {
    let supply = 1_000 * n as u128;
    let deploy = Payload::EvmCall {
        to: None,
        value: 0,
        data: init_code(supply)?,
    };
    let out = run(ex, &mut state, 0, vec![deploy])?;
    let token = out
        .first()
        .and_then(|o| <[u8; 20]>::try_from(o.as_slice()).ok())
        .map(Address)
        .ok_or_else(|| bad("the deployment returned no address"))?;
    let gifts = (0..n).map(|i| transfer(token, &sender(i), 1_000)).collect();
    run(&ex.with_threads(1), &mut state, 1, gifts)?;
    Ok((state, token))
}
