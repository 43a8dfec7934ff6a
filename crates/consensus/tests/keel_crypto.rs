#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `KeelCrypto` with real SM2 and Ed25519 keys: a commit proof built from real signatures
//! verifies from the validator set alone, and tampering is caught.

use keel_consensus::{
    BlockMeta, CommitInfo, CommitProof, ConsensusError, Crypto, KeelCrypto, QuorumCert,
    ValidatorSet, ValidatorSignature, VoteData, verify_commit,
};
use keel_crypto::{KeyPair, Scheme, Suite};
use keel_types::Hash;

fn check(suite: Suite) {
    let keys: Vec<KeyPair> = (0..4u8)
        .map(|i| KeyPair::from_seed(suite.signature_scheme(), &[i + 1; 32]))
        .collect();
    let public: Vec<Vec<u8>> = keys.iter().map(KeyPair::public_key).collect();
    let cryptos: Vec<KeelCrypto> = keys
        .iter()
        .map(|k| KeelCrypto::new(k.clone(), suite.hash(), &public).unwrap())
        .collect();
    let validators = ValidatorSet::new(1, cryptos.iter().map(Crypto::me).collect()).unwrap();
    let parent = Hash([1; 32]);
    let data = VoteData {
        block: BlockMeta {
            id: Hash([2; 32]),
            parent_id: parent,
            height: 6,
        },
        round: 9,
        parent_round: 8,
        commit: Some(CommitInfo {
            height: 5,
            block_id: parent,
        }),
    };
    let mut signatures: Vec<ValidatorSignature> = cryptos[..3]
        .iter()
        .map(|c| ValidatorSignature {
            validator: c.me(),
            signature: c.sign(&data.signing_bytes(1)),
        })
        .collect();
    signatures.sort_by_key(|s| s.validator);
    let proof = CommitProof {
        qc: QuorumCert {
            vote: data,
            signatures,
        },
    };
    assert_eq!(
        verify_commit(&validators, &cryptos[3], &proof, 5, &parent),
        Ok(())
    );
    assert!(matches!(
        verify_commit(&validators, &cryptos[3], &proof, 6, &parent),
        Err(ConsensusError::CommitMismatch { .. })
    ));
    let mut other_chain = proof.clone();
    let other_set = ValidatorSet::new(2, validators.addresses().to_vec()).unwrap();
    assert!(
        verify_commit(&other_set, &cryptos[3], &other_chain, 5, &parent).is_err(),
        "chain id is signed"
    );
    other_chain.qc.signatures[0].signature[0] ^= 1;
    assert!(verify_commit(&validators, &cryptos[3], &other_chain, 5, &parent).is_err());
}

#[test]
fn commit_proofs_with_sm2() {
    assert_eq!(Suite::Gm.signature_scheme(), Scheme::Sm2);
    check(Suite::Gm);
}

#[test]
fn commit_proofs_with_ed25519() {
    check(Suite::Intl);
}
