//! The governance module (ADR 0011): weighted votes and the threshold, rejection, expiry,
//! refusals with stable codes (last member, one validator change per epoch), permissions
//! (permissioned mode, auditors, frozen accounts, members only for governance), epoch state.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{HashAlgorithm, KeyPair, Scheme, Suite};
use keel_execution::governance::{self, GovGenesis, ProposalStatus};
use keel_execution::*;
use keel_types::*;

const ALG: HashAlgorithm = HashAlgorithm::Sm3;

fn tx(nonce: u64, payload: Payload) -> SignedTransaction {
    SignedTransaction {
        tx: Transaction {
            chain_id: 9,
            nonce,
            expires_at_height: 1_000_000,
            gas_limit: 1_000_000,
            signer: Signer {
                scheme: Scheme::Sm2,
                public_key: vec![2; 33],
            },
            payload,
        },
        signature: vec![0; 64],
    }
}

fn addr(i: u8) -> Address {
    Address([i; 20])
}

fn validator(i: u8) -> ValidatorInfo {
    let k = KeyPair::from_seed(Scheme::Sm2, &[i; 32]);
    ValidatorInfo {
        name: format!("v{i}"),
        key: Signer {
            scheme: Scheme::Sm2,
            public_key: k.public_key(),
        },
        p2p_addr: format!("127.0.0.1:{}", 30_000 + u16::from(i)),
    }
}

/// A chain: members 1..=4 (weights given), validators v1..v4, account 10 a client, 11 an
/// auditor, 12 not admitted.
struct Chain {
    ex: Executor,
    state: MemoryState,
    height: u64,
    nonces: std::collections::HashMap<Address, u64>,
}

impl Chain {
    fn new(weights: &[u64], permissioned: bool) -> Chain {
        let g = GovGenesis {
            permissioned,
            members: weights
                .iter()
                .enumerate()
                .map(|(i, w)| (addr(i as u8 + 1), *w, format!("org{i}")))
                .collect(),
            validators: (1..=4).map(validator).collect(),
            accounts: vec![
                (addr(10), Role::Client, "bank".into()),
                (addr(11), Role::Auditor, "regulator".into()),
            ],
            proposal_ttl_blocks: 0,
        };
        let mut state = MemoryState::default();
        // Members are funded: a governance-set gas price makes their transactions cost fees.
        let mut alloc: Vec<(Address, u128)> = (1..=4).map(|i| (addr(i), 1_000_000_000)).collect();
        alloc.extend([(addr(10), 1_000), (addr(12), 1_000)]);
        state.apply(&genesis_changes(ALG, &alloc));
        state.apply(&governance::genesis_changes(ALG, &g));
        Chain {
            ex: Executor::new(ChainParams {
                chain_id: 9,
                suite: Suite::Gm,
                gas_price: 0,
            }),
            state,
            height: 0,
            nonces: Default::default(),
        }
    }

    /// Execute one tx from `sender` in its own block; returns the receipt and its hash.
    fn send(&mut self, sender: Address, payload: Payload) -> (Receipt, Hash) {
        let nonce = self.nonces.entry(sender).or_default();
        let t = tx(*nonce, payload);
        *nonce += 1;
        self.height += 1;
        let hash = t.hash(ALG);
        let out = self
            .ex
            .execute_block(
                &self.state,
                BlockContext {
                    height: self.height,
                    timestamp_ms: self.height,
                },
                &[TxInput {
                    tx: &t,
                    hash,
                    sender,
                }],
            )
            .unwrap();
        self.state.apply(&out.changes);
        (out.receipts[0].clone(), hash)
    }

    fn propose(&mut self, by: u8, action: GovAction) -> (Receipt, Hash) {
        self.send(
            addr(by),
            Payload::Gov(GovPayload::Propose {
                action,
                ttl_blocks: 0,
            }),
        )
    }

    fn vote(&mut self, by: u8, id: Hash, approve: bool) -> Receipt {
        self.send(
            addr(by),
            Payload::Gov(GovPayload::Vote {
                proposal: id,
                approve,
            }),
        )
        .0
    }

    fn status(&self, id: &Hash) -> ProposalStatus {
        governance::proposal(&self.state, ALG, id)
            .unwrap()
            .unwrap()
            .status
    }

    fn transfer(&mut self, from: Address) -> Receipt {
        self.send(
            from,
            Payload::Transfer {
                to: addr(99),
                amount: 1,
            },
        )
        .0
    }
}

fn code(r: &Receipt) -> Option<ExecErrorCode> {
    r.error.as_ref().map(|(c, _)| *c)
}

#[test]
fn two_thirds_of_the_weight_accepts_and_freeze_applies() {
    let mut c = Chain::new(&[1, 1, 1, 1], false);
    assert_eq!(code(&c.transfer(addr(10))), None);
    let (r, id) = c.propose(1, GovAction::Freeze { address: addr(10) });
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(c.status(&id), ProposalStatus::Open);
    assert_eq!(code(&c.vote(2, id, true)), None);
    assert_eq!(c.status(&id), ProposalStatus::Open, "2 of 4 is below 2/3");
    assert_eq!(code(&c.vote(3, id, true)), None);
    assert!(matches!(c.status(&id), ProposalStatus::Accepted { .. }));
    let r = c.transfer(addr(10));
    assert_eq!(code(&r), Some(ExecErrorCode::AccountFrozen), "{r:?}");
    // Voting again on a closed proposal is refused.
    assert_eq!(code(&c.vote(4, id, true)), Some(ExecErrorCode::GovInvalid));
    // Unfreeze.
    let (_, id) = c.propose(2, GovAction::Unfreeze { address: addr(10) });
    c.vote(3, id, true);
    c.vote(4, id, true);
    assert_eq!(code(&c.transfer(addr(10))), None);
}

#[test]
fn weights_count_and_hopeless_proposals_are_rejected() {
    // Member 1 has weight 3 of 6: alone it is below 2/3; with member 2 (4/6) it passes.
    let mut c = Chain::new(&[3, 1, 1, 1], false);
    let (r, id) = c.propose(1, GovAction::SetParam(ChainParam::GasPrice(7)));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(c.status(&id), ProposalStatus::Open);
    c.vote(2, id, true);
    assert!(matches!(c.status(&id), ProposalStatus::Accepted { .. }));
    let g = governance::gov_state(&c.state, ALG).unwrap().unwrap();
    assert_eq!(g.gas_price, Some(7));
    // Member 2 proposes; 1 votes no: 3 + 1 no of 6 leaves at most 2 yes: rejected.
    let (r, id) = c.propose(
        2,
        GovAction::RevokeCertificate {
            fingerprint: Hash([5; 32]),
        },
    );
    assert_eq!(
        r.fee,
        u128::from(GAS_GOV) * 7,
        "the governance gas price applies"
    );
    c.vote(1, id, false);
    assert!(matches!(c.status(&id), ProposalStatus::Rejected { .. }));
    assert_eq!(
        governance::revoked_at(&c.state, ALG, &Hash([5; 32])).unwrap(),
        None
    );
}

#[test]
fn double_votes_unknown_and_expired_proposals_are_refused() {
    let mut c = Chain::new(&[1, 1, 1, 1], false);
    let (_, id) = c.send(
        addr(1),
        Payload::Gov(GovPayload::Propose {
            action: GovAction::RevokeCertificate {
                fingerprint: Hash([1; 32]),
            },
            ttl_blocks: 2,
        }),
    );
    let r = c.vote(1, id, true);
    assert_eq!(
        code(&r),
        Some(ExecErrorCode::GovInvalid),
        "double vote: {r:?}"
    );
    assert_eq!(
        code(&c.vote(2, Hash([9; 32]), true)),
        Some(ExecErrorCode::GovInvalid)
    );
    c.transfer(addr(10));
    let r = c.vote(3, id, true);
    assert_eq!(code(&r), Some(ExecErrorCode::GovInvalid), "expired: {r:?}");
    assert!(r.error.unwrap().1.contains("expired"));
}

#[test]
fn the_last_member_cannot_be_removed() {
    let mut c = Chain::new(&[1], false);
    let (r, _) = c.propose(1, GovAction::RemoveMember { address: addr(1) });
    assert_eq!(code(&r), Some(ExecErrorCode::GovLastMember), "{r:?}");
    assert!(r.error.unwrap().1.contains("last committee member"));
    // With two members, one can go (weight 1 of 2 is below 2/3: both vote).
    let (_, id) = c.propose(
        1,
        GovAction::AddMember {
            address: addr(2),
            weight: 1,
            org: "b".into(),
        },
    );
    assert!(matches!(c.status(&id), ProposalStatus::Accepted { .. }));
    let (_, id) = c.propose(2, GovAction::RemoveMember { address: addr(1) });
    c.vote(1, id, true);
    assert!(matches!(c.status(&id), ProposalStatus::Accepted { .. }));
    let g = governance::gov_state(&c.state, ALG).unwrap().unwrap();
    assert_eq!(g.members.len(), 1);
}

#[test]
fn validator_changes_end_the_epoch_one_at_a_time() {
    let mut c = Chain::new(&[1, 1, 1, 1], false);
    let e0 = governance::epoch_state(&c.state, ALG).unwrap().unwrap();
    assert_eq!((e0.epoch, e0.start_height, e0.validators.len()), (0, 0, 4));
    let (r, add) = c.propose(1, GovAction::AddValidator(validator(5)));
    assert_eq!(r.status, TxStatus::Success);
    // A second validator proposal while one is open: refused.
    let (r, _) = c.propose(
        2,
        GovAction::RemoveValidator {
            address: governance::validator_address(ALG, &validator(1)).unwrap(),
        },
    );
    assert_eq!(
        code(&r),
        Some(ExecErrorCode::GovOneValidatorPerEpoch),
        "{r:?}"
    );
    // An existing validator cannot be added.
    let (r, _) = c.propose(3, GovAction::AddValidator(validator(2)));
    assert_eq!(code(&r), Some(ExecErrorCode::GovInvalid));
    c.vote(2, add, true);
    c.vote(3, add, true);
    assert!(matches!(c.status(&add), ProposalStatus::Accepted { .. }));
    let e1 = governance::epoch_state(&c.state, ALG).unwrap().unwrap();
    assert_eq!(
        (e1.epoch, e1.start_height, e1.validators.len()),
        (1, c.height, 5)
    );
    assert!(
        e1.addresses(ALG)
            .contains(&governance::validator_address(ALG, &validator(5)).unwrap())
    );
    // Removing an unknown validator is refused.
    let (r, _) = c.propose(1, GovAction::RemoveValidator { address: addr(77) });
    assert_eq!(code(&r), Some(ExecErrorCode::GovInvalid));
}

#[test]
fn permissioned_mode_auditors_and_members() {
    let mut c = Chain::new(&[1, 1, 1, 1], true);
    assert_eq!(code(&c.transfer(addr(10))), None, "admitted client");
    let r = c.transfer(addr(12));
    assert_eq!(code(&r), Some(ExecErrorCode::NotAdmitted), "{r:?}");
    let r = c.transfer(addr(11));
    assert_eq!(
        code(&r),
        Some(ExecErrorCode::NotPermitted),
        "auditor: {r:?}"
    );
    assert!(r.error.unwrap().1.contains("read-only"));
    // Only members govern.
    let (r, _) = c.propose(10, GovAction::Freeze { address: addr(11) });
    assert_eq!(code(&r), Some(ExecErrorCode::NotPermitted));
    // Members may transact without an account record; admission by proposal works.
    assert_eq!(code(&c.transfer(addr(1))), None);
    let (_, id) = c.propose(
        1,
        GovAction::SetAccount {
            address: addr(12),
            role: Role::Client,
            org: "new".into(),
            cert_fingerprint: Some(Hash([3; 32])),
        },
    );
    c.vote(2, id, true);
    c.vote(3, id, true);
    assert_eq!(code(&c.transfer(addr(12))), None);
    let perm = governance::account_perm(&c.state, ALG, &addr(12)).unwrap();
    assert_eq!(perm.cert_fingerprint, Some(Hash([3; 32])));
    // The authorize check used at admission agrees with execution.
    let p = Payload::Transfer {
        to: addr(1),
        amount: 1,
    };
    assert!(governance::authorize(&c.state, ALG, &addr(11), &p, 0).is_err());
    assert!(governance::authorize(&c.state, ALG, &addr(10), &p, 0).is_ok());
}

#[test]
fn operation_allow_and_deny_lists() {
    let mut c = Chain::new(&[1, 1, 1, 1], false);
    let evidence = || {
        Payload::EvidencePut(EvidencePut {
            content_hash: Hash([4; 32]),
            hash_alg: ContentHashAlg::Sm3,
            size: 1,
            media_type: String::new(),
            metadata: String::new(),
        })
    };
    // Evidence writes only for account 10 (a white list); transfers denied to 12 (a black list).
    for (op, policy) in [
        (Operation::EvidencePut, OpPolicy::AllowList(vec![addr(10)])),
        (Operation::Transfer, OpPolicy::DenyList(vec![addr(12)])),
    ] {
        let (_, id) = c.propose(1, GovAction::SetOperationPolicy { op, policy });
        c.vote(2, id, true);
        c.vote(3, id, true);
        assert!(matches!(c.status(&id), ProposalStatus::Accepted { .. }));
    }
    let (r, _) = c.send(addr(12), evidence());
    assert_eq!(code(&r), Some(ExecErrorCode::NotPermitted), "{r:?}");
    assert!(
        r.error
            .unwrap()
            .1
            .contains("allow list of operation evidence_put")
    );
    let r = c.transfer(addr(12));
    assert_eq!(code(&r), Some(ExecErrorCode::NotPermitted), "{r:?}");
    assert_eq!(code(&c.transfer(addr(10))), None);
    let (r, _) = c.send(addr(10), evidence());
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    // Policies bind members too, but never governance itself.
    let (r, _) = c.send(addr(1), evidence());
    assert_eq!(code(&r), Some(ExecErrorCode::NotPermitted));
    let (_, id) = c.propose(
        1,
        GovAction::SetOperationPolicy {
            op: Operation::EvidencePut,
            policy: OpPolicy::Open,
        },
    );
    c.vote(2, id, true);
    c.vote(3, id, true);
    assert_eq!(
        governance::op_policy(&c.state, ALG, Operation::EvidencePut).unwrap(),
        OpPolicy::Open
    );
}

/// Issue 12: the per-block EVM gas budget is a consortium parameter. Unset, nodes apply
/// `limits::DEFAULT_MAX_BLOCK_EVM_GAS`; governance sets it, never below one maximal
/// transaction.
#[test]
fn the_block_gas_budget_is_set_by_governance_and_bounded_below() {
    let mut c = Chain::new(&[1, 1, 1], false);
    assert_eq!(governance::max_block_gas(&c.state, ALG).unwrap(), None);
    let (r, _) = c.propose(1, GovAction::SetParam(ChainParam::MaxBlockGas(1_000)));
    assert_eq!(code(&r), Some(ExecErrorCode::GovInvalid), "{r:?}");
    let (r, id) = c.propose(
        1,
        GovAction::SetParam(ChainParam::MaxBlockGas(
            keel_types::limits::MIN_BLOCK_EVM_GAS * 2,
        )),
    );
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    c.vote(2, id, true);
    c.vote(3, id, true);
    assert!(matches!(c.status(&id), ProposalStatus::Accepted { .. }));
    assert_eq!(
        governance::max_block_gas(&c.state, ALG).unwrap(),
        Some(keel_types::limits::MIN_BLOCK_EVM_GAS * 2)
    );
}

/// Issue 14: a revocation voted on chain is listed in order for the network layer, cannot be
/// voted twice, and refuses the transactions of an account bound to the certificate.
#[test]
fn a_revoked_certificate_is_listed_and_disables_the_account_bound_to_it() {
    let mut c = Chain::new(&[1, 1, 1, 1], true);
    let (fp, other) = (Hash([0x5a; 32]), Hash([0x6b; 32]));
    let pass = |c: &mut Chain, action: GovAction| {
        let (r, id) = c.propose(1, action);
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
        c.vote(2, id, true);
        c.vote(3, id, true);
        assert!(matches!(c.status(&id), ProposalStatus::Accepted { .. }));
    };
    pass(
        &mut c,
        GovAction::SetAccount {
            address: addr(10),
            role: Role::Client,
            org: "bank".into(),
            cert_fingerprint: Some(fp),
        },
    );
    assert_eq!(code(&c.transfer(addr(10))), None, "bound, not revoked");
    assert!(
        governance::revoked_fingerprints(&c.state, ALG)
            .unwrap()
            .is_empty()
    );
    pass(&mut c, GovAction::RevokeCertificate { fingerprint: other });
    pass(&mut c, GovAction::RevokeCertificate { fingerprint: fp });
    assert_eq!(
        governance::revoked_fingerprints(&c.state, ALG).unwrap(),
        vec![other, fp],
        "in revocation order"
    );
    let r = c.transfer(addr(10));
    assert_eq!(code(&r), Some(ExecErrorCode::CertificateRevoked), "{r:?}");
    assert!(r.error.unwrap().1.contains("revoked by governance"));
    assert_eq!(
        code(&c.transfer(addr(12))),
        Some(ExecErrorCode::NotAdmitted)
    );
    // A second revocation of the same certificate is refused at proposal time.
    let (r, _) = c.propose(1, GovAction::RevokeCertificate { fingerprint: fp });
    assert_eq!(code(&r), Some(ExecErrorCode::GovInvalid), "{r:?}");
    assert!(r.error.unwrap().1.contains("already revoked"));
}

/// Issue 14: the node list is chain state set by a vote; a list that would leave the
/// validators able to link short of a quorum is refused.
#[test]
fn the_node_list_is_voted_and_cannot_cut_the_validators_below_a_quorum() {
    let mut c = Chain::new(&[1, 1, 1, 1], false);
    assert_eq!(
        governance::node_policy(&c.state, ALG).unwrap(),
        OpPolicy::Open
    );
    let vals = governance::epoch_state(&c.state, ALG)
        .unwrap()
        .unwrap()
        .addresses(ALG);
    // Denying two of four validators leaves 2 < 3.
    let (r, _) = c.propose(
        1,
        GovAction::SetNodePolicy {
            policy: OpPolicy::DenyList(vec![vals[0], vals[1]]),
        },
    );
    assert_eq!(code(&r), Some(ExecErrorCode::GovInvalid), "{r:?}");
    assert!(r.error.unwrap().1.contains("below a quorum of 3"));
    // An allow list without a validator is refused the same way.
    let (r, _) = c.propose(
        1,
        GovAction::SetNodePolicy {
            policy: OpPolicy::AllowList(vec![addr(50)]),
        },
    );
    assert_eq!(code(&r), Some(ExecErrorCode::GovInvalid), "{r:?}");
    // One validator and an outsider denied: accepted, and in state.
    let policy = OpPolicy::DenyList(vec![vals[3], addr(50)]);
    let (r, id) = c.propose(
        1,
        GovAction::SetNodePolicy {
            policy: policy.clone(),
        },
    );
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    c.vote(2, id, true);
    c.vote(3, id, true);
    assert!(matches!(c.status(&id), ProposalStatus::Accepted { .. }));
    assert_eq!(governance::node_policy(&c.state, ALG).unwrap(), policy);
}

/// Issue 14: an account admitted with its client certificate takes the certificate's role and
/// organisation and is refused once it expires; with the requirement switched on, admitted
/// accounts without a certificate are refused (committee members are not).
#[test]
fn accounts_bound_to_certificates_expire_and_can_be_required() {
    let mut c = Chain::new(&[1, 1, 1, 1], true);
    let pass = |c: &mut Chain, action: GovAction| {
        let (r, id) = c.propose(1, action);
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
        c.vote(2, id, true);
        c.vote(3, id, true);
        assert!(matches!(c.status(&id), ProposalStatus::Accepted { .. }));
    };
    let fp = Hash([0x7c; 32]);
    // Block times in this harness are `height` ms: notAfter 1 s expires at height 1,000.
    let bound = |not_after_secs| GovAction::SetAccountCertificate {
        address: addr(12),
        fingerprint: fp,
        role: Role::Client,
        org: "上海某银行".into(),
        not_after_secs,
    };
    assert_eq!(
        code(&c.transfer(addr(12))),
        Some(ExecErrorCode::NotAdmitted)
    );
    pass(&mut c, bound(1));
    assert_eq!(
        code(&c.transfer(addr(12))),
        None,
        "admitted by its certificate"
    );
    let perm = governance::account_perm(&c.state, ALG, &addr(12)).unwrap();
    assert_eq!((perm.role, perm.org.as_str()), (Role::Client, "上海某银行"));
    assert_eq!(perm.cert_fingerprint, Some(fp));
    assert_eq!(
        governance::account_cert_expiry(&c.state, ALG, &addr(12)).unwrap(),
        Some(1)
    );
    // Require certificates: the genesis client (no certificate) is refused, members are not.
    pass(
        &mut c,
        GovAction::SetParam(ChainParam::RequireAccountCertificates(true)),
    );
    let r = c.transfer(addr(10));
    assert_eq!(code(&r), Some(ExecErrorCode::NotAdmitted), "{r:?}");
    assert!(r.error.unwrap().1.contains("holds no client certificate"));
    assert_eq!(code(&c.transfer(addr(12))), None);
    assert_eq!(code(&c.transfer(addr(1))), None, "a committee member");
    // Past notAfter the account is refused; an expired certificate cannot be bound again.
    c.height = 5_000;
    let r = c.transfer(addr(12));
    assert_eq!(code(&r), Some(ExecErrorCode::CertificateExpired), "{r:?}");
    let (r, _) = c.propose(1, bound(2));
    assert_eq!(code(&r), Some(ExecErrorCode::GovInvalid), "{r:?}");
    assert!(r.error.unwrap().1.contains("expired"));
}

/// A certificate naming organisation `org` (self-signed: the chain reads only its subject and
/// fingerprint).
fn org_cert(org: &str, seed: u8) -> keel_pki::Certificate {
    use keel_pki::{IssueRequest, Issuer, Profile, Serial, Validity};
    let ca = KeyPair::from_seed(Scheme::Sm2, &[seed; 32]);
    keel_pki::issue(
        &IssueRequest {
            common_name: "member",
            organization: org,
            profile: Profile::Ca { path_len: 0 },
            scheme: Scheme::Sm2,
            public_key: &ca.public_key(),
            validity: Validity::days_from(1_800_000_000, 365),
            serial: Serial::random().unwrap(),
        },
        Issuer::SelfSigned(&ca),
    )
    .unwrap()
}

/// Issue 14: an organisation's certified administrator revokes its own members' certificates
/// without a vote; another organisation's certificate, or a sender that is not a certified
/// org_admin, is refused.
#[test]
fn an_org_admin_revokes_its_own_organisations_certificates() {
    let mut c = Chain::new(&[1, 1, 1, 1], true);
    let (r, id) = c.propose(
        1,
        GovAction::SetAccountCertificate {
            address: addr(12),
            fingerprint: Hash([0x3e; 32]),
            role: Role::OrgAdmin,
            org: "上海某银行".into(),
            not_after_secs: u64::MAX / 1000,
        },
    );
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    c.vote(2, id, true);
    c.vote(3, id, true);
    let revoke = |cert: &keel_pki::Certificate| {
        Payload::Gov(GovPayload::RevokeMemberCertificate {
            certificate: cert.der().to_vec(),
        })
    };
    let ours = org_cert("上海某银行", 60);
    let theirs = org_cert("Other Bank", 70);
    let (r, _) = c.send(addr(12), revoke(&ours));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let fp = Hash(ours.fingerprint_digest());
    assert_eq!(
        governance::revoked_fingerprints(&c.state, ALG).unwrap(),
        vec![fp]
    );
    assert!(
        governance::revoked_at(&c.state, ALG, &fp)
            .unwrap()
            .is_some()
    );
    let (r, _) = c.send(addr(12), revoke(&ours));
    assert_eq!(code(&r), Some(ExecErrorCode::GovInvalid), "twice: {r:?}");
    let (r, _) = c.send(addr(12), revoke(&theirs));
    assert_eq!(code(&r), Some(ExecErrorCode::NotPermitted), "{r:?}");
    assert!(r.error.unwrap().1.contains("only its own"));
    let (r, _) = c.send(addr(10), revoke(&theirs));
    assert_eq!(
        code(&r),
        Some(ExecErrorCode::NotPermitted),
        "a client: {r:?}"
    );
    let (r, _) = c.send(
        addr(12),
        Payload::Gov(GovPayload::RevokeMemberCertificate {
            certificate: vec![0x30, 0x03, 1, 2, 3],
        }),
    );
    assert_eq!(code(&r), Some(ExecErrorCode::GovInvalid), "garbage: {r:?}");
    assert_eq!(
        governance::revoked_fingerprints(&c.state, ALG)
            .unwrap()
            .len(),
        1
    );
}
