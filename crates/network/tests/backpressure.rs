//! A dead peer and a peer that stops reading do not block broadcasts to the others: their
//! queues fill, drop and count.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use keel_crypto::Suite;
use keel_network::{PeerAddr, SendError};

const DEPTH: usize = 8;
const FRAMES: usize = 120;
const FRAME_BYTES: usize = 256 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_and_stalled_peers_do_not_block_the_others() {
    let suite = Suite::Intl;
    let dead = PeerAddr {
        address: address(suite, 50),
        // Nobody listens here.
        socket: free_socket(),
    };
    let stalled = address(suite, 51);
    let (mut nodes, _) = start_mesh(suite, 2, |c| {
        c.queue_depth_frames = DEPTH;
        c.max_frame_bytes = 1024 * 1024;
        c.allow_inbound = vec![stalled];
        if c.peers.len() == 2 {
            c.peers.push(dead);
        }
    })
    .await;
    wait_until("1 and 2 connected", || {
        nodes[0].handle.peers().iter().any(|p| p.connected)
    })
    .await;

    // The stalled peer authenticates, then never reads again.
    let mut stall = RawPeer::connect(nodes[0].socket, &identity(suite, 51), Tamper::None).await;
    stall.ready().await;
    let h1 = nodes[0].handle.clone();
    wait_until("stalled peer connected", || {
        h1.peers()
            .iter()
            .any(|p| p.address == stalled && p.connected)
    })
    .await;

    let to = nodes[1].address;
    let mut stalled_dropped = false;
    for i in 0..FRAMES {
        let mut payload = vec![i as u8; FRAME_BYTES];
        payload[0] = (i >> 8) as u8;
        let out = h1.broadcast(1, payload).unwrap();
        assert!(
            !out.dropped.contains(&to),
            "live peer never drops (frame {i})"
        );
        stalled_dropped |= out.dropped.contains(&stalled);
        // Node 2 gets every frame, in order, while the other two are stuck.
        let m = recv(&mut nodes[1].rx).await;
        assert_eq!(
            (m.from, m.payload.len(), m.payload[1]),
            (nodes[0].address, FRAME_BYTES, i as u8)
        );
    }
    assert!(stalled_dropped, "the stalled peer's queue filled up");
    let m = h1.metrics();
    assert!(m.dropped_frames >= (FRAMES - DEPTH) as u64, "{m:?}");
    // (The failed dial is recorded by the dialer task: wait for it, do not sample.)
    let dead_status = wait_for("dead peer's dial failure recorded", || {
        h1.peers()
            .into_iter()
            .find(|p| p.address == dead.address && p.last_error.is_some())
    })
    .await;
    assert!(!dead_status.connected);
    assert_eq!(dead_status.queue_len, DEPTH);
    let err = h1.send(&dead.address, 1, vec![1]).unwrap_err();
    assert!(matches!(
        err,
        SendError::QueueFull {
            queue_len: DEPTH,
            ..
        }
    ));
    drop(stall);
    shutdown_all(nodes).await;
}

/// A link replaced by a newer one to the same peer loses no frame in flight: frames the peer
/// had written on the old link, still unread because the node's inbound channel was full,
/// are delivered once the peer half-closes the old link (as a node does when it replaces a
/// link too), in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_link_delivers_the_frames_in_flight() {
    let suite = Suite::Intl;
    let me = address(suite, 9);
    let (mut nodes, _) = start_mesh(suite, 1, |c| {
        c.allow_inbound = vec![me];
        c.inbound_channel_messages = 1;
    })
    .await;
    let node = nodes[0].handle.clone();
    let mut old = RawPeer::connect(nodes[0].socket, &identity(suite, 9), Tamper::None).await;
    old.ready().await;
    for i in 0..5u8 {
        old.send_frame_claim(4, 1, &[i]).await;
    }
    // Frame 0 fills the channel, frame 1 waits to enter it, frames 2..5 wait in the socket.
    wait_until("two frames read", || node.metrics().frames_in == 2).await;
    let mut new = RawPeer::connect(nodes[0].socket, &identity(suite, 9), Tamper::None).await;
    new.ready().await;
    wait_until("old link replaced", || node.metrics().duplicate_links == 1).await;
    tokio::io::AsyncWriteExt::shutdown(&mut old.stream)
        .await
        .unwrap();
    for i in 0..5u8 {
        let m = recv(&mut nodes[0].rx).await;
        assert_eq!((m.from, m.channel, m.payload), (me, 4, vec![i]));
    }
    assert_eq!(node.metrics().frames_in, 5);
    drop((old, new));
    shutdown_all(nodes).await;
}
