//! A chain for asset tests: funded accounts 0..=9, optional governance, one block per
//! transaction, and the checks every refusal must pass.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use keel_crypto::{HashAlgorithm, Scheme, Suite};
use keel_execution::governance::{self, GovGenesis};
use keel_execution::*;
use keel_types::*;
use std::collections::HashMap;

pub const ALG: HashAlgorithm = HashAlgorithm::Sm3;

/// A transaction on chain 9 with an unchecked SM2 signer (execution does not verify
/// signatures; the mempool and the ledger do).
pub fn tx(nonce: u64, payload: Payload) -> SignedTransaction {
    SignedTransaction {
        tx: Transaction {
            chain_id: 9,
            nonce,
            expires_at_height: 1_000,
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
pub const GAS_PRICE: u128 = 1;

pub fn addr(i: u8) -> Address {
    Address([i; 20])
}

pub struct Chain {
    pub ex: Executor,
    pub state: MemoryState,
    pub height: u64,
    nonces: HashMap<Address, u64>,
}

impl Chain {
    /// Accounts 0..=9 funded; with `members`, a governance state whose committee is them.
    pub fn new(members: &[u8]) -> Chain {
        let mut state = MemoryState::default();
        let alloc: Vec<_> = (0..10).map(|i| (addr(i), 1_000_000_000u128)).collect();
        state.apply(&genesis_changes(ALG, &alloc));
        if !members.is_empty() {
            let g = GovGenesis {
                members: members
                    .iter()
                    .map(|m| (addr(*m), 1, "org".into()))
                    .collect(),
                ..GovGenesis::default()
            };
            state.apply(&governance::genesis_changes(ALG, &g));
        }
        let ex = Executor::new(ChainParams {
            chain_id: 9,
            suite: Suite::Gm,
            gas_price: GAS_PRICE,
        });
        Chain {
            ex,
            state,
            height: 0,
            nonces: HashMap::new(),
        }
    }

    /// Execute one transaction in its own block; returns the receipt and the block's changes.
    pub fn exec(&mut self, sender: Address, payload: Payload) -> (Receipt, Hash, BlockOutcome) {
        let nonce = self.nonces.entry(sender).or_default();
        let t = SignedTransaction {
            tx: Transaction {
                chain_id: 9,
                nonce: *nonce,
                expires_at_height: u64::MAX,
                gas_limit: 10_000_000,
                signer: Signer {
                    scheme: Scheme::Sm2,
                    public_key: vec![2; 33],
                },
                payload,
            },
            signature: vec![0; 64],
        };
        *nonce += 1;
        self.height += 1;
        let hash = t.hash(ALG);
        let input = TxInput {
            tx: &t,
            hash,
            sender,
        };
        let ctx = BlockContext {
            height: self.height,
            timestamp_ms: self.height,
        };
        let out = self.ex.execute_block(&self.state, ctx, &[input]).unwrap();
        self.state.apply(&out.changes);
        (out.receipts[0].clone(), hash, out)
    }

    /// The next nonce of `who` (as this chain's transactions used them).
    pub fn next_nonce(&self, who: Address) -> u64 {
        self.nonces.get(&who).copied().unwrap_or_default()
    }

    /// Execute an asset operation; returns its receipt.
    pub fn asset(&mut self, sender: u8, op: AssetOp) -> Receipt {
        self.exec(addr(sender), Payload::Asset(op)).0
    }

    /// Execute an operation that must be refused with `code`; checks that it changed nothing
    /// but the sender's account (nonce + 1, fee for the intrinsic gas) and emitted nothing.
    pub fn refused(&mut self, sender: u8, op: AssetOp, code: ExecErrorCode) -> String {
        let before = self.state.clone();
        let gas = op.gas();
        let (r, _, out) = self.exec(addr(sender), Payload::Asset(op));
        assert_eq!(r.status, TxStatus::Failed);
        let (got, msg) = r.error.clone().expect("a failed receipt has an error");
        assert_eq!(got, code, "{msg}");
        assert!(r.events.is_empty());
        assert_eq!((r.gas_used, r.fee), (gas, u128::from(gas) * GAS_PRICE));
        let sender_key = keys::account(ALG, &addr(sender));
        let keys: Vec<_> = out.changes.iter().map(|c| c.0).collect();
        assert_eq!(
            keys,
            vec![sender_key],
            "a refusal writes only the sender's account"
        );
        assert_eq!(
            without(&before, &sender_key),
            without(&self.state, &sender_key)
        );
        msg
    }

    /// Issue an asset from `sender`; returns its id.
    pub fn issue(&mut self, sender: u8, i: AssetIssue) -> Hash {
        let (r, hash, _) = self.exec(addr(sender), Payload::Asset(AssetOp::Issue(i)));
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
        assert_eq!(r.output, hash.0.to_vec());
        hash
    }

    pub fn balance(&self, asset: &Hash, who: u8) -> u128 {
        assets::holding(&self.state, ALG, asset, &addr(who))
            .unwrap()
            .balance
    }

    pub fn info(&self, asset: &Hash) -> assets::AssetInfo {
        assets::asset_info(&self.state, ALG, asset)
            .unwrap()
            .unwrap()
    }
}

/// The state's key/value set without one key (the state root is a function of this set).
pub fn without(s: &MemoryState, key: &keys::StateKey) -> Vec<(keys::StateKey, Vec<u8>)> {
    s.0.iter()
        .filter(|(k, _)| *k != key)
        .map(|(k, v)| (*k, v.clone()))
        .collect()
}

/// A mintable, burnable, freezable asset issued by 1 with 1,000 of a max 10,000, no list.
pub fn plain() -> AssetIssue {
    AssetIssue {
        name: "Keel Dollar".into(),
        symbol: "KUSD".into(),
        decimals: 2,
        max_supply: 10_000,
        initial_supply: 1_000,
        issuer: addr(1),
        mintable: true,
        burnable: true,
        freezable: true,
        holder_list: None,
    }
}
