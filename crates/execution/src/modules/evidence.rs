//! Evidence (存证): records a content hash with size, media type, owner and metadata.
//!
//! *Duplicate rule*: a content hash (per hash algorithm) can be recorded **once per chain**; a
//! second `EvidencePut` with the same hash fails with `EVIDENCE_DUPLICATE`, and its receipt names
//! the existing record id. The record id is the hash of the transaction that created it.
//!
//! State: `H("keel/evid/v1" ‖ id)` → [`EvidenceRecord`]; `H("keel/evhash/v1" ‖ alg name ‖
//! content hash)` → record id ([`crate::keys::evidence`], [`crate::keys::evidence_by_hash`]).

use super::{Applied, Call, ModResult, event, refuse};
use crate::ExecutionError;
use crate::context::decode_value;
use crate::keys::{self, StateKey};
use crate::overlay::Overlay;
use borsh::{BorshDeserialize, BorshSerialize};
use keel_types::{Address, ContentHashAlg, EvidencePut, ExecErrorCode, Hash, codec};

/// An evidence (存证) record.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct EvidenceRecord {
    /// Record id: hash of the creating transaction.
    pub id: Hash,
    /// Content hash.
    pub content_hash: Hash,
    /// Function that produced `content_hash`.
    pub hash_alg: ContentHashAlg,
    /// Content size in bytes.
    pub size: u64,
    /// Media type.
    pub media_type: String,
    /// Who recorded it (transaction sender).
    pub owner: Address,
    /// Metadata.
    pub metadata: String,
    /// Height of the block that recorded it.
    pub height: u64,
    /// Timestamp of that block (ms since the Unix epoch).
    pub timestamp_ms: u64,
}

impl EvidenceRecord {
    /// Decode a stored evidence record.
    pub fn decode(key: &StateKey, bytes: &[u8]) -> Result<EvidenceRecord, ExecutionError> {
        decode_value("evidence record", key, bytes)
    }
}

/// `Payload::EvidencePut`: record `e`; the output is the record id.
pub(crate) fn put(ov: &mut Overlay<'_>, call: &Call, e: &EvidencePut) -> ModResult<Applied> {
    let index_key = keys::evidence_by_hash(call.alg, e.hash_alg, &e.content_hash);
    if let Some(existing) = ov.get(&index_key)? {
        let existing = Hash::from_slice(&existing)
            .map(|h| h.to_string())
            .unwrap_or_default();
        return refuse(
            ExecErrorCode::EvidenceDuplicate,
            format!(
                "content hash {} ({}) is already recorded as evidence {}",
                e.content_hash,
                e.hash_alg.name(),
                existing
            ),
        );
    }
    let id = call.tx_hash;
    let record = EvidenceRecord {
        id,
        content_hash: e.content_hash,
        hash_alg: e.hash_alg,
        size: e.size,
        media_type: e.media_type.clone(),
        owner: call.sender,
        metadata: e.metadata.clone(),
        height: call.ctx.height,
        timestamp_ms: call.ctx.timestamp_ms,
    };
    ov.put(keys::evidence(call.alg, &id), codec::encode(&record));
    ov.put(index_key, id.0.to_vec());
    Ok(Applied {
        events: vec![event(
            "evidence",
            "EvidenceRecorded",
            vec![
                ("id", id.to_string()),
                ("content_hash", e.content_hash.to_string()),
                ("hash_alg", e.hash_alg.name().into()),
                ("owner", call.sender.to_string()),
            ],
        )],
        output: id.0.to_vec(),
    })
}
