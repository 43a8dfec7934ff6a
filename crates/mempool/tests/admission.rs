//! Admission rules: every rejection path has a specific error; nothing accepted is lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{KeyPair, Scheme, Suite};
use keel_mempool::*;
use keel_types::*;
use std::collections::HashMap;
use std::sync::Mutex;

const CHAIN: u64 = 77;

#[derive(Default)]
struct Accounts(Mutex<HashMap<Address, (u64, u128)>>);
impl AccountSource for Accounts {
    fn account(&self, a: &Address) -> Result<(u64, u128), String> {
        Ok(self.0.lock().unwrap().get(a).copied().unwrap_or((0, 0)))
    }
}

fn key(scheme: Scheme, i: u8) -> KeyPair {
    KeyPair::from_seed(scheme, &[i; 32])
}

fn transfer(k: &KeyPair, nonce: u64, amount: u128) -> SignedTransaction {
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
            amount,
        },
    }
    .sign(k)
}

fn pool(suite: Suite) -> Mempool {
    Mempool::new(MempoolConfig::new(CHAIN, suite, 1))
}

fn fund(acc: &Accounts, suite: Suite, k: &KeyPair, nonce: u64, bal: u128) -> Address {
    let a = Address(keel_crypto::address_of(k.scheme(), &k.public_key(), suite.hash()).unwrap());
    acc.0.lock().unwrap().insert(a, (nonce, bal));
    a
}

fn admit_one(p: &Mempool, acc: &Accounts, tx: &SignedTransaction) -> Result<Admitted, AdmitError> {
    p.admit(&[tx.encode()], acc, 1).remove(0)
}

#[test]
fn accepts_valid_transactions_of_each_allowed_scheme() {
    for (suite, scheme) in [
        (Suite::Gm, Scheme::Sm2),
        (Suite::Intl, Scheme::Ed25519),
        (Suite::Gm, Scheme::Secp256k1),
    ] {
        let p = pool(suite);
        let acc = Accounts::default();
        let k = key(scheme, 1);
        let sender = fund(&acc, suite, &k, 0, 1_000_000);
        let tx = transfer(&k, 0, 10);
        let ok = admit_one(&p, &acc, &tx).unwrap();
        assert_eq!(ok.sender, sender);
        assert_eq!(ok.hash, tx.hash(suite.hash()));
        assert!(p.contains(&ok.hash));
    }
}

#[test]
fn every_bad_input_gets_its_own_error_and_pool_keeps_what_it_had() {
    let suite = Suite::Intl;
    let p = pool(suite);
    let acc = Accounts::default();
    let k = key(Scheme::Ed25519, 1);
    fund(&acc, suite, &k, 5, 100_000);
    let good = transfer(&k, 5, 10);
    admit_one(&p, &acc, &good).unwrap();

    let code = |r: Result<Admitted, AdmitError>| r.unwrap_err().name();
    // Garbage / truncated bytes.
    assert_eq!(
        p.admit(&[vec![1, 2, 3]], &acc, 1)
            .remove(0)
            .unwrap_err()
            .name(),
        "TX_MALFORMED"
    );
    let mut truncated = good.encode();
    truncated.truncate(truncated.len() - 3);
    assert_eq!(
        p.admit(&[truncated], &acc, 1).remove(0).unwrap_err().name(),
        "TX_MALFORMED"
    );
    // Oversized.
    let big = vec![0u8; limits::MAX_TX_BYTES + 1];
    assert_eq!(p.admit(&[big], &acc, 1).remove(0).unwrap_err().code(), 1002);
    // Wrong chain id.
    let mut t = transfer(&k, 6, 10);
    t.tx.chain_id = 1;
    let t = t.tx.sign(&k);
    assert_eq!(code(admit_one(&p, &acc, &t)), "WRONG_CHAIN_ID");
    // Bad signature (flipped bit).
    let mut t = transfer(&k, 6, 10);
    t.signature[3] ^= 1;
    assert_eq!(code(admit_one(&p, &acc, &t)), "BAD_SIGNATURE");
    // Signed by another scheme than declared: the SM2 signature over the same message is
    // presented as Ed25519 under the Ed25519 key.
    let sm2 = key(Scheme::Sm2, 1);
    let mut t = transfer(&k, 6, 10);
    t.signature = sm2.sign(&t.signing_message());
    assert_eq!(code(admit_one(&p, &acc, &t)), "BAD_SIGNATURE");
    // Scheme not accepted by the suite.
    let t = transfer(&sm2, 0, 1);
    assert_eq!(code(admit_one(&p, &acc, &t)), "SCHEME_NOT_ALLOWED");
    // Replayed nonce.
    let t = transfer(&k, 4, 10);
    assert!(matches!(
        admit_one(&p, &acc, &t),
        Err(AdmitError::NonceTooLow {
            nonce: 4,
            expected: 5
        })
    ));
    // Too far ahead.
    let t = transfer(&k, 5 + 4_096, 10);
    assert_eq!(code(admit_one(&p, &acc, &t)), "NONCE_TOO_HIGH");
    // Same nonce as a pending one.
    let t = transfer(&k, 5, 11);
    assert_eq!(code(admit_one(&p, &acc, &t)), "NONCE_ALREADY_PENDING");
    // Exact duplicate.
    assert_eq!(code(admit_one(&p, &acc, &good)), "ALREADY_KNOWN");
    // Expired.
    let mut t = transfer(&k, 6, 10);
    t.tx.expires_at_height = 0;
    let t = t.tx.sign(&k);
    assert_eq!(code(admit_one(&p, &acc, &t)), "TX_EXPIRED");
    let mut t = transfer(&k, 6, 10);
    t.tx.expires_at_height = 10_000_000;
    let t = t.tx.sign(&k);
    assert_eq!(code(admit_one(&p, &acc, &t)), "EXPIRY_TOO_FAR");
    // Insufficient balance (amount + max fee + pending).
    let t = transfer(&k, 6, 90_000);
    assert!(matches!(
        admit_one(&p, &acc, &t),
        Err(AdmitError::InsufficientBalance {
            balance: 100_000,
            ..
        })
    ));
    // Nothing that was accepted got lost.
    assert_eq!(p.len(), 1);
    assert!(p.contains(&good.hash(suite.hash())));
}

#[test]
fn full_pool_answers_pool_full() {
    let suite = Suite::Intl;
    let mut cfg = MempoolConfig::new(CHAIN, suite, 0);
    cfg.max_txs = 3;
    let p = Mempool::new(cfg);
    let acc = Accounts::default();
    let k = key(Scheme::Ed25519, 2);
    fund(&acc, suite, &k, 0, 1_000);
    let raws: Vec<Vec<u8>> = (0..5).map(|n| transfer(&k, n, 1).encode()).collect();
    let res = p.admit(&raws, &acc, 1);
    assert!(res[..3].iter().all(|r| r.is_ok()));
    assert!(matches!(res[3], Err(AdmitError::PoolFull { capacity: 3 })));
    assert_eq!(res[4].as_ref().unwrap_err().code(), 1010);
    assert_eq!(p.len(), 3);
}

#[test]
fn batch_with_one_bad_signature_rejects_only_that_one() {
    for (suite, scheme) in [(Suite::Intl, Scheme::Ed25519), (Suite::Gm, Scheme::Sm2)] {
        let p = pool(suite);
        let acc = Accounts::default();
        let keys: Vec<KeyPair> = (0..100).map(|i| key(scheme, i)).collect();
        for k in &keys {
            fund(&acc, suite, k, 0, 1_000_000);
        }
        let mut txs: Vec<SignedTransaction> = keys.iter().map(|k| transfer(k, 0, 1)).collect();
        txs[37].signature[10] ^= 0x40;
        let raws: Vec<Vec<u8>> = txs.iter().map(|t| t.encode()).collect();
        let res = p.admit(&raws, &acc, 1);
        for (i, r) in res.iter().enumerate() {
            if i == 37 {
                assert!(matches!(r, Err(AdmitError::BadSignature { .. })), "{r:?}");
            } else {
                assert!(r.is_ok(), "{i}: {r:?}");
            }
        }
        assert_eq!(p.len(), 99);
    }
}

#[test]
fn select_orders_by_nonce_and_arrival_and_on_commit_prunes() {
    let suite = Suite::Intl;
    let p = pool(suite);
    let acc = Accounts::default();
    let a = key(Scheme::Ed25519, 1);
    let b = key(Scheme::Ed25519, 2);
    let addr_a = fund(&acc, suite, &a, 0, 1_000_000);
    let addr_b = fund(&acc, suite, &b, 0, 1_000_000);
    // a:1 arrives before a:0; b:0 in between; a:3 is a gap.
    for t in [
        transfer(&a, 1, 1),
        transfer(&b, 0, 1),
        transfer(&a, 0, 1),
        transfer(&a, 3, 1),
    ] {
        admit_one(&p, &acc, &t).unwrap();
    }
    let sel = p.select(10, &acc, 1);
    let order: Vec<(Address, u64)> = sel.iter().map(|x| (x.sender, x.tx.tx.nonce)).collect();
    assert_eq!(order, vec![(addr_b, 0), (addr_a, 0), (addr_a, 1)]);
    assert_eq!(p.select(1, &acc, 1).len(), 1);
    // Commit a:0, a:1 and b:0.
    let committed: Vec<(Address, Hash)> = sel.iter().map(|x| (x.sender, x.hash)).collect();
    acc.0.lock().unwrap().insert(addr_a, (2, 999_000));
    acc.0.lock().unwrap().insert(addr_b, (1, 999_000));
    p.on_commit(&committed, &acc, 2);
    assert_eq!(p.len(), 1); // a:3 stays (still a gap)
    assert!(p.select(10, &acc, 2).is_empty());
    admit_one(&p, &acc, &transfer(&a, 2, 1)).unwrap();
    let sel = p.select(10, &acc, 2);
    assert_eq!(
        sel.iter().map(|x| x.tx.tx.nonce).collect::<Vec<_>>(),
        vec![2, 3]
    );
    // Expiry sweep: transactions expiring at 50 vanish when the next height is 51.
    p.on_commit(&[], &acc, 51);
    assert!(p.is_empty());
}

#[test]
fn included_transactions_are_refused_as_known_before_verification() {
    let suite = Suite::Intl;
    let p = pool(suite);
    let acc = Accounts::default();
    let a = key(Scheme::Ed25519, 5);
    let addr = fund(&acc, suite, &a, 0, 1_000_000);
    // Seen in someone else's validated proposal, then gossiped: refused as known.
    let t0 = transfer(&a, 0, 1);
    let h0 = t0.hash(suite.hash());
    p.mark_included(&[h0]);
    assert!(matches!(
        admit_one(&p, &acc, &t0),
        Err(AdmitError::AlreadyKnown { hash }) if hash == h0
    ));
    assert!(p.is_empty());
    // Committed from the pool, then a late copy: a replay, refused on its nonce before the
    // signature check (a copy with a broken signature still says NONCE_TOO_LOW).
    let t1 = transfer(&a, 1, 1);
    let h1 = admit_one(&p, &acc, &t1).unwrap().hash;
    acc.0.lock().unwrap().insert(addr, (2, 999_000));
    p.on_commit(&[(addr, h1)], &acc, 2);
    assert!(p.is_empty());
    assert!(matches!(
        admit_one(&p, &acc, &t1),
        Err(AdmitError::NonceTooLow {
            nonce: 1,
            expected: 2
        })
    ));
    let mut forged = t1.clone();
    forged.signature[0] ^= 1;
    assert!(matches!(
        admit_one(&p, &acc, &forged),
        Err(AdmitError::NonceTooLow { .. })
    ));
    // Something new from the same sender is still admitted.
    admit_one(&p, &acc, &transfer(&a, 2, 1)).unwrap();
    assert_eq!(p.len(), 1);
}

#[test]
fn has_ready_sees_only_includable_transactions() {
    let suite = Suite::Intl;
    let p = pool(suite);
    let acc = Accounts::default();
    let a = key(Scheme::Ed25519, 6);
    fund(&acc, suite, &a, 0, 1_000_000);
    assert!(!p.has_ready(&acc, 1));
    // Behind a nonce gap (next nonce is 0): pending but not includable.
    admit_one(&p, &acc, &transfer(&a, 2, 1)).unwrap();
    assert_eq!(p.len(), 1);
    assert!(!p.has_ready(&acc, 1));
    // The next nonce arrives: includable.
    admit_one(&p, &acc, &transfer(&a, 0, 1)).unwrap();
    assert!(p.has_ready(&acc, 1));
    // Past its expiry height (50) it is not.
    assert!(!p.has_ready(&acc, 51));
}

/// An account source whose state prices gas (governance set a price, issue 12).
struct Priced(Accounts, u128);
impl AccountSource for Priced {
    fn account(&self, a: &Address) -> Result<(u64, u128), String> {
        self.0.account(a)
    }
    fn gas_price(&self) -> Result<Option<u128>, String> {
        Ok(Some(self.1))
    }
}

#[test]
fn admission_prices_gas_at_the_account_source_price() {
    let suite = Suite::Intl;
    // Configured (genesis) price 0: free. The state's price 10: 21,000 × 10 + 5 needed.
    let p = Mempool::new(MempoolConfig::new(CHAIN, suite, 0));
    let acc = Accounts::default();
    let k = key(Scheme::Ed25519, 1);
    fund(&acc, suite, &k, 0, 210_004);
    let tx = transfer(&k, 0, 5);
    assert!(
        admit_one(&p, &acc, &tx).is_ok(),
        "free at the configured price"
    );
    let p = Mempool::new(MempoolConfig::new(CHAIN, suite, 0));
    let priced = Priced(acc, 10);
    assert_eq!(
        p.admit(&[tx.encode()], &priced, 1).remove(0),
        Err(AdmitError::InsufficientBalance {
            balance: 210_004,
            needed: 210_005
        })
    );
    priced
        .0
        .0
        .lock()
        .unwrap()
        .values_mut()
        .for_each(|v| v.1 += 1);
    assert!(p.admit(&[tx.encode()], &priced, 1).remove(0).is_ok());
}
