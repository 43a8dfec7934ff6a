//! jmt's `TreeReader` over a [`keel_storage::Store`].

use jmt::storage::{LeafNode, Node, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, Version};
use keel_storage::{Store, Table};

use crate::cache::ValueCache;
use crate::error::StateError;
use crate::layout;

/// Reads committed nodes and values only: `apply` never sees uncommitted batches.
pub(crate) struct StoreReader<'a> {
    pub(crate) store: &'a Store,
    pub(crate) cache: &'a ValueCache,
}

impl StoreReader<'_> {
    pub(crate) fn value_at(
        &self,
        max_version: Version,
        key_hash: &KeyHash,
    ) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(v) = self.cache.get(&key_hash.0, max_version) {
            return Ok(v);
        }
        let seek = layout::value_key(key_hash, max_version);
        let (found, value) =
            match self
                .store
                .last_at_or_before(Table::StateValues, &key_hash.0, &seek)?
            {
                Some((key, bytes)) => (
                    Some(layout::version_of_value_key(&key)?),
                    layout::decode_value(&bytes)?,
                ),
                None => (None, None),
            };
        self.cache
            .note_read(&key_hash.0, max_version, found, &value);
        Ok(value)
    }

    pub(crate) fn node(&self, node_key: &NodeKey) -> Result<Option<Node>, StateError> {
        let key = layout::node_key(node_key)?;
        match self.store.get(Table::StateNodes, &key)? {
            Some(bytes) => borsh::from_slice(&bytes)
                .map(Some)
                .map_err(|e| StateError::decode("tree node", e)),
            None => Ok(None),
        }
    }
}

impl TreeReader for StoreReader<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.node(node_key)?)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self.value_at(max_version, &key_hash)?)
    }

    /// Only jmt's state-sync restore and `migration` feature use this; Keel supports neither.
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        anyhow::bail!("get_rightmost_leaf: state restore is not supported by keel-state")
    }
}
