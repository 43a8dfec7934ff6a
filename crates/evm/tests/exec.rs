//! The EVM through Keel's executor: an ERC-20 (the solc-js artefact the client tests use)
//! deployed and called by a native Ed25519 account (`Payload::EvmCall`) and by an Ethereum
//! EIP-1559 transaction from a secp256k1 account, revert data in receipts, logs as events, the
//! evidence precompile reading a record made by a native transaction, determinism.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Signature, TxKind, U256};
use keel_crypto::{HashAlgorithm, KeyPair, Scheme, Suite};
use keel_evm::exec::{CallOutcome, CallRequest};
use keel_evm::{KEEL_EVM, ethtx, logs};
use keel_execution::{
    BlockContext, ChainParams, Executor, MemoryState, StateView, TxInput, genesis_changes,
};
use keel_types::{
    Address, ContentHashAlg, EvidencePut, ExecErrorCode, Hash, Payload, Receipt, SignedTransaction,
    Signer, Transaction, TxStatus,
};
use std::path::Path;

const CHAIN: u64 = 31337;
const GAS_PRICE: u128 = 3;

fn params() -> ChainParams {
    ChainParams {
        chain_id: CHAIN,
        suite: Suite::Intl,
        gas_price: GAS_PRICE,
    }
}

fn artefact(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/clients/contracts/build/Contracts.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let code = v["contracts"][name]["bytecode"].as_str().unwrap();
    hex::decode(code.trim_start_matches("0x")).unwrap()
}

fn word(x: u128) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[16..].copy_from_slice(&x.to_be_bytes());
    w
}

fn addr_word(a: &Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&a.0);
    w
}

/// ABI: `(string, string, uint256)`.
fn encode_ctor(name: &str, symbol: &str, supply: u128) -> Vec<u8> {
    let pad = |s: &str| {
        let mut b = s.as_bytes().to_vec();
        b.resize(s.len().div_ceil(32) * 32, 0);
        b
    };
    let tail1 = [word(name.len() as u128).to_vec(), pad(name)].concat();
    let tail2 = [word(symbol.len() as u128).to_vec(), pad(symbol)].concat();
    [
        word(96).to_vec(),
        word(96 + tail1.len() as u128).to_vec(),
        word(supply).to_vec(),
        tail1,
        tail2,
    ]
    .concat()
}

fn selector(sig: &str) -> Vec<u8> {
    HashAlgorithm::Keccak256.digest(sig.as_bytes())[..4].to_vec()
}

struct Chain {
    state: MemoryState,
    exec: Executor,
    height: u64,
}

impl Chain {
    fn new(alloc: &[(Address, u128)]) -> Chain {
        let mut state = MemoryState::default();
        state.apply(&genesis_changes(HashAlgorithm::Sha256, alloc));
        Chain {
            state,
            exec: Executor::new(params()).with_evm(&KEEL_EVM),
            height: 0,
        }
    }

    fn ctx(&self) -> BlockContext {
        BlockContext {
            height: self.height + 1,
            timestamp_ms: 1_700_000_000_000 + self.height * 1000,
        }
    }

    /// Execute one block; returns the receipts.
    fn block(&mut self, txs: &[SignedTransaction]) -> Vec<Receipt> {
        let alg = HashAlgorithm::Sha256;
        let inputs: Vec<TxInput<'_>> = txs
            .iter()
            .map(|t| TxInput {
                tx: t,
                hash: t.hash(alg),
                sender: t.sender(Suite::Intl).unwrap(),
            })
            .collect();
        let out = self
            .exec
            .execute_block(&self.state, self.ctx(), &inputs)
            .unwrap();
        // Determinism: the same block on the same state gives the same outcome.
        let again = self
            .exec
            .execute_block(&self.state, self.ctx(), &inputs)
            .unwrap();
        assert_eq!(out, again);
        self.state.apply(&out.changes);
        self.height += 1;
        out.receipts
    }

    fn call(&self, from: Address, to: Address, data: Vec<u8>) -> CallOutcome {
        keel_evm::exec::call(
            &self.state,
            &params(),
            self.ctx(),
            &CallRequest {
                from,
                to: Some(to),
                value: 0,
                data,
                gas: 1_000_000,
            },
        )
        .unwrap()
    }

    fn balance_of(&self, token: Address, who: &Address) -> u128 {
        let data = [selector("balanceOf(address)"), addr_word(who).to_vec()].concat();
        match self.call(*who, token, data) {
            CallOutcome::Success { output, .. } => {
                u128::from_be_bytes(output[16..32].try_into().unwrap())
            }
            other => panic!("balanceOf: {other:?}"),
        }
    }

    fn native_balance(&self, a: &Address) -> u128 {
        keel_evm::db::read_account(&self.state, HashAlgorithm::Sha256, a)
            .unwrap()
            .unwrap_or_default()
            .balance
    }
}

fn native_tx(key: &KeyPair, nonce: u64, gas_limit: u64, payload: Payload) -> SignedTransaction {
    Transaction {
        chain_id: CHAIN,
        nonce,
        expires_at_height: 1_000,
        gas_limit,
        signer: Signer {
            scheme: key.scheme(),
            public_key: key.public_key(),
        },
        payload,
    }
    .sign(key)
}

fn addr_of(key: &KeyPair) -> Address {
    Address(
        keel_crypto::address_of(key.scheme(), &key.public_key(), HashAlgorithm::Sha256).unwrap(),
    )
}

#[test]
fn native_ed25519_account_deploys_and_calls_an_erc20() {
    let ed = KeyPair::from_seed(Scheme::Ed25519, &[7; 32]);
    let alice = addr_of(&ed);
    let bob = Address([0xb0; 20]);
    let mut chain = Chain::new(&[(alice, 10u128.pow(24))]);
    let supply = 1_000_000u128;

    // Deploy.
    let init = [artefact("KeelToken"), encode_ctor("Keel", "KEEL", supply)].concat();
    let deploy = native_tx(
        &ed,
        0,
        3_000_000,
        Payload::EvmCall {
            to: None,
            value: 0,
            data: init,
        },
    );
    let r = chain.block(&[deploy]).remove(0);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(r.fee, u128::from(r.gas_used) * GAS_PRICE);
    let token = Address(r.output.clone().try_into().expect("created address"));
    assert!(
        !keel_evm::db::read_code(&chain.state, HashAlgorithm::Sha256, &token)
            .unwrap()
            .is_empty()
    );
    // The constructor's Transfer(0 → alice) log.
    let ev = logs::from_event(&r.events[0]).unwrap();
    assert_eq!(
        ev.topics[0].0,
        HashAlgorithm::Keccak256.digest(b"Transfer(address,address,uint256)")
    );
    assert_eq!(chain.balance_of(token, &alice), supply);

    // Transfer 250 to bob: success, one log, state and fee.
    let before = chain.native_balance(&alice);
    let data = [
        selector("transfer(address,uint256)"),
        addr_word(&bob).to_vec(),
        word(250).to_vec(),
    ]
    .concat();
    let t = native_tx(
        &ed,
        1,
        200_000,
        Payload::EvmCall {
            to: Some(token),
            value: 0,
            data,
        },
    );
    let r = chain.block(&[t]).remove(0);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(r.events.len(), 1);
    assert_eq!(chain.balance_of(token, &bob), 250);
    assert_eq!(chain.balance_of(token, &alice), supply - 250);
    assert_eq!(chain.native_balance(&alice), before - r.fee);

    // Too much: reverted with the reason, nonce consumed, fee charged, no state change.
    let data = [
        selector("transfer(address,uint256)"),
        addr_word(&bob).to_vec(),
        word(supply * 2).to_vec(),
    ]
    .concat();
    let t = native_tx(
        &ed,
        2,
        200_000,
        Payload::EvmCall {
            to: Some(token),
            value: 0,
            data,
        },
    );
    let r = chain.block(&[t]).remove(0);
    assert_eq!(r.status, TxStatus::Failed);
    let (code, msg) = r.error.clone().unwrap();
    assert_eq!(code, ExecErrorCode::Reverted);
    assert_eq!(
        msg,
        "execution reverted: ERC20: transfer amount exceeds balance"
    );
    assert_eq!(
        keel_evm::exec::decode_revert_reason(&r.output).as_deref(),
        Some("ERC20: transfer amount exceeds balance")
    );
    assert!(r.fee > 0);
    assert_eq!(chain.balance_of(token, &bob), 250);
    let acct = keel_evm::db::read_account(&chain.state, HashAlgorithm::Sha256, &alice)
        .unwrap()
        .unwrap();
    assert_eq!(acct.nonce, 3);

    // A wrong nonce is void (no nonce consumed, no fee), exactly like a native transaction.
    let t = native_tx(
        &ed,
        9,
        200_000,
        Payload::EvmCall {
            to: Some(token),
            value: 0,
            data: vec![],
        },
    );
    let r = chain.block(&[t]).remove(0);
    assert_eq!(r.error.unwrap().0, ExecErrorCode::NonceMismatch);
    assert_eq!(r.fee, 0);

    // Native transfers still take the native path (fixed gas) next to EVM transactions.
    let t = native_tx(&ed, 3, 21_000, Payload::Transfer { to: bob, amount: 5 });
    let r = chain.block(&[t]).remove(0);
    assert_eq!(r.status, TxStatus::Success);
    assert_eq!(r.gas_used, 21_000);
    assert_eq!(chain.native_balance(&bob), 5);
}

fn eth_tx(key: &KeyPair, nonce: u64, to: Option<Address>, value: u128, input: Vec<u8>) -> Vec<u8> {
    let tx = TxEip1559 {
        chain_id: CHAIN,
        nonce,
        gas_limit: 3_000_000,
        max_fee_per_gas: 10,
        max_priority_fee_per_gas: 1,
        to: to.map_or(TxKind::Create, |a| TxKind::Call(a.0.into())),
        value: U256::from(value),
        access_list: Default::default(),
        input: input.into(),
    };
    let sig = key
        .sign_prehash_recoverable(&tx.signature_hash().0)
        .unwrap();
    let signature = Signature::new(
        U256::from_be_slice(&sig[..32]),
        U256::from_be_slice(&sig[32..64]),
        sig[64] == 1,
    );
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}

#[test]
fn ethereum_transaction_and_evidence_precompile() {
    let k1 = KeyPair::from_seed(Scheme::Secp256k1, &[9; 32]);
    let eth_sender = addr_of(&k1);
    let ed = KeyPair::from_seed(Scheme::Ed25519, &[8; 32]);
    let recorder = addr_of(&ed);
    let mut chain = Chain::new(&[(eth_sender, 10u128.pow(24)), (recorder, 10u128.pow(20))]);

    // A native evidence record.
    let content = Hash(HashAlgorithm::Sha256.digest(b"a contract"));
    let put = native_tx(
        &ed,
        0,
        100_000,
        Payload::EvidencePut(EvidencePut {
            content_hash: content,
            hash_alg: ContentHashAlg::Sha256,
            size: 10,
            media_type: "text/plain".into(),
            metadata: String::new(),
        }),
    );
    let record_id = put.hash(HashAlgorithm::Sha256);
    assert_eq!(chain.block(&[put]).remove(0).status, TxStatus::Success);

    // Deploy EvidenceReader with an Ethereum EIP-1559 transaction.
    let raw = eth_tx(&k1, 0, None, 0, artefact("EvidenceReader"));
    let stx = ethtx::envelope(&raw, CHAIN).unwrap();
    assert!(ethtx::verify_envelope(&stx));
    assert_eq!(stx.sender(Suite::Intl).unwrap(), eth_sender);
    assert_eq!(
        stx.hash(HashAlgorithm::Sha256).0,
        HashAlgorithm::Keccak256.digest(&raw)
    );
    let r = chain.block(&[stx]).remove(0);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    // Everyone pays exactly the consortium gas price (not the fee cap of 10).
    assert_eq!(r.fee, u128::from(r.gas_used) * GAS_PRICE);
    let reader = Address(r.output.clone().try_into().unwrap());

    let lookup = |h: &Hash, alg: u128| {
        [
            selector("lookup(bytes32,uint8)"),
            h.0.to_vec(),
            word(alg).to_vec(),
        ]
        .concat()
    };
    match chain.call(eth_sender, reader, lookup(&content, 2)) {
        CallOutcome::Success { output, .. } => {
            assert_eq!(output[31], 1, "found");
            assert_eq!(&output[44..64], &recorder.0);
            assert_eq!(u64::from_be_bytes(output[88..96].try_into().unwrap()), 1);
            assert_eq!(&output[128..160], &record_id.0);
        }
        other => panic!("{other:?}"),
    }
    match chain.call(eth_sender, reader, lookup(&content, 1)) {
        CallOutcome::Success { output, .. } => assert_eq!(output[31], 0, "SM3 index is separate"),
        other => panic!("{other:?}"),
    }
    let missing = [
        selector("requireRecorded(bytes32,uint8)"),
        [0x11; 32].to_vec(),
        word(2).to_vec(),
    ]
    .concat();
    match chain.call(eth_sender, reader, missing) {
        CallOutcome::Revert { output, .. } => assert_eq!(
            keel_evm::exec::decode_revert_reason(&output).as_deref(),
            Some("evidence not recorded")
        ),
        other => panic!("{other:?}"),
    }

    // A value transfer from the Ethereum account to an Ed25519 account: one native balance.
    let before = chain.native_balance(&recorder);
    let raw = eth_tx(&k1, 1, Some(recorder), 12_345, vec![]);
    let r = chain
        .block(&[ethtx::envelope(&raw, CHAIN).unwrap()])
        .remove(0);
    assert_eq!(r.status, TxStatus::Success);
    assert_eq!(r.gas_used, 21_000);
    assert_eq!(chain.native_balance(&recorder), before + 12_345);
    // The state is still a plain key/value view: the EVM wrote only Keel keys.
    assert!(
        chain
            .state
            .get(&keel_execution::keys::code(HashAlgorithm::Sha256, &reader))
            .unwrap()
            .is_some()
    );
}

/// Counts an estimate's runs and the gas they asked for and used.
#[derive(Default)]
struct Counting {
    runs: u32,
    asked: u64,
    used: u64,
}

impl keel_evm::exec::RunMeter for Counting {
    type Stop = keel_execution::ExecutionError;
    fn before(&mut self, gas_limit: u64) -> Result<(), Self::Stop> {
        self.runs += 1;
        self.asked += gas_limit;
        Ok(())
    }
    fn after(&mut self, gas_used: u64) {
        self.used += gas_used;
    }
}

#[test]
fn estimate_is_bounded_in_runs_and_its_answer_suffices() {
    let alice = Address([0xa1; 20]);
    let chain = Chain::new(&[(alice, 10u128.pow(24))]);
    let req = CallRequest {
        from: alice,
        to: None,
        value: 0,
        data: [artefact("KeelToken"), encode_ctor("Keel", "KEEL", 1_000)].concat(),
        gas: keel_evm::BLOCK_GAS_LIMIT,
    };
    let mut meter = Counting::default();
    let est = keel_evm::exec::estimate_gas_metered(
        &chain.state,
        &params(),
        chain.ctx(),
        &req,
        &mut meter,
    )
    .unwrap()
    .expect("the deployment succeeds");
    // A plain binary search over [used, 30M] takes about 24 runs; the optimistic first probe
    // ends it in a few.
    assert!(meter.runs <= 6, "{} runs", meter.runs);
    assert!(meter.used <= meter.asked);
    let with = |gas| {
        keel_evm::exec::call(
            &chain.state,
            &params(),
            chain.ctx(),
            &CallRequest { gas, ..req.clone() },
        )
        .unwrap()
    };
    assert!(matches!(with(est), CallOutcome::Success { .. }));
    // Within the tolerance of the smallest limit that works.
    let tolerance = est * keel_evm::exec::ESTIMATE_TOLERANCE_PER_MILLE / 1_000 + 1;
    assert!(!matches!(
        with(est - tolerance),
        CallOutcome::Success { .. }
    ));
}
