//! An epoch switch inside the run: the committee (the genesis validators' node keys) admits the
//! observer as a validator, or removes one, by a governance proposal and votes; the validator
//! set changes at the epoch boundary and the drivers start or stop voting. Or it revokes a
//! validator's certificate on chain: every node's network cuts it off (issue 14).

use keel_crypto::KeyPair;
use keel_types::{
    Address, GovAction, GovPayload, Hash, Payload, Signer, Transaction, ValidatorInfo,
};

use super::check::{Checker, WholeViolation};
use super::cluster::{CHAIN, SUITE};
use super::config::EpochChange;
use super::world::{Event, World};

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

/// The proposal that removes `validator`.
pub(crate) fn remove(validator: Address) -> GovPayload {
    GovPayload::Propose {
        action: GovAction::RemoveValidator { address: validator },
        ttl_blocks: 0,
    }
}

/// The proposal that revokes `validator`'s (simulated) certificate on chain.
pub(crate) fn revoke(validator: &Address) -> GovPayload {
    GovPayload::Propose {
        action: GovAction::RevokeCertificate {
            fingerprint: super::net::cert_fingerprint(validator),
        },
        ttl_blocks: 0,
    }
}

/// Where the epoch switch stands.
#[derive(Debug, Default)]
pub(crate) struct GovPlan {
    /// What is proposed.
    pub proposal_payload: Option<GovPayload>,
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

impl World {
    pub(super) fn plan_epoch_change(&mut self, change: EpochChange) {
        let n = self.cfg.validators;
        let (payload, target) = match change {
            EpochChange::AdmitObserver => match self.c.members.get(n) {
                Some(o) => (admit(&o.key), None),
                None => return,
            },
            EpochChange::RemoveValidator => (remove(self.c.members[n - 1].address), Some(n - 1)),
            EpochChange::RevokeValidator => (revoke(&self.c.members[n - 1].address), Some(n - 1)),
        };
        let voters = (0..n).filter(|i| self.c.members[*i].honest() && Some(*i) != target);
        self.gov.pending = voters.take(1 + votes_needed(n)).collect();
        self.gov.proposal_payload = Some(payload);
        let t = self.rng.range(1, self.cfg.gst_ms.max(2) / 2);
        self.at(t, Event::Govern);
    }

    /// The next governance action of the epoch switch: the proposal, then each vote once the
    /// voter's node has committed the proposal.
    pub(super) fn govern(&mut self) -> Result<(), WholeViolation> {
        let Some(&who) = self.gov.pending.first() else {
            return Ok(());
        };
        let retry = self.now + 50;
        let Some(live) = self.c.members[who].live.as_ref() else {
            self.at(retry, Event::Govern);
            return Ok(());
        };
        let payload = match self.gov.proposal {
            None => match self.gov.proposal_payload.clone() {
                Some(p) => p,
                None => return Ok(()),
            },
            Some(id) if Checker::has(&live.node, &id) => GovPayload::Vote {
                proposal: id,
                approve: true,
            },
            Some(_) => {
                self.at(retry, Event::Govern);
                return Ok(());
            }
        };
        let (raw, hash) = gov_tx(&self.c.members[who].key, 0, payload);
        if live.node.submit(&[raw]).iter().all(|r| r.is_ok()) {
            self.gov.proposal.get_or_insert(hash);
            self.gov.pending.remove(0);
        }
        if let Some(live) = self.c.members[who].live.as_mut() {
            live.driver.drain_admitted();
        }
        if !self.gov.pending.is_empty() {
            self.at(retry, Event::Govern);
        }
        self.after_step(who)
    }
}
