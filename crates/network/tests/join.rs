//! Issue 14: a node admitted while the network runs (`NetworkHandle::admit_peers`) links in
//! without any restart; before that, its handshakes are refused as an unknown peer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use keel_crypto::Suite;
use keel_network::PeerAddr;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_admitted_while_running_links_in_without_restarts() {
    let suite = Suite::Gm;
    let (nodes, peers) = start_mesh(suite, 3, |_| {}).await;
    wait_until("mesh of the first three", || all_connected(&nodes)).await;
    // Node 4 knows the three and dials them; they do not know it yet.
    let newcomer = PeerAddr {
        address: address(suite, 4),
        socket: free_socket(),
    };
    let mut all = peers.clone();
    all.push(newcomer);
    let n4 = start_node(suite, 4, test_config(newcomer.socket, all)).await;
    wait_until("node 4 refused as unknown", || {
        nodes[0].handle.metrics().rejected_unknown_peer >= 1
    })
    .await;
    assert!(n4.handle.peers().iter().all(|p| !p.connected));
    assert!(nodes[0].handle.send(&newcomer.address, 1, vec![1]).is_err());

    // Governance admitted it: node 1 dials it, node 2 only lets it in, node 3 learns nothing.
    assert_eq!(nodes[0].handle.admit_peers(&[newcomer], &[]), 1);
    assert_eq!(nodes[1].handle.admit_peers(&[], &[newcomer.address]), 1);
    assert_eq!(
        nodes[0].handle.admit_peers(&[newcomer], &[]),
        0,
        "already known"
    );
    let linked = |n: &Node| {
        n.handle
            .peers()
            .iter()
            .any(|p| p.address == newcomer.address && p.connected)
    };
    wait_until("node 4 linked to nodes 1 and 2", || {
        linked(&nodes[0]) && linked(&nodes[1])
    })
    .await;
    assert!(!linked(&nodes[2]), "node 3 was not told");
    // Frames flow both ways on the new links.
    nodes[0]
        .handle
        .send(&newcomer.address, 7, vec![42])
        .unwrap();
    let mut n4 = n4;
    let m = recv(&mut n4.rx).await;
    assert_eq!(
        (m.from, m.channel, m.payload.as_ref()),
        (nodes[0].address, 7, &[42u8][..])
    );
    let mut nodes = nodes;
    n4.handle.send(&nodes[1].address, 8, vec![43]).unwrap();
    let m = recv(&mut nodes[1].rx).await;
    assert_eq!((m.from, m.channel), (newcomer.address, 8));
    nodes.push(n4);
    shutdown_all(nodes).await;
}
