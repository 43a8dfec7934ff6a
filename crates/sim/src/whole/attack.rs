//! Byzantine peers speaking the real wire protocol with their real keys: a validator that
//! equivocates as leader, signs proposals whose body names another parent or a far-future
//! timestamp, forges bodies and sync answers, replays committed transactions and old
//! consensus frames, floods next-epoch messages and sends garbage; an observer may do the
//! same (everything but proposing).

use std::collections::{BTreeMap, VecDeque};

use keel_consensus::{BlockMeta, ConsensusMessage, Proposal};
use keel_node::Node;
use keel_node::driver::{CHANNEL_CONSENSUS, CHANNEL_TXS, WireMsg};
use keel_types::{Address, Block, Hash, codec};

use super::cluster::{CHAIN, SUITE};
use super::config::Attacks;
use super::net::Envelope;
use crate::rng::SimRng;

/// Consensus frames an attacker keeps to replay later.
const REPLAY_RING: usize = 64;
/// Frames per flood: half replayed, half re-tagged for the next epoch (more than the
/// driver's per-peer next-epoch bound, `MAX_NEXT_EPOCH_MESSAGES_PER_PEER` = 64).
const FLOOD: usize = 150;

/// One attacker's state.
#[derive(Debug)]
pub(crate) struct Attacker {
    attacks: Attacks,
    /// Recent consensus-channel frames it received (other validators' messages).
    heard: VecDeque<Vec<u8>>,
    /// Ids of recent block bodies seen, by height (to name a real sibling as parent).
    bodies: BTreeMap<u64, Vec<Hash>>,
}

fn wire(to: Address, msg: &WireMsg) -> Envelope {
    Envelope {
        to,
        channel: CHANNEL_CONSENSUS,
        payload: codec::encode(msg),
    }
}

fn random_hash(rng: &mut SimRng) -> Hash {
    let mut h = [0u8; 32];
    for c in h.chunks_mut(8) {
        c.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    Hash(h)
}

impl Attacker {
    pub fn new(attacks: Attacks) -> Attacker {
        Attacker {
            attacks,
            heard: VecDeque::new(),
            bodies: BTreeMap::new(),
        }
    }

    /// Remember a frame delivered to the attacker.
    pub fn hear(&mut self, channel: u8, payload: &[u8]) {
        if channel == CHANNEL_CONSENSUS
            && let Ok(WireMsg::Body(b)) = codec::decode::<WireMsg>("wire", payload, usize::MAX)
        {
            self.saw_body(&b);
        }
        if channel == CHANNEL_CONSENSUS && payload.len() < 64 * 1024 {
            if self.heard.len() == REPLAY_RING {
                self.heard.pop_front();
            }
            self.heard.push_back(payload.to_vec());
        }
    }

    fn saw_body(&mut self, b: &Block) {
        let ids = self.bodies.entry(b.header.height).or_default();
        let id = b.hash(SUITE.hash());
        if !ids.contains(&id) && ids.len() < 8 {
            ids.push(id);
        }
        while self.bodies.len() > 32 {
            self.bodies.pop_first();
        }
    }

    /// A block at `height` other than `not`, seen earlier (e.g. its own equivocated sibling).
    fn sibling(&self, height: u64, not: &Hash) -> Option<Hash> {
        self.bodies
            .get(&height)?
            .iter()
            .find(|id| *id != not)
            .copied()
    }

    /// Rewrite the attacker's own outgoing frames: as leader, replace or split its proposal.
    pub fn rewrite(&mut self, rng: &mut SimRng, node: &Node, out: Vec<Envelope>) -> Vec<Envelope> {
        let Some((block, proposal, epoch)) = own_proposal(&out) else {
            return out;
        };
        self.saw_body(&block);
        if !self.attacks.as_leader() || !rng.chance(700) {
            return out;
        }
        let mut fake = block.clone();
        let parent_id = proposal.block.parent_id;
        let split = match self.pick_leader_attack(rng) {
            LeaderAttack::Equivocate => {
                fake.header.timestamp_ms += 1;
                true
            }
            LeaderAttack::WrongParent => {
                // The signed proposal keeps the real parent; the body names another block of
                // the parent's height if one was seen (a fork under an unchecked body), or
                // none that exists.
                let parent_height = proposal.block.height.saturating_sub(1);
                fake.header.parent_hash = self
                    .sibling(parent_height, &proposal.block.parent_id)
                    .unwrap_or_else(|| random_hash(rng));
                false
            }
            LeaderAttack::FutureTimestamp => {
                fake.header.timestamp_ms += 10_000;
                false
            }
        };
        let Ok((_, crypto)) = node.consensus_parts() else {
            return out;
        };
        self.saw_body(&fake);
        let meta = BlockMeta {
            id: fake.hash(SUITE.hash()),
            parent_id,
            height: proposal.block.height,
        };
        let forged = Proposal::sign(
            meta,
            proposal.round,
            proposal.qc.clone(),
            proposal.tc.clone(),
            CHAIN,
            &crypto,
        );
        let fake_msg = WireMsg::EpochConsensus {
            epoch,
            msg: ConsensusMessage::Proposal(forged).encode(),
        };
        let mut peers: Vec<Address> = out.iter().map(|e| e.to).collect();
        peers.sort();
        peers.dedup();
        let mut rewritten: Vec<Envelope> = Vec::new();
        for (i, to) in peers.iter().enumerate() {
            if split && i % 2 == 0 {
                rewritten.extend(out.iter().filter(|e| e.to == *to).cloned());
            } else {
                rewritten.push(wire(*to, &WireMsg::Body(fake.clone())));
                rewritten.push(wire(*to, &fake_msg));
                // Everything else it sent this step (votes, gossip) goes as it was.
                rewritten.extend(
                    out.iter()
                        .filter(|e| e.to == *to && !is_proposal(e))
                        .cloned(),
                );
            }
        }
        rewritten
    }

    fn pick_leader_attack(&self, rng: &mut SimRng) -> LeaderAttack {
        let mut options = Vec::new();
        if self.attacks.equivocate {
            options.push(LeaderAttack::Equivocate);
        }
        if self.attacks.wrong_parent {
            options.push(LeaderAttack::WrongParent);
        }
        if self.attacks.future_timestamp {
            options.push(LeaderAttack::FutureTimestamp);
        }
        options[rng.index(options.len())]
    }

    /// Hostile frames sent on the attacker's own initiative.
    pub fn inject(
        &mut self,
        rng: &mut SimRng,
        node: &Node,
        epoch: u64,
        peers: &[Address],
    ) -> Vec<Envelope> {
        let mut out = Vec::new();
        let Some(&to) = peers.get(rng.index(peers.len())) else {
            return out;
        };
        if self.attacks.garbage {
            garbage(rng, to, &mut out);
        }
        if self.attacks.forged_blocks {
            forged_blocks(rng, node, to, &mut out);
        }
        if self.attacks.replay_txs {
            replay_txs(rng, node, to, &mut out);
        }
        if self.attacks.floods && rng.chance(200) {
            self.flood(rng, epoch, to, &mut out);
        }
        out
    }

    fn flood(&self, rng: &mut SimRng, epoch: u64, to: Address, out: &mut Vec<Envelope>) {
        for i in 0..FLOOD {
            let msg = match self.heard.get(i % self.heard.len().max(1)) {
                // Replayed frames as they were, and their bytes re-tagged for the next epoch.
                Some(frame) if i % 2 == 0 => {
                    out.push(Envelope {
                        to,
                        channel: CHANNEL_CONSENSUS,
                        payload: frame.clone(),
                    });
                    continue;
                }
                Some(frame) => frame.clone(),
                None => rng.next_u64().to_le_bytes().to_vec(),
            };
            out.push(wire(
                to,
                &WireMsg::EpochConsensus {
                    epoch: epoch + 1,
                    msg,
                },
            ));
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum LeaderAttack {
    Equivocate,
    WrongParent,
    FutureTimestamp,
}

fn is_proposal(e: &Envelope) -> bool {
    if e.channel != CHANNEL_CONSENSUS {
        return false;
    }
    match codec::decode::<WireMsg>("wire", &e.payload, usize::MAX) {
        Ok(WireMsg::Body(_)) => true,
        Ok(WireMsg::EpochConsensus { msg, .. }) => {
            matches!(
                ConsensusMessage::decode(&msg),
                Ok(ConsensusMessage::Proposal(_))
            )
        }
        _ => false,
    }
}

/// The body and proposal the attacker's driver just broadcast, with its epoch.
fn own_proposal(out: &[Envelope]) -> Option<(Block, Proposal, u64)> {
    let mut body = None;
    let mut proposal = None;
    for e in out.iter().filter(|e| e.channel == CHANNEL_CONSENSUS) {
        match codec::decode::<WireMsg>("wire", &e.payload, usize::MAX) {
            Ok(WireMsg::Body(b)) => body = Some(b),
            Ok(WireMsg::EpochConsensus { epoch, msg }) => {
                if let Ok(ConsensusMessage::Proposal(p)) = ConsensusMessage::decode(&msg) {
                    proposal = Some((p, epoch));
                }
            }
            _ => {}
        }
        if body.is_some() && proposal.is_some() {
            break;
        }
    }
    let (p, epoch) = proposal?;
    let b = body.filter(|b| b.hash(SUITE.hash()) == p.block.id)?;
    Some((b, p, epoch))
}

fn garbage(rng: &mut SimRng, to: Address, out: &mut Vec<Envelope>) {
    let len = rng.range(0, 300) as usize;
    let payload: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
    let channel = rng.range(0, 3) as u8;
    out.push(Envelope {
        to,
        channel,
        payload,
    });
    out.push(wire(
        to,
        &WireMsg::SyncRequest {
            from: rng.range(0, 5),
            to: u64::MAX,
        },
    ));
    out.push(wire(
        to,
        &WireMsg::BlockRequest {
            id: random_hash(rng),
        },
    ));
}

/// Bodies for far-future heights, bodies with a forged state root, unsolicited sync and
/// block responses with forged blocks.
fn forged_blocks(rng: &mut SimRng, node: &Node, to: Address, out: &mut Vec<Envelope>) {
    let head = node.head().height;
    let Ok(Some(block)) = node.chain().block(head) else {
        return;
    };
    let mut far = block.clone();
    far.header.height = head + rng.range(100, 100_000);
    far.header.parent_hash = random_hash(rng);
    out.push(wire(to, &WireMsg::Body(far)));
    let mut next = block.clone();
    next.header.height = head + 1;
    next.header.parent_hash = block.hash(SUITE.hash());
    next.header.state_root = random_hash(rng);
    out.push(wire(
        to,
        &WireMsg::BlockResponse {
            block: next.clone(),
        },
    ));
    let mut blocks = vec![next];
    if rng.chance(500) {
        // A real committed block with its certificate stripped, then the forged one.
        let mut stripped = block;
        stripped.certificate = Default::default();
        blocks.insert(0, stripped);
    }
    out.push(wire(to, &WireMsg::SyncResponse { blocks }));
    if rng.chance(10) {
        oversized(node, to, out);
    }
}

/// A body from the attacker itself over the block byte budget (a replayed transaction
/// repeated past `MAX_BLOCK_TX_BYTES`): refused, never executed.
fn oversized(node: &Node, to: Address, out: &mut Vec<Envelope>) {
    let head = node.head();
    let Some(tx) = (1..=head.height)
        .rev()
        .take(32)
        .filter_map(|h| node.chain().block(h).ok().flatten())
        .find_map(|b| b.transactions.into_iter().next())
    else {
        return;
    };
    let copies = keel_types::limits::MAX_BLOCK_TX_BYTES / tx.encode().len().max(1) + 1;
    let mut big = Block {
        header: head.header.clone(),
        transactions: vec![tx; copies],
        certificate: Default::default(),
    };
    big.header.height = head.height + 1;
    big.header.parent_hash = head.hash;
    big.header.proposer = node.validator_address();
    out.push(wire(to, &WireMsg::Body(big)));
}

/// Transactions the chain already committed, gossiped again.
fn replay_txs(rng: &mut SimRng, node: &Node, to: Address, out: &mut Vec<Envelope>) {
    let head = node.head().height;
    if head == 0 {
        return;
    }
    let h = rng.range(1, head);
    let Ok(Some(block)) = node.chain().block(h) else {
        return;
    };
    let raws: Vec<Vec<u8>> = block
        .transactions
        .iter()
        .take(64)
        .map(|t| t.encode())
        .collect();
    if !raws.is_empty() {
        out.push(Envelope {
            to,
            channel: CHANNEL_TXS,
            payload: codec::encode(&raws),
        });
    }
}
