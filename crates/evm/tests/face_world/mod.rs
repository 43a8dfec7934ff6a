//! The chain the face tests run on: an executor with the EVM, one transaction per block,
//! native and Ethereum transactions, `eth_call`.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Signature, TxKind, U256};
use keel_crypto::{HashAlgorithm, KeyPair, Suite};
use keel_evm::exec::{CallOutcome, CallRequest};
use keel_evm::{KEEL_EVM, ethtx};
use keel_execution::{
    BlockContext, ChainParams, Executor, MemoryState, TxInput, genesis_changes, keys,
};
use keel_types::{Address, Payload, Receipt, SignedTransaction, Signer, Transaction};

pub const CHAIN: u64 = 31337;
pub const ALG: HashAlgorithm = HashAlgorithm::Sha256;

pub fn params() -> ChainParams {
    ChainParams {
        chain_id: CHAIN,
        suite: Suite::Intl,
        gas_price: 1,
    }
}

pub fn word(x: u128) -> Vec<u8> {
    U256::from(x).to_be_bytes::<32>().to_vec()
}

pub fn aw(a: &Address) -> Vec<u8> {
    let mut w = vec![0u8; 12];
    w.extend(a.0);
    w
}

pub fn addr_of(key: &KeyPair) -> Address {
    Address(keel_crypto::address_of(key.scheme(), &key.public_key(), ALG).unwrap())
}

pub struct World {
    pub state: MemoryState,
    exec: Executor,
    height: u64,
    nonces: std::collections::HashMap<Address, u64>,
}

impl World {
    pub fn new(funded: &[Address]) -> World {
        let mut state = MemoryState::default();
        let alloc: Vec<_> = funded.iter().map(|a| (*a, 10u128.pow(20))).collect();
        state.apply(&genesis_changes(ALG, &alloc));
        World {
            state,
            exec: Executor::new(params()).with_evm(&KEEL_EVM),
            height: 0,
            nonces: Default::default(),
        }
    }

    pub fn ctx(&self) -> BlockContext {
        BlockContext {
            height: self.height + 1,
            timestamp_ms: 1_700_000_000_000 + self.height * 1000,
        }
    }

    pub fn block(&mut self, t: SignedTransaction) -> (Receipt, Vec<keys::StateKey>) {
        let input = TxInput {
            tx: &t,
            hash: t.hash(ALG),
            sender: t.sender(Suite::Intl).unwrap(),
        };
        let out = self
            .exec
            .execute_block(&self.state, self.ctx(), &[input])
            .unwrap();
        self.state.apply(&out.changes);
        self.height += 1;
        let changed = out.changes.iter().map(|c| c.0).collect();
        (out.receipts[0].clone(), changed)
    }

    pub fn native(&mut self, key: &KeyPair, payload: Payload) -> (Receipt, Vec<keys::StateKey>) {
        let n = self.nonces.entry(addr_of(key)).or_default();
        let t = Transaction {
            chain_id: CHAIN,
            nonce: *n,
            expires_at_height: 1_000,
            gas_limit: 3_000_000,
            signer: Signer {
                scheme: key.scheme(),
                public_key: key.public_key(),
            },
            payload,
        }
        .sign(key);
        *n += 1;
        self.block(t)
    }

    /// An Ethereum EIP-1559 transaction from a secp256k1 key.
    pub fn eth(
        &mut self,
        key: &KeyPair,
        to: Address,
        input: Vec<u8>,
    ) -> (Receipt, Vec<keys::StateKey>) {
        let n = self.nonces.entry(addr_of(key)).or_default();
        let tx = TxEip1559 {
            chain_id: CHAIN,
            nonce: *n,
            gas_limit: 200_000,
            max_fee_per_gas: 10,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(to.0.into()),
            value: U256::ZERO,
            access_list: Default::default(),
            input: input.into(),
        };
        *n += 1;
        let sig = key
            .sign_prehash_recoverable(&tx.signature_hash().0)
            .unwrap();
        let signature = Signature::new(
            U256::from_be_slice(&sig[..32]),
            U256::from_be_slice(&sig[32..64]),
            sig[64] == 1,
        );
        let raw = TxEnvelope::from(tx.into_signed(signature)).encoded_2718();
        self.block(ethtx::envelope(&raw, CHAIN).unwrap())
    }

    /// Height of the last executed block.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// An `eth_call`, whatever its outcome.
    pub fn try_call(&self, to: Address, data: Vec<u8>) -> CallOutcome {
        let req = CallRequest {
            from: Address([0xee; 20]),
            to: Some(to),
            value: 0,
            data,
            gas: 1_000_000,
        };
        keel_evm::exec::call(&self.state, &params(), self.ctx(), &req).unwrap()
    }

    /// An `eth_call` that must succeed; its output.
    pub fn call(&self, to: Address, data: Vec<u8>) -> Vec<u8> {
        let req = CallRequest {
            from: Address([0xee; 20]),
            to: Some(to),
            value: 0,
            data,
            gas: 1_000_000,
        };
        match keel_evm::exec::call(&self.state, &params(), self.ctx(), &req).unwrap() {
            CallOutcome::Success { output, .. } => output,
            other => panic!("eth_call: {other:?}"),
        }
    }
}
