//! Bad peers: unknown identities, signatures over the wrong handshake hash, raw garbage,
//! truncated handshakes, oversized claims. The node rejects, counts and keeps serving.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use std::net::IpAddr;

use keel_crypto::Suite;
use keel_network::{LINK_READY, PeerAddr};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Node 1 and node 2 still talk to each other.
async fn still_serving(nodes: &mut [Node]) {
    let to = nodes[1].address;
    nodes[0]
        .handle
        .send(&to, 3, b"still here".to_vec())
        .unwrap();
    let m = recv(&mut nodes[1].rx).await;
    assert_eq!(
        (m.from, m.payload.as_slice()),
        (nodes[0].address, &b"still here"[..])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_identity_cannot_connect() {
    let suite = Suite::Intl;
    let (mut nodes, peers) = start_mesh(suite, 2, |_| {}).await;
    // A valid key that is not in the allow-set, configured to dial node 1.
    let intruder_socket = free_socket();
    let mut config = test_config(intruder_socket, vec![peers[0]]);
    config.reconnect_backoff_max_ms = 100;
    let intruder = start_node(suite, 66, config).await;
    let node1 = nodes[0].handle.clone();
    wait_until("unknown peer rejected", || {
        node1.metrics().rejected_unknown_peer >= 2
    })
    .await;
    let _ = intruder
        .handle
        .send(&nodes[0].address, 1, b"let me in".to_vec());
    let m = node1.metrics();
    assert!(m.handshakes_failed >= m.rejected_unknown_peer);
    assert!(node1.peers().iter().all(|p| p.address != intruder.address));
    wait_until("mesh intact", || all_connected(&nodes)).await;
    still_serving(&mut nodes).await;
    // Node 2's message is the first node 1 receives: nothing came from the intruder (its
    // handshakes are refused, so no link could carry its queued frame).
    let to = nodes[0].address;
    nodes[1].handle.send(&to, 3, b"from 2".to_vec()).unwrap();
    let m = recv(&mut nodes[0].rx).await;
    assert_eq!(
        m.from, nodes[1].address,
        "nothing delivered from the intruder"
    );
    assert_eq!(node1.metrics().frames_in, 1);
    intruder.handle.shutdown().await;
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_over_wrong_handshake_hash_is_rejected_and_honest_client_accepted() {
    let suite = Suite::Gm;
    // Node 1 also allows seed 9 inbound; the hand-written client plays seed 9.
    let (mut nodes, _) = start_mesh(suite, 2, |c| c.allow_inbound = vec![address(suite, 9)]).await;
    let target = nodes[0].socket;
    let me = identity(suite, 9);

    let mut bad = RawPeer::connect(target, &me, Tamper::WrongHash).await;
    assert!(
        closed_by_peer(&mut bad.stream).await,
        "spliced signature closes the link"
    );
    let node1 = nodes[0].handle.clone();
    wait_until("bad signature counted", || {
        node1.metrics().rejected_bad_signature == 1
    })
    .await;
    assert!(nodes[0].rx.try_recv().is_err());

    // Positive control: the same client signing the right hash gets through and is heard.
    let mut good = RawPeer::connect(target, &me, Tamper::None).await;
    good.ready().await;
    good.send_frame_claim(4, 5, b"hello").await;
    let m = recv(&mut nodes[0].rx).await;
    assert_eq!(
        (m.from, m.channel, m.payload.as_slice()),
        (address(suite, 9), 4, &b"hello"[..])
    );

    // An authenticated peer claiming a frame above max_frame_bytes is cut off before the
    // node allocates it.
    good.send_frame_claim(4, u32::MAX, b"").await;
    assert!(closed_by_peer(&mut good.stream).await);
    wait_until("oversized frame counted", || {
        node1.metrics().oversized_frames == 1
    })
    .await;
    still_serving(&mut nodes).await;
    shutdown_all(nodes).await;
}

/// A link counts as connected (peer table, `connected_peers`) only once both sides confirmed
/// it: the node has installed it and sent its `LINK_READY`, but the peer, which may still
/// drop the link by the tie-break, has not answered yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_counts_as_connected_only_once_both_sides_confirmed_it() {
    let suite = Suite::Intl;
    let (nodes, _) = start_mesh(suite, 1, |c| c.allow_inbound = vec![address(suite, 9)]).await;
    let node = nodes[0].handle.clone();
    let me = address(suite, 9);
    let mut raw = RawPeer::connect(nodes[0].socket, &identity(suite, 9), Tamper::None).await;
    // The node sends its confirmation only after it installed the link.
    assert_eq!(raw.recv_plain().await, [LINK_READY]);
    let p = node.peers().into_iter().find(|p| p.address == me).unwrap();
    assert!(!p.connected, "half-admitted link shown as connected: {p:?}");
    assert_eq!((p.direction, &p.certificate), (None, &None));
    assert_eq!(node.metrics().connected_peers, 0);
    raw.send_plain(&[LINK_READY]).await;
    wait_until("confirmed link connected", || {
        node.peers().iter().any(|p| p.address == me && p.connected)
            && node.metrics().connected_peers == 1
    })
    .await;
    drop(raw);
    wait_until("closed link disconnected", || {
        node.peers().iter().all(|p| !p.connected) && node.metrics().connected_peers == 0
    })
    .await;
    shutdown_all(nodes).await;
}

/// Pre-auth handshake slots: one host holds at most `max_inbound_handshakes_per_ip` of them
/// (its further sockets are closed at once), so other hosts still get in; the global limit
/// still applies across hosts. Silent sockets hold their slot (long handshake timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_host_cannot_take_every_handshake_slot() {
    let suite = Suite::Intl;
    let (nodes, _) = start_mesh(suite, 1, |c| {
        c.allow_inbound = vec![address(suite, 9)];
        c.max_inbound_handshakes = 3;
        c.max_inbound_handshakes_per_ip = 2;
        c.handshake_timeout_ms = 600_000;
    })
    .await;
    let node = nodes[0].handle.clone();
    let target = nodes[0].socket;
    let host = |last: u8| IpAddr::from([127, 0, 0, last]);
    // Accepted in connection order: the first two take host 1's share, the third is refused.
    let held_1a = connect_from(host(1), target).await;
    let held_1b = connect_from(host(1), target).await;
    let mut refused = connect_from(host(1), target).await;
    assert!(
        closed_by_peer(&mut refused).await,
        "third socket of one host"
    );
    wait_until("per-host refusal counted", || {
        node.metrics().rejected_busy == 1
    })
    .await;
    assert!(still_open(&held_1a) && still_open(&held_1b));
    // Another host still completes a handshake and connects (the third, last global slot).
    let mut other = RawPeer::connect_from(host(2), target, &identity(suite, 9))
        .await
        .expect("another host is answered");
    other.ready().await;
    wait_until("other host connected", || {
        node.peers().iter().any(|p| p.connected)
    })
    .await;
    // The global bound holds across hosts: a third host fills it, a fourth is refused.
    let held_3 = connect_from(host(3), target).await;
    let mut refused = connect_from(host(4), target).await;
    assert!(closed_by_peer(&mut refused).await, "global limit");
    wait_until("global refusal counted", || {
        node.metrics().rejected_busy == 2
    })
    .await;
    assert!(still_open(&held_3));
    // A slot given back is free again for its host.
    drop(held_1a);
    wait_until("released slot", || node.metrics().handshakes_failed >= 1).await;
    RawPeer::connect_from(host(1), target, &identity(suite, 9))
        .await
        .expect("host 1 answered again");
    assert_eq!(node.metrics().rejected_busy, 2);
    drop((held_1b, held_3));
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_garbage_truncated_and_oversized_handshakes_are_dropped() {
    let (mut nodes, _) = start_mesh(Suite::Intl, 2, |c| c.handshake_timeout_ms = 1_000).await;
    let target = nodes[0].socket;

    // Garbage: the first two bytes claim a 0x4142-byte handshake message (> the bound).
    let mut garbage = TcpStream::connect(target).await.unwrap();
    garbage
        .write_all(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ garbage")
        .await
        .unwrap();
    // Oversized claim: 65535 bytes announced, nothing sent.
    let mut oversized = TcpStream::connect(target).await.unwrap();
    oversized.write_all(&[0xff, 0xff]).await.unwrap();
    // Truncated: announces a 32-byte first message, sends 10 bytes, then goes silent.
    let mut truncated = TcpStream::connect(target).await.unwrap();
    truncated.write_all(&[0, 32]).await.unwrap();
    truncated.write_all(&[7; 10]).await.unwrap();
    // Well-sized but invalid Noise message (wrong length for `e`).
    let mut bad_noise = TcpStream::connect(target).await.unwrap();
    bad_noise.write_all(&[0, 5, 1, 2, 3, 4, 5]).await.unwrap();
    // Silent: connects and sends nothing.
    let mut silent = TcpStream::connect(target).await.unwrap();

    for (name, s) in [
        ("garbage", &mut garbage),
        ("oversized", &mut oversized),
        ("truncated", &mut truncated),
        ("bad noise", &mut bad_noise),
        ("silent", &mut silent),
    ] {
        assert!(closed_by_peer(s).await, "{name} connection closed");
    }
    let node1 = nodes[0].handle.clone();
    wait_until("failures counted", || {
        node1.metrics().handshakes_failed >= 5
    })
    .await;
    assert_eq!(node1.metrics().frames_in, 0);
    still_serving(&mut nodes).await;
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialing_the_wrong_identity_is_rejected() {
    // Node 1 believes node 2's socket belongs to seed 3: the responder's identity does not
    // match the address dialed.
    let suite = Suite::Intl;
    let socket2 = free_socket();
    let wrong = PeerAddr {
        address: address(suite, 3),
        socket: socket2,
    };
    let node1 = start_node(suite, 1, test_config(free_socket(), vec![wrong])).await;
    let mut c2 = test_config(socket2, vec![]);
    c2.allow_inbound = vec![address(suite, 1)];
    let node2 = start_node(suite, 2, c2).await;
    let h1 = &node1.handle;
    wait_until("wrong identity rejected", || {
        h1.metrics().handshakes_failed >= 1
    })
    .await;
    let status = &h1.peers()[0];
    assert!(!status.connected);
    assert!(
        status
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("dialed"),
        "{status:?}"
    );
    shutdown_all(vec![node1, node2]).await;
}
