//! Issue 14, membership in the network layer: a node admitted while the network runs
//! (`NetworkHandle::admit_peers`) links in without any restart (before that, its handshakes
//! are refused as an unknown peer); governance's node list (`set_node_policy`) drops and
//! refuses the nodes it excludes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use keel_crypto::Suite;
use keel_network::PeerAddr;
use keel_types::OpPolicy;

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

/// Issue 14: governance's node list. A deny-listed node loses its link and is refused even
/// though it is in the allow-set; an allow list admits only its members; reopening lets the
/// node back in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_list_drops_and_refuses_excluded_nodes() {
    let (nodes, _) = start_mesh(Suite::Intl, 3, |_| {}).await;
    wait_until("mesh", || all_connected(&nodes)).await;
    let n1 = nodes[0].handle.clone();
    let (second, third) = (nodes[1].address, nodes[2].address);
    let connected =
        |a: keel_types::Address| n1.peers().iter().any(|p| p.address == a && p.connected);
    assert_eq!(n1.set_node_policy(OpPolicy::DenyList(vec![third])), 1);
    assert_eq!(n1.excluded_peers(), vec![third]);
    let refused = n1.metrics().rejected_unknown_peer;
    wait_until("node 3's redials refused", || {
        n1.metrics().rejected_unknown_peer >= refused + 2
    })
    .await;
    assert!(!connected(third) && connected(second));
    let p3 = n1.peers().into_iter().find(|p| p.address == third).unwrap();
    assert!(
        p3.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("node list"),
        "{p3:?}"
    );
    // An allow list naming only node 2 keeps node 3 out too.
    assert_eq!(n1.set_node_policy(OpPolicy::AllowList(vec![second])), 0);
    assert_eq!(n1.excluded_peers(), vec![third]);
    assert!(connected(second));
    assert_eq!(n1.set_node_policy(OpPolicy::Open), 0);
    assert!(n1.excluded_peers().is_empty());
    wait_until("node 3 back", || all_connected(&nodes)).await;
    shutdown_all(nodes).await;
}
