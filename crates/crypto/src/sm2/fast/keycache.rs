//! Per-public-key verification state for repeat senders: the parsed point, its Z_A with the
//! default ID, and — once the key has verified [`COMB_AFTER_USES`] signatures — a 4-bit comb
//! table of the key, which turns verification into two fixed-base comb multiplications (no
//! doublings). In a consortium the same accounts sign again and again, so this is the common
//! case; a fresh key costs what it did before.
//!
//! Bounded: at most [`MAX_KEYS`] keys (the map is cleared when full) and at most
//! [`MAX_TABLES`] comb tables (~60 KiB each) alive at once. Only public data is cached.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use super::point::Affine;
use super::table::{Comb, build_comb};

/// Most keys remembered.
pub const MAX_KEYS: usize = 8_192;
/// Most comb tables built and alive at once (≈ 60 KiB each).
pub const MAX_TABLES: usize = 1_024;
/// A key gets its comb table when it verifies this many signatures.
pub const COMB_AFTER_USES: u32 = 4;

static TABLES: AtomicUsize = AtomicUsize::new(0);

static KEYS: LazyLock<Mutex<HashMap<Vec<u8>, Arc<CachedKey>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// What is cached for one encoded public key.
#[derive(Debug)]
pub(crate) struct CachedKey {
    /// The point.
    pub(crate) point: Affine,
    /// Z_A with the default distinguishing ID.
    pub(crate) za_default: [u8; 32],
    uses: AtomicU32,
    comb: OnceLock<Option<Comb>>,
}

impl CachedKey {
    /// Count a verification; the comb table, once this key has earned one.
    pub(crate) fn comb(&self) -> Option<&Comb> {
        if let Some(c) = self.comb.get() {
            return c.as_ref();
        }
        let uses = self.uses.fetch_add(1, Ordering::Relaxed) + 1;
        if uses < COMB_AFTER_USES {
            return None;
        }
        self.comb
            .get_or_init(|| {
                // Reserve a table slot; none left: this key verifies without one.
                let reserved = TABLES
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                        (n < MAX_TABLES).then_some(n + 1)
                    })
                    .is_ok();
                reserved.then(|| build_comb(&self.point))
            })
            .as_ref()
    }
}

impl Drop for CachedKey {
    fn drop(&mut self) {
        if let Some(Some(_)) = self.comb.get() {
            TABLES.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// The cached state of `encoded`, parsing it (and computing Z_A with `za`) on a miss.
/// `None` if the key does not parse.
pub(crate) fn get(
    encoded: &[u8],
    parse: impl FnOnce(&[u8]) -> Option<Affine>,
    za: impl FnOnce(&Affine) -> Option<[u8; 32]>,
) -> Option<Arc<CachedKey>> {
    if let Some(k) = KEYS.lock().unwrap_or_else(|p| p.into_inner()).get(encoded) {
        return Some(k.clone());
    }
    let point = parse(encoded)?;
    let za_default = za(&point)?;
    let key = Arc::new(CachedKey {
        point,
        za_default,
        uses: AtomicU32::new(0),
        comb: OnceLock::new(),
    });
    let mut keys = KEYS.lock().unwrap_or_else(|p| p.into_inner());
    if keys.len() >= MAX_KEYS {
        keys.clear();
    }
    keys.insert(encoded.to_vec(), key.clone());
    Some(key)
}
