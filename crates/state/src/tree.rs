//! [`StateTree`]: versioned Jellyfish Merkle tree over a [`keel_storage::Store`].

use std::collections::BTreeMap;
use std::sync::Arc;

use jmt::{JellyfishMerkleTree, KeyHash, SimpleHasher};
use keel_storage::{Store, Table, WriteBatch};

use crate::cache::ValueCache;
use crate::error::StateError;
use crate::hasher::{Sha256Hasher, Sm3Hasher};
use crate::layout;
use crate::pending::{OverlayReader, StateDelta, check_chain};
use crate::proof::StateProof;
use crate::reader::StoreReader;
use crate::{RootHash, StateHash, StateKey};

/// Root of a tree with no keys: jmt's placeholder constant, for every hash suite.
const EMPTY_ROOT: RootHash = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";

/// A consistent read view: committed state plus pending deltas (see [`StateTree::snapshot`]).
pub struct StateSnapshot<'a> {
    reader: OverlayReader<'a>,
    /// Newest version visible, `None` for an empty tree.
    version: Option<u64>,
}

impl std::fmt::Debug for StateSnapshot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateSnapshot")
            .field("version", &self.version)
            .field("pending", &self.reader.pending.len())
            .finish()
    }
}

impl StateSnapshot<'_> {
    /// Value of `key` in this view.
    pub fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>, StateError> {
        match self.version {
            Some(v) => self.reader.value_at(v, &KeyHash(*key)),
            None => Ok(None),
        }
    }

    /// Newest version visible (`None` for an empty tree).
    pub fn version(&self) -> Option<u64> {
        self.version
    }
}

/// The authenticated state: a versioned JMT whose nodes and values live in the store.
///
/// Reads see committed data only. One writer at a time: `apply` for version `v` requires
/// version `v - 1` to be *committed*, so blocks are applied and committed in sequence.
#[derive(Clone, Debug)]
pub struct StateTree {
    store: Store,
    hash: StateHash,
    /// Latest value per key (shared by clones; see `cache.rs`).
    cache: Arc<ValueCache>,
}

impl StateTree {
    /// A tree over `store` using the chain's suite hash.
    pub fn new(store: Store, hash: StateHash) -> StateTree {
        StateTree {
            store,
            hash,
            cache: Arc::new(ValueCache::default()),
        }
    }

    /// Root of the empty tree (identical for both suites: a fixed placeholder value).
    pub fn empty_root(hash: StateHash) -> RootHash {
        match hash {
            StateHash::Sm3 | StateHash::Sha256 => EMPTY_ROOT,
        }
    }

    /// The suite hash this tree uses.
    pub fn hash(&self) -> StateHash {
        self.hash
    }

    /// Latest committed version (block height) whose root is stored, if any.
    pub fn latest_version(&self) -> Result<Option<u64>, StateError> {
        let found = self.store.last_at_or_before(
            Table::StateNodes,
            &[layout::ROOT_PREFIX],
            &layout::root_key(u64::MAX),
        )?;
        found
            .map(|(key, _)| layout::version_of_root_key(&key))
            .transpose()
    }

    /// The root committed for `version`, if that version is committed.
    pub fn root_at(&self, version: u64) -> Result<Option<RootHash>, StateError> {
        let Some(bytes) = self
            .store
            .get(Table::StateNodes, &layout::root_key(version))?
        else {
            return Ok(None);
        };
        let root = bytes
            .as_slice()
            .try_into()
            .map_err(|_| StateError::decode("root hash", format!("{} bytes", bytes.len())))?;
        Ok(Some(root))
    }

    /// Value of `key` as of `version` (inclusive). Errors if `version` is not committed.
    pub fn get(&self, key: &StateKey, version: u64) -> Result<Option<Vec<u8>>, StateError> {
        self.require_committed(version)?;
        self.reader().value_at(version, &KeyHash(*key))
    }

    /// Apply the changes (`None` = delete) as `version` on top of `version - 1` (version 0 is
    /// genesis on an empty tree; versions must be consecutive). Writes all new nodes, values
    /// and the version's root into `batch`; does NOT commit it. Returns the new root.
    /// Nothing else is mutated: if the batch is dropped, nothing happened.
    ///
    /// If a key appears several times in `changes`, the last entry wins.
    pub fn apply(
        &self,
        version: u64,
        changes: &[(StateKey, Option<Vec<u8>>)],
        batch: &mut WriteBatch,
    ) -> Result<RootHash, StateError> {
        let delta = self.compute(version, changes, &[])?;
        self.write(&delta, batch)?;
        Ok(delta.root)
    }

    /// Compute `version` on top of the committed state plus `pending`, the uncommitted
    /// ancestors (oldest first, consecutive versions starting right after the latest committed
    /// one). Pure: reads only; the result is kept in memory until [`StateTree::write`].
    pub fn compute(
        &self,
        version: u64,
        changes: &[(StateKey, Option<Vec<u8>>)],
        pending: &[&StateDelta],
    ) -> Result<StateDelta, StateError> {
        let expected = check_chain(self.latest_version()?, pending)?;
        if version != expected {
            return Err(StateError::VersionGap {
                expected,
                got: version,
            });
        }
        // jmt expects each key at most once per version; ordering makes the batch canonical.
        let changes: BTreeMap<KeyHash, Option<Vec<u8>>> = changes
            .iter()
            .map(|(k, v)| (KeyHash(*k), v.clone()))
            .collect();
        match self.hash {
            StateHash::Sm3 => self.compute_with::<Sm3Hasher>(version, changes, pending),
            StateHash::Sha256 => self.compute_with::<Sha256Hasher>(version, changes, pending),
        }
    }

    fn compute_with<H: SimpleHasher>(
        &self,
        version: u64,
        changes: BTreeMap<KeyHash, Option<Vec<u8>>>,
        pending: &[&StateDelta],
    ) -> Result<StateDelta, StateError> {
        let reader = OverlayReader {
            store: self.reader(),
            pending,
        };
        let tree = JellyfishMerkleTree::<_, H>::new(&reader);
        let (root, update) = tree
            .put_value_set(changes, version)
            .map_err(StateError::from_tree)?;
        // Stale-node indices (`update.stale_node_index_batch`) are dropped: no pruning yet.
        Ok(StateDelta {
            version,
            root: root.0,
            batch: update.node_batch,
        })
    }

    /// Add a computed delta to `batch` (it must be the next version after the latest
    /// committed one). Everything is encoded before the batch is touched, so an error leaves
    /// `batch` unchanged.
    pub fn write(&self, delta: &StateDelta, batch: &mut WriteBatch) -> Result<(), StateError> {
        check_chain(self.latest_version()?, &[delta])?;
        let (nodes, values) = (delta.batch.nodes(), delta.batch.values());
        let mut ops = Vec::with_capacity(nodes.len() + values.len() + 1);
        for (node_key, node) in nodes {
            let value = borsh::to_vec(node).map_err(|e| StateError::decode("tree node", e))?;
            ops.push((Table::StateNodes, layout::node_key(node_key)?, value));
        }
        for ((value_version, key_hash), value) in values {
            ops.push((
                Table::StateValues,
                layout::value_key(key_hash, *value_version).to_vec(),
                layout::encode_value(value.as_deref()),
            ));
        }
        ops.push((
            Table::StateNodes,
            layout::root_key(delta.version).to_vec(),
            delta.root.to_vec(),
        ));
        self.cache
            .invalidate(delta.version, values.keys().map(|(_, k)| &k.0));
        for (table, key, value) in &ops {
            batch.put(*table, key, value);
        }
        Ok(())
    }

    /// Value of `key` on top of the committed state plus `pending` (as [`StateTree::compute`]
    /// sees it): the newest pending write wins, else the latest committed value. For many
    /// reads, take a [`StateTree::snapshot`] once instead.
    pub fn get_pending(
        &self,
        key: &StateKey,
        pending: &[&StateDelta],
    ) -> Result<Option<Vec<u8>>, StateError> {
        self.snapshot(pending)?.get(key)
    }

    /// A read view of the committed state plus `pending` (oldest first, consecutive after the
    /// latest committed version). The chain is checked once here, so each read costs one
    /// overlay lookup and at most one store seek.
    pub fn snapshot<'a>(
        &'a self,
        pending: &'a [&'a StateDelta],
    ) -> Result<StateSnapshot<'a>, StateError> {
        let newest = check_chain(self.latest_version()?, pending)?;
        Ok(StateSnapshot {
            reader: OverlayReader {
                store: self.reader(),
                pending,
            },
            version: newest.checked_sub(1),
        })
    }

    /// The value of `key` at `version` with a proof against [`StateTree::root_at`]`(version)`.
    pub fn prove(
        &self,
        key: &StateKey,
        version: u64,
    ) -> Result<(Option<Vec<u8>>, StateProof), StateError> {
        self.require_committed(version)?;
        match self.hash {
            StateHash::Sm3 => self.prove_with::<Sm3Hasher>(key, version),
            StateHash::Sha256 => self.prove_with::<Sha256Hasher>(key, version),
        }
    }

    fn prove_with<H: SimpleHasher>(
        &self,
        key: &StateKey,
        version: u64,
    ) -> Result<(Option<Vec<u8>>, StateProof), StateError> {
        let reader = self.reader();
        let tree = JellyfishMerkleTree::<_, H>::new(&reader);
        let (value, proof) = tree
            .get_with_proof(KeyHash(*key), version)
            .map_err(StateError::from_tree)?;
        Ok((value, StateProof::from_jmt(&proof)?))
    }

    fn require_committed(&self, version: u64) -> Result<(), StateError> {
        if self.root_at(version)?.is_some() {
            return Ok(());
        }
        Err(StateError::UnknownVersion {
            version,
            latest: self.latest_version()?,
        })
    }

    fn reader(&self) -> StoreReader<'_> {
        StoreReader {
            store: &self.store,
            cache: &self.cache,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_storage::{Durability, StoreOptions};

    /// `StateProof` must carry exactly what jmt's proof carries, or verification would differ.
    #[test]
    fn state_proof_is_a_lossless_mirror_of_the_jmt_proof() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), StoreOptions::default()).expect("open");
        let tree = StateTree::new(store.clone(), StateHash::Sha256);
        let changes: Vec<_> = (0u8..40)
            .map(|i| ([i.wrapping_mul(37); 32], Some(vec![i])))
            .collect();
        let mut batch = store.batch();
        tree.apply(0, &changes, &mut batch).expect("apply");
        batch.commit(Durability::Buffered).expect("commit");
        let reader = tree.reader();
        let jmt_tree = JellyfishMerkleTree::<_, Sha256Hasher>::new(&reader);
        for probe in 0u8..=255 {
            let (_, proof) = jmt_tree
                .get_with_proof(KeyHash([probe; 32]), 0)
                .expect("jmt proof");
            let ours = StateProof::from_jmt(&proof).expect("mirror");
            assert_eq!(ours.to_jmt::<Sha256Hasher>().expect("back"), proof);
        }
    }
}
