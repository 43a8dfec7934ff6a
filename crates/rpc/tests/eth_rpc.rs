//! The Ethereum JSON-RPC over HTTP against an in-process solo node: raw EIP-1559 transactions
//! (deploy and call the ERC-20 artefact), receipts and logs, `eth_call`/`eth_estimateGas`
//! reverts as error 3 with revert data, block tags, filters, and every admission refusal as a
//! -32000 error with Keel's name.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Signature, TxKind, U256};
use keel_crypto::{HashAlgorithm, KeyPair, Scheme, Suite};
use keel_ledger::{Genesis, GenesisAccount};
use keel_node::{KeyFile, Node, ProducerConfig};
use keel_types::Address;
use serde_json::{Value, json};
use std::sync::Arc;

const CHAIN_ID: u64 = 4242;
const GAS_PRICE: u128 = 2;

struct Harness {
    url: String,
    _node: Arc<Node>,
    _keep: common::Keep,
    agent: ureq::Agent,
}

fn addr(k: &KeyPair) -> Address {
    Address(keel_crypto::address_of(k.scheme(), &k.public_key(), HashAlgorithm::Sm3).unwrap())
}

fn start(funded: &[Address]) -> Harness {
    let suite = Suite::Gm;
    let v = KeyPair::from_seed(Scheme::Sm2, &[1; 32]);
    let vkf = KeyFile::from_key(&v, suite);
    let genesis = Genesis {
        chain_id: CHAIN_ID,
        chain_name: "eth-rpc-test".into(),
        suite: suite.name().into(),
        timestamp_ms: 1,
        gas_price: GAS_PRICE,
        validators: vec![vkf.genesis_validator("v")],
        alloc: funded
            .iter()
            .map(|a| GenesisAccount {
                address: *a,
                balance: 10u128.pow(24),
            })
            .collect(),
        observers: vec![],
        governance: None,
    };
    let common::Served {
        url,
        node,
        agent,
        keep,
        ..
    } = common::serve_solo(
        genesis,
        v,
        suite,
        GAS_PRICE,
        ProducerConfig {
            block_interval_ms: 30,
            max_block_txs: 1000,
            empty_blocks: false,
        },
        keel_rpc::RpcConfig::default(),
    );
    Harness {
        url,
        _node: node,
        _keep: keep,
        agent,
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
    fn err(&self, method: &str, params: Value) -> (i64, Value) {
        let v = self.call(method, params);
        assert!(v["error"].is_object(), "{method} should fail: {v}");
        (v["error"]["code"].as_i64().unwrap(), v["error"].clone())
    }
    fn receipt(&self, hash: &str) -> Value {
        common::wait_for(&format!("the receipt of {hash}"), || {
            let r = self.ok("eth_getTransactionReceipt", json!([hash]));
            (!r.is_null()).then_some(r)
        })
    }
}

fn raw_tx(
    key: &KeyPair,
    chain: u64,
    nonce: u64,
    fee_cap: u128,
    to: Option<&str>,
    input: Vec<u8>,
) -> String {
    let to = to.map_or(TxKind::Create, |a| {
        TxKind::Call(a.parse::<alloy_primitives::Address>().unwrap())
    });
    let tx = TxEip1559 {
        chain_id: chain,
        nonce,
        gas_limit: 2_000_000,
        max_fee_per_gas: fee_cap,
        max_priority_fee_per_gas: 0,
        to,
        value: U256::ZERO,
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
    format!(
        "0x{}",
        hex::encode(TxEnvelope::from(tx.into_signed(signature)).encoded_2718())
    )
}

fn token_init() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/clients/contracts/build/Contracts.json"
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let code = hex::decode(
        v["contracts"]["KeelToken"]["bytecode"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
    )
    .unwrap();
    // constructor("T", "T", 1000)
    let mut args = vec![0u8; 32 * 7];
    args[31] = 96;
    args[63] = 160;
    args[94..96].copy_from_slice(&1000u16.to_be_bytes());
    args[127] = 1;
    args[128] = b'T';
    args[191] = 1;
    args[192] = b'T';
    [code, args].concat()
}

fn selector(sig: &str) -> Vec<u8> {
    HashAlgorithm::Keccak256.digest(sig.as_bytes())[..4].to_vec()
}

#[test]
fn eth_methods_over_http() {
    let k = KeyPair::from_seed(Scheme::Secp256k1, &[5; 32]);
    let me = addr(&k);
    let h = start(&[me]);
    let me_hex = me.to_string().to_lowercase();

    assert_eq!(
        h.ok("eth_chainId", json!([])),
        json!(format!("0x{CHAIN_ID:x}"))
    );
    assert_eq!(h.ok("net_version", json!([])), json!(CHAIN_ID.to_string()));
    assert_eq!(h.ok("eth_gasPrice", json!([])), json!("0x2"));
    assert_eq!(
        h.ok("eth_getBalance", json!([me_hex, "latest"])),
        json!(format!("0x{:x}", 10u128.pow(24)))
    );

    // Admission refusals: -32000 with Keel's name.
    let (c, e) = h.err("eth_sendRawTransaction", json!(["0xdeadbeef"]));
    assert_eq!(
        (c, e["data"]["name"].as_str()),
        (-32000, Some("TX_MALFORMED"))
    );
    let (c, e) = h.err(
        "eth_sendRawTransaction",
        json!([raw_tx(&k, 1, 0, 10, None, vec![])]),
    );
    assert_eq!(
        (c, e["data"]["name"].as_str()),
        (-32000, Some("WRONG_CHAIN_ID"))
    );
    let (c, e) = h.err(
        "eth_sendRawTransaction",
        json!([raw_tx(&k, CHAIN_ID, 0, 1, None, token_init())]),
    );
    assert_eq!(
        (c, e["data"]["name"].as_str()),
        (-32000, Some("FEE_TOO_LOW")),
        "fee cap below the gas price"
    );
    let (c, _) = h.err("eth_subscribe", json!(["newHeads"]));
    assert_eq!(c, -32601, "subscriptions are WebSocket only");

    // Deploy.
    let raw = raw_tx(&k, CHAIN_ID, 0, 5, None, token_init());
    let hash = h.ok("eth_sendRawTransaction", json!([raw]));
    let keccak = format!(
        "0x{}",
        hex::encode(HashAlgorithm::Keccak256.digest(&hex::decode(&raw[2..]).unwrap()))
    );
    assert_eq!(hash, json!(keccak));
    let seen = h.ok("eth_getTransactionByHash", json!([hash]));
    assert_eq!(
        seen["hash"], hash,
        "pending or committed, the transaction is visible"
    );
    // A resend is refused: still pending ("already known") or already committed (nonce used).
    let (c, e) = h.err("eth_sendRawTransaction", json!([raw]));
    let msg = e["message"].as_str().unwrap();
    assert!(
        c == -32000 && (msg.starts_with("already known") || msg.starts_with("nonce too low")),
        "{e}"
    );
    let r = h.receipt(hash.as_str().unwrap());
    assert_eq!(r["status"], "0x1", "{r}");
    assert_eq!(r["from"], json!(me_hex));
    assert_eq!(r["effectiveGasPrice"], "0x2");
    let token = r["contractAddress"].as_str().unwrap().to_string();
    assert!(
        h.ok("eth_getCode", json!([token, "latest"]))
            .as_str()
            .unwrap()
            .len()
            > 100
    );
    assert_eq!(
        r["logs"].as_array().unwrap().len(),
        1,
        "constructor Transfer"
    );
    let tx = h.ok("eth_getTransactionByHash", json!([hash]));
    assert_eq!(tx["hash"], hash);
    assert_eq!(tx["type"], "0x2");
    assert_eq!(tx["nonce"], "0x0");
    // The same transaction through Keel's own API.
    let keel_tx = h.ok("keel_getTransaction", json!([hash]));
    assert_eq!(keel_tx["payload"]["type"], "ethereum");

    // eth_call / eth_estimateGas: success, and revert as error 3 with data.
    let bal = [
        selector("balanceOf(address)"),
        [0u8; 12].to_vec(),
        me.0.to_vec(),
    ]
    .concat();
    let out = h.ok(
        "eth_call",
        json!([{ "to": token, "data": format!("0x{}", hex::encode(&bal)) }, "latest"]),
    );
    assert_eq!(
        u128::from_str_radix(&out.as_str().unwrap()[2..], 16).unwrap(),
        1000
    );
    let too_much = [
        selector("transfer(address,uint256)"),
        [0u8; 12].to_vec(),
        [7u8; 20].to_vec(),
        [0xff; 32].to_vec(),
    ]
    .concat();
    let call =
        json!({ "from": me_hex, "to": token, "input": format!("0x{}", hex::encode(&too_much)) });
    for m in ["eth_call", "eth_estimateGas"] {
        let (c, e) = h.err(m, json!([call, "latest"]));
        assert_eq!(c, 3, "{m}: {e}");
        assert_eq!(
            e["message"],
            "execution reverted: ERC20: transfer amount exceeds balance"
        );
        assert!(e["data"].as_str().unwrap().starts_with("0x08c379a0"));
    }

    // A transfer, found by a log filter; filters and block filters see it.
    let log_filter = h.ok("eth_newFilter", json!([{ "address": token }]));
    let block_filter = h.ok("eth_newBlockFilter", json!([]));
    let ok_transfer = [
        selector("transfer(address,uint256)"),
        [0u8; 12].to_vec(),
        [7u8; 20].to_vec(),
        {
            let mut w = vec![0u8; 32];
            w[31] = 5;
            w
        },
    ]
    .concat();
    let hash2 = h.ok(
        "eth_sendRawTransaction",
        json!([raw_tx(&k, CHAIN_ID, 1, 5, Some(&token), ok_transfer)]),
    );
    let r2 = h.receipt(hash2.as_str().unwrap());
    assert_eq!(r2["status"], "0x1");
    let topic0 = format!(
        "0x{}",
        hex::encode(HashAlgorithm::Keccak256.digest(b"Transfer(address,address,uint256)"))
    );
    let to_topic = format!("0x{}{}", "00".repeat(12), "07".repeat(20));
    let logs = h.ok("eth_getLogs", json!([{ "fromBlock": "earliest", "toBlock": "latest", "topics": [topic0, null, to_topic] }]));
    assert_eq!(logs.as_array().unwrap().len(), 1, "{logs}");
    assert_eq!(logs[0]["transactionHash"], hash2);
    let changes = h.ok("eth_getFilterChanges", json!([log_filter]));
    assert_eq!(changes.as_array().unwrap().len(), 1, "{changes}");
    assert_eq!(
        h.ok("eth_getFilterChanges", json!([log_filter])),
        json!([]),
        "reported once"
    );
    assert_eq!(
        h.ok("eth_getFilterLogs", json!([log_filter]))
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let blocks = h.ok("eth_getFilterChanges", json!([block_filter]));
    assert!(
        blocks
            .as_array()
            .unwrap()
            .iter()
            .any(|b| *b == r2["blockHash"]),
        "{blocks}"
    );
    assert_eq!(
        h.ok("eth_uninstallFilter", json!([log_filter])),
        json!(true)
    );
    assert_eq!(
        h.ok("eth_uninstallFilter", json!([log_filter])),
        json!(false)
    );
    assert_eq!(h.err("eth_getFilterChanges", json!([log_filter])).0, -32000);

    // Blocks: tags and hashes agree; bloom contains the log.
    let latest = h.ok("eth_getBlockByNumber", json!(["latest", false]));
    assert_eq!(
        h.ok("eth_getBlockByNumber", json!(["finalized", false])),
        latest
    );
    assert_eq!(
        h.ok("eth_getBlockByHash", json!([latest["hash"], false])),
        latest
    );
    let b = h.ok("eth_getBlockByNumber", json!([r2["blockNumber"], true]));
    assert_eq!(b["transactions"][0]["hash"], hash2);
    assert_ne!(b["logsBloom"], json!(format!("0x{}", "00".repeat(256))));
    assert_eq!(
        h.ok("eth_getBlockByNumber", json!(["0xffffff", false])),
        Value::Null
    );
    assert_eq!(
        h.ok("eth_getTransactionCount", json!([me_hex, "latest"])),
        json!("0x2")
    );
    let fh = h.ok("eth_feeHistory", json!(["0x4", "latest", [50]]));
    assert_eq!(
        fh["baseFeePerGas"].as_array().unwrap().len(),
        fh["gasUsedRatio"].as_array().unwrap().len() + 1
    );
    // Limits.
    let (c, _) = h.err(
        "eth_getLogs",
        json!([{ "fromBlock": "0x0", "toBlock": "0x0", "topics": [[], [], [], [], []] }]),
    );
    assert_eq!(c, -32602);
}
