//! Placement: which member holds which shard of a stripe.
//!
//! Rendezvous (highest-random-weight) hashing: member `n`'s score for a shard is
//! `H("keel-filestore/v1/place" ‖ shard digest ‖ n)`. Shards take, in stripe order, the
//! highest-scoring member not already holding a shard of the same stripe, so a stripe's shards
//! land on distinct members. A member that holds none of a stripe's shards can join or leave
//! without moving any of them; the whole rule is a pure function of its inputs.

use keel_crypto::HashAlgorithm;

use crate::{FileStoreError, ShardAddress};

const PLACE_DOMAIN: &[u8] = b"keel-filestore/v1/place";

/// For each shard of one stripe (in order), the index in `members` of the node that holds it.
///
/// `members` are node identifiers (e.g. public keys); duplicates count once in the sense that
/// two equal identifiers get equal scores. Fails if there are fewer members than shards.
pub fn place_stripe(
    hash: HashAlgorithm,
    shards: &[ShardAddress],
    members: &[Vec<u8>],
) -> Result<Vec<usize>, FileStoreError> {
    if members.len() < shards.len() {
        return Err(FileStoreError::NotEnoughMembers {
            members: members.len(),
            shards: shards.len(),
        });
    }
    let mut taken = vec![false; members.len()];
    let mut out = Vec::with_capacity(shards.len());
    for shard in shards {
        let best = (0..members.len())
            .filter(|&n| !taken[n])
            .max_by_key(|&n| {
                (
                    hash.digest_parts(&[PLACE_DOMAIN, shard.digest(), &members[n]]),
                    n,
                )
            })
            .expect("fewer shards than members, so one is free");
        taken[best] = true;
        out.push(best);
    }
    Ok(out)
}
