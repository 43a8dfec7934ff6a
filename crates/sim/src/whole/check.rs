//! Invariants of the whole-node run, checked after every step of an honest node: agreement on
//! committed blocks and state roots, certificates that verify, no transaction committed twice,
//! no committed block lost across a restart, receipts never rewritten; and at the end, every
//! acknowledged transaction committed and every chain verified from genesis.

use std::collections::{BTreeMap, HashMap, HashSet};

use keel_node::Node;
use keel_types::{Hash, codec};

use super::cluster::SUITE;

/// A broken invariant of a whole-node run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WholeViolation {
    /// Two honest nodes committed different blocks at one height.
    Fork {
        /// Height.
        height: u64,
        /// The node that disagrees.
        node: String,
        /// Hash first committed there.
        first: Hash,
        /// Hash this node committed.
        other: Hash,
    },
    /// A committed header's state root is not the root this node's state tree computed.
    StateRoot {
        /// Height.
        height: u64,
        /// Node.
        node: String,
    },
    /// A committed block's certificate does not verify.
    Certificate {
        /// Height.
        height: u64,
        /// Node.
        node: String,
        /// Why.
        reason: String,
    },
    /// A transaction is in two committed places.
    CommittedTwice {
        /// Transaction hash.
        tx: Hash,
        /// First location (height, index).
        first: (u64, u32),
        /// Second location.
        second: (u64, u32),
    },
    /// A node's committed height went back (a durable commit was lost).
    CommitLost {
        /// Node.
        node: String,
        /// Height it had.
        had: u64,
        /// Height it has.
        has: u64,
    },
    /// A committed block's receipts or a transaction's location changed.
    ReceiptRewritten {
        /// Height.
        height: u64,
        /// Node.
        node: String,
    },
    /// An honest node stopped itself.
    Halted {
        /// Node.
        node: String,
        /// Its reason.
        reason: String,
    },
    /// After GST the honest nodes did not reach the target height, or did not commit every
    /// acknowledged transaction, before the deadline.
    NoProgress {
        /// Committed heights of the honest nodes.
        heights: Vec<u64>,
        /// Acknowledged transactions not yet committed everywhere.
        missing_txs: usize,
    },
    /// The ledger failed a read or a whole-chain verification.
    Ledger {
        /// Node.
        node: String,
        /// Error.
        error: String,
    },
    /// The run could not be set up.
    Setup(String),
}

impl std::fmt::Display for WholeViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "whole-node invariant broken: {self:?}")
    }
}

/// What the honest nodes have committed so far, as first seen.
#[derive(Debug, Default)]
pub(crate) struct Checker {
    blocks: BTreeMap<u64, Hash>,
    receipts: BTreeMap<u64, Vec<u8>>,
    txs: HashMap<Hash, (u64, u32)>,
    /// Certificates already verified, by height and digest of their encoding (most nodes
    /// store the same one; each distinct certificate is verified once).
    verified: HashSet<(u64, [u8; 32])>,
}

fn ledger(node: &Node, e: impl std::fmt::Display) -> WholeViolation {
    WholeViolation::Ledger {
        node: node.validator_address().to_string(),
        error: e.to_string(),
    }
}

impl Checker {
    /// Check the blocks `node` committed above `seen`; returns its new committed height.
    pub fn on_commits(&mut self, node: &Node, seen: u64) -> Result<u64, WholeViolation> {
        let name = || node.validator_address().to_string();
        let head = node.head().height;
        if head < seen {
            return Err(WholeViolation::CommitLost {
                node: name(),
                had: seen,
                has: head,
            });
        }
        for h in seen + 1..=head {
            self.check_block(node, h)?;
        }
        Ok(head)
    }

    fn check_block(&mut self, node: &Node, h: u64) -> Result<(), WholeViolation> {
        let name = || node.validator_address().to_string();
        let alg = SUITE.hash();
        let block = node
            .chain()
            .block(h)
            .map_err(|e| ledger(node, e))?
            .ok_or_else(|| ledger(node, format!("committed block {h} missing")))?;
        let hash = block.hash(alg);
        let first = *self.blocks.entry(h).or_insert(hash);
        if first != hash {
            return Err(WholeViolation::Fork {
                height: h,
                node: name(),
                first,
                other: hash,
            });
        }
        let root = node.state().root_at(h).map_err(|e| ledger(node, e))?;
        if root != Some(block.header.state_root.0) {
            return Err(WholeViolation::StateRoot {
                height: h,
                node: name(),
            });
        }
        let cert = (h, alg.digest(&codec::encode(&block.certificate)));
        if !block.certificate.is_implied() && !self.verified.contains(&cert) {
            if let Err(e) = node.verify_certificate(&block, &hash) {
                return Err(WholeViolation::Certificate {
                    height: h,
                    node: name(),
                    reason: e.to_string(),
                });
            }
            self.verified.insert(cert);
        }
        self.check_receipts(node, h)?;
        for (i, tx) in block.transactions.iter().enumerate() {
            let at = (h, i as u32);
            let first = *self.txs.entry(tx.hash(alg)).or_insert(at);
            if first != at {
                return Err(WholeViolation::CommittedTwice {
                    tx: tx.hash(alg),
                    first,
                    second: at,
                });
            }
        }
        Ok(())
    }

    fn check_receipts(&mut self, node: &Node, h: u64) -> Result<(), WholeViolation> {
        let receipts = node
            .chain()
            .block_receipts(h)
            .map_err(|e| ledger(node, e))?;
        let encoded = codec::encode(&receipts);
        let first = self.receipts.entry(h).or_insert_with(|| encoded.clone());
        if *first != encoded {
            return Err(WholeViolation::ReceiptRewritten {
                height: h,
                node: node.validator_address().to_string(),
            });
        }
        Ok(())
    }

    /// Whether `node` has committed `tx`.
    pub fn has(node: &Node, tx: &Hash) -> bool {
        matches!(node.receipt(tx), Ok(Some(_)))
    }

    /// The end of a run: every receipt is still the one first committed, every transaction is
    /// where it was first committed, and (with `whole_chain`) the chain verifies from genesis.
    pub fn finish(&self, node: &Node, whole_chain: bool) -> Result<(), WholeViolation> {
        if whole_chain {
            node.verify_chain().map_err(|e| ledger(node, e))?;
        }
        let head = node.head().height;
        for h in 1..=head {
            self.check_receipts_unchanged(node, h)?;
        }
        for (tx, at) in &self.txs {
            if at.0 > head {
                continue;
            }
            let loc = node.tx_location(tx).map_err(|e| ledger(node, e))?;
            if loc.map(|l| (l.height, l.index)) != Some(*at) {
                return Err(WholeViolation::ReceiptRewritten {
                    height: at.0,
                    node: node.validator_address().to_string(),
                });
            }
        }
        Ok(())
    }

    fn check_receipts_unchanged(&self, node: &Node, h: u64) -> Result<(), WholeViolation> {
        let receipts = node
            .chain()
            .block_receipts(h)
            .map_err(|e| ledger(node, e))?;
        match self.receipts.get(&h) {
            Some(first) if *first == codec::encode(&receipts) => Ok(()),
            _ => Err(WholeViolation::ReceiptRewritten {
                height: h,
                node: node.validator_address().to_string(),
            }),
        }
    }
}
