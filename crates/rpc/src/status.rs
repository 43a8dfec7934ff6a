//! `keel_status`: why a node is (not) progressing, in plain language.

use keel_node::Node;
use keel_node::metrics::BftStatus;
use keel_types::Address;
use serde_json::{Value, json};

/// Head older than this many round timeouts while work is pending means "stalled".
const STALL_ROUND_TIMEOUTS: u64 = 3;

/// The pool as the diagnosis sees it.
#[derive(Clone, Copy, Debug)]
struct Pool {
    /// Pooled transactions.
    pending: usize,
    /// Whether one is includable at the head's nonces: without one, an old head is an idle
    /// chain, not a stalled one (ADR 0014: no blocks without work).
    ready: bool,
}

pub(crate) fn status(node: &Node) -> Value {
    let head = node.head();
    let now = keel_node::producer::now_ms();
    let head_age_ms = now.saturating_sub(head.header.timestamp_ms);
    let pending = node.mempool().len();
    let halted = node.halted();
    let bft = node.counters.bft();
    let mut diagnosis: Vec<String> = Vec::new();
    // True when nothing is wrong (the diagnosis is only an informational line).
    let mut healthy = halted.is_none();
    if let Some(reason) = &halted {
        diagnosis.push(format!(
            "node halted: {reason} — restart it; it resumes at the last committed block"
        ));
    }
    let consensus = match &bft {
        None => {
            if halted.is_none() {
                diagnosis.push(format!(
                    "solo validator: head {} is {} ms old, {pending} transactions pending",
                    head.height, head_age_ms
                ));
            }
            Value::Null
        }
        Some(b) => {
            let validators: Vec<Address> = node
                .genesis()
                .validators
                .iter()
                .map(|v| v.address)
                .collect();
            let pool = Pool {
                pending,
                ready: pending > 0
                    && node
                        .mempool()
                        .has_ready(&keel_ledger::HeadAccounts(node), head.height + 1),
            };
            healthy &= diagnose_bft(
                b,
                &validators,
                head.height,
                head_age_ms,
                pool,
                now,
                &mut diagnosis,
            );
            match &b.consensus {
                None => {
                    json!({ "role": "observer", "statusAgeMs": now.saturating_sub(b.updated_ms) })
                }
                Some(c) => json!({
                    "role": "validator",
                    "round": c.round,
                    "leader": c.leader,
                    "highestVotedRound": c.highest_voted_round,
                    "lockedRound": c.highest_qc_round,
                    "highQcRound": c.high_qc_round,
                    "lastTcRound": c.last_tc_round,
                    "committedHeight": c.committed_height,
                    "currentProposal": c.current_proposal,
                    "votedCurrentRound": c.voted_current_round,
                    "timedOutCurrentRound": c.timed_out_current_round,
                    "votesCollected": c.votes_collected,
                    "votesMissing": c.votes_missing,
                    "timeoutsCollected": c.timeouts_collected,
                    "quorum": b.quorum,
                    "pendingBlocks": c.pending_blocks,
                    "statusAgeMs": now.saturating_sub(b.updated_ms),
                }),
            }
        }
    };
    let certificates = crate::certs::status(node, &mut diagnosis);
    let peers: Vec<Value> = bft
        .iter()
        .flat_map(|b| &b.peers)
        .map(|p| json!({ "address": p.address, "connected": p.connected, "lastError": p.last_error }))
        .collect();
    json!({
        "mode": if bft.is_some() { "bft" } else { "solo" },
        "height": head.height,
        "headHash": head.hash,
        "headAgeMs": head_age_ms,
        "pendingTxs": pending,
        "halted": halted,
        "validator": node.validator_address(),
        "consensus": consensus,
        "peers": peers,
        "certificates": certificates,
        "diagnosis": diagnosis,
        "healthy": healthy,
    })
}

/// Append plain-language findings to `out`; true if nothing is wrong (then `out` gets one
/// informational line).
fn diagnose_bft(
    b: &BftStatus,
    validators: &[Address],
    height: u64,
    head_age_ms: u64,
    pool: Pool,
    now: u64,
    out: &mut Vec<String>,
) -> bool {
    let pending = pool.pending;
    let unreachable: Vec<String> = b
        .peers
        .iter()
        .filter(|p| !p.connected)
        .map(|p| match &p.last_error {
            Some(e) => format!("{} ({e})", p.address),
            None => p.address.to_string(),
        })
        .collect();
    if !unreachable.is_empty() {
        out.push(format!(
            "cannot reach {} peer(s): {}",
            unreachable.len(),
            unreachable.join(", ")
        ));
    }
    // Validators reachable, this one included (observers' links do not count for a quorum).
    let connected = reachable_validators(b, validators);
    let Some(c) = &b.consensus else {
        // Observer: it only follows the chain.
        if b.peers.iter().all(|p| !p.connected) {
            out.push("observer: no validator reachable; cannot follow the chain".into());
        } else if out.is_empty() {
            out.push(format!(
                "observer following the chain: head {height} ({head_age_ms} ms old)"
            ));
            return true;
        }
        return false;
    };
    if connected < b.quorum {
        out.push(format!(
            "only {connected} of the validators (this node included) are reachable; a quorum needs {} — no block can commit until more come back",
            b.quorum
        ));
    }
    if b.peers
        .iter()
        .any(|p| p.address == c.leader && !p.connected)
    {
        out.push(format!(
            "the leader of round {} ({}) is unreachable; the round will time out",
            c.round, c.leader
        ));
    }
    if c.committed_height > height {
        out.push(format!("catching up: consensus committed height {} but this node stores {height}; syncing blocks", c.committed_height));
    }
    let old_head = head_age_ms > STALL_ROUND_TIMEOUTS * b.round_timeout_ms;
    let stalled = pool.ready && old_head;
    if stalled {
        let before = out.len();
        if !c.votes_missing.is_empty() && c.current_proposal.is_some() {
            out.push(format!(
                "round {} has a proposal but is waiting for votes from: {}",
                c.round,
                c.votes_missing
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if c.current_proposal.is_none() {
            out.push(format!(
                "round {}: no proposal received from the leader {}",
                c.round, c.leader
            ));
        }
        if !c.timeouts_collected.is_empty() {
            out.push(format!(
                "round {} is timing out: {} of {} timeouts collected",
                c.round,
                c.timeouts_collected.len(),
                b.quorum
            ));
        }
        if out.len() == before {
            out.push(format!(
                "head {height} is {head_age_ms} ms old while transactions are ready: blocks are not committing"
            ));
        }
    }
    if now.saturating_sub(b.updated_ms) > 5_000 {
        out.push("the consensus driver has not reported for over 5 s (overloaded or stuck)".into());
    }
    if out.is_empty() {
        if old_head && !pool.ready {
            out.push(format!(
                "idle: nothing to order ({pending} transactions pending, none includable); head {height} is {head_age_ms} ms old — blocks resume with the next transaction or the idle heartbeat"
            ));
        } else {
            out.push(format!(
                "progressing: round {}, head {height} ({head_age_ms} ms old), {pending} transactions pending",
                c.round
            ));
        }
        return true;
    }
    false
}

/// Validators this node (a validator) reaches, itself included; observers do not count.
pub(crate) fn reachable_validators(b: &BftStatus, validators: &[Address]) -> usize {
    b.peers
        .iter()
        .filter(|p| p.connected && validators.contains(&p.address))
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_consensus::ConsensusStatus;
    use keel_node::metrics::PeerSummary;
    use keel_types::Hash;

    const READY: Pool = Pool {
        pending: 5,
        ready: true,
    };
    const IDLE: Pool = Pool {
        pending: 0,
        ready: false,
    };

    fn vals() -> Vec<Address> {
        (0..=3u8).map(|i| Address([i; 20])).collect()
    }

    #[test]
    fn observers_do_not_count_toward_the_quorum() {
        // Validators 1 and 2 down, validator 3 up, plus a connected observer (address 9).
        let mut b = status([false, false, true], 0, 0);
        b.peers.push(PeerSummary {
            address: Address([9; 20]),
            connected: true,
            last_error: None,
            cert_not_after_secs: None,
        });
        assert_eq!(reachable_validators(&b, &vals()), 2);
        let mut out = Vec::new();
        assert!(!diagnose_bft(
            &b,
            &vals(),
            12,
            300,
            IDLE,
            1_000_100,
            &mut out
        ));
        assert!(
            out.join("\n").contains("only 2 of the validators"),
            "{out:?}"
        );
    }

    fn status(peers_up: [bool; 3], votes_missing: usize, timeouts: usize) -> BftStatus {
        let a = |i: u8| Address([i; 20]);
        BftStatus {
            consensus: Some(ConsensusStatus {
                round: 42,
                leader: a(2),
                highest_voted_round: 41,
                highest_qc_round: 40,
                high_qc_round: 41,
                last_tc_round: None,
                committed_height: 12,
                committed_block_id: Hash::ZERO,
                current_proposal: Some(Hash([1; 32])),
                voted_current_round: true,
                timed_out_current_round: false,
                votes_collected: vec![a(0)],
                votes_missing: (1..=votes_missing as u8).map(a).collect(),
                timeouts_collected: (0..timeouts as u8).map(a).collect(),
                pending_blocks: 1,
                vote_rounds_held: 1,
                timeout_rounds_held: 0,
            }),
            quorum: 3,
            round_timeout_ms: 1_000,
            peers: (1..=3u8)
                .zip(peers_up)
                .map(|(i, up)| PeerSummary {
                    address: a(i),
                    connected: up,
                    last_error: (!up).then(|| "connection refused".into()),
                    cert_not_after_secs: None,
                })
                .collect(),
            updated_ms: 1_000_000,
        }
    }

    #[test]
    fn healthy_node_says_progressing() {
        let mut out = Vec::new();
        assert!(diagnose_bft(
            &status([true; 3], 0, 0),
            &vals(),
            12,
            300,
            READY,
            1_000_100,
            &mut out
        ));
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].starts_with("progressing: round 42"), "{out:?}");
    }

    #[test]
    fn stalled_node_names_unreachable_peers_leader_votes_and_quorum() {
        let mut out = Vec::new();
        assert!(!diagnose_bft(
            &status([false, false, true], 2, 1),
            &vals(),
            10,
            9_000,
            READY,
            1_000_100,
            &mut out,
        ));
        let text = out.join("\n");
        assert!(text.contains("cannot reach 2 peer(s)"), "{text}");
        assert!(text.contains("connection refused"), "{text}");
        assert!(text.contains("a quorum needs 3"), "{text}");
        assert!(text.contains("leader of round 42"), "{text}");
        assert!(text.contains("catching up"), "{text}");
        assert!(text.contains("waiting for votes from"), "{text}");
        assert!(text.contains("1 of 3 timeouts"), "{text}");
        let mut out = Vec::new();
        assert!(!diagnose_bft(
            &status([true; 3], 0, 0),
            &vals(),
            12,
            300,
            IDLE,
            1_000_000 + 6_000,
            &mut out,
        ));
        assert!(out.join("\n").contains("has not reported"), "{out:?}");
    }

    /// ADR 0014: an idle chain makes no blocks, so its head grows old; with nothing (or only
    /// a transaction stuck behind a nonce gap) to order that is healthy, not a stall.
    #[test]
    fn an_idle_network_with_an_old_head_is_healthy() {
        let hour_ms = 3_600_000;
        for pool in [
            IDLE,
            Pool {
                pending: 1,
                ready: false,
            },
        ] {
            let mut out = Vec::new();
            assert!(
                diagnose_bft(
                    &status([true; 3], 0, 0),
                    &vals(),
                    12,
                    hour_ms,
                    pool,
                    1_000_100,
                    &mut out
                ),
                "{out:?}"
            );
            assert_eq!(out.len(), 1, "{out:?}");
            assert!(out[0].starts_with("idle: nothing to order"), "{out:?}");
        }
        // The same old head with a transaction ready is a stall, even when the round looks
        // normal (proposal received, no votes missing, no timeouts).
        let mut out = Vec::new();
        assert!(!diagnose_bft(
            &status([true; 3], 0, 0),
            &vals(),
            12,
            hour_ms,
            READY,
            1_000_100,
            &mut out
        ));
        assert!(
            out.join("\n").contains("blocks are not committing"),
            "{out:?}"
        );
    }
}
