//! The BFT driver (ADR 0006): performs the effects of the pure consensus state machine over
//! the authenticated network, executes and validates blocks with the node pipeline, commits
//! them with their quorum certificates, gossips transactions and syncs missing blocks.
//!
//! Parts, each a type that owns its state and takes the clock as an argument ([`clock::Now`]):
//! [`body_cache::BodyCache`] (received bodies, bounded per peer and by a height window),
//! [`sync::BlockSync`] (who was asked for which blocks, the serving budget),
//! [`pacer::ProposalPacer`], [`round_timer::RoundTimer`], [`gossip::Gossip`] (batches, per-peer admission budget) and
//! [`next_epoch::NextEpochBuffer`], [`revoked::RevokedAuthors`]. The [`Driver`] (`host.rs`) owns them and runs the select
//! loop and the effects; `blocks.rs` proposes, validates, fetches and commits blocks;
//! `catch_up.rs` applies block sync and switches epochs. Imports go one way: `blocks` and
//! `catch_up` → `host` → the parts.

mod blocking;
mod blocks;
pub mod body_cache;
pub mod budget;
mod catch_up;
pub mod clock;
mod config;
pub mod gossip;
mod host;
mod net;
pub mod next_epoch;
pub mod pacer;
pub mod revoked;
pub mod round_timer;
pub mod sync;
mod wire;

pub use body_cache::MAX_BODIES;
pub use config::{
    CHANNEL_CONSENSUS, CHANNEL_TXS, DriverConfig, MAX_FETCH_DEPTH, MAX_WIRE_BYTES,
    STATUS_PUBLISH_MS,
};
pub use gossip::{GOSSIP_QUEUE_TXS, MAX_GOSSIP_BATCH};
pub use host::{Driver, Step};
pub use net::DriverNet;
pub use sync::MAX_SYNC_BLOCKS;
pub use wire::WireMsg;

/// A vote with no signature by `author` (unit tests of the parts that look at authors).
#[cfg(test)]
fn test_vote(author: keel_types::Address) -> keel_consensus::ConsensusMessage {
    use keel_consensus::{BlockMeta, ConsensusMessage, Vote, VoteData};
    ConsensusMessage::Vote(Vote {
        data: VoteData {
            block: BlockMeta {
                id: keel_types::Hash::ZERO,
                parent_id: keel_types::Hash::ZERO,
                height: 1,
            },
            round: 1,
            parent_round: 0,
            commit: None,
        },
        author,
        signature: Vec::new(),
    })
}
