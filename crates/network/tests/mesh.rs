//! Full mesh of 4 nodes, unicast and broadcast, on both suites; large frames.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;

use common::*;
use keel_crypto::Suite;
use keel_network::{Direction, SendError};

async fn mesh_exchange(suite: Suite) {
    let (mut nodes, _) = start_mesh(suite, 4, |_| {}).await;
    wait_until("full mesh", || all_connected(&nodes)).await;

    // Exactly one live link per pair: one side outbound, the other inbound.
    wait_until("one link per pair", || {
        nodes.iter().all(|a| {
            a.handle.peers().iter().all(|p| {
                let b = nodes.iter().find(|n| n.address == p.address).unwrap();
                let back = b
                    .handle
                    .peers()
                    .into_iter()
                    .find(|q| q.address == a.address)
                    .unwrap();
                matches!(
                    (p.direction, back.direction),
                    (Some(Direction::Outbound), Some(Direction::Inbound))
                        | (Some(Direction::Inbound), Some(Direction::Outbound))
                )
            })
        })
    })
    .await;

    for a in &nodes {
        for b in &nodes {
            if a.address != b.address {
                a.handle.send(&b.address, 1, vec![a.seed, b.seed]).unwrap();
            }
        }
        let out = a.handle.broadcast(2, vec![a.seed, 0xff]).unwrap();
        assert_eq!(out.queued, 3);
        assert!(out.dropped.is_empty());
    }

    let seeds: Vec<(u8, keel_types::Address)> = nodes.iter().map(|n| (n.seed, n.address)).collect();
    for node in &mut nodes {
        let mut got = HashSet::new();
        for _ in 0..6 {
            let m = recv(&mut node.rx).await;
            let (from_seed, _) = seeds.iter().find(|(_, a)| *a == m.from).unwrap();
            assert_eq!(m.payload[0], *from_seed, "`from` matches the sender");
            match m.channel {
                1 => assert_eq!(m.payload[1], node.seed),
                2 => assert_eq!(m.payload[1], 0xff),
                c => panic!("unexpected channel {c}"),
            }
            assert!(got.insert((m.channel, m.payload.clone())), "no duplicates");
        }
        assert!(node.rx.try_recv().is_err(), "nothing more");
        let h = node.handle.clone();
        // (A link replaced by the tie-break is briefly not counted: wait, do not sample.)
        wait_until("3 peers counted", || h.metrics().connected_peers == 3).await;
        let m = h.metrics();
        assert_eq!(m.frames_in, 6);
        assert_eq!(m.handshakes_failed, 0);
    }
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intl_ed25519_full_mesh_unicast_and_broadcast() {
    mesh_exchange(Suite::Intl).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gm_sm2_full_mesh_unicast_and_broadcast() {
    mesh_exchange(Suite::Gm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_frame_round_trips_and_oversized_send_is_refused() {
    const MAX: usize = 2 * 1024 * 1024;
    let (mut nodes, _) = start_mesh(Suite::Intl, 2, |c| c.max_frame_bytes = MAX).await;
    let payload: Vec<u8> = (0..1024 * 1024u32).map(|i| (i * 31 % 251) as u8).collect();
    let to = nodes[1].address;
    nodes[0].handle.send(&to, 7, payload.clone()).unwrap();
    // Exactly at the limit is allowed.
    let at_limit = vec![0xa5; MAX];
    nodes[0].handle.send(&to, 8, at_limit.clone()).unwrap();
    let m = recv(&mut nodes[1].rx).await;
    assert_eq!((m.from, m.channel), (nodes[0].address, 7));
    assert!(m.payload == payload, "1 MiB payload intact");
    let m = recv(&mut nodes[1].rx).await;
    assert_eq!(m.channel, 8);
    assert!(m.payload == at_limit);

    let err = nodes[0].handle.send(&to, 7, vec![0; MAX + 1]).unwrap_err();
    assert_eq!(
        err,
        SendError::FrameTooLarge {
            bytes: MAX + 1,
            max_bytes: MAX
        }
    );
    assert!(nodes[0].handle.broadcast(7, vec![0; MAX + 1]).is_err());
    let unknown = address(Suite::Intl, 200);
    assert_eq!(
        nodes[0].handle.send(&unknown, 1, vec![1]).unwrap_err(),
        SendError::UnknownPeer { address: unknown }
    );
    // Empty payloads are frames too.
    nodes[1]
        .handle
        .send(&nodes[0].address, 9, Vec::new())
        .unwrap();
    let m = recv(&mut nodes[0].rx).await;
    assert_eq!((m.channel, m.payload.len()), (9, 0));
    shutdown_all(nodes).await;
}
