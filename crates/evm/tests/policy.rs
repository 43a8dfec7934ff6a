//! Governance operation policies through the EVM (issue 12, security review 12), in execution:
//! an account denied `transfer` cannot move value with an `EvmCall` or an Ethereum transaction
//! to an account without code (nor to a contract); an origin denied `deploy_contract` cannot
//! create contracts through a factory (CREATE from inside a call), while others still can.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Signature, TxKind, U256};
use keel_crypto::{HashAlgorithm, KeyPair, Scheme, Suite};
use keel_evm::KEEL_EVM;
use keel_execution::governance::{self, GovGenesis};
use keel_execution::{BlockContext, ChainParams, Executor, MemoryState, TxInput, genesis_changes};
use keel_types::{
    Address, ExecErrorCode, OpPolicy, Operation, Payload, Receipt, SignedTransaction, Signer,
    Transaction, TxStatus, codec,
};

const CHAIN: u64 = 31337;
const GAS_PRICE: u128 = 3;
const ALG: HashAlgorithm = HashAlgorithm::Sha256;
const FUNDS: u128 = 10u128.pow(20);

/// Runtime of a factory: `CREATE`s a contract with empty code, returns its address, or reverts
/// with the creation's revert data (what Solidity's `new` does).
const FACTORY_RUNTIME: &str = concat!(
    "6460006000f3",   // PUSH5 <init code of the child: PUSH1 0 PUSH1 0 RETURN>
    "600052",         // MSTORE at 0 (the 5 bytes land at 27..32)
    "6005601b6000f0", // CREATE(value 0, offset 27, size 5)
    "80601e57",       // DUP1, JUMPI to `ok` if the address is not zero
    "3d600060003e",   // RETURNDATACOPY(0, 0, RETURNDATASIZE)
    "3d6000fd",       // REVERT(0, RETURNDATASIZE)
    "5b600052",       // ok: JUMPDEST, MSTORE the address at 0
    "60206000f3",     // RETURN(0, 32)
);

/// Init code deploying [`FACTORY_RUNTIME`] (39 bytes, copied from offset 12).
fn factory_init() -> Vec<u8> {
    let runtime = hex::decode(FACTORY_RUNTIME).unwrap();
    assert_eq!(runtime.len(), 0x27);
    [hex::decode("6027600c60003960276000f3").unwrap(), runtime].concat()
}

fn addr_of(key: &KeyPair) -> Address {
    Address(keel_crypto::address_of(key.scheme(), &key.public_key(), ALG).unwrap())
}

struct Chain {
    state: MemoryState,
    exec: Executor,
    height: u64,
}

impl Chain {
    /// A chain with governance (committee: `member`) where `policies` are set.
    fn new(alloc: &[Address], member: Address, policies: &[(Operation, OpPolicy)]) -> Chain {
        let mut state = MemoryState::default();
        let funded: Vec<(Address, u128)> = alloc.iter().map(|a| (*a, FUNDS)).collect();
        state.apply(&genesis_changes(ALG, &funded));
        let g = GovGenesis {
            permissioned: false,
            members: vec![(member, 1, "org".into())],
            validators: vec![],
            accounts: vec![],
            proposal_ttl_blocks: 0,
        };
        state.apply(&governance::genesis_changes(ALG, &g));
        let writes: Vec<_> = policies
            .iter()
            .map(|(op, p)| (governance::policy_key(ALG, *op), Some(codec::encode(p))))
            .collect();
        state.apply(&writes);
        Chain {
            state,
            exec: Executor::new(ChainParams {
                chain_id: CHAIN,
                suite: Suite::Intl,
                gas_price: GAS_PRICE,
            })
            .with_evm(&KEEL_EVM),
            height: 0,
        }
    }

    fn run(&mut self, tx: SignedTransaction) -> Receipt {
        let input = TxInput {
            tx: &tx,
            hash: tx.hash(ALG),
            sender: tx.sender(Suite::Intl).unwrap(),
        };
        let ctx = BlockContext {
            height: self.height + 1,
            timestamp_ms: 1_700_000_000_000,
        };
        let out = self.exec.execute_block(&self.state, ctx, &[input]).unwrap();
        self.state.apply(&out.changes);
        self.height += 1;
        out.receipts.into_iter().next().unwrap()
    }

    fn account(&self, a: &Address) -> keel_execution::Account {
        keel_evm::db::read_account(&self.state, ALG, a)
            .unwrap()
            .unwrap_or_default()
    }

    fn code(&self, a: &Address) -> Vec<u8> {
        keel_evm::db::read_code(&self.state, ALG, a).unwrap()
    }
}

fn native(key: &KeyPair, nonce: u64, payload: Payload) -> SignedTransaction {
    Transaction {
        chain_id: CHAIN,
        nonce,
        expires_at_height: 1_000,
        gas_limit: 1_000_000,
        signer: Signer {
            scheme: key.scheme(),
            public_key: key.public_key(),
        },
        payload,
    }
    .sign(key)
}

fn ethereum(key: &KeyPair, nonce: u64, to: Address, value: u128) -> SignedTransaction {
    let tx = TxEip1559 {
        chain_id: CHAIN,
        nonce,
        gas_limit: 100_000,
        max_fee_per_gas: 10,
        max_priority_fee_per_gas: 0,
        to: TxKind::Call(to.0.into()),
        value: U256::from(value),
        access_list: Default::default(),
        input: Default::default(),
    };
    let sig = key
        .sign_prehash_recoverable(&tx.signature_hash().0)
        .unwrap();
    let signature = Signature::new(
        U256::from_be_slice(&sig[..32]),
        U256::from_be_slice(&sig[32..64]),
        sig[64] == 1,
    );
    let raw = TxEnvelope::from(tx.into_signed(signature)).encoded_2718();
    keel_evm::ethtx::envelope(&raw, CHAIN).unwrap()
}

fn assert_not_permitted(r: &Receipt, what: &str) {
    assert_eq!(r.status, TxStatus::Failed, "{what}: {r:?}");
    let (code, msg) = r.error.clone().unwrap();
    assert_eq!(code, ExecErrorCode::NotPermitted, "{what}: {msg}");
    assert!(msg.contains("transfer"), "{what}: {msg}");
    assert_eq!(r.fee, 0, "{what}: a governance refusal charges nothing");
}

#[test]
fn value_through_the_evm_needs_the_transfer_policy() {
    let denied = KeyPair::from_seed(Scheme::Ed25519, &[1; 32]);
    let eth_denied = KeyPair::from_seed(Scheme::Secp256k1, &[2; 32]);
    let allowed = KeyPair::from_seed(Scheme::Ed25519, &[3; 32]);
    let (d, e, a) = (addr_of(&denied), addr_of(&eth_denied), addr_of(&allowed));
    let payee = Address([0x77; 20]);
    let deny = OpPolicy::DenyList(vec![d, e]);
    let mut chain = Chain::new(&[d, e, a], a, &[(Operation::Transfer, deny)]);

    // An `EvmCall` carrying value to an account without code.
    let call = Payload::EvmCall {
        to: Some(payee),
        value: 5,
        data: vec![],
    };
    let r = chain.run(native(&denied, 0, call.clone()));
    assert_not_permitted(&r, "EvmCall value transfer");
    // A plain Ethereum value transfer.
    let r = chain.run(ethereum(&eth_denied, 0, payee, 7));
    assert_not_permitted(&r, "Ethereum value transfer");
    assert_eq!(chain.account(&payee).balance, 0, "no value moved");
    // Both consumed their nonce and paid nothing.
    assert_eq!(chain.account(&d).nonce, 1);
    assert_eq!(chain.account(&d).balance, FUNDS);
    assert_eq!(chain.account(&e).balance, FUNDS);

    // Value to a contract is a transfer too.
    let r = chain.run(native(
        &allowed,
        0,
        Payload::EvmCall {
            to: None,
            value: 0,
            data: factory_init(),
        },
    ));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let factory = Address(r.output.clone().try_into().unwrap());
    let pay_contract = Payload::EvmCall {
        to: Some(factory),
        value: 1,
        data: vec![],
    };
    let r = chain.run(native(&denied, 1, pay_contract));
    assert_not_permitted(&r, "value to a contract");
    // A call without value stays a contract call (`call_contract` is open).
    let r = chain.run(native(
        &denied,
        2,
        Payload::EvmCall {
            to: Some(factory),
            value: 0,
            data: vec![],
        },
    ));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");

    // An account the policy admits moves value as before.
    let r = chain.run(native(&allowed, 1, call));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(chain.account(&payee).balance, 5);
}

#[test]
fn a_factory_cannot_deploy_for_an_origin_denied_deploy_contract() {
    let denied = KeyPair::from_seed(Scheme::Ed25519, &[4; 32]);
    let allowed = KeyPair::from_seed(Scheme::Ed25519, &[5; 32]);
    let (d, a) = (addr_of(&denied), addr_of(&allowed));
    let deny = OpPolicy::DenyList(vec![d]);
    let mut chain = Chain::new(&[d, a], a, &[(Operation::DeployContract, deny)]);
    let r = chain.run(native(
        &allowed,
        0,
        Payload::EvmCall {
            to: None,
            value: 0,
            data: factory_init(),
        },
    ));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let factory = Address(r.output.clone().try_into().unwrap());
    let use_factory = Payload::EvmCall {
        to: Some(factory),
        value: 0,
        data: vec![],
    };

    // The denied origin calls the factory: its CREATE reverts, so does the call.
    let r = chain.run(native(&denied, 0, use_factory.clone()));
    assert_eq!(r.status, TxStatus::Failed, "{r:?}");
    let (code, msg) = r.error.clone().unwrap();
    assert_eq!(code, ExecErrorCode::Reverted, "{msg}");
    assert!(msg.contains("deploy_contract not permitted"), "{msg}");
    // Factory nonce unchanged: nothing was created.
    assert_eq!(chain.account(&factory).nonce, 1);

    // Anyone else still deploys through the factory.
    let r = chain.run(native(&allowed, 1, use_factory));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(chain.account(&factory).nonce, 2, "one contract created");
}

#[test]
fn no_policy_leaves_the_evm_open() {
    let k = KeyPair::from_seed(Scheme::Ed25519, &[6; 32]);
    let a = addr_of(&k);
    let mut chain = Chain::new(&[a], Address([1; 20]), &[]);
    let r = chain.run(native(
        &k,
        0,
        Payload::EvmCall {
            to: None,
            value: 0,
            data: factory_init(),
        },
    ));
    let factory = Address(r.output.clone().try_into().unwrap());
    assert!(!chain.code(&factory).is_empty());
    let r = chain.run(native(
        &k,
        1,
        Payload::EvmCall {
            to: Some(factory),
            value: 3,
            data: vec![],
        },
    ));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(chain.account(&factory).balance, 3);
}
