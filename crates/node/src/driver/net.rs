//! The driver's view of the network: send to one peer, broadcast on a channel, the peer list
//! and the revoked peers. Production uses [`keel_network::NetworkHandle`]; a simulator
//! implements it over its own seeded network.

use keel_network::{NetworkHandle, NetworkMetrics, PeerAddr, PeerStatus};
use keel_types::{Address, Hash, OpPolicy};
use std::collections::BTreeSet;

/// What the driver needs from the network. Sends are best effort (a full queue or an unknown
/// peer drops the frame, as the network itself does).
pub trait DriverNet: Send + Sync {
    /// Queue `payload` on `channel` for peer `to`.
    fn send(&self, to: &Address, channel: u8, payload: Vec<u8>);
    /// Queue `payload` on `channel` for every linked peer.
    fn broadcast(&self, channel: u8, payload: Vec<u8>);
    /// Every known peer (block sync asks the connected ones).
    fn peers(&self) -> Vec<PeerStatus>;
    /// Peers whose certificate is revoked (sorted).
    fn revoked_peers(&self) -> Vec<Address>;
    /// Replace the certificate fingerprints revoked on chain; live links of those
    /// certificates close. How many links were closed.
    fn set_revoked_fingerprints(&self, fingerprints: BTreeSet<Hash>) -> usize;
    /// Counters for the status page.
    fn metrics(&self) -> NetworkMetrics;
    /// Replace governance's node list; links of excluded nodes close. How many closed.
    fn set_node_policy(&self, policy: OpPolicy) -> usize;
    /// Peers the node list excludes (sorted).
    fn excluded_peers(&self) -> Vec<Address>;
    /// Let peers link while running (validators governance added): `dial` them, or only
    /// accept them `inbound`. How many were new.
    fn admit_peers(&self, dial: &[PeerAddr], inbound: &[Address]) -> usize;
}

impl DriverNet for NetworkHandle {
    fn send(&self, to: &Address, channel: u8, payload: Vec<u8>) {
        // Dropped frames are counted by the network; consensus recovers by timeouts and sync.
        let _ = NetworkHandle::send(self, to, channel, payload);
    }

    fn broadcast(&self, channel: u8, payload: Vec<u8>) {
        let _ = NetworkHandle::broadcast(self, channel, payload);
    }

    fn peers(&self) -> Vec<PeerStatus> {
        NetworkHandle::peers(self)
    }

    fn revoked_peers(&self) -> Vec<Address> {
        NetworkHandle::revoked_peers(self)
    }

    fn set_revoked_fingerprints(&self, fingerprints: BTreeSet<Hash>) -> usize {
        NetworkHandle::set_revoked_fingerprints(self, fingerprints)
    }

    fn metrics(&self) -> NetworkMetrics {
        NetworkHandle::metrics(self)
    }

    fn admit_peers(&self, dial: &[PeerAddr], inbound: &[Address]) -> usize {
        NetworkHandle::admit_peers(self, dial, inbound)
    }

    fn set_node_policy(&self, policy: OpPolicy) -> usize {
        NetworkHandle::set_node_policy(self, policy)
    }

    fn excluded_peers(&self) -> Vec<Address> {
        NetworkHandle::excluded_peers(self)
    }
}
