//! Catching up on the driver: block sync (ask, serve within a per-peer budget and a byte
//! bound, apply only solicited responses whose headers link and whose certificate verifies
//! before anything executes), consensus messages per epoch, and the epoch switch.

use super::clock::Now;
use super::host::Driver;
use super::next_epoch::Buffered;
use super::sync::{MAX_SYNC_BLOCKS, linked_above, within_response_budget};
use super::wire::{WireMsg, kind_of};
use keel_consensus::{ConsensusMessage, Input};
use keel_ledger::ExecutedBlock;
use keel_network::PeerAddr;
use keel_types::{Address, Block, CommitCertificate, Hash, codec};
use std::time::Instant;

impl Driver {
    pub(super) fn check_sync(&mut self, now: Now) {
        match &self.consensus {
            Some(c) if c.status().committed_height <= self.node.head().height => {}
            // Behind consensus, or an observer (which always polls for new blocks).
            _ => self.request_sync(now),
        }
    }

    pub(super) fn request_sync(&mut self, now: Now) {
        let peers: Vec<Address> = self
            .net
            .peers()
            .into_iter()
            .filter(|p| p.connected)
            .map(|p| p.address)
            .collect();
        let head = self.node.head().height;
        if let Some((peer, from, to)) = self.sync.request(head, &peers, now.mono) {
            self.send(&peer, &WireMsg::SyncRequest { from, to });
        }
    }

    /// Serve committed blocks `from ..= to` (at most [`MAX_SYNC_BLOCKS`], and fewer when they
    /// are fat) within the peer's serving budget.
    pub(super) fn serve_sync(&mut self, to_peer: Address, from: u64, to: u64, now: Now) {
        if !self.sync.may_serve(to_peer, now.mono) {
            self.node
                .counters
                .record_consensus_rejection("SyncOverBudget");
            return;
        }
        let head = self.node.head().height;
        let to = to.min(head).min(from.saturating_add(MAX_SYNC_BLOCKS - 1));
        let mut blocks = Vec::new();
        for h in from..=to {
            match self.node.chain().block(h) {
                Ok(Some(b)) => blocks.push(b),
                _ => break,
            }
        }
        let keep = within_response_budget(blocks.iter().map(|b| codec::encode(b).len()));
        blocks.truncate(keep);
        if !blocks.is_empty() {
            self.send(&to_peer, &WireMsg::SyncResponse { blocks });
        }
    }

    /// Verify and commit synced blocks, solicited from `from`. The headers must link to the
    /// committed head; each run of blocks up to a certified one has that certificate checked
    /// before any of its blocks executes, then re-executes on top of the previous and commits.
    pub(super) fn apply_sync(&mut self, from: Address, blocks: Vec<Block>, now: Now) {
        if let Err(e) = self.sync.accept(from, &blocks) {
            self.node
                .counters
                .record_consensus_rejection("SyncUnsolicited");
            tracing::debug!(%from, error = %e, "sync response ignored");
            return;
        }
        let started = Instant::now();
        let full = blocks.len() as u64 >= MAX_SYNC_BLOCKS;
        let head = self.node.head();
        let alg = self.node.suite().hash();
        let linked = match linked_above(blocks, head.height, head.hash, alg) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(%from, error = %e, "synced blocks do not link");
                return;
            }
        };
        let mut rest = linked.as_slice();
        while let Some(end) = rest.iter().position(|(_, b)| !b.certificate.is_implied()) {
            let (run, after) = rest.split_at(end + 1);
            if !self.apply_certified_run(run, now, started) {
                return;
            }
            rest = after;
        }
        self.prune();
        self.maybe_switch_epoch(now);
        self.resume_awaiting(now);
        if full {
            // More may follow: ask again right away instead of waiting for the next tick.
            self.request_sync(now);
        }
    }

    /// Check the certificate of the run's last block, then execute and commit the run. False if
    /// anything fails (the rest of the response is dropped).
    fn apply_certified_run(&mut self, run: &[(Hash, Block)], now: Now, started: Instant) -> bool {
        let Some((last_hash, last)) = run.last() else {
            return true;
        };
        if let Err(e) = self.node.verify_certificate(last, last_hash) {
            tracing::warn!(height = last.header.height, error = %e, "synced certificate invalid");
            return false;
        }
        let mut executed: Vec<ExecutedBlock> = Vec::with_capacity(run.len());
        for (hash, block) in run {
            let refs: Vec<&ExecutedBlock> = executed.iter().collect();
            let at = now.wall_ms.max(block.header.timestamp_ms);
            match super::blocking::run_blocking(|| self.node.validate_block(block, &refs, at)) {
                Ok(e) if e.hash == *hash => executed.push(e),
                Ok(_) => return false,
                Err(e) => {
                    tracing::warn!(height = block.header.height, error = %e, "synced block invalid");
                    return false;
                }
            }
        }
        for e in &executed {
            let cert = if e.hash == *last_hash {
                last.certificate.clone()
            } else {
                CommitCertificate::default()
            };
            if let Err(err) =
                super::blocking::run_blocking(|| self.node.commit_block(e, cert, started))
            {
                self.node
                    .halt(format!("commit of synced block failed: {err}"));
                return false;
            }
        }
        true
    }

    /// Validators governance added link without restarts (issue 14): the network admits every
    /// validator of the new epoch, dialling those whose P2P address is known.
    fn admit_epoch_peers(&self) {
        let peers = self.node.epoch_peers();
        let dial: Vec<PeerAddr> = peers
            .iter()
            .filter_map(|(address, p2p)| {
                Some(PeerAddr {
                    address: *address,
                    socket: p2p.parse().ok()?,
                })
            })
            .collect();
        let inbound: Vec<Address> = peers.iter().map(|(a, _)| *a).collect();
        let added = self.net.admit_peers(&dial, &inbound);
        if added > 0 {
            tracing::info!(added, "validators of the new epoch admitted to the network");
        }
    }

    /// After a commit: if the committed head is in a newer epoch, drop the old consensus
    /// instance and everything uncommitted, start the new epoch's instance (if this node is
    /// one of its validators) and replay the buffered messages of the new epoch.
    pub(super) fn maybe_switch_epoch(&mut self, now: Now) {
        let epoch = match self.node.epoch() {
            Ok(e) => e.epoch,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the epoch state");
                return;
            }
        };
        if epoch == self.epoch {
            return;
        }
        let built = match crate::epoch::build(&self.node, self.cfg.pacemaker) {
            Ok(b) => b,
            Err(e) => {
                self.node.halt(format!("cannot start epoch {epoch}: {e}"));
                return;
            }
        };
        tracing::info!(
            epoch,
            height = self.node.head().height,
            genesis = ?crate::epoch::start_id(&self.node),
            validator = built.consensus.is_some(),
            "epoch switch"
        );
        self.admit_epoch_peers();
        self.epoch = built.epoch;
        self.quorum = built.quorum;
        self.consensus = built.consensus;
        // Uncommitted blocks of the old epoch are dead; bodies above the head stay (the new
        // epoch's first proposals may already have arrived).
        self.pending.clear();
        self.timer.clear();
        self.pacer.clear();
        self.awaiting_validation = None;
        self.awaiting_propose = None;
        if let Some(c) = self.consensus.as_mut() {
            let effects = c.start();
            self.perform_all(effects, now);
        }
        for msg in self.next_epoch.take() {
            self.feed(Input::Message(msg), now);
        }
    }

    pub(super) fn on_epoch_message(&mut self, from: Address, epoch: u64, bytes: &[u8], now: Now) {
        let msg = match ConsensusMessage::decode(bytes) {
            Ok(m) => m,
            Err(e) => {
                self.node
                    .counters
                    .record_consensus_rejection("MalformedMessage");
                tracing::debug!(error = %e, "bad consensus message");
                return;
            }
        };
        if self.revoked.refuses(&msg) {
            self.node
                .counters
                .record_consensus_rejection("RevokedAuthor");
            tracing::debug!(%from, author = %msg.author(), "message of a revoked validator ignored");
        } else if epoch == self.epoch {
            self.node
                .counters
                .record_consensus_message("received", kind_of(&msg));
            self.feed(Input::Message(msg), now);
        } else if epoch == self.epoch + 1 {
            match self.next_epoch.push(from, msg) {
                // Someone is ahead: our head may miss the epoch-ending block.
                Buffered::First => self.request_sync(now),
                Buffered::Again => {}
                Buffered::Refused => self
                    .node
                    .counters
                    .record_consensus_rejection("NextEpochRefused"),
            }
        } else {
            self.node.counters.record_consensus_rejection("OtherEpoch");
        }
    }
}
