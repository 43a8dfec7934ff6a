//! An epoch switch inside the run: the committee (the genesis validators' node keys) admits the
//! observer as a validator by a governance proposal and votes; the validator set changes at
//! the epoch boundary and the observer's driver starts voting.

use keel_crypto::KeyPair;
use keel_types::{GovAction, GovPayload, Hash, Payload, Signer, Transaction, ValidatorInfo};

use super::cluster::{CHAIN, SUITE};

/// Gas limit of a governance transaction.
const GOV_GAS: u64 = 200_000;

/// A governance transaction signed by `key` with `nonce`, encoded, and its hash.
pub(crate) fn gov_tx(key: &KeyPair, nonce: u64, payload: GovPayload) -> (Vec<u8>, Hash) {
    let signed = Transaction {
        chain_id: CHAIN,
        nonce,
        expires_at_height: 50_000,
        gas_limit: GOV_GAS,
        signer: Signer {
            scheme: key.scheme(),
            public_key: key.public_key(),
        },
        payload: Payload::Gov(payload),
    }
    .sign(key);
    (signed.encode(), signed.hash(SUITE.hash()))
}

/// The proposal that admits `observer` as a validator.
pub(crate) fn admit(observer: &KeyPair) -> GovPayload {
    GovPayload::Propose {
        action: GovAction::AddValidator(ValidatorInfo {
            name: "observer".into(),
            key: Signer {
                scheme: observer.scheme(),
                public_key: observer.public_key(),
            },
            p2p_addr: String::new(),
        }),
        ttl_blocks: 0,
    }
}

/// Where the epoch switch stands.
#[derive(Debug, Default)]
pub(crate) struct GovPlan {
    /// Members (by index) that still have to act, the proposer first.
    pub pending: Vec<usize>,
    /// The proposal id (its transaction hash), once proposed.
    pub proposal: Option<Hash>,
}

/// Yes votes needed besides the proposer's, for `validators` members of weight 1 and a 2/3
/// threshold.
pub(crate) fn votes_needed(validators: usize) -> usize {
    (2 * validators).div_ceil(3).saturating_sub(1)
}
