//! Certificate-based admission (ADR 0010): validators with certificates from the consortium
//! root connect; a peer whose chain leads to another root, whose certificate is revoked or
//! has the client role, that presents none, or a chain for another key, is refused and
//! counted; `set_revoked` drops a live link and keeps the peer out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use keel_crypto::{KeyPair, Suite};
use keel_network::{NetworkConfig, PeerAddr, PeerStatus, PkiConfig};
use keel_pki::{
    Certificate, IssueRequest, Issuer, Profile, RevokedSet, Role, Serial, Validity, issue,
};

const SUITE: Suite = Suite::Gm;

/// DER certificates as sent in the identity message.
type Chain = Vec<Vec<u8>>;

struct Ca {
    cert: Certificate,
    key: KeyPair,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn req<'a>(cn: &'a str, org: &'a str, profile: Profile, key: &'a [u8]) -> IssueRequest<'a> {
    req_days(cn, org, profile, key, 30)
}

fn req_days<'a>(
    cn: &'a str,
    org: &'a str,
    profile: Profile,
    key: &'a [u8],
    days: u64,
) -> IssueRequest<'a> {
    IssueRequest {
        common_name: cn,
        organization: org,
        profile,
        scheme: SUITE.signature_scheme(),
        public_key: key,
        validity: Validity::days_from(now() - 60, days),
        serial: Serial::random().unwrap(),
    }
}

fn root(seed: u8) -> Ca {
    let key = KeyPair::from_seed(SUITE.signature_scheme(), &[seed; 32]);
    let pk = key.public_key();
    let cert = issue(
        &req("Root", "Consortium", Profile::Ca { path_len: 1 }, &pk),
        Issuer::SelfSigned(&key),
    )
    .unwrap();
    Ca { cert, key }
}

fn org(root: &Ca, name: &str, seed: u8) -> Ca {
    let key = KeyPair::from_seed(SUITE.signature_scheme(), &[seed; 32]);
    let pk = key.public_key();
    let cert = issue(
        &req(name, name, Profile::Ca { path_len: 0 }, &pk),
        Issuer::Ca {
            cert: &root.cert,
            key: &root.key,
        },
    )
    .unwrap();
    Ca { cert, key }
}

/// The chain (node certificate, org CA) for the node identity of `seed`.
fn node_chain(ca: &Ca, seed: u8, role: Role) -> Vec<Certificate> {
    node_chain_days(ca, seed, role, 30)
}

/// As `node_chain`, the node certificate valid for `days`.
fn node_chain_days(ca: &Ca, seed: u8, role: Role, days: u64) -> Vec<Certificate> {
    let pk = identity(SUITE, seed).public_key();
    let org = ca.cert.organization().unwrap();
    let name = format!("node {seed}");
    let cert = issue(
        &req_days(&name, &org, Profile::EndEntity(role), &pk, days),
        Issuer::Ca {
            cert: &ca.cert,
            key: &ca.key,
        },
    )
    .unwrap();
    vec![cert, ca.cert.clone()]
}

fn ders(chain: &[Certificate]) -> Vec<Vec<u8>> {
    chain.iter().map(|c| c.der().to_vec()).collect()
}

fn pki(root: &Ca, chain: Vec<Certificate>, revoked: RevokedSet) -> PkiConfig {
    PkiConfig {
        roots: vec![root.cert.clone()],
        chain,
        revoked,
    }
}

/// Three validators of two organisations; seeds 4..=8 are allowed inbound (so that only the
/// certificate check can refuse them).
async fn start_consortium(
    root: &Ca,
    chains: &[Vec<Certificate>],
    revoked: &RevokedSet,
) -> Vec<Node> {
    let peers: Vec<PeerAddr> = (1..=3)
        .map(|seed| PeerAddr {
            address: address(SUITE, seed),
            socket: free_socket(),
        })
        .collect();
    let mut nodes = Vec::new();
    for (i, p) in peers.iter().enumerate() {
        let mut config: NetworkConfig = test_config(p.socket, peers.clone());
        config.allow_inbound = (4..=8).map(|s| address(SUITE, s)).collect();
        config.pki = Some(pki(root, chains[i].clone(), revoked.clone()));
        nodes.push(start_node(SUITE, i as u8 + 1, config).await);
    }
    nodes
}

/// Every dialed peer (the validators) is connected; the inbound-only slots are not counted.
fn validators_connected(nodes: &[Node]) -> bool {
    nodes.iter().all(|n| {
        n.handle
            .peers()
            .iter()
            .filter(|p| p.socket.is_some())
            .all(|p| p.connected)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_valid_node_certificates_are_admitted() {
    let root_a = root(100);
    let root_b = root(101);
    let org1 = org(&root_a, "Org1", 102);
    let org2 = org(&root_a, "Org2", 103);
    let foreign_org = org(&root_b, "Org1", 104);
    let chains = vec![
        node_chain(&org1, 1, Role::Validator),
        node_chain(&org1, 2, Role::Validator),
        node_chain(&org2, 3, Role::Validator),
    ];
    let revoked_chain = node_chain(&org2, 6, Role::Validator);
    let revoked: RevokedSet = [revoked_chain[0].serial()].into_iter().collect();
    let nodes = start_consortium(&root_a, &chains, &revoked).await;
    // Assert on the snapshot that showed every validator connected: a later snapshot may
    // legitimately catch a link being replaced by the tie-break.
    let tables = wait_for("valid validators connect", || {
        let tables: Vec<Vec<PeerStatus>> = nodes.iter().map(|n| n.handle.peers()).collect();
        let all = tables
            .iter()
            .flatten()
            .filter(|p| p.socket.is_some())
            .all(|p| p.connected);
        all.then_some(tables)
    })
    .await;
    for table in &tables {
        for p in table.iter().filter(|p| p.socket.is_some()) {
            let cert = p.certificate.as_ref().expect("verified certificate shown");
            assert_eq!(cert.role, Role::Validator);
            assert!(cert.organization == "Org1" || cert.organization == "Org2");
            assert_eq!(cert.serials.len(), 2);
        }
    }

    let target = nodes[0].socket;
    let cases: Vec<(&str, u8, Option<Chain>)> = vec![
        (
            "chain to another root",
            4,
            Some(ders(&node_chain(&foreign_org, 4, Role::Validator))),
        ),
        (
            "client role",
            5,
            Some(ders(&node_chain(&org1, 5, Role::Client))),
        ),
        ("revoked", 6, Some(ders(&revoked_chain))),
        ("no certificate", 7, None),
        ("chain for another key", 8, Some(ders(&chains[1]))),
        (
            "a validator with an observer certificate",
            3,
            Some(ders(&node_chain(&org2, 3, Role::Observer))),
        ),
    ];
    for (i, (what, seed, certs)) in cases.into_iter().enumerate() {
        let before = nodes[0].handle.metrics().rejected_certificate;
        let raw = RawPeer::connect_with(
            target,
            &identity(SUITE, seed),
            Tamper::None,
            certs.as_deref(),
        )
        .await;
        if let Some(mut raw) = raw {
            assert!(
                closed_by_peer(&mut raw.stream).await,
                "{what}: socket left open"
            );
        }
        let node = nodes[0].handle.clone();
        wait_until(what, || node.metrics().rejected_certificate > before).await;
        assert_eq!(node.metrics().rejected_certificate, i as u64 + 1, "{what}");
        // (Seed 3 is a real validator whose own link stays up.)
        assert!(
            seed == 3
                || node
                    .peers()
                    .iter()
                    .all(|p| p.address != address(SUITE, seed) || !p.connected),
            "{what}: admitted"
        );
    }
    // A correct chain presented by hand is admitted (positive control for the raw client).
    let good = node_chain(&org2, 8, Role::Observer);
    let mut raw = RawPeer::connect_with(
        target,
        &identity(SUITE, 8),
        Tamper::None,
        Some(&ders(&good)),
    )
    .await
    .unwrap();
    raw.ready().await;
    let node = nodes[0].handle.clone();
    wait_until("observer admitted", || {
        node.peers()
            .iter()
            .any(|p| p.address == address(SUITE, 8) && p.connected)
    })
    .await;
    assert_eq!(node.metrics().rejected_certificate, 6);
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_revoked_drops_the_link_and_keeps_the_peer_out() {
    let root_a = root(110);
    let org1 = org(&root_a, "Org1", 111);
    let chains: Vec<_> = (1..=3)
        .map(|s| node_chain(&org1, s, Role::Validator))
        .collect();
    let nodes = start_consortium(&root_a, &chains, &RevokedSet::new()).await;
    wait_until("mesh", || validators_connected(&nodes)).await;
    let n1 = nodes[0].handle.clone();
    let third = nodes[2].address;
    let revoked: RevokedSet = [chains[2][0].serial()].into_iter().collect();
    assert_eq!(n1.set_revoked(revoked.clone()), 1, "one live link dropped");
    // The node can ignore what others relay for the revoked peer.
    assert_eq!(n1.revoked_peers(), vec![third]);
    assert_eq!(n1.revoked_serials(), Some(revoked));
    // (At least one: a link from node 3 installed while `set_revoked` ran is closed too.)
    wait_until("revoked link closed", || {
        n1.metrics().revoked_disconnects >= 1
            && n1
                .peers()
                .iter()
                .any(|p| p.address == third && !p.connected)
    })
    .await;
    // Node 3 keeps redialing (and node 1 dialing it): every attempt is refused.
    wait_until("reconnects refused", || {
        n1.metrics().rejected_certificate >= 2
    })
    .await;
    // Every handshake of node 3 is refused, so no link can come up in between.
    let status = n1.peers();
    let p3 = status.iter().find(|p| p.address == third).unwrap();
    assert!(!p3.connected);
    assert!(
        p3.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("revoked"),
        "{p3:?}"
    );
    assert!(
        status
            .iter()
            .any(|p| p.address == nodes[1].address && p.connected)
    );
    // Revoking the org CA instead drops every link of that organisation.
    assert_eq!(
        nodes[1]
            .handle
            .set_revoked([org1.cert.serial()].into_iter().collect()),
        2
    );
    let mut org_peers = vec![nodes[0].address, third];
    org_peers.sort();
    assert_eq!(nodes[1].handle.revoked_peers(), org_peers);
    // Lifting the revocation lets node 3 back in.
    assert_eq!(n1.set_revoked(RevokedSet::new()), 0);
    assert!(n1.revoked_peers().is_empty());
    assert_eq!(nodes[1].handle.set_revoked(RevokedSet::new()), 0);
    wait_until("node 3 back", || validators_connected(&nodes)).await;
    shutdown_all(nodes).await;
}

/// Issue 14: a certificate revoked on chain (by fingerprint) drops the live link and keeps the
/// peer out, like a CRL serial; the two sources are merged, so a new CRL that does not name
/// the certificate does not let it back in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fingerprint_revoked_on_chain_drops_the_link_whatever_the_crl_says() {
    let root_a = root(120);
    let org1 = org(&root_a, "Org1", 121);
    let chains: Vec<_> = (1..=3)
        .map(|s| node_chain(&org1, s, Role::Validator))
        .collect();
    let nodes = start_consortium(&root_a, &chains, &RevokedSet::new()).await;
    wait_until("mesh", || validators_connected(&nodes)).await;
    let n1 = nodes[0].handle.clone();
    let third = nodes[2].address;
    let fp = keel_types::Hash(chains[2][0].fingerprint_digest());
    assert_eq!(
        n1.set_revoked_fingerprints([fp].into()),
        1,
        "one live link dropped"
    );
    assert_eq!(n1.revoked_peers(), vec![third]);
    // A CRL reload (here: one revoking nothing) replaces the serials only. (It may close a
    // link of node 3 that was being installed during the first sweep: the count is racy.)
    n1.set_revoked(RevokedSet::new());
    assert_eq!(
        n1.revoked_peers(),
        vec![third],
        "the on-chain revocation stays"
    );
    wait_until("reconnects refused", || {
        n1.metrics().rejected_certificate >= 2
    })
    .await;
    let status = n1.peers();
    let p3 = status.iter().find(|p| p.address == third).unwrap();
    assert!(!p3.connected);
    assert!(
        p3.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("revoked on chain"),
        "{p3:?}"
    );
    // An organisation CA's fingerprint drops every node it certified.
    let ca_fp = keel_types::Hash(org1.cert.fingerprint_digest());
    assert_eq!(nodes[1].handle.set_revoked_fingerprints([ca_fp].into()), 2);
    assert_eq!(n1.set_revoked_fingerprints([].into()), 0);
    assert_eq!(nodes[1].handle.set_revoked_fingerprints([].into()), 0);
    wait_until("node 3 back", || validators_connected(&nodes)).await;
    shutdown_all(nodes).await;
}

/// A live link is closed once its peer's certificate expires (checked at the handshake, then
/// swept; the clock is a parameter, so nothing waits for a real expiry); other links stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_link_is_closed_when_the_peer_certificate_expires() {
    let root_a = root(130);
    let org1 = org(&root_a, "Org1", 131);
    let chains = vec![
        node_chain(&org1, 1, Role::Validator),
        node_chain(&org1, 2, Role::Validator),
        node_chain_days(&org1, 3, Role::Validator, 10),
    ];
    let nodes = start_consortium(&root_a, &chains, &RevokedSet::new()).await;
    let n1 = nodes[0].handle.clone();
    let third = nodes[2].address;
    let not_after = wait_for("node 3 admitted", || {
        n1.peers()
            .into_iter()
            .find(|p| p.address == third && p.connected)
            .and_then(|p| p.certificate)
            .map(|c| c.not_after)
    })
    .await;
    assert_eq!(n1.sweep_expired(not_after), 0, "valid through its notAfter");
    assert_eq!(n1.metrics().expired_disconnects, 0);
    assert_eq!(
        n1.sweep_expired(not_after + 1),
        1,
        "only node 3's link closed"
    );
    wait_until("expired link closed", || {
        n1.metrics().expired_disconnects == 1
    })
    .await;
    shutdown_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refuses_to_start_with_an_unusable_own_chain() {
    let root_a = root(120);
    let org1 = org(&root_a, "Org1", 121);
    for (what, chain) in [
        ("client role", node_chain(&org1, 1, Role::Client)),
        ("another key", node_chain(&org1, 2, Role::Validator)),
    ] {
        let mut config = test_config(free_socket(), vec![]);
        config.pki = Some(pki(&root_a, chain, RevokedSet::new()));
        let err = keel_network::Network::start(config, identity(SUITE, 1), SUITE)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("own certificate chain"),
            "{what}: {err}"
        );
    }
}
