//! What both faces share: ABI words in and out, and how a call ends (return, revert with
//! `Error(string)`, malformed input, operating error).

use alloy_primitives::{Address as EthAddress, Bytes, U256};
use keel_types::{Address, ExecErrorCode};
use revm::interpreter::{CallInputs, Gas, InstructionResult, InterpreterResult};

/// Why a call does not return normally.
pub(super) enum Stop {
    /// Revert with this reason.
    Revert(String),
    /// Malformed call data: revert with no data.
    Malformed,
    /// Operating error (state read): the block cannot be executed.
    Fatal(String),
}

pub(super) type Res<T> = Result<T, Stop>;

pub(super) fn refuse<T>(code: ExecErrorCode, msg: impl std::fmt::Display) -> Res<T> {
    Err(Stop::Revert(format!("{}: {msg}", code.name())))
}

pub(super) fn fatal(e: impl std::fmt::Display) -> Stop {
    Stop::Fatal(e.to_string())
}

pub(super) fn selector(input: &[u8]) -> [u8; 4] {
    [input[0], input[1], input[2], input[3]]
}

pub(super) fn no_args(args: &[u8]) -> Res<()> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(Stop::Malformed)
    }
}

/// Exactly `N` 32-byte words.
pub(super) fn args_n<const N: usize>(args: &[u8]) -> Res<[[u8; 32]; N]> {
    if args.len() != 32 * N {
        return Err(Stop::Malformed);
    }
    let mut out = [[0u8; 32]; N];
    for (i, w) in out.iter_mut().enumerate() {
        w.copy_from_slice(&args[32 * i..32 * (i + 1)]);
    }
    Ok(out)
}

/// An ABI address word (the upper 12 bytes must be zero).
pub(super) fn address(w: [u8; 32]) -> Res<EthAddress> {
    if w[..12].iter().any(|b| *b != 0) {
        return Err(Stop::Malformed);
    }
    Ok(EthAddress::from_slice(&w[12..]))
}

pub(super) fn word(v: U256) -> Vec<u8> {
    v.to_be_bytes::<32>().to_vec()
}

/// ABI encoding of a single `string` return value.
pub(super) fn abi_string(s: &str) -> Vec<u8> {
    let mut out = word(U256::from(32));
    out.extend(word(U256::from(s.len())));
    out.extend(s.as_bytes());
    out.resize(out.len().div_ceil(32) * 32, 0);
    out
}

/// Solidity's `Error(string)` revert data.
pub(super) fn error_string(reason: &str) -> Vec<u8> {
    let mut out = vec![0x08, 0xc3, 0x79, 0xa0];
    out.extend(abi_string(reason));
    out
}

pub(super) fn keel(a: EthAddress) -> Address {
    Address(a.0.0)
}

/// Gas for a call costing `cost`, or the out-of-gas result.
pub(super) fn charge(gas_limit: u64, cost: u64) -> Result<Gas, InterpreterResult> {
    let mut gas = Gas::new(gas_limit);
    if gas.record_regular_cost(cost) {
        return Ok(gas);
    }
    gas.spend_all();
    Err(InterpreterResult::new(
        InstructionResult::PrecompileOOG,
        Bytes::new(),
        gas,
    ))
}

/// The call's result: return data, a revert (with `Error(string)` or empty data), or an
/// operating error.
pub(super) fn finish(out: Res<Vec<u8>>, gas: Gas) -> Result<InterpreterResult, String> {
    let (result, output) = match out {
        Ok(data) => (InstructionResult::Return, data),
        Err(Stop::Revert(reason)) => (InstructionResult::Revert, error_string(&reason)),
        Err(Stop::Malformed) => (InstructionResult::Revert, Vec::new()),
        Err(Stop::Fatal(e)) => return Err(e),
    };
    Ok(InterpreterResult::new(result, output.into(), gas))
}

/// Refusals common to every face call: delegate-call, value, writes in a static call.
pub(super) fn frame_ok(inputs: &CallInputs, write: bool) -> Res<()> {
    if inputs.target_address != inputs.bytecode_address {
        return Err(Stop::Revert(
            "an asset face cannot be delegate-called".into(),
        ));
    }
    if !inputs.value.get().is_zero() {
        return Err(Stop::Revert("an asset face takes no value".into()));
    }
    if write && inputs.is_static {
        return Err(Stop::Revert("write in a static call".into()));
    }
    Ok(())
}
