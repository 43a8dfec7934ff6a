//! The BFT driver (ADR 0006): performs the effects of the pure consensus state machine over
//! the authenticated network, executes and validates blocks with the node pipeline, commits
//! them with their quorum certificates, gossips transactions and syncs missing blocks.

use crate::pipeline::{ExecutedBlock, VerifiedTx};
use crate::producer::now_ms;
use crate::{Node, NodeError};
use borsh::{BorshDeserialize, BorshSerialize};
use keel_consensus::{
    BlockMeta, CommitInfo, CommitProof, Consensus, ConsensusMessage, Effect, Input, KeelCrypto,
    PacemakerConfig, QuorumCert, Round, ValidatorSignature,
};
use keel_mempool::AccountSource;
use keel_network::{InboundMessage, NetworkHandle};
use keel_types::{Address, Block, CommitCertificate, Hash, codec, limits};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Network channel of consensus, block bodies and sync.
pub const CHANNEL_CONSENSUS: u8 = 1;
/// Network channel of transaction gossip.
pub const CHANNEL_TXS: u8 = 2;
/// Largest wire message (a sync response of full blocks).
pub const MAX_WIRE_BYTES: usize = 64 * 1024 * 1024;
/// Most blocks in one sync response.
pub const MAX_SYNC_BLOCKS: u64 = 64;
/// Most received-but-unvalidated proposal bodies kept.
pub const MAX_BODIES: usize = 256;
/// Deepest chain of uncommitted ancestors fetched by hash before giving up.
pub const MAX_FETCH_DEPTH: usize = 64;
/// Most transactions in one gossip frame.
pub const MAX_GOSSIP_BATCH: usize = 500;
/// How often the driver publishes its status for `keel_status` and metrics, ms.
pub const STATUS_PUBLISH_MS: u64 = 250;
/// Queue depth of transactions waiting to be gossiped.
pub const GOSSIP_QUEUE_TXS: usize = 50_000;

/// Driver settings.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// Round timer.
    pub pacemaker: PacemakerConfig,
    /// Idle heartbeat: with nothing to order, a leader proposes (an empty block) this long
    /// after the parent, ms. Keep it well under the round timeout.
    pub block_interval_ms: u64,
    /// Busy pace: while transactions are pending, or an uncommitted ancestor carries
    /// transactions (it commits only once two descendants are certified), a leader proposes
    /// this long after the parent, ms.
    pub busy_block_interval_ms: u64,
    /// Most transactions per block.
    pub max_block_txs: usize,
    /// Gossip flush period, ms.
    pub gossip_flush_ms: u64,
    /// Sync check period, ms.
    pub sync_check_ms: u64,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            pacemaker: PacemakerConfig::default(),
            block_interval_ms: 250,
            busy_block_interval_ms: 10,
            max_block_txs: 10_000,
            gossip_flush_ms: 20,
            sync_check_ms: 1_000,
        }
    }
}

#[derive(BorshSerialize, BorshDeserialize)]
enum WireMsg {
    Consensus(Vec<u8>),
    Body(Block),
    SyncRequest {
        from: u64,
        to: u64,
    },
    SyncResponse {
        blocks: Vec<Block>,
    },
    /// Ask for one block by hash, committed or not (DiemBFT BlockRetrieval): a restarted or
    /// lagging validator needs the certified-but-uncommitted parents of the current proposal.
    BlockRequest {
        id: Hash,
    },
    BlockResponse {
        block: Block,
    },
    /// A consensus message of one epoch (ADR 0011); messages of other epochs are dropped, the
    /// next epoch's are buffered until this node switches.
    EpochConsensus {
        epoch: u64,
        msg: Vec<u8>,
    },
}

/// Rebuild the consensus commit proof stored in a block certificate (for an epoch-ending block
/// it may prove a descendant reached over empty blocks, see ADR 0011).
pub fn commit_proof(cert: &CommitCertificate) -> Result<CommitProof, NodeError> {
    let (vote, _suffix) = crate::epoch::decode_vote(cert)?;
    Ok(CommitProof {
        qc: QuorumCert {
            vote,
            signatures: cert
                .signatures
                .iter()
                .map(|s| ValidatorSignature {
                    validator: s.validator,
                    signature: s.signature.clone(),
                })
                .collect(),
        },
    })
}

fn certificate_of(proof: &CommitProof) -> CommitCertificate {
    crate::epoch::certificate_with_suffix(proof, Vec::new())
}

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

/// Runs until `shutdown` flips to true or the node halts.
pub struct Driver {
    node: Arc<Node>,
    net: NetworkHandle,
    /// `None` for an observer: it never votes, it follows the chain by block sync.
    consensus: Option<Consensus<KeelCrypto>>,
    cfg: DriverConfig,
    me: Address,
    pending: HashMap<Hash, Arc<ExecutedBlock>>,
    bodies: HashMap<Hash, Block>,
    timer: Option<(Round, tokio::time::Instant)>,
    /// Pending proposal: round, parent, next check, and the idle deadline.
    propose_at: Option<(Round, BlockMeta, tokio::time::Instant, tokio::time::Instant)>,
    gossip_rx: mpsc::Receiver<Vec<u8>>,
    gossip_buf: Vec<Vec<u8>>,
    sync_rotation: usize,
    syncing: Option<(u64, Instant)>,
    quorum: usize,
    /// A proposal whose ancestors are being fetched; answered once they are executed.
    awaiting_validation: Option<keel_consensus::Proposal>,
    /// Our own proposal waiting for its parent chain.
    awaiting_propose: Option<(Round, BlockMeta)>,
    /// Current epoch (ADR 0011).
    epoch: u64,
    /// Consensus messages of the next epoch, replayed after the switch.
    next_epoch: Vec<ConsensusMessage>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("me", &self.me)
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl Driver {
    /// Build the driver from the node's persisted state (restart-safe).
    pub fn new(
        node: Arc<Node>,
        net: NetworkHandle,
        cfg: DriverConfig,
    ) -> Result<Driver, NodeError> {
        let built = crate::epoch::build(&node, cfg.pacemaker)?;
        let (consensus, quorum) = (built.consensus, built.quorum);
        let (tx, gossip_rx) = mpsc::channel(GOSSIP_QUEUE_TXS);
        node.set_gossip(tx);
        let me = node.validator_address();
        let mut driver = Driver {
            node,
            net,
            consensus,
            cfg,
            me,
            pending: HashMap::new(),
            bodies: HashMap::new(),
            timer: None,
            propose_at: None,
            gossip_rx,
            gossip_buf: Vec::new(),
            sync_rotation: 0,
            syncing: None,
            quorum,
            awaiting_validation: None,
            awaiting_propose: None,
            epoch: built.epoch,
            next_epoch: Vec::new(),
        };
        driver.restore_pending()?;
        Ok(driver)
    }

    /// Re-execute the stored uncommitted blocks (lowest first) on top of the committed head, so
    /// that a block certified before a restart of every validator can still be extended.
    fn restore_pending(&mut self) -> Result<(), NodeError> {
        let blocks = self.node.load_pending_blocks()?;
        let alg = self.node.suite().hash();
        let now = now_ms();
        for block in blocks {
            let id = block.hash(alg);
            let Some(chain) = self.chain_to(&block.header.parent_hash) else {
                continue; // on an abandoned fork
            };
            let refs: Vec<&ExecutedBlock> = chain.iter().map(|b| &**b).collect();
            match self.node.validate_block(&block, &refs, now) {
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

    /// Consensus status (for `keel_status`).
    pub fn status(&self) -> Option<keel_consensus::ConsensusStatus> {
        self.consensus.as_ref().map(|c| c.status())
    }

    /// The event loop. Must run on a multi-threaded tokio runtime: block execution and
    /// validation use `block_in_place` so they do not stall the other tasks.
    pub async fn run(
        mut self,
        mut inbound: mpsc::Receiver<InboundMessage>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        if let Some(c) = self.consensus.as_mut() {
            let effects = c.start();
            self.perform_all(effects);
        }
        let mut gossip_tick =
            tokio::time::interval(Duration::from_millis(self.cfg.gossip_flush_ms.max(1)));
        let mut sync_tick =
            tokio::time::interval(Duration::from_millis(self.cfg.sync_check_ms.max(10)));
        let mut status_tick = tokio::time::interval(Duration::from_millis(STATUS_PUBLISH_MS));
        while !*shutdown.borrow() && self.node.halted().is_none() {
            let timer = self.timer.map(|(_, at)| at);
            let propose = self.propose_at.as_ref().map(|(_, _, at, _)| *at);
            tokio::select! {
                msg = inbound.recv() => match msg {
                    Some(m) => self.on_inbound(m),
                    None => break,
                },
                Some(raw) = self.gossip_rx.recv() => {
                    self.gossip_buf.push(raw);
                    if self.gossip_buf.len() >= MAX_GOSSIP_BATCH { self.flush_gossip(); }
                }
                _ = sleep_opt(timer) => {
                    if let Some((round, _)) = self.timer.take() {
                        self.feed(Input::Timeout { round });
                    }
                }
                _ = sleep_opt(propose) => {
                    if let Some((round, parent, _, idle_at)) = self.propose_at.take() {
                        let now = tokio::time::Instant::now();
                        if now >= idle_at || self.has_work(&parent.id) {
                            self.propose(round, parent);
                        } else {
                            // Nothing to order yet: look again shortly, up to the heartbeat.
                            let next = (now + self.busy_interval()).min(idle_at);
                            self.propose_at = Some((round, parent, next, idle_at));
                        }
                    }
                }
                _ = gossip_tick.tick() => self.flush_gossip(),
                _ = sync_tick.tick() => self.check_sync(),
                _ = status_tick.tick() => self.publish_status(),
                _ = shutdown.changed() => {}
            }
        }
    }

    fn feed(&mut self, input: Input) {
        let Some(c) = self.consensus.as_mut() else {
            return;
        };
        let effects = c.handle(input);
        self.perform_all(effects);
    }

    /// Perform effects in order; inputs they produce are fed after all of them (one input at a
    /// time, per the consensus ordering contract).
    ///
    /// If an effect switched the epoch (a commit ended it), the rest of the old instance's
    /// effects and inputs are dropped: they belong to a finished epoch, and performing them
    /// would tag old votes and safety state with the new epoch.
    fn perform_all(&mut self, effects: Vec<Effect>) {
        let epoch = self.epoch;
        let mut queue: VecDeque<Input> = VecDeque::new();
        let mut effects: VecDeque<Effect> = effects.into();
        loop {
            while let Some(e) = effects.pop_front() {
                if let Some(input) = self.perform(e) {
                    queue.push_back(input);
                }
                if self.node.halted().is_some() || self.epoch != epoch {
                    return;
                }
            }
            match queue.pop_front() {
                Some(input) => match self.consensus.as_mut() {
                    Some(c) => effects = c.handle(input).into(),
                    None => return,
                },
                None => return,
            }
        }
    }

    fn perform(&mut self, effect: Effect) -> Option<Input> {
        match effect {
            Effect::PersistSafety(s) => {
                let encoded = crate::epoch::encode_safety(self.epoch, &s);
                if let Err(e) = self.node.persist_safety(&encoded) {
                    self.node
                        .halt(format!("cannot persist consensus safety state: {e}"));
                }
                None
            }
            Effect::Broadcast(msg) => {
                self.node
                    .counters
                    .record_consensus_message("sent", kind_of(&msg));
                if let ConsensusMessage::Proposal(p) = &msg
                    && let Some(b) = self.pending.get(&p.block.id)
                {
                    self.broadcast(&WireMsg::Body(b.block.clone()));
                }
                self.broadcast(&WireMsg::EpochConsensus {
                    epoch: self.epoch,
                    msg: msg.encode(),
                });
                None
            }
            Effect::ScheduleTimeout { round, after_ms } => {
                self.timer = Some((
                    round,
                    tokio::time::Instant::now() + Duration::from_millis(after_ms),
                ));
                None
            }
            Effect::ProposeRequest { round, parent, .. } => {
                // Pace proposals after the parent's timestamp: the busy interval when there is
                // something to order or to commit, the idle heartbeat otherwise.
                let parent_ts = self.header_ts(&parent.id).unwrap_or(0);
                let idle_ms = self
                    .gov_param(|g| g.block_interval_ms)
                    .unwrap_or(self.cfg.block_interval_ms);
                let now = now_ms();
                let after = |ms: u64| {
                    tokio::time::Instant::now()
                        + Duration::from_millis((parent_ts + ms).saturating_sub(now))
                };
                let busy_at = after(self.cfg.busy_block_interval_ms.min(idle_ms));
                let idle_at = after(idle_ms);
                self.propose_at = Some((round, parent, busy_at, idle_at));
                None
            }
            Effect::ValidateBlock { proposal } => self.validate(&proposal),
            Effect::Commit {
                committed,
                blocks,
                proof,
            } => {
                self.commit(committed, &blocks, &proof);
                None
            }
            Effect::Rejected { from, reason } => {
                tracing::debug!(?from, %reason, "consensus input rejected");
                let name = format!("{reason:?}");
                let name = name.split(['(', ' ', '{']).next().unwrap_or("Unknown");
                self.node.counters.record_consensus_rejection(name);
                None
            }
        }
    }

    fn busy_interval(&self) -> Duration {
        Duration::from_millis(
            self.cfg
                .busy_block_interval_ms
                .clamp(1, self.cfg.block_interval_ms.max(1)),
        )
    }

    /// Is there anything for a block on top of `parent` to do: a pending transaction that is
    /// includable at the committed head's nonces (one stuck behind a nonce gap is not: it must
    /// not keep leaders proposing empty blocks at the busy pace), or uncommitted ancestors with
    /// transactions that need descendants to commit?
    fn has_work(&self, parent: &Hash) -> bool {
        let head = self.node.head();
        if self
            .node
            .mempool()
            .has_ready(&crate::node::HeadAccounts(&self.node), head.height + 1)
        {
            return true;
        }
        let mut cur = *parent;
        while cur != head.hash {
            let Some(b) = self.pending.get(&cur) else {
                return false;
            };
            if !b.block.transactions.is_empty() {
                return true;
            }
            cur = b.block.header.parent_hash;
        }
        false
    }

    /// A chain parameter set by governance at the committed head (ADR 0011), if any.
    fn gov_param<T>(
        &self,
        f: impl Fn(&keel_execution::governance::GovState) -> Option<T>,
    ) -> Option<T> {
        self.node.gov_state().ok().flatten().and_then(|g| f(&g))
    }

    fn header_ts(&self, id: &Hash) -> Option<u64> {
        if let Some(p) = self.pending.get(id) {
            return Some(p.block.header.timestamp_ms);
        }
        let head = self.node.head();
        (head.hash == *id).then_some(head.header.timestamp_ms)
    }

    /// The executed blocks from the committed head (exclusive) to `id` (inclusive), oldest
    /// first; `None` if `id` does not descend from the head through known blocks.
    fn chain_to(&self, id: &Hash) -> Option<Vec<Arc<ExecutedBlock>>> {
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

    fn propose(&mut self, round: Round, parent: BlockMeta) {
        let Some(chain) = self.chain_to(&parent.id) else {
            tracing::debug!(round, parent = %parent.id, "parent unknown: fetching it before proposing");
            self.awaiting_propose = Some((round, parent));
            self.fetch_missing(&parent.id);
            return;
        };
        let refs: Vec<&ExecutedBlock> = chain.iter().map(|b| &**b).collect();
        let deltas: Vec<&keel_state::StateDelta> = refs.iter().map(|b| &*b.delta).collect();
        let height = parent.height + 1;
        // After an uncommitted epoch-ending block, only empty blocks (ADR 0011).
        let gov_max = self.gov_param(|g| g.max_block_txs.map(|n| n as usize));
        let max_txs = if crate::epoch::any_ends_epoch(&self.node, &refs) {
            0
        } else {
            gov_max.map_or(self.cfg.max_block_txs, |n| n.min(self.cfg.max_block_txs))
        };
        let picked = match self.node.state.snapshot(&deltas) {
            Ok(snapshot) => {
                let accounts = PendingAccounts {
                    snapshot,
                    suite: self.node.suite(),
                };
                self.node.mempool().select(max_txs, &accounts, height)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read pending state");
                return;
            }
        };
        let txs = picked
            .into_iter()
            .map(|p| VerifiedTx {
                tx: p.tx,
                hash: p.hash,
                sender: p.sender,
            })
            .collect();
        let executed =
            tokio::task::block_in_place(|| self.node.execute_on(&refs, txs, now_ms(), self.me));
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
                self.feed(Input::PayloadReady { round, block: meta });
            }
            Err(e) => tracing::warn!(error = %e, round, "own proposal failed to execute"),
        }
    }

    fn validate(&mut self, proposal: &keel_consensus::Proposal) -> Option<Input> {
        let id = proposal.block.id;
        let invalid = Some(Input::BlockValidated { id, valid: false });
        if let Some(done) = self.pending.get(&id) {
            return Some(Input::BlockValidated {
                id,
                valid: done.block.header.proposer == proposal.author,
            });
        }
        let Some(body) = self.bodies.get(&id) else {
            tracing::debug!(block = %id, "proposal without body");
            return invalid;
        };
        if body.header.proposer != proposal.author || body.header.height != proposal.block.height {
            tracing::warn!(block = %id, "proposal body does not match the proposal");
            return invalid;
        }
        if self.chain_to(&proposal.block.parent_id).is_none() {
            // The parent is certified (the proposal's QC) but not known here — typical after a
            // restart. Fetch the missing ancestors and answer once they are executed.
            tracing::debug!(block = %id, "proposal parent unknown; fetching ancestors");
            self.awaiting_validation = Some(proposal.clone());
            self.fetch_missing(&proposal.block.parent_id);
            return None;
        }
        Some(self.validate_known(id))
    }

    /// Validate a body whose parent chain is executed; answer for consensus.
    fn validate_known(&mut self, id: Hash) -> Input {
        let invalid = Input::BlockValidated { id, valid: false };
        let Some(body) = self.bodies.remove(&id) else {
            return invalid;
        };
        let Some(chain) = self.chain_to(&body.header.parent_hash) else {
            return invalid;
        };
        let refs: Vec<&ExecutedBlock> = chain.iter().map(|b| &**b).collect();
        if !body.transactions.is_empty() && crate::epoch::any_ends_epoch(&self.node, &refs) {
            tracing::warn!(block = %id, "transactions after an epoch-ending block");
            return invalid;
        }
        match tokio::task::block_in_place(|| self.node.validate_block(&body, &refs, now_ms())) {
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
    fn fetch_missing(&mut self, id: &Hash) -> bool {
        let head = self.node.head();
        let mut missing_chain: Vec<Hash> = Vec::new();
        let mut cur = *id;
        loop {
            if cur == head.hash || self.pending.contains_key(&cur) {
                break;
            }
            let Some(body) = self.bodies.get(&cur) else {
                if missing_chain.len() < MAX_FETCH_DEPTH {
                    let msg = WireMsg::BlockRequest { id: cur };
                    self.broadcast(&msg);
                }
                return false;
            };
            if body.header.height <= head.height || missing_chain.len() >= MAX_FETCH_DEPTH {
                // Not on our committed chain (or too deep): block sync must help first.
                self.request_sync();
                return false;
            }
            missing_chain.push(cur);
            cur = body.header.parent_hash;
        }
        // Execute the fetched ancestors oldest first (they are certified by QCs, but we still
        // re-execute: their state roots must match).
        for a in missing_chain.iter().rev() {
            if let Input::BlockValidated { valid: false, .. } = self.validate_known(*a) {
                tracing::warn!(block = %a, "fetched ancestor does not validate");
                return false;
            }
        }
        true
    }

    /// Retry what waited for fetched blocks.
    fn resume_awaiting(&mut self) {
        if let Some(p) = self.awaiting_validation.clone()
            && self.fetch_missing(&p.block.parent_id)
        {
            self.awaiting_validation = None;
            let answer = self.validate_known(p.block.id);
            self.feed(answer);
        }
        if let Some((round, parent)) = self.awaiting_propose
            && self.chain_to(&parent.id).is_some()
        {
            self.awaiting_propose = None;
            self.propose(round, parent);
        }
    }

    fn serve_block(&self, to_peer: Address, id: Hash) {
        let block = match self.pending.get(&id) {
            Some(e) => Some(e.block.clone()),
            None => self.bodies.get(&id).cloned().or_else(|| {
                let h = self.node.chain().height_of(&id).ok().flatten()?;
                self.node.chain().block(h).ok().flatten()
            }),
        };
        if let Some(block) = block {
            let _ = self.net.send(
                &to_peer,
                CHANNEL_CONSENSUS,
                codec::encode(&WireMsg::BlockResponse { block }),
            );
        }
    }

    /// Commit everything from the committed head up to `committed`, in order. Consensus's
    /// `blocks` list may start above our head (blocks we executed through fetching or sync are
    /// not in it), so walk our own executed chain instead; if it is incomplete, sync.
    fn commit(&mut self, committed: CommitInfo, _blocks: &[BlockMeta], proof: &CommitProof) {
        let started = Instant::now();
        if committed.height <= self.node.head().height {
            self.prune();
            return;
        }
        let Some(chain) = self.chain_to(&committed.block_id) else {
            self.request_sync();
            return;
        };
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
                    .take(crate::epoch::MAX_SUFFIX_HEADERS)
                    .map(|b| b.block.header.clone())
                    .collect();
                crate::epoch::certificate_with_suffix(proof, suffix)
            } else {
                CommitCertificate::default()
            };
            if let Err(e) =
                tokio::task::block_in_place(|| self.node.commit_block(executed, cert, started))
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
        self.maybe_switch_epoch();
    }

    /// After a commit: if the committed head is in a newer epoch, drop the old consensus
    /// instance and everything uncommitted, start the new epoch's instance (if this node is
    /// one of its validators) and replay the buffered messages of the new epoch.
    fn maybe_switch_epoch(&mut self) {
        let epoch = match self.node.epoch() {
            Ok(e) => e.epoch,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the epoch state");
                return;
            }
        };
        if epoch == self.epoch {
            return;
        }
        let built = match crate::epoch::build(&self.node, self.cfg.pacemaker) {
            Ok(b) => b,
            Err(e) => {
                self.node.halt(format!("cannot start epoch {epoch}: {e}"));
                return;
            }
        };
        tracing::info!(
            epoch,
            height = self.node.head().height,
            genesis = ?crate::epoch::start_id(&self.node),
            validator = built.consensus.is_some(),
            "epoch switch"
        );
        self.epoch = built.epoch;
        self.quorum = built.quorum;
        self.consensus = built.consensus;
        // Uncommitted blocks of the old epoch are dead; bodies above the head stay (the new
        // epoch's first proposals may already have arrived).
        self.pending.clear();
        self.timer = None;
        self.propose_at = None;
        self.awaiting_validation = None;
        self.awaiting_propose = None;
        if let Some(c) = self.consensus.as_mut() {
            let effects = c.start();
            self.perform_all(effects);
        }
        for msg in std::mem::take(&mut self.next_epoch) {
            self.feed(Input::Message(msg));
        }
    }

    fn on_epoch_message(&mut self, epoch: u64, bytes: &[u8]) {
        let msg = match ConsensusMessage::decode(bytes) {
            Ok(m) => m,
            Err(e) => {
                self.node
                    .counters
                    .record_consensus_rejection("MalformedMessage");
                tracing::debug!(error = %e, "bad consensus message");
                return;
            }
        };
        if epoch == self.epoch {
            self.node
                .counters
                .record_consensus_message("received", kind_of(&msg));
            self.feed(Input::Message(msg));
        } else if epoch == self.epoch + 1 {
            if self.next_epoch.len() < crate::epoch::MAX_NEXT_EPOCH_MESSAGES {
                self.next_epoch.push(msg);
            }
            // Someone is ahead: our head may miss the epoch-ending block.
            self.request_sync();
        } else {
            self.node.counters.record_consensus_rejection("OtherEpoch");
        }
    }

    fn prune(&mut self) {
        let h = self.node.head().height;
        self.pending.retain(|_, b| b.block.header.height > h);
        self.bodies.retain(|_, b| b.header.height > h);
    }

    fn broadcast(&self, msg: &WireMsg) {
        let _ = self.net.broadcast(CHANNEL_CONSENSUS, codec::encode(msg));
    }

    fn flush_gossip(&mut self) {
        if self.gossip_buf.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.gossip_buf);
        let _ = self.net.broadcast(CHANNEL_TXS, codec::encode(&batch));
    }

    fn on_inbound(&mut self, m: InboundMessage) {
        match m.channel {
            CHANNEL_TXS => {
                match codec::decode::<Vec<Vec<u8>>>("tx gossip", &m.payload, MAX_WIRE_BYTES) {
                    Ok(raws) if raws.len() <= MAX_GOSSIP_BATCH => {
                        let node = self.node.clone();
                        tokio::task::block_in_place(|| node.submit_from_peer(&raws));
                    }
                    _ => {
                        self.node
                            .counters
                            .record_consensus_rejection("MalformedGossip");
                        tracing::debug!(from = %m.from, "bad tx gossip frame")
                    }
                }
            }
            CHANNEL_CONSENSUS => {
                match codec::decode::<WireMsg>("wire message", &m.payload, MAX_WIRE_BYTES) {
                    // Untagged (pre-epoch) consensus messages belong to epoch 0.
                    Ok(WireMsg::Consensus(bytes)) => self.on_epoch_message(0, &bytes),
                    Ok(WireMsg::Body(block)) => {
                        if self.bodies.len() < MAX_BODIES
                            && block.transactions.len() <= limits::MAX_BLOCK_TXS
                        {
                            let id = block.hash(self.node.suite().hash());
                            self.bodies.insert(id, block);
                        }
                    }
                    Ok(WireMsg::SyncRequest { from, to }) => self.serve_sync(m.from, from, to),
                    Ok(WireMsg::BlockRequest { id }) => self.serve_block(m.from, id),
                    Ok(WireMsg::BlockResponse { block }) => {
                        let head = self.node.head().height;
                        if self.bodies.len() < MAX_BODIES
                            && block.header.height > head
                            && block.transactions.len() <= limits::MAX_BLOCK_TXS
                        {
                            let id = block.hash(self.node.suite().hash());
                            self.bodies.insert(id, block);
                            self.resume_awaiting();
                        }
                    }
                    Ok(WireMsg::SyncResponse { blocks }) => self.apply_sync(blocks),
                    Ok(WireMsg::EpochConsensus { epoch, msg }) => {
                        self.on_epoch_message(epoch, &msg)
                    }
                    Err(e) => {
                        self.node
                            .counters
                            .record_consensus_rejection("MalformedFrame");
                        tracing::debug!(from = %m.from, error = %e, "bad wire message")
                    }
                }
            }
            other => {
                self.node
                    .counters
                    .record_consensus_rejection("UnknownChannel");
                tracing::debug!(from = %m.from, channel = other, "unknown channel")
            }
        }
    }

    fn publish_status(&self) {
        let peers = self
            .net
            .peers()
            .into_iter()
            .map(|p| crate::metrics::PeerSummary {
                address: p.address,
                connected: p.connected,
                last_error: p.last_error,
                cert_not_after_secs: p.certificate.map(|c| c.not_after),
            })
            .collect();
        self.node.counters.set_network(self.net.metrics());
        self.node.counters.set_bft(crate::metrics::BftStatus {
            consensus: self.consensus.as_ref().map(|c| c.status()),
            quorum: self.quorum,
            round_timeout_ms: self.cfg.pacemaker.base_timeout_ms,
            peers,
            updated_ms: now_ms(),
        });
    }

    fn check_sync(&mut self) {
        match &self.consensus {
            Some(c) if c.status().committed_height <= self.node.head().height => {}
            // Behind consensus, or an observer (which always polls for new blocks).
            _ => self.request_sync(),
        }
    }

    fn request_sync(&mut self) {
        let from = self.node.head().height + 1;
        if let Some((h, at)) = self.syncing
            && h == from
            && at.elapsed() < Duration::from_millis(500)
        {
            return;
        }
        let peers: Vec<Address> = self
            .net
            .peers()
            .into_iter()
            .filter(|p| p.connected)
            .map(|p| p.address)
            .collect();
        if peers.is_empty() {
            return;
        }
        self.sync_rotation = self.sync_rotation.wrapping_add(1);
        let peer = peers[self.sync_rotation % peers.len()];
        let msg = WireMsg::SyncRequest {
            from,
            to: from + MAX_SYNC_BLOCKS - 1,
        };
        let _ = self.net.send(&peer, CHANNEL_CONSENSUS, codec::encode(&msg));
        self.syncing = Some((from, Instant::now()));
    }

    fn serve_sync(&self, to_peer: Address, from: u64, to: u64) {
        let head = self.node.head().height;
        let to = to.min(head).min(from.saturating_add(MAX_SYNC_BLOCKS - 1));
        let mut blocks = Vec::new();
        for h in from..=to {
            match self.node.chain().block(h) {
                Ok(Some(b)) => blocks.push(b),
                _ => break,
            }
        }
        if !blocks.is_empty() {
            let _ = self.net.send(
                &to_peer,
                CHANNEL_CONSENSUS,
                codec::encode(&WireMsg::SyncResponse { blocks }),
            );
        }
    }

    /// Verify and commit synced blocks: each re-executes on top of the previous; a run of
    /// blocks commits when a block in it carries a certificate that verifies.
    fn apply_sync(&mut self, blocks: Vec<Block>) {
        let started = Instant::now();
        let mut run: Vec<ExecutedBlock> = Vec::new();
        let full = blocks.len() as u64 >= MAX_SYNC_BLOCKS;
        for block in blocks.into_iter().take(MAX_SYNC_BLOCKS as usize) {
            let head = self.node.head();
            let expected = head.height + 1 + run.len() as u64;
            if block.header.height != expected {
                if block.header.height < expected {
                    continue;
                }
                break;
            }
            let refs: Vec<&ExecutedBlock> = run.iter().collect();
            let executed = match tokio::task::block_in_place(|| {
                self.node
                    .validate_block(&block, &refs, now_ms().max(block.header.timestamp_ms))
            }) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(height = block.header.height, error = %e, "synced block invalid");
                    return;
                }
            };
            let certified = !block.certificate.is_implied();
            if certified && let Err(e) = self.node.verify_certificate(&block, &executed.hash) {
                tracing::warn!(height = block.header.height, error = %e, "synced certificate invalid");
                return;
            }
            run.push(executed);
            if certified {
                let certified_hash = executed_hash(&run);
                for e in run.drain(..) {
                    let cert = if Some(e.hash) == certified_hash {
                        block.certificate.clone()
                    } else {
                        CommitCertificate::default()
                    };
                    if let Err(err) =
                        tokio::task::block_in_place(|| self.node.commit_block(&e, cert, started))
                    {
                        self.node
                            .halt(format!("commit of synced block failed: {err}"));
                        return;
                    }
                }
            }
        }
        self.prune();
        self.syncing = None;
        self.maybe_switch_epoch();
        self.resume_awaiting();
        if full {
            // More may follow: ask again right away instead of waiting for the next tick.
            self.request_sync();
        }
    }
}

fn kind_of(m: &ConsensusMessage) -> &'static str {
    match m {
        ConsensusMessage::Proposal(_) => "proposal",
        ConsensusMessage::Vote(_) => "vote",
        ConsensusMessage::Timeout(_) => "timeout",
    }
}

fn executed_hash(run: &[ExecutedBlock]) -> Option<Hash> {
    run.last().map(|e| e.hash)
}

async fn sleep_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
