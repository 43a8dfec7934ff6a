//! Honest wallets (issue 12) against an in-process solo node over JSON-RPC:
//! * the gas price governance sets is what `eth_gasPrice`, `keel_chainInfo`, block base fees and
//!   receipts report and what admission checks (fee cap and balance), so a transaction priced
//!   from `eth_gasPrice` executes and an under-priced one is refused at admission;
//! * with a genesis price of 0 and a governance price above 0, a zero-balance account is refused;
//! * an account denied `transfer` cannot send value through the EVM (refused at admission);
//! * once a receipt in block N is visible, the head is at N or above and the sender's `latest`
//!   and `pending` nonces count the transaction, with blocks committing every millisecond.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Signature, TxKind, U256};
use keel_crypto::{HashAlgorithm, KeyPair, Scheme, Suite};
use keel_ledger::{Genesis, GenesisAccount};
use keel_node::{KeyFile, Node, ProducerConfig};
use keel_types::{
    Address, ChainParam, GovAction, GovPayload, OpPolicy, Operation, Payload, Signer, Transaction,
};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHAIN_ID: u64 = 4343;
/// Bound for any wait on the chain (CI machines may be several times slower than ours).
const WAIT: Duration = Duration::from_secs(60);

struct Harness {
    url: String,
    node: Arc<Node>,
    validator: KeyPair,
    gov_nonce: std::cell::Cell<u64>,
    agent: ureq::Agent,
    _keep: common::Keep,
}

fn addr(k: &KeyPair) -> Address {
    Address(keel_crypto::address_of(k.scheme(), &k.public_key(), HashAlgorithm::Sm3).unwrap())
}

fn hex_addr(a: &Address) -> String {
    a.to_string().to_lowercase()
}

fn qty(v: &Value) -> u128 {
    u128::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// A solo node whose genesis gas price is `genesis_price`, `funded` accounts, and the validator
/// as the only committee member (its proposals pass at once). `producer` sets the block pace.
fn start(genesis_price: u128, funded: &[Address], producer: ProducerConfig) -> Harness {
    let suite = Suite::Gm;
    let v = KeyPair::from_seed(Scheme::Sm2, &[1; 32]);
    let vkf = KeyFile::from_key(&v, suite);
    let mut alloc: Vec<GenesisAccount> = funded
        .iter()
        .map(|a| GenesisAccount {
            address: *a,
            balance: 10u128.pow(24),
        })
        .collect();
    alloc.push(GenesisAccount {
        address: vkf.address,
        balance: 10u128.pow(24),
    });
    let genesis = Genesis {
        chain_id: CHAIN_ID,
        chain_name: "wallet-test".into(),
        suite: suite.name().into(),
        timestamp_ms: 1,
        gas_price: genesis_price,
        validators: vec![vkf.genesis_validator("v")],
        alloc,
        observers: vec![],
        governance: None,
    };
    let served = common::serve_solo(
        genesis,
        v.clone(),
        suite,
        genesis_price,
        producer,
        keel_rpc::RpcConfig::default(),
    );
    Harness {
        url: served.url,
        node: served.node,
        validator: v,
        gov_nonce: std::cell::Cell::new(0),
        agent: served.agent,
        _keep: served.keep,
    }
}

fn paced() -> ProducerConfig {
    ProducerConfig {
        block_interval_ms: 20,
        max_block_txs: 1000,
        empty_blocks: false,
    }
}

impl Harness {
    fn call(&self, method: &str, params: Value) -> Value {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let mut r = self.agent.post(&self.url).send_json(&body).unwrap();
        r.body_mut().read_json().unwrap()
    }

    fn ok(&self, method: &str, params: Value) -> Value {
        let v = self.call(method, params);
        assert!(v.get("error").is_none(), "{method}: {v}");
        v["result"].clone()
    }

    /// Keel's error name of a refused call.
    fn refused(&self, method: &str, params: Value) -> String {
        let v = self.call(method, params);
        assert!(v["error"].is_object(), "{method} should fail: {v}");
        v["error"]["data"]["name"].as_str().unwrap().to_string()
    }

    fn gas_price(&self) -> u128 {
        qty(&self.ok("eth_gasPrice", json!([])))
    }

    fn receipt(&self, hash: &Value) -> Value {
        let start = Instant::now();
        loop {
            let r = self.ok("eth_getTransactionReceipt", json!([hash]));
            if !r.is_null() {
                return r;
            }
            assert!(start.elapsed() < WAIT, "no receipt for {hash}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Pass a governance proposal (the validator is the whole committee) and wait until the
    /// head state has applied it.
    fn govern(&self, action: GovAction, applied: impl Fn(&Harness) -> bool) {
        let nonce = self.gov_nonce.get();
        self.gov_nonce.set(nonce + 1);
        let tx = Transaction {
            chain_id: CHAIN_ID,
            nonce,
            expires_at_height: 50_000,
            gas_limit: 100_000,
            signer: Signer {
                scheme: self.validator.scheme(),
                public_key: self.validator.public_key(),
            },
            payload: Payload::Gov(GovPayload::Propose {
                action,
                ttl_blocks: 0,
            }),
        }
        .sign(&self.validator);
        let res = self.node.submit(&[tx.encode()]);
        assert!(res[0].is_ok(), "governance proposal refused: {res:?}");
        let start = Instant::now();
        while !applied(self) {
            assert!(start.elapsed() < WAIT, "governance change never applied");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn set_gas_price(&self, price: u128) {
        self.govern(GovAction::SetParam(ChainParam::GasPrice(price)), |h| {
            h.gas_price() == price
        });
    }
}

/// A signed EIP-1559 transaction (hex) with fee cap `fee_cap` and no tip.
fn raw_tx(key: &KeyPair, nonce: u64, fee_cap: u128, to: Address, value: u128) -> String {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: fee_cap,
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
    format!(
        "0x{}",
        hex::encode(TxEnvelope::from(tx.into_signed(signature)).encoded_2718())
    )
}

#[test]
fn governance_gas_price_is_quoted_admitted_and_charged() {
    let k = KeyPair::from_seed(Scheme::Secp256k1, &[7; 32]);
    let me = addr(&k);
    let payee = Address([0x42; 20]);
    let h = start(2, &[me], paced());
    assert_eq!(h.gas_price(), 2);

    h.set_gas_price(9);
    let info = h.ok("keel_chainInfo", json!([]));
    assert_eq!(info["gasPrice"], json!("9"), "{info}");

    // Under-priced for the new price (enough for the genesis one): refused at admission.
    let cheap = raw_tx(&k, 0, 8, payee, 1);
    assert_eq!(
        h.refused("eth_sendRawTransaction", json!([cheap])),
        "FEE_TOO_LOW"
    );

    // Priced from eth_gasPrice: admitted and executed at that price.
    let price = h.gas_price();
    let hash = h.ok(
        "eth_sendRawTransaction",
        json!([raw_tx(&k, 0, price, payee, 1)]),
    );
    let r = h.receipt(&hash);
    assert_eq!(r["status"], json!("0x1"), "{r}");
    assert_eq!(qty(&r["effectiveGasPrice"]), 9, "{r}");
    let block = h.ok("eth_getBlockByNumber", json!([r["blockNumber"], false]));
    assert_eq!(qty(&block["baseFeePerGas"]), 9, "{block}");
    let spent = 10u128.pow(24) - qty(&h.ok("eth_getBalance", json!([hex_addr(&me), "latest"])));
    assert_eq!(
        spent,
        21_000 * 9 + 1,
        "fee at the governance price plus the value"
    );
    let tx = h.ok("eth_getTransactionByHash", json!([hash]));
    assert_eq!(qty(&tx["gasPrice"]), 9, "{tx}");

    // A price decrease: a cap at the new price is enough.
    h.set_gas_price(4);
    let hash = h.ok(
        "eth_sendRawTransaction",
        json!([raw_tx(&k, 1, 4, payee, 1)]),
    );
    let r = h.receipt(&hash);
    assert_eq!(r["status"], json!("0x1"), "{r}");
    assert_eq!(qty(&r["effectiveGasPrice"]), 4, "{r}");
}

#[test]
fn zero_balance_account_is_refused_once_governance_prices_gas() {
    let empty = KeyPair::from_seed(Scheme::Secp256k1, &[8; 32]);
    let h = start(0, &[], paced());
    assert_eq!(h.gas_price(), 0);
    // Wait on the governance state itself, so that only admission is under test here.
    h.govern(GovAction::SetParam(ChainParam::GasPrice(5)), |h| {
        h.ok("keel_getMembers", json!([]))["params"]["gasPrice"] == json!("5")
    });
    let raw = raw_tx(&empty, 0, 5, Address([0x43; 20]), 0);
    assert_eq!(
        h.refused("eth_sendRawTransaction", json!([raw])),
        "INSUFFICIENT_BALANCE"
    );
    assert_eq!(h.node.mempool().len(), 0, "nothing reached the pool");
}

#[test]
fn an_account_denied_transfer_cannot_send_value_through_the_evm() {
    let k = KeyPair::from_seed(Scheme::Secp256k1, &[9; 32]);
    let me = addr(&k);
    let payee = Address([0x44; 20]);
    let h = start(1, &[me], paced());
    h.govern(
        GovAction::SetOperationPolicy {
            op: Operation::Transfer,
            policy: OpPolicy::DenyList(vec![me]),
        },
        |h| {
            let m = h.ok("keel_getMembers", json!([]));
            m["operationPolicies"].get("transfer").is_some()
        },
    );
    // A plain Ethereum value transfer to an account without code.
    let raw = raw_tx(&k, 0, 1, payee, 1_000);
    assert_eq!(
        h.refused("eth_sendRawTransaction", json!([raw])),
        "NOT_PERMITTED"
    );
    // Without value it is a call (`call_contract` is open): admitted and executed.
    let hash = h.ok(
        "eth_sendRawTransaction",
        json!([raw_tx(&k, 0, 1, payee, 0)]),
    );
    assert_eq!(h.receipt(&hash)["status"], json!("0x1"));
    assert_eq!(
        h.ok("eth_getBalance", json!([hex_addr(&payee), "latest"])),
        json!("0x0")
    );
}

/// Blocks every millisecond (empty ones too): right after a receipt is visible, in process
/// (no RPC latency to hide a lagging head) and over JSON-RPC.
#[test]
fn a_visible_receipt_implies_the_head_and_the_nonces() {
    const TXS: u64 = 300;
    let k = KeyPair::from_seed(Scheme::Secp256k1, &[10; 32]);
    let me = addr(&k);
    let h = start(
        1,
        &[me],
        ProducerConfig {
            block_interval_ms: 1,
            max_block_txs: 1000,
            empty_blocks: true,
        },
    );
    let me_hex = hex_addr(&me);
    let suite_hash = h.node.suite().hash();
    for nonce in 0..TXS {
        let raw = raw_tx(&k, nonce, h.gas_price(), Address([0x45; 20]), 1);
        let hash_v = h.ok("eth_sendRawTransaction", json!([raw]));
        assert_eq!(
            qty(&h.ok("eth_getTransactionCount", json!([me_hex, "pending"]))),
            u128::from(nonce + 1),
            "pending nonce counts the pooled transaction"
        );
        let hash: keel_types::Hash = hash_v.as_str().unwrap().parse().unwrap();
        // In process: spin on the receipt, then read the head and the nonces at once.
        let start = Instant::now();
        let loc = loop {
            if let Some((_, loc)) = h.node.receipt(&hash).unwrap() {
                break loc;
            }
            assert!(start.elapsed() < WAIT, "no receipt for tx {nonce}");
            std::hint::spin_loop();
        };
        let head = h.node.head().height;
        let pending = h.node.pending_nonce(&me).unwrap();
        let latest = keel_evm::db::read_account(&h.node.state_at(head), suite_hash, &me)
            .unwrap()
            .unwrap_or_default()
            .nonce;
        assert!(
            head >= loc.height,
            "tx {nonce}: receipt in block {} visible while the head is {head}",
            loc.height
        );
        assert_eq!((latest, pending), (nonce + 1, nonce + 1), "tx {nonce}");
        // Over JSON-RPC, as a wallet sees it.
        let r = h.receipt(&hash_v);
        let n = qty(&r["blockNumber"]);
        assert!(qty(&h.ok("eth_blockNumber", json!([]))) >= n);
        for tag in ["latest", "pending"] {
            let count = h.ok("eth_getTransactionCount", json!([me_hex, tag]));
            assert_eq!(qty(&count), u128::from(nonce + 1), "tx {nonce}, {tag}");
        }
    }
}
