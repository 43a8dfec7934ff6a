//! Host counters, exported in the Prometheus text format by `keel-rpc` at `GET /metrics`.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// A peer link as seen by this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerSummary {
    /// Peer address.
    pub address: keel_types::Address,
    /// Link up?
    pub connected: bool,
    /// Why the last link attempt failed or closed.
    pub last_error: Option<String>,
    /// Earliest notAfter (Unix seconds) on the certificate chain the peer presented, with
    /// certificate admission.
    pub cert_not_after_secs: Option<u64>,
}

/// What the BFT driver last published (every ~250 ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BftStatus {
    /// Consensus state machine status (`None` on an observer).
    pub consensus: Option<keel_consensus::ConsensusStatus>,
    /// Quorum size.
    pub quorum: usize,
    /// Base round timeout, ms.
    pub round_timeout_ms: u64,
    /// Peer links.
    pub peers: Vec<PeerSummary>,
    /// When published (ms since the Unix epoch).
    pub updated_ms: u64,
}

/// A certificate in use, for expiry warnings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertExpiry {
    /// Which: `node`, `org_ca`, `root` (a metric label).
    pub cert: String,
    /// Subject, RFC 4514.
    pub subject: String,
    /// Serial, hex.
    pub serial: String,
    /// notAfter, Unix seconds.
    pub not_after_secs: u64,
}

/// The certificates a node uses and when to warn (certificate admission only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertStatus {
    /// The node's certificate, its CA(s) and the trusted root(s).
    pub certs: Vec<CertExpiry>,
    /// Warn this many days before expiry.
    pub warning_days: u64,
    /// Peer handshakes refused by certificate admission (network counter, refreshed
    /// periodically).
    pub links_refused: u64,
    /// Live links closed because a peer's certificate was revoked (idem).
    pub revoked_disconnects: u64,
}

impl CertStatus {
    /// `(certificate, seconds left)` for those expiring within the warning window at
    /// `now_secs` (negative: already expired).
    pub fn expiring(&self, now_secs: u64) -> Vec<(&CertExpiry, i64)> {
        let window = i64::try_from(self.warning_days.saturating_mul(86_400)).unwrap_or(i64::MAX);
        self.certs
            .iter()
            .map(|c| (c, seconds_left(c.not_after_secs, now_secs)))
            .filter(|(_, left)| *left <= window)
            .collect()
    }
}

/// `not_after - now` as a signed number of seconds.
pub fn seconds_left(not_after_secs: u64, now_secs: u64) -> i64 {
    let to_i64 = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
    to_i64(not_after_secs).saturating_sub(to_i64(now_secs))
}

/// Host counters since the node started: consensus messages, the BFT driver's and the
/// network's status, certificates (the ledger counts blocks and transactions itself:
/// `keel_ledger::LedgerCounters`).
#[derive(Debug, Default)]
pub struct NodeCounters {
    /// Consensus inputs rejected, by reason.
    consensus_rejected: Mutex<BTreeMap<String, u64>>,
    /// Consensus messages by (direction, kind).
    consensus_messages: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// Latest BFT status (None in solo mode).
    bft: Mutex<Option<BftStatus>>,
    /// Latest peer-to-peer network counters (None in solo mode).
    network: Mutex<Option<keel_network::NetworkMetrics>>,
    /// Certificates in use (None without certificate admission).
    certs: Mutex<Option<CertStatus>>,
}

impl NodeCounters {
    /// Count a rejected consensus input (`reason` is the variant name).
    pub fn record_consensus_rejection(&self, reason: &str) {
        let mut m = self
            .consensus_rejected
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // Bounded: reason names come from a fixed enum.
        if m.len() < 64 || m.contains_key(reason) {
            *m.entry(reason.to_string()).or_default() += 1;
        }
    }

    /// Count a consensus message (`direction`: sent | received; `kind`: proposal | vote | timeout).
    pub fn record_consensus_message(&self, direction: &'static str, kind: &'static str) {
        let mut m = self
            .consensus_messages
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *m.entry((direction, kind)).or_default() += 1;
    }

    /// Consensus messages by (direction, kind).
    pub fn consensus_messages(&self) -> Vec<((&'static str, &'static str), u64)> {
        let m = self
            .consensus_messages
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        m.iter().map(|(k, v)| (*k, *v)).collect()
    }

    /// Consensus rejections by reason.
    pub fn consensus_rejected(&self) -> Vec<(String, u64)> {
        let m = self
            .consensus_rejected
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        m.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// Publish the peer-to-peer network counters.
    pub fn set_network(&self, m: keel_network::NetworkMetrics) {
        *self.network.lock().unwrap_or_else(|p| p.into_inner()) = Some(m);
    }

    /// Latest peer-to-peer network counters, if running BFT.
    pub fn network(&self) -> Option<keel_network::NetworkMetrics> {
        *self.network.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publish the BFT status.
    pub fn set_bft(&self, status: BftStatus) {
        *self.bft.lock().unwrap_or_else(|p| p.into_inner()) = Some(status);
    }

    /// Publish the certificates in use (for expiry metrics and `keel_status`).
    pub fn set_certificates(&self, status: CertStatus) {
        *self.certs.lock().unwrap_or_else(|p| p.into_inner()) = Some(status);
    }

    /// The certificates in use, if certificate admission is configured.
    pub fn certificates(&self) -> Option<CertStatus> {
        self.certs.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Latest BFT status, if running BFT.
    pub fn bft(&self) -> Option<BftStatus> {
        self.bft.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_snapshot_is_absent_until_published() {
        let c = NodeCounters::default();
        assert_eq!(c.network(), None);
        let m = keel_network::NetworkMetrics {
            frames_in: 7,
            connected_peers: 3,
            ..Default::default()
        };
        c.set_network(m);
        assert_eq!(c.network(), Some(m));
    }
}
