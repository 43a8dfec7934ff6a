//! The BFT driver (ADR 0006): performs the effects of the pure consensus state machine over
//! the authenticated network, executes and validates blocks with the node pipeline, commits
//! them with their quorum certificates, gossips transactions and syncs missing blocks.
//!
//! Parts, each a type that owns its state and takes the clock as an argument ([`clock::Now`]):
//! [`body_cache::BodyCache`] (received bodies, bounded per peer and by a height window),
//! [`sync::BlockSync`] (who was asked for which blocks, the serving budget),
//! [`pacer::ProposalPacer`], [`gossip::Gossip`] (batches, per-peer admission budget) and
//! [`next_epoch::NextEpochBuffer`]. The [`Driver`] (`host.rs`) owns them and runs the select
//! loop and the effects; `blocks.rs` proposes, validates, fetches and commits blocks;
//! `catch_up.rs` applies block sync and switches epochs. Imports go one way: `blocks` and
//! `catch_up` → `host` → the parts.

mod blocks;
pub mod body_cache;
pub mod budget;
mod catch_up;
pub mod clock;
mod config;
pub mod gossip;
mod host;
pub mod next_epoch;
pub mod pacer;
pub mod sync;
mod wire;

use crate::NodeError;
use keel_consensus::{CommitProof, QuorumCert, ValidatorSignature};
use keel_types::CommitCertificate;

pub use body_cache::MAX_BODIES;
pub use config::{
    CHANNEL_CONSENSUS, CHANNEL_TXS, DriverConfig, MAX_FETCH_DEPTH, MAX_WIRE_BYTES,
    STATUS_PUBLISH_MS,
};
pub use gossip::{GOSSIP_QUEUE_TXS, MAX_GOSSIP_BATCH};
pub use host::Driver;
pub use sync::MAX_SYNC_BLOCKS;

/// Rebuild the consensus commit proof stored in a block certificate (for an epoch-ending block
/// it may prove a descendant reached over empty blocks, see ADR 0011).
pub fn commit_proof(cert: &CommitCertificate) -> Result<CommitProof, NodeError> {
    let (vote, _suffix) = crate::epoch::decode_vote(cert)?;
    Ok(CommitProof {
        qc: QuorumCert {
            vote,
            signatures: cert
                .signatures
                .iter()
                .map(|s| ValidatorSignature {
                    validator: s.validator,
                    signature: s.signature.clone(),
                })
                .collect(),
        },
    })
}

fn certificate_of(proof: &CommitProof) -> CommitCertificate {
    crate::epoch::certificate_with_suffix(proof, Vec::new())
}
