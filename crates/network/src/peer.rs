//! One slot per allowed peer: its bounded outbound queue and its link state.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use keel_types::Address;
use tokio::sync::{Notify, watch};

use crate::admission::PeerCert;
use crate::error::LinkError;

/// Which side opened a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// We dialed the peer.
    Outbound,
    /// The peer dialed us.
    Inbound,
}

/// What `NetworkHandle::peers` reports for one peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerStatus {
    /// The peer's identity address.
    pub address: Address,
    /// Where we dial it (`None`: inbound-only, e.g. an observer).
    pub socket: Option<SocketAddr>,
    /// Whether an admitted link is up: authenticated, certificate verified, installed on both
    /// sides (each side's [`crate::LINK_READY`] received). A link the peer may still drop by
    /// the tie-break does not count.
    pub connected: bool,
    /// Direction of the live link.
    pub direction: Option<Direction>,
    /// Why the last link or attempt ended or failed (kept after a reconnect).
    pub last_error: Option<String>,
    /// Milliseconds since the peer entered its current state (connected or not).
    pub since_ms: u64,
    /// Frames waiting in its outbound queue.
    pub queue_len: usize,
    /// Payload bytes waiting in its outbound queue.
    pub queue_bytes: usize,
    /// The live link's verified certificate (certificate admission only).
    pub certificate: Option<PeerCert>,
}

/// A frame waiting to be sent; the payload is shared between the queues of a broadcast.
#[derive(Clone, Debug)]
pub(crate) struct OutFrame {
    pub(crate) channel: u8,
    pub(crate) payload: Bytes,
}

#[derive(Debug, Default)]
struct Queue {
    frames: VecDeque<OutFrame>,
    bytes: usize,
}

/// Why a link was told to close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum CloseCause {
    /// A newer or preferred link to the peer took its place, or the network shuts down.
    Replaced = 0,
    /// A certificate on the peer's chain was revoked.
    Revoked = 1,
    /// A certificate on the peer's chain expired while the link was up.
    Expired = 2,
    /// Governance's node list excludes the peer (issue 14).
    Excluded = 3,
}

/// Tells a link's task to close, and why.
#[derive(Debug, Default)]
pub(crate) struct CloseSignal {
    notify: Notify,
    closed: AtomicBool,
    cause: AtomicU8,
}

impl CloseSignal {
    pub(crate) fn close(&self, cause: CloseCause) {
        // Stored before the notification, read after it. A revocation or expiry is not
        // overwritten by a replacement that follows it before the task reads the cause.
        self.cause.fetch_max(cause as u8, Ordering::AcqRel);
        self.closed.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// Whether `close` was called (without waiting).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Resolves once `close` was called; returns the reason the link ended.
    pub(crate) async fn closed(&self) -> LinkError {
        self.notify.notified().await;
        self.reason()
    }

    /// The reason the link ended, once `close` was called.
    pub(crate) fn reason(&self) -> LinkError {
        match self.cause.load(Ordering::Acquire) {
            c if c == CloseCause::Revoked as u8 => LinkError::Revoked,
            c if c == CloseCause::Expired as u8 => LinkError::Expired,
            c if c == CloseCause::Excluded as u8 => LinkError::Excluded,
            _ => LinkError::Replaced,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) id: u64,
    pub(crate) direction: Direction,
    pub(crate) close: Arc<CloseSignal>,
    pub(crate) cert: Option<PeerCert>,
    /// Both sides confirmed the link (`PeerSlot::confirm`): only then is the peer connected.
    pub(crate) confirmed: bool,
}

#[derive(Debug)]
pub(crate) struct LinkState {
    pub(crate) link: Option<Link>,
    /// The certificate of the most recently installed link, kept after it ends.
    last_cert: Option<PeerCert>,
    last_error: Option<String>,
    since: Instant,
    ever_connected: bool,
}

/// Result of installing an authenticated link.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Installed {
    /// The peer had been connected before (a reconnect).
    pub(crate) reconnect: bool,
    /// An existing link was replaced (it has been told to close).
    pub(crate) replaced: bool,
    /// The replaced link was confirmed: the peer is no longer connected until the new link is.
    pub(crate) replaced_connected: bool,
}

#[derive(Debug)]
pub(crate) struct PeerSlot {
    pub(crate) address: Address,
    pub(crate) socket: Option<SocketAddr>,
    queue: Mutex<Queue>,
    /// Signalled when a frame is queued or a link is installed.
    pub(crate) queued: Notify,
    state: watch::Sender<LinkState>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data stays consistent at every await-free step, so a poisoned lock (a panic
    // elsewhere) does not make it unusable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PeerSlot {
    pub(crate) fn new(address: Address, socket: Option<SocketAddr>) -> PeerSlot {
        let (state, _) = watch::channel(LinkState {
            link: None,
            last_cert: None,
            last_error: None,
            since: Instant::now(),
            ever_connected: false,
        });
        PeerSlot {
            address,
            socket,
            queue: Mutex::new(Queue::default()),
            queued: Notify::new(),
            state,
        }
    }

    /// Queues `frame` unless that would exceed `depth_frames` or `max_bytes` (drop-newest:
    /// the frame is refused and the queue length returned).
    pub(crate) fn push(
        &self,
        frame: OutFrame,
        depth_frames: usize,
        max_bytes: usize,
    ) -> Result<(), usize> {
        let mut q = lock(&self.queue);
        let len = frame.payload.len();
        if q.frames.len() >= depth_frames || q.bytes.saturating_add(len) > max_bytes {
            return Err(q.frames.len());
        }
        q.bytes += len;
        q.frames.push_back(frame);
        drop(q);
        self.queued.notify_one();
        Ok(())
    }

    pub(crate) fn pop(&self) -> Option<OutFrame> {
        let mut q = lock(&self.queue);
        let frame = q.frames.pop_front()?;
        q.bytes -= frame.payload.len();
        Some(frame)
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<LinkState> {
        self.state.subscribe()
    }

    /// Whether a confirmed link is up.
    pub(crate) fn is_connected(&self) -> bool {
        self.state
            .borrow()
            .link
            .as_ref()
            .is_some_and(|l| l.confirmed)
    }

    /// Installs a new authenticated link under the one-link-per-peer rule: the link in the
    /// `preferred` direction (opened by the lower address) wins; between two links of the same
    /// standing the newer wins (a restarted peer replaces its stale link). The peer counts as
    /// connected only once [`PeerSlot::confirm`] is called for the link.
    pub(crate) fn install(&self, link: Link, preferred: Direction) -> Result<Installed, LinkError> {
        let mut result = Err(LinkError::TieBreak);
        self.state.send_if_modified(|s| {
            let (replaced, replaced_connected) = match &s.link {
                Some(cur) if cur.direction == preferred && link.direction != preferred => {
                    return false;
                }
                Some(cur) => {
                    cur.close.close(CloseCause::Replaced);
                    (true, cur.confirmed)
                }
                None => (false, false),
            };
            result = Ok(Installed {
                reconnect: s.ever_connected && !replaced,
                replaced,
                replaced_connected,
            });
            if replaced_connected {
                s.since = Instant::now();
            }
            s.ever_connected = true;
            if link.cert.is_some() {
                s.last_cert.clone_from(&link.cert);
            }
            s.link = Some(link);
            true
        });
        if result.is_ok() {
            self.queued.notify_one();
        }
        result
    }

    /// Marks link `id` confirmed by both sides if it is still the live one; returns whether
    /// the peer thereby became connected.
    pub(crate) fn confirm(&self, id: u64) -> bool {
        self.state.send_if_modified(|s| match &mut s.link {
            Some(l) if l.id == id && !l.confirmed => {
                l.confirmed = true;
                s.since = Instant::now();
                true
            }
            _ => false,
        })
    }

    /// Removes link `id` if it is still the live one; returns whether the peer thereby
    /// stopped being connected (the link was confirmed).
    pub(crate) fn remove(&self, id: u64, reason: &LinkError) -> bool {
        let mut was_connected = false;
        self.state.send_if_modified(|s| {
            if s.link.as_ref().is_some_and(|l| l.id == id) {
                was_connected = s.link.as_ref().is_some_and(|l| l.confirmed);
                s.link = None;
                s.last_error = Some(reason.to_string());
                if was_connected {
                    s.since = Instant::now();
                }
                true
            } else {
                false
            }
        });
        was_connected
    }

    /// The verified certificate of the most recently installed link (kept after it ended).
    pub(crate) fn last_cert(&self) -> Option<PeerCert> {
        self.state.borrow().last_cert.clone()
    }

    /// Records a failed attempt without touching the link.
    pub(crate) fn note_error(&self, reason: &LinkError) {
        self.state
            .send_modify(|s| s.last_error = Some(reason.to_string()));
    }

    /// Tells the live link, if any, to close.
    pub(crate) fn close_link(&self) {
        if let Some(link) = &self.state.borrow().link {
            link.close.close(CloseCause::Replaced);
        }
    }

    /// Closes the live link (confirmed or not), if any, for `cause`; returns whether there was
    /// one.
    pub(crate) fn close_live(&self, cause: CloseCause) -> bool {
        let state = self.state.borrow();
        let Some(link) = &state.link else {
            return false;
        };
        link.close.close(cause);
        true
    }

    /// Closes the live link (confirmed or not) for `cause` if `refused` says its certificate
    /// is no longer acceptable; returns whether it did.
    pub(crate) fn close_if(&self, cause: CloseCause, refused: impl Fn(&PeerCert) -> bool) -> bool {
        let state = self.state.borrow();
        let Some(link) = &state.link else {
            return false;
        };
        if !link.cert.as_ref().is_some_and(refused) {
            return false;
        }
        link.close.close(cause);
        true
    }

    pub(crate) fn status(&self) -> PeerStatus {
        let (queue_len, queue_bytes) = {
            let q = lock(&self.queue);
            (q.frames.len(), q.bytes)
        };
        let s = self.state.borrow();
        // A link not yet confirmed by both sides is not shown: the peer may still drop it.
        let link = s.link.as_ref().filter(|l| l.confirmed);
        PeerStatus {
            address: self.address,
            socket: self.socket,
            connected: link.is_some(),
            direction: link.map(|l| l.direction),
            last_error: s.last_error.clone(),
            since_ms: u64::try_from(s.since.elapsed().as_millis()).unwrap_or(u64::MAX),
            queue_len,
            queue_bytes,
            certificate: link.and_then(|l| l.cert.clone()),
        }
    }
}
