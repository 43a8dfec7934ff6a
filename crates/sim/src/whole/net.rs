//! The simulated network as the real driver sees it ([`DriverNet`]): sends land in the node's
//! outbox, which the scheduler drains after every step and turns into deliveries (with the
//! seed's loss, delay, duplication and partitions). Every peer counts as linked.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use keel_network::{DEFAULT_MAX_FRAME_BYTES, NetworkMetrics, PeerStatus};
use keel_node::driver::DriverNet;
use keel_types::Address;

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
}

impl SimNet {
    /// A node linked to `peers` (itself excluded).
    pub fn new(peers: Vec<Address>) -> Arc<SimNet> {
        Arc::new(SimNet {
            peers,
            outbox: Mutex::new(Vec::new()),
        })
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
        if payload.len() <= DEFAULT_MAX_FRAME_BYTES {
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
        Vec::new()
    }

    fn set_revoked_fingerprints(&self, _: std::collections::BTreeSet<keel_types::Hash>) -> usize {
        0
    }

    /// The simulated consortium links every member from the start.
    fn admit_peers(&self, _: &[keel_network::PeerAddr], _: &[Address]) -> usize {
        0
    }

    fn set_node_policy(&self, _: keel_types::OpPolicy) -> usize {
        0
    }

    fn excluded_peers(&self) -> Vec<Address> {
        Vec::new()
    }

    fn metrics(&self) -> NetworkMetrics {
        NetworkMetrics::default()
    }
}
