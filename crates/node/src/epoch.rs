//! Epochs for the BFT driver (ADR 0011): which consensus instance runs, built from the
//! committed head's epoch state; the epoch-tagged persisted safety state; the "epoch-ending
//! block" test used for the empty suffix rule.

use crate::{Node, NodeError};
use borsh::{BorshDeserialize, BorshSerialize};
use keel_consensus::{
    CommitInfo, Config, Consensus, KeelCrypto, PacemakerConfig, Recovery, SafetyState,
};
use keel_ledger::ExecutedBlock;
use keel_ledger::certificate::commit_proof;
use keel_types::{Hash, codec};

/// The persisted safety state, tagged with its epoch (a new epoch starts from a fresh state).
#[derive(BorshSerialize, BorshDeserialize)]
struct EpochSafety {
    epoch: u64,
    safety: Vec<u8>,
}

/// Encode a safety state for `epoch`.
pub(crate) fn encode_safety(epoch: u64, s: &SafetyState) -> Vec<u8> {
    codec::encode(&EpochSafety {
        epoch,
        safety: s.encode(),
    })
}

/// The consensus instance of the committed head's epoch (`None` when this node is not one of
/// its validators), its epoch number and quorum size.
pub(crate) struct EpochConsensus {
    pub(crate) epoch: u64,
    pub(crate) quorum: usize,
    pub(crate) consensus: Option<Consensus<KeelCrypto>>,
}

/// Build the consensus for the committed head's epoch from durable state (restart-safe).
pub(crate) fn build(node: &Node, pacemaker: PacemakerConfig) -> Result<EpochConsensus, NodeError> {
    let epoch = node.epoch()?;
    let (validators, crypto) = node.consensus_parts_for(&epoch)?;
    let quorum = validators.quorum();
    let head = node.head();
    let (genesis_id, genesis_height) = if epoch.start_height == 0 {
        (node.genesis_hash(), 0)
    } else {
        let h = node.chain().header(epoch.start_height)?.ok_or_else(|| {
            NodeError::Invariant(format!("epoch start block {} missing", epoch.start_height))
        })?;
        (h.hash(node.suite().hash()), epoch.start_height)
    };
    let safety = stored_safety(
        node.load_safety()?.as_deref(),
        epoch.epoch,
        genesis_id,
        genesis_height,
    )?;
    let high_qc = if head.height > genesis_height {
        node.chain()
            .block(head.height)?
            .and_then(|b| {
                (!b.certificate.vote.is_empty())
                    .then(|| commit_proof(&b.certificate).ok())
                    .flatten()
            })
            .map(|p| p.qc)
    } else {
        None
    };
    let recovery = Recovery {
        safety,
        committed: CommitInfo {
            height: head.height,
            block_id: head.hash,
        },
        high_qc,
    };
    let config = Config {
        validators,
        genesis_id,
        genesis_height,
        pacemaker,
    };
    let consensus = if node.is_validator() {
        Some(
            Consensus::new(config, crypto, recovery)
                .map_err(|e| NodeError::Invariant(format!("consensus: {e}")))?,
        )
    } else {
        None
    };
    Ok(EpochConsensus {
        epoch: epoch.epoch,
        quorum,
        consensus,
    })
}

/// The safety state to start `epoch` from, given the stored bytes. A state that does not decode
/// is never replaced by a fresh one: that could sign a second vote in a round this node already
/// voted in (security review finding 14), so it is a [`NodeError::CorruptSafetyState`].
fn stored_safety(
    stored: Option<&[u8]>,
    epoch: u64,
    genesis_id: Hash,
    genesis_height: u64,
) -> Result<SafetyState, NodeError> {
    let corrupt = |reason: String| NodeError::CorruptSafetyState { epoch, reason };
    let Some(b) = stored else {
        return Ok(SafetyState::genesis_at(genesis_id, genesis_height));
    };
    match codec::decode::<EpochSafety>("epoch safety state", b, 64 * 1024) {
        Ok(es) if es.epoch == epoch => {
            SafetyState::decode(&es.safety).map_err(|e| corrupt(e.to_string()))
        }
        // Left over from an earlier epoch: this one starts fresh.
        Ok(es) if es.epoch < epoch => Ok(SafetyState::genesis_at(genesis_id, genesis_height)),
        Ok(es) => Err(corrupt(format!("tagged with the later epoch {}", es.epoch))),
        // Written before epochs existed: epoch 0.
        Err(_) if epoch == 0 => SafetyState::decode(b).map_err(|e| corrupt(e.to_string())),
        Err(e) => Err(corrupt(e.to_string())),
    }
}

/// Whether executing this block changed the validator set (it ends its epoch: only empty
/// blocks may follow it in the same epoch, and they are never committed).
pub(crate) fn ends_epoch(node: &Node, b: &ExecutedBlock) -> bool {
    node.ends_epoch(b)
}

/// Id of the block that started the current epoch (for logs).
pub(crate) fn start_id(node: &Node) -> Option<Hash> {
    let e = node.epoch().ok()?;
    node.chain()
        .header(e.start_height)
        .ok()
        .flatten()
        .map(|h| h.hash(node.suite().hash()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_safety_state_refuses_to_start_instead_of_resetting() {
        let g = Hash([3; 32]);
        let fresh = SafetyState::genesis_at(g, 10);
        assert_eq!(stored_safety(None, 2, g, 10).unwrap(), fresh);
        let old = encode_safety(1, &SafetyState::genesis_at(Hash([1; 32]), 0));
        assert_eq!(
            stored_safety(Some(&old), 2, g, 10).unwrap(),
            fresh,
            "an earlier epoch's state is left behind"
        );
        let current = encode_safety(2, &fresh);
        assert_eq!(stored_safety(Some(&current), 2, g, 10).unwrap(), fresh);
        for bad in [vec![1u8, 2, 3], encode_safety(3, &fresh)] {
            assert!(matches!(
                stored_safety(Some(&bad), 2, g, 10),
                Err(NodeError::CorruptSafetyState { epoch: 2, .. })
            ));
        }
    }
}
