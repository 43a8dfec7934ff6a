//! The simulated world: nodes, network, clock, host duties and fault injection.

use std::collections::BTreeMap;

use keel_consensus::{
    BlockMeta, CommitInfo, CommitProof, Config, Consensus, ConsensusMessage, Crypto, Effect, Input,
    MAX_MESSAGE_BYTES, PacemakerConfig, Proposal, QuorumCert, Recovery, SafetyState, ValidatorSet,
    Vote, VoteData, verify_commit,
};
use keel_crypto::HashAlgorithm;
use keel_types::{Address, Hash};

use crate::config::{Byzantine, SimConfig};
use crate::crypto::SimCrypto;
use crate::invariants::{Checker, Violation, impossible_for_honest};
use crate::report::SimReport;
use crate::rng::SimRng;

const CHAIN_ID: u64 = 7;
/// Host latency to build or validate a block.
const HOST_DELAY_MS_MAX: u64 = 3;
/// How long a crashed node stays down at most.
const DOWNTIME_MS_MAX: u64 = 800;
/// How long a partition lasts at most.
const PARTITION_MS_MAX: u64 = 1_000;

#[derive(Debug)]
enum Event {
    Deliver {
        to: usize,
        bytes: Vec<u8>,
    },
    Timer {
        node: usize,
        round: u64,
        token: u64,
    },
    Host {
        node: usize,
        incarnation: u64,
        input: Input,
    },
    Crash {
        node: usize,
        mid_effects: bool,
    },
    Restart {
        node: usize,
    },
    Partition {
        groups: Vec<u8>,
        until_ms: u64,
    },
}

#[derive(Debug, Clone, Copy)]
struct BlockRecord {
    meta: BlockMeta,
    valid: bool,
}

/// What a node "persisted" (survives crashes) plus its volatile consensus instance.
#[derive(Debug)]
struct Node {
    crypto: SimCrypto,
    byzantine: Option<Byzantine>,
    consensus: Option<Consensus<SimCrypto>>,
    incarnation: u64,
    timer_token: u64,
    crash_armed: bool,
    // --- durable ---
    disk_safety: SafetyState,
    disk_commit_qc: Option<QuorumCert>,
    /// Committed block ids by height (index 0 = genesis).
    chain: Vec<Hash>,
}

/// One simulation run.
#[derive(Debug)]
pub(crate) struct World {
    config: SimConfig,
    consensus_config: Config,
    rng: SimRng,
    now_ms: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Event>,
    nodes: Vec<Node>,
    blocks: BTreeMap<Hash, BlockRecord>,
    checker: Checker,
    partition: Option<(Vec<u8>, u64)>,
    /// Votes the Byzantine coalition has seen (they share everything they receive).
    coalition_votes: BTreeMap<VoteData, BTreeMap<Address, Vec<u8>>>,
    /// QCs the coalition could assemble, by round.
    coalition_qcs: BTreeMap<u64, Vec<QuorumCert>>,
    pub(crate) report: SimReport,
}

impl World {
    pub(crate) fn new(config: SimConfig) -> World {
        let cryptos = SimCrypto::for_nodes(config.seed, config.nodes);
        let addresses: Vec<Address> = cryptos.iter().map(Crypto::me).collect();
        let validators = ValidatorSet::new(CHAIN_ID, addresses).expect("distinct sim addresses");
        let genesis_id = Hash(
            HashAlgorithm::Sha256.digest_parts(&[b"keel-sim/genesis", &config.seed.to_be_bytes()]),
        );
        let consensus_config = Config {
            validators,
            genesis_id,
            genesis_height: 0,
            pacemaker: PacemakerConfig {
                base_timeout_ms: config.base_timeout_ms,
                backoff_exponent_cap: config.backoff_exponent_cap,
            },
        };
        let nodes = cryptos
            .into_iter()
            .enumerate()
            .map(|(i, crypto)| Node {
                crypto,
                byzantine: config.byzantine.get(i).cloned(),
                consensus: None,
                incarnation: 0,
                timer_token: 0,
                crash_armed: false,
                disk_safety: SafetyState::genesis(genesis_id),
                disk_commit_qc: None,
                chain: vec![genesis_id],
            })
            .collect();
        let mut blocks = BTreeMap::new();
        let genesis = BlockMeta {
            id: genesis_id,
            parent_id: Hash::ZERO,
            height: 0,
        };
        blocks.insert(
            genesis_id,
            BlockRecord {
                meta: genesis,
                valid: true,
            },
        );
        World {
            rng: SimRng::new(config.seed),
            report: SimReport::new(config.nodes),
            config,
            consensus_config,
            now_ms: 0,
            seq: 0,
            queue: BTreeMap::new(),
            nodes,
            blocks,
            checker: Checker::default(),
            partition: None,
            coalition_votes: BTreeMap::new(),
            coalition_qcs: BTreeMap::new(),
        }
    }

    /// Runs to the progress target or the first violation.
    pub(crate) fn run(&mut self) -> Result<(), Violation> {
        for node in 0..self.config.nodes {
            self.boot(node)?;
        }
        self.schedule_faults();
        let mut heights_at_gst: Option<Vec<u64>> = None;
        let deadline_ms = self.config.gst_ms + self.config.progress_budget_ms;
        while let Some(((time_ms, _), event)) = self.queue.pop_first() {
            self.now_ms = time_ms;
            self.report.steps += 1;
            if self.report.steps > self.config.max_steps {
                return Err(Violation::StepBound {
                    steps: self.report.steps,
                });
            }
            if heights_at_gst.is_none() && self.now_ms >= self.config.gst_ms {
                heights_at_gst = Some(self.honest_heights());
            }
            if let Some(at_gst) = &heights_at_gst {
                if self.progress_reached(at_gst) {
                    break;
                }
                if self.now_ms > deadline_ms {
                    return Err(self.progress_violation(at_gst));
                }
            }
            self.step(event)?;
        }
        self.report.sim_time_ms = self.now_ms;
        self.report.committed_heights = self
            .nodes
            .iter()
            .map(|n| n.chain.len() as u64 - 1)
            .collect();
        self.report.highest_agreed_height = self.checker.highest_agreed();
        Ok(())
    }

    fn honest_heights(&self) -> Vec<u64> {
        self.nodes
            .iter()
            .map(|n| n.chain.len() as u64 - 1)
            .collect()
    }

    fn progress_reached(&self, at_gst: &[u64]) -> bool {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.byzantine.is_none())
            .all(|(i, n)| n.chain.len() as u64 > at_gst[i] + self.config.target_commits)
    }

    fn progress_violation(&self, at_gst: &[u64]) -> Violation {
        let (node, n) = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.byzantine.is_none())
            .min_by_key(|(i, n)| {
                n.chain.len() as u64 - 1 - at_gst[*i].min(n.chain.len() as u64 - 1)
            })
            .expect("at least one honest node");
        Violation::Progress {
            node,
            height_at_gst: at_gst[node],
            height_at_deadline: n.chain.len() as u64 - 1,
        }
    }

    fn push(&mut self, at_ms: u64, event: Event) {
        self.seq += 1;
        self.queue.insert((at_ms, self.seq), event);
    }

    fn trace(&mut self, parts: &[u64]) {
        for p in parts {
            self.report.trace_hash =
                (self.report.trace_hash ^ p).wrapping_mul(0x0000_0100_0000_01B3);
        }
    }

    // ---- faults --------------------------------------------------------------------

    fn schedule_faults(&mut self) {
        let gst = self.config.gst_ms;
        let n = self.config.nodes;
        if self.config.faults.partitions {
            let count = self.rng.range(1, 3);
            for _ in 0..count {
                let at = self.rng.range(0, gst.saturating_sub(100));
                let until = (at + self.rng.range(100, PARTITION_MS_MAX)).min(gst);
                let groups = (0..n).map(|_| u8::from(self.rng.chance(500))).collect();
                self.push(
                    at,
                    Event::Partition {
                        groups,
                        until_ms: until,
                    },
                );
            }
        }
        if self.config.faults.crashes {
            let count = self.rng.range(1, 4);
            for _ in 0..count {
                let node = self.rng.index(n);
                if self.nodes[node].byzantine.is_some() {
                    continue;
                }
                let at = self.rng.range(0, gst.saturating_sub(50));
                let mid_effects = self.rng.chance(500);
                self.push(at, Event::Crash { node, mid_effects });
            }
        }
    }

    fn partitioned(&self, a: usize, b: usize) -> bool {
        match &self.partition {
            Some((groups, until_ms)) => self.now_ms < *until_ms && groups[a] != groups[b],
            None => false,
        }
    }

    // ---- the event loop --------------------------------------------------------------

    fn step(&mut self, event: Event) -> Result<(), Violation> {
        match event {
            Event::Deliver { to, bytes } => {
                self.trace(&[1, self.now_ms, to as u64, bytes.len() as u64]);
                self.deliver(to, &bytes)
            }
            Event::Timer { node, round, token } => {
                if self.nodes[node].timer_token != token || self.nodes[node].consensus.is_none() {
                    return Ok(());
                }
                self.trace(&[2, self.now_ms, node as u64, round]);
                self.input(node, Input::Timeout { round })
            }
            Event::Host {
                node,
                incarnation,
                input,
            } => {
                if self.nodes[node].incarnation != incarnation
                    || self.nodes[node].consensus.is_none()
                {
                    return Ok(());
                }
                self.trace(&[3, self.now_ms, node as u64]);
                self.input(node, input)
            }
            Event::Crash { node, mid_effects } => {
                self.trace(&[4, self.now_ms, node as u64]);
                if self.nodes[node].consensus.is_some() {
                    if mid_effects {
                        self.nodes[node].crash_armed = true;
                    } else {
                        self.crash(node);
                    }
                }
                Ok(())
            }
            Event::Restart { node } => {
                self.trace(&[5, self.now_ms, node as u64]);
                if self.nodes[node].consensus.is_none() {
                    self.boot(node)?;
                }
                Ok(())
            }
            Event::Partition { groups, until_ms } => {
                self.trace(&[6, self.now_ms, until_ms]);
                self.partition = Some((groups, until_ms));
                Ok(())
            }
        }
    }

    fn crash(&mut self, node: usize) {
        let n = &mut self.nodes[node];
        n.consensus = None;
        n.crash_armed = false;
        n.incarnation += 1;
        self.report.crashes += 1;
        let downtime = self.rng.range(50, DOWNTIME_MS_MAX);
        let at = (self.now_ms + downtime).min(self.config.gst_ms.max(self.now_ms + 1));
        self.push(at, Event::Restart { node });
    }

    /// (Re)starts a node from what it persisted.
    fn boot(&mut self, node: usize) -> Result<(), Violation> {
        let n = &self.nodes[node];
        let height = n.chain.len() as u64 - 1;
        let recovery = Recovery {
            safety: n.disk_safety.clone(),
            committed: CommitInfo {
                height,
                block_id: n.chain[n.chain.len() - 1],
            },
            high_qc: n.disk_commit_qc.clone(),
        };
        let mut consensus =
            Consensus::new(self.consensus_config.clone(), n.crypto.clone(), recovery)
                .expect("persisted recovery state is valid");
        let effects = consensus.start();
        self.nodes[node].consensus = Some(consensus);
        self.perform(node, effects)
    }

    fn deliver(&mut self, to: usize, bytes: &[u8]) -> Result<(), Violation> {
        if self.nodes[to].consensus.is_none() {
            return Ok(());
        }
        let message = match ConsensusMessage::decode(bytes) {
            Ok(m) => m,
            Err(_) => {
                self.report.decode_errors += 1;
                return Ok(());
            }
        };
        if let (Some(_), ConsensusMessage::Vote(v)) = (&self.nodes[to].byzantine, &message) {
            self.coalition_observe(v);
        }
        if let (Some(byz), ConsensusMessage::Proposal(p)) = (&self.nodes[to].byzantine, &message)
            && byz.double_vote
        {
            // Vote for everything, whatever the safety rules say.
            let vote = Vote::sign(VoteData::for_proposal(p), CHAIN_ID, &self.nodes[to].crypto);
            self.coalition_observe(&vote);
            self.broadcast(to, &ConsensusMessage::Vote(vote));
        }
        self.input(to, Input::Message(message))
    }

    fn input(&mut self, node: usize, input: Input) -> Result<(), Violation> {
        let Some(consensus) = self.nodes[node].consensus.as_mut() else {
            return Ok(());
        };
        let effects = consensus.handle(input);
        self.perform(node, effects)
    }

    /// The host: performs effects in order; a node armed to crash stops after a random
    /// prefix (only effects already performed count).
    fn perform(&mut self, node: usize, effects: Vec<Effect>) -> Result<(), Violation> {
        let cut = if self.nodes[node].crash_armed && !effects.is_empty() {
            Some(self.rng.index(effects.len() + 1))
        } else {
            None
        };
        self.trace(&[7, effects.len() as u64]);
        for (k, effect) in effects.into_iter().enumerate() {
            if cut == Some(k) {
                break;
            }
            self.perform_one(node, effect)?;
        }
        if cut.is_some() {
            self.crash(node);
        }
        Ok(())
    }

    fn perform_one(&mut self, node: usize, effect: Effect) -> Result<(), Violation> {
        let honest = self.nodes[node].byzantine.is_none();
        match effect {
            Effect::PersistSafety(state) => {
                if !self.config.forget_safety_state {
                    self.nodes[node].disk_safety = state;
                }
                Ok(())
            }
            Effect::Broadcast(message) => {
                if honest {
                    if let ConsensusMessage::Vote(v) = &message {
                        self.checker.record_honest_vote(node, v.author, &v.data)?;
                    }
                    self.broadcast(node, &message);
                } else {
                    self.byzantine_broadcast(node, message);
                }
                Ok(())
            }
            Effect::ScheduleTimeout { round, after_ms } => {
                let n = &mut self.nodes[node];
                n.timer_token += 1;
                let token = n.timer_token;
                self.push(self.now_ms + after_ms, Event::Timer { node, round, token });
                Ok(())
            }
            Effect::ProposeRequest { round, parent, .. } => {
                let valid = !self.nodes[node]
                    .byzantine
                    .as_ref()
                    .is_some_and(|b| b.invalid_blocks);
                let block = self.new_block(node, round, parent, valid);
                self.host_reply(node, Input::PayloadReady { round, block });
                Ok(())
            }
            Effect::ValidateBlock { proposal } => {
                let id = proposal.block.id;
                let valid = !honest
                    || self
                        .blocks
                        .get(&id)
                        .is_some_and(|r| r.valid && r.meta == proposal.block);
                self.host_reply(node, Input::BlockValidated { id, valid });
                Ok(())
            }
            Effect::Commit {
                committed,
                blocks,
                proof,
            } => {
                self.report.commit_effects += 1;
                if honest {
                    self.commit(node, committed, &blocks, &proof)?;
                }
                Ok(())
            }
            Effect::Rejected { from, reason } => {
                *self
                    .report
                    .rejections
                    .entry(reason_name(&reason))
                    .or_default() += 1;
                let from_honest = from
                    .and_then(|a| self.node_index(&a))
                    .is_some_and(|i| self.nodes[i].byzantine.is_none());
                if honest && from_honest && impossible_for_honest(&reason) {
                    return Err(Violation::HonestRejected { node, reason });
                }
                Ok(())
            }
        }
    }

    fn node_index(&self, address: &Address) -> Option<usize> {
        self.nodes.iter().position(|n| n.crypto.me() == *address)
    }

    fn host_reply(&mut self, node: usize, input: Input) {
        let at = self.now_ms + self.rng.range(0, HOST_DELAY_MS_MAX);
        let incarnation = self.nodes[node].incarnation;
        self.push(
            at,
            Event::Host {
                node,
                incarnation,
                input,
            },
        );
    }

    fn new_block(&mut self, node: usize, round: u64, parent: BlockMeta, valid: bool) -> BlockMeta {
        let nonce = self.rng.next_u64();
        let id = Hash(HashAlgorithm::Sha256.digest_parts(&[
            b"keel-sim/block",
            &round.to_be_bytes(),
            self.nodes[node].crypto.me().as_bytes(),
            parent.id.as_bytes(),
            &self.config.seed.to_be_bytes(),
            &nonce.to_be_bytes(),
        ]));
        let meta = BlockMeta {
            id,
            parent_id: parent.id,
            height: parent.height + 1,
        };
        self.blocks.insert(id, BlockRecord { meta, valid });
        self.report.blocks_built += 1;
        meta
    }

    /// Checks the commit invariants and extends the node's durable chain, filling any gap
    /// from the sim's block store the way block sync would (following parent links).
    fn commit(
        &mut self,
        node: usize,
        committed: CommitInfo,
        blocks: &[BlockMeta],
        proof: &CommitProof,
    ) -> Result<(), Violation> {
        let crypto = &self.nodes[node].crypto;
        verify_commit(
            &self.consensus_config.validators,
            crypto,
            proof,
            committed.height,
            &committed.block_id,
        )
        .map_err(|e| Violation::Certificate {
            node,
            height: committed.height,
            error: e.to_string(),
        })?;
        let last_height = self.nodes[node].chain.len() as u64 - 1;
        if committed.height <= last_height {
            return Err(Violation::Continuity {
                node,
                height: committed.height,
                detail: format!(
                    "commit of height {} at or below committed {}",
                    committed.height, last_height
                ),
            });
        }
        // Walk down from the committed block to our last height, via the consensus list
        // first and the block store ("block sync") for anything missing.
        let mut new_chain = Vec::new();
        let mut id = committed.block_id;
        for height in (last_height + 1..=committed.height).rev() {
            let known = blocks.iter().find(|b| b.id == id).copied();
            let meta = match known.or_else(|| self.blocks.get(&id).map(|r| r.meta)) {
                Some(meta) => meta,
                None => {
                    return Err(Violation::Continuity {
                        node,
                        height,
                        detail: format!("unknown block {id}"),
                    });
                }
            };
            if meta.height != height {
                return Err(Violation::Continuity {
                    node,
                    height,
                    detail: format!("block {id} has height {}", meta.height),
                });
            }
            new_chain.push(meta);
            id = meta.parent_id;
        }
        let tip = self.nodes[node].chain[self.nodes[node].chain.len() - 1];
        if id != tip {
            return Err(Violation::Continuity {
                node,
                height: last_height + 1,
                detail: "does not extend the committed chain".into(),
            });
        }
        if blocks.first().is_some_and(|b| b.height == last_height + 1) {
            self.report.commits_without_gap += 1;
        } else {
            self.report.commits_with_gap += 1;
        }
        for meta in new_chain.into_iter().rev() {
            if !self.blocks.get(&meta.id).is_some_and(|r| r.valid) {
                return Err(Violation::Validity {
                    node,
                    height: meta.height,
                    block: meta.id,
                });
            }
            self.checker.record_commit(node, meta.height, meta.id)?;
            self.trace(&[
                8,
                meta.height,
                u64::from_be_bytes(meta.id.0[..8].try_into().expect("8 bytes")),
            ]);
            self.nodes[node].chain.push(meta.id);
        }
        self.nodes[node].disk_commit_qc = Some(proof.qc.clone());
        Ok(())
    }

    // ---- network ---------------------------------------------------------------------

    fn broadcast(&mut self, from: usize, message: &ConsensusMessage) {
        let bytes = message.encode();
        for to in 0..self.config.nodes {
            if to != from {
                self.send(from, to, bytes.clone());
            }
        }
    }

    fn send(&mut self, from: usize, to: usize, bytes: Vec<u8>) {
        self.report.messages_sent += 1;
        let before_gst = self.now_ms < self.config.gst_ms;
        if before_gst && self.partitioned(from, to) {
            self.report.messages_dropped += 1;
            return;
        }
        let faults = self.config.faults.clone();
        if before_gst && self.rng.chance(faults.loss_permille) {
            self.report.messages_dropped += 1;
            return;
        }
        let max_delay = if before_gst {
            self.config.delay_ms_max
        } else {
            self.config.delay_ms_max_after_gst
        };
        let mut delay = self.rng.range(1, max_delay);
        if before_gst && self.rng.chance(faults.spike_permille) {
            delay += self.rng.range(0, faults.spike_delay_ms_max);
        }
        if before_gst && self.rng.chance(faults.duplicate_permille) {
            let again = delay + self.rng.range(0, max_delay);
            self.push(
                self.now_ms + again,
                Event::Deliver {
                    to,
                    bytes: bytes.clone(),
                },
            );
        }
        self.push(self.now_ms + delay, Event::Deliver { to, bytes });
    }

    // ---- Byzantine behaviour ------------------------------------------------------------

    /// Pools votes seen by any Byzantine node; a quorum yields a QC the coalition can use.
    fn coalition_observe(&mut self, vote: &Vote) {
        let quorum = self.consensus_config.validators.quorum();
        let signatures = self.coalition_votes.entry(vote.data.clone()).or_default();
        signatures.insert(vote.author, vote.signature.clone());
        if signatures.len() == quorum {
            let qc = QuorumCert::from_votes(vote.data.clone(), signatures);
            self.coalition_qcs
                .entry(vote.data.round)
                .or_default()
                .push(qc);
        }
    }

    fn byzantine_broadcast(&mut self, node: usize, message: ConsensusMessage) {
        let byz = self.nodes[node]
            .byzantine
            .clone()
            .expect("called for Byzantine nodes only");
        if let ConsensusMessage::Vote(v) = &message {
            self.coalition_observe(v);
        }
        if byz.garbage {
            self.send_garbage(node, &message);
        }
        match message {
            ConsensusMessage::Proposal(p) if byz.equivocate => self.equivocate(node, &byz, p),
            ConsensusMessage::Vote(_) if byz.withhold_votes => {}
            ConsensusMessage::Vote(v) if byz.wrong_signature => {
                let mut forged = v.clone();
                forged.data.block.id = Hash([0xEE; 32]);
                self.broadcast(node, &ConsensusMessage::Vote(forged));
                self.broadcast(node, &ConsensusMessage::Vote(v));
            }
            other => self.broadcast(node, &other),
        }
    }

    /// Sends `p` to one half of the honest nodes and a conflicting proposal to the other half
    /// (both to fellow Byzantine nodes). The twin extends a *different* QC of the same round
    /// when the coalition holds one, which is how f+1 colluders could fork the chain.
    fn equivocate(&mut self, node: usize, byz: &Byzantine, p: Proposal) {
        let parent_qc = self
            .coalition_qcs
            .get(&p.qc.round())
            .and_then(|qcs| qcs.iter().find(|qc| qc.vote.block.id != p.qc.vote.block.id))
            .cloned()
            .unwrap_or_else(|| p.qc.clone());
        let other = self.new_block(node, p.round, parent_qc.vote.block, !byz.invalid_blocks);
        let twin = Proposal::sign(
            other,
            p.round,
            parent_qc,
            p.tc.clone(),
            CHAIN_ID,
            &self.nodes[node].crypto,
        );
        let first = p.encode_message();
        let second = ConsensusMessage::Proposal(twin.clone()).encode();
        for to in 0..self.config.nodes {
            if to == node {
                continue;
            }
            if self.nodes[to].byzantine.is_some() {
                self.send(node, to, first.clone());
                self.send(node, to, second.clone());
            } else {
                let bytes = if to % 2 == 0 {
                    first.clone()
                } else {
                    second.clone()
                };
                self.send(node, to, bytes);
            }
        }
        if byz.double_vote {
            let vote = Vote::sign(
                VoteData::for_proposal(&twin),
                CHAIN_ID,
                &self.nodes[node].crypto,
            );
            self.coalition_observe(&vote);
            self.broadcast(node, &ConsensusMessage::Vote(vote));
        }
    }

    fn send_garbage(&mut self, node: usize, message: &ConsensusMessage) {
        let to = self.rng.index(self.config.nodes);
        let mut bytes = message.encode();
        let bytes = match self.rng.range(0, 3) {
            0 => {
                let at = self.rng.index(bytes.len());
                bytes[at] ^= 1 << self.rng.range(0, 7);
                bytes
            }
            1 => {
                let len = self.rng.index(bytes.len());
                bytes.truncate(len);
                bytes
            }
            2 => (0..self.rng.range(0, 300))
                .map(|_| self.rng.next_u64() as u8)
                .collect(),
            _ => vec![0u8; MAX_MESSAGE_BYTES + 1],
        };
        self.report.garbage_sent += 1;
        self.send(node, to, bytes);
    }
}

trait EncodeMessage {
    fn encode_message(&self) -> Vec<u8>;
}

impl EncodeMessage for Proposal {
    fn encode_message(&self) -> Vec<u8> {
        ConsensusMessage::Proposal(self.clone()).encode()
    }
}

fn reason_name(reason: &keel_consensus::RejectReason) -> String {
    let debug = format!("{reason:?}");
    debug
        .split([' ', '(', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}
