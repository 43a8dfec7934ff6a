//! The pool itself.

use crate::AdmitError;
use keel_crypto::{Scheme, Suite};
use keel_types::{Address, Hash, Payload, SignedTransaction, TxCheckError};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// Pool limits and chain rules.
#[derive(Clone, Debug)]
pub struct MempoolConfig {
    /// Chain id transactions must carry.
    pub chain_id: u64,
    /// Chain suite (decides accepted schemes and the hash).
    pub suite: Suite,
    /// Gas price when the [`AccountSource`] knows none (the genesis price). Admission prices
    /// transactions with [`AccountSource::gas_price`], the price execution charges.
    pub gas_price: u128,
    /// Most transactions in the pool.
    pub max_txs: usize,
    /// Most pending transactions per sender.
    pub max_per_sender: usize,
    /// Highest acceptable nonce is `account nonce + nonce_window - 1`.
    pub nonce_window: u64,
    /// Highest acceptable expiry is `next height + max_expiry_blocks`.
    pub max_expiry_blocks: u64,
    /// Signatures per batch-verification chunk.
    pub verify_chunk: usize,
}

impl MempoolConfig {
    /// Defaults for a chain.
    pub fn new(chain_id: u64, suite: Suite, gas_price: u128) -> Self {
        MempoolConfig {
            chain_id,
            suite,
            gas_price,
            max_txs: 200_000,
            max_per_sender: 4_096,
            nonce_window: 4_096,
            max_expiry_blocks: 100_000,
            verify_chunk: 64,
        }
    }
}

/// Read access to committed account state (nonce, balance).
pub trait AccountSource: Sync {
    /// `(next nonce, balance)` of `addr`, zeros if it does not exist.
    fn account(&self, addr: &Address) -> Result<(u64, u128), String>;

    /// Governance permission check for `sender` sending `tx` (ADR 0011): frozen, not admitted,
    /// read-only role, refused proposal. The default admits everything.
    fn authorize(&self, _sender: &Address, _tx: &SignedTransaction) -> Result<(), AdmitError> {
        Ok(())
    }

    /// Gas price the next block charges (governance may change it), read once per admitted
    /// batch. `None`: the configured [`MempoolConfig::gas_price`].
    fn gas_price(&self) -> Result<Option<u128>, String> {
        Ok(None)
    }
}

/// What one block may hold (a leader's selection stops at the first bound reached).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockBudget {
    /// Most transactions.
    pub max_txs: usize,
    /// Most bytes of encoded transactions.
    pub max_tx_bytes: usize,
    /// Most EVM gas: the sum of the gas limits of EVM transactions ([`evm_gas_of`]).
    pub max_evm_gas: u64,
}

/// The EVM gas a transaction counts against a block's budget: its gas limit if the EVM runs
/// it, else 0.
pub fn evm_gas_of(tx: &SignedTransaction) -> u64 {
    if tx.tx.payload.is_evm() {
        tx.tx.gas_limit
    } else {
        0
    }
}

/// A transaction accepted into the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admitted {
    /// Transaction hash.
    pub hash: Hash,
    /// Verified sender.
    pub sender: Address,
}

/// A pending, verified transaction.
#[derive(Clone, Debug)]
pub struct PooledTx {
    /// The transaction.
    pub tx: Arc<SignedTransaction>,
    /// Its hash.
    pub hash: Hash,
    /// Verified sender.
    pub sender: Address,
    seq: u64,
    max_cost: u128,
}

/// Pending transactions per sender offered by [`Mempool::oldest`] (the ones that must commit
/// first).
pub const REGOSSIP_PER_SENDER: usize = 4;

/// How many recently included transaction hashes the pool remembers, so that a copy arriving
/// late by gossip is refused before its signature is verified again.
pub const RECENT_CAPACITY: usize = 262_144;

/// A bounded first-in-first-out set of hashes.
#[derive(Default)]
struct RecentSet {
    order: VecDeque<Hash>,
    set: HashSet<Hash>,
}

impl RecentSet {
    fn insert(&mut self, h: Hash) {
        if self.set.insert(h) {
            self.order.push_back(h);
            while self.order.len() > RECENT_CAPACITY {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
    fn contains(&self, h: &Hash) -> bool {
        self.set.contains(h)
    }
}

#[derive(Default)]
struct Inner {
    by_hash: HashMap<Hash, (Address, u64)>,
    senders: HashMap<Address, BTreeMap<u64, PooledTx>>,
    next_seq: u64,
    /// Hashes of transactions this node verified inside someone else's proposal, bounded by
    /// [`RECENT_CAPACITY`]. (Committed ones are caught by the nonce check before verification.)
    recent: RecentSet,
}

/// The transaction pool. Thread-safe; admission work outside the lock runs in parallel.
pub struct Mempool {
    cfg: MempoolConfig,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Mempool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mempool")
            .field("cfg", &self.cfg)
            .field("len", &self.len())
            .finish()
    }
}

struct Candidate {
    tx: SignedTransaction,
    hash: Hash,
    sender: Address,
}

/// Verify the signatures of `txs` on all cores, `chunk` signatures per work unit. Returns one
/// flag per transaction, in order.
///
/// One rule for admission, proposal validation and sync: every signature is verified on its own
/// with its scheme's strict single rule (Ed25519 `verify_strict`). Ed25519 batch verification
/// is deliberately not used: its random-linear-combination check can accept a signature with a
/// small-order component that `verify_strict` rejects, depending on which other signatures share
/// the batch, so validators building different batches could disagree on a block (security
/// review finding 8).
pub fn verify_parallel(txs: &[&SignedTransaction], chunk: usize) -> Vec<bool> {
    let flags: Vec<(usize, bool)> = txs
        .par_iter()
        .enumerate()
        .with_min_len(chunk.max(1))
        .map(|(i, t)| (i, verify_one(t)))
        .collect();
    let mut ok = vec![true; txs.len()];
    for (i, good) in flags {
        ok[i] = good;
    }
    ok
}

fn verify_one(t: &SignedTransaction) -> bool {
    if matches!(t.tx.payload, Payload::Ethereum { .. }) {
        // Ethereum envelopes: verified by recovery from the raw bytes (ADR 0009).
        return crate::evm::verify(t);
    }
    let message = t.signing_message();
    keel_crypto::verify(
        t.tx.signer.scheme,
        &t.tx.signer.public_key,
        &message,
        &t.signature,
    )
    .is_ok()
}

impl Mempool {
    /// Empty pool.
    pub fn new(cfg: MempoolConfig) -> Self {
        Mempool {
            cfg,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Configuration.
    pub fn config(&self) -> &MempoolConfig {
        &self.cfg
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock is a bug; the pool content stays structurally valid
        // (every mutation is a single insert/remove), so keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Pending transactions.
    pub fn len(&self) -> usize {
        self.lock().by_hash.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remember transactions included in a block this node has validated (verified there), so
    /// that their gossiped copies are refused as already known without a second verification.
    pub fn mark_included(&self, hashes: &[Hash]) {
        let mut inner = self.lock();
        for h in hashes {
            inner.recent.insert(*h);
        }
    }

    /// The verified sender of a pending transaction.
    pub fn sender_of(&self, hash: &Hash) -> Option<Address> {
        self.lock().by_hash.get(hash).map(|(sender, _)| *sender)
    }

    /// Next nonce of `sender` counting its pooled transactions consecutive from
    /// `account_nonce` (Ethereum's `pending` transaction count).
    pub fn pending_nonce(&self, sender: &Address, account_nonce: u64) -> u64 {
        let inner = self.lock();
        let mut next = account_nonce;
        if let Some(q) = inner.senders.get(sender) {
            while q.contains_key(&next) {
                next += 1;
            }
        }
        next
    }

    /// The pending transaction with this hash, if any.
    pub fn get(&self, hash: &Hash) -> Option<PooledTx> {
        let inner = self.lock();
        let (sender, nonce) = inner.by_hash.get(hash)?;
        inner.senders.get(sender)?.get(nonce).cloned()
    }

    /// The `limit` longest-pending transactions (lowest admission order), taking at most the
    /// first [`REGOSSIP_PER_SENDER`] nonces of each sender: what a node gossips again when
    /// transactions stay pending (their first gossip frame may have been lost).
    /// Linear in the pool's senders (a partial selection, not a sort of the whole pool): it
    /// runs on the consensus thread once per sync check.
    pub fn oldest(&self, limit: usize) -> Vec<PooledTx> {
        let inner = self.lock();
        let mut heads: Vec<&PooledTx> = inner
            .senders
            .values()
            .flat_map(|q| q.values().take(REGOSSIP_PER_SENDER))
            .collect();
        if limit == 0 {
            return Vec::new();
        }
        if heads.len() > limit {
            heads.select_nth_unstable_by_key(limit - 1, |p| p.seq);
            heads.truncate(limit);
        }
        heads.sort_unstable_by_key(|p| p.seq);
        heads.into_iter().cloned().collect()
    }

    /// Is this transaction pending?
    pub fn contains(&self, hash: &Hash) -> bool {
        self.lock().by_hash.contains_key(hash)
    }

    /// Admit a batch of raw transactions; one result per input, in order. `next_height` is the
    /// height of the next block to be produced.
    pub fn admit(
        &self,
        raws: &[Vec<u8>],
        accounts: &dyn AccountSource,
        next_height: u64,
    ) -> Vec<Result<Admitted, AdmitError>> {
        // One price for the whole batch: the one the next block charges.
        let gas_price = match accounts.gas_price() {
            Ok(p) => p.unwrap_or(self.cfg.gas_price),
            Err(e) => {
                return raws
                    .iter()
                    .map(|_| Err(AdmitError::State(e.clone())))
                    .collect();
            }
        };
        // 1. Decode and stateless checks, in parallel.
        let mut stage: Vec<Result<Candidate, AdmitError>> = raws
            .par_iter()
            .map(|raw| self.precheck(raw, next_height, gas_price))
            .collect();
        // De-duplicate within the batch and against the pool before verifying signatures.
        {
            let inner = self.lock();
            let mut seen = std::collections::HashSet::new();
            for r in stage.iter_mut() {
                if let Ok(c) = r
                    && (inner.by_hash.contains_key(&c.hash)
                        || inner.recent.contains(&c.hash)
                        || !seen.insert(c.hash))
                {
                    *r = Err(AdmitError::AlreadyKnown { hash: c.hash });
                }
            }
        }
        // Replays of committed nonces and nonces far ahead are refused before the (costly)
        // signature check; `insert` checks the nonce again.
        // Governance permissions (frozen, not admitted, read-only role…) too.
        stage.par_iter_mut().for_each(|r| {
            if let Ok(c) = r
                && let Err(e) = self
                    .check_nonce(c, accounts)
                    .and_then(|_| accounts.authorize(&c.sender, &c.tx))
            {
                *r = Err(e);
            }
        });
        // 2. Signatures.
        self.verify_signatures(&mut stage);
        // 3. Stateful checks and insertion.
        stage
            .into_iter()
            .map(|r| r.and_then(|c| self.insert(c, accounts, gas_price)))
            .collect()
    }

    fn precheck(
        &self,
        raw: &[u8],
        next_height: u64,
        gas_price: u128,
    ) -> Result<Candidate, AdmitError> {
        let tx = SignedTransaction::decode(raw).map_err(TxCheckError::from)?;
        tx.check_stateless(self.cfg.chain_id, self.cfg.suite)?;
        let t = &tx.tx;
        if t.payload.is_evm() {
            crate::evm::precheck(&tx, gas_price)?;
        }
        // Ethereum transactions do not expire (their envelope says `u64::MAX`).
        let eth = matches!(t.payload, Payload::Ethereum { .. });
        if !eth && t.expires_at_height < next_height {
            return Err(AdmitError::Expired {
                expires_at: t.expires_at_height,
                next_height,
            });
        }
        if !eth && t.expires_at_height > next_height.saturating_add(self.cfg.max_expiry_blocks) {
            return Err(AdmitError::ExpiryTooFar {
                expires_at: t.expires_at_height,
                window: self.cfg.max_expiry_blocks,
                next_height,
            });
        }
        let sender = tx.sender(self.cfg.suite)?;
        let hash = tx.hash(self.cfg.suite.hash());
        Ok(Candidate { tx, hash, sender })
    }

    fn verify_signatures(&self, stage: &mut [Result<Candidate, AdmitError>]) {
        let idx: Vec<usize> = (0..stage.len()).filter(|i| stage[*i].is_ok()).collect();
        let txs: Vec<&SignedTransaction> = idx
            .iter()
            .filter_map(|i| stage[*i].as_ref().ok().map(|c| &c.tx))
            .collect();
        let ok = verify_parallel(&txs, self.cfg.verify_chunk);
        let bad: Vec<(usize, Scheme)> = idx
            .iter()
            .zip(ok)
            .zip(&txs)
            .filter(|((_, ok), _)| !ok)
            .map(|((i, _), tx)| (*i, tx.tx.signer.scheme))
            .collect();
        for (i, scheme) in bad {
            stage[i] = Err(AdmitError::BadSignature { scheme });
        }
    }

    fn max_cost(tx: &SignedTransaction, gas_price: u128) -> u128 {
        let fee = u128::from(tx.tx.gas_limit).saturating_mul(gas_price);
        let amount = match &tx.tx.payload {
            Payload::Transfer { amount, .. } => *amount,
            Payload::EvidencePut(_)
            | Payload::Gov(_)
            | Payload::Asset(_)
            | Payload::Nft(_)
            | Payload::Did(_) => 0,
            Payload::EvmCall { .. } | Payload::Ethereum { .. } => crate::evm::value(tx),
        };
        fee.saturating_add(amount)
    }

    /// Nonce inside `[account nonce, account nonce + window)`; returns the account.
    fn check_nonce(
        &self,
        c: &Candidate,
        accounts: &dyn AccountSource,
    ) -> Result<(u64, u128), AdmitError> {
        let (acct_nonce, balance) = accounts.account(&c.sender).map_err(AdmitError::State)?;
        let nonce = c.tx.tx.nonce;
        if nonce < acct_nonce {
            return Err(AdmitError::NonceTooLow {
                nonce,
                expected: acct_nonce,
            });
        }
        let max = acct_nonce.saturating_add(self.cfg.nonce_window.saturating_sub(1));
        if nonce > max {
            return Err(AdmitError::NonceTooHigh { nonce, max });
        }
        Ok((acct_nonce, balance))
    }

    fn insert(
        &self,
        c: Candidate,
        accounts: &dyn AccountSource,
        gas_price: u128,
    ) -> Result<Admitted, AdmitError> {
        let (acct_nonce, balance) = self.check_nonce(&c, accounts)?;
        let nonce = c.tx.tx.nonce;
        let max_cost = Self::max_cost(&c.tx, gas_price);
        let mut inner = self.lock();
        if inner.by_hash.contains_key(&c.hash) {
            return Err(AdmitError::AlreadyKnown { hash: c.hash });
        }
        if inner.by_hash.len() >= self.cfg.max_txs {
            return Err(AdmitError::PoolFull {
                capacity: self.cfg.max_txs,
            });
        }
        let queue = inner.senders.get(&c.sender);
        if let Some(q) = queue {
            if q.contains_key(&nonce) {
                return Err(AdmitError::NonceAlreadyPending { nonce });
            }
            if q.len() >= self.cfg.max_per_sender {
                return Err(AdmitError::SenderQueueFull { pending: q.len() });
            }
        }
        let pending: u128 = queue
            .map(|q| {
                q.range(acct_nonce..)
                    .map(|(_, p)| p.max_cost)
                    .fold(0u128, u128::saturating_add)
            })
            .unwrap_or(0);
        let needed = pending.saturating_add(max_cost);
        if needed > balance {
            return Err(AdmitError::InsufficientBalance { balance, needed });
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.by_hash.insert(c.hash, (c.sender, nonce));
        let admitted = Admitted {
            hash: c.hash,
            sender: c.sender,
        };
        inner.senders.entry(c.sender).or_default().insert(
            nonce,
            PooledTx {
                tx: Arc::new(c.tx),
                hash: c.hash,
                sender: c.sender,
                seq,
                max_cost,
            },
        );
        Ok(admitted)
    }

    /// Is at least one pending transaction includable in block `height` (its nonce is the
    /// account's next one and it has not expired)? Stops at the first one found.
    pub fn has_ready(&self, accounts: &dyn AccountSource, height: u64) -> bool {
        let inner = self.lock();
        inner.senders.iter().any(|(sender, queue)| {
            accounts.account(sender).is_ok_and(|(expect, _)| {
                queue
                    .get(&expect)
                    .is_some_and(|p| p.tx.tx.expires_at_height >= height)
            })
        })
    }

    /// Up to `max_txs` transactions ready for the block at `height` within the block byte
    /// budget ([`keel_types::limits::MAX_BLOCK_TX_BYTES`]) and the default EVM gas budget; see
    /// [`Mempool::select_within`].
    pub fn select(
        &self,
        max_txs: usize,
        accounts: &dyn AccountSource,
        height: u64,
    ) -> Vec<PooledTx> {
        let budget = BlockBudget {
            max_txs,
            max_tx_bytes: keel_types::limits::MAX_BLOCK_TX_BYTES,
            max_evm_gas: keel_types::limits::DEFAULT_MAX_BLOCK_EVM_GAS,
        };
        self.select_within(&budget, accounts, height)
    }

    /// Transactions ready for the block at `height`, within `budget`: for each sender the
    /// consecutive nonces from its account nonce, skipping expired ones, in arrival order. A
    /// transaction that does not fit ends its sender's run (its later nonces would be void);
    /// smaller ones of other senders may still fill the block.
    pub fn select_within(
        &self,
        budget: &BlockBudget,
        accounts: &dyn AccountSource,
        height: u64,
    ) -> Vec<PooledTx> {
        let inner = self.lock();
        let mut ready: Vec<(u64, u64, &PooledTx)> = Vec::new();
        for (sender, queue) in &inner.senders {
            let Ok((mut expect, _)) = accounts.account(sender) else {
                continue;
            };
            let mut key = 0u64;
            for (nonce, p) in queue.range(expect..) {
                if *nonce != expect || p.tx.tx.expires_at_height < height {
                    break;
                }
                key = key.max(p.seq);
                ready.push((key, *nonce, p));
                expect += 1;
            }
        }
        ready.sort_unstable_by_key(|(key, nonce, p)| (*key, p.sender, *nonce));
        let mut picked = Vec::new();
        let mut bytes = 0usize;
        let mut gas = 0u64;
        let mut cut: HashSet<Address> = HashSet::new();
        for (_, _, p) in ready {
            if picked.len() >= budget.max_txs {
                break;
            }
            if cut.contains(&p.sender) {
                continue;
            }
            let size = p.tx.encode().len();
            let evm_gas = evm_gas_of(&p.tx);
            if bytes + size > budget.max_tx_bytes
                || gas.saturating_add(evm_gas) > budget.max_evm_gas
            {
                cut.insert(p.sender);
                continue;
            }
            bytes += size;
            gas += evm_gas;
            picked.push(p.clone());
        }
        picked
    }

    /// After a block commits: drop its transactions, and every pending transaction whose nonce
    /// is now used or that has expired at `next_height`.
    pub fn on_commit(
        &self,
        committed: &[(Address, Hash)],
        accounts: &dyn AccountSource,
        next_height: u64,
    ) {
        let mut inner = self.lock();
        let mut touched: Vec<Address> = committed.iter().map(|(a, _)| *a).collect();
        touched.sort_unstable();
        touched.dedup();
        for (_, h) in committed {
            inner.by_hash.remove(h);
        }
        for sender in touched {
            let Ok((acct_nonce, _)) = accounts.account(&sender) else {
                continue;
            };
            let Inner {
                by_hash, senders, ..
            } = &mut *inner;
            if let Some(q) = senders.get_mut(&sender) {
                let keep = q.split_off(&acct_nonce);
                for p in q.values() {
                    by_hash.remove(&p.hash);
                }
                *q = keep;
                if q.is_empty() {
                    senders.remove(&sender);
                }
            }
        }
        // Expiry sweep (bounded by pool size; runs once per block).
        let Inner {
            by_hash, senders, ..
        } = &mut *inner;
        senders.retain(|_, q| {
            q.retain(|_, p| {
                let live = p.tx.tx.expires_at_height >= next_height;
                if !live {
                    by_hash.remove(&p.hash);
                }
                live
            });
            !q.is_empty()
        });
    }
}
