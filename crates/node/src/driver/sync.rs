//! Block sync bookkeeping: which peer was asked for which range (a response from anyone else,
//! or for another range, is ignored before anything is executed — security review finding 7),
//! the rotation over peers, the per-peer serving budget, the byte bound of a response, and the
//! header-chain check that runs before any synced block is executed. Pure: the caller passes
//! the clock.

use super::budget::PeerBudget;
use keel_crypto::HashAlgorithm;
use keel_types::{Address, Block, Hash};
use std::time::{Duration, Instant};

/// Most blocks in one sync response.
pub const MAX_SYNC_BLOCKS: u64 = 64;
/// Most bytes of blocks in one sync response: a response holds fewer blocks when they are fat,
/// always at least one (a block is bounded by the block byte budget, below the frame limit).
pub const MAX_SYNC_RESPONSE_BYTES: usize = 12 * 1024 * 1024;
/// A range is asked again (of the next peer) after this long without an answer, ms.
pub const SYNC_RETRY_MS: u64 = 500;
/// Sync requests served per peer and second (sustained).
pub const SYNC_SERVES_PER_PEER_PER_SEC: u64 = 8;
/// Sync requests a peer may send in a burst.
pub const SYNC_SERVES_BURST: u64 = 16;

/// Why a sync response is ignored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncRefusal {
    /// Nothing was asked, or someone else was asked.
    #[error("unsolicited sync response from {from}")]
    Unsolicited {
        /// Sender.
        from: Address,
    },
    /// A block outside the range asked.
    #[error("block {height} outside the range asked, {from} ..= {to}")]
    OutOfRange {
        /// Block height.
        height: u64,
        /// First height asked.
        from: u64,
        /// Last height asked.
        to: u64,
    },
    /// The headers do not form a chain on top of the committed head.
    #[error("block {height} does not link to its predecessor")]
    Unlinked {
        /// Block height.
        height: u64,
    },
}

#[derive(Debug)]
struct Ask {
    peer: Address,
    from: u64,
    to: u64,
    at: Instant,
}

/// Requests in flight and the serving budget.
#[derive(Debug)]
pub struct BlockSync {
    rotation: usize,
    ask: Option<Ask>,
    serving: PeerBudget,
}

impl Default for BlockSync {
    fn default() -> Self {
        BlockSync {
            rotation: 0,
            ask: None,
            serving: PeerBudget::new(SYNC_SERVES_PER_PEER_PER_SEC, SYNC_SERVES_BURST),
        }
    }
}

impl BlockSync {
    /// The request to send for the blocks after `head`, to the next of `peers` in rotation:
    /// `None` while the same range was asked less than [`SYNC_RETRY_MS`] ago.
    pub fn request(
        &mut self,
        head: u64,
        peers: &[Address],
        now: Instant,
    ) -> Option<(Address, u64, u64)> {
        let from = head + 1;
        if let Some(a) = &self.ask
            && a.from == from
            && now.saturating_duration_since(a.at) < Duration::from_millis(SYNC_RETRY_MS)
        {
            return None;
        }
        if peers.is_empty() {
            return None;
        }
        self.rotation = self.rotation.wrapping_add(1);
        let peer = peers[self.rotation % peers.len()];
        let to = from.saturating_add(MAX_SYNC_BLOCKS - 1);
        self.ask = Some(Ask {
            peer,
            from,
            to,
            at: now,
        });
        Some((peer, from, to))
    }

    /// Accept a response from `from` only if it was asked, and only blocks of the range asked
    /// (in order). The request is answered: a second response is unsolicited.
    pub fn accept(&mut self, from: Address, blocks: &[Block]) -> Result<(), SyncRefusal> {
        let Some(ask) = self.ask.as_ref().filter(|a| a.peer == from) else {
            return Err(SyncRefusal::Unsolicited { from });
        };
        for b in blocks {
            let height = b.header.height;
            if height < ask.from || height > ask.to {
                return Err(SyncRefusal::OutOfRange {
                    height,
                    from: ask.from,
                    to: ask.to,
                });
            }
        }
        self.ask = None;
        Ok(())
    }

    /// Whether `peer` may have a sync request served at `now` (spends its budget).
    pub fn may_serve(&mut self, peer: Address, now: Instant) -> bool {
        self.serving.try_spend(peer, 1, now)
    }
}

/// Check that `blocks` are consecutive and each header names its predecessor's hash, the first
/// one the committed head `(head_height, head_hash)`; blocks at or below the head are skipped.
/// Returns the blocks above the head. Their headers are then authenticated by the certificate of
/// the last certified one, checked before any of them is executed.
pub fn linked_above(
    blocks: Vec<Block>,
    head_height: u64,
    head_hash: Hash,
    alg: HashAlgorithm,
) -> Result<Vec<(Hash, Block)>, SyncRefusal> {
    let (mut height, mut hash) = (head_height, head_hash);
    let mut out = Vec::with_capacity(blocks.len());
    for b in blocks {
        if b.header.height <= head_height {
            continue;
        }
        if b.header.height != height + 1 || b.header.parent_hash != hash {
            return Err(SyncRefusal::Unlinked {
                height: b.header.height,
            });
        }
        height = b.header.height;
        hash = b.header.hash(alg);
        out.push((hash, b));
    }
    Ok(out)
}

/// Take blocks while their encoded sizes fit [`MAX_SYNC_RESPONSE_BYTES`] (always the first).
pub fn within_response_budget(sizes: impl IntoIterator<Item = usize>) -> usize {
    let mut total = 0usize;
    let mut n = 0usize;
    for s in sizes {
        if n > 0 && total.saturating_add(s) > MAX_SYNC_RESPONSE_BYTES {
            break;
        }
        total = total.saturating_add(s);
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_types::{CommitCertificate, Header};

    const ALG: HashAlgorithm = HashAlgorithm::Sha256;

    fn chain(from: u64, n: u64, parent: Hash) -> Vec<Block> {
        let mut parent = parent;
        (from..from + n)
            .map(|height| {
                let header = Header {
                    chain_id: 1,
                    height,
                    parent_hash: parent,
                    timestamp_ms: 0,
                    tx_root: Hash::ZERO,
                    receipts_root: Hash::ZERO,
                    state_root: Hash::ZERO,
                    proposer: Address::ZERO,
                    tx_count: 0,
                    gas_used: 0,
                };
                parent = header.hash(ALG);
                Block {
                    header,
                    transactions: Vec::new(),
                    certificate: CommitCertificate::default(),
                }
            })
            .collect()
    }

    /// Security review finding 7: an unsolicited response was executed before any check.
    #[test]
    fn only_the_peer_asked_may_answer_and_only_for_the_range_asked() {
        let (a, b) = (Address([1; 20]), Address([2; 20]));
        let now = Instant::now();
        let mut sync = BlockSync::default();
        let blocks = chain(11, 3, Hash::ZERO);
        assert_eq!(
            sync.accept(a, &blocks),
            Err(SyncRefusal::Unsolicited { from: a }),
            "nothing asked"
        );
        let (peer, from, to) = sync.request(10, &[a, b], now).unwrap();
        assert_eq!((from, to), (11, 11 + MAX_SYNC_BLOCKS - 1));
        let other = if peer == a { b } else { a };
        assert!(matches!(
            sync.accept(other, &blocks),
            Err(SyncRefusal::Unsolicited { .. })
        ));
        let far = chain(500, 1, Hash::ZERO);
        assert!(matches!(
            sync.accept(peer, &far),
            Err(SyncRefusal::OutOfRange { height: 500, .. })
        ));
        assert_eq!(sync.accept(peer, &blocks), Ok(()));
        assert!(sync.accept(peer, &blocks).is_err(), "answered once");
    }

    #[test]
    fn requests_rotate_and_are_not_repeated_too_soon() {
        let (a, b) = (Address([1; 20]), Address([2; 20]));
        let now = Instant::now();
        let mut sync = BlockSync::default();
        let first = sync.request(10, &[a, b], now).unwrap();
        assert!(sync.request(10, &[a, b], now).is_none());
        let retry = now + Duration::from_millis(SYNC_RETRY_MS);
        let second = sync.request(10, &[a, b], retry).unwrap();
        assert_ne!(first.0, second.0, "the next peer is asked");
        assert!(sync.request(10, &[], retry).is_none());
    }

    #[test]
    fn synced_headers_must_link_to_the_head() {
        let head = Hash([7; 32]);
        let good = chain(11, 4, head);
        let mut with_old = chain(10, 1, Hash::ZERO);
        with_old.extend(good.clone());
        assert_eq!(linked_above(with_old, 10, head, ALG).unwrap().len(), 4);
        assert!(linked_above(chain(11, 2, Hash::ZERO), 10, head, ALG).is_err());
        let mut gap = good.clone();
        gap.remove(1);
        assert!(matches!(
            linked_above(gap, 10, head, ALG),
            Err(SyncRefusal::Unlinked { height: 13 })
        ));
    }

    #[test]
    fn responses_are_byte_bounded_but_never_empty() {
        let mib = 1024 * 1024;
        assert_eq!(within_response_budget(vec![mib; 64]), 12);
        assert_eq!(within_response_budget(vec![30 * mib, mib]), 1);
        assert_eq!(within_response_budget(vec![1_000; 64]), 64);
        assert_eq!(within_response_budget(Vec::new()), 0);
    }
}
