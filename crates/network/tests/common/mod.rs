//! Shared test helpers: node start-up on 127.0.0.1, bounded waits, and a hand-written Noise
//! client (an independent implementation of the handshake described in the crate docs).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use keel_crypto::{KeyPair, Suite};
use keel_network::{
    InboundMessage, LINK_READY, NOISE_PARAMS, Network, NetworkConfig, NetworkHandle,
    PROLOGUE_DOMAIN, PeerAddr, ROLE_INITIATOR, auth_signing_message, encode_auth,
    encode_auth_with_certs,
};
use keel_types::Address;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Upper bound for every wait: generous for a loaded CI box (3x slower than a dev machine);
/// healthy runs exit each wait as soon as its condition holds.
pub const WAIT: Duration = Duration::from_secs(90);
/// How often a wait re-checks its condition.
pub const POLL: Duration = Duration::from_millis(50);
pub const NETWORK_ID: &[u8] = b"keel-test";

pub fn free_socket() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

pub fn identity(suite: Suite, seed: u8) -> KeyPair {
    KeyPair::from_seed(suite.signature_scheme(), &[seed; 32])
}

pub fn address(suite: Suite, seed: u8) -> Address {
    let kp = identity(suite, seed);
    Address(keel_crypto::address_of(kp.scheme(), &kp.public_key(), suite.hash()).unwrap())
}

pub fn test_config(listen: SocketAddr, peers: Vec<PeerAddr>) -> NetworkConfig {
    let mut c = NetworkConfig::new(listen, peers);
    c.network_id = NETWORK_ID.to_vec();
    c.reconnect_backoff_min_ms = 20;
    c.reconnect_backoff_max_ms = 500;
    c.handshake_timeout_ms = 3_000;
    c
}

pub struct Node {
    pub handle: NetworkHandle,
    pub rx: mpsc::Receiver<InboundMessage>,
    pub address: Address,
    pub socket: SocketAddr,
    pub seed: u8,
}

pub async fn start_node(suite: Suite, seed: u8, config: NetworkConfig) -> Node {
    let socket = config.listen;
    let (handle, rx) = Network::start(config, identity(suite, seed), suite)
        .await
        .expect("network starts");
    Node {
        handle,
        rx,
        address: address(suite, seed),
        socket,
        seed,
    }
}

/// `n` nodes with seeds `1..=n`, all listing all (themselves included, as from genesis).
pub async fn start_mesh(
    suite: Suite,
    n: u8,
    tweak: impl Fn(&mut NetworkConfig),
) -> (Vec<Node>, Vec<PeerAddr>) {
    let peers: Vec<PeerAddr> = (1..=n)
        .map(|seed| PeerAddr {
            address: address(suite, seed),
            socket: free_socket(),
        })
        .collect();
    let mut nodes = Vec::new();
    for (i, p) in peers.iter().enumerate() {
        let mut config = test_config(p.socket, peers.clone());
        tweak(&mut config);
        nodes.push(start_node(suite, i as u8 + 1, config).await);
    }
    (nodes, peers)
}

pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    wait_for(what, || cond().then_some(())).await
}

/// Polls `probe` until it yields a value (at most `WAIT`); returns that value, so that the
/// caller asserts on the very snapshot that met the condition.
pub async fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

pub fn all_connected(nodes: &[Node]) -> bool {
    nodes
        .iter()
        .all(|n| n.handle.peers().iter().all(|p| p.connected))
}

pub async fn recv(rx: &mut mpsc::Receiver<InboundMessage>) -> InboundMessage {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("message within the time bound")
        .expect("channel open")
}

pub async fn shutdown_all(nodes: Vec<Node>) {
    for n in nodes {
        n.handle.shutdown().await;
    }
}

/// How the hand-written client signs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// Correctly.
    None,
    /// Over a handshake hash with one bit flipped.
    WrongHash,
}

async fn write_prefixed(s: &mut TcpStream, bytes: &[u8]) {
    s.write_all(&(bytes.len() as u16).to_be_bytes())
        .await
        .unwrap();
    s.write_all(bytes).await.unwrap();
}

async fn read_prefixed(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).await?;
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut buf).await?;
    Ok(buf)
}

/// A peer speaking the protocol by hand, to send what a `Network` never would.
pub struct RawPeer {
    pub stream: TcpStream,
    pub noise: snow::TransportState,
}

impl RawPeer {
    /// Noise XX as initiator, then the identity message. Returns once our identity is sent
    /// and the responder's has been read (the responder may still reject ours).
    pub async fn connect(to: SocketAddr, identity: &KeyPair, tamper: Tamper) -> RawPeer {
        Self::connect_with(to, identity, tamper, None)
            .await
            .expect("responder answers")
    }

    /// As `connect`, presenting a certificate chain (auth version 2) when `certs` is given.
    /// `None` if the responder closed the socket instead of sending its identity.
    pub async fn connect_with(
        to: SocketAddr,
        identity: &KeyPair,
        tamper: Tamper,
        certs: Option<&[Vec<u8>]>,
    ) -> Option<RawPeer> {
        let stream = TcpStream::connect(to).await.unwrap();
        Self::handshake(stream, identity, tamper, certs).await
    }

    /// As `connect`, from the local address `from` (e.g. 127.0.0.2: another host to the node).
    pub async fn connect_from(from: IpAddr, to: SocketAddr, identity: &KeyPair) -> Option<RawPeer> {
        Self::handshake(connect_from(from, to).await, identity, Tamper::None, None).await
    }

    async fn handshake(
        mut stream: TcpStream,
        identity: &KeyPair,
        tamper: Tamper,
        certs: Option<&[Vec<u8>]>,
    ) -> Option<RawPeer> {
        let builder = snow::Builder::new(NOISE_PARAMS.parse().unwrap());
        let key = builder.generate_keypair().unwrap();
        let mut prologue = PROLOGUE_DOMAIN.to_vec();
        prologue.extend_from_slice(NETWORK_ID);
        let mut hs = snow::Builder::new(NOISE_PARAMS.parse().unwrap())
            .local_private_key(&key.private)
            .unwrap()
            .prologue(&prologue)
            .unwrap()
            .build_initiator()
            .unwrap();
        let mut buf = vec![0u8; 65_535];
        let n = hs.write_message(&[], &mut buf).unwrap();
        write_prefixed(&mut stream, &buf[..n]).await;
        let msg = read_prefixed(&mut stream).await.unwrap();
        hs.read_message(&msg, &mut buf).unwrap();
        let n = hs.write_message(&[], &mut buf).unwrap();
        write_prefixed(&mut stream, &buf[..n]).await;
        let mut hash = hs.get_handshake_hash().to_vec();
        if tamper == Tamper::WrongHash {
            hash[0] ^= 1;
        }
        let mut noise = hs.into_transport_mode().unwrap();
        let sig = identity.sign(&auth_signing_message(ROLE_INITIATOR, &hash));
        let auth = match certs {
            Some(chain) => {
                encode_auth_with_certs(identity.scheme(), &identity.public_key(), &sig, chain)
            }
            None => encode_auth(identity.scheme(), &identity.public_key(), &sig),
        };
        let n = noise.write_message(&auth, &mut buf).unwrap();
        write_prefixed(&mut stream, &buf[..n]).await;
        let theirs = read_prefixed(&mut stream).await.ok()?;
        noise.read_message(&theirs, &mut buf).unwrap();
        Some(RawPeer { stream, noise })
    }

    /// Link confirmation: sends ours and waits for the node's.
    pub async fn ready(&mut self) {
        self.send_plain(&[LINK_READY]).await;
        assert_eq!(self.recv_plain().await, [LINK_READY]);
    }

    /// Reads one Noise transport message (at most `WAIT`) and returns its plaintext.
    pub async fn recv_plain(&mut self) -> Vec<u8> {
        let msg = tokio::time::timeout(WAIT, read_prefixed(&mut self.stream))
            .await
            .unwrap()
            .unwrap();
        let mut buf = vec![0u8; 65_535];
        let n = self.noise.read_message(&msg, &mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    /// Sends `plaintext` as one Noise transport message.
    pub async fn send_plain(&mut self, plaintext: &[u8]) {
        let mut buf = vec![0u8; 65_535];
        let n = self.noise.write_message(plaintext, &mut buf).unwrap();
        write_prefixed(&mut self.stream, &buf[..n]).await;
    }

    /// Sends a frame header claiming `len` payload bytes, then `payload`.
    pub async fn send_frame_claim(&mut self, channel: u8, len: u32, payload: &[u8]) {
        let mut plain = len.to_be_bytes().to_vec();
        plain.push(channel);
        plain.extend_from_slice(payload);
        self.send_plain(&plain).await;
    }
}

/// A TCP connection to `to` from the local address `from`.
pub async fn connect_from(from: IpAddr, to: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    socket.connect(to).await.unwrap()
}

/// Whether the node still holds `stream` open (nothing to read, no end of file).
pub fn still_open(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 1];
    matches!(stream.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// Reads and discards until the node closes the socket; false if still open after `WAIT`.
pub async fn closed_by_peer(stream: &mut TcpStream) -> bool {
    let mut buf = vec![0u8; 65_536];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(WAIT, read_all).await.is_ok()
}
