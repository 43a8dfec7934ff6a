//! Received-but-unvalidated block bodies: proposal bodies broadcast by their proposer and
//! ancestors fetched by hash (`BlockResponse`). Every entry is bounded on arrival — a height
//! window above the committed head, a per-source count and byte quota with eviction of that
//! source's oldest entry, a total count — so no peer (an observer, a Byzantine validator) can
//! fill the cache and make honest bodies be dropped, and far-future heights never stick.

use keel_types::{Address, Block, Hash};
use std::collections::HashMap;

/// Most bodies kept in total.
pub const MAX_BODIES: usize = 256;
/// Most bodies kept per source peer.
pub const MAX_BODIES_PER_PEER: usize = 32;
/// Most body bytes (wire frame sizes) kept per source peer.
pub const MAX_BODY_BYTES_PER_PEER: usize = 32 * 1024 * 1024;
/// Most body bytes kept in total.
pub const MAX_BODY_BYTES: usize = 128 * 1024 * 1024;
/// Bodies are kept only for heights in `head + 1 ..= head + BODY_WINDOW_BLOCKS` (the deepest
/// ancestor fetch reaches as far; a node further behind catches up by block sync).
pub const BODY_WINDOW_BLOCKS: u64 = 64;
/// Most block ids asked for by hash and not yet answered.
pub const MAX_WANTED_BLOCKS: usize = 256;

/// Why a body was not cached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyRefusal {
    /// Its height is not in the window above the committed head.
    #[error("height {height} outside {} ..= {}", head + 1, head + BODY_WINDOW_BLOCKS)]
    OutsideWindow {
        /// Block height.
        height: u64,
        /// Committed head height.
        head: u64,
    },
    /// A proposal body must come from its proposer.
    #[error("body of {proposer} relayed by {from}")]
    NotFromProposer {
        /// Header proposer.
        proposer: Address,
        /// Sending peer.
        from: Address,
    },
    /// A fetched block must answer one of our requests.
    #[error("block {id} was not asked for")]
    Unsolicited {
        /// Block id.
        id: Hash,
    },
    /// One body is over the per-peer byte quota on its own.
    #[error("body of {bytes} bytes over the per-peer quota")]
    TooLarge {
        /// Frame size.
        bytes: usize,
    },
}

#[derive(Debug)]
struct Entry {
    block: Block,
    source: Address,
    bytes: usize,
    seq: u64,
}

/// The cache. Pure: the caller passes the committed head height.
#[derive(Debug, Default)]
pub struct BodyCache {
    entries: HashMap<Hash, Entry>,
    wanted: HashMap<Hash, u64>,
    seq: u64,
}

impl BodyCache {
    /// A proposal body `id` from peer `from`, `bytes` long on the wire.
    pub fn insert_body(
        &mut self,
        id: Hash,
        block: Block,
        from: Address,
        bytes: usize,
        head: u64,
    ) -> Result<(), BodyRefusal> {
        if block.header.proposer != from {
            return Err(BodyRefusal::NotFromProposer {
                proposer: block.header.proposer,
                from,
            });
        }
        self.insert(id, block, from, bytes, head)
    }

    /// A block fetched by hash: kept only if we asked for `id`.
    pub fn insert_fetched(
        &mut self,
        id: Hash,
        block: Block,
        from: Address,
        bytes: usize,
        head: u64,
    ) -> Result<(), BodyRefusal> {
        if self.wanted.remove(&id).is_none() {
            return Err(BodyRefusal::Unsolicited { id });
        }
        self.insert(id, block, from, bytes, head)
    }

    /// Remember that block `id` was asked for by hash. Returns false (and asks nothing) when
    /// too many requests are outstanding.
    pub fn want(&mut self, id: Hash) -> bool {
        if !self.wanted.contains_key(&id) && self.wanted.len() >= MAX_WANTED_BLOCKS {
            return false;
        }
        self.seq += 1;
        self.wanted.insert(id, self.seq);
        true
    }

    fn insert(
        &mut self,
        id: Hash,
        block: Block,
        source: Address,
        bytes: usize,
        head: u64,
    ) -> Result<(), BodyRefusal> {
        let height = block.header.height;
        if height <= head || height - head > BODY_WINDOW_BLOCKS {
            return Err(BodyRefusal::OutsideWindow { height, head });
        }
        if bytes > MAX_BODY_BYTES_PER_PEER {
            return Err(BodyRefusal::TooLarge { bytes });
        }
        self.entries.remove(&id);
        // Make room: first within the source's own quota, then globally from the source that
        // holds the most entries (an honest proposer's few bodies are never the victims).
        while self.count_of(&source) >= MAX_BODIES_PER_PEER
            || self.bytes_of(&source) + bytes > MAX_BODY_BYTES_PER_PEER
        {
            self.evict_oldest_of(&source);
        }
        while self.entries.len() >= MAX_BODIES || self.total_bytes() + bytes > MAX_BODY_BYTES {
            let Some(biggest) = self.largest_source() else {
                break;
            };
            self.evict_oldest_of(&biggest);
        }
        self.seq += 1;
        let seq = self.seq;
        self.entries.insert(
            id,
            Entry {
                block,
                source,
                bytes,
                seq,
            },
        );
        Ok(())
    }

    fn count_of(&self, source: &Address) -> usize {
        self.entries
            .values()
            .filter(|e| e.source == *source)
            .count()
    }

    fn bytes_of(&self, source: &Address) -> usize {
        self.entries
            .values()
            .filter(|e| e.source == *source)
            .map(|e| e.bytes)
            .sum()
    }

    fn total_bytes(&self) -> usize {
        self.entries.values().map(|e| e.bytes).sum()
    }

    fn largest_source(&self) -> Option<Address> {
        let mut counts: HashMap<Address, usize> = HashMap::new();
        for e in self.entries.values() {
            *counts.entry(e.source).or_default() += 1;
        }
        counts.into_iter().max_by_key(|(_, n)| *n).map(|(a, _)| a)
    }

    fn evict_oldest_of(&mut self, source: &Address) {
        let oldest = self
            .entries
            .iter()
            .filter(|(_, e)| e.source == *source)
            .min_by_key(|(_, e)| e.seq)
            .map(|(id, _)| *id);
        if let Some(id) = oldest {
            self.entries.remove(&id);
        }
    }

    /// The body of block `id`, if cached.
    pub fn get(&self, id: &Hash) -> Option<&Block> {
        self.entries.get(id).map(|e| &e.block)
    }

    /// Take the body of block `id` out of the cache.
    pub fn remove(&mut self, id: &Hash) -> Option<Block> {
        self.entries.remove(id).map(|e| e.block)
    }

    /// Number of cached bodies.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    /// Drop bodies at or below the committed head (and fetch requests beyond the window's
    /// worth of outstanding ones are already refused by [`BodyCache::want`]).
    pub fn prune(&mut self, head: u64) {
        self.entries.retain(|_, e| e.block.header.height > head);
        if self.wanted.len() >= MAX_WANTED_BLOCKS / 2 {
            // Old unanswered requests: keep the newest half.
            let mut seqs: Vec<u64> = self.wanted.values().copied().collect();
            seqs.sort_unstable();
            let cut = seqs[seqs.len() / 2];
            self.wanted.retain(|_, s| *s >= cut);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_types::{CommitCertificate, Header};

    fn block(height: u64, proposer: Address, salt: u8) -> (Hash, Block) {
        let header = Header {
            chain_id: 1,
            height,
            parent_hash: Hash([salt; 32]),
            timestamp_ms: 0,
            tx_root: Hash::ZERO,
            receipts_root: Hash::ZERO,
            state_root: Hash::ZERO,
            proposer,
            tx_count: 0,
            gas_used: 0,
        };
        let id = header.hash(keel_crypto::HashAlgorithm::Sha256);
        let b = Block {
            header,
            transactions: Vec::new(),
            certificate: CommitCertificate::default(),
        };
        (id, b)
    }

    /// Security review finding 3: 256 forged bodies at far-future heights used to fill the
    /// cache for good, so every real proposal body was dropped and the node never voted again.
    #[test]
    fn forged_far_future_bodies_never_displace_a_real_proposal_body() {
        let byzantine = Address([6; 20]);
        let honest = Address([1; 20]);
        let head = 10;
        let mut cache = BodyCache::default();
        for i in 0..256u64 {
            let (id, b) = block(u64::MAX - i, byzantine, i as u8);
            assert!(matches!(
                cache.insert_body(id, b, byzantine, 1_000, head),
                Err(BodyRefusal::OutsideWindow { .. })
            ));
        }
        // In-window forgeries from the Byzantine validator only ever take its own quota.
        for i in 0..256u64 {
            let (id, b) = block(head + 1 + i % BODY_WINDOW_BLOCKS, byzantine, i as u8);
            let _ = cache.insert_body(id, b, byzantine, 1_000, head);
        }
        assert!(cache.len() <= MAX_BODIES_PER_PEER);
        let (id, b) = block(head + 1, honest, 200);
        cache.insert_body(id, b, honest, 1_000, head).unwrap();
        assert!(cache.get(&id).is_some(), "the real body is kept");
    }

    #[test]
    fn bodies_come_from_their_proposer_and_fetched_blocks_must_be_asked_for() {
        let (p, o) = (Address([1; 20]), Address([9; 20]));
        let mut cache = BodyCache::default();
        let (id, b) = block(5, p, 1);
        assert!(matches!(
            cache.insert_body(id, b.clone(), o, 10, 4),
            Err(BodyRefusal::NotFromProposer { .. })
        ));
        assert!(matches!(
            cache.insert_fetched(id, b.clone(), o, 10, 4),
            Err(BodyRefusal::Unsolicited { .. })
        ));
        assert!(cache.want(id));
        cache.insert_fetched(id, b.clone(), o, 10, 4).unwrap();
        assert!(cache.get(&id).is_some());
        // Answered once: a second copy is unsolicited.
        assert!(cache.insert_fetched(id, b, o, 10, 4).is_err());
        cache.prune(5);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn the_cache_is_bounded_in_count_and_bytes() {
        let mut cache = BodyCache::default();
        for s in 0..40u8 {
            let source = Address([s; 20]);
            for i in 0..40u64 {
                let (id, b) = block(1 + i % BODY_WINDOW_BLOCKS, source, i as u8);
                let _ = cache.insert_body(id, b, source, 4 * 1024 * 1024, 0);
            }
        }
        assert!(cache.len() <= MAX_BODIES);
        assert!(cache.total_bytes() <= MAX_BODY_BYTES);
        let big = MAX_BODY_BYTES_PER_PEER + 1;
        let (id, b) = block(1, Address([1; 20]), 99);
        assert!(matches!(
            cache.insert_body(id, b, Address([1; 20]), big, 0),
            Err(BodyRefusal::TooLarge { .. })
        ));
    }
}
