//! Counters, updated with relaxed atomics and read as a [`NetworkMetrics`] snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! metrics {
    ($($(#[$doc:meta])* $field:ident,)*) => {
        /// A snapshot of the network counters (monotonic since start unless stated otherwise).
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct NetworkMetrics {
            $($(#[$doc])* pub $field: u64,)*
        }

        #[derive(Debug, Default)]
        pub(crate) struct Counters {
            $(pub(crate) $field: AtomicU64,)*
        }

        impl Counters {
            pub(crate) fn snapshot(&self) -> NetworkMetrics {
                NetworkMetrics { $($field: self.$field.load(Ordering::Relaxed),)* }
            }
        }
    };
}

metrics! {
    /// Application frames received and delivered to the inbound channel.
    frames_in,
    /// Application frames written to a socket.
    frames_out,
    /// Application payload bytes received.
    bytes_in,
    /// Application payload bytes written.
    bytes_out,
    /// Handshakes that authenticated the peer (before the one-link-per-peer tie-break).
    handshakes_ok,
    /// Handshakes that failed for any reason (including the two below, timeouts, bad Noise).
    handshakes_failed,
    /// Handshakes rejected because the peer's identity is not in the allow-set.
    rejected_unknown_peer,
    /// Handshakes rejected because the identity signature did not verify.
    rejected_bad_signature,
    /// Handshakes rejected by certificate admission (no, invalid, expired, revoked or
    /// wrong-role chain, or a key other than the identity).
    rejected_certificate,
    /// Live links closed because a certificate on the peer's chain was revoked.
    revoked_disconnects,
    /// Live links closed because a certificate on the peer's chain expired while they were
    /// up (`NetworkHandle::sweep_expired`).
    expired_disconnects,
    /// Inbound sockets closed at once because `max_inbound_handshakes` were running, or
    /// `max_inbound_handshakes_per_ip` from the same host.
    rejected_busy,
    /// Links closed because a frame claimed more than `max_frame_bytes`.
    oversized_frames,
    /// Frames dropped because a peer's outbound queue was full.
    dropped_frames,
    /// Links established to a peer that had been connected before.
    reconnects,
    /// Links closed by the one-link-per-peer rule (duplicate or replaced).
    duplicate_links,
    /// Established links that ended (error, close, replacement).
    disconnects,
    /// Peers connected now (gauge).
    connected_peers,
}

impl Counters {
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn dec(counter: &AtomicU64) {
        counter.fetch_sub(1, Ordering::Relaxed);
    }
}
