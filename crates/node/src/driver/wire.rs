//! The driver's wire messages on [`super::config::CHANNEL_CONSENSUS`].

use borsh::{BorshDeserialize, BorshSerialize};
use keel_consensus::ConsensusMessage;
use keel_types::{Block, Hash};

#[derive(BorshSerialize, BorshDeserialize)]
pub(crate) enum WireMsg {
    Consensus(Vec<u8>),
    Body(Block),
    SyncRequest {
        from: u64,
        to: u64,
    },
    SyncResponse {
        blocks: Vec<Block>,
    },
    /// Ask for one block by hash, committed or not (DiemBFT BlockRetrieval): a restarted or
    /// lagging validator needs the certified-but-uncommitted parents of the current proposal.
    BlockRequest {
        id: Hash,
    },
    BlockResponse {
        block: Block,
    },
    /// A consensus message of one epoch (ADR 0011); messages of other epochs are dropped, the
    /// next epoch's are buffered until this node switches.
    EpochConsensus {
        epoch: u64,
        msg: Vec<u8>,
    },
}

/// Metric label of a consensus message.
pub(crate) fn kind_of(m: &ConsensusMessage) -> &'static str {
    match m {
        ConsensusMessage::Proposal(_) => "proposal",
        ConsensusMessage::Vote(_) => "vote",
        ConsensusMessage::Timeout(_) => "timeout",
    }
}
