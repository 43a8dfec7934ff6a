//! Typed errors: start-up ([`NetworkError`]), sending ([`SendError`]) and, crate-private, why a
//! link failed or was closed ([`LinkError`]).

use std::io;
use std::net::SocketAddr;

use keel_types::Address;

/// `Network::start` failed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// A configuration value is out of range.
    #[error("invalid network config `{field}`: {reason}")]
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The same peer address is configured twice with different sockets.
    #[error("peer {address} is configured twice")]
    DuplicatePeer {
        /// The repeated address.
        address: Address,
    },
    /// The identity key has no address (invalid key).
    #[error("identity key is invalid: {reason}")]
    InvalidIdentity {
        /// The crypto error.
        reason: String,
    },
    /// Could not bind the listening socket.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The configured address.
        addr: SocketAddr,
        /// The OS error.
        source: io::Error,
    },
    /// Noise set-up failed (e.g. no randomness for the ephemeral-static key).
    #[error("noise setup failed: {reason}")]
    Noise {
        /// The snow error.
        reason: String,
    },
}

/// A frame could not be queued. Nothing was queued when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The address is neither configured nor allowed.
    #[error("unknown peer {address}")]
    UnknownPeer {
        /// The address.
        address: Address,
    },
    /// The peer's outbound queue is full (frames or bytes); the frame was dropped and counted.
    #[error("outbound queue to {address} is full ({queue_len} frames)")]
    QueueFull {
        /// The peer.
        address: Address,
        /// Frames queued.
        queue_len: usize,
    },
    /// The payload exceeds `max_frame_bytes`.
    #[error("frame of {bytes} bytes exceeds the limit of {max_bytes} bytes")]
    FrameTooLarge {
        /// Payload size.
        bytes: usize,
        /// The configured limit.
        max_bytes: usize,
    },
    /// The network was shut down.
    #[error("network is shut down")]
    ShutDown,
}

/// Why a link (handshake or established connection) ended. Shown in `PeerStatus::last_error`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LinkError {
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    #[error("timed out: {what}")]
    Timeout { what: &'static str },
    #[error("noise: {0}")]
    Noise(#[from] snow::Error),
    #[error("handshake message of {bytes} bytes exceeds {max_bytes}")]
    HandshakeMessageTooLarge { bytes: usize, max_bytes: usize },
    #[error("malformed identity message: {reason}")]
    MalformedAuth { reason: &'static str },
    #[error("bad identity signature from {address}")]
    BadSignature { address: Address },
    #[error("peer {address} is not in the allow-set")]
    UnknownPeer { address: Address },
    #[error("peer {address} refused: certificate {code}: {reason}")]
    Certificate {
        address: Address,
        code: &'static str,
        reason: String,
    },
    #[error("peer certificate revoked")]
    Revoked,
    #[error("peer certificate expired")]
    Expired,
    #[error("peer excluded by the node list (governance)")]
    Excluded,
    #[error("peer {address} refused by the node list (governance)")]
    NotListed { address: Address },
    #[error("peer presented our own identity")]
    SelfConnection,
    #[error("dialed {expected} but the peer is {got}")]
    UnexpectedPeer { expected: Address, got: Address },
    #[error("frame of {bytes} bytes exceeds the limit of {max_bytes} bytes")]
    FrameTooLarge { bytes: usize, max_bytes: usize },
    #[error("noise message of {bytes} bytes is shorter than its tag")]
    RuntMessage { bytes: usize },
    #[error("connection closed by peer")]
    Closed,
    #[error("kept the other link to this peer (tie-break)")]
    TieBreak,
    #[error("replaced by a newer link")]
    Replaced,
    #[error("network shut down")]
    Shutdown,
    #[error("nonce space exhausted")]
    NonceExhausted,
}
