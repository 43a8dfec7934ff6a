//! Unit and property tests of the state machine with a 4-validator toy network.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::HashAlgorithm;
use keel_types::{Address, Hash};
use proptest::prelude::*;

use crate::*;

/// Toy signatures: `SHA-256(address ‖ msg)` (forgeable, but tests only sign as themselves).
#[derive(Clone, Debug)]
struct ToyCrypto(Address);

impl Crypto for ToyCrypto {
    fn me(&self) -> Address {
        self.0
    }
    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        HashAlgorithm::Sha256
            .digest_parts(&[self.0.as_bytes(), msg])
            .to_vec()
    }
    fn verify(&self, signer: &Address, msg: &[u8], sig: &[u8]) -> bool {
        HashAlgorithm::Sha256
            .digest_parts(&[signer.as_bytes(), msg])
            .as_slice()
            == sig
    }
}

const GENESIS: Hash = Hash([0x66; 32]);

fn addr(i: u8) -> Address {
    Address([i + 1; 20])
}

fn config() -> Config {
    Config {
        validators: ValidatorSet::new(9, (0..4).map(addr).collect()).unwrap(),
        genesis_id: GENESIS,
        genesis_height: 0,
        pacemaker: PacemakerConfig {
            base_timeout_ms: 100,
            backoff_exponent_cap: 4,
        },
    }
}

fn node(i: u8) -> Consensus<ToyCrypto> {
    Consensus::new(config(), ToyCrypto(addr(i)), Recovery::genesis(GENESIS)).unwrap()
}

fn block(parent: &BlockMeta, tag: u8) -> BlockMeta {
    BlockMeta {
        id: Hash([tag; 32]),
        parent_id: parent.id,
        height: parent.height + 1,
    }
}

fn genesis_meta() -> BlockMeta {
    QuorumCert::genesis(GENESIS).vote.block
}

/// Round 1 is led by validators[1 % 4] = addr(1).
fn round1_proposal() -> Proposal {
    Proposal::sign(
        block(&genesis_meta(), 1),
        1,
        QuorumCert::genesis(GENESIS),
        None,
        9,
        &ToyCrypto(addr(1)),
    )
}

fn qc_for(data: VoteData, signers: &[u8]) -> QuorumCert {
    let mut signatures: Vec<ValidatorSignature> = signers
        .iter()
        .map(|i| ValidatorSignature {
            validator: addr(*i),
            signature: ToyCrypto(addr(*i)).sign(&data.signing_bytes(9)),
        })
        .collect();
    signatures.sort_by_key(|s| s.validator);
    QuorumCert {
        vote: data,
        signatures,
    }
}

fn rejected(fx: &[Effect]) -> Option<&RejectReason> {
    match fx {
        [Effect::Rejected { reason, .. }] => Some(reason),
        _ => None,
    }
}

#[test]
fn leader_requests_payload_and_votes_after_persisting() {
    let mut leader = node(1);
    let fx = leader.start();
    assert!(matches!(
        fx[0],
        Effect::ScheduleTimeout {
            round: 1,
            after_ms: 100
        }
    ));
    assert!(matches!(fx[1], Effect::ProposeRequest { round: 1, .. }));
    let fx = leader.handle(Input::PayloadReady {
        round: 1,
        block: block(&genesis_meta(), 1),
    });
    assert!(matches!(&fx[0], Effect::PersistSafety(s) if s.highest_voted_round == 1));
    assert!(matches!(
        &fx[1],
        Effect::Broadcast(ConsensusMessage::Proposal(_))
    ));
    assert!(matches!(
        &fx[2],
        Effect::Broadcast(ConsensusMessage::Vote(_))
    ));
}

#[test]
fn follower_validates_then_votes_and_never_twice() {
    let mut n = node(2);
    n.start();
    let fx = n.handle(Input::Message(
        ConsensusMessage::Proposal(round1_proposal()),
    ));
    assert!(matches!(&fx[..], [Effect::ValidateBlock { .. }]), "{fx:?}");
    let id = Hash([1; 32]);
    let fx = n.handle(Input::BlockValidated { id, valid: true });
    assert!(matches!(&fx[0], Effect::PersistSafety(s) if s.highest_voted_round == 1));
    assert!(
        matches!(&fx[1], Effect::Broadcast(ConsensusMessage::Vote(v)) if v.data.block.id == id)
    );
    // Validating again is unexpected; nothing is signed twice.
    let fx = n.handle(Input::BlockValidated { id, valid: true });
    assert_eq!(
        rejected(&fx),
        Some(&RejectReason::UnexpectedValidation { id })
    );
}

#[test]
fn invalid_block_gets_no_vote() {
    let mut n = node(2);
    n.start();
    n.handle(Input::Message(
        ConsensusMessage::Proposal(round1_proposal()),
    ));
    let fx = n.handle(Input::BlockValidated {
        id: Hash([1; 32]),
        valid: false,
    });
    assert!(matches!(
        rejected(&fx),
        Some(RejectReason::InvalidBlock { .. })
    ));
    assert_eq!(n.safety_state().highest_voted_round, 0);
}

#[test]
fn bad_proposals_are_rejected_with_reasons() {
    let mut n = node(2);
    n.start();
    let wrong_leader = Proposal::sign(
        block(&genesis_meta(), 1),
        1,
        QuorumCert::genesis(GENESIS),
        None,
        9,
        &ToyCrypto(addr(3)),
    );
    let fx = n.handle(Input::Message(ConsensusMessage::Proposal(wrong_leader)));
    assert!(matches!(
        rejected(&fx),
        Some(RejectReason::WrongLeader { .. })
    ));

    let mut forged = round1_proposal();
    forged.block.id = Hash([9; 32]);
    let fx = n.handle(Input::Message(ConsensusMessage::Proposal(forged)));
    assert!(matches!(
        rejected(&fx),
        Some(RejectReason::BadSignature { .. })
    ));

    let outsider = Proposal::sign(
        block(&genesis_meta(), 1),
        1,
        QuorumCert::genesis(GENESIS),
        None,
        9,
        &ToyCrypto(Address([0xAA; 20])),
    );
    let fx = n.handle(Input::Message(ConsensusMessage::Proposal(outsider)));
    assert!(matches!(
        rejected(&fx),
        Some(RejectReason::UnknownValidator { .. })
    ));

    let unjustified = Proposal::sign(
        block(&genesis_meta(), 1),
        2,
        QuorumCert::genesis(GENESIS),
        None,
        9,
        &ToyCrypto(addr(2)),
    );
    let fx = n.handle(Input::Message(ConsensusMessage::Proposal(unjustified)));
    assert!(matches!(
        rejected(&fx),
        Some(RejectReason::UnjustifiedProposal { .. })
    ));

    n.handle(Input::Message(
        ConsensusMessage::Proposal(round1_proposal()),
    ));
    let twin = Proposal::sign(
        block(&genesis_meta(), 7),
        1,
        QuorumCert::genesis(GENESIS),
        None,
        9,
        &ToyCrypto(addr(1)),
    );
    let fx = n.handle(Input::Message(ConsensusMessage::Proposal(twin)));
    assert!(matches!(
        rejected(&fx),
        Some(RejectReason::Equivocation { .. })
    ));
}

#[test]
fn certificates_with_duplicate_or_too_few_signers_are_rejected() {
    let b1 = block(&genesis_meta(), 1);
    let data = VoteData {
        block: b1,
        round: 1,
        parent_round: 0,
        commit: None,
    };
    let set = config().validators;
    let crypto = ToyCrypto(addr(0));
    assert_eq!(
        qc_for(data.clone(), &[0, 1, 2]).verify(&set, &crypto),
        Ok(())
    );
    assert!(matches!(
        qc_for(data.clone(), &[0, 1]).verify(&set, &crypto),
        Err(CertificateError::TooFewSigners { got: 2, need: 3 })
    ));
    let mut dup = qc_for(data.clone(), &[0, 1, 2]);
    dup.signatures[2] = dup.signatures[1].clone();
    assert!(matches!(
        dup.verify(&set, &crypto),
        Err(CertificateError::DuplicateSigner { .. })
    ));
    let mut wrong = qc_for(data.clone(), &[0, 1, 2]);
    wrong.vote.block.id = Hash([2; 32]);
    assert!(matches!(
        wrong.verify(&set, &crypto),
        Err(CertificateError::BadSignature { .. })
    ));
    let mut lying = qc_for(data, &[0, 1, 2]);
    lying.vote.commit = Some(CommitInfo {
        height: 0,
        block_id: GENESIS,
    });
    assert!(matches!(
        lying.verify(&set, &crypto),
        Err(CertificateError::Malformed { .. })
    ));
}

#[test]
fn two_chain_commit_and_commit_proof() {
    // b1 (round 1) <- b2 (round 2): QC(b2) commits b1.
    let b1 = block(&genesis_meta(), 1);
    let b2 = block(&b1, 2);
    let qc1 = qc_for(
        VoteData {
            block: b1,
            round: 1,
            parent_round: 0,
            commit: None,
        },
        &[0, 1, 2],
    );
    let p2 = Proposal::sign(b2, 2, qc1.clone(), None, 9, &ToyCrypto(addr(2)));
    let data2 = VoteData::for_proposal(&p2);
    assert_eq!(
        data2.commit,
        Some(CommitInfo {
            height: 1,
            block_id: b1.id
        })
    );
    let mut n = node(3);
    n.start();
    n.handle(Input::Message(ConsensusMessage::Proposal(p2)));
    let mut commits = Vec::new();
    for i in 0..3 {
        let vote = Vote::sign(data2.clone(), 9, &ToyCrypto(addr(i)));
        commits.extend(
            n.handle(Input::Message(ConsensusMessage::Vote(vote)))
                .into_iter()
                .filter(|e| matches!(e, Effect::Commit { .. })),
        );
    }
    let [
        Effect::Commit {
            committed,
            blocks,
            proof,
        },
    ] = &commits[..]
    else {
        panic!("one commit expected: {commits:?}")
    };
    assert_eq!(
        *committed,
        CommitInfo {
            height: 1,
            block_id: b1.id
        }
    );
    assert_eq!(blocks, &vec![b1]);
    let set = config().validators;
    assert_eq!(
        verify_commit(&set, &ToyCrypto(addr(0)), proof, 1, &b1.id),
        Ok(())
    );
    assert!(verify_commit(&set, &ToyCrypto(addr(0)), proof, 1, &b2.id).is_err());
    assert_eq!(n.status().round, 3);
    assert_eq!(n.status().committed_height, 1);
}

#[test]
fn timeouts_form_a_tc_and_back_off() {
    let mut n = node(0);
    n.start();
    let fx = n.handle(Input::Timeout { round: 1 });
    assert!(matches!(&fx[0], Effect::PersistSafety(s) if s.highest_voted_round == 1));
    assert!(matches!(
        &fx[1],
        Effect::Broadcast(ConsensusMessage::Timeout(_))
    ));
    let mut all = Vec::new();
    for i in 1..3 {
        let t = TimeoutMsg::sign(
            1,
            QuorumCert::genesis(GENESIS),
            None,
            9,
            &ToyCrypto(addr(i)),
        );
        all.extend(n.handle(Input::Message(ConsensusMessage::Timeout(t))));
    }
    assert_eq!(n.status().round, 2);
    assert_eq!(n.status().last_tc_round, Some(1));
    assert!(
        all.iter().any(|e| matches!(
            e,
            Effect::ScheduleTimeout {
                round: 2,
                after_ms: 200
            }
        )),
        "{all:?}"
    );
}

#[test]
fn restart_never_votes_twice_in_a_round() {
    let mut n = node(2);
    n.start();
    n.handle(Input::Message(
        ConsensusMessage::Proposal(round1_proposal()),
    ));
    let fx = n.handle(Input::BlockValidated {
        id: Hash([1; 32]),
        valid: true,
    });
    let Effect::PersistSafety(persisted) = fx[0].clone() else {
        panic!()
    };
    // Crash; restart from the persisted state and receive a conflicting round-1 proposal.
    let recovery = Recovery {
        safety: persisted,
        ..Recovery::genesis(GENESIS)
    };
    let mut n = Consensus::new(config(), ToyCrypto(addr(2)), recovery).unwrap();
    n.start();
    let twin = Proposal::sign(
        block(&genesis_meta(), 7),
        1,
        QuorumCert::genesis(GENESIS),
        None,
        9,
        &ToyCrypto(addr(1)),
    );
    n.handle(Input::Message(ConsensusMessage::Proposal(twin)));
    let fx = n.handle(Input::BlockValidated {
        id: Hash([7; 32]),
        valid: true,
    });
    assert!(
        fx.iter()
            .all(|e| !matches!(e, Effect::Broadcast(_) | Effect::PersistSafety(_))),
        "{fx:?}"
    );
}

#[test]
fn votes_from_non_validators_and_over_wrong_data_are_rejected() {
    let mut n = node(0);
    n.start();
    let data = VoteData {
        block: block(&genesis_meta(), 1),
        round: 1,
        parent_round: 0,
        commit: None,
    };
    let outsider = Vote::sign(data.clone(), 9, &ToyCrypto(Address([0xAB; 20])));
    assert!(matches!(
        rejected(&n.handle(Input::Message(ConsensusMessage::Vote(outsider)))),
        Some(RejectReason::UnknownValidator { .. })
    ));
    let mut wrong = Vote::sign(data, 9, &ToyCrypto(addr(1)));
    wrong.data.block.id = Hash([3; 32]);
    assert!(matches!(
        rejected(&n.handle(Input::Message(ConsensusMessage::Vote(wrong)))),
        Some(RejectReason::BadSignature { .. })
    ));
}

fn arb_hash() -> impl Strategy<Value = Hash> {
    prop_oneof![
        Just(GENESIS),
        Just(Hash([1; 32])),
        any::<[u8; 32]>().prop_map(Hash)
    ]
}

fn arb_meta() -> impl Strategy<Value = BlockMeta> {
    (arb_hash(), arb_hash(), 0u64..4).prop_map(|(id, parent_id, height)| BlockMeta {
        id,
        parent_id,
        height,
    })
}

fn arb_qc() -> impl Strategy<Value = QuorumCert> {
    (
        arb_meta(),
        0u64..4,
        0u64..4,
        proptest::collection::vec(0u8..5, 0..5),
        any::<bool>(),
    )
        .prop_map(|(block, round, parent_round, signers, commit)| {
            let data = VoteData {
                block,
                round,
                parent_round,
                commit: commit.then_some(CommitInfo {
                    height: block.height.saturating_sub(1),
                    block_id: block.parent_id,
                }),
            };
            qc_for(data, &signers)
        })
}

fn arb_tc() -> impl Strategy<Value = Option<TimeoutCert>> {
    proptest::option::of(
        (0u64..4, proptest::collection::vec((0u8..5, 0u64..4), 0..5)).prop_map(
            |(round, entries)| TimeoutCert {
                round,
                signatures: entries
                    .into_iter()
                    .map(|(i, hqr)| TimeoutSignature {
                        validator: addr(i),
                        high_qc_round: hqr,
                        signature: ToyCrypto(addr(i)).sign(&timeout_signing_bytes(9, round, hqr)),
                    })
                    .collect(),
            },
        ),
    )
}

fn arb_message() -> impl Strategy<Value = ConsensusMessage> {
    prop_oneof![
        (arb_meta(), 0u64..4, arb_qc(), arb_tc(), 0u8..5).prop_map(|(b, r, qc, tc, a)| {
            ConsensusMessage::Proposal(Proposal::sign(b, r, qc, tc, 9, &ToyCrypto(addr(a))))
        }),
        (arb_qc(), 0u8..5).prop_map(|(qc, a)| ConsensusMessage::Vote(Vote::sign(
            qc.vote,
            9,
            &ToyCrypto(addr(a))
        ))),
        (0u64..5, arb_qc(), arb_tc(), 0u8..5).prop_map(|(r, qc, tc, a)| ConsensusMessage::Timeout(
            TimeoutMsg::sign(r, qc, tc, 9, &ToyCrypto(addr(a)))
        )),
    ]
}

fn arb_input() -> impl Strategy<Value = Input> {
    prop_oneof![
        4 => arb_message().prop_map(Input::Message),
        1 => (0u64..4).prop_map(|round| Input::Timeout { round }),
        1 => (0u64..4, arb_meta()).prop_map(|(round, block)| Input::PayloadReady { round, block }),
        1 => (arb_hash(), any::<bool>()).prop_map(|(id, valid)| Input::BlockValidated { id, valid }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// raft-rs habit: an input that is rejected leaves the state exactly as it was; and every
    /// vote or timeout that leaves is preceded by a PersistSafety covering its round.
    #[test]
    fn rejected_inputs_change_nothing_and_persist_precedes_send(inputs in proptest::collection::vec(arb_input(), 1..40), me in 0u8..4) {
        let mut n = node(me);
        n.start();
        let mut persisted_round = 0;
        for input in inputs {
            let before = n.snapshot();
            let fx = n.handle(input);
            if let [Effect::Rejected { reason, .. }] = &fx[..]
                && !matches!(reason, RejectReason::InvalidBlock { .. })
            {
                prop_assert_eq!(&before, &n.snapshot());
            }
            for e in &fx {
                match e {
                    Effect::PersistSafety(s) => persisted_round = s.highest_voted_round,
                    Effect::Broadcast(ConsensusMessage::Vote(v)) => prop_assert!(v.data.round <= persisted_round),
                    Effect::Broadcast(ConsensusMessage::Timeout(t)) => prop_assert!(t.round <= persisted_round),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn messages_round_trip(m in arb_message()) {
        let bytes = m.encode();
        prop_assert_eq!(ConsensusMessage::decode(&bytes).unwrap(), m);
    }

    #[test]
    fn decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = ConsensusMessage::decode(&bytes);
        let _ = SafetyState::decode(&bytes);
    }

    #[test]
    fn decoder_rejects_trailing_bytes(m in arb_message(), extra in 1u8..=255) {
        let mut bytes = m.encode();
        bytes.push(extra);
        prop_assert!(ConsensusMessage::decode(&bytes).is_err());
    }
}

#[test]
fn oversized_messages_are_refused_before_decoding() {
    let bytes = vec![0u8; MAX_MESSAGE_BYTES + 1];
    assert!(matches!(
        ConsensusMessage::decode(&bytes),
        Err(ConsensusError::Codec(
            keel_types::CodecError::TooLarge { .. }
        ))
    ));
}

/// A later epoch (ADR 0011) starts from the previous epoch's last block at height h: the first
/// proposal is at h + 1 and is voted; one at height 1 (as if from genesis) is rejected.
#[test]
fn an_epoch_genesis_at_a_later_height() {
    const START: u64 = 40;
    let epoch_genesis = Hash([0x77; 32]);
    let config = Config {
        genesis_id: epoch_genesis,
        genesis_height: START,
        ..config()
    };
    let recovery = Recovery {
        safety: SafetyState::genesis_at(epoch_genesis, START),
        committed: CommitInfo {
            height: START,
            block_id: epoch_genesis,
        },
        high_qc: None,
    };
    let mut n = Consensus::new(config, ToyCrypto(addr(2)), recovery).unwrap();
    n.start();
    let gqc = QuorumCert::genesis_at(epoch_genesis, START);
    assert_eq!(gqc.vote.block.height, START);
    let wrong = BlockMeta {
        id: Hash([1; 32]),
        parent_id: epoch_genesis,
        height: 1,
    };
    let p = Proposal::sign(wrong, 1, gqc.clone(), None, 9, &ToyCrypto(addr(1)));
    let fx = n.handle(Input::Message(ConsensusMessage::Proposal(p)));
    assert!(
        rejected(&fx).is_some(),
        "height 1 after an epoch genesis at {START}: {fx:?}"
    );
    let good = block(&gqc.vote.block, 2);
    assert_eq!(good.height, START + 1);
    let p = Proposal::sign(good, 1, gqc, None, 9, &ToyCrypto(addr(1)));
    let fx = n.handle(Input::Message(ConsensusMessage::Proposal(p)));
    assert!(matches!(fx[..], [Effect::ValidateBlock { .. }]), "{fx:?}");
    let fx = n.handle(Input::BlockValidated {
        id: good.id,
        valid: true,
    });
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Broadcast(ConsensusMessage::Vote(_)))),
        "votes for the first block of the epoch: {fx:?}"
    );
}
