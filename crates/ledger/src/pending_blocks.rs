//! Durable copies of executed but uncommitted BFT blocks.
//!
//! A validator stores a block's body before it votes for (or proposes) it. Without this, a
//! block certified just before every validator stopped would exist nowhere after a restart,
//! while the persisted consensus state (its high QC) requires extending it: the network would
//! wait for it forever. The body is written with buffered durability; the fsynced safety-state
//! write that precedes every vote makes it durable. Entries at or below a committed height are
//! deleted in that block's commit batch.
//!
//! Key layout in `Table::Meta`: `PREFIX ‖ height (u64 BE) ‖ block hash`.

use crate::{Ledger, LedgerError};
use keel_storage::{Durability, Table, WriteBatch};
use keel_types::{Block, Hash, codec};

const PREFIX: &[u8] = b"pending_block/";
/// Most stored pending blocks read back at start (the consensus core keeps far fewer).
pub const MAX_PENDING_BLOCKS: usize = 256;

fn key(height: u64, hash: &Hash) -> Vec<u8> {
    let mut k = Vec::with_capacity(PREFIX.len() + 8 + 32);
    k.extend_from_slice(PREFIX);
    k.extend_from_slice(&height.to_be_bytes());
    k.extend_from_slice(hash.as_bytes());
    k
}

fn height_of(k: &[u8]) -> Option<u64> {
    let h = k.get(PREFIX.len()..PREFIX.len() + 8)?;
    Some(u64::from_be_bytes(h.try_into().ok()?))
}

impl Ledger {
    /// Store an executed, not yet committed block (see the module docs).
    pub fn persist_pending_block(&self, block: &Block, hash: &Hash) -> Result<(), LedgerError> {
        let mut batch = self.chain.store().batch();
        batch.put(
            Table::Meta,
            &key(block.header.height, hash),
            &codec::encode(block),
        );
        Ok(batch.commit(Durability::Buffered)?)
    }

    /// Stored pending blocks above the committed head, lowest height first.
    pub fn load_pending_blocks(&self) -> Result<Vec<Block>, LedgerError> {
        let head = self.head().height;
        let mut out = Vec::new();
        for (k, v) in self
            .chain
            .store()
            .scan_prefix(Table::Meta, PREFIX, usize::MAX)?
        {
            if height_of(&k).is_none_or(|h| h <= head) {
                continue;
            }
            match Block::decode(&v) {
                Ok(b) => out.push(b),
                Err(e) => {
                    tracing::warn!(error = %e, "skipping an undecodable stored pending block")
                }
            }
            if out.len() >= MAX_PENDING_BLOCKS {
                break;
            }
        }
        out.sort_by_key(|b| b.header.height);
        Ok(out)
    }

    /// Add deletions of stored pending blocks at or below `height` to `batch`.
    pub(crate) fn prune_pending_blocks(
        &self,
        height: u64,
        batch: &mut WriteBatch,
    ) -> Result<(), LedgerError> {
        for (k, _) in self
            .chain
            .store()
            .scan_prefix(Table::Meta, PREFIX, usize::MAX)?
        {
            if height_of(&k).is_some_and(|h| h <= height) {
                batch.delete(Table::Meta, &k);
            }
        }
        Ok(())
    }
}
