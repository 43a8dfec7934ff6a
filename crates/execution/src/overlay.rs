//! Read access to state and the write overlay used during execution.

use crate::ExecutionError;
use crate::keys::StateKey;
use std::collections::BTreeMap;

/// Read-only view of the state as of the parent block.
pub trait StateView {
    /// Value at `key`, if any.
    fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>, ExecutionError>;
}

/// A plain in-memory state, for tests and tools.
#[derive(Debug, Default, Clone)]
pub struct MemoryState(pub BTreeMap<StateKey, Vec<u8>>);

impl StateView for MemoryState {
    fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>, ExecutionError> {
        Ok(self.0.get(key).cloned())
    }
}

impl MemoryState {
    /// Apply a change set produced by the executor.
    pub fn apply(&mut self, changes: &[(StateKey, Option<Vec<u8>>)]) {
        for (k, v) in changes {
            match v {
                Some(v) => self.0.insert(*k, v.clone()),
                None => self.0.remove(k),
            };
        }
    }
}

/// Writes layered over a base view: block-level writes, then transaction-level writes that are
/// merged on success or dropped on failure.
pub(crate) struct Overlay<'a> {
    base: &'a dyn StateView,
    block: BTreeMap<StateKey, Option<Vec<u8>>>,
    tx: BTreeMap<StateKey, Option<Vec<u8>>>,
}

impl<'a> Overlay<'a> {
    pub(crate) fn new(base: &'a dyn StateView) -> Self {
        Overlay {
            base,
            block: BTreeMap::new(),
            tx: BTreeMap::new(),
        }
    }

    pub(crate) fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>, ExecutionError> {
        if let Some(v) = self.tx.get(key) {
            return Ok(v.clone());
        }
        if let Some(v) = self.block.get(key) {
            return Ok(v.clone());
        }
        self.base.get(key)
    }

    pub(crate) fn put(&mut self, key: StateKey, value: Vec<u8>) {
        self.tx.insert(key, Some(value));
    }

    /// Write or delete (EVM storage slots and self-destructs delete).
    pub(crate) fn set(&mut self, key: StateKey, value: Option<Vec<u8>>) {
        self.tx.insert(key, value);
    }

    pub(crate) fn commit_tx(&mut self) {
        let tx = std::mem::take(&mut self.tx);
        self.block.extend(tx);
    }

    pub(crate) fn discard_tx(&mut self) {
        self.tx.clear();
    }

    pub(crate) fn into_changes(mut self) -> Vec<(StateKey, Option<Vec<u8>>)> {
        self.commit_tx();
        self.block.into_iter().collect()
    }
}

impl StateView for Overlay<'_> {
    fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>, ExecutionError> {
        Overlay::get(self, key)
    }
}
