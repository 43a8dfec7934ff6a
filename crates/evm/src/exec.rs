//! Running EVM transactions: the [`EvmHook`] the node installs, and read-only calls for
//! `eth_call` / `eth_estimateGas`.

use crate::db::{KeelDb, eth_addr, keel_addr};
use crate::ethtx;
use crate::face::{self, FaceSlots};
use crate::logs;
use crate::policy::{self, CreateGuard};
use crate::precompile::KeelPrecompiles;
use alloy_primitives::{Address as EthAddress, Bytes, TxKind, U256};
use keel_crypto::HashAlgorithm;
use keel_execution::{
    Account, BlockContext, ChainParams, EvmHook, EvmOutcome, ExecutionError, StateView, TxInput,
    keys,
};
use keel_types::{Address, ExecErrorCode, Payload, Receipt, TxStatus, codec};
use revm::context::result::{EVMError, ExecutionResult, InvalidTransaction, Output};
use revm::context::{BlockEnv, CfgEnv, Context, TxEnv};
use revm::context_interface::transaction::{AccessList, AccessListItem};
use revm::primitives::hardfork::SpecId;
use revm::state::EvmState;
use revm::{ExecuteEvm, InspectEvm, MainBuilder, MainContext};

/// EVM hard fork rules Keel runs.
pub const SPEC: SpecId = SpecId::PRAGUE;
/// Gas limit of a block's EVM environment; a transaction may not ask for more.
pub const BLOCK_GAS_LIMIT: u64 = 30_000_000;
/// Largest deployed contract (EIP-170).
pub const MAX_CODE_SIZE: usize = 24_576;

/// Keel's EVM, installed into the executor with `Executor::with_evm(&keel_evm::KEEL_EVM)`.
#[derive(Debug, Clone, Copy)]
pub struct KeelEvm;

/// The EVM hook instance.
pub static KEEL_EVM: KeelEvm = KeelEvm;

/// What to run.
#[derive(Clone, Debug)]
pub struct CallRequest {
    /// Caller.
    pub from: Address,
    /// Target, `None` to deploy.
    pub to: Option<Address>,
    /// Value.
    pub value: u128,
    /// Call data / init code.
    pub data: Vec<u8>,
    /// Gas limit.
    pub gas: u64,
}

/// Outcome of a read-only call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// Returned data.
    Success {
        /// Return data.
        output: Vec<u8>,
        /// Gas used.
        gas_used: u64,
    },
    /// Reverted with data.
    Revert {
        /// Revert data.
        output: Vec<u8>,
        /// Gas used.
        gas_used: u64,
    },
    /// Halted (out of gas, invalid opcode, ...) or the call was invalid.
    Halt {
        /// Reason.
        reason: String,
    },
}

fn block_env(params: &ChainParams, ctx: BlockContext) -> BlockEnv {
    BlockEnv {
        number: U256::from(ctx.height),
        beneficiary: EthAddress::ZERO,
        timestamp: U256::from(ctx.timestamp_ms / 1000),
        gas_limit: BLOCK_GAS_LIMIT,
        basefee: u64::try_from(params.gas_price).unwrap_or(u64::MAX),
        difficulty: U256::ZERO,
        prevrandao: Some(Default::default()),
        ..Default::default()
    }
}

fn cfg_env(params: &ChainParams, read_only: bool) -> CfgEnv {
    let mut cfg = CfgEnv::new_with_spec(SPEC);
    cfg.chain_id = params.chain_id;
    cfg.limit_contract_code_size = Some(MAX_CODE_SIZE);
    if read_only {
        cfg.disable_nonce_check = true;
        cfg.disable_base_fee = true;
        cfg.disable_balance_check = true;
    }
    cfg
}

type RunResult = Result<
    (ExecutionResult, EvmState, FaceSlots),
    EVMError<crate::db::DbError, InvalidTransaction>,
>;

fn run(
    view: &dyn StateView,
    params: &ChainParams,
    ctx: BlockContext,
    tx: TxEnv,
    read_only: bool,
) -> RunResult {
    run_guarded(view, params, ctx, tx, read_only, None)
}

/// [`run`], with `guard` refusing contract creations when the origin may not deploy
/// ([`crate::policy`]); the inspector path runs only then.
fn run_guarded(
    view: &dyn StateView,
    params: &ChainParams,
    ctx: BlockContext,
    tx: TxEnv,
    read_only: bool,
    guard: Option<CreateGuard>,
) -> RunResult {
    let alg = params.suite.hash();
    let faces = FaceSlots::default();
    let db = KeelDb::with_faces(view, alg, faces.clone());
    let context = Context::mainnet()
        .with_db(db)
        .with_cfg(cfg_env(params, read_only))
        .with_block(block_env(params, ctx));
    let precompiles = KeelPrecompiles::new(SPEC, view, alg, faces.clone());
    let out = match guard {
        None => context
            .build_mainnet()
            .with_precompiles(precompiles)
            .transact(tx)?,
        Some(guard) => context
            .build_mainnet_with_inspector(guard)
            .with_precompiles(precompiles)
            .inspect_tx(tx)?,
    };
    Ok((out.result, out.state, faces))
}

/// One state write (`None` deletes).
type StateWrite = (keys::StateKey, Option<Vec<u8>>);

/// Turn revm's post-state into Keel state writes.
fn state_writes(
    alg: HashAlgorithm,
    state: &EvmState,
    faces: &FaceSlots,
) -> Result<Vec<StateWrite>, ExecutionError> {
    let mut writes = Vec::new();
    let mut addrs: Vec<&EthAddress> = state.keys().collect();
    addrs.sort();
    for a in addrs {
        let acct = &state[a];
        let is_face = faces.is_face(a);
        if is_face {
            // An asset face's slots are native records, never EVM storage; and it has no
            // account of its own unless something (a self-destruct) credited it.
            writes.extend(face::native_writes(faces, a, acct)?);
            if acct.state_clear_aware_is_empty(SPEC) {
                continue;
            }
        }
        if !acct.is_touched() {
            continue;
        }
        let addr = keel_addr(a);
        let akey = keys::account(alg, &addr);
        if acct.is_selfdestructed() || acct.state_clear_aware_is_empty(SPEC) {
            writes.push((akey, None));
            writes.push((keys::code(alg, &addr), None));
            if acct.is_selfdestructed() {
                for slot in acct.storage.keys() {
                    writes.push((keys::storage(alg, &addr, &slot.to_be_bytes::<32>()), None));
                }
            }
            continue;
        }
        let balance = u128::try_from(acct.info.balance).map_err(|_| ExecutionError::Corrupt {
            what: "account",
            key: hex::encode(akey),
            reason: "EVM balance exceeds 128 bits".into(),
        })?;
        let native = Account {
            nonce: acct.info.nonce,
            balance,
        };
        writes.push((akey, Some(codec::encode(&native))));
        if acct.is_created()
            && let Some(code) = &acct.info.code
        {
            let bytes = code.original_bytes();
            if !bytes.is_empty() {
                writes.push((keys::code(alg, &addr), Some(bytes.to_vec())));
            }
        }
        if is_face {
            continue;
        }
        let mut slots: Vec<_> = acct.changed_storage_slots().collect();
        slots.sort_by_key(|(k, _)| **k);
        for (slot, v) in slots {
            let key = keys::storage(alg, &addr, &slot.to_be_bytes::<32>());
            if v.present_value.is_zero() {
                writes.push((key, None));
            } else {
                writes.push((key, Some(v.present_value.to_be_bytes::<32>().to_vec())));
            }
        }
    }
    Ok(writes)
}

fn void(input: &TxInput<'_>, code: ExecErrorCode, msg: String) -> EvmOutcome {
    EvmOutcome {
        receipt: Receipt {
            tx_hash: input.hash,
            status: TxStatus::Failed,
            gas_used: 0,
            fee: 0,
            events: vec![],
            error: Some((code, msg)),
            output: vec![],
        },
        writes: vec![],
    }
}

/// Build the revm transaction for a Keel transaction with an EVM payload. `Err` = the
/// transaction is void (reason).
fn tx_env(params: &ChainParams, input: &TxInput<'_>) -> Result<TxEnv, (ExecErrorCode, String)> {
    let t = &input.tx.tx;
    let caller = eth_addr(&input.sender);
    let mut env = TxEnv {
        caller,
        nonce: t.nonce,
        gas_limit: t.gas_limit,
        chain_id: Some(params.chain_id),
        // Everyone pays exactly the consortium's gas price: base fee = gas price, no tip.
        gas_price: params.gas_price,
        gas_priority_fee: Some(0),
        tx_type: 2,
        ..Default::default()
    };
    match &t.payload {
        Payload::EvmCall { to, value, data } => {
            env.kind = to.map_or(TxKind::Create, |a| TxKind::Call(eth_addr(&a)));
            env.value = U256::from(*value);
            env.data = Bytes::from(data.clone());
        }
        Payload::Ethereum { raw } => {
            let f = ethtx::fields(raw).map_err(|e| (ExecErrorCode::EvmHalted, e.to_string()))?;
            if f.max_fee_per_gas < params.gas_price {
                return Err((
                    ExecErrorCode::EvmHalted,
                    format!(
                        "max fee per gas {} is below the chain's gas price {}",
                        f.max_fee_per_gas, params.gas_price
                    ),
                ));
            }
            env.kind = f.to.map_or(TxKind::Create, |a| TxKind::Call(eth_addr(&a)));
            env.value = U256::from(f.value);
            env.data = f.input;
            env.access_list = AccessList(
                f.access_list
                    .into_iter()
                    .map(|(a, keys)| AccessListItem {
                        address: eth_addr(&a),
                        storage_keys: keys.into_iter().map(Into::into).collect(),
                    })
                    .collect(),
            );
        }
        _ => return Err((ExecErrorCode::EvmHalted, "not an EVM payload".into())),
    }
    Ok(env)
}

impl EvmHook for KeelEvm {
    fn execute(
        &self,
        state: &dyn StateView,
        params: &ChainParams,
        ctx: BlockContext,
        input: &TxInput<'_>,
    ) -> Result<EvmOutcome, ExecutionError> {
        let alg = params.suite.hash();
        let sender = crate::db::read_account(state, alg, &input.sender)?.unwrap_or_default();
        let nonce = input.tx.tx.nonce;
        if nonce != sender.nonce {
            // Void: the proposer must not include it (the pool never hands it out).
            return Ok(void(
                input,
                ExecErrorCode::NonceMismatch,
                format!(
                    "nonce {nonce} but the account's next nonce is {}",
                    sender.nonce
                ),
            ));
        }
        // Any other rejection consumes the nonce (so the transaction cannot be replayed) and
        // charges nothing.
        let rejected = |code: ExecErrorCode, msg: String| {
            let mut out = void(input, code, msg);
            let bumped = Account {
                nonce: sender.nonce + 1,
                balance: sender.balance,
            };
            out.writes = vec![(
                keys::account(alg, &input.sender),
                Some(codec::encode(&bumped)),
            )];
            out
        };
        let env = match tx_env(params, input) {
            Ok(env) => env,
            Err((code, msg)) => return Ok(rejected(code, msg)),
        };
        // Governance policies the payload's own operation does not cover (`crate::policy`).
        let value = u128::try_from(env.value).unwrap_or(u128::MAX);
        if let Some(msg) = policy::value_refusal(state, alg, &input.sender, value)? {
            return Ok(rejected(ExecErrorCode::NotPermitted, msg));
        }
        let guard =
            policy::deploy_refusal(state, alg, &input.sender)?.map(|r| CreateGuard::new(&r));
        let is_create = env.kind == TxKind::Create;
        let (result, post, faces) = match run_guarded(state, params, ctx, env, false, guard) {
            Ok(r) => r,
            Err(EVMError::Database(e)) => return Err(ExecutionError::State(e.0)),
            Err(EVMError::Transaction(e)) => {
                let code = match e {
                    InvalidTransaction::LackOfFundForMaxFee { .. } => {
                        ExecErrorCode::InsufficientBalance
                    }
                    _ => ExecErrorCode::EvmHalted,
                };
                return Ok(rejected(code, e.to_string()));
            }
            Err(e) => return Ok(rejected(ExecErrorCode::EvmHalted, e.to_string())),
        };
        let gas_used = result.tx_gas_used();
        let fee = u128::from(gas_used).saturating_mul(params.gas_price);
        let writes = state_writes(params.suite.hash(), &post, &faces)?;
        let receipt = match result {
            ExecutionResult::Success {
                logs: l, output, ..
            } => {
                let output = match output {
                    Output::Create(_, Some(addr)) if is_create => addr.to_vec(),
                    _ => vec![],
                };
                Receipt {
                    tx_hash: input.hash,
                    status: TxStatus::Success,
                    gas_used,
                    fee,
                    events: l.iter().map(logs::to_event).collect(),
                    error: None,
                    output,
                }
            }
            ExecutionResult::Revert { output, .. } => Receipt {
                tx_hash: input.hash,
                status: TxStatus::Failed,
                gas_used,
                fee,
                events: vec![],
                error: Some((ExecErrorCode::Reverted, revert_message(&output))),
                output: output.to_vec(),
            },
            ExecutionResult::Halt { reason, .. } => Receipt {
                tx_hash: input.hash,
                status: TxStatus::Failed,
                gas_used,
                fee,
                events: vec![],
                error: Some((ExecErrorCode::EvmHalted, format!("{reason:?}"))),
                output: vec![],
            },
        };
        Ok(EvmOutcome { receipt, writes })
    }
}

/// `execution reverted` plus the decoded `Error(string)` reason if there is one.
pub fn revert_message(data: &[u8]) -> String {
    match decode_revert_reason(data) {
        Some(r) => format!("execution reverted: {r}"),
        None => "execution reverted".into(),
    }
}

/// Decode Solidity's `Error(string)` revert payload.
pub fn decode_revert_reason(data: &[u8]) -> Option<String> {
    if data.len() < 68 || data[..4] != [0x08, 0xc3, 0x79, 0xa0] {
        return None;
    }
    let body = &data[4..];
    let len = U256::from_be_slice(&body[32..64]);
    let len = usize::try_from(len).ok()?;
    let bytes = body.get(64..64usize.checked_add(len)?)?;
    String::from_utf8(bytes.to_vec()).ok()
}

/// Run a call without committing anything (`eth_call`; nonce, balance and base-fee checks off).
pub fn call(
    view: &dyn StateView,
    params: &ChainParams,
    ctx: BlockContext,
    req: &CallRequest,
) -> Result<CallOutcome, ExecutionError> {
    let env = TxEnv {
        caller: eth_addr(&req.from),
        gas_limit: req.gas.min(BLOCK_GAS_LIMIT),
        kind: req
            .to
            .map_or(TxKind::Create, |a| TxKind::Call(eth_addr(&a))),
        value: U256::from(req.value),
        data: Bytes::from(req.data.clone()),
        chain_id: Some(params.chain_id),
        gas_price: 0,
        tx_type: 0,
        ..Default::default()
    };
    Ok(match run(view, params, ctx, env, true) {
        Ok((ExecutionResult::Success { output, gas, .. }, ..)) => CallOutcome::Success {
            output: output.into_data().to_vec(),
            gas_used: gas.tx_gas_used(),
        },
        Ok((ExecutionResult::Revert { output, gas, .. }, ..)) => CallOutcome::Revert {
            output: output.to_vec(),
            gas_used: gas.tx_gas_used(),
        },
        Ok((ExecutionResult::Halt { reason, .. }, ..)) => CallOutcome::Halt {
            reason: format!("{reason:?}"),
        },
        Err(EVMError::Database(e)) => return Err(ExecutionError::State(e.0)),
        Err(e) => CallOutcome::Halt {
            reason: e.to_string(),
        },
    })
}

/// Most EVM runs one estimate makes, its first full-limit run included.
pub const MAX_ESTIMATE_RUNS: u32 = 20;
/// An estimate stops once its bracket is narrower than this share of the answer, per mille
/// (geth: 15).
pub const ESTIMATE_TOLERANCE_PER_MILLE: u64 = 15;

/// Smallest gas limit (binary search, at most [`BLOCK_GAS_LIMIT`]) with which the call does not
/// run out of gas; the revert outcome if it reverts even with the full limit.
pub fn estimate_gas(
    view: &dyn StateView,
    params: &ChainParams,
    ctx: BlockContext,
    req: &CallRequest,
) -> Result<Result<u64, CallOutcome>, ExecutionError> {
    struct Free;
    impl RunMeter for Free {
        type Stop = ExecutionError;
        fn before(&mut self, _: u64) -> Result<(), ExecutionError> {
            Ok(())
        }
        fn after(&mut self, _: u64) {}
    }
    estimate_gas_metered(view, params, ctx, req, &mut Free)
}

/// Accounting of an estimate's EVM runs: a caller's gas budget and deadline.
pub trait RunMeter {
    /// Why the estimate stopped.
    type Stop: From<ExecutionError>;
    /// Before a run with `gas_limit`; `Err` stops the estimate.
    fn before(&mut self, gas_limit: u64) -> Result<(), Self::Stop>;
    /// After the run: the gas it used (all of its limit when it halted).
    fn after(&mut self, gas_used: u64);
}

impl CallOutcome {
    /// Gas the run used; a halt uses its whole `gas_limit`.
    pub fn gas_used(&self, gas_limit: u64) -> u64 {
        match self {
            CallOutcome::Success { gas_used, .. } | CallOutcome::Revert { gas_used, .. } => {
                *gas_used
            }
            CallOutcome::Halt { .. } => gas_limit,
        }
    }
}

/// [`estimate_gas`] with a [`RunMeter`] around every EVM run. At most [`MAX_ESTIMATE_RUNS`]
/// runs; the answer is within [`ESTIMATE_TOLERANCE_PER_MILLE`] above the smallest limit that
/// succeeds.
pub fn estimate_gas_metered<M: RunMeter>(
    view: &dyn StateView,
    params: &ChainParams,
    ctx: BlockContext,
    req: &CallRequest,
    meter: &mut M,
) -> Result<Result<u64, CallOutcome>, M::Stop> {
    let cap = req.gas.clamp(21_000, BLOCK_GAS_LIMIT);
    let mut r = req.clone();
    let mut probe = |gas: u64| -> Result<CallOutcome, M::Stop> {
        meter.before(gas)?;
        r.gas = gas;
        let out = call(view, params, ctx, &r)?;
        meter.after(out.gas_used(gas));
        Ok(out)
    };
    let used = match probe(cap)? {
        CallOutcome::Success { gas_used, .. } => gas_used,
        other => return Ok(Err(other)),
    };
    let (mut lo, mut hi) = (used.saturating_sub(1), cap);
    // Most calls succeed with a little more than they used (the 63/64 rule of EIP-150 holds
    // back gas for sub-calls): try that first, so the search usually starts narrow.
    let optimistic = used.saturating_add(2_300).saturating_mul(64) / 63;
    let mut runs = 1;
    if optimistic < hi {
        runs += 1;
        match probe(optimistic)? {
            CallOutcome::Success { .. } => hi = optimistic,
            _ => lo = optimistic,
        }
    }
    while hi - lo > 1 && runs < MAX_ESTIMATE_RUNS {
        if (hi - lo) * 1_000 <= hi * ESTIMATE_TOLERANCE_PER_MILLE {
            break;
        }
        runs += 1;
        let mid = lo + (hi - lo) / 2;
        match probe(mid)? {
            CallOutcome::Success { .. } => hi = mid,
            _ => lo = mid,
        }
    }
    Ok(Ok(hi))
}
