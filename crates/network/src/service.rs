//! `Network::start` and the `NetworkHandle` API.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use bytes::Bytes;
use keel_crypto::{KeyPair, Suite};
use keel_types::{Address, Hash, OpPolicy};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::admission::PkiState;
use crate::config::{CERT_EXPIRY_SWEEP_MS, NetworkConfig, PeerAddr, SHUTDOWN_TIMEOUT_MS};
use crate::error::{NetworkError, SendError};
use crate::handshake::{NOISE_PARAMS, PROLOGUE_DOMAIN};
use crate::metrics::{Counters, NetworkMetrics};
use crate::peer::{CloseCause, OutFrame, PeerSlot, PeerStatus};
use crate::slots::HandshakeSlots;
use crate::table::PeerTable;

/// A message received from an authenticated peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundMessage {
    /// The peer's identity address (authenticated by the handshake).
    pub from: Address,
    /// The channel tag chosen by the sender.
    pub channel: u8,
    /// The opaque payload.
    pub payload: Vec<u8>,
}

/// The outcome of a broadcast.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Broadcast {
    /// Peers whose queue took the frame.
    pub queued: usize,
    /// Peers whose queue was full (frame dropped and counted).
    pub dropped: Vec<Address>,
}

/// Entry point; see the crate docs.
#[derive(Debug)]
pub struct Network;

/// State shared by the handle and every task.
pub(crate) struct Shared {
    pub(crate) local: Address,
    pub(crate) identity: KeyPair,
    pub(crate) suite: Suite,
    pub(crate) config: NetworkConfig,
    pub(crate) noise_private: Vec<u8>,
    pub(crate) prologue: Vec<u8>,
    pub(crate) pki: Option<PkiState>,
    pub(crate) peers: PeerTable,
    /// Governance's node list (issue 14), checked at every handshake.
    pub(crate) node_policy: RwLock<OpPolicy>,
    pub(crate) counters: Counters,
    pub(crate) inbound: mpsc::Sender<InboundMessage>,
    pub(crate) handshake_slots: HandshakeSlots,
    pub(crate) next_link_id: AtomicU64,
    shutdown: watch::Sender<bool>,
    tasks: Mutex<JoinSet<()>>,
}

impl Shared {
    /// Spawns a tracked task (refused once shut down). Reaps finished tasks first so the set
    /// stays as small as the number of live tasks.
    pub(crate) fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        while tasks.try_join_next().is_some() {}
        if !*self.shutdown.borrow() {
            tasks.spawn(fut);
        }
    }

    /// Whether governance's node list admits `peer`.
    pub(crate) fn node_permits(&self, peer: &Address) -> bool {
        self.node_policy
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .permits(peer)
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Resolves once shutdown was requested.
    pub(crate) async fn shutdown_signal(&self) {
        let mut rx = self.shutdown.subscribe();
        // Err only if the sender is gone, which cannot happen while `self` lives.
        let _ = rx.wait_for(|stop| *stop).await;
    }

    pub(crate) fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }
}

impl Network {
    /// Binds the listener, starts the accept loop and one dialer per configured peer, and
    /// returns the handle and the single inbound message channel.
    pub async fn start(
        config: NetworkConfig,
        identity: KeyPair,
        suite: Suite,
    ) -> Result<(NetworkHandle, mpsc::Receiver<InboundMessage>), NetworkError> {
        config.validate()?;
        let local =
            keel_crypto::address_of(identity.scheme(), &identity.public_key(), suite.hash())
                .map(Address)
                .map_err(|e| NetworkError::InvalidIdentity {
                    reason: e.to_string(),
                })?;
        let peers = peer_slots(&config, local)?;
        let pki = match &config.pki {
            Some(p) => {
                let validators = config.peers.iter().map(|p| p.address).collect();
                Some(PkiState::new(
                    p,
                    validators,
                    identity.scheme(),
                    &identity.public_key(),
                )?)
            }
            None => None,
        };

        let params = NOISE_PARAMS
            .parse()
            .map_err(|e: snow::Error| NetworkError::Noise {
                reason: e.to_string(),
            })?;
        // One X25519 static key per process: identity comes from the signature, not from it.
        let noise_key =
            snow::Builder::new(params)
                .generate_keypair()
                .map_err(|e| NetworkError::Noise {
                    reason: e.to_string(),
                })?;
        let mut prologue = PROLOGUE_DOMAIN.to_vec();
        prologue.extend_from_slice(&config.network_id);

        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| NetworkError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| NetworkError::Bind {
            addr: config.listen,
            source,
        })?;

        let (inbound, rx) = mpsc::channel(config.inbound_channel_messages);
        let shared = Arc::new(Shared {
            local,
            identity,
            suite,
            handshake_slots: HandshakeSlots::new(
                config.max_inbound_handshakes,
                config.max_inbound_handshakes_per_ip,
            ),
            config,
            noise_private: noise_key.private,
            prologue,
            pki,
            peers: PeerTable::new(peers),
            node_policy: RwLock::new(OpPolicy::Open),
            counters: Counters::default(),
            inbound,
            next_link_id: AtomicU64::new(1),
            shutdown: watch::channel(false).0,
            tasks: Mutex::new(JoinSet::new()),
        });
        shared.spawn(crate::link::accept_loop(Arc::clone(&shared), listener));
        if shared.pki.is_some() {
            shared.spawn(expiry_sweep_loop(Arc::clone(&shared)));
        }
        for slot in shared
            .peers
            .all()
            .into_iter()
            .filter(|s| s.socket.is_some())
        {
            shared.spawn(crate::link::dial_loop(Arc::clone(&shared), slot));
        }
        tracing::info!(%local, %local_addr, peers = shared.peers.len(), "network started");
        let handle = NetworkHandle {
            inner: Arc::new(HandleInner { shared, local_addr }),
        };
        Ok((handle, rx))
    }
}

/// Closes the live links whose chain is revoked (by the CRL or on chain); how many.
fn close_revoked(shared: &Shared, pki: &PkiState) -> usize {
    let closed = shared
        .peers
        .all()
        .into_iter()
        .filter(|slot| slot.close_if(CloseCause::Revoked, |cert| pki.is_revoked(cert)))
        .count();
    if closed > 0 {
        tracing::warn!(closed, "links closed after a certificate revocation");
    }
    closed
}

fn sweep_expired(shared: &Shared, now_secs: u64) -> usize {
    if shared.pki.is_none() {
        return 0;
    }
    let closed = shared
        .peers
        .all()
        .into_iter()
        .filter(|slot| slot.close_if(CloseCause::Expired, |cert| cert.not_after < now_secs))
        .count();
    if closed > 0 {
        tracing::warn!(closed, "links closed: peer certificate expired");
    }
    closed
}

/// Certificates are checked at the handshake; this closes links that outlive theirs.
async fn expiry_sweep_loop(shared: Arc<Shared>) {
    loop {
        tokio::select! {
            () = shared.shutdown_signal() => return,
            () = tokio::time::sleep(Shared::ms(CERT_EXPIRY_SWEEP_MS)) => {}
        }
        sweep_expired(&shared, crate::admission::now_secs());
    }
}

/// One slot per configured or allowed peer, the node itself excluded.
fn peer_slots(
    config: &NetworkConfig,
    local: Address,
) -> Result<HashMap<Address, Arc<PeerSlot>>, NetworkError> {
    let mut peers: HashMap<Address, Arc<PeerSlot>> = HashMap::new();
    for p in config.peers.iter().filter(|p| p.address != local) {
        if let Some(existing) = peers.get(&p.address)
            && existing.socket != Some(p.socket)
        {
            return Err(NetworkError::DuplicatePeer { address: p.address });
        }
        peers.insert(
            p.address,
            Arc::new(PeerSlot::new(p.address, Some(p.socket))),
        );
    }
    for a in config.allow_inbound.iter().filter(|a| **a != local) {
        peers
            .entry(*a)
            .or_insert_with(|| Arc::new(PeerSlot::new(*a, None)));
    }
    Ok(peers)
}

struct HandleInner {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
}

impl Drop for HandleInner {
    fn drop(&mut self) {
        // The last handle gone without `shutdown`: stop the tasks anyway (not awaited).
        self.shared.shutdown.send_replace(true);
    }
}

/// Cheap to clone; `Send + Sync`. All methods except `shutdown` are non-blocking.
#[derive(Clone)]
pub struct NetworkHandle {
    inner: Arc<HandleInner>,
}

impl std::fmt::Debug for NetworkHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkHandle")
            .field("local", &self.inner.shared.local)
            .field("local_addr", &self.inner.local_addr)
            .finish_non_exhaustive()
    }
}

impl NetworkHandle {
    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// The node's own identity address.
    pub fn local_address(&self) -> Address {
        self.shared().local
    }

    /// The bound listening socket (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    fn check_frame(&self, payload_len: usize) -> Result<(), SendError> {
        let shared = self.shared();
        if shared.is_shut_down() {
            return Err(SendError::ShutDown);
        }
        if payload_len > shared.config.max_frame_bytes {
            return Err(SendError::FrameTooLarge {
                bytes: payload_len,
                max_bytes: shared.config.max_frame_bytes,
            });
        }
        Ok(())
    }

    fn enqueue(&self, slot: &PeerSlot, frame: OutFrame) -> Result<(), SendError> {
        let shared = self.shared();
        let config = &shared.config;
        slot.push(frame, config.queue_depth_frames, config.queue_max_bytes)
            .map_err(|queue_len| {
                Counters::inc(&shared.counters.dropped_frames);
                SendError::QueueFull {
                    address: slot.address,
                    queue_len,
                }
            })
    }

    /// Queues `payload` for `to` (also while it is disconnected: the queue is per peer and is
    /// sent on the next link). Never waits. On `QueueFull` the frame is dropped and counted.
    pub fn send(&self, to: &Address, channel: u8, payload: Vec<u8>) -> Result<(), SendError> {
        self.check_frame(payload.len())?;
        let slot = self
            .shared()
            .peers
            .get(to)
            .ok_or(SendError::UnknownPeer { address: *to })?;
        let frame = OutFrame {
            channel,
            payload: Bytes::from(payload),
        };
        self.enqueue(&slot, frame)
    }

    /// Queues `payload` (shared, not copied) for every peer that is connected or that we dial.
    /// Inbound-only peers that are not connected are skipped. Full queues drop and count.
    pub fn broadcast(&self, channel: u8, payload: Vec<u8>) -> Result<Broadcast, SendError> {
        self.check_frame(payload.len())?;
        let payload = Bytes::from(payload);
        let mut out = Broadcast::default();
        for slot in self.shared().peers.all() {
            if slot.socket.is_none() && !slot.is_connected() {
                continue;
            }
            let frame = OutFrame {
                channel,
                payload: payload.clone(),
            };
            match self.enqueue(&slot, frame) {
                Ok(()) => out.queued += 1,
                Err(_) => out.dropped.push(slot.address),
            }
        }
        Ok(out)
    }

    /// Every known peer, sorted by address.
    pub fn peers(&self) -> Vec<PeerStatus> {
        let mut all: Vec<PeerStatus> = self
            .shared()
            .peers
            .all()
            .iter()
            .map(|s| s.status())
            .collect();
        all.sort_by_key(|s| s.address);
        all
    }

    /// Replaces the set of revoked certificate serials (e.g. after a new CRL or an on-chain
    /// revocation) and closes every live link whose verified chain holds a revoked serial;
    /// returns how many were closed. Later handshakes check the new set, so the dropped
    /// peers cannot reconnect. A no-op returning 0 without certificate admission.
    pub fn set_revoked(&self, revoked: keel_pki::RevokedSet) -> usize {
        let shared = self.shared();
        let Some(pki) = &shared.pki else {
            return 0;
        };
        pki.set_revoked(revoked);
        close_revoked(shared, pki)
    }

    /// Replaces the certificate fingerprints revoked on chain by governance (issue 14; merged
    /// with the CRL's serials: a certificate is refused if either source revokes it) and
    /// closes every live link whose chain holds one; returns how many were closed. A no-op
    /// returning 0 without certificate admission.
    pub fn set_revoked_fingerprints(&self, revoked: BTreeSet<Hash>) -> usize {
        let shared = self.shared();
        let Some(pki) = &shared.pki else {
            return 0;
        };
        pki.set_revoked_fingerprints(revoked);
        close_revoked(shared, pki)
    }

    /// Replaces governance's node list (issue 14): a peer it excludes (deny list, or absent from
    /// an allow list) is refused at the handshake even with a valid certificate, and its live
    /// link closes now (a handshake racing with this is caught when its link is installed).
    /// Returns how many links were closed.
    pub fn set_node_policy(&self, policy: OpPolicy) -> usize {
        let shared = self.shared();
        *shared
            .node_policy
            .write()
            .unwrap_or_else(PoisonError::into_inner) = policy;
        let closed = shared
            .peers
            .all()
            .into_iter()
            .filter(|slot| !shared.node_permits(&slot.address))
            .filter(|slot| slot.close_live(CloseCause::Excluded))
            .count();
        if closed > 0 {
            tracing::warn!(closed, "links closed by the node list");
        }
        closed
    }

    /// Peers governance's node list excludes, sorted: the node ignores what others relay for
    /// them, as for revoked peers.
    pub fn excluded_peers(&self) -> Vec<Address> {
        let shared = self.shared();
        let mut out: Vec<Address> = shared
            .peers
            .all()
            .iter()
            .map(|s| s.address)
            .filter(|a| !shared.node_permits(a))
            .collect();
        out.sort();
        out
    }

    /// Admits peers while the network runs (issue 14: governance added a validator or an
    /// observer): each new `dial` peer gets a slot and a dialer (and, with certificates, must
    /// present the validator role), each new `inbound` address may link in. Peers already
    /// known are left as they are. Returns how many were added.
    pub fn admit_peers(&self, dial: &[PeerAddr], inbound: &[Address]) -> usize {
        let shared = &self.inner.shared;
        if shared.is_shut_down() {
            return 0;
        }
        let mut added = 0;
        for p in dial.iter().filter(|p| p.address != shared.local) {
            let slot = Arc::new(PeerSlot::new(p.address, Some(p.socket)));
            if shared.peers.insert_new(Arc::clone(&slot)) {
                if let Some(pki) = &shared.pki {
                    pki.add_validator(p.address);
                }
                shared.spawn(crate::link::dial_loop(Arc::clone(shared), slot));
                added += 1;
            }
        }
        for a in inbound.iter().filter(|a| **a != shared.local) {
            if shared.peers.insert_new(Arc::new(PeerSlot::new(*a, None))) {
                added += 1;
            }
        }
        if added > 0 {
            tracing::info!(
                added,
                peers = shared.peers.len(),
                "peers admitted while running"
            );
        }
        added
    }

    /// Closes every live link whose verified chain expired before `now_secs` (Unix seconds;
    /// counted in `expired_disconnects`) and returns how many. The network runs this itself
    /// every [`CERT_EXPIRY_SWEEP_MS`] with the wall clock; the clock is a parameter so that
    /// a test can move it. Reconnects are refused by the handshake's own expiry check. A
    /// no-op returning 0 without certificate admission.
    pub fn sweep_expired(&self, now_secs: u64) -> usize {
        sweep_expired(self.shared(), now_secs)
    }

    /// The revoked serials in force (`None` without certificate admission).
    pub fn revoked_serials(&self) -> Option<keel_pki::RevokedSet> {
        self.shared().pki.as_ref().map(PkiState::revoked_set)
    }

    /// Peers whose most recently admitted certificate chain holds a revoked serial or
    /// fingerprint, sorted
    /// (empty without certificate admission). Their links are closed and their handshakes
    /// refused; the node can also ignore what others relay on their behalf (e.g. votes). A
    /// peer this node never admitted since it started is not known here.
    pub fn revoked_peers(&self) -> Vec<Address> {
        let shared = self.shared();
        let Some(pki) = &shared.pki else {
            return Vec::new();
        };
        let mut out: Vec<Address> = shared
            .peers
            .all()
            .into_iter()
            .filter(|slot| slot.last_cert().is_some_and(|c| pki.is_revoked(&c)))
            .map(|slot| slot.address)
            .collect();
        out.sort();
        out
    }

    /// Whether certificate admission is on.
    pub fn requires_certificates(&self) -> bool {
        self.shared().pki.is_some()
    }

    /// A snapshot of the counters.
    pub fn metrics(&self) -> NetworkMetrics {
        self.shared().counters.snapshot()
    }

    /// Stops accepting and dialing, closes every link and waits (at most
    /// `SHUTDOWN_TIMEOUT_MS`, then aborts) for all tasks. Other clones of the handle then
    /// return `SendError::ShutDown`.
    pub async fn shutdown(self) {
        let shared = &self.inner.shared;
        shared.shutdown.send_replace(true);
        for slot in shared.peers.all() {
            slot.close_link();
        }
        let mut tasks =
            std::mem::take(&mut *shared.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        let deadline = tokio::time::Instant::now() + Shared::ms(SHUTDOWN_TIMEOUT_MS);
        loop {
            match tokio::time::timeout_at(deadline, tasks.join_next()).await {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!(left = tasks.len(), "network tasks did not stop in time");
                    tasks.shutdown().await;
                    break;
                }
            }
        }
        tracing::info!(local = %shared.local, "network shut down");
    }
}
