//! The genesis governance state and epoch 0.

use super::state::{
    AccountPerm, DEFAULT_PROPOSAL_TTL_BLOCKS, EpochState, GovGenesis, GovState, Member,
    account_key, epoch_key, state_key,
};
use crate::keys::StateKey;
use keel_crypto::HashAlgorithm;
use keel_types::codec;

/// State changes that create the genesis governance state and epoch 0.
pub fn genesis_changes(alg: HashAlgorithm, g: &GovGenesis) -> Vec<(StateKey, Option<Vec<u8>>)> {
    let state = GovState {
        permissioned: g.permissioned,
        members: g
            .members
            .iter()
            .map(|(address, weight, org)| Member {
                address: *address,
                weight: (*weight).max(1),
                org: org.clone(),
                cert_fingerprint: None,
            })
            .collect(),
        threshold_num: 2,
        threshold_den: 3,
        proposal_ttl_blocks: if g.proposal_ttl_blocks == 0 {
            DEFAULT_PROPOSAL_TTL_BLOCKS
        } else {
            g.proposal_ttl_blocks
        },
        gas_price: None,
        max_block_txs: None,
        block_interval_ms: None,
        open: vec![],
    };
    let epoch = EpochState {
        epoch: 0,
        start_height: 0,
        validators: g.validators.clone(),
    };
    let mut out = vec![
        (state_key(alg), Some(codec::encode(&state))),
        (epoch_key(alg), Some(codec::encode(&epoch))),
    ];
    for (a, role, org) in &g.accounts {
        let perm = AccountPerm {
            admitted: true,
            role: *role,
            org: org.clone(),
            ..AccountPerm::default()
        };
        out.push((account_key(alg, a), Some(codec::encode(&perm))));
    }
    out.sort_by_key(|a| a.0);
    out.dedup_by(|a, b| a.0 == b.0);
    out
}
