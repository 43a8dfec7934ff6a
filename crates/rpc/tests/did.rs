//! `keel_resolveDid` end to end against an in-process node on 127.0.0.1: a DID with SM2,
//! Ed25519 and secp256k1 keys is created, resolved to a W3C DID Resolution result, proven
//! against a header, rotated and deactivated; bad DIDs get the W3C resolution errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use keel_crypto::{KeyPair, Scheme, Suite};
use keel_ledger::{Genesis, GenesisAccount, GenesisValidator, ProofResponse};
use keel_node::{KeyFile, ProducerConfig};
use keel_types::*;
use serde_json::{Value, json};

const CHAIN_ID: u64 = 31;

struct H {
    served: common::Served,
    alice: KeyPair,
}

fn start() -> H {
    let suite = Suite::Intl;
    let scheme = suite.signature_scheme();
    let v = KeyPair::from_seed(scheme, &[1; 32]);
    let vkf = KeyFile::from_key(&v, suite);
    let alice = KeyPair::from_seed(scheme, &[2; 32]);
    let a = keel_crypto::address_of(scheme, &alice.public_key(), suite.hash()).unwrap();
    let genesis = Genesis {
        governance: None,
        chain_id: CHAIN_ID,
        chain_name: "did-test".into(),
        suite: suite.name().into(),
        timestamp_ms: 1,
        gas_price: 1,
        validators: vec![GenesisValidator {
            name: "v".into(),
            scheme: vkf.scheme.clone(),
            public_key: vkf.public_key.clone(),
            address: vkf.address,
        }],
        alloc: vec![GenesisAccount {
            address: Address(a),
            balance: 100_000_000,
        }],
        observers: vec![],
    };
    let producer = ProducerConfig {
        block_interval_ms: 50,
        max_block_txs: 1000,
        empty_blocks: false,
    };
    let served = common::serve_solo(
        genesis,
        v,
        suite,
        1,
        producer,
        keel_rpc::RpcConfig::default(),
    );
    H { served, alice }
}

impl H {
    fn call(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc":"2.0","id":7,"method":method,"params":params}).to_string();
        let mut r = self
            .served
            .agent
            .post(&self.served.url)
            .header("content-type", "application/json")
            .send(&body)
            .unwrap();
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
    }

    fn ok(&self, method: &str, params: Value) -> Value {
        let v = self.call(method, params);
        assert!(v.get("error").is_none(), "{method} failed: {v}");
        v["result"].clone()
    }

    /// Send `op` as alice's transaction `nonce` and wait for its successful receipt.
    fn did(&self, nonce: u64, op: DidOp) {
        let mut t = Transaction {
            chain_id: CHAIN_ID,
            nonce,
            expires_at_height: self.served.node.head().height + 100,
            gas_limit: 0,
            signer: Signer {
                scheme: self.alice.scheme(),
                public_key: self.alice.public_key(),
            },
            payload: Payload::Did(op),
        };
        t.gas_limit = t.intrinsic_gas();
        let raw = format!("0x{}", hex::encode(t.sign(&self.alice).encode()));
        let hash = self.ok("keel_sendTransaction", json!([raw]))["hash"].clone();
        let r = common::wait_for("the DID receipt", || {
            let r = self.ok("keel_getReceipt", json!([hash]));
            (!r.is_null()).then_some(r)
        });
        assert_eq!(r["status"], "success", "{r}");
    }

    fn resolve(&self, did: &str) -> Value {
        self.ok("keel_resolveDid", json!([did]))
    }
}

fn method(fragment: &str, scheme: Scheme, seed: u8, assertion: bool) -> DidMethod {
    DidMethod {
        fragment: fragment.into(),
        key: Signer {
            scheme,
            public_key: KeyPair::from_seed(scheme, &[seed; 32]).public_key(),
        },
        authentication: true,
        assertion,
    }
}

#[test]
fn a_did_resolves_to_a_w3c_resolution_result_through_its_life() {
    let h = start();
    let id: DidId = [0xab; 16];
    let did = format!("did:keel:{CHAIN_ID}:{}", hex::encode(id));
    h.did(
        0,
        DidOp::Create {
            id: Some(id),
            methods: vec![
                method("key-1", Scheme::Sm2, 5, true),
                method("key-2", Scheme::Ed25519, 6, false),
                method("key-3", Scheme::Secp256k1, 7, true),
            ],
            controllers: vec![],
            services: vec![DidService {
                fragment: "hub".into(),
                kind: "LinkedDomains".into(),
                endpoint: "https://example.org".into(),
            }],
        },
    );
    let r = h.resolve(&did);
    assert_eq!(
        r["didResolutionMetadata"],
        json!({"contentType": "application/did+ld+json"})
    );
    let d = &r["didDocument"];
    assert_eq!(d["@context"], json!(["https://www.w3.org/ns/did/v1"]));
    assert_eq!(d["id"], did);
    let alice = keel_crypto::address_of(Scheme::Ed25519, &h.alice.public_key(), Suite::Intl.hash());
    assert_eq!(d["controller"], did.as_str());
    assert_eq!(
        r["didDocumentMetadata"]["keelControllers"],
        json!([Address(alice.unwrap()).to_string()])
    );
    let vm = d["verificationMethod"].as_array().unwrap();
    let types: Vec<_> = vm.iter().map(|m| m["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "SM2VerificationKey2024",
            "Ed25519VerificationKey2020",
            "EcdsaSecp256k1VerificationKey2019"
        ]
    );
    assert_eq!(vm[0]["id"], format!("{did}#key-1"));
    assert_eq!(vm[0]["controller"], did);
    // Multicodec prefixes: ed25519-pub gives z6Mk…, secp256k1-pub zQ3s… (as did:key has them);
    // sm2-pub (0x1206) is checked byte for byte in the unit tests of `src/did.rs`.
    let mb = |i: usize| vm[i]["publicKeyMultibase"].as_str().unwrap().to_string();
    assert!(mb(0).starts_with('z'), "{}", mb(0));
    assert!(mb(1).starts_with("z6Mk"), "{}", mb(1));
    assert!(mb(2).starts_with("zQ3s"), "{}", mb(2));
    let all = json!([
        format!("{did}#key-1"),
        format!("{did}#key-2"),
        format!("{did}#key-3")
    ]);
    assert_eq!(d["authentication"], all);
    assert_eq!(
        d["assertionMethod"],
        json!([format!("{did}#key-1"), format!("{did}#key-3")])
    );
    assert_eq!(d["service"][0]["id"], format!("{did}#hub"));
    assert_eq!(d["service"][0]["serviceEndpoint"], "https://example.org");
    let meta = &r["didDocumentMetadata"];
    assert_eq!(
        (meta["deactivated"].clone(), meta["versionId"].clone()),
        (json!(false), json!("0"))
    );
    let created = meta["createdHeight"].as_u64().unwrap();
    assert!(meta["created"].as_str().unwrap().ends_with('Z'));

    // The document is provable against the header: the proven value is the stored record.
    let pr: ProofResponse =
        serde_json::from_value(h.ok("keel_getProof", json!([{ "did": did }]))).unwrap();
    let (_, value) = pr.verify().unwrap();
    let doc: keel_execution::did::DidDocument =
        codec::decode("did document", &value.unwrap(), 1 << 20).unwrap();
    assert_eq!((doc.id, doc.methods.len()), (id, 3));

    // Key rotation: key-4 replaces key-1.
    h.did(
        1,
        DidOp::Update {
            id,
            version: 0,
            changes: vec![
                DidChange::AddMethod(method("key-4", Scheme::Sm2, 8, true)),
                DidChange::RemoveMethod("key-1".into()),
            ],
        },
    );
    let r = h.resolve(&did);
    let ids: Vec<_> = r["didDocument"]["verificationMethod"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["id"]
                .as_str()
                .unwrap()
                .rsplit('#')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["key-2", "key-3", "key-4"]);
    let meta = &r["didDocumentMetadata"];
    assert_eq!(meta["versionId"], "1");
    assert!(meta["updatedHeight"].as_u64().unwrap() > created);

    h.did(2, DidOp::Deactivate { id });
    let r = h.resolve(&did);
    assert_eq!(r["didDocumentMetadata"]["deactivated"], true);
    assert_eq!(r["didDocumentMetadata"]["versionId"], "2");
}

#[test]
fn bad_dids_get_w3c_resolution_errors() {
    let h = start();
    let err = |did: &str| h.resolve(did)["didResolutionMetadata"]["error"].clone();
    let hexid = "00112233445566778899aabbccddeeff";
    assert_eq!(err(&format!("did:keel:{CHAIN_ID}:{hexid}")), "notFound");
    assert_eq!(
        err(&format!("did:keel:{}:{hexid}", CHAIN_ID + 1)),
        "notFound"
    );
    for bad in ["did:keel:31", "did:web:example.org", "did:keel:31:XYZ", ""] {
        assert_eq!(err(bad), "invalidDid", "{bad}");
        assert!(h.resolve(bad)["didDocument"].is_null());
    }
    let long = format!("did:keel:31:{}", "a".repeat(10_000));
    assert_eq!(err(&long), "invalidDid");
    // Not a string, or too many params: a JSON-RPC invalid-params error.
    for params in [json!([1]), json!([]), json!(["a", "b"])] {
        let v = h.call("keel_resolveDid", params);
        assert_eq!(v["error"]["code"], -32602, "{v}");
    }
}
