//! The block executor.

use crate::keys::{self, StateKey};
use crate::overlay::{Overlay, StateView};
use crate::{Account, EvidenceRecord, EvmHook, ExecutionError};
use borsh::BorshDeserialize;
use keel_crypto::{HashAlgorithm, Suite};
use keel_types::{
    Address, Event, EvidencePut, ExecErrorCode, Hash, Payload, Receipt, SignedTransaction,
    TxStatus, codec,
};

/// Chain-wide parameters the executor needs (from genesis; the gas price as governance last set
/// it, see [`Executor::params_on`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainParams {
    /// Chain id.
    pub chain_id: u64,
    /// Crypto suite.
    pub suite: Suite,
    /// Price of one gas unit in the smallest token unit (zero allowed).
    pub gas_price: u128,
}

/// Facts about the block being executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockContext {
    /// Height of the block.
    pub height: u64,
    /// Block timestamp, ms since the Unix epoch.
    pub timestamp_ms: u64,
}

/// One transaction to execute, with what admission already established (hash, sender whose
/// signature was verified).
#[derive(Clone, Copy, Debug)]
pub struct TxInput<'a> {
    /// The transaction.
    pub tx: &'a SignedTransaction,
    /// Its hash.
    pub hash: Hash,
    /// Its verified sender.
    pub sender: Address,
}

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
}

/// State changes that create the genesis allocations.
pub fn genesis_changes(
    alg: HashAlgorithm,
    alloc: &[(Address, u128)],
) -> Vec<(StateKey, Option<Vec<u8>>)> {
    let mut m = std::collections::BTreeMap::new();
    for (addr, balance) in alloc {
        let e: &mut Account = m.entry(keys::account(alg, addr)).or_default();
        e.balance = e.balance.saturating_add(*balance);
    }
    m.into_iter()
        .map(|(k, a)| (k, Some(codec::encode(&a))))
        .collect()
}

struct Failure(ExecErrorCode, String);

impl Executor {
    /// New executor for a chain.
    pub fn new(params: ChainParams) -> Self {
        Executor { params, evm: None }
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
        if let Some(g) = crate::governance::gov_state(view, self.alg())?.and_then(|g| g.gas_price) {
            params.gas_price = g;
        }
        Ok(params)
    }

    fn alg(&self) -> HashAlgorithm {
        self.params.suite.hash()
    }

    /// Execute `txs` in order on top of `view`.
    pub fn execute_block(
        &self,
        view: &dyn StateView,
        ctx: BlockContext,
        txs: &[TxInput<'_>],
    ) -> Result<BlockOutcome, ExecutionError> {
        let mut ov = Overlay::new(view);
        let mut out = BlockOutcome::default();
        let this = Executor {
            params: self.params_on(&ov)?,
            evm: self.evm,
        };
        for input in txs {
            let receipt = this.execute_tx(&mut ov, ctx, input, &mut out.new_evidence)?;
            out.gas_used = out.gas_used.saturating_add(receipt.gas_used);
            out.receipts.push(receipt);
        }
        out.changes = ov.into_changes();
        Ok(out)
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
            // Governance permissions apply to contracts too (deploy/call policies, freezes…).
            match crate::governance::authorize(ov, self.alg(), &input.sender, &tx.payload) {
                Ok(()) => return self.execute_evm(ov, ctx, input),
                Err(Err(e)) => return Err(e),
                Err(Ok((code, msg))) => return self.refuse_evm(ov, input, code, msg),
            }
        }
        let sender_key = keys::account(self.alg(), &input.sender);
        let mut sender = read_account(ov, &sender_key)?;
        let rejected = |code: ExecErrorCode, msg: String| Receipt {
            tx_hash: input.hash,
            status: TxStatus::Failed,
            gas_used: 0,
            fee: 0,
            events: vec![],
            error: Some((code, msg)),
            output: vec![],
        };
        // Checks that make the transaction void: no nonce consumed, no fee.
        if tx.nonce != sender.nonce {
            return Ok(rejected(
                ExecErrorCode::NonceMismatch,
                format!(
                    "nonce {} but the account's next nonce is {}",
                    tx.nonce, sender.nonce
                ),
            ));
        }
        if ctx.height > tx.expires_at_height {
            return Ok(rejected(
                ExecErrorCode::Expired,
                format!(
                    "expired at height {}, block is {}",
                    tx.expires_at_height, ctx.height
                ),
            ));
        }
        let gas_used = tx.intrinsic_gas();
        let mut fee = u128::from(gas_used).saturating_mul(self.params.gas_price);
        // Nonce and fee apply whatever happens next.
        sender.nonce += 1;
        let (status, error, events, output) = if sender.balance < fee {
            let msg = format!("balance {} does not cover the fee {}", sender.balance, fee);
            // Charge what there is: the fee actually paid is what the receipt reports.
            fee = sender.balance;
            sender.balance = 0;
            (
                TxStatus::Failed,
                Some((ExecErrorCode::InsufficientBalance, msg)),
                vec![],
                vec![],
            )
        } else {
            sender.balance -= fee;
            ov.put(sender_key, codec::encode(&sender));
            match self.apply_payload(ov, ctx, input, &tx.payload) {
                Ok((events, output)) => {
                    if let Payload::EvidencePut(_) = tx.payload {
                        new_evidence.push((input.sender, input.hash));
                    }
                    ov.commit_tx();
                    return Ok(Receipt {
                        tx_hash: input.hash,
                        status: TxStatus::Success,
                        gas_used,
                        fee,
                        events,
                        error: None,
                        output,
                    });
                }
                Err(Err(e)) => return Err(e),
                Err(Ok(Failure(code, msg))) => {
                    (TxStatus::Failed, Some((code, msg)), vec![], vec![])
                }
            }
        };
        // Failure: drop the payload's effects, keep nonce + fee.
        ov.discard_tx();
        ov.put(sender_key, codec::encode(&sender));
        ov.commit_tx();
        Ok(Receipt {
            tx_hash: input.hash,
            status,
            gas_used,
            fee,
            events,
            error,
            output,
        })
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
        let mut sender = read_account(ov, &sender_key)?;
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
        Ok(Receipt {
            tx_hash: input.hash,
            status: TxStatus::Failed,
            gas_used: 0,
            fee: 0,
            events: vec![],
            error: Some(error),
            output: vec![],
        })
    }

    fn execute_evm(
        &self,
        ov: &mut Overlay<'_>,
        ctx: BlockContext,
        input: &TxInput<'_>,
    ) -> Result<Receipt, ExecutionError> {
        let Some(evm) = self.evm else {
            return Ok(Receipt {
                tx_hash: input.hash,
                status: TxStatus::Failed,
                gas_used: 0,
                fee: 0,
                events: vec![],
                error: Some((ExecErrorCode::EvmHalted, "the EVM is not enabled".into())),
                output: vec![],
            });
        };
        let out = evm.execute(&*ov, &self.params, ctx, input)?;
        for (k, v) in out.writes {
            ov.set(k, v);
        }
        ov.commit_tx();
        Ok(out.receipt)
    }

    /// Apply the payload in the tx overlay. `Err(Ok(_))` is a transaction failure,
    /// `Err(Err(_))` an operating error.
    #[allow(clippy::type_complexity)]
    fn apply_payload(
        &self,
        ov: &mut Overlay<'_>,
        ctx: BlockContext,
        input: &TxInput<'_>,
        payload: &Payload,
    ) -> Result<(Vec<Event>, Vec<u8>), Result<Failure, ExecutionError>> {
        let gov_failure = |e: Result<crate::governance::Refusal, ExecutionError>| {
            e.map(|(code, msg)| Failure(code, msg))
        };
        crate::governance::authorize(ov, self.alg(), &input.sender, payload)
            .map_err(gov_failure)?;
        match payload {
            Payload::Gov(g) => {
                let events =
                    crate::governance::apply(ov, self.alg(), ctx, &input.sender, input.hash, g)
                        .map_err(gov_failure)?;
                Ok((events, vec![]))
            }
            Payload::Transfer { to, amount } => {
                self.transfer(ov, &input.sender, to, *amount)?;
                let ev = Event {
                    module: "token".into(),
                    name: "Transfer".into(),
                    attributes: vec![
                        ("from".into(), input.sender.to_string()),
                        ("to".into(), to.to_string()),
                        ("amount".into(), amount.to_string()),
                    ],
                };
                Ok((vec![ev], vec![]))
            }
            Payload::EvidencePut(e) => {
                let id = self.evidence_put(ov, ctx, input, e)?;
                let ev = Event {
                    module: "evidence".into(),
                    name: "EvidenceRecorded".into(),
                    attributes: vec![
                        ("id".into(), id.to_string()),
                        ("content_hash".into(), e.content_hash.to_string()),
                        ("hash_alg".into(), e.hash_alg.name().into()),
                        ("owner".into(), input.sender.to_string()),
                    ],
                };
                Ok((vec![ev], id.0.to_vec()))
            }
            // Routed to `execute_evm` before reaching here.
            Payload::EvmCall { .. } | Payload::Ethereum { .. } => Err(Ok(Failure(
                ExecErrorCode::EvmHalted,
                "EVM payload on the native path".into(),
            ))),
        }
    }

    fn transfer(
        &self,
        ov: &mut Overlay<'_>,
        from: &Address,
        to: &Address,
        amount: u128,
    ) -> Result<(), Result<Failure, ExecutionError>> {
        let from_key = keys::account(self.alg(), from);
        let mut src = read_account(ov, &from_key).map_err(Err)?;
        if src.balance < amount {
            return Err(Ok(Failure(
                ExecErrorCode::InsufficientBalance,
                format!("balance {} is less than the amount {}", src.balance, amount),
            )));
        }
        if from == to {
            return Ok(());
        }
        let to_key = keys::account(self.alg(), to);
        let mut dst = read_account(ov, &to_key).map_err(Err)?;
        dst.balance = dst.balance.checked_add(amount).ok_or_else(|| {
            Ok(Failure(
                ExecErrorCode::Overflow,
                "recipient balance would overflow".into(),
            ))
        })?;
        src.balance -= amount;
        ov.put(from_key, codec::encode(&src));
        ov.put(to_key, codec::encode(&dst));
        Ok(())
    }

    fn evidence_put(
        &self,
        ov: &mut Overlay<'_>,
        ctx: BlockContext,
        input: &TxInput<'_>,
        e: &EvidencePut,
    ) -> Result<Hash, Result<Failure, ExecutionError>> {
        let alg = self.alg();
        let index_key = keys::evidence_by_hash(alg, e.hash_alg, &e.content_hash);
        if let Some(existing) = ov.get(&index_key).map_err(Err)? {
            let existing = Hash::from_slice(&existing)
                .map(|h| h.to_string())
                .unwrap_or_default();
            return Err(Ok(Failure(
                ExecErrorCode::EvidenceDuplicate,
                format!(
                    "content hash {} ({}) is already recorded as evidence {}",
                    e.content_hash,
                    e.hash_alg.name(),
                    existing
                ),
            )));
        }
        let id = input.hash;
        let record = EvidenceRecord {
            id,
            content_hash: e.content_hash,
            hash_alg: e.hash_alg,
            size: e.size,
            media_type: e.media_type.clone(),
            owner: input.sender,
            metadata: e.metadata.clone(),
            height: ctx.height,
            timestamp_ms: ctx.timestamp_ms,
        };
        ov.put(keys::evidence(alg, &id), codec::encode(&record));
        ov.put(index_key, id.0.to_vec());
        Ok(id)
    }
}

fn read_account(ov: &Overlay<'_>, key: &StateKey) -> Result<Account, ExecutionError> {
    match ov.get(key)? {
        None => Ok(Account::default()),
        Some(bytes) => decode_value("account", key, &bytes),
    }
}

/// Decode a stored state value, mapping failure to [`ExecutionError::Corrupt`].
pub(crate) fn decode_value<T: BorshDeserialize>(
    what: &'static str,
    key: &StateKey,
    bytes: &[u8],
) -> Result<T, ExecutionError> {
    borsh::from_slice(bytes).map_err(|e| ExecutionError::Corrupt {
        what,
        key: hex::encode(key),
        reason: e.to_string(),
    })
}

impl Account {
    /// Decode a stored account value.
    pub fn decode(key: &StateKey, bytes: &[u8]) -> Result<Account, ExecutionError> {
        decode_value("account", key, bytes)
    }
}

impl EvidenceRecord {
    /// Decode a stored evidence record.
    pub fn decode(key: &StateKey, bytes: &[u8]) -> Result<EvidenceRecord, ExecutionError> {
        decode_value("evidence record", key, bytes)
    }
}
