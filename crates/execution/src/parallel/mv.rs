//! Multi-version memory: every committed write of the block, keyed by state key, tagged with
//! the index of the transaction that wrote it. A reader pinned to a prefix (the first `n`
//! transactions) sees exactly the state serial execution would see before transaction `n`.

use crate::ExecutionError;
use crate::keys::StateKey;
use crate::overlay::StateView;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{PoisonError, RwLock};

/// Number of lock shards (a power of two); keys are hashes, so any byte spreads them.
const SHARDS: usize = 64;

/// One version: (writer index, value; `None` = deleted).
type Version = (u32, Option<Vec<u8>>);

/// Older versions kept per key. Only speculations on a stale prefix read them, and such a
/// read of a hot key fails validation anyway; dropping the rest keeps a hot key's memory (and
/// the allocator's work) bounded.
const KEEP: usize = 16;

/// One key's versions: the newest inline (most keys are written once per block), some older
/// ones oldest first.
struct Versions {
    newest: Version,
    older: Vec<Version>,
    /// Older versions were dropped.
    pruned: bool,
}

/// A speculation asked for a version that was dropped: it is stale, it will be re-executed.
pub(crate) struct Pruned;

impl Versions {
    fn push(&mut self, v: Version) {
        let old = std::mem::replace(&mut self.newest, v);
        if self.older.len() >= 2 * KEEP {
            self.older.drain(..KEEP);
            self.pruned = true;
        }
        self.older.push(old);
    }

    /// The newest version written before `before` (`None`: the base state's value).
    fn before(&self, before: u32) -> Result<Option<&Version>, Pruned> {
        let found = std::iter::once(&self.newest)
            .chain(self.older.iter().rev())
            .find(|(writer, _)| *writer < before);
        match found {
            None if self.pruned => Err(Pruned),
            found => Ok(found),
        }
    }
}

/// State keys are already uniform hashes: hash them by folding their bytes, not with SipHash.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(17) ^ u64::from_le_bytes(word);
        }
    }
}

type Shard = HashMap<StateKey, Versions, BuildHasherDefault<KeyHasher>>;

/// The versioned writes of one block (see the module docs).
pub(crate) struct MvMemory {
    shards: Vec<RwLock<Shard>>,
}

impl MvMemory {
    /// Room for about `keys` written keys.
    pub(crate) fn with_capacity(keys: usize) -> Self {
        let per_shard = keys / SHARDS + keys / (4 * SHARDS) + 4;
        let shard = || Shard::with_capacity_and_hasher(per_shard, Default::default());
        MvMemory {
            shards: (0..SHARDS).map(|_| RwLock::new(shard())).collect(),
        }
    }

    fn shard(&self, key: &StateKey) -> &RwLock<Shard> {
        &self.shards[usize::from(key[0]) % SHARDS]
    }

    /// The newest value written by a transaction before `before`; `None` when no transaction
    /// before it wrote `key` (read the base state then). Reading the prefix of everything
    /// committed never meets [`Pruned`].
    pub(crate) fn read(
        &self,
        key: &StateKey,
        before: u32,
    ) -> Result<Option<Option<Vec<u8>>>, Pruned> {
        let shard = self
            .shard(key)
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        match shard.get(key) {
            None => Ok(None),
            Some(v) => Ok(v.before(before)?.map(|(_, v)| v.clone())),
        }
    }

    /// Index of the last transaction that wrote `key`, if any.
    pub(crate) fn last_writer(&self, key: &StateKey) -> Option<u32> {
        let shard = self
            .shard(key)
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        shard.get(key).map(|v| v.newest.0)
    }

    /// Record the writes of transaction `writer` (callers commit in increasing order).
    pub(crate) fn write(&self, writer: u32, writes: Vec<(StateKey, Option<Vec<u8>>)>) {
        for (key, value) in writes {
            let mut shard = self
                .shard(&key)
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            match shard.entry(key) {
                Entry::Occupied(mut e) => e.get_mut().push((writer, value)),
                Entry::Vacant(e) => {
                    e.insert(Versions {
                        newest: (writer, value),
                        older: Vec::new(),
                        pruned: false,
                    });
                }
            }
        }
    }

    /// The block's change set: each written key with its last value, sorted by key.
    pub(crate) fn into_changes(self) -> Vec<(StateKey, Option<Vec<u8>>)> {
        let mut out: Vec<(StateKey, Option<Vec<u8>>)> = Vec::new();
        for shard in self.shards {
            let shard = shard.into_inner().unwrap_or_else(PoisonError::into_inner);
            out.extend(
                shard
                    .into_iter()
                    .map(|(k, versions)| (k, versions.newest.1)),
            );
        }
        out.sort_unstable_by_key(|a| a.0);
        out
    }
}

/// The state before transaction `before`: base state plus the versions committed before it.
pub(crate) struct PrefixView<'a> {
    pub(crate) mv: &'a MvMemory,
    pub(crate) base: &'a (dyn StateView + Sync),
    pub(crate) before: u32,
}

impl StateView for PrefixView<'_> {
    fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>, ExecutionError> {
        match self.mv.read(key, self.before) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => self.base.get(key),
            Err(Pruned) => Err(ExecutionError::State(
                "speculation read a dropped version".into(),
            )),
        }
    }
}

/// Values up to this size are kept inline in the read set (accounts, holdings).
const INLINE: usize = 40;

/// A value a speculation read, kept to compare at commit.
pub(crate) enum Seen {
    Absent,
    Inline(u8, [u8; INLINE]),
    Heap(Vec<u8>),
}

impl Seen {
    fn of(v: Option<&[u8]>) -> Seen {
        match v {
            None => Seen::Absent,
            Some(b) if b.len() <= INLINE => {
                let mut buf = [0u8; INLINE];
                buf[..b.len()].copy_from_slice(b);
                Seen::Inline(b.len() as u8, buf)
            }
            Some(b) => Seen::Heap(b.to_vec()),
        }
    }

    fn matches(&self, v: Option<&[u8]>) -> bool {
        match (self, v) {
            (Seen::Absent, None) => true,
            (Seen::Inline(n, buf), Some(b)) => &buf[..usize::from(*n)] == b,
            (Seen::Heap(h), Some(b)) => h.as_slice() == b,
            _ => false,
        }
    }
}

impl MvMemory {
    /// Whether the newest version of `key` is `seen` (callers ensure it was written).
    pub(crate) fn newest_is(&self, key: &StateKey, seen: &Seen) -> bool {
        let shard = self
            .shard(key)
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        shard
            .get(key)
            .is_some_and(|v| seen.matches(v.newest.1.as_deref()))
    }
}

/// A [`PrefixView`] that records every key read and the value it gave (the read set
/// validated at commit).
pub(crate) struct TrackedView<'a> {
    pub(crate) prefix: PrefixView<'a>,
    pub(crate) reads: std::cell::RefCell<Vec<(StateKey, Seen)>>,
}

impl StateView for TrackedView<'_> {
    fn get(&self, key: &StateKey) -> Result<Option<Vec<u8>>, ExecutionError> {
        let v = self.prefix.get(key)?;
        self.reads.borrow_mut().push((*key, Seen::of(v.as_deref())));
        Ok(v)
    }
}
