//! One signature rule whatever the batch: a signature that Ed25519 `verify_strict` rejects is
//! rejected by [`verify_parallel`] (admission and proposal validation) in every batch
//! composition. The signature crafted here has a small-order component in R: the cofactorless
//! single check refuses it, while a random-linear-combination batch accepts it whenever its
//! coefficient is a multiple of 8 — so validators verifying different batches used to disagree
//! (security review finding 8).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::{EdwardsPoint, Scalar};
use keel_crypto::{KeyPair, Scheme, VerifyItem};
use keel_mempool::verify_parallel;
use keel_types::*;
use sha2::{Digest, Sha512};

const CHAIN: u64 = 77;

fn unsigned(k: &KeyPair, nonce: u64) -> Transaction {
    Transaction {
        chain_id: CHAIN,
        nonce,
        expires_at_height: 50,
        gas_limit: 21_000,
        signer: Signer {
            scheme: k.scheme(),
            public_key: k.public_key(),
        },
        payload: Payload::Transfer {
            to: Address([9; 20]),
            amount: 1,
        },
    }
}

fn wide(bytes: &[u8]) -> Scalar {
    let d: [u8; 64] = Sha512::digest(bytes).into();
    Scalar::from_bytes_mod_order_wide(&d)
}

/// A signature by `seed`'s key over `msg` whose R carries an order-8 torsion point.
fn mixed_torsion_signature(seed: &[u8; 32], msg: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let h: [u8; 64] = Sha512::digest(seed).into();
    let mut a_bytes = [0u8; 32];
    a_bytes.copy_from_slice(&h[..32]);
    a_bytes[0] &= 248;
    a_bytes[31] &= 127;
    a_bytes[31] |= 64;
    let a = Scalar::from_bytes_mod_order(a_bytes);
    let public = EdwardsPoint::mul_base(&a).compress();
    let r = wide(b"keel test nonce");
    let big_r = (ED25519_BASEPOINT_POINT * r + EIGHT_TORSION[1]).compress();
    let mut pre = Vec::new();
    pre.extend_from_slice(big_r.as_bytes());
    pre.extend_from_slice(public.as_bytes());
    pre.extend_from_slice(msg);
    let s = r + wide(&pre) * a;
    let mut sig = big_r.as_bytes().to_vec();
    sig.extend_from_slice(s.as_bytes());
    (public.as_bytes().to_vec(), sig)
}

#[test]
fn a_mixed_torsion_signature_is_refused_in_every_batch_composition() {
    let seed = [5u8; 32];
    let bad_key = KeyPair::from_seed(Scheme::Ed25519, &seed);
    let tx = unsigned(&bad_key, 0);
    let msg = tx.signing_message();
    let (public, signature) = mixed_torsion_signature(&seed, &msg);
    assert_eq!(
        public,
        bad_key.public_key(),
        "the crafted key is the seed's key"
    );
    assert!(
        keel_crypto::verify(Scheme::Ed25519, &public, &msg, &signature).is_err(),
        "verify_strict refuses it"
    );
    let bad = SignedTransaction { tx, signature };
    let good: Vec<SignedTransaction> = (0..40u8)
        .map(|i| {
            let k = KeyPair::from_seed(Scheme::Ed25519, &[i + 10; 32]);
            unsigned(&k, u64::from(i)).sign(&k)
        })
        .collect();

    // The hazard: a batch's verdict on it depends on the other members.
    let mut batch_accepted = 0;
    for n in 1..=40 {
        let msgs: Vec<Vec<u8>> = std::iter::once(&bad)
            .chain(&good[..n])
            .map(|t| t.signing_message())
            .collect();
        let items: Vec<VerifyItem<'_>> = std::iter::once(&bad)
            .chain(&good[..n])
            .zip(&msgs)
            .map(|(t, m)| VerifyItem {
                public_key: &t.tx.signer.public_key,
                message: m,
                signature: &t.signature,
            })
            .collect();
        if keel_crypto::verify_batch(Scheme::Ed25519, &items).is_ok() {
            batch_accepted += 1;
        }
    }
    eprintln!("batch verification accepted the bad signature in {batch_accepted} of 40 batches");

    // The rule: refused in every composition and position, the good ones always accepted.
    for n in 0..=good.len() {
        for chunk in [1, 2, 7, 64] {
            let mut txs: Vec<&SignedTransaction> = good[..n].iter().collect();
            txs.insert(n / 2, &bad);
            let ok = verify_parallel(&txs, chunk);
            for (t, flag) in txs.iter().zip(&ok) {
                assert_eq!(
                    *flag,
                    !std::ptr::eq(*t, &bad),
                    "batch of {n}, chunk {chunk}"
                );
            }
        }
    }
}
