//! Hostile clients against a live solo node (issue 12): one table of bad requests and
//! transactions, each answered with its documented error code (docs/rpc.md), then floods —
//! slow headers and bodies, connections, WebSockets, subscriptions, filters and EVM work.
//! Afterwards the node still commits blocks, its memory grew by less than [`RSS_GROWTH_MAX_KIB`]
//! and another client's filters are unchanged. The node runs in this test process, so
//! `/proc/self` measures it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "hostile/cases.rs"]
mod cases;
mod common;
#[path = "hostile/floods.rs"]
mod floods;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Signature, TxKind, U256};
use common::client;
use keel_crypto::{KeyPair, Scheme, Suite};
use keel_ledger::gov::{GenesisGovernance, GenesisRoleAccount};
use keel_ledger::{Genesis, GenesisAccount};
use keel_node::{KeyFile, Node, ProducerConfig};
use keel_types::{Address, Payload, SignedTransaction, Signer, Transaction};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const CHAIN_ID: u64 = 4343;
pub const GAS_PRICE: u128 = 2;
/// The memory the node may gain over the whole suite (peak RSS minus RSS before).
pub const RSS_GROWTH_MAX_KIB: u64 = 128 * 1024;
/// Longest any awaited condition may take (CI machines can be 3x slower than a laptop).
pub const WAIT_BOUND: Duration = Duration::from_secs(60);

/// Limits for the suite: the defaults, with smaller connection caps and timeouts so floods and
/// slow clients are quick to exercise, and a smaller gas cap so EVM floods are quick in debug
/// builds (the ratios of cap to budget are the defaults').
pub fn limits() -> keel_node::RpcLimits {
    keel_node::RpcLimits {
        call_gas_cap: 2_000_000,
        request_gas_budget: 10_000_000,
        max_connections: 64,
        max_connections_per_ip: 32,
        header_read_timeout_ms: 5_000,
        body_read_timeout_ms: 2_000,
        max_ws_connections: 8,
        max_ws_connections_per_ip: 4,
        ..keel_node::RpcLimits::default()
    }
}

pub(crate) struct Harness {
    pub url: String,
    pub port: u16,
    pub node: Arc<Node>,
    pub agent: ureq::Agent,
    /// SM2 account with funds.
    pub alice: KeyPair,
    /// SM2 account without funds.
    pub poor: KeyPair,
    /// Funded SM2 account, frozen by governance before the table runs.
    pub ice: KeyPair,
    /// Funded SM2 account never admitted (the chain is permissioned).
    pub stranger: KeyPair,
    /// The validator: the whole governance committee.
    pub validator: KeyPair,
    /// secp256k1 account with funds (Ethereum transactions).
    pub eth: KeyPair,
    _keep: common::Keep,
}

pub fn addr(k: &KeyPair) -> Address {
    Address(keel_crypto::address_of(k.scheme(), &k.public_key(), Suite::Gm.hash()).unwrap())
}

fn start(limits: keel_node::RpcLimits) -> Harness {
    let suite = Suite::Gm;
    let v = KeyPair::from_seed(Scheme::Sm2, &[1; 32]);
    let alice = KeyPair::from_seed(Scheme::Sm2, &[2; 32]);
    let poor = KeyPair::from_seed(Scheme::Sm2, &[9; 32]);
    let eth = KeyPair::from_seed(Scheme::Secp256k1, &[5; 32]);
    let ice = KeyPair::from_seed(Scheme::Sm2, &[11; 32]);
    let stranger = KeyPair::from_seed(Scheme::Sm2, &[12; 32]);
    let client = |k: &KeyPair| GenesisRoleAccount {
        address: addr(k),
        role: "client".into(),
        org: "clients".into(),
    };
    let vkf = KeyFile::from_key(&v, suite);
    let genesis = Genesis {
        chain_id: CHAIN_ID,
        chain_name: "hostile".into(),
        suite: suite.name().into(),
        timestamp_ms: 1,
        gas_price: GAS_PRICE,
        validators: vec![vkf.genesis_validator("v")],
        // The validator pays for its governance proposal.
        alloc: [&v, &alice, &eth, &ice, &stranger]
            .iter()
            .map(|k| GenesisAccount {
                address: addr(k),
                balance: 10u128.pow(24),
            })
            .collect(),
        observers: vec![],
        governance: Some(GenesisGovernance {
            permissioned: true,
            accounts: [&alice, &eth, &poor, &ice].map(client).to_vec(),
            ..GenesisGovernance::default()
        }),
    };
    let served = common::serve_solo(
        genesis,
        v.clone(),
        suite,
        GAS_PRICE,
        ProducerConfig {
            block_interval_ms: 30,
            max_block_txs: 1000,
            empty_blocks: false,
        },
        keel_rpc::RpcConfig {
            limits,
            ..keel_rpc::RpcConfig::default()
        },
    );
    Harness {
        url: served.url,
        port: served.port,
        node: served.node,
        agent: served.agent,
        alice,
        poor,
        eth,
        ice,
        stranger,
        validator: v,
        _keep: served.keep,
    }
}

impl Harness {
    /// POST `body`: (HTTP status, JSON reply or `Null`).
    pub fn post(&self, body: &[u8]) -> (u16, Value) {
        let mut r = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .send(body)
            .unwrap();
        let status = r.status().as_u16();
        let text = r
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub fn call(&self, method: &str, params: Value) -> Value {
        self.post(call(method, params).as_slice()).1
    }

    pub fn ok(&self, method: &str, params: Value) -> Value {
        let v = self.call(method, params);
        assert!(v.get("error").is_none(), "{method}: {v}");
        v["result"].clone()
    }

    /// A native transaction from `key`, valid unless changed by `edit`.
    pub fn native(
        &self,
        key: &KeyPair,
        nonce: u64,
        payload: Payload,
        edit: impl FnOnce(&mut Transaction),
    ) -> SignedTransaction {
        let mut t = Transaction {
            chain_id: CHAIN_ID,
            nonce,
            expires_at_height: self.node.head().height + 100,
            gas_limit: 0,
            signer: Signer {
                scheme: key.scheme(),
                public_key: key.public_key(),
            },
            payload,
        };
        t.gas_limit = t.intrinsic_gas();
        edit(&mut t);
        t.sign(key)
    }

    /// Wait for a committed receipt of `hash` (Keel or Ethereum).
    pub fn wait_receipt(&self, hash: &Value) -> Value {
        let start = Instant::now();
        loop {
            let r = self.ok("keel_getReceipt", json!([hash]));
            if !r.is_null() {
                return r;
            }
            assert!(start.elapsed() < WAIT_BOUND, "no receipt for {hash}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Send a transfer and wait until it is committed: the node still makes blocks.
    pub fn still_commits(&self, nonce: u64) -> u64 {
        let t = self.native(&self.alice, nonce, transfer(), |_| {});
        let sent = self.call("keel_sendTransaction", json!([hex0x(&t.encode())]));
        let r = self.wait_receipt(&sent["result"]["hash"]);
        assert_eq!(r["status"], "success", "{r}");
        r["blockHeight"].as_u64().unwrap()
    }
}

pub fn call(method: &str, params: Value) -> Vec<u8> {
    json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params })
        .to_string()
        .into_bytes()
}

pub fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

pub fn transfer() -> Payload {
    Payload::Transfer {
        to: Address([7; 20]),
        amount: 1,
    }
}

/// What an Ethereum transaction in the table looks like.
pub(crate) struct EthTx {
    pub chain: u64,
    pub nonce: u64,
    pub fee_cap: u128,
    pub gas: u64,
    pub legacy_without_chain_id: bool,
    pub zero_signature: bool,
}

impl Default for EthTx {
    fn default() -> Self {
        EthTx {
            chain: CHAIN_ID,
            nonce: 0,
            fee_cap: GAS_PRICE,
            gas: 21_000,
            legacy_without_chain_id: false,
            zero_signature: false,
        }
    }
}

/// A signed Ethereum value transfer, as `0x` hex.
pub(crate) fn eth_raw(key: &KeyPair, t: EthTx) -> String {
    let to = TxKind::Call(alloy_primitives::Address::repeat_byte(7));
    let sign = |hash: [u8; 32]| {
        let sig = key.sign_prehash_recoverable(&hash).unwrap();
        if t.zero_signature {
            return Signature::new(U256::ZERO, U256::ZERO, false);
        }
        Signature::new(
            U256::from_be_slice(&sig[..32]),
            U256::from_be_slice(&sig[32..64]),
            sig[64] == 1,
        )
    };
    let env: TxEnvelope = if t.legacy_without_chain_id {
        let tx = TxLegacy {
            chain_id: None,
            nonce: t.nonce,
            gas_price: t.fee_cap,
            gas_limit: t.gas,
            to,
            value: U256::from(1),
            input: Default::default(),
        };
        let s = sign(tx.signature_hash().0);
        tx.into_signed(s).into()
    } else {
        let tx = TxEip1559 {
            chain_id: t.chain,
            nonce: t.nonce,
            gas_limit: t.gas,
            max_fee_per_gas: t.fee_cap,
            max_priority_fee_per_gas: 0,
            to,
            value: U256::from(1),
            access_list: Default::default(),
            input: Default::default(),
        };
        let s = sign(tx.signature_hash().0);
        tx.into_signed(s).into()
    };
    hex0x(&env.encoded_2718())
}

/// The (status, code, name) of a reply: of the batch entry `item` for a batch.
fn outcome(status: u16, v: &Value, item: usize) -> (u16, Option<i64>, Option<String>) {
    let one = if v.is_array() { &v[item] } else { v };
    let e = &one["error"];
    (
        status,
        e["code"].as_i64(),
        e["data"]["name"].as_str().map(str::to_string),
    )
}

#[test]
fn hostile_clients_get_documented_codes_and_cannot_stop_the_node() {
    let h = start(limits());
    let (rss_before, _) = client::rss_kib();
    let cpu_before = client::cpu_ticks();
    let started = Instant::now();

    // Another client's filters, checked at the end.
    let bystander = floods::Bystander::install(&h);
    let committed = cases::Committed::make(&h);

    let table = cases::table(&h, &committed);
    assert!(table.len() >= 60, "{} cases", table.len());
    let mut failures = Vec::new();
    for c in &table {
        let (status, v) = h.post(&c.body);
        let got = outcome(status, &v, c.item);
        let want_name = c.name_of_error.map(str::to_string);
        let ok = got.0 == c.status
            && got.1 == Some(c.code)
            && (want_name.is_none() || got.2 == want_name);
        if !ok {
            let reply: String = v.to_string().chars().take(300).collect();
            failures.push(format!(
                "{}: got {got:?}, want {} {} {want_name:?}: {reply}",
                c.name, c.status, c.code
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        table.len(),
        failures.join("\n")
    );
    eprintln!(
        "{} hostile requests answered with their documented codes",
        table.len()
    );

    // The gas budget counts gas used: a batch of 100 cheap calls (each allowed the whole cap)
    // is served in full.
    let views: Vec<Value> = (0..100)
        .map(|i| json!({"jsonrpc":"2.0","id":i,"method":"eth_call","params":[{"to": "0x0707070707070707070707070707070707070707"}]}))
        .collect();
    let (_, v) = h.post(Value::Array(views).to_string().as_bytes());
    assert!(
        v.as_array().unwrap().iter().all(|r| r["result"] == "0x"),
        "{v}"
    );

    bystander.ids_are_random();
    floods::slow_clients(&h);
    floods::connection_flood(&h);
    floods::websockets(&h);
    floods::filter_flood(&h);
    let evm = floods::evm_flood(&h, 8);

    let height = h.still_commits(committed.alice_nonce + 1);
    bystander.unchanged(&h);
    let (rss_after, hwm) = client::rss_kib();
    let cpu_s = (client::cpu_ticks() - cpu_before) as f64 / 100.0;
    eprintln!(
        "suite: {:.1} s wall, {cpu_s:.1} s CPU; RSS {rss_before} KiB before, {rss_after} KiB \
         after, peak {hwm} KiB; EVM flood {evm}; committed at height {height}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        hwm.saturating_sub(rss_before) < RSS_GROWTH_MAX_KIB,
        "peak RSS {hwm} KiB grew over {RSS_GROWTH_MAX_KIB} KiB from {rss_before} KiB"
    );
}

/// A batch that runs past `request_timeout_ms` gets 1104 for the calls it had no time for,
/// and a WebSocket that does not answer pings is closed after `ws_idle_timeout_ms`.
#[test]
fn deadlines_end_long_batches_and_idle_websockets() {
    let lim = keel_node::RpcLimits {
        request_timeout_ms: 300,
        request_gas_budget: u64::MAX,
        ws_idle_timeout_ms: 1_000,
        ..limits()
    };
    let h = start(lim);
    let batch: Vec<Value> = (0..100)
        .map(|i| json!({"jsonrpc":"2.0","id":i,"method":"eth_call","params":[{"input": "0x5b5f56"}]}))
        .collect();
    let started = Instant::now();
    let (status, v) = h.post(Value::Array(batch).to_string().as_bytes());
    let took = started.elapsed();
    // Either the whole request timed out (408) or the calls after the deadline were refused.
    let codes: Vec<Option<i64>> = match v.as_array() {
        Some(replies) => replies
            .iter()
            .map(|r| r["error"]["code"].as_i64())
            .collect(),
        None => vec![v["error"]["code"].as_i64()],
    };
    assert!(codes.contains(&Some(1104)), "{status}: {codes:?}");
    assert!(
        codes.iter().all(|c| matches!(c, Some(-32000 | 1104))),
        "{codes:?}"
    );
    eprintln!(
        "100 calls at the cap answered in {:.2} s (deadline 0.3 s)",
        took.as_secs_f64()
    );
    assert!(took < WAIT_BOUND);

    let mut ws = client::Ws::open(h.port).expect("a WebSocket");
    let bound = Duration::from_millis(lim.ws_idle_timeout_ms) * 3 + WAIT_BOUND;
    let started = Instant::now();
    assert!(
        ws.closed_by_server_within(bound),
        "an idle WebSocket stayed open"
    );
    assert!(started.elapsed() >= Duration::from_millis(lim.ws_idle_timeout_ms / 2));
    h.still_commits(0);
}
