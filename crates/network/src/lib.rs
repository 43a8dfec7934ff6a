//! Keel's node-to-node transport: mutually authenticated, framed, bounded TCP links between
//! the consortium's nodes. Consensus, transaction-batch and sync messages are opaque bytes
//! here; a `channel: u8` tag on every frame lets the node route them.
//!
//! # Handshake (see `docs/adr/0005-network.md`)
//!
//! 1. Noise `Noise_XX_25519_ChaChaPoly_SHA256` ([`NOISE_PARAMS`]) with empty payloads and the
//!    prologue [`PROLOGUE_DOMAIN`] `‖ NetworkConfig::network_id`. The X25519 static key is
//!    generated per process: it is *not* the node's identity.
//! 2. Each side then sends, as its first (encrypted) transport message, its identity
//!    `AUTH_VERSION ‖ scheme ‖ pk_len ‖ pk ‖ sig_len ‖ sig`, where `sig` is its consortium
//!    key's signature (SM2 or Ed25519, via `keel_crypto`) over
//!    [`auth_signing_message`]`(role, h)` = [`AUTH_DOMAIN`] `‖ role ‖ h`, `role` being
//!    [`ROLE_INITIATOR`] or [`ROLE_RESPONDER`] and `h` the final Noise handshake hash (channel
//!    binding: `h` commits to both sessions' keys, so a man in the middle cannot forward a
//!    signature from one session into another).
//! 3. The receiver decodes strictly, verifies the signature, derives the address with
//!    `keel_crypto::address_of(scheme, pk, suite.hash())` and accepts only addresses in the
//!    allow-set (`peers` ∪ `allow_inbound`, the node itself excluded); a dialer also requires
//!    the address it dialed. Any failure closes the socket, is logged (`tracing::warn!`) with
//!    its reason and counted ([`NetworkMetrics`]: `handshakes_failed`,
//!    `rejected_unknown_peer`, `rejected_bad_signature`).
//! 4. Each side installs the link under the one-link-per-peer rule (below) and sends a
//!    one-byte [`LINK_READY`] message; frames flow only once the other's arrived, so a link
//!    the peer dropped by the tie-break never takes a frame out of a queue. Only then is
//!    admission complete and the peer shown as connected (`PeerStatus::connected`,
//!    `connected_peers`).
//!
//! With [`NetworkConfig::pki`] set (ADR 0010), step 2 also carries the node's certificate
//! chain (auth version [`AUTH_VERSION_CERTS`]) and step 3 requires the peer's chain to verify
//! to a configured consortium root: valid signatures, unexpired, unrevoked, role validator or
//! observer, certificate key = identity key. Refusals are logged with the certificate error
//! code and counted (`rejected_certificate`). [`NetworkHandle::set_revoked`] replaces the
//! revoked serials and closes live links whose chain holds one (`revoked_disconnects`);
//! their reconnects are then refused. Live links whose chain expires are closed by a sweep
//! every [`CERT_EXPIRY_SWEEP_MS`] ([`NetworkHandle::sweep_expired`], which takes the clock as
//! a parameter; `expired_disconnects`). [`NetworkHandle::revoked_peers`] lists the peers whose
//! last admitted chain is revoked, for the node to ignore what others relay for them.
//!
//! The whole handshake is bounded by `handshake_timeout_ms`; at most
//! `max_inbound_handshakes` run at once, at most `max_inbound_handshakes_per_ip` of them from
//! one remote host (IPv4 address, IPv6 /64), so one host cannot starve the others (further
//! sockets are closed, `rejected_busy`);
//! handshake messages above [`HANDSHAKE_MESSAGE_MAX_BYTES`] and identity messages above
//! [`AUTH_WITH_CERTS_MAX_BYTES`] are refused before they are read.
//!
//! # Framing
//!
//! On the socket: Noise messages `len: u16 BE ‖ ciphertext` (≤ 65,535 bytes). Their
//! plaintexts form a stream of frames `payload_len: u32 BE ‖ channel: u8 ‖ payload`; a frame
//! is split over as many Noise messages as needed and reassembled. `payload_len` is checked
//! against `max_frame_bytes` (default 16 MiB) **before** the payload buffer is allocated; a
//! violation closes the link and counts `oversized_frames`. An empty Noise message is a
//! keep-alive, sent after `ping_interval_ms` of silence; a link that receives nothing for
//! `idle_timeout_ms`, or whose frame write takes longer than `write_timeout_ms`, is closed.
//!
//! # Links
//!
//! Every node dials its `peers` and accepts inbound links. One live link per peer: when both
//! sides dial, the link opened by the lower address wins; otherwise the newer link replaces
//! the older (a restarted peer). A replaced link loses no frame in flight: each side
//! finishes its current frame, half-closes, and delivers what the other had written until it
//! reads the other's half-close (bounded); frames may arrive out of order across the switch.
//! Dialers reconnect with exponential back-off from
//! `reconnect_backoff_min_ms` to `reconnect_backoff_max_ms`, plus up to 25 % jitter from a
//! splitmix64 seeded by the two addresses (reproducible, different per pair).
//!
//! # Back-pressure
//!
//! Each peer has one bounded outbound queue (`queue_depth_frames`, `queue_max_bytes`) that
//! outlives its links: frames sent while a peer is down go out on its next link. A full
//! queue refuses the **newest** frame (`SendError::QueueFull`, counted in `dropped_frames`):
//! the caller learns synchronously and what is queued keeps its order; consensus recovers
//! lost messages by its timeouts and sync. Senders never wait, so a slow or dead peer cannot
//! block them or other peers. Inbound frames go to the node through one bounded `mpsc`
//! receiver; when it is full, links stop reading, which pushes back on the senders' queues.
//!
//! # API
//!
//! [`Network::start`]`(config, identity, suite)` returns a [`NetworkHandle`] (`Clone`,
//! `Send + Sync`) and the `mpsc::Receiver<`[`InboundMessage`]`>`. The handle offers
//! `send` (unicast, non-blocking), `broadcast` (payload shared via `bytes::Bytes`, to every
//! connected or dialed peer), `peers` ([`PeerStatus`]: connected, direction, last error,
//! time in state, queue length), `metrics` ([`NetworkMetrics`]), `local_addr`,
//! `local_address` and `shutdown` (graceful; awaits every task, bounded by
//! [`SHUTDOWN_TIMEOUT_MS`]). Dropping the last handle also stops the tasks (not awaited).
//!
//! # Limits
//!
//! Every limit is a named constant with its unit (`HANDSHAKE_TIMEOUT_MS`,
//! `RECONNECT_BACKOFF_MAX_MS`, `DEFAULT_MAX_FRAME_BYTES`, …) and, where an operator may want
//! to change it, a [`NetworkConfig`] field defaulting to that constant.

mod admission;
mod config;
mod error;
mod handshake;
mod link;
mod metrics;
mod peer;
mod service;
mod slots;
mod table;
mod wire;

pub use admission::PeerCert;
pub use config::*;
pub use error::{NetworkError, SendError};
pub use handshake::{
    AUTH_DOMAIN, AUTH_VERSION, AUTH_VERSION_CERTS, LINK_READY, NOISE_PARAMS, PROLOGUE_DOMAIN,
    ROLE_INITIATOR, ROLE_RESPONDER, auth_signing_message, encode_auth, encode_auth_with_certs,
};
pub use metrics::NetworkMetrics;
pub use peer::{Direction, PeerStatus};
pub use service::{Broadcast, InboundMessage, Network, NetworkHandle};
