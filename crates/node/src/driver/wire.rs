//! The driver's wire messages on [`super::config::CHANNEL_CONSENSUS`].

use borsh::{BorshDeserialize, BorshSerialize};
use keel_consensus::ConsensusMessage;
use keel_types::{Block, Hash};

/// One frame on the consensus channel (public so that a simulator's Byzantine peers speak the
/// real protocol).
#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
pub enum WireMsg {
    /// An untagged (epoch 0) encoded [`ConsensusMessage`].
    Consensus(Vec<u8>),
    /// A proposal's block body, sent by its leader before the proposal.
    Body(Block),
    /// Ask for committed blocks `from..=to`.
    SyncRequest {
        /// First height.
        from: u64,
        /// Last height.
        to: u64,
    },
    /// Committed blocks with their certificates, answering a [`WireMsg::SyncRequest`].
    SyncResponse {
        /// Consecutive blocks.
        blocks: Vec<Block>,
    },
    /// Ask for one block by hash, committed or not (DiemBFT BlockRetrieval): a restarted or
    /// lagging validator needs the certified-but-uncommitted parents of the current proposal.
    BlockRequest {
        /// Block hash.
        id: Hash,
    },
    /// The block asked for by [`WireMsg::BlockRequest`].
    BlockResponse {
        /// The block.
        block: Block,
    },
    /// A consensus message of one epoch (ADR 0011); messages of other epochs are dropped, the
    /// next epoch's are buffered until this node switches.
    EpochConsensus {
        /// The sender's epoch.
        epoch: u64,
        /// An encoded [`ConsensusMessage`].
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
