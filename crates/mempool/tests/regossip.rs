//! What a node gossips again when transactions stay pending: the longest-pending ones, at most
//! a few per sender (the nonces that must commit first), in admission order, never more than
//! asked.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{KeyPair, Scheme, Suite};
use keel_mempool::*;
use keel_types::*;

const CHAIN: u64 = 77;

struct Fresh;
impl AccountSource for Fresh {
    fn account(&self, _: &Address) -> Result<(u64, u128), String> {
        Ok((0, 1_000_000))
    }
}

fn transfer(k: &KeyPair, nonce: u64) -> Vec<u8> {
    Transaction {
        chain_id: CHAIN,
        nonce,
        expires_at_height: 1_000,
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
    .sign(k)
    .encode()
}

#[test]
fn the_oldest_pending_transactions_first_a_few_per_sender_bounded() {
    let pool = Mempool::new(MempoolConfig::new(CHAIN, Suite::Intl, 0));
    let a = KeyPair::from_seed(Scheme::Ed25519, &[1; 32]);
    let b = KeyPair::from_seed(Scheme::Ed25519, &[2; 32]);
    let mut order = Vec::new();
    // a sends 10 transactions, then b sends 3.
    for (k, n) in [(&a, 10u64), (&b, 3)] {
        for nonce in 0..n {
            let r = pool.admit(&[transfer(k, nonce)], &Fresh, 1);
            order.push(r[0].as_ref().expect("admitted").hash);
        }
    }
    let all = pool.oldest(100);
    let hashes: Vec<Hash> = all.iter().map(|p| p.hash).collect();
    let expected: Vec<Hash> = order[..REGOSSIP_PER_SENDER]
        .iter()
        .chain(&order[10..])
        .copied()
        .collect();
    assert_eq!(
        hashes, expected,
        "a's first nonces, then b's, in admission order"
    );
    let two: Vec<Hash> = pool.oldest(2).iter().map(|p| p.hash).collect();
    assert_eq!(two, order[..2].to_vec());
    assert!(pool.oldest(0).is_empty());
}
