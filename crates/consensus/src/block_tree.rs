//! DiemBFT-v4 BlockTree: uncommitted blocks above the committed root, the highest QC, and
//! the commit walk.

use std::collections::BTreeMap;

use keel_types::Hash;

use crate::Round;
use crate::certificates::QuorumCert;
use crate::messages::{BlockMeta, CommitInfo};

/// Most uncommitted blocks kept; each round adds at most one validated proposal and one
/// certified block, so this covers thousands of rounds without a commit.
pub const MAX_PENDING_BLOCKS: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BlockTree {
    committed: CommitInfo,
    blocks: BTreeMap<Hash, (BlockMeta, Round)>,
    high_qc: QuorumCert,
}

impl BlockTree {
    pub(crate) fn new(committed: CommitInfo, high_qc: QuorumCert) -> BlockTree {
        let mut tree = BlockTree {
            committed,
            blocks: BTreeMap::new(),
            high_qc: high_qc.clone(),
        };
        tree.insert(high_qc.vote.block, high_qc.round());
        tree
    }

    pub(crate) fn committed(&self) -> CommitInfo {
        self.committed
    }

    pub(crate) fn high_qc(&self) -> &QuorumCert {
        &self.high_qc
    }

    pub(crate) fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Adds a block known from a validated proposal or from a verified QC (whose vote data
    /// names the block and its parent). Blocks at or below the committed height, duplicates and
    /// inserts beyond [`MAX_PENDING_BLOCKS`] are ignored: the tree only serves commit walks.
    pub(crate) fn insert(&mut self, block: BlockMeta, round: Round) {
        if block.height <= self.committed.height || self.blocks.len() >= MAX_PENDING_BLOCKS {
            return;
        }
        self.blocks.entry(block.id).or_insert((block, round));
    }

    /// BlockTree.process_qc's high_qc update; true if `qc` is the new highest.
    pub(crate) fn update_high_qc(&mut self, qc: &QuorumCert) -> bool {
        if qc.round() > self.high_qc.round() {
            self.high_qc = qc.clone();
            return true;
        }
        false
    }

    /// BlockTree.process_qc's commit branch (Ledger.commit + prune): moves the root to
    /// `target` and returns the newly committed blocks this tree knows, ascending. The list is
    /// the longest known chain ending at `target`; if the tree has a gap (blocks missed while
    /// partitioned) the first block's height is above `old committed height + 1` and the host
    /// must fetch the missing ones by block sync.
    pub(crate) fn commit(&mut self, target: CommitInfo) -> Vec<BlockMeta> {
        let mut chain = Vec::new();
        let mut next = Some(target.block_id);
        while let Some(id) = next {
            let Some((meta, _)) = self.blocks.get(&id) else {
                break;
            };
            let expected_height = target.height - chain.len() as u64;
            if meta.height != expected_height || meta.height <= self.committed.height {
                break;
            }
            chain.push(*meta);
            next = (meta.parent_id != self.committed.block_id).then_some(meta.parent_id);
        }
        chain.reverse();
        self.committed = target;
        self.blocks
            .retain(|_, (meta, _)| meta.height > target.height);
        chain
    }
}
