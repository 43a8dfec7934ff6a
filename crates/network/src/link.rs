//! The tasks: accept loop, one dialer per peer, and the life of an authenticated link.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use keel_types::Address;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

use crate::config::AUTH_MESSAGE_MAX_BYTES;
use crate::error::LinkError;
use crate::handshake::{Established, HandshakeCtx, LINK_READY, handshake};
use crate::metrics::Counters;
use crate::peer::{CloseCause, CloseSignal, Direction, Link, PeerSlot};
use crate::service::{InboundMessage, Shared};
use crate::slots::HandshakeSlot;
use crate::wire::{NoiseReader, NoiseWriter};

/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again.
const ACCEPT_ERROR_PAUSE_MS: u64 = 100;
/// A dialed link that lived at least this long resets the reconnect back-off.
const LINK_STABLE_MS: u64 = 2_000;
/// A replaced link delivers what the peer had written on it for at most this long.
const LINK_DRAIN_MS: u64 = 10_000;

pub(crate) async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        let accepted = tokio::select! {
            () = shared.shutdown_signal() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, remote)) => match shared.handshake_slots.try_acquire(remote.ip()) {
                Ok(slot) => {
                    let task = inbound(Arc::clone(&shared), stream, remote, slot);
                    shared.spawn(task);
                }
                Err(limit) => {
                    Counters::inc(&shared.counters.rejected_busy);
                    tracing::warn!(%remote, ?limit, "too many inbound handshakes; closing socket");
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Shared::ms(ACCEPT_ERROR_PAUSE_MS)).await;
            }
        }
    }
}

async fn inbound(shared: Arc<Shared>, stream: TcpStream, remote: SocketAddr, slot: HandshakeSlot) {
    let result = run_handshake(&shared, stream, None).await;
    drop(slot);
    match result {
        Ok(est) => {
            run_link(&shared, est, Direction::Inbound).await;
        }
        Err(e) => handshake_failed(&shared, &e, remote),
    }
}

/// Dials `slot` whenever it has no live link, with exponential back-off and jitter.
pub(crate) async fn dial_loop(shared: Arc<Shared>, slot: Arc<PeerSlot>) {
    let Some(socket) = slot.socket else { return };
    let min_ms = shared.config.reconnect_backoff_min_ms;
    let max_ms = shared.config.reconnect_backoff_max_ms;
    let mut backoff_ms = min_ms;
    let mut jitter = Jitter::new(shared.local, slot.address);
    let mut state = slot.subscribe();
    loop {
        let disconnected = async { state.wait_for(|s| s.link.is_none()).await.is_ok() };
        tokio::select! {
            () = shared.shutdown_signal() => return,
            ok = disconnected => if !ok { return },
        }
        let started = tokio::time::Instant::now();
        match dial_once(&shared, &slot, socket).await {
            Some(LinkError::Shutdown) => return,
            // The link was up long enough to count as healthy: start the back-off over.
            Some(_) if started.elapsed() >= Shared::ms(LINK_STABLE_MS) => backoff_ms = min_ms,
            // Failed, or a link that dies at once (e.g. the peer rejects us): keep backing off.
            _ => backoff_ms = backoff_ms.saturating_mul(2).min(max_ms),
        }
        let delay_ms = backoff_ms + jitter.next_below(backoff_ms / 4 + 1);
        tokio::select! {
            () = shared.shutdown_signal() => return,
            () = tokio::time::sleep(Shared::ms(delay_ms)) => {}
        }
    }
}

/// One attempt; `Some(reason)` if a link was installed and has ended, `None` if the attempt
/// failed before that.
async fn dial_once(shared: &Arc<Shared>, slot: &PeerSlot, socket: SocketAddr) -> Option<LinkError> {
    let connect = tokio::time::timeout(
        Shared::ms(shared.config.dial_timeout_ms),
        TcpStream::connect(socket),
    );
    let stream = match connect.await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            let e = LinkError::Io(e);
            tracing::debug!(peer = %slot.address, %socket, error = %e, "dial failed");
            slot.note_error(&e);
            return None;
        }
        Err(_) => {
            slot.note_error(&LinkError::Timeout { what: "connect" });
            return None;
        }
    };
    match run_handshake(shared, stream, Some(slot.address)).await {
        Ok(est) => match run_link(shared, est, Direction::Outbound).await {
            LinkError::TieBreak => None,
            reason => Some(reason),
        },
        Err(LinkError::Shutdown) => Some(LinkError::Shutdown),
        Err(e) => {
            handshake_failed(shared, &e, socket);
            slot.note_error(&e);
            None
        }
    }
}

async fn run_handshake(
    shared: &Shared,
    stream: TcpStream,
    expected: Option<Address>,
) -> Result<Established, LinkError> {
    stream.set_nodelay(true)?;
    let ctx = HandshakeCtx {
        identity: &shared.identity,
        local: shared.local,
        suite: shared.suite,
        noise_private: &shared.noise_private,
        prologue: &shared.prologue,
        allowed: &shared.peers,
        node_policy: &shared.node_policy,
        pki: shared.pki.as_ref(),
    };
    let timeout = Shared::ms(shared.config.handshake_timeout_ms);
    tokio::select! {
        () = shared.shutdown_signal() => Err(LinkError::Shutdown),
        r = tokio::time::timeout(timeout, handshake(stream, &ctx, expected)) => {
            r.map_err(|_| LinkError::Timeout { what: "handshake" })?
        }
    }
}

fn handshake_failed(shared: &Shared, e: &LinkError, remote: SocketAddr) {
    let c = &shared.counters;
    Counters::inc(&c.handshakes_failed);
    match e {
        LinkError::UnknownPeer { .. } | LinkError::NotListed { .. } => {
            Counters::inc(&c.rejected_unknown_peer);
        }
        LinkError::BadSignature { .. } => Counters::inc(&c.rejected_bad_signature),
        LinkError::Certificate { .. } => Counters::inc(&c.rejected_certificate),
        LinkError::Shutdown => return,
        _ => {}
    }
    tracing::warn!(%remote, reason = %e, "handshake rejected");
}

/// A link installed in its peer's slot.
struct LiveLink {
    id: u64,
    close: Arc<CloseSignal>,
}

/// Installs the link (one per peer), runs it until it ends and returns why it ended.
async fn run_link(shared: &Shared, est: Established, direction: Direction) -> LinkError {
    let Established {
        peer,
        cert,
        mut reader,
        mut writer,
    } = est;
    let Some(slot) = shared.peers.get(&peer) else {
        // The allow-set and the slots are built from the same lists.
        return LinkError::UnknownPeer { address: peer };
    };
    let slot = &*slot;
    let link = match install(shared, slot, peer, cert, direction) {
        Ok(link) => link,
        Err(e) => return e,
    };
    let confirm = tokio::time::timeout(
        Shared::ms(shared.config.handshake_timeout_ms),
        confirm_link(&mut reader, &mut writer),
    );
    let confirmed = tokio::select! {
        r = confirm => match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(LinkError::Timeout { what: "link confirmation" }),
        },
        reason = link.close.closed() => Err(reason),
        () = shared.shutdown_signal() => Err(LinkError::Shutdown),
    };
    let reason = match confirmed {
        Err(reason) => reason,
        Ok(()) => {
            // Admission is complete only now: the peer kept the link too.
            if slot.confirm(link.id) {
                Counters::inc(&shared.counters.connected_peers);
                tracing::info!(%peer, ?direction, "peer connected");
            }
            serve(shared, slot, peer, reader, writer, &link.close).await
        }
    };
    link_ended(shared, slot, peer, link.id, reason)
}

/// Carries frames both ways until the link ends. A link replaced by another to the same
/// peer (both sides replace it alike) ends without losing frames in flight: each side
/// finishes the frame it is writing, half-closes, and delivers what the other had already
/// written until it reads the other's half-close (bounded by [`LINK_DRAIN_MS`]). Frames
/// may then arrive out of order across the two links, never twice.
async fn serve(
    shared: &Shared,
    slot: &PeerSlot,
    peer: Address,
    reader: NoiseReader<OwnedReadHalf>,
    mut writer: NoiseWriter<OwnedWriteHalf>,
    close: &CloseSignal,
) -> LinkError {
    let write_timeout = Shared::ms(shared.config.write_timeout_ms);
    let mut read = std::pin::pin!(read_loop(shared, peer, reader));
    let reason = {
        let mut write = std::pin::pin!(write_loop(shared, slot, &mut writer, close));
        tokio::select! {
            r = &mut read => {
                // The peer half-closed (it replaced the link) or the link failed: finish
                // the frame being written, then stop.
                close.close(CloseCause::Replaced);
                let _ = tokio::time::timeout(write_timeout, &mut write).await;
                return r;
            }
            r = &mut write => r,
            () = shared.shutdown_signal() => return LinkError::Shutdown,
        }
    };
    if let LinkError::Replaced = reason {
        let _ = tokio::time::timeout(write_timeout, writer.shutdown()).await;
        tokio::select! {
            _ = tokio::time::timeout(Shared::ms(LINK_DRAIN_MS), &mut read) => {}
            () = shared.shutdown_signal() => {}
        }
    }
    reason
}

/// Puts the authenticated link in `slot` under the one-link-per-peer rule (not yet counted
/// as connected: see [`PeerSlot::confirm`]); `Err(TieBreak)` if the existing link wins.
fn install(
    shared: &Shared,
    slot: &PeerSlot,
    peer: Address,
    cert: Option<crate::admission::PeerCert>,
    direction: Direction,
) -> Result<LiveLink, LinkError> {
    let c = &shared.counters;
    Counters::inc(&c.handshakes_ok);
    let id = shared.next_link_id.fetch_add(1, Ordering::Relaxed);
    let close = Arc::new(CloseSignal::default());
    let preferred = if shared.local < peer {
        Direction::Outbound
    } else {
        Direction::Inbound
    };
    let link = Link {
        id,
        direction,
        close: Arc::clone(&close),
        cert,
        confirmed: false,
    };
    let installed = slot.install(link, preferred).inspect_err(|_| {
        Counters::inc(&c.duplicate_links);
        tracing::debug!(%peer, ?direction, "duplicate link closed (tie-break)");
    })?;
    if installed.replaced {
        Counters::inc(&c.duplicate_links);
    }
    if installed.replaced_connected {
        Counters::dec(&c.connected_peers);
    }
    if installed.reconnect {
        Counters::inc(&c.reconnects);
    }
    // A revocation that raced with this handshake (checked against the old set, installed
    // after `set_revoked` swept the links) is caught here: the sweep and this check both
    // read the current set after the link or the set became visible.
    if let Some(pki) = &shared.pki {
        slot.close_if(CloseCause::Revoked, |cert| pki.is_revoked(cert));
    }
    // Likewise for the node list (`NetworkHandle::set_node_policy`).
    if !shared.node_permits(&peer) {
        slot.close_live(CloseCause::Excluded);
    }
    Ok(LiveLink { id, close })
}

/// Removes the ended link from its slot, counts and logs why it ended.
fn link_ended(
    shared: &Shared,
    slot: &PeerSlot,
    peer: Address,
    id: u64,
    reason: LinkError,
) -> LinkError {
    let c = &shared.counters;
    if slot.remove(id, &reason) {
        Counters::dec(&c.connected_peers);
    }
    Counters::inc(&c.disconnects);
    match reason {
        LinkError::FrameTooLarge { .. } => {
            Counters::inc(&c.oversized_frames);
            tracing::warn!(%peer, %reason, "peer sent an oversized frame; link closed");
        }
        LinkError::Revoked => {
            Counters::inc(&c.revoked_disconnects);
            tracing::warn!(%peer, "peer certificate revoked; link closed");
        }
        LinkError::Expired => {
            Counters::inc(&c.expired_disconnects);
            tracing::warn!(%peer, "peer certificate expired; link closed");
        }
        LinkError::Excluded => {
            tracing::warn!(%peer, "peer excluded by the node list; link closed");
        }
        _ => tracing::info!(%peer, %reason, "peer disconnected"),
    }
    reason
}

/// Both sides send [`LINK_READY`] once they installed the link, and send no frame before
/// they received the other's: a link that the peer dropped by the tie-break never takes a
/// frame out of the queue, so the frame goes out on the link that survives.
async fn confirm_link(
    reader: &mut NoiseReader<OwnedReadHalf>,
    writer: &mut NoiseWriter<OwnedWriteHalf>,
) -> Result<(), LinkError> {
    writer.write_message(&[LINK_READY]).await?;
    if reader.read_message(AUTH_MESSAGE_MAX_BYTES).await? != [LINK_READY] {
        return Err(LinkError::MalformedAuth {
            reason: "bad link confirmation",
        });
    }
    Ok(())
}

/// Delivers frames to the node until the link fails. Waiting on a full inbound channel
/// stops reading, which pushes back on the peer (its queue then drops, not ours).
async fn read_loop(
    shared: &Shared,
    peer: Address,
    mut reader: NoiseReader<OwnedReadHalf>,
) -> LinkError {
    let max = shared.config.max_frame_bytes;
    let idle = Shared::ms(shared.config.idle_timeout_ms);
    let c = &shared.counters;
    loop {
        let (channel, payload) = match reader.read_frame(max, idle).await {
            Ok(frame) => frame,
            Err(e) => return e,
        };
        Counters::inc(&c.frames_in);
        Counters::add(&c.bytes_in, payload.len());
        let msg = InboundMessage {
            from: peer,
            channel,
            payload,
        };
        // A dropped receiver means the node stopped listening: discard.
        let _ = shared.inbound.send(msg).await;
    }
}

/// Drains the peer's queue onto the link; sends a keep-alive when idle. Stops between two
/// frames once `close` is signalled, and returns its reason.
async fn write_loop(
    shared: &Shared,
    slot: &PeerSlot,
    writer: &mut NoiseWriter<OwnedWriteHalf>,
    close: &CloseSignal,
) -> LinkError {
    let write_timeout = Shared::ms(shared.config.write_timeout_ms);
    let ping = Shared::ms(shared.config.ping_interval_ms);
    let c = &shared.counters;
    loop {
        while !close.is_closed()
            && let Some(frame) = slot.pop()
        {
            let write = writer.write_frame(frame.channel, &frame.payload);
            match tokio::time::timeout(write_timeout, write).await {
                Ok(Ok(())) => {
                    Counters::inc(&c.frames_out);
                    Counters::add(&c.bytes_out, frame.payload.len());
                }
                Ok(Err(e)) => return e,
                Err(_) => return LinkError::Timeout { what: "write" },
            }
        }
        if close.is_closed() {
            return close.reason();
        }
        let idle = tokio::select! {
            reason = close.closed() => return reason,
            r = tokio::time::timeout(ping, slot.queued.notified()) => r.is_err(),
        };
        if idle {
            match tokio::time::timeout(write_timeout, writer.write_message(&[])).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return e,
                Err(_) => return LinkError::Timeout { what: "write" },
            }
        }
    }
}

/// splitmix64 seeded from the two addresses: reproducible, and different for each pair so
/// that nodes restarting together do not redial in lock-step.
struct Jitter(u64);

impl Jitter {
    fn new(local: Address, peer: Address) -> Jitter {
        let mut seed = 0u64;
        for (i, b) in local.0.iter().chain(peer.0.iter()).enumerate() {
            seed ^= u64::from(*b) << ((i % 8) * 8);
            seed = seed.rotate_left(5);
        }
        Jitter(seed)
    }

    fn next_below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % bound.max(1)
    }
}
