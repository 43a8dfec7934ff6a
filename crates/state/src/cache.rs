//! A cache of each key's **latest** value, so that reads at the head (admission, execution,
//! proposals) skip the store's reverse seek.
//!
//! An entry `(w, v)` means: the newest write of the key is at version `w` with value `v`
//! (`(0, None)`: never written), so any read at a version `>= w` returns `v`; reads at older
//! versions go to the store.
//! - Entries are only inserted by [`ValueCache::note_read`], after a store read at
//!   `max_version`, and only if no write of a newer version has started
//!   (`max_version >= written_through`); an entry is never replaced by an older one. Until this
//!   tree has written a block (`written_through` unknown, e.g. after a restart) nothing is
//!   cached, since a read could be at an old version.
//! - `StateTree::write` calls [`ValueCache::invalidate`] for the keys a block writes, before
//!   the block's batch is committed: their entries go, and `written_through` rises so that a
//!   reader holding an older snapshot cannot put an older value back. If the batch is then
//!   dropped, the cache merely misses.
//!
//! On overflow the whole cache is cleared (`written_through` stays), which keeps the rules
//! above true.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Most cached keys before the cache is cleared.
pub const VALUE_CACHE_ENTRIES: usize = 1 << 20;

type Entry = (u64, Option<Vec<u8>>);

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<[u8; 32], Entry>,
    /// Highest version whose writes were noted.
    written_through: Option<u64>,
}

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct ValueCache {
    inner: Mutex<Inner>,
}

impl ValueCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every mutation is a single insert/clear: a poisoned lock still holds a valid map.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The value of `key` at `max_version`, if the cache knows it.
    pub(crate) fn get(&self, key: &[u8; 32], max_version: u64) -> Option<Option<Vec<u8>>> {
        let inner = self.lock();
        match inner.map.get(key) {
            Some((w, v)) if *w <= max_version => Some(v.clone()),
            _ => None,
        }
    }

    /// A store read at `max_version` found `value` written at `found` (`None`: never written).
    pub(crate) fn note_read(
        &self,
        key: &[u8; 32],
        max_version: u64,
        found: Option<u64>,
        value: &Option<Vec<u8>>,
    ) {
        let mut inner = self.lock();
        match inner.written_through {
            Some(wt) if max_version >= wt => {}
            _ => return,
        }
        let version = found.unwrap_or(0);
        if inner.map.get(key).is_some_and(|(w, _)| *w >= version) {
            return;
        }
        if inner.map.len() >= VALUE_CACHE_ENTRIES {
            inner.map.clear();
        }
        inner.map.insert(*key, (version, value.clone()));
    }

    /// A block writing `keys` at `version` is about to be committed.
    pub(crate) fn invalidate<'a>(
        &self,
        version: u64,
        keys: impl IntoIterator<Item = &'a [u8; 32]>,
    ) {
        let mut inner = self.lock();
        inner.written_through = Some(inner.written_through.map_or(version, |w| w.max(version)));
        for key in keys {
            inner.map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_at_or_after_the_latest_write_hit_older_reads_miss() {
        let c = ValueCache::default();
        let k = [1u8; 32];
        // Nothing is cached before this tree's first write (the read could be historical).
        c.note_read(&k, 5, Some(5), &Some(vec![5]));
        assert_eq!(c.get(&k, 5), None);
        c.invalidate(5, []);
        // A head reader caches what it read at version 5.
        c.note_read(&k, 5, Some(5), &Some(vec![5]));
        assert_eq!(c.get(&k, 5), Some(Some(vec![5])));
        assert_eq!(c.get(&k, 9), Some(Some(vec![5])));
        assert_eq!(c.get(&k, 4), None);
        // "Never written" is cached as (0, None).
        c.note_read(&[3u8; 32], 5, None, &None);
        assert_eq!(c.get(&[3u8; 32], 0), Some(None));
        // An older read never replaces a newer one.
        c.note_read(&k, 5, Some(2), &Some(vec![2]));
        assert_eq!(c.get(&k, 7), Some(Some(vec![5])));
        // Block 6 writes k: the entry goes, and a reader still at 5 cannot put it back.
        c.invalidate(6, [&k]);
        assert_eq!(c.get(&k, 6), None);
        c.note_read(&k, 5, Some(5), &Some(vec![5]));
        assert_eq!(c.get(&k, 6), None);
        // A reader at 6 can.
        c.note_read(&k, 6, Some(6), &None);
        assert_eq!(c.get(&k, 6), Some(None));
        assert_eq!(c.get(&k, 5), None);
    }
}
