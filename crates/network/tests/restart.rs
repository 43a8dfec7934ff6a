//! A node stops and comes back on the same port with a new Noise key and the same identity:
//! the others reconnect and traffic resumes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;

use common::*;
use keel_crypto::Suite;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_peer_is_reconnected_and_traffic_resumes() {
    let suite = Suite::Intl;
    let (mut nodes, peers) = start_mesh(suite, 3, |_| {}).await;
    wait_until("full mesh", || all_connected(&nodes)).await;

    // Stop node 3 (seed 3): the others see it go.
    let stopped = nodes.pop().unwrap();
    let (seed, socket) = (stopped.seed, stopped.socket);
    stopped.handle.shutdown().await;
    let gone = stopped.address;
    wait_until("peers notice the stop", || {
        nodes.iter().all(|n| {
            n.handle
                .peers()
                .iter()
                .any(|p| p.address == gone && !p.connected)
        })
    })
    .await;
    // Sent while it is down: queued for the next link.
    nodes[0]
        .handle
        .send(&gone, 5, b"queued while down".to_vec())
        .unwrap();

    let restart = Instant::now();
    let config = test_config(socket, peers.clone());
    nodes.push(start_node(suite, seed, config).await);
    wait_until("mesh after restart", || all_connected(&nodes)).await;
    println!("reconnected in {:?}", restart.elapsed());

    let back = nodes[2].address;
    let m = recv(&mut nodes[2].rx).await;
    assert_eq!(
        (m.from, m.payload.as_slice()),
        (nodes[0].address, &b"queued while down"[..])
    );
    nodes[1]
        .handle
        .send(&back, 6, b"welcome back".to_vec())
        .unwrap();
    let m = recv(&mut nodes[2].rx).await;
    assert_eq!(
        (m.from, m.payload.as_slice()),
        (nodes[1].address, &b"welcome back"[..])
    );
    nodes[2].handle.broadcast(7, b"hi all".to_vec()).unwrap();
    for n in nodes.iter_mut().take(2) {
        let m = recv(&mut n.rx).await;
        assert_eq!((m.from, m.channel), (back, 7));
    }
    for n in nodes.iter().take(2) {
        assert!(n.handle.metrics().reconnects >= 1);
        assert!(n.handle.metrics().disconnects >= 1);
    }
    shutdown_all(nodes).await;
}
