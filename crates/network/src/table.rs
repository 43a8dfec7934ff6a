//! The peer table: one slot per allowed peer. It starts from the configuration and grows while
//! the node runs when governance admits a node (issue 14, [`crate::NetworkHandle::admit_peers`]);
//! the handshake's allow check and every send read it.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use keel_types::Address;

use crate::peer::PeerSlot;

/// The allowed peers and their slots.
#[derive(Debug, Default)]
pub(crate) struct PeerTable {
    slots: RwLock<HashMap<Address, Arc<PeerSlot>>>,
}

impl PeerTable {
    pub(crate) fn new(slots: HashMap<Address, Arc<PeerSlot>>) -> PeerTable {
        PeerTable {
            slots: RwLock::new(slots),
        }
    }

    /// The slot of `peer`, if it is allowed.
    pub(crate) fn get(&self, peer: &Address) -> Option<Arc<PeerSlot>> {
        self.read().get(peer).cloned()
    }

    /// Whether `peer` is allowed to link.
    pub(crate) fn contains(&self, peer: &Address) -> bool {
        self.read().contains_key(peer)
    }

    /// Every slot (a snapshot).
    pub(crate) fn all(&self) -> Vec<Arc<PeerSlot>> {
        self.read().values().cloned().collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.read().len()
    }

    /// Adds `slot` unless its peer is already known; whether it was added.
    pub(crate) fn insert_new(&self, slot: Arc<PeerSlot>) -> bool {
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        if slots.contains_key(&slot.address) {
            return false;
        }
        slots.insert(slot.address, slot);
        true
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Address, Arc<PeerSlot>>> {
        self.slots.read().unwrap_or_else(PoisonError::into_inner)
    }
}
