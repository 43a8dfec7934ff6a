//! Blocks on the driver: propose on top of an executed parent, validate a proposal's body
//! (bound to the proposal: proposer, height and parent), fetch missing ancestors by hash,
//! serve blocks by hash, and commit what consensus committed.

use super::clock::Now;
use super::config::MAX_FETCH_DEPTH;
use super::host::Driver;
use super::wire::WireMsg;
use keel_consensus::{BlockMeta, CommitInfo, CommitProof, Input, Round};
use keel_ledger::certificate::certificate_of;
use keel_ledger::{ExecutedBlock, VerifiedTx};
use keel_mempool::{AccountSource, BlockBudget};
use keel_types::{Address, CommitCertificate, Hash, Header};
use std::sync::Arc;
use std::time::Instant;

struct PendingAccounts<'a> {
    snapshot: keel_state::StateSnapshot<'a>,
    suite: keel_crypto::Suite,
}

impl AccountSource for PendingAccounts<'_> {
    fn account(&self, addr: &Address) -> Result<(u64, u128), String> {
        let key = keel_execution::keys::account(self.suite.hash(), addr);
        match self.snapshot.get(&key).map_err(|e| e.to_string())? {
            None => Ok((0, 0)),
            Some(b) => keel_execution::Account::decode(&key, &b)
                .map(|a| (a.nonce, a.balance))
                .map_err(|e| e.to_string()),
        }
    }
}

/// How a block's header differs from the proposal that carries it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyMismatch {
    /// Another proposer.
    #[error("proposer {found} is not the proposal's author {author}")]
    Proposer {
        /// Header proposer.
        found: Address,
        /// Proposal author.
        author: Address,
    },
    /// Another height.
    #[error("height {found} is not the proposal's {expected}")]
    Height {
        /// Header height.
        found: u64,
        /// Proposal height.
        expected: u64,
    },
    /// Another parent: the body would execute on a sibling of the block the proposal's QC
    /// certifies, and honest nodes would commit different chains (security review finding 2).
    #[error("parent {found} is not the proposal's parent {expected}")]
    Parent {
        /// Header parent.
        found: Hash,
        /// Proposal parent (the QC's block).
        expected: Hash,
    },
}

/// The body's header must be the block the proposal names: same proposer, height and parent.
pub fn check_body(proposal: &keel_consensus::Proposal, h: &Header) -> Result<(), BodyMismatch> {
    if h.proposer != proposal.author {
        return Err(BodyMismatch::Proposer {
            found: h.proposer,
            author: proposal.author,
        });
    }
    if h.height != proposal.block.height {
        return Err(BodyMismatch::Height {
            found: h.height,
            expected: proposal.block.height,
        });
    }
    if h.parent_hash != proposal.block.parent_id {
        return Err(BodyMismatch::Parent {
            found: h.parent_hash,
            expected: proposal.block.parent_id,
        });
    }
    Ok(())
}

impl Driver {
    /// Re-execute the stored uncommitted blocks (lowest first) on top of the committed head, so
    /// that a block certified before a restart of every validator can still be extended.
    pub(super) fn restore_pending(&mut self, now: Now) -> Result<(), crate::NodeError> {
        let blocks = self.node.load_pending_blocks()?;
        let alg = self.node.suite().hash();
        for block in blocks {
            let id = block.hash(alg);
            let Some(chain) = self.chain_to(&block.header.parent_hash) else {
                continue; // on an abandoned fork
            };
            let refs: Vec<&ExecutedBlock> = chain.iter().map(|b| &**b).collect();
            match self.node.validate_block(&block, &refs, now.wall_ms) {
                Ok(e) if e.hash == id => {
                    self.pending.insert(id, Arc::new(e));
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(block = %id, error = %e, "stored pending block no longer valid")
                }
            }
        }
        if !self.pending.is_empty() {
            tracing::info!(blocks = self.pending.len(), "restored uncommitted blocks");
        }
        Ok(())
    }

    /// Is there anything for a block on top of `parent` to do: a pending transaction that is
    /// includable at the committed head's nonces (one stuck behind a nonce gap is not: it must
    /// not keep leaders proposing empty blocks), or uncommitted ancestors with transactions
    /// that need descendants to commit?
    pub(super) fn has_work(&self, parent: &Hash) -> bool {
        self.mempool_ready() || self.uncommitted_txs(parent)
    }

    /// A pooled transaction is includable at the committed head's nonces.
    ///
    /// Asked after every step while idle (ADR 0014), and a pool of transactions stuck behind
    /// nonce gaps costs a state read per sender; so a "no" is remembered with the admission
    /// count and head height it was found at: only an admission or a commit can turn it into
    /// a "yes" (expiry and eviction only remove).
    pub(super) fn mempool_ready(&self) -> bool {
        let head = self.node.head();
        let ledger: &keel_ledger::Ledger = &self.node;
        let admitted = ledger
            .counters
            .admitted_txs
            .load(std::sync::atomic::Ordering::Relaxed);
        let probe = (admitted, head.height);
        if self.not_ready_at.get() == Some(probe) {
            return false;
        }
        let ready = self
            .node
            .mempool()
            .has_ready(&keel_ledger::HeadAccounts(&self.node), head.height + 1);
        self.not_ready_at.set((!ready).then_some(probe));
        ready
    }

    /// `id` or one of its uncommitted ancestors (down to the committed head) carries
    /// transactions. A block that ends an epoch carries the accepting vote, so a pending epoch
    /// change counts too.
    pub(super) fn uncommitted_txs(&self, id: &Hash) -> bool {
        let head = self.node.head();
        let mut cur = *id;
        while cur != head.hash {
            let Some(b) = self.pending.get(&cur) else {
                return false;
            };
            if b.block.header.height <= head.height {
                return false;
            }
            if !b.block.transactions.is_empty() {
                return true;
            }
            cur = b.block.header.parent_hash;
        }
        false
    }

    /// A chain parameter set by governance at the committed head (ADR 0011), if any.
    pub(super) fn gov_param<T>(
        &self,
        f: impl Fn(&keel_execution::governance::GovState) -> Option<T>,
    ) -> Option<T> {
        self.node.gov_state().ok().flatten().and_then(|g| f(&g))
    }

    pub(super) fn header_ts(&self, id: &Hash) -> Option<u64> {
        if let Some(p) = self.pending.get(id) {
            return Some(p.block.header.timestamp_ms);
        }
        let head = self.node.head();
        (head.hash == *id).then_some(head.header.timestamp_ms)
    }

    /// The executed blocks from the committed head (exclusive) to `id` (inclusive), oldest
    /// first; `None` if `id` does not descend from the head through known blocks.
    pub(super) fn chain_to(&self, id: &Hash) -> Option<Vec<Arc<ExecutedBlock>>> {
        let head = self.node.head();
        let mut chain = Vec::new();
        let mut cur = *id;
        while cur != head.hash {
            let b = self.pending.get(&cur)?;
            if b.block.header.height <= head.height {
                return None;
            }
            chain.push(b.clone());
            cur = b.block.header.parent_hash;
        }
        chain.reverse();
        Some(chain)
    }

    /// The budget of our proposal on top of `refs`: the consensus budget
    /// ([`crate::Node::block_budget_on`]) within this node's configured transaction count.
    fn block_budget(&self, refs: &[&ExecutedBlock]) -> Result<BlockBudget, crate::NodeError> {
        let mut budget = self.node.block_budget_on(refs)?;
        budget.max_txs = budget.max_txs.min(self.cfg.max_block_txs);
        Ok(budget)
    }

    pub(super) fn propose(&mut self, round: Round, parent: BlockMeta, now: Now) {
        let Some(chain) = self.chain_to(&parent.id) else {
            tracing::debug!(round, parent = %parent.id, "parent unknown: fetching it before proposing");
            self.awaiting_propose = Some((round, parent));
            self.fetch_missing(&parent.id, now);
            return;
        };
        let refs: Vec<&ExecutedBlock> = chain.iter().map(|b| &**b).collect();
        let deltas: Vec<&keel_state::StateDelta> = refs.iter().map(|b| &*b.delta).collect();
        let height = parent.height + 1;
        let picked = match self.block_budget(&refs).and_then(|b| {
            Ok((
                b,
                self.node
                    .state()
                    .snapshot(&deltas)
                    .map_err(keel_ledger::LedgerError::from)?,
            ))
        }) {
            Ok((budget, snapshot)) => {
                let accounts = PendingAccounts {
                    snapshot,
                    suite: self.node.suite(),
                };
                self.node
                    .mempool()
                    .select_within(&budget, &accounts, height)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read pending state");
                return;
            }
        };
        let txs = picked.into_iter().map(VerifiedTx::from).collect();
        let executed = super::blocking::run_blocking(|| {
            self.node.execute_on(&refs, txs, now.wall_ms, self.me)
        });
        match executed {
            Ok(e) => {
                let meta = BlockMeta {
                    id: e.hash,
                    parent_id: parent.id,
                    height,
                };
                if let Err(err) = self.node.persist_pending_block(&e.block, &e.hash) {
                    self.node
                        .halt(format!("cannot store a pending block: {err}"));
                    return;
                }
                self.pending.insert(e.hash, Arc::new(e));
                self.feed(Input::PayloadReady { round, block: meta }, now);
            }
            Err(e) => tracing::warn!(error = %e, round, "own proposal failed to execute"),
        }
    }

    pub(super) fn validate(
        &mut self,
        proposal: &keel_consensus::Proposal,
        now: Now,
    ) -> Option<Input> {
        let id = proposal.block.id;
        let invalid = Some(Input::BlockValidated { id, valid: false });
        if let Some(done) = self.pending.get(&id) {
            let valid = check_body(proposal, &done.block.header).is_ok();
            return Some(Input::BlockValidated { id, valid });
        }
        let Some(body) = self.bodies.get(&id) else {
            // The body is late (it left on another path) or was lost (a full queue drops
            // frames): ask for it and answer once it is here, as for an unknown parent.
            // Answering "invalid" cost the round (found by the whole-node simulator).
            tracing::debug!(block = %id, "proposal body not here yet; asking for it");
            if self.bodies.want(id) {
                self.broadcast(&WireMsg::BlockRequest { id });
            }
            self.awaiting_validation = Some(proposal.clone());
            return None;
        };
        if let Err(e) = check_body(proposal, &body.header) {
            tracing::warn!(block = %id, error = %e, "proposal body does not match the proposal");
            self.bodies.remove(&id);
            return invalid;
        }
        if self.chain_to(&proposal.block.parent_id).is_none() {
            // The parent is certified (the proposal's QC) but not known here — typical after a
            // restart. Fetch the missing ancestors and answer once they are executed.
            tracing::debug!(block = %id, "proposal parent unknown; fetching ancestors");
            self.awaiting_validation = Some(proposal.clone());
            self.fetch_missing(&proposal.block.parent_id, now);
            return None;
        }
        Some(self.validate_known(id, now))
    }

    /// Validate a body whose parent chain is executed; answer for consensus.
    pub(super) fn validate_known(&mut self, id: Hash, now: Now) -> Input {
        let invalid = Input::BlockValidated { id, valid: false };
        let Some(body) = self.bodies.remove(&id) else {
            return invalid;
        };
        let Some(chain) = self.chain_to(&body.header.parent_hash) else {
            return invalid;
        };
        let refs: Vec<&ExecutedBlock> = chain.iter().map(|b| &**b).collect();
        match super::blocking::run_blocking(|| self.node.validate_block(&body, &refs, now.wall_ms))
        {
            Ok(e) if e.hash == id => {
                // Stored before the vote (made durable by the safety-state fsync before it).
                if let Err(err) = self.node.persist_pending_block(&e.block, &id) {
                    self.node
                        .halt(format!("cannot store a pending block: {err}"));
                    return invalid;
                }
                self.pending.insert(id, Arc::new(e));
                Input::BlockValidated { id, valid: true }
            }
            Ok(_) => invalid,
            Err(e) => {
                tracing::warn!(block = %id, error = %e, "invalid proposal");
                invalid
            }
        }
    }

    /// Walk from `id` back through received bodies to an executed block (or the committed
    /// head). If a link is missing, ask the peers for it; if the chain is complete, execute the
    /// ancestors oldest first. Returns true when `id` is executed (or is the head).
    pub(super) fn fetch_missing(&mut self, id: &Hash, now: Now) -> bool {
        let head = self.node.head();
        let mut missing_chain: Vec<Hash> = Vec::new();
        let mut cur = *id;
        loop {
            if cur == head.hash || self.pending.contains_key(&cur) {
                break;
            }
            let Some(body) = self.bodies.get(&cur) else {
                if missing_chain.len() < MAX_FETCH_DEPTH && self.bodies.want(cur) {
                    self.broadcast(&WireMsg::BlockRequest { id: cur });
                }
                return false;
            };
            if body.header.height <= head.height || missing_chain.len() >= MAX_FETCH_DEPTH {
                // Not on our committed chain (or too deep): block sync must help first.
                self.request_sync(now);
                return false;
            }
            missing_chain.push(cur);
            cur = body.header.parent_hash;
        }
        // Execute the fetched ancestors oldest first (they are certified by QCs, but we still
        // re-execute: their state roots must match).
        for a in missing_chain.iter().rev() {
            if let Input::BlockValidated { valid: false, .. } = self.validate_known(*a, now) {
                tracing::warn!(block = %a, "fetched ancestor does not validate");
                return false;
            }
        }
        true
    }

    /// Retry what waited for fetched blocks.
    pub(super) fn resume_awaiting(&mut self, now: Now) {
        if let Some(p) = self.awaiting_validation.clone()
            && self.fetch_missing(&p.block.parent_id, now)
        {
            // No body yet: keep waiting (it was asked for); the round timer bounds the wait.
            if let Some(checked) = self
                .bodies
                .get(&p.block.id)
                .map(|b| check_body(&p, &b.header))
            {
                self.awaiting_validation = None;
                let answer = match checked {
                    Ok(()) => self.validate_known(p.block.id, now),
                    Err(_) => Input::BlockValidated {
                        id: p.block.id,
                        valid: false,
                    },
                };
                self.feed(answer, now);
            }
        }
        if let Some((round, parent)) = self.awaiting_propose
            && self.chain_to(&parent.id).is_some()
        {
            self.awaiting_propose = None;
            self.propose(round, parent, now);
        }
    }

    pub(super) fn serve_block(&self, to_peer: Address, id: Hash) {
        let block = match self.pending.get(&id) {
            Some(e) => Some(e.block.clone()),
            None => self.bodies.get(&id).cloned().or_else(|| {
                let h = self.node.chain().height_of(&id).ok().flatten()?;
                self.node.chain().block(h).ok().flatten()
            }),
        };
        if let Some(block) = block {
            self.send(&to_peer, &WireMsg::BlockResponse { block });
        }
    }

    /// Commit everything from the committed head up to `committed`, in order. Consensus's
    /// `blocks` list may start above our head (blocks we executed through fetching or sync are
    /// not in it), so walk our own executed chain instead; if it is incomplete, sync. The walked
    /// chain must hold every block consensus lists: if it does not, this node executed another
    /// chain than consensus certified, and it stops rather than commit it.
    pub(super) fn commit(
        &mut self,
        committed: CommitInfo,
        blocks: &[BlockMeta],
        proof: &CommitProof,
        now: Now,
    ) {
        let started = Instant::now();
        if committed.height <= self.node.head().height {
            self.prune();
            return;
        }
        let Some(chain) = self.chain_to(&committed.block_id) else {
            self.request_sync(now);
            return;
        };
        if let Some(b) = blocks.iter().find(|b| {
            b.height > self.node.head().height
                && !chain
                    .iter()
                    .any(|e| e.hash == b.id && e.block.header.height == b.height)
        }) {
            self.node.halt(format!(
                "executed chain to {} misses consensus block {} at height {}",
                committed.block_id, b.id, b.height
            ));
            return;
        }
        for (i, executed) in chain.iter().enumerate() {
            let ends_epoch = crate::epoch::ends_epoch(&self.node, executed);
            // The epoch-ending block always carries a certificate: the proof names it, or (a
            // round timed out right after it) a later block of its empty suffix, whose headers
            // then go with the proof so the link stays verifiable. The suffix itself is never
            // committed (ADR 0011).
            let cert = if executed.hash == committed.block_id {
                certificate_of(proof)
            } else if ends_epoch {
                let suffix = chain[i + 1..]
                    .iter()
                    .take(keel_ledger::certificate::MAX_SUFFIX_HEADERS)
                    .map(|b| b.block.header.clone())
                    .collect();
                keel_ledger::certificate::certificate_with_suffix(proof, suffix)
            } else {
                CommitCertificate::default()
            };
            if let Err(e) =
                super::blocking::run_blocking(|| self.node.commit_block(executed, cert, started))
            {
                self.node.halt(format!(
                    "commit of block {} failed: {e}",
                    executed.block.header.height
                ));
                return;
            }
            if ends_epoch {
                break;
            }
        }
        self.prune();
        self.maybe_switch_epoch(now);
    }

    pub(super) fn prune(&mut self) {
        let h = self.node.head().height;
        self.pending.retain(|_, b| b.block.header.height > h);
        self.bodies.prune(h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_consensus::{Proposal, QuorumCert, VoteData};

    fn header(height: u64, parent: Hash, proposer: Address) -> Header {
        Header {
            chain_id: 1,
            height,
            parent_hash: parent,
            timestamp_ms: 0,
            tx_root: Hash::ZERO,
            receipts_root: Hash::ZERO,
            state_root: Hash::ZERO,
            proposer,
            tx_count: 0,
            gas_used: 0,
        }
    }

    /// Security review finding 2: a Byzantine leader proposes block B on the QC's block X
    /// but ships a body whose header extends a validated sibling Y. The body used to be executed
    /// on Y (its own parent) and voted for, so honest nodes could commit different chains.
    #[test]
    fn a_body_on_a_sibling_of_the_certified_parent_is_refused() {
        let leader = Address([4; 20]);
        let (x, y) = (Hash([0x11; 32]), Hash([0x22; 32]));
        let on_y = header(8, y, leader);
        let proposal = Proposal {
            block: BlockMeta {
                id: on_y.hash(keel_crypto::HashAlgorithm::Sha256),
                parent_id: x,
                height: 8,
            },
            round: 9,
            qc: QuorumCert {
                vote: VoteData {
                    block: BlockMeta {
                        id: x,
                        parent_id: Hash::ZERO,
                        height: 7,
                    },
                    round: 8,
                    parent_round: 7,
                    commit: None,
                },
                signatures: Vec::new(),
            },
            tc: None,
            author: leader,
            signature: Vec::new(),
        };
        assert_eq!(
            check_body(&proposal, &on_y),
            Err(BodyMismatch::Parent {
                found: y,
                expected: x
            })
        );
        assert!(check_body(&proposal, &header(8, x, leader)).is_ok());
        assert!(matches!(
            check_body(&proposal, &header(9, x, leader)),
            Err(BodyMismatch::Height { .. })
        ));
        assert!(matches!(
            check_body(&proposal, &header(8, x, Address([5; 20]))),
            Err(BodyMismatch::Proposer { .. })
        ));
    }
}
