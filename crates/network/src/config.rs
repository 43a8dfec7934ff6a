//! Configuration, defaults and the fixed protocol limits.

use std::net::SocketAddr;

use keel_types::Address;

use crate::error::NetworkError;

/// Largest application payload accepted by default, in bytes (16 MiB).
pub const DEFAULT_MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;
/// Outbound queue depth per peer by default, in frames.
pub const DEFAULT_QUEUE_DEPTH_FRAMES: usize = 1024;
/// Outbound queue size per peer by default, in payload bytes (64 MiB).
pub const DEFAULT_QUEUE_MAX_BYTES: usize = 64 * 1024 * 1024;
/// Capacity of the single inbound channel to the node by default, in messages.
pub const DEFAULT_INBOUND_CHANNEL_MESSAGES: usize = 4096;
/// A handshake (TCP connect excluded) must finish within this time.
pub const HANDSHAKE_TIMEOUT_MS: u64 = 10_000;
/// A TCP connect must finish within this time.
pub const DIAL_TIMEOUT_MS: u64 = 5_000;
/// At most this many inbound handshakes run at once; further sockets are closed at once.
pub const MAX_CONCURRENT_INBOUND_HANDSHAKES: usize = 32;
/// At most this many of those from one remote host (IPv4 address, IPv6 /64), so one host
/// cannot keep more than a quarter of the slots busy. Above one so that several nodes sharing
/// a host (a local test network) or a peer redialing while its old attempt times out still
/// get in; a refused dialer retries after its back-off.
pub const MAX_CONCURRENT_INBOUND_HANDSHAKES_PER_IP: usize = 8;
/// First reconnect delay after a failed attempt.
pub const RECONNECT_BACKOFF_MIN_MS: u64 = 100;
/// Reconnect delays double after each failure up to this bound.
pub const RECONNECT_BACKOFF_MAX_MS: u64 = 10_000;
/// An idle link sends an empty Noise message (keep-alive) this often.
pub const PING_INTERVAL_MS: u64 = 5_000;
/// A link on which nothing (not even a keep-alive) arrived for this long is closed.
pub const IDLE_TIMEOUT_MS: u64 = 30_000;
/// Writing one frame to the socket must finish within this time, or the link is closed (a
/// peer that stopped reading).
pub const WRITE_TIMEOUT_MS: u64 = 30_000;
/// With certificate admission, live links whose certificate chain expired are closed this
/// often (`NetworkHandle::sweep_expired`).
pub const CERT_EXPIRY_SWEEP_MS: u64 = 10_000;
/// `shutdown` waits at most this long for tasks to finish before aborting them.
pub const SHUTDOWN_TIMEOUT_MS: u64 = 5_000;

/// Largest Noise message (Noise spec, section 3), in bytes.
pub const NOISE_MAX_MESSAGE_BYTES: usize = 65_535;
/// ChaCha20-Poly1305 tag length, in bytes.
pub const NOISE_TAG_BYTES: usize = 16;
/// Largest plaintext carried by one Noise transport message, in bytes.
pub const NOISE_MAX_PLAINTEXT_BYTES: usize = NOISE_MAX_MESSAGE_BYTES - NOISE_TAG_BYTES;
/// Largest Noise handshake message accepted, in bytes (XX messages are at most 96 bytes
/// here: payloads are empty).
pub const HANDSHAKE_MESSAGE_MAX_BYTES: usize = 256;
/// Largest identity (auth) message without certificates accepted, ciphertext included, in
/// bytes; also the bound of the link-confirmation message.
pub const AUTH_MESSAGE_MAX_BYTES: usize = 512;
/// Largest identity message with a certificate chain (auth version 2), ciphertext included,
/// in bytes.
pub const AUTH_WITH_CERTS_MAX_BYTES: usize = 16 * 1024;
/// Most certificates in the chain carried by an identity message.
pub const AUTH_MAX_CERTS: usize = 3;
/// Application frame header: payload length (u32 BE) and channel (u8), in bytes.
pub const FRAME_HEADER_BYTES: usize = 5;

/// A peer to dial: its consortium address and where it listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr {
    /// The peer's identity address (`keel_crypto::address_of` of its identity key).
    pub address: Address,
    /// Its listening socket.
    pub socket: SocketAddr,
}

/// Certificate-based admission (ADR 0010): with it, every peer must present a certificate
/// chain (node certificate, then its organisation CA) to one of `roots`: signatures valid,
/// unexpired, unrevoked, role validator or observer, and the certificate's key equal to the
/// handshake identity key. The address allow-set still applies.
#[derive(Clone, Debug)]
pub struct PkiConfig {
    /// Trusted consortium roots.
    pub roots: Vec<keel_pki::Certificate>,
    /// This node's chain, sent in the handshake: node certificate first, then its CA(s).
    pub chain: Vec<keel_pki::Certificate>,
    /// Serials revoked at start (e.g. from the CRL file); replace later with
    /// `NetworkHandle::set_revoked`.
    pub revoked: keel_pki::RevokedSet,
}

/// Network configuration. Build with [`NetworkConfig::new`] and adjust fields.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// Where to accept inbound links (`127.0.0.1:0` picks a free port; see
    /// `NetworkHandle::local_addr`).
    pub listen: SocketAddr,
    /// Peers to dial. They are also allowed to connect inbound. The node's own address may be
    /// listed (it is skipped), so every node can use the same list from genesis.
    pub peers: Vec<PeerAddr>,
    /// Further addresses allowed to connect inbound but never dialed (e.g. observers).
    pub allow_inbound: Vec<Address>,
    /// Mixed into the Noise prologue: nodes with different ids cannot complete a handshake.
    /// Use the chain id or genesis hash.
    pub network_id: Vec<u8>,
    /// Largest application payload, in bytes, on send and on receive.
    pub max_frame_bytes: usize,
    /// Outbound queue depth per peer, in frames.
    pub queue_depth_frames: usize,
    /// Outbound queue bound per peer, in payload bytes.
    pub queue_max_bytes: usize,
    /// Capacity of the inbound channel returned by `Network::start`, in messages.
    pub inbound_channel_messages: usize,
    /// See [`HANDSHAKE_TIMEOUT_MS`].
    pub handshake_timeout_ms: u64,
    /// See [`DIAL_TIMEOUT_MS`].
    pub dial_timeout_ms: u64,
    /// See [`MAX_CONCURRENT_INBOUND_HANDSHAKES`].
    pub max_inbound_handshakes: usize,
    /// See [`MAX_CONCURRENT_INBOUND_HANDSHAKES_PER_IP`].
    pub max_inbound_handshakes_per_ip: usize,
    /// See [`RECONNECT_BACKOFF_MIN_MS`].
    pub reconnect_backoff_min_ms: u64,
    /// See [`RECONNECT_BACKOFF_MAX_MS`].
    pub reconnect_backoff_max_ms: u64,
    /// See [`PING_INTERVAL_MS`].
    pub ping_interval_ms: u64,
    /// See [`IDLE_TIMEOUT_MS`].
    pub idle_timeout_ms: u64,
    /// See [`WRITE_TIMEOUT_MS`].
    pub write_timeout_ms: u64,
    /// Certificate-based admission; `None` admits by address only (the allow-set).
    pub pki: Option<PkiConfig>,
}

impl NetworkConfig {
    /// A configuration with the default limits.
    pub fn new(listen: SocketAddr, peers: Vec<PeerAddr>) -> NetworkConfig {
        NetworkConfig {
            listen,
            peers,
            allow_inbound: Vec::new(),
            network_id: b"keel".to_vec(),
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            queue_depth_frames: DEFAULT_QUEUE_DEPTH_FRAMES,
            queue_max_bytes: DEFAULT_QUEUE_MAX_BYTES,
            inbound_channel_messages: DEFAULT_INBOUND_CHANNEL_MESSAGES,
            handshake_timeout_ms: HANDSHAKE_TIMEOUT_MS,
            dial_timeout_ms: DIAL_TIMEOUT_MS,
            max_inbound_handshakes: MAX_CONCURRENT_INBOUND_HANDSHAKES,
            max_inbound_handshakes_per_ip: MAX_CONCURRENT_INBOUND_HANDSHAKES_PER_IP,
            reconnect_backoff_min_ms: RECONNECT_BACKOFF_MIN_MS,
            reconnect_backoff_max_ms: RECONNECT_BACKOFF_MAX_MS,
            ping_interval_ms: PING_INTERVAL_MS,
            idle_timeout_ms: IDLE_TIMEOUT_MS,
            write_timeout_ms: WRITE_TIMEOUT_MS,
            pki: None,
        }
    }

    /// Rejects values that would make a bound meaningless.
    pub(crate) fn validate(&self) -> Result<(), NetworkError> {
        let positive = [
            ("max_frame_bytes", self.max_frame_bytes as u64),
            ("queue_depth_frames", self.queue_depth_frames as u64),
            ("queue_max_bytes", self.queue_max_bytes as u64),
            (
                "inbound_channel_messages",
                self.inbound_channel_messages as u64,
            ),
            ("handshake_timeout_ms", self.handshake_timeout_ms),
            ("dial_timeout_ms", self.dial_timeout_ms),
            ("max_inbound_handshakes", self.max_inbound_handshakes as u64),
            (
                "max_inbound_handshakes_per_ip",
                self.max_inbound_handshakes_per_ip as u64,
            ),
            ("reconnect_backoff_min_ms", self.reconnect_backoff_min_ms),
            ("ping_interval_ms", self.ping_interval_ms),
            ("idle_timeout_ms", self.idle_timeout_ms),
            ("write_timeout_ms", self.write_timeout_ms),
        ];
        if let Some((field, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(NetworkError::InvalidConfig {
                field,
                reason: "must be positive".into(),
            });
        }
        if u32::try_from(self.max_frame_bytes).is_err() {
            return Err(NetworkError::InvalidConfig {
                field: "max_frame_bytes",
                reason: "must fit the u32 frame length".into(),
            });
        }
        if self.reconnect_backoff_max_ms < self.reconnect_backoff_min_ms {
            return Err(NetworkError::InvalidConfig {
                field: "reconnect_backoff_max_ms",
                reason: "below reconnect_backoff_min_ms".into(),
            });
        }
        if self.idle_timeout_ms <= self.ping_interval_ms {
            return Err(NetworkError::InvalidConfig {
                field: "idle_timeout_ms",
                reason: "must exceed ping_interval_ms".into(),
            });
        }
        if let Some(pki) = &self.pki {
            if pki.roots.is_empty() {
                return Err(NetworkError::InvalidConfig {
                    field: "pki.roots",
                    reason: "no trusted root".into(),
                });
            }
            if pki.chain.is_empty() || pki.chain.len() > AUTH_MAX_CERTS {
                return Err(NetworkError::InvalidConfig {
                    field: "pki.chain",
                    reason: format!("need 1..={AUTH_MAX_CERTS} certificates"),
                });
            }
        }
        Ok(())
    }
}
