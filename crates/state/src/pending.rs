//! Speculative state: the tree nodes, values and root of a block that is executed but not yet
//! committed, kept in memory so descendants can be executed on top of it (pipelined consensus
//! proposes block `h+1` before `h` commits).

use jmt::storage::{LeafNode, Node, NodeBatch, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, Version};

use crate::RootHash;
use crate::error::StateError;
use crate::reader::StoreReader;

/// The state delta of one uncommitted version. Cheap to share behind an `Arc`; immutable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateDelta {
    pub(crate) version: u64,
    pub(crate) root: RootHash,
    /// jmt's new nodes and the values written at `version` (`None` = deleted), kept as jmt
    /// produced them (moved, not copied).
    pub(crate) batch: NodeBatch,
}

impl StateDelta {
    /// The version (block height) this delta produces.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The state root after this delta.
    pub fn root(&self) -> RootHash {
        self.root
    }

    /// What this delta wrote at `key`: `None` if untouched, `Some(None)` if deleted.
    pub fn written(&self, key: &[u8; 32]) -> Option<Option<&[u8]>> {
        self.value(&KeyHash(*key)).map(|v| v.as_deref())
    }

    /// Number of tree nodes the delta adds (a cost measure).
    pub fn node_count(&self) -> usize {
        self.batch.nodes().len()
    }

    pub(crate) fn value(&self, key_hash: &KeyHash) -> Option<&Option<Vec<u8>>> {
        self.batch.values().get(&(self.version, *key_hash))
    }
}

/// Check that `pending` is a consecutive chain starting right after `latest` committed.
pub(crate) fn check_chain(latest: Option<u64>, pending: &[&StateDelta]) -> Result<u64, StateError> {
    let mut expected = latest.map_or(0, |v| v + 1);
    for d in pending {
        if d.version != expected {
            return Err(StateError::VersionGap {
                expected,
                got: d.version,
            });
        }
        expected += 1;
    }
    Ok(expected)
}

/// Reads through the pending deltas (newest first), then the store.
pub(crate) struct OverlayReader<'a> {
    pub(crate) store: StoreReader<'a>,
    pub(crate) pending: &'a [&'a StateDelta],
}

impl OverlayReader<'_> {
    pub(crate) fn value_at(
        &self,
        max_version: Version,
        key_hash: &KeyHash,
    ) -> Result<Option<Vec<u8>>, StateError> {
        for d in self.pending.iter().rev() {
            if d.version <= max_version
                && let Some(v) = d.value(key_hash)
            {
                return Ok(v.clone());
            }
        }
        self.store.value_at(max_version, key_hash)
    }
}

impl TreeReader for OverlayReader<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        for d in self.pending.iter().rev() {
            if let Some(n) = d.batch.get_node(node_key) {
                return Ok(Some(n.clone()));
            }
        }
        Ok(self.store.node(node_key)?)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self.value_at(max_version, &key_hash)?)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        self.store.get_rightmost_leaf()
    }
}
