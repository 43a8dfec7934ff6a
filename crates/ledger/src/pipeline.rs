//! The block pipeline, shared by solo production and BFT consensus:
//!
//! 1. [`Ledger::execute_on`] — execute transactions as the block after a parent that may itself be
//!    uncommitted (`pending`: executed ancestors newer than the committed head, oldest first),
//!    producing an [`ExecutedBlock`] whose header commits to the resulting state root.
//! 2. [`Ledger::validate_block`] — check a block another validator proposed: header fields,
//!    limits, every transaction (stateless rules, signatures verified once per node — pool
//!    members were verified at admission), then re-execute it and compare every root.
//! 3. [`Ledger::commit_block`] — durably commit an executed block with its certificate in one
//!    fsynced batch (see the crate docs for the durability steps).

use crate::ledger::HeadAccounts;
use crate::{Ledger, LedgerError, Stage};
use keel_execution::{BlockContext, BlockOutcome, ExecutionError, StateView, TxInput, keys};
use keel_mempool::BlockBudget;
use keel_state::{StateDelta, StateSnapshot};
use keel_storage::Durability;
use keel_types::{
    Address, Block, CommitCertificate, CommitSignature, ExecErrorCode, Hash, Header, Receipt,
    SignedTransaction, codec, limits, merkle,
};
use std::sync::Arc;

/// How far a proposed block's timestamp may be ahead of the validating node's clock: well below
/// the round timeout (1 s by default), so a Byzantine leader's future timestamp cannot hold up
/// the rounds after it (the next leader also paces on its own clock, security review finding 9).
pub const MAX_FUTURE_DRIFT_MS: u64 = 500;

/// A transaction whose signature was verified, with its hash and sender.
#[derive(Clone, Debug)]
pub struct VerifiedTx {
    /// The transaction.
    pub tx: Arc<SignedTransaction>,
    /// Its hash.
    pub hash: Hash,
    /// Its sender.
    pub sender: Address,
}

impl From<keel_mempool::PooledTx> for VerifiedTx {
    /// A pooled transaction was verified at admission.
    fn from(p: keel_mempool::PooledTx) -> VerifiedTx {
        VerifiedTx {
            tx: p.tx,
            hash: p.hash,
            sender: p.sender,
        }
    }
}

/// A block executed on top of its parent, not yet committed.
#[derive(Clone, Debug)]
pub struct ExecutedBlock {
    /// The block (certificate empty until commit).
    pub block: Block,
    /// Header hash.
    pub hash: Hash,
    /// Transactions with hashes and senders.
    pub txs: Vec<VerifiedTx>,
    /// Receipts, one per transaction.
    pub receipts: Vec<Receipt>,
    /// Evidence records created (owner, id).
    pub new_evidence: Vec<(Address, Hash)>,
    /// The state after this block, in memory.
    pub delta: Arc<StateDelta>,
}

/// Why a proposed block is invalid. A validator never votes for such a block.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// A header field is wrong.
    #[error("header {field}: {reason}")]
    Header {
        /// Field.
        field: &'static str,
        /// Expected vs found.
        reason: String,
    },
    /// A transaction is invalid.
    #[error("transaction {index}: {reason}")]
    Transaction {
        /// Position in the block.
        index: usize,
        /// Why.
        reason: String,
    },
    /// Re-execution gives another result than the header claims.
    #[error("{root} mismatch: header says {claimed}, execution gives {computed}")]
    Mismatch {
        /// Which commitment.
        root: &'static str,
        /// In the header.
        claimed: String,
        /// Recomputed.
        computed: String,
    },
    /// The node could not check (storage failure...): not a verdict on the block.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// State as of the committed head plus pending executed blocks.
pub(crate) struct PendingView<'a>(pub(crate) StateSnapshot<'a>);

impl StateView for PendingView<'_> {
    fn get(&self, key: &keys::StateKey) -> Result<Option<Vec<u8>>, ExecutionError> {
        self.0
            .get(key)
            .map_err(|e| ExecutionError::State(e.to_string()))
    }
}

impl Ledger {
    fn parent_of(&self, pending: &[&ExecutedBlock]) -> (Header, Hash) {
        match pending.last() {
            Some(p) => (p.block.header.clone(), p.hash),
            None => {
                let head = self.head();
                (head.header, head.hash)
            }
        }
    }

    /// Execute blocks with `threads` threads (optimistic parallel execution, ADR 0013); 1, the
    /// default, is serial. Blocks, receipts and state are the same for any value.
    pub fn set_exec_threads(&self, threads: usize) {
        self.exec_threads
            .store(threads.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// Threads that execute a block (1 = serial).
    pub fn exec_threads(&self) -> usize {
        self.exec_threads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Execute `txs` as the next block after `pending` (or the committed head). `txs` must be
    /// verified; void transactions (wrong nonce, expired) make this fail, because a proposer
    /// must not include them.
    pub fn execute_on(
        &self,
        pending: &[&ExecutedBlock],
        txs: Vec<VerifiedTx>,
        timestamp_ms: u64,
        proposer: Address,
    ) -> Result<ExecutedBlock, BlockError> {
        let (parent, parent_hash) = self.parent_of(pending);
        let height = parent.height + 1;
        let alg = self.suite.hash();
        let timestamp_ms = timestamp_ms.max(parent.timestamp_ms);
        let tx_bytes: usize = txs.iter().map(|t| t.tx.encode().len()).sum();
        if tx_bytes > limits::MAX_BLOCK_TX_BYTES {
            return Err(BlockError::Header {
                field: "tx_count",
                reason: format!(
                    "{tx_bytes} bytes of transactions, the block budget is {}",
                    limits::MAX_BLOCK_TX_BYTES
                ),
            });
        }
        let outcome = self.counters.stages.time(Stage::Execute, || {
            self.run(pending, height, timestamp_ms, &txs)
        })?;
        for (i, r) in outcome.receipts.iter().enumerate() {
            if let Some((code @ (ExecErrorCode::NonceMismatch | ExecErrorCode::Expired), msg)) =
                &r.error
            {
                return Err(BlockError::Transaction {
                    index: i,
                    reason: format!("{}: {msg}", code.name()),
                });
            }
        }
        let deltas: Vec<&StateDelta> = pending.iter().map(|p| &*p.delta).collect();
        let delta = self
            .counters
            .stages
            .time(Stage::StateRoot, || {
                self.state.compute(height, &outcome.changes, &deltas)
            })
            .map_err(LedgerError::from)?;
        let tx_hashes: Vec<Hash> = txs.iter().map(|t| t.hash).collect();
        let receipt_bytes: Vec<Vec<u8>> = outcome.receipts.iter().map(codec::encode).collect();
        let header = Header {
            chain_id: self.genesis.chain_id,
            height,
            parent_hash,
            timestamp_ms,
            tx_root: merkle::root(alg, &tx_hashes),
            receipts_root: merkle::root(alg, &receipt_bytes),
            state_root: Hash(delta.root()),
            proposer,
            tx_count: u32::try_from(txs.len()).map_err(|_| BlockError::Header {
                field: "tx_count",
                reason: "over u32".into(),
            })?,
            gas_used: outcome.gas_used,
        };
        let hash = header.hash(alg);
        Ok(ExecutedBlock {
            block: Block {
                header,
                transactions: txs.iter().map(|t| (*t.tx).clone()).collect(),
                certificate: CommitCertificate::default(),
            },
            hash,
            txs,
            receipts: outcome.receipts,
            new_evidence: outcome.new_evidence,
            delta: Arc::new(delta),
        })
    }

    fn run(
        &self,
        pending: &[&ExecutedBlock],
        height: u64,
        timestamp_ms: u64,
        txs: &[VerifiedTx],
    ) -> Result<BlockOutcome, LedgerError> {
        let deltas: Vec<&StateDelta> = pending.iter().map(|p| &*p.delta).collect();
        let view = PendingView(self.state.snapshot(&deltas)?);
        let inputs: Vec<TxInput<'_>> = txs
            .iter()
            .map(|t| TxInput {
                tx: &t.tx,
                hash: t.hash,
                sender: t.sender,
            })
            .collect();
        let ctx = BlockContext {
            height,
            timestamp_ms,
        };
        let threads = self.exec_threads.load(std::sync::atomic::Ordering::Relaxed);
        let executor = self.executor.with_threads(threads);
        Ok(executor.execute_block(&view, ctx, &inputs)?)
    }

    /// Validate a block proposed on top of `pending` (or the committed head): header fields,
    /// limits, transactions and signatures, then re-execution with every root compared.
    /// `now_ms` bounds how far in the future its timestamp may be.
    pub fn validate_block(
        &self,
        block: &Block,
        pending: &[&ExecutedBlock],
        now_ms: u64,
    ) -> Result<ExecutedBlock, BlockError> {
        let (parent, parent_hash) = self.parent_of(pending);
        let h = &block.header;
        let header_err = |field, reason: String| BlockError::Header { field, reason };
        if h.chain_id != self.genesis.chain_id {
            return Err(header_err(
                "chain_id",
                format!("{} is not this chain", h.chain_id),
            ));
        }
        if h.height != parent.height + 1 {
            return Err(header_err(
                "height",
                format!("{} does not follow {}", h.height, parent.height),
            ));
        }
        if h.parent_hash != parent_hash {
            return Err(header_err(
                "parent_hash",
                format!("{} is not {parent_hash}", h.parent_hash),
            ));
        }
        if h.timestamp_ms < parent.timestamp_ms || h.timestamp_ms > now_ms + MAX_FUTURE_DRIFT_MS {
            return Err(header_err(
                "timestamp_ms",
                format!(
                    "{} outside [{}, now + {MAX_FUTURE_DRIFT_MS}]",
                    h.timestamp_ms, parent.timestamp_ms
                ),
            ));
        }
        // The proposer belongs to the parent's epoch, or — for the empty blocks that follow an
        // uncommitted epoch-ending block — to the committed head's (ADR 0011).
        let parent_epoch = self.epoch_on(pending)?.addresses(self.suite.hash());
        if !parent_epoch.contains(&h.proposer) && !self.current_validators().contains(&h.proposer) {
            return Err(header_err(
                "proposer",
                format!("{} is not a validator", h.proposer),
            ));
        }
        let budget = self.block_budget_on(pending)?;
        if block.transactions.len() > budget.max_txs
            || h.tx_count as usize != block.transactions.len()
        {
            return Err(header_err(
                "tx_count",
                format!("{} / {} transactions", h.tx_count, block.transactions.len()),
            ));
        }
        let evm_gas = block
            .transactions
            .iter()
            .map(keel_mempool::evm_gas_of)
            .fold(0u64, u64::saturating_add);
        if evm_gas > budget.max_evm_gas {
            return Err(header_err(
                "gas",
                format!(
                    "{evm_gas} EVM gas in the block's transactions, the block gas budget is {}",
                    budget.max_evm_gas
                ),
            ));
        }
        let txs = self.counters.stages.time(Stage::ProposalVerify, || {
            self.verify_block_txs(&block.transactions)
        })?;
        let executed = self.execute_on(pending, txs, h.timestamp_ms, h.proposer)?;
        let e = &executed.block.header;
        for (root, claimed, computed) in [
            ("tx root", h.tx_root, e.tx_root),
            ("receipts root", h.receipts_root, e.receipts_root),
            ("state root", h.state_root, e.state_root),
        ] {
            if claimed != computed {
                return Err(BlockError::Mismatch {
                    root,
                    claimed: claimed.to_string(),
                    computed: computed.to_string(),
                });
            }
        }
        if h.gas_used != e.gas_used {
            return Err(BlockError::Mismatch {
                root: "gas used",
                claimed: h.gas_used.to_string(),
                computed: e.gas_used.to_string(),
            });
        }
        debug_assert_eq!(executed.hash, block.hash(self.suite.hash()));
        Ok(executed)
    }

    /// The consensus budget of the block after `pending` (or the committed head), read at its
    /// parent's state: the governance `MaxBlockTxs` (at most [`limits::MAX_BLOCK_TXS`]) and
    /// none after an epoch-ending block (ADR 0011); [`limits::MAX_BLOCK_TX_BYTES`]; the
    /// governance `MaxBlockGas` or [`limits::DEFAULT_MAX_BLOCK_EVM_GAS`].
    pub fn block_budget_on(&self, pending: &[&ExecutedBlock]) -> Result<BlockBudget, LedgerError> {
        let deltas: Vec<&StateDelta> = pending.iter().map(|p| &*p.delta).collect();
        let view = PendingView(self.state.snapshot(&deltas)?);
        let alg = self.suite.hash();
        let gov_txs =
            keel_execution::governance::gov_state(&view, alg)?.and_then(|g| g.max_block_txs);
        let max_txs = if pending.iter().any(|b| self.ends_epoch(b)) {
            0
        } else {
            gov_txs.map_or(limits::MAX_BLOCK_TXS, |n| {
                (n as usize).min(limits::MAX_BLOCK_TXS)
            })
        };
        let max_evm_gas = keel_execution::governance::max_block_gas(&view, alg)?
            .unwrap_or(limits::DEFAULT_MAX_BLOCK_EVM_GAS);
        Ok(BlockBudget {
            max_txs,
            max_tx_bytes: limits::MAX_BLOCK_TX_BYTES,
            max_evm_gas,
        })
    }

    /// Whether executing this block changed the validator set (it ends its epoch: only empty
    /// blocks may follow it in the same epoch, and they are never committed; ADR 0011).
    pub fn ends_epoch(&self, b: &ExecutedBlock) -> bool {
        let key = keel_execution::governance::epoch_key(self.suite.hash());
        b.delta.written(&key).is_some()
    }

    /// Stateless checks and signatures of a proposed block's transactions. Transactions already
    /// in this node's pool were verified at admission and are not verified again.
    fn verify_block_txs(&self, txs: &[SignedTransaction]) -> Result<Vec<VerifiedTx>, BlockError> {
        let alg = self.suite.hash();
        let mut out = Vec::with_capacity(txs.len());
        let mut seen = std::collections::HashSet::with_capacity(txs.len());
        let mut to_verify: Vec<usize> = Vec::new();
        // Encoded once: the block byte budget, the size limit and the hash (suite hash of the
        // encoding). The budget is checked before any signature or state work.
        let all: Vec<Vec<u8>> = txs.iter().map(|t| t.encode()).collect();
        let bytes: usize = all.iter().map(Vec::len).sum();
        if bytes > limits::MAX_BLOCK_TX_BYTES {
            return Err(BlockError::Header {
                field: "tx_count",
                reason: format!(
                    "{bytes} bytes of transactions, the block budget is {}",
                    limits::MAX_BLOCK_TX_BYTES
                ),
            });
        }
        for (index, (t, encoded)) in txs.iter().zip(&all).enumerate() {
            let bad = |reason: String| BlockError::Transaction { index, reason };
            if encoded.len() > limits::MAX_TX_BYTES {
                return Err(bad("over the size limit".into()));
            }
            t.check_stateless(self.genesis.chain_id, self.suite)
                .map_err(|e| bad(e.to_string()))?;
            let hash = t.hash_of_encoded(alg, encoded);
            if !seen.insert(hash) {
                return Err(bad(format!("duplicate of an earlier transaction {hash}")));
            }
            // A committed transaction is never included again: its receipt and index entry
            // must stay (security review finding 10).
            if let Some(loc) = self.chain.tx_location(&hash)? {
                return Err(bad(format!(
                    "{hash} is already committed at height {}",
                    loc.height
                )));
            }
            // In the pool: verified at admission, sender known (no key decoding again).
            let sender = match self.mempool.sender_of(&hash) {
                Some(sender) => sender,
                None => {
                    to_verify.push(index);
                    t.sender(self.suite).map_err(|e| bad(e.to_string()))?
                }
            };
            out.push(VerifiedTx {
                tx: Arc::new(t.clone()),
                hash,
                sender,
            });
        }
        let refs: Vec<&SignedTransaction> = to_verify.iter().map(|i| &txs[*i]).collect();
        let ok = keel_mempool::verify_parallel(&refs, self.mempool.config().verify_chunk);
        if let Some((i, _)) = to_verify.iter().zip(ok).find(|(_, ok)| !ok) {
            return Err(BlockError::Transaction {
                index: *i,
                reason: "signature does not verify".into(),
            });
        }
        // Verified here: a copy arriving later by gossip need not be verified again.
        let verified: Vec<Hash> = to_verify.iter().map(|i| out[*i].hash).collect();
        self.mempool.mark_included(&verified);
        Ok(out)
    }

    /// Durably commit `executed` (the next block after the committed head) with `certificate`.
    /// Returns only after the fsync; then publishes the new head and prunes the pool.
    pub fn commit_block(
        &self,
        executed: &ExecutedBlock,
        certificate: CommitCertificate,
        started: std::time::Instant,
    ) -> Result<Block, LedgerError> {
        let head = self.head();
        let h = executed.block.header.height;
        if h != head.height + 1 || executed.block.header.parent_hash != head.hash {
            return Err(LedgerError::Invariant(format!(
                "block {h} does not extend the committed head {} {}",
                head.height, head.hash
            )));
        }
        let storage_started = std::time::Instant::now();
        let mut block = executed.block.clone();
        block.certificate = certificate;
        let mut batch = self.chain.store().batch();
        self.state.write(&executed.delta, &mut batch)?;
        let tx_hashes: Vec<Hash> = executed.txs.iter().map(|t| t.hash).collect();
        self.chain.put_block(
            &mut batch,
            &block,
            &executed.hash,
            &tx_hashes,
            &executed.receipts,
            &executed.new_evidence,
        );
        self.prune_pending_blocks(h, &mut batch)?;
        let fsync_started = std::time::Instant::now();
        batch.commit(Durability::Sync)?;
        self.counters
            .stages
            .add(Stage::Storage, storage_started.elapsed());
        self.counters.record_commit_detail(
            block.header.gas_used,
            executed.new_evidence.len(),
            fsync_started.elapsed(),
        );
        // Durable: publish.
        *self.head.write().unwrap_or_else(|p| p.into_inner()) = crate::Head {
            height: h,
            hash: executed.hash,
            header: block.header.clone(),
        };
        let committed: Vec<(Address, Hash)> =
            executed.txs.iter().map(|t| (t.sender, t.hash)).collect();
        self.mempool
            .on_commit(&committed, &HeadAccounts(self), h + 1);
        let failed = executed
            .receipts
            .iter()
            .filter(|r| r.error.is_some())
            .count() as u64;
        self.counters
            .record_block(executed.txs.len() as u64, failed, started.elapsed());
        *self.events.0.lock().unwrap_or_else(|p| p.into_inner()) = h;
        self.events.1.notify_all();
        tracing::debug!(height = h, txs = executed.txs.len(), hash = %executed.hash, "committed block");
        Ok(block)
    }

    /// Solo mode: produce, execute and durably commit the next block with up to `max_txs`
    /// pending transactions, signed with `key` (the host's key, whose address this ledger was
    /// opened with). Returns `None` without doing anything if there is nothing to include and
    /// `allow_empty` is false.
    pub fn produce_block(
        &self,
        key: &keel_crypto::KeyPair,
        now_ms: u64,
        max_txs: usize,
        allow_empty: bool,
    ) -> Result<Option<Block>, LedgerError> {
        let _one_producer = self.produce.lock().unwrap_or_else(|p| p.into_inner());
        let started = std::time::Instant::now();
        let height = self.head().height + 1;
        let mut budget = self.block_budget_on(&[])?;
        budget.max_txs = budget.max_txs.min(max_txs);
        let picked = self
            .mempool
            .select_within(&budget, &HeadAccounts(self), height);
        if picked.is_empty() && !allow_empty {
            return Ok(None);
        }
        let txs = picked.into_iter().map(VerifiedTx::from).collect();
        let executed = match self.execute_on(&[], txs, now_ms, self.validator) {
            Ok(e) => e,
            Err(BlockError::Ledger(e)) => return Err(e),
            // The pool only hands out ready transactions at the head's nonces: a void one here
            // means the pool and the state disagree, a bug.
            Err(e) => return Err(LedgerError::Invariant(format!("own block invalid: {e}"))),
        };
        let signature = key.sign(&CommitCertificate::signing_message(
            height,
            0,
            &executed.hash,
        ));
        let certificate = CommitCertificate {
            vote: Vec::new(),
            round: 0,
            signatures: vec![CommitSignature {
                validator: self.validator,
                signature,
            }],
        };
        self.commit_block(&executed, certificate, started).map(Some)
    }
}
