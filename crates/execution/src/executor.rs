//! The block executor: per transaction it checks the nonce and expiry, charges the fee, runs
//! the permission rule and dispatches the payload to its module (`crate::modules`) or to the
//! EVM hook; a refused payload keeps only the nonce and the fee.

use crate::context::{BlockContext, ChainParams, TxInput};
use crate::keys::{self, StateKey};
use crate::modules::{
    Applied, Call, ModResult, TxError, assets, did, evidence, governance, nft, token,
};
use crate::overlay::{Overlay, StateView};
use crate::parallel::TxRun;
use crate::{EvmHook, ExecutionError};
use keel_crypto::HashAlgorithm;
use keel_types::{Address, ExecErrorCode, Hash, Payload, Receipt, TxStatus, codec};

/// Result of executing a block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockOutcome {
    /// One receipt per transaction, in order.
    pub receipts: Vec<Receipt>,
    /// State changes, sorted by key, `None` = delete.
    pub changes: Vec<(StateKey, Option<Vec<u8>>)>,
    /// Total gas used.
    pub gas_used: u64,
    /// Evidence records created (owner, record id), for the owner index.
    pub new_evidence: Vec<(Address, Hash)>,
}

/// Executes blocks of native transactions (and EVM payloads through an installed [`EvmHook`]).
#[derive(Clone, Copy, Debug)]
pub struct Executor {
    params: ChainParams,
    evm: Option<&'static dyn EvmHook>,
    /// Execution threads; 1 = serial (ADR 0013).
    threads: usize,
}

impl Executor {
    /// New executor for a chain.
    pub fn new(params: ChainParams) -> Self {
        Executor {
            params,
            evm: None,
            threads: 1,
        }
    }

    /// Execute blocks with `threads` threads (optimistic parallel execution, ADR 0013); 1 (the
    /// default, and what 0 means) is serial execution. The outcome is the same either way.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Execution threads (1 = serial).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Install the EVM (without it, EVM payloads fail with `EVM_HALTED`).
    pub fn with_evm(mut self, evm: &'static dyn EvmHook) -> Self {
        self.evm = Some(evm);
        self
    }

    /// Parameters as configured (genesis gas price); [`Executor::params_on`] gives the ones in
    /// force on a state.
    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    /// The parameters a block executed on top of `view` runs with: governance may have changed
    /// the gas price (ADR 0011). Admission and the RPC read the price through this too, so a
    /// wallet is quoted, and admitted at, the price execution charges.
    pub fn params_on(&self, view: &dyn StateView) -> Result<ChainParams, ExecutionError> {
        let mut params = self.params;
        if let Some(g) = governance::gov_state(view, self.alg())?.and_then(|g| g.gas_price) {
            params.gas_price = g;
        }
        Ok(params)
    }

    fn alg(&self) -> HashAlgorithm {
        self.params.suite.hash()
    }

    /// Execute `txs` in order on top of `view`: serially, or with [`Executor::with_threads`]
    /// threads in parallel, with the same outcome.
    pub fn execute_block(
        &self,
        view: &(dyn StateView + Sync),
        ctx: BlockContext,
        txs: &[TxInput<'_>],
    ) -> Result<BlockOutcome, ExecutionError> {
        if self.threads > 1 && txs.len() > 1 && u32::try_from(txs.len()).is_ok() {
            let this = Executor {
                params: self.params_on(view)?,
                ..*self
            };
            return crate::parallel::execute(&this, view, ctx, txs, self.threads);
        }
        let mut ov = Overlay::new(view);
        let mut out = BlockOutcome::default();
        let this = Executor {
            params: self.params_on(&ov)?,
            evm: self.evm,
            threads: 1,
        };
        for input in txs {
            let receipt = this.execute_tx(&mut ov, ctx, input, &mut out.new_evidence)?;
            out.gas_used = out.gas_used.saturating_add(receipt.gas_used);
            out.receipts.push(receipt);
        }
        out.changes = ov.into_changes();
        Ok(out)
    }

    /// Execute one transaction alone on `view` (the state before it): its receipt, writes and
    /// evidence record, as serial execution would produce them.
    pub(crate) fn run_tx(
        &self,
        view: &dyn StateView,
        ctx: BlockContext,
        input: &TxInput<'_>,
    ) -> Result<TxRun, ExecutionError> {
        let mut ov = Overlay::new(view);
        let mut evidence = Vec::new();
        let receipt = self.execute_tx(&mut ov, ctx, input, &mut evidence)?;
        Ok(TxRun {
            receipt,
            writes: ov.into_changes(),
            evidence,
        })
    }

    fn execute_tx(
        &self,
        ov: &mut Overlay<'_>,
        ctx: BlockContext,
        input: &TxInput<'_>,
        new_evidence: &mut Vec<(Address, Hash)>,
    ) -> Result<Receipt, ExecutionError> {
        let tx = &input.tx.tx;
        if tx.payload.is_evm() {
            return self.route_evm(ov, ctx, input);
        }
        let sender_key = keys::account(self.alg(), &input.sender);
        let mut sender = token::read_account(ov, &sender_key)?;
        if let Some(void) = void_reason(input, &sender, ctx) {
            return Ok(failed(input.hash, 0, 0, void));
        }
        let gas_used = tx.intrinsic_gas();
        // Nonce and fee apply whatever happens next.
        sender.nonce += 1;
        let fee_due = u128::from(gas_used).saturating_mul(self.params.gas_price);
        let (fee, outcome) = match charge_fee(&mut sender, fee_due) {
            Ok(fee) => {
                ov.put(sender_key, codec::encode(&sender));
                (fee, self.apply_payload(ov, ctx, input, &tx.payload))
            }
            Err((paid, refusal)) => (paid, Err(refusal)),
        };
        match outcome {
            Ok(Applied { events, output }) => {
                if let Payload::EvidencePut(_) = tx.payload {
                    new_evidence.push((input.sender, input.hash));
                }
                ov.commit_tx();
                Ok(Receipt {
                    tx_hash: input.hash,
                    status: TxStatus::Success,
                    gas_used,
                    fee,
                    events,
                    error: None,
                    output,
                })
            }
            Err(TxError::Fatal(e)) => Err(e),
            Err(TxError::Refused(code, msg)) => {
                // Drop the payload's effects, keep nonce + fee.
                ov.discard_tx();
                ov.put(sender_key, codec::encode(&sender));
                ov.commit_tx();
                Ok(failed(input.hash, gas_used, fee, (code, msg)))
            }
        }
    }

    /// EVM payloads: governance permissions apply to contracts too (deploy/call policies,
    /// freezes…), then the EVM hook runs them.
    fn route_evm(
        &self,
        ov: &mut Overlay<'_>,
        ctx: BlockContext,
        input: &TxInput<'_>,
    ) -> Result<Receipt, ExecutionError> {
        let payload = &input.tx.tx.payload;
        match governance::authorize(ov, self.alg(), &input.sender, payload, ctx.timestamp_ms) {
            Ok(()) => self.execute_evm(ov, ctx, input),
            Err(Err(e)) => Err(e),
            Err(Ok((code, msg))) => self.refuse_evm(ov, input, code, msg),
        }
    }

    /// An EVM transaction refused by governance: like the EVM's own refusals, it consumes the
    /// nonce (if it is the next one) and charges nothing.
    fn refuse_evm(
        &self,
        ov: &mut Overlay<'_>,
        input: &TxInput<'_>,
        code: ExecErrorCode,
        msg: String,
    ) -> Result<Receipt, ExecutionError> {
        let sender_key = keys::account(self.alg(), &input.sender);
        let mut sender = token::read_account(ov, &sender_key)?;
        let error = if input.tx.tx.nonce == sender.nonce {
            sender.nonce += 1;
            ov.put(sender_key, codec::encode(&sender));
            ov.commit_tx();
            (code, msg)
        } else {
            (
                ExecErrorCode::NonceMismatch,
                format!(
                    "nonce {} but the account's next nonce is {}",
                    input.tx.tx.nonce, sender.nonce
                ),
            )
        };
        Ok(failed(input.hash, 0, 0, error))
    }

    fn execute_evm(
        &self,
        ov: &mut Overlay<'_>,
        ctx: BlockContext,
        input: &TxInput<'_>,
    ) -> Result<Receipt, ExecutionError> {
        let Some(evm) = self.evm else {
            let error = (ExecErrorCode::EvmHalted, "the EVM is not enabled".into());
            return Ok(failed(input.hash, 0, 0, error));
        };
        let out = evm.execute(&*ov, &self.params, ctx, input)?;
        for (k, v) in out.writes {
            ov.set(k, v);
        }
        ov.commit_tx();
        Ok(out.receipt)
    }

    /// Run the permission rule, then the payload's module, in the tx overlay.
    fn apply_payload(
        &self,
        ov: &mut Overlay<'_>,
        ctx: BlockContext,
        input: &TxInput<'_>,
        payload: &Payload,
    ) -> ModResult<Applied> {
        governance::authorize(ov, self.alg(), &input.sender, payload, ctx.timestamp_ms)?;
        let call = Call {
            alg: self.alg(),
            ctx,
            sender: input.sender,
            tx_hash: input.hash,
        };
        match payload {
            Payload::Gov(g) => {
                let events = governance::apply(ov, call.alg, ctx, &call.sender, call.tx_hash, g)?;
                Ok(Applied::events(events))
            }
            Payload::Transfer { to, amount } => token::transfer(ov, &call, to, *amount),
            Payload::EvidencePut(e) => evidence::put(ov, &call, e),
            Payload::Asset(op) => assets::apply(ov, &call, op),
            Payload::Nft(op) => nft::apply(ov, &call, op),
            Payload::Did(op) => did::apply(ov, &call, op),
            // Routed to `execute_evm` before reaching here.
            Payload::EvmCall { .. } | Payload::Ethereum { .. } => Err(TxError::Refused(
                ExecErrorCode::EvmHalted,
                "EVM payload on the native path".into(),
            )),
        }
    }
}

/// Why a transaction is void — not the sender's next nonce, or expired: it consumes no nonce
/// and pays no fee.
fn void_reason(
    input: &TxInput<'_>,
    sender: &token::Account,
    ctx: BlockContext,
) -> Option<(ExecErrorCode, String)> {
    let tx = &input.tx.tx;
    if tx.nonce != sender.nonce {
        let msg = format!(
            "nonce {} but the account's next nonce is {}",
            tx.nonce, sender.nonce
        );
        return Some((ExecErrorCode::NonceMismatch, msg));
    }
    if ctx.height > tx.expires_at_height {
        let msg = format!(
            "expired at height {}, block is {}",
            tx.expires_at_height, ctx.height
        );
        return Some((ExecErrorCode::Expired, msg));
    }
    None
}

/// Take `fee` from the sender. If the balance falls short, take what there is (the fee the
/// receipt reports is the one actually paid) and refuse the transaction.
fn charge_fee(sender: &mut token::Account, fee: u128) -> Result<u128, (u128, TxError)> {
    if sender.balance < fee {
        let msg = format!("balance {} does not cover the fee {}", sender.balance, fee);
        let paid = std::mem::take(&mut sender.balance);
        return Err((
            paid,
            TxError::Refused(ExecErrorCode::InsufficientBalance, msg),
        ));
    }
    sender.balance -= fee;
    Ok(fee)
}

/// A failed receipt: no events, no output.
fn failed(tx_hash: Hash, gas_used: u64, fee: u128, error: (ExecErrorCode, String)) -> Receipt {
    Receipt {
        tx_hash,
        status: TxStatus::Failed,
        gas_used,
        fee,
        events: vec![],
        error: Some(error),
        output: vec![],
    }
}
