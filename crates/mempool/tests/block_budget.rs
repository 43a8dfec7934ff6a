//! Block selection stops at the block budget: fat evidence transactions (4 KiB metadata, enough
//! for more than the 16 MiB network frame at the old count-only limit) are spread over several
//! blocks, each within the byte budget, and every one of them is eventually selected.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{KeyPair, Scheme, Suite};
use keel_mempool::*;
use keel_types::*;
use std::collections::HashMap;
use std::sync::Mutex;

const CHAIN: u64 = 77;
const SUITE: Suite = Suite::Intl;

#[derive(Default)]
struct Accounts(Mutex<HashMap<Address, (u64, u128)>>);
impl AccountSource for Accounts {
    fn account(&self, a: &Address) -> Result<(u64, u128), String> {
        Ok(self.0.lock().unwrap().get(a).copied().unwrap_or((0, 0)))
    }
}

fn fat_evidence(k: &KeyPair, nonce: u64) -> SignedTransaction {
    Transaction {
        chain_id: CHAIN,
        nonce,
        expires_at_height: 1_000,
        gas_limit: 10_000_000,
        signer: Signer {
            scheme: k.scheme(),
            public_key: k.public_key(),
        },
        payload: Payload::EvidencePut(EvidencePut {
            content_hash: Hash([(nonce % 251) as u8; 32]),
            hash_alg: ContentHashAlg::Sha256,
            size: nonce,
            media_type: "application/json".into(),
            metadata: "m".repeat(limits::MAX_EVIDENCE_METADATA_BYTES),
        }),
    }
    .sign(k)
}

#[test]
fn fat_transactions_fill_blocks_up_to_the_byte_budget_and_all_get_selected() {
    const SENDERS: u8 = 4;
    const PER_SENDER: u64 = 1_000;
    let pool = Mempool::new(MempoolConfig::new(CHAIN, SUITE, 0));
    let acc = Accounts::default();
    let keys: Vec<KeyPair> = (0..SENDERS)
        .map(|i| KeyPair::from_seed(Scheme::Ed25519, &[i + 1; 32]))
        .collect();
    let mut total_bytes = 0usize;
    for k in &keys {
        let raws: Vec<Vec<u8>> = (0..PER_SENDER)
            .map(|n| fat_evidence(k, n).encode())
            .collect();
        total_bytes += raws.iter().map(Vec::len).sum::<usize>();
        for r in pool.admit(&raws, &acc, 1) {
            r.unwrap();
        }
    }
    assert!(
        total_bytes > 16 * 1024 * 1024,
        "more than one frame's worth"
    );
    let budget = BlockBudget {
        max_txs: 10_000,
        max_tx_bytes: limits::MAX_BLOCK_TX_BYTES,
        max_evm_gas: limits::DEFAULT_MAX_BLOCK_EVM_GAS,
    };
    let mut selected = 0usize;
    for block in 0..10 {
        let picked = pool.select_within(&budget, &acc, 1);
        if picked.is_empty() {
            break;
        }
        let bytes: usize = picked.iter().map(|p| p.tx.encode().len()).sum();
        assert!(
            bytes <= limits::MAX_BLOCK_TX_BYTES,
            "block {block}: {bytes} bytes"
        );
        // "Commit": advance each sender's nonce past what was picked.
        let mut guard = acc.0.lock().unwrap();
        for p in &picked {
            let e = guard.entry(p.sender).or_insert((0, 0));
            e.0 = e.0.max(p.tx.tx.nonce + 1);
        }
        drop(guard);
        let done: Vec<(Address, Hash)> = picked.iter().map(|p| (p.sender, p.hash)).collect();
        pool.on_commit(&done, &acc, 2);
        selected += picked.len();
    }
    assert_eq!(selected, SENDERS as usize * PER_SENDER as usize);
    // The count bound still applies.
    let few = BlockBudget {
        max_txs: 3,
        max_tx_bytes: limits::MAX_BLOCK_TX_BYTES,
        max_evm_gas: limits::DEFAULT_MAX_BLOCK_EVM_GAS,
    };
    let k = KeyPair::from_seed(Scheme::Ed25519, &[50; 32]);
    let raws: Vec<Vec<u8>> = (0..5).map(|n| fat_evidence(&k, n).encode()).collect();
    for r in pool.admit(&raws, &acc, 2) {
        r.unwrap();
    }
    assert_eq!(pool.select_within(&few, &acc, 2).len(), 3);
}

fn evm_call(k: &KeyPair, nonce: u64, gas_limit: u64) -> SignedTransaction {
    Transaction {
        chain_id: CHAIN,
        nonce,
        expires_at_height: 1_000,
        gas_limit,
        signer: Signer {
            scheme: k.scheme(),
            public_key: k.public_key(),
        },
        payload: Payload::EvmCall {
            to: Some(Address([3; 20])),
            value: 0,
            data: vec![1, 2, 3],
        },
    }
    .sign(k)
}

/// Issue 12 / security review finding 13: selection stops at the block's EVM gas budget (the
/// sum of EVM gas limits); transactions that do not run in the EVM do not count.
#[test]
fn selection_respects_the_block_evm_gas_budget() {
    let pool = Mempool::new(MempoolConfig::new(CHAIN, SUITE, 0));
    let acc = Accounts::default();
    let heavy = KeyPair::from_seed(Scheme::Ed25519, &[61; 32]);
    let light = KeyPair::from_seed(Scheme::Ed25519, &[62; 32]);
    let mut raws: Vec<Vec<u8>> = (0..10)
        .map(|n| evm_call(&heavy, n, 30_000_000).encode())
        .collect();
    raws.extend((0..5).map(|n| fat_evidence(&light, n).encode()));
    for r in pool.admit(&raws, &acc, 1) {
        r.unwrap();
    }
    let budget = BlockBudget {
        max_txs: 10_000,
        max_tx_bytes: limits::MAX_BLOCK_TX_BYTES,
        max_evm_gas: 100_000_000,
    };
    let picked = pool.select_within(&budget, &acc, 1);
    let gas: u64 = picked.iter().map(|p| evm_gas_of(&p.tx)).sum();
    let calls = picked.iter().filter(|p| p.tx.tx.payload.is_evm()).count();
    assert_eq!((calls, gas), (3, 90_000_000));
    assert_eq!(
        picked.len(),
        3 + 5,
        "non-EVM transactions are not held back"
    );
}
