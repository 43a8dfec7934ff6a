//! The simulated network as the real driver sees it ([`DriverNet`]): sends land in the node's
//! outbox, which the scheduler drains after every step and turns into deliveries (with the
//! seed's loss, delay, duplication and partitions). Every peer counts as linked, except the ones
//! the chain cut off (issue 14): a peer whose synthetic certificate fingerprint
//! ([`cert_fingerprint`]) governance revoked, or that the node list excludes, is neither sent to
//! nor heard from, as the real network closes and refuses its links.

use std::collections::BTreeSet;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use keel_network::{DEFAULT_MAX_FRAME_BYTES, NetworkMetrics, PeerStatus};
use keel_node::driver::DriverNet;
use keel_types::{Address, Hash, OpPolicy};

/// One frame sent by a node.
#[derive(Clone, Debug)]
pub(crate) struct Envelope {
    /// Destination.
    pub to: Address,
    /// Channel tag.
    pub channel: u8,
    /// Payload.
    pub payload: Vec<u8>,
}

impl Envelope {
    /// Whether a frame carries this node's vote or timeout: consensus persisted its safety state
    /// (fsynced) before sending it.
    pub fn signs_round(&self) -> bool {
        use keel_consensus::ConsensusMessage;
        use keel_node::driver::{CHANNEL_CONSENSUS, WireMsg};
        if self.channel != CHANNEL_CONSENSUS {
            return false;
        }
        let msg = match keel_types::codec::decode::<WireMsg>("wire", &self.payload, usize::MAX) {
            Ok(WireMsg::EpochConsensus { msg, .. } | WireMsg::Consensus(msg)) => msg,
            _ => return false,
        };
        matches!(
            ConsensusMessage::decode(&msg),
            Ok(ConsensusMessage::Vote(_) | ConsensusMessage::Timeout(_))
        )
    }
}

/// One node's view of the simulated network.
#[derive(Debug)]
pub(crate) struct SimNet {
    peers: Vec<Address>,
    outbox: Mutex<Vec<Envelope>>,
    /// Membership the driver handed over from the chain.
    cut: Mutex<Cut>,
}

#[derive(Debug, Default)]
struct Cut {
    revoked: BTreeSet<Hash>,
    policy: OpPolicy,
}

/// The simulated certificate fingerprint of a member (the simulator has no X.509 chains):
/// what a governance revocation names.
pub(crate) fn cert_fingerprint(member: &Address) -> Hash {
    Hash(keel_crypto::HashAlgorithm::Sm3.digest_parts(&[b"keel-sim/cert", &member.0]))
}

impl SimNet {
    /// A node linked to `peers` (itself excluded).
    pub fn new(peers: Vec<Address>) -> Arc<SimNet> {
        Arc::new(SimNet {
            peers,
            outbox: Mutex::new(Vec::new()),
            cut: Mutex::default(),
        })
    }

    fn cut(&self) -> MutexGuard<'_, Cut> {
        self.cut.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this node's network refuses `peer` (revoked on chain, or excluded by the node
    /// list): nothing is sent to it or delivered from it.
    pub fn refuses(&self, peer: &Address) -> bool {
        let cut = self.cut();
        cut.revoked.contains(&cert_fingerprint(peer)) || !cut.policy.permits(peer)
    }

    fn peers_refused(&self) -> Vec<Address> {
        self.peers
            .iter()
            .copied()
            .filter(|p| self.refuses(p))
            .collect()
    }

    fn outbox(&self) -> MutexGuard<'_, Vec<Envelope>> {
        self.outbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Everything sent since the last call, in order.
    pub fn drain(&self) -> Vec<Envelope> {
        std::mem::take(&mut *self.outbox())
    }

    fn push(&self, to: Address, channel: u8, payload: &[u8]) {
        // The real network refuses frames over its limit at the sender.
        if payload.len() <= DEFAULT_MAX_FRAME_BYTES && !self.refuses(&to) {
            self.outbox().push(Envelope {
                to,
                channel,
                payload: payload.to_vec(),
            });
        }
    }
}

impl DriverNet for SimNet {
    fn send(&self, to: &Address, channel: u8, payload: Vec<u8>) {
        if self.peers.contains(to) {
            self.push(*to, channel, &payload);
        }
    }

    fn broadcast(&self, channel: u8, payload: Vec<u8>) {
        for p in &self.peers {
            self.push(*p, channel, &payload);
        }
    }

    fn peers(&self) -> Vec<PeerStatus> {
        self.peers
            .iter()
            .map(|a| PeerStatus {
                address: *a,
                socket: None,
                connected: true,
                direction: None,
                last_error: None,
                since_ms: 0,
                queue_len: 0,
                queue_bytes: 0,
                certificate: None,
            })
            .collect()
    }

    fn revoked_peers(&self) -> Vec<Address> {
        let revoked = self.cut().revoked.clone();
        self.peers
            .iter()
            .copied()
            .filter(|p| revoked.contains(&cert_fingerprint(p)))
            .collect()
    }

    fn metrics(&self) -> NetworkMetrics {
        NetworkMetrics::default()
    }

    fn set_revoked_fingerprints(&self, fingerprints: BTreeSet<Hash>) -> usize {
        let before = self.peers_refused().len();
        self.cut().revoked = fingerprints;
        self.peers_refused().len().saturating_sub(before)
    }

    /// The simulated consortium links every member from the start.
    fn admit_peers(&self, _: &[keel_network::PeerAddr], _: &[Address]) -> usize {
        0
    }

    fn set_node_policy(&self, policy: OpPolicy) -> usize {
        let before = self.peers_refused().len();
        self.cut().policy = policy;
        self.peers_refused().len().saturating_sub(before)
    }

    fn excluded_peers(&self) -> Vec<Address> {
        let policy = self.cut().policy.clone();
        self.peers
            .iter()
            .copied()
            .filter(|p| !policy.permits(p))
            .collect()
    }
}
