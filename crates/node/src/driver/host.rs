//! The [`Driver`]: owns the consensus instance, the executed-but-uncommitted blocks and the
//! parts; runs the select loop (reading the clocks once per event) and performs effects.

use super::body_cache::BodyCache;
use super::clock::Now;
use super::config::{
    CHANNEL_CONSENSUS, CHANNEL_TXS, DriverConfig, MAX_WIRE_BYTES, STATUS_PUBLISH_MS,
};
use super::gossip::{GOSSIP_QUEUE_TXS, Gossip, MAX_GOSSIP_BATCH};
use super::net::DriverNet;
use super::next_epoch::NextEpochBuffer;
use super::pacer::{Need, Pace, ProposalPacer, heartbeat_due};
use super::revoked::RevokedAuthors;
use super::round_timer::RoundTimer;
use super::sync::BlockSync;
use super::wire::{WireMsg, kind_of};
use crate::{Node, NodeError};
use keel_consensus::{BlockMeta, Consensus, ConsensusMessage, Effect, Input, KeelCrypto, Round};
use keel_ledger::ExecutedBlock;
use keel_network::{InboundMessage, NetworkHandle};
use keel_types::{Address, Hash, codec};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// One event of the driver ([`Driver::step`]).
#[derive(Debug)]
pub enum Step {
    /// A message from an authenticated peer.
    Inbound(InboundMessage),
    /// A transaction this node admitted, to gossip.
    Admitted(Vec<u8>),
    /// The round timer may be due.
    Timer,
    /// The paced own proposal may be due.
    ProposeDue,
    /// Send the gossip batch.
    GossipFlush,
    /// Ask for blocks if behind; gossip again what stayed pending since the last check.
    SyncCheck,
    /// Refresh revoked peers and publish the status.
    StatusTick,
}

/// Runs until `shutdown` flips to true or the node halts.
pub struct Driver {
    pub(super) node: Arc<Node>,
    pub(super) net: Arc<dyn DriverNet>,
    /// `None` for an observer: it never votes, it follows the chain by block sync.
    pub(super) consensus: Option<Consensus<KeelCrypto>>,
    pub(super) cfg: DriverConfig,
    pub(super) me: Address,
    pub(super) pending: HashMap<Hash, Arc<ExecutedBlock>>,
    pub(super) bodies: BodyCache,
    pub(super) timer: RoundTimer,
    pub(super) pacer: ProposalPacer,
    gossip_rx: mpsc::Receiver<Vec<u8>>,
    gossip: Gossip,
    pub(super) sync: BlockSync,
    pub(super) quorum: usize,
    /// A proposal whose ancestors are being fetched; answered once they are executed.
    pub(super) awaiting_validation: Option<keel_consensus::Proposal>,
    /// Our own proposal waiting for its parent chain.
    pub(super) awaiting_propose: Option<(Round, BlockMeta)>,
    /// Current epoch (ADR 0011).
    pub(super) epoch: u64,
    /// Consensus messages of the next epoch, replayed after the switch.
    pub(super) next_epoch: NextEpochBuffer,
    /// Validators whose certificate is revoked: their messages are ignored even when relayed.
    pub(super) revoked: RevokedAuthors,
    /// (admission count, head height) at which the pool last had nothing includable.
    pub(super) not_ready_at: std::cell::Cell<Option<(u64, u64)>>,
    /// (head height, timestamp of the last committed block with transactions) for the
    /// trailing heartbeat.
    last_tx_block: std::cell::Cell<(u64, u64)>,
    /// The on-chain revocations and node list last handed to the network, and the height they
    /// were read at.
    chain_membership: Membership,
}

/// How many committed blocks back the trailing heartbeat looks for one with transactions (a
/// block with transactions commits two blocks later, so it is always within reach).
const TRAIL_SCAN_BLOCKS: u64 = 16;
/// What the chain said about membership, as last handed to the network.
#[derive(Debug, Default)]
struct Membership {
    height: u64,
    revoked: Vec<Hash>,
    policy: keel_types::OpPolicy,
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
        Driver::with_net(node, Arc::new(net), cfg, Now::read())
    }

    /// [`Driver::new`] over any network (a simulator's), with the clock given.
    pub fn with_net(
        node: Arc<Node>,
        net: Arc<dyn DriverNet>,
        cfg: DriverConfig,
        now: Now,
    ) -> Result<Driver, NodeError> {
        let built = crate::epoch::build(&node, cfg.pacemaker)?;
        let (tx, gossip_rx) = mpsc::channel(GOSSIP_QUEUE_TXS);
        node.set_gossip(tx);
        let me = node.validator_address();
        let mut driver = Driver {
            node,
            net,
            consensus: built.consensus,
            cfg,
            me,
            pending: HashMap::new(),
            bodies: BodyCache::default(),
            timer: RoundTimer::default(),
            pacer: ProposalPacer::default(),
            gossip_rx,
            gossip: Gossip::default(),
            sync: BlockSync::default(),
            quorum: built.quorum,
            awaiting_validation: None,
            awaiting_propose: None,
            epoch: built.epoch,
            next_epoch: NextEpochBuffer::default(),
            revoked: RevokedAuthors::default(),
            not_ready_at: std::cell::Cell::new(None),
            last_tx_block: std::cell::Cell::new((0, 0)),
            chain_membership: Membership::default(),
        };
        driver.restore_pending(now)?;
        Ok(driver)
    }

    /// Consensus status (for `keel_status`).
    pub fn status(&self) -> Option<keel_consensus::ConsensusStatus> {
        self.consensus.as_ref().map(|c| c.status())
    }

    /// The event loop: each select arm reads the clocks once and performs one [`Step`].
    /// Block execution runs through `block_in_place` on a multi-threaded runtime.
    pub async fn run(
        mut self,
        mut inbound: mpsc::Receiver<InboundMessage>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        self.start(Now::read());
        let mut gossip_tick =
            tokio::time::interval(Duration::from_millis(self.cfg.gossip_flush_ms.max(1)));
        let mut sync_tick =
            tokio::time::interval(Duration::from_millis(self.cfg.sync_check_ms.max(10)));
        let mut status_tick = tokio::time::interval(Duration::from_millis(STATUS_PUBLISH_MS));
        while !*shutdown.borrow() && self.node.halted().is_none() {
            let timer = self.timer.deadline();
            let propose = self.pacer.next_check();
            let step = tokio::select! {
                msg = inbound.recv() => match msg {
                    Some(m) => Step::Inbound(m),
                    None => break,
                },
                Some(raw) = self.gossip_rx.recv() => Step::Admitted(raw),
                _ = sleep_opt(timer) => Step::Timer,
                _ = sleep_opt(propose) => Step::ProposeDue,
                _ = gossip_tick.tick() => Step::GossipFlush,
                _ = sync_tick.tick() => Step::SyncCheck,
                _ = status_tick.tick() => Step::StatusTick,
                _ = shutdown.changed() => continue,
            };
            self.step(step, Now::read());
        }
    }

    /// Start the consensus instance (once, before the first step).
    pub fn start(&mut self, now: Now) {
        if let Some(c) = self.consensus.as_mut() {
            let effects = c.start();
            self.perform_all(effects, now);
        }
    }

    /// Perform one event at `now`. The select loop of [`Driver::run`] calls this; a simulator
    /// calls it directly (with its own clock and network, no async runtime needed).
    pub fn step(&mut self, step: Step, now: Now) {
        match step {
            Step::Inbound(m) => self.on_inbound(m, now),
            Step::Admitted(raw) => self.on_admitted(raw),
            Step::Timer => {
                if self.timer.deadline().is_some_and(|at| at <= now.mono) {
                    let work = self.round_work(now);
                    if let Some(round) = self.timer.expire(now.mono, work) {
                        self.feed(Input::Timeout { round }, now);
                    }
                }
            }
            Step::ProposeDue => self.poll_proposal(now),
            Step::GossipFlush => {
                if let Some(batch) = self.gossip.take() {
                    self.send_gossip(&batch);
                }
            }
            Step::SyncCheck => {
                self.check_sync(now);
                self.regossip();
            }
            Step::StatusTick => {
                self.refresh_chain_membership();
                self.refresh_revoked();
                self.publish_status();
            }
        }
        self.wake_on_work(now);
    }

    /// While idle (ADR 0014), the round timer is parked and the own proposal waits without a
    /// deadline; after every step, look whether work appeared (a transaction arrived, a block
    /// with transactions is uncommitted, the heartbeat fell due).
    fn wake_on_work(&mut self, now: Now) {
        if self.timer.parked() && self.round_work(now) {
            self.timer.wake(now.mono);
        }
        if self.pacer.waiting() {
            self.poll_proposal(now);
        }
    }

    /// Move the transactions this node admitted since the last call into the gossip batch
    /// (at most [`GOSSIP_QUEUE_TXS`]): the select loop does this per transaction; a simulator
    /// calls this after each step.
    pub fn drain_admitted(&mut self) {
        for _ in 0..GOSSIP_QUEUE_TXS {
            match self.gossip_rx.try_recv() {
                Ok(raw) => self.on_admitted(raw),
                Err(_) => return,
            }
        }
    }

    fn on_admitted(&mut self, raw: Vec<u8>) {
        if let Some(batch) = self.gossip.push(raw) {
            self.send_gossip(&batch);
        }
    }

    /// The earliest deadline of [`Step::Timer`] or [`Step::ProposeDue`] (the periodic steps
    /// run every [`DriverConfig::gossip_flush_ms`], [`DriverConfig::sync_check_ms`] and
    /// [`STATUS_PUBLISH_MS`]).
    pub fn next_deadline(&self) -> Option<Instant> {
        let timer = self.timer.deadline();
        match (timer, self.pacer.next_check()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The hosted node.
    pub fn node(&self) -> &Arc<Node> {
        &self.node
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Propose the pending own proposal if it is needed and its pace has come (ADR 0014).
    fn poll_proposal(&mut self, now: Now) {
        let Some(parent) = self.pacer.parent().map(|p| p.id) else {
            return;
        };
        let need = self.need_on(&parent, now);
        if let Some((round, parent)) = self.pacer.poll(now, need, self.pace()) {
            self.propose(round, parent, now);
        }
    }

    /// What a block on `parent` would be for: work (transactions to order, an uncommitted
    /// ancestor with transactions), else a due heartbeat, else nothing.
    fn need_on(&self, parent: &Hash, now: Now) -> Need {
        if self.has_work(parent) {
            let full = self.node.mempool().len() >= self.cfg.max_block_txs.max(1);
            Need::Work { full }
        } else if self.heartbeat_due(now) {
            Need::Heartbeat
        } else {
            Need::Nothing
        }
    }

    /// The light pace (governance `block_interval_ms`, else the configured one) and the busy
    /// pace.
    fn pace(&self) -> Pace {
        Pace {
            busy_ms: self.cfg.busy_block_interval_ms,
            light_ms: self
                .gov_param(|g| g.block_interval_ms)
                .unwrap_or(self.cfg.block_interval_ms),
        }
    }

    /// The committed head is older than the heartbeat (ADR 0014): the trailing one for
    /// `trail_ms` after the last committed block with transactions, the idle one after that.
    fn heartbeat_due(&self, now: Now) -> bool {
        let head = self.node.head();
        let head_ts = head.header.timestamp_ms;
        let last_tx_ts = self.last_tx_block_ts(head.height);
        let trailing = self.cfg.trail_heartbeat_ms > 0
            && now.wall_ms.saturating_sub(last_tx_ts.min(now.wall_ms)) < self.cfg.trail_ms;
        if trailing && heartbeat_due(head_ts, now.wall_ms, self.cfg.trail_heartbeat_ms) {
            return true;
        }
        heartbeat_due(head_ts, now.wall_ms, self.cfg.idle_heartbeat_ms)
    }

    /// Timestamp of the last committed block with transactions, looked for among the blocks
    /// committed since the last call (at most [`TRAIL_SCAN_BLOCKS`] back; remembered per head).
    fn last_tx_block_ts(&self, head: u64) -> u64 {
        let (seen, mut ts) = self.last_tx_block.get();
        if seen == head {
            return ts;
        }
        let from = head
            .saturating_sub(TRAIL_SCAN_BLOCKS)
            .max(seen.saturating_add(1))
            .max(1);
        for h in from..=head {
            if let Ok(Some(hdr)) = self.node.chain().header(h)
                && hdr.tx_count > 0
            {
                ts = hdr.timestamp_ms;
            }
        }
        self.last_tx_block.set((head, ts));
        ts
    }

    /// Whether this node has work for consensus, so that its round timer runs (ADR 0014): a
    /// transaction ready in its pool, a block with transactions uncommitted on the chain of
    /// its highest QC or of the current round's proposal, or a due heartbeat.
    pub(super) fn round_work(&self, now: Now) -> bool {
        if self.mempool_ready() || self.heartbeat_due(now) {
            return true;
        }
        let Some(c) = self.consensus.as_ref() else {
            return false;
        };
        let high = c.high_qc().vote.block.id;
        self.uncommitted_txs(&high)
            || c.status()
                .current_proposal
                .is_some_and(|id| self.uncommitted_txs(&id))
    }

    pub(super) fn feed(&mut self, input: Input, now: Now) {
        let Some(c) = self.consensus.as_mut() else {
            return;
        };
        let effects = c.handle(input);
        self.perform_all(effects, now);
    }

    /// Perform effects in order; inputs they produce are fed after all of them (one input at a
    /// time, per the consensus ordering contract).
    ///
    /// If an effect switched the epoch (a commit ended it), the rest of the old instance's
    /// effects and inputs are dropped: they belong to a finished epoch, and performing them
    /// would tag old votes and safety state with the new epoch.
    pub(super) fn perform_all(&mut self, effects: Vec<Effect>, now: Now) {
        let epoch = self.epoch;
        let mut queue: VecDeque<Input> = VecDeque::new();
        let mut effects: VecDeque<Effect> = effects.into();
        loop {
            while let Some(e) = effects.pop_front() {
                if let Some(input) = self.perform(e, now) {
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

    fn perform(&mut self, effect: Effect, now: Now) -> Option<Input> {
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
                // Runs only while there is work; parked otherwise (ADR 0014).
                let work = self.round_work(now);
                self.timer.schedule(round, after_ms, now.mono, work);
                None
            }
            Effect::ProposeRequest { round, parent, .. } => {
                // Looked at on the next step (ADR 0014): proposed when needed, paced after the
                // parent's timestamp.
                let parent_ts = self.header_ts(&parent.id).unwrap_or(0);
                self.pacer.schedule(round, parent, parent_ts, now);
                None
            }
            Effect::ValidateBlock { proposal } => self.validate(&proposal, now),
            Effect::Commit {
                committed,
                blocks,
                proof,
            } => {
                self.commit(committed, &blocks, &proof, now);
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

    pub(super) fn broadcast(&self, msg: &WireMsg) {
        self.net.broadcast(CHANNEL_CONSENSUS, codec::encode(msg));
    }

    pub(super) fn send(&self, to: &Address, msg: &WireMsg) {
        self.net.send(to, CHANNEL_CONSENSUS, codec::encode(msg));
    }

    /// Gossip again the transactions still pending since the last check.
    fn regossip(&mut self) {
        let pending = self
            .node
            .mempool()
            .oldest(MAX_GOSSIP_BATCH)
            .into_iter()
            .map(|p| (p.hash, p.tx.encode()))
            .collect();
        let batch = self.gossip.stale(pending);
        if !batch.is_empty() {
            self.send_gossip(&batch);
        }
    }

    fn send_gossip(&self, batch: &Vec<Vec<u8>>) {
        self.net.broadcast(CHANNEL_TXS, codec::encode(batch));
    }

    fn on_inbound(&mut self, m: InboundMessage, now: Now) {
        match m.channel {
            CHANNEL_TXS => self.on_gossip(m, now),
            CHANNEL_CONSENSUS => {
                let bytes = m.payload.len();
                match codec::decode::<WireMsg>("wire message", &m.payload, MAX_WIRE_BYTES) {
                    Ok(msg) => self.on_wire(m.from, msg, bytes, now),
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

    fn on_gossip(&mut self, m: InboundMessage, now: Now) {
        match codec::decode::<Vec<Vec<u8>>>("tx gossip", &m.payload, MAX_WIRE_BYTES) {
            Ok(raws) if raws.len() <= MAX_GOSSIP_BATCH => {
                if !self.gossip.admit(m.from, raws.len(), now.mono) {
                    self.node
                        .counters
                        .record_consensus_rejection("GossipOverBudget");
                    return;
                }
                let node = self.node.clone();
                super::blocking::run_blocking(|| node.submit_from_peer(&raws));
            }
            _ => {
                self.node
                    .counters
                    .record_consensus_rejection("MalformedGossip");
                tracing::debug!(from = %m.from, "bad tx gossip frame")
            }
        }
    }

    fn on_wire(&mut self, from: Address, msg: WireMsg, bytes: usize, now: Now) {
        let alg = self.node.suite().hash();
        let head = self.node.head().height;
        match msg {
            // Untagged (pre-epoch) consensus messages belong to epoch 0.
            WireMsg::Consensus(m) => self.on_epoch_message(from, 0, &m, now),
            WireMsg::EpochConsensus { epoch, msg } => self.on_epoch_message(from, epoch, &msg, now),
            WireMsg::Body(block) => {
                let id = block.hash(alg);
                match self.bodies.insert_body(id, block, from, bytes, head) {
                    Ok(()) => {
                        if self
                            .awaiting_validation
                            .as_ref()
                            .is_some_and(|p| p.block.id == id)
                        {
                            self.resume_awaiting(now);
                        }
                    }
                    Err(e) => {
                        self.node.counters.record_consensus_rejection("BodyRefused");
                        tracing::debug!(%from, block = %id, error = %e, "proposal body refused");
                    }
                }
            }
            WireMsg::BlockResponse { block } => {
                let id = block.hash(alg);
                match self.bodies.insert_fetched(id, block, from, bytes, head) {
                    Ok(()) => self.resume_awaiting(now),
                    Err(e) => {
                        self.node.counters.record_consensus_rejection("BodyRefused");
                        tracing::debug!(%from, block = %id, error = %e, "fetched block refused");
                    }
                }
            }
            WireMsg::SyncRequest { from: lo, to: hi } => self.serve_sync(from, lo, hi, now),
            WireMsg::BlockRequest { id } => self.serve_block(from, id),
            WireMsg::SyncResponse { blocks } => self.apply_sync(from, blocks, now),
        }
    }

    /// Hand the certificates governance revoked and its node list to the network (when the
    /// head moved and they changed): links close and handshakes are refused (issue 14).
    fn refresh_chain_membership(&mut self) {
        let height = self.node.head().height;
        if height == self.chain_membership.height {
            return;
        }
        let (revoked, policy) = match (self.node.revoked_fingerprints(), self.node.node_policy()) {
            (Ok(r), Ok(p)) => (r, p),
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "reading the on-chain membership failed");
                return;
            }
        };
        let m = &mut self.chain_membership;
        m.height = height;
        if revoked != m.revoked {
            let closed = self
                .net
                .set_revoked_fingerprints(revoked.iter().copied().collect());
            tracing::warn!(
                revoked = revoked.len(),
                closed,
                "certificates revoked on chain handed to the network"
            );
            m.revoked = revoked;
        }
        if policy != m.policy {
            let closed = self.net.set_node_policy(policy.clone());
            tracing::warn!(
                ?policy,
                closed,
                "node list from the chain handed to the network"
            );
            m.policy = policy;
        }
    }

    fn refresh_revoked(&mut self) {
        let mut refused = self.net.revoked_peers();
        refused.extend(self.net.excluded_peers());
        for a in self.revoked.refresh(refused) {
            tracing::warn!(validator = %a, "certificate revoked: its consensus messages are ignored, relayed or not");
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
            updated_ms: crate::producer::now_ms(),
        });
    }
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}
