//! Keel's BFT consensus core: a **pure** state machine implementing Jolteon / DiemBFT-v4
//! (2-chain HotStuff).
//!
//! References: the Diem Team, *DiemBFT v4: State Machine Replication in the Diem Blockchain*
//! (2021) — its Safety, Pacemaker, BlockTree, LeaderElection modules and main loop — and
//! Gelashvili et al., *Jolteon and Ditto: Network-Adaptive Efficient Consensus with
//! Asynchronous Fallback* (FC 2022, arXiv:2106.10362). Code comments name the paper's
//! procedures (`Safety.make_vote`, `Pacemaker.process_remote_timeout`, ...). Design choices
//! are in `docs/adr/0004-consensus.md`.
//!
//! The crate never touches the network, disk, clock or randomness: the host calls
//! [`Consensus::handle`] with an [`Input`] and performs the returned [`Effect`]s.
//!
//! # Protocol in one paragraph
//!
//! Rounds have a round-robin leader ([`ValidatorSet::leader`]). The leader of round `r`
//! proposes a block extending its highest QC; validators validate it (through the host) and
//! broadcast a signed vote; 2f+1 votes on the same [`VoteData`] form a [`QuorumCert`], which
//! moves everyone to `r + 1` — the next leader proposes at once (pipelining: nothing waits for
//! a commit). When a QC forms for block B' whose parent B has `B'.round == B.round + 1`, B and
//! its ancestors are committed; the vote data names B, so that QC alone is a [`CommitProof`]
//! checkable with [`verify_commit`]. If a round stalls, validators broadcast timeouts; 2f+1
//! form a [`TimeoutCert`] that starts the next round, whose proposal must extend the highest
//! QC any of the TC's signers held. Round timers back off exponentially until a QC forms.
//!
//! # Host ordering contract
//!
//! 1. On (re)start, read the last persisted [`SafetyState`] (or [`SafetyState::genesis`]), the
//!    last committed block and its commit proof's QC, build [`Recovery`], call
//!    [`Consensus::new`], then [`Consensus::start`] and perform its effects.
//! 2. Feed inputs one at a time: decoded peer messages ([`ConsensusMessage::decode`]),
//!    timer expiries, [`Input::PayloadReady`], [`Input::BlockValidated`].
//! 3. Perform the effects of one call **in the order returned**.
//! 4. [`Effect::PersistSafety`]: write the state and **fsync** before performing any later
//!    effect of the same `Vec`. The state machine always emits it before the
//!    [`Effect::Broadcast`] carrying a vote, a timeout or its own proposal, so a vote never
//!    leaves a node that could forget it after a crash (no equivocation through amnesia).
//!    If persisting fails, stop the node: do not send.
//! 5. [`Effect::Broadcast`]: send to every other validator; loss is tolerated (timeouts are
//!    re-broadcast on every timer expiry).
//! 6. [`Effect::ScheduleTimeout`]: arm the round timer (replacing any earlier one); on expiry
//!    feed [`Input::Timeout`]. Stale timers are harmless.
//! 7. [`Effect::ProposeRequest`] / [`Effect::ValidateBlock`]: answer later with
//!    [`Input::PayloadReady`] / [`Input::BlockValidated`] (never vote-worthy before that).
//! 8. [`Effect::Commit`]: execute and persist the blocks in order with their proof; if the
//!    list does not start right after your last committed block, fetch the gap by block sync.
//! 9. [`Effect::Rejected`]: log and count by reason; the state machine is unchanged.
//!
//! # Validation and bounds
//!
//! Every message is checked before any state changes: membership, leader, signature over the
//! exact data, certificates (sorted distinct validator signers, quorum, signatures), the
//! 2-chain justification, rounds within [`ROUND_WINDOW`]. QCs for blocks this node has not
//! seen are accepted (the QC names the block and its parent); missing bodies are the host's
//! block sync. Pending votes/timeouts are kept only for rounds inside the window, and the
//! block tree is pruned at each commit and capped at [`MAX_PENDING_BLOCKS`].

mod block_tree;
mod certificates;
mod core;
mod crypto;
mod error;
mod io;
mod messages;
mod pacemaker;
mod safety;
mod validators;
mod votes;

#[cfg(test)]
mod tests;

/// A consensus round number. Round 0 belongs to genesis.
pub type Round = u64;

pub use block_tree::MAX_PENDING_BLOCKS;
pub use certificates::{
    CommitProof, QuorumCert, TimeoutCert, TimeoutSignature, ValidatorSignature, verify_commit,
};
pub use core::{Config, Consensus, ROUND_WINDOW, Recovery};
pub use crypto::{Crypto, KeelCrypto};
pub use error::{CertificateError, ConsensusError, RejectReason};
pub use io::{ConsensusStatus, Effect, Input};
pub use messages::{
    BlockMeta, CommitInfo, ConsensusMessage, MAX_MESSAGE_BYTES, MAX_SIGNATURE_BYTES, Proposal,
    TimeoutMsg, Vote, VoteData, timeout_signing_bytes,
};
pub use pacemaker::{MAX_BACKOFF_EXPONENT, PacemakerConfig};
pub use safety::{MAX_SAFETY_STATE_BYTES, SafetyState};
pub use validators::{MAX_VALIDATORS, ValidatorSet};
