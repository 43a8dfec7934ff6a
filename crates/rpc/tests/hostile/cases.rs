//! The table: (name, request, expected HTTP status, error code and name).

use super::{EthTx, Harness, call, eth_raw, hex0x, transfer};
use keel_crypto::{KeyPair, Scheme};
use keel_types::{ContentHashAlg, EvidencePut, GovAction, GovPayload, Hash, Payload};
use serde_json::{Value, json};

pub struct Case {
    pub name: &'static str,
    pub body: Vec<u8>,
    pub status: u16,
    /// Entry of a batch reply to check.
    pub item: usize,
    pub code: i64,
    pub name_of_error: Option<&'static str>,
}

/// Alice's next nonce once the table ran (no case is admitted).
pub const ALICE_NONCE_AFTER_TABLE: u64 = 1;

/// Transactions committed before the table runs, to replay.
pub struct Committed {
    pub native: String,
    pub eth: String,
    /// Alice's next nonce.
    pub alice_nonce: u64,
}

impl Committed {
    pub fn make(h: &Harness) -> Committed {
        let t = h.native(&h.alice, 0, transfer(), |_| {});
        let native = hex0x(&t.encode());
        let sent = h.call("keel_sendTransaction", json!([native]));
        h.wait_receipt(&sent["result"]["hash"]);
        let eth = eth_raw(&h.eth, EthTx::default());
        let hash = h.ok("eth_sendRawTransaction", json!([eth]));
        h.wait_receipt(&hash);
        // Freeze `ice` (the validator is the whole committee: its proposal passes at once).
        let ice = super::addr(&h.ice);
        let freeze = h.native(
            &h.validator,
            0,
            Payload::Gov(GovPayload::Propose {
                action: GovAction::Freeze { address: ice },
                ttl_blocks: 0,
            }),
            |_| {},
        );
        let sent = h.call("keel_sendTransaction", json!([hex0x(&freeze.encode())]));
        let r = h.wait_receipt(&sent["result"]["hash"]);
        assert_eq!(r["status"], "success", "{r}");
        Committed {
            native,
            eth,
            alice_nonce: ALICE_NONCE_AFTER_TABLE,
        }
    }
}

fn case(name: &'static str, body: Vec<u8>, code: i64) -> Case {
    Case {
        name,
        body,
        status: 200,
        item: 0,
        code,
        name_of_error: None,
    }
}

fn named(name: &'static str, body: Vec<u8>, code: i64, error: &'static str) -> Case {
    Case {
        name_of_error: Some(error),
        ..case(name, body, code)
    }
}

/// Init code that loops forever: `JUMPDEST PUSH0 JUMP` — a creation that burns all its gas.
const LOOP: &str = "0x5b5f56";
/// Init code that reverts at once: `PUSH0 PUSH0 REVERT`.
const REVERT: &str = "0x5f5ffd";
const ADDR: &str = "0x0707070707070707070707070707070707070707";
const ZERO_HASH: &str = "0x0000000000000000000000000000000000000000000000000000000000000000";

fn protocol() -> Vec<Case> {
    let batch = |n: usize| {
        let calls: Vec<Value> = (0..n)
            .map(|i| json!({"jsonrpc":"2.0","id":i,"method":"eth_chainId"}))
            .collect();
        Value::Array(calls).to_string().into_bytes()
    };
    let mut over = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":[\"".to_vec();
    over.resize(2 * 1024 * 1024 + 10, b'a');
    vec![
        case("not JSON", b"{".to_vec(), -32700),
        case("binary garbage", vec![0xff, 0xfe, 0, 1, 2], -32700),
        case("empty body", vec![], -32700),
        case(
            "arrays nested 100k deep",
            "[".repeat(100_000).into_bytes(),
            -32700,
        ),
        case(
            "objects nested 10k deep",
            "{\"a\":".repeat(10_000).into_bytes(),
            -32700,
        ),
        case(
            "jsonrpc 1.0",
            br#"{"jsonrpc":"1.0","id":1,"method":"eth_chainId"}"#.to_vec(),
            -32600,
        ),
        case(
            "no jsonrpc member",
            br#"{"id":1,"method":"eth_chainId"}"#.to_vec(),
            -32600,
        ),
        case(
            "method is a number",
            br#"{"jsonrpc":"2.0","id":1,"method":5}"#.to_vec(),
            -32600,
        ),
        case("call is a string", br#""eth_chainId""#.to_vec(), -32600),
        case("empty batch", b"[]".to_vec(), -32600),
        named("batch of 101 calls", batch(101), 1101, "BATCH_TOO_LARGE"),
        Case {
            status: 413,
            ..named("body over 2 MiB", over, 1100, "REQUEST_TOO_LARGE")
        },
        case("unknown method", call("eth_mine", json!([])), -32601),
        case("empty method name", call("", json!([])), -32601),
        case(
            "eth_subscribe over HTTP",
            call("eth_subscribe", json!(["newHeads"])),
            -32601,
        ),
        case(
            "params an object",
            call("eth_getBalance", json!({"a": 1})),
            -32602,
        ),
        case(
            "params a string",
            call("keel_getAccount", json!("x")),
            -32602,
        ),
    ]
}

fn keel_methods() -> Vec<Case> {
    let many: Vec<String> = (0..5_001).map(|_| "0x00".to_string()).collect();
    vec![
        case(
            "account not a string",
            call("keel_getAccount", json!([123])),
            -32602,
        ),
        case(
            "account too short",
            call("keel_getAccount", json!(["0x12"])),
            -32602,
        ),
        case(
            "block an object",
            call("keel_getBlock", json!([{}])),
            -32602,
        ),
        case(
            "tx hash bad hex",
            call("keel_getTransaction", json!(["0xzz"])),
            -32602,
        ),
        case(
            "raw tx bad hex",
            call("keel_sendTransaction", json!(["0xzz"])),
            -32602,
        ),
        named(
            "raw tx garbage",
            call("keel_sendTransaction", json!(["0xdeadbeef"])),
            1001,
            "TX_MALFORMED",
        ),
        named(
            "raw tx over 32 KiB",
            call(
                "keel_sendTransaction",
                json!([format!("0x{}", "00".repeat(40_000))]),
            ),
            1002,
            "TX_TOO_LARGE",
        ),
        named(
            "5,001 transactions",
            call("keel_sendTransactions", json!([many])),
            1101,
            "BATCH_TOO_LARGE",
        ),
        case(
            "too many params",
            call("keel_sendTransaction", json!(["0x00", "0x00"])),
            -32602,
        ),
        case(
            "keel_validators with params",
            call("keel_validators", json!([1])),
            -32602,
        ),
        case(
            "tx proof without hash",
            call("keel_getTxProof", json!([])),
            -32602,
        ),
        case(
            "proof of nothing",
            call("keel_getProof", json!([{"bogus": 1}])),
            -32602,
        ),
    ]
}

fn eth_params() -> Vec<Case> {
    let fee = |p: Value| call("eth_feeHistory", json!(["0x4", "latest", p]));
    let zeros: Vec<u8> = vec![0; 100_000];
    vec![
        case(
            "balance without address",
            call("eth_getBalance", json!([])),
            -32602,
        ),
        case(
            "address 2 bytes",
            call("eth_getBalance", json!(["0x1234"])),
            -32602,
        ),
        case(
            "address bad hex",
            call("eth_getBalance", json!([format!("0x{}", "zz".repeat(20))])),
            -32602,
        ),
        case(
            "block over u64",
            call(
                "eth_getBalance",
                json!([ADDR, format!("0x1{}", "0".repeat(40))]),
            ),
            -32602,
        ),
        case(
            "block beyond head",
            call("eth_getBalance", json!([ADDR, "0xffffff"])),
            -32001,
        ),
        case(
            "unknown block tag",
            call("eth_getBalance", json!([ADDR, "newest"])),
            -32602,
        ),
        case(
            "unknown block hash",
            call("eth_getBalance", json!([ADDR, {"blockHash": ZERO_HASH}])),
            -32001,
        ),
        case(
            "slot over 32 bytes",
            call(
                "eth_getStorageAt",
                json!([ADDR, format!("0x{}", "1".repeat(66))]),
            ),
            -32602,
        ),
        case(
            "block hash 1 byte",
            call("eth_getBlockByHash", json!(["0x00", false])),
            -32602,
        ),
        case(
            "tx hash a number",
            call("eth_getTransactionByHash", json!([123])),
            -32602,
        ),
        case(
            "receipt hash a bool",
            call("eth_getTransactionReceipt", json!([true])),
            -32602,
        ),
        case("101 reward percentiles", fee(json!(vec![50; 101])), -32602),
        case("100,000 reward percentiles", fee(json!(zeros)), -32602),
        case("decreasing percentiles", fee(json!([50, 10])), -32602),
        case("percentile over 100", fee(json!([101])), -32602),
        case("negative percentile", fee(json!([-1])), -32602),
        case("percentile a string", fee(json!(["50"])), -32602),
        case("percentiles not an array", fee(json!("oops")), -32602),
        case(
            "block count bad hex",
            call("eth_feeHistory", json!(["0xzz", "latest"])),
            -32602,
        ),
    ]
}

fn filters() -> Vec<Case> {
    let addrs: Vec<String> = (0..1_001).map(|i| format!("0x{i:040x}")).collect();
    let topics: Vec<String> = (0..1_001).map(|i| format!("0x{i:064x}")).collect();
    vec![
        named(
            "1,001 addresses",
            call("eth_getLogs", json!([{"address": addrs}])),
            -32005,
            "LIMIT_EXCEEDED",
        ),
        case(
            "5 topic positions",
            call(
                "eth_getLogs",
                json!([{"topics": [null, null, null, null, null]}]),
            ),
            -32602,
        ),
        named(
            "1,001 topic alternatives",
            call("eth_getLogs", json!([{"topics": [topics]}])),
            -32005,
            "LIMIT_EXCEEDED",
        ),
        case(
            "address a number",
            call("eth_getLogs", json!([{"address": 42}])),
            -32602,
        ),
        case("filter a string", call("eth_getLogs", json!(["x"])), -32602),
        case(
            "logs of an unknown block",
            call("eth_getLogs", json!([{"blockHash": ZERO_HASH}])),
            -32001,
        ),
        named(
            "filter of 1,001 addresses",
            call("eth_newFilter", json!([{"address": addrs}])),
            -32005,
            "LIMIT_EXCEEDED",
        ),
        // Before random ids, 0x1 was the first filter installed: the bystander's.
        named(
            "guessed filter id",
            call("eth_getFilterChanges", json!(["0x1"])),
            -32000,
            "FILTER_NOT_FOUND",
        ),
        case(
            "filter id bad hex",
            call("eth_getFilterLogs", json!(["zz"])),
            -32602,
        ),
    ]
}

fn evm() -> Vec<Case> {
    let create = |gas: Option<&str>| {
        let mut c = json!({ "input": LOOP });
        if let Some(g) = gas {
            c["gas"] = json!(g);
        }
        c
    };
    let heavy: Vec<Value> = (0..6)
        .map(|i| json!({"jsonrpc":"2.0","id":i,"method":"eth_call","params":[create(None)]}))
        .collect();
    vec![
        case("call not an object", call("eth_call", json!(["x"])), -32602),
        case(
            "input odd hex",
            call("eth_call", json!([{"to": ADDR, "input": "0x123"}])),
            -32602,
        ),
        named(
            "creation at the gas cap",
            call("eth_call", json!([create(None)])),
            -32000,
            "EXECUTION_HALTED",
        ),
        named(
            "creation asking 2^80 gas",
            call("eth_call", json!([create(Some("0x100000000000000000000"))])),
            -32000,
            "EXECUTION_HALTED",
        ),
        named(
            "estimate of an endless creation",
            call("eth_estimateGas", json!([create(None)])),
            -32000,
            "EXECUTION_HALTED",
        ),
        case(
            "reverting creation",
            call("eth_call", json!([{"input": REVERT}])),
            3,
        ),
        Case {
            item: 5,
            ..named(
                "6 calls at the cap in one batch",
                Value::Array(heavy).to_string().into_bytes(),
                1103,
                "GAS_BUDGET_EXCEEDED",
            )
        },
    ]
}

fn eth_txs(h: &Harness, c: &Committed) -> Vec<Case> {
    let send = |raw: String| call("eth_sendRawTransaction", json!([raw]));
    let tx = |t: EthTx| send(eth_raw(&h.eth, t));
    vec![
        named(
            "raw eth garbage",
            send("0xdeadbeef".into()),
            -32000,
            "TX_MALFORMED",
        ),
        named(
            "eth wrong chain id",
            tx(EthTx {
                chain: 1,
                nonce: 1,
                ..EthTx::default()
            }),
            -32000,
            "WRONG_CHAIN_ID",
        ),
        case(
            "eth fee cap below gas price",
            tx(EthTx {
                nonce: 1,
                fee_cap: 1,
                ..EthTx::default()
            }),
            -32000,
        ),
        case(
            "eth zero signature",
            tx(EthTx {
                nonce: 1,
                zero_signature: true,
                ..EthTx::default()
            }),
            -32000,
        ),
        case(
            "eth legacy without chain id",
            tx(EthTx {
                nonce: 1,
                legacy_without_chain_id: true,
                ..EthTx::default()
            }),
            -32000,
        ),
        named(
            "eth nonce gap",
            tx(EthTx {
                nonce: 10_000,
                ..EthTx::default()
            }),
            -32000,
            "NONCE_TOO_HIGH",
        ),
        case(
            "eth gas over the block limit",
            tx(EthTx {
                nonce: 1,
                gas: 40_000_000,
                ..EthTx::default()
            }),
            -32000,
        ),
        named("eth replay", send(c.eth.clone()), -32000, "NONCE_TOO_LOW"),
    ]
}

fn native_txs(h: &Harness, c: &Committed) -> Vec<Case> {
    let send = |t: keel_types::SignedTransaction| {
        call("keel_sendTransaction", json!([hex0x(&t.encode())]))
    };
    let n = c.alice_nonce;
    let evidence = |metadata: String| {
        Payload::EvidencePut(EvidencePut {
            content_hash: Hash([3; 32]),
            hash_alg: ContentHashAlg::Sm3,
            size: 1,
            media_type: "text/plain".into(),
            metadata,
        })
    };
    let mut bad_sig = h.native(&h.alice, n, transfer(), |_| {});
    bad_sig.signature[10] ^= 0xff;
    let ed = KeyPair::from_seed(Scheme::Ed25519, &[4; 32]);
    let head = h.node.head().height;
    vec![
        named(
            "wrong chain id",
            send(h.native(&h.alice, n, transfer(), |t| t.chain_id = 1)),
            1003,
            "WRONG_CHAIN_ID",
        ),
        named("bad signature", send(bad_sig), 1005, "BAD_SIGNATURE"),
        named(
            "expired",
            send(h.native(&h.alice, n, transfer(), |t| t.expires_at_height = 0)),
            1008,
            "TX_EXPIRED",
        ),
        named(
            "nonce gap",
            send(h.native(&h.alice, n + 5_000, transfer(), |_| {})),
            1007,
            "NONCE_TOO_HIGH",
        ),
        named(
            "replay",
            call("keel_sendTransaction", json!([c.native])),
            1006,
            "NONCE_TOO_LOW",
        ),
        named(
            "unfunded sender",
            send(h.native(&h.poor, 0, transfer(), |_| {})),
            1009,
            "INSUFFICIENT_BALANCE",
        ),
        named(
            "evidence over 32 KiB",
            send(h.native(&h.alice, n, evidence("m".repeat(40_000)), |_| {})),
            1002,
            "TX_TOO_LARGE",
        ),
        named(
            "evidence metadata over 4 KiB",
            send(h.native(&h.alice, n, evidence("m".repeat(5_000)), |_| {})),
            1012,
            "INVALID_FIELD",
        ),
        named(
            "gas below intrinsic",
            send(h.native(&h.alice, n, transfer(), |t| t.gas_limit = 1)),
            1012,
            "INVALID_FIELD",
        ),
        named(
            "expiry too far",
            send(h.native(&h.alice, n, transfer(), |t| {
                t.expires_at_height = head + 1_000_000
            })),
            1013,
            "EXPIRY_TOO_FAR",
        ),
        named(
            "Ed25519 on the gm suite",
            send(h.native(&ed, 0, transfer(), |_| {})),
            1004,
            "SCHEME_NOT_ALLOWED",
        ),
        named(
            "sender not admitted (permissioned chain)",
            send(h.native(&h.stranger, 0, transfer(), |_| {})),
            1030,
            "NOT_ADMITTED",
        ),
        named(
            "sender frozen by governance",
            send(h.native(&h.ice, 0, transfer(), |_| {})),
            1031,
            "ACCOUNT_FROZEN",
        ),
    ]
}

/// Every case, in order.
pub fn table(h: &Harness, c: &Committed) -> Vec<Case> {
    let mut all = protocol();
    all.extend(keel_methods());
    all.extend(eth_params());
    all.extend(filters());
    all.extend(evm());
    all.extend(eth_txs(h, c));
    all.extend(native_txs(h, c));
    all
}
