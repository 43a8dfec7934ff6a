//! Stateless transaction rules, signing and the RFC 6962 Merkle root against reference vectors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::KeyPair;
use keel_types::*;

fn transfer(scheme: Scheme, key: &KeyPair, chain_id: u64) -> SignedTransaction {
    Transaction {
        chain_id,
        nonce: 0,
        expires_at_height: 100,
        gas_limit: 21_000,
        signer: Signer {
            scheme,
            public_key: key.public_key(),
        },
        payload: Payload::Transfer {
            to: Address([7; 20]),
            amount: 5,
        },
    }
    .sign(key)
}

#[test]
fn signed_transfer_verifies_and_passes_stateless_checks() {
    for (suite, scheme) in [
        (Suite::Gm, Scheme::Sm2),
        (Suite::Intl, Scheme::Ed25519),
        (Suite::Gm, Scheme::Secp256k1),
        (Suite::Intl, Scheme::Secp256k1),
    ] {
        let key = KeyPair::from_seed(scheme, &[3; 32]);
        let tx = transfer(scheme, &key, 7);
        tx.check_stateless(7, suite).unwrap();
        keel_crypto::verify(
            scheme,
            &tx.tx.signer.public_key,
            &tx.signing_message(),
            &tx.signature,
        )
        .unwrap();
        let sender = tx.sender(suite).unwrap();
        assert_ne!(sender, Address::ZERO);
        // The hash commits to the signature too.
        let mut other = tx.clone();
        other.tx.nonce = 1;
        assert_ne!(other.hash(suite.hash()), tx.hash(suite.hash()));
    }
}

#[test]
fn stateless_rejections_are_specific() {
    let key = KeyPair::from_seed(Scheme::Ed25519, &[1; 32]);
    let tx = transfer(Scheme::Ed25519, &key, 7);
    assert_eq!(
        tx.check_stateless(8, Suite::Intl),
        Err(TxCheckError::WrongChainId {
            expected: 8,
            got: 7
        })
    );
    assert_eq!(
        tx.check_stateless(7, Suite::Gm),
        Err(TxCheckError::SchemeNotAllowed {
            scheme: Scheme::Ed25519,
            suite: Suite::Gm
        })
    );
    let mut short_sig = tx.clone();
    short_sig.signature.pop();
    assert!(matches!(
        short_sig.check_stateless(7, Suite::Intl),
        Err(TxCheckError::InvalidField {
            field: "signature",
            ..
        })
    ));
    let mut low_gas = tx.clone();
    low_gas.tx.gas_limit = 10;
    assert!(matches!(
        low_gas.check_stateless(7, Suite::Intl),
        Err(TxCheckError::InvalidField {
            field: "gas_limit",
            ..
        })
    ));
    let mut big_meta = tx;
    big_meta.tx.gas_limit = u64::MAX;
    big_meta.tx.payload = Payload::EvidencePut(EvidencePut {
        content_hash: Hash::ZERO,
        hash_alg: ContentHashAlg::Sm3,
        size: 1,
        media_type: "text/plain".into(),
        metadata: "x".repeat(limits::MAX_EVIDENCE_METADATA_BYTES + 1),
    });
    assert!(matches!(
        big_meta.check_stateless(7, Suite::Intl),
        Err(TxCheckError::InvalidField {
            field: "metadata",
            ..
        })
    ));
}

fn issue() -> AssetIssue {
    AssetIssue {
        name: "Keel Dollar".into(),
        symbol: "KUSD".into(),
        decimals: 6,
        max_supply: 1_000_000,
        initial_supply: 1_000,
        issuer: Address([9; 20]),
        mintable: true,
        burnable: true,
        freezable: true,
        holder_list: None,
    }
}

#[test]
fn asset_field_limits_are_specific_and_gas_counts_stored_bytes() {
    let key = KeyPair::from_seed(Scheme::Ed25519, &[1; 32]);
    let with = |i: AssetIssue| {
        let mut tx = transfer(Scheme::Ed25519, &key, 7);
        tx.tx.gas_limit = u64::MAX;
        tx.tx.payload = Payload::Asset(AssetOp::Issue(i));
        tx.check_stateless(7, Suite::Intl)
    };
    with(issue()).unwrap();
    let field_of = |r: Result<(), TxCheckError>| match r {
        Err(TxCheckError::InvalidField { field, .. }) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    };
    let cases: Vec<(&str, AssetIssue)> = vec![
        (
            "name",
            AssetIssue {
                name: String::new(),
                ..issue()
            },
        ),
        (
            "name",
            AssetIssue {
                name: "n".repeat(MAX_ASSET_NAME_BYTES + 1),
                ..issue()
            },
        ),
        (
            "name",
            AssetIssue {
                name: "a\nb".into(),
                ..issue()
            },
        ),
        (
            "symbol",
            AssetIssue {
                symbol: String::new(),
                ..issue()
            },
        ),
        (
            "symbol",
            AssetIssue {
                symbol: "K-USD".into(),
                ..issue()
            },
        ),
        (
            "symbol",
            AssetIssue {
                symbol: "S".repeat(MAX_ASSET_SYMBOL_BYTES + 1),
                ..issue()
            },
        ),
        (
            "decimals",
            AssetIssue {
                decimals: MAX_ASSET_DECIMALS + 1,
                ..issue()
            },
        ),
        (
            "max_supply",
            AssetIssue {
                max_supply: 0,
                initial_supply: 0,
                ..issue()
            },
        ),
        (
            "initial_supply",
            AssetIssue {
                initial_supply: 1_000_001,
                ..issue()
            },
        ),
        (
            "holder_list",
            AssetIssue {
                holder_list: Some(vec![Address::ZERO; MAX_ASSET_HOLDER_LIST + 1]),
                ..issue()
            },
        ),
    ];
    for (field, bad) in cases {
        assert_eq!(field_of(with(bad.clone())), field, "{bad:?}");
    }
    // Boundaries are accepted.
    with(AssetIssue {
        decimals: MAX_ASSET_DECIMALS,
        name: "n".repeat(MAX_ASSET_NAME_BYTES),
        ..issue()
    })
    .unwrap();
    // Gas: base + 16 per stored name, symbol and white-list byte; other operations are flat.
    let op = AssetOp::Issue(AssetIssue {
        holder_list: Some(vec![Address::ZERO; 2]),
        ..issue()
    });
    assert_eq!(op.gas(), GAS_ASSET_ISSUE + 16 * (11 + 4 + 40));
    let burn = AssetOp::Burn {
        asset: Hash::ZERO,
        amount: 1,
    };
    assert_eq!(burn.gas(), GAS_ASSET_OP);
    assert_eq!(
        operation_of(&Payload::Asset(op)),
        Some(Operation::AssetIssue)
    );
    assert_eq!(
        operation_of(&Payload::Asset(burn)),
        Some(Operation::AssetTransfer)
    );
    assert_eq!(
        Operation::from_name("asset_admin"),
        Some(Operation::AssetAdmin)
    );
}

#[test]
fn nft_field_limits_are_specific_and_gas_counts_stored_bytes() {
    let key = KeyPair::from_seed(Scheme::Ed25519, &[1; 32]);
    let with = |op: NftOp| {
        let mut tx = transfer(Scheme::Ed25519, &key, 7);
        tx.tx.gas_limit = u64::MAX;
        tx.tx.payload = Payload::Nft(op);
        tx.check_stateless(7, Suite::Intl)
    };
    let coll = NftCollectionCreate {
        name: "Deeds".into(),
        symbol: "DEED".into(),
        issuer: Address([9; 20]),
        max_supply: None,
    };
    let mint = |uri: String| NftOp::Mint {
        collection: Hash::ZERO,
        token: 1,
        to: Address::ZERO,
        metadata: NftMetadata {
            uri,
            content_hash: Hash::ZERO,
            hash_alg: ContentHashAlg::Sm3,
            evidence: None,
        },
    };
    with(NftOp::CreateCollection(coll.clone())).unwrap();
    with(mint("u".repeat(MAX_NFT_URI_BYTES))).unwrap();
    let field_of = |r: Result<(), TxCheckError>| match r {
        Err(TxCheckError::InvalidField { field, .. }) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    };
    let bad = |f: fn(&mut NftCollectionCreate)| {
        let mut c = coll.clone();
        f(&mut c);
        NftOp::CreateCollection(c)
    };
    assert_eq!(field_of(with(bad(|c| c.name.clear()))), "name");
    assert_eq!(field_of(with(bad(|c| c.name = "a\u{7}".into()))), "name");
    assert_eq!(field_of(with(bad(|c| c.symbol = "A B".into()))), "symbol");
    assert_eq!(
        field_of(with(bad(|c| c.max_supply = Some(0)))),
        "max_supply"
    );
    assert_eq!(
        field_of(with(mint("u".repeat(MAX_NFT_URI_BYTES + 1)))),
        "uri"
    );
    assert_eq!(field_of(with(mint("a\nb".into()))), "uri");
    // Gas: base + 16 per stored byte; transfers, approvals and burns are flat.
    assert_eq!(
        NftOp::CreateCollection(coll).gas(),
        GAS_NFT_COLLECTION + 16 * (5 + 4)
    );
    assert_eq!(mint("abc".into()).gas(), GAS_NFT_MINT + 16 * 3);
    let burn = NftOp::Burn {
        collection: Hash::ZERO,
        token: 1,
    };
    assert_eq!(burn.gas(), GAS_NFT_OP);
    assert_eq!(
        operation_of(&Payload::Nft(burn.clone())),
        Some(Operation::NftTransfer)
    );
    assert_eq!(
        operation_of(&Payload::Nft(mint(String::new()))),
        Some(Operation::NftMint)
    );
    assert_eq!(Operation::from_name("nft_issue"), Some(Operation::NftIssue));
    // Encoding: Payload tag 6, NftOp tag 4 (Burn), collection, token little-endian.
    let enc = codec::encode(&Payload::Nft(burn));
    let mut want = vec![6, 4];
    want.extend([0; 32]);
    want.extend(1u64.to_le_bytes());
    assert_eq!(enc, want);
}

#[test]
fn merkle_root_matches_rfc6962_reference_tree() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/transparency-dev-merkle/reference_tree.json"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("vector file")).unwrap();
    let leaves: Vec<Vec<u8>> = v["leaf_inputs_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| hex::decode(x.as_str().unwrap()).unwrap())
        .collect();
    for (i, lh) in v["leaf_hashes_hex"].as_array().unwrap().iter().enumerate() {
        let got = merkle::leaf_hash(HashAlgorithm::Sha256, &leaves[i]);
        assert_eq!(hex::encode(got.0), lh.as_str().unwrap(), "leaf {i}");
    }
    let roots = v["roots_by_size_hex"].as_object().unwrap();
    assert!(roots.len() >= 9);
    for (size, root) in roots {
        let n: usize = size.parse().unwrap();
        let got = merkle::root(HashAlgorithm::Sha256, &leaves[..n]);
        assert_eq!(hex::encode(got.0), root.as_str().unwrap(), "size {n}");
    }
    // The SM3 instantiation differs and is deterministic.
    assert_ne!(
        merkle::root(HashAlgorithm::Sm3, &leaves),
        merkle::root(HashAlgorithm::Sha256, &leaves)
    );
}

#[test]
fn header_hash_depends_on_every_field_and_suite() {
    let h = Header {
        chain_id: 1,
        height: 2,
        parent_hash: Hash([1; 32]),
        timestamp_ms: 3,
        tx_root: Hash([2; 32]),
        receipts_root: Hash([3; 32]),
        state_root: Hash([4; 32]),
        proposer: Address([5; 20]),
        tx_count: 0,
        gas_used: 0,
    };
    let base = h.hash(HashAlgorithm::Sm3);
    assert_ne!(base, h.hash(HashAlgorithm::Sha256));
    let mut m = h.clone();
    m.state_root = Hash([9; 32]);
    assert_ne!(m.hash(HashAlgorithm::Sm3), base);
    let mut m = h;
    m.timestamp_ms += 1;
    assert_ne!(m.hash(HashAlgorithm::Sm3), base);
}

#[test]
fn did_field_limits_are_specific_and_gas_counts_encoded_bytes() {
    let key = KeyPair::from_seed(Scheme::Ed25519, &[1; 32]);
    let with = |op: DidOp| {
        let mut tx = transfer(Scheme::Ed25519, &key, 7);
        tx.tx.gas_limit = u64::MAX;
        tx.tx.payload = Payload::Did(op);
        tx.check_stateless(7, Suite::Intl)
    };
    let field_of = |r: Result<(), TxCheckError>| match r {
        Err(TxCheckError::InvalidField { field, .. }) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    };
    let method = |fragment: &str, scheme: Scheme| DidMethod {
        fragment: fragment.into(),
        key: Signer {
            scheme,
            public_key: KeyPair::from_seed(scheme, &[3; 32]).public_key(),
        },
        authentication: true,
        assertion: false,
    };
    let create = |methods: Vec<DidMethod>, services: Vec<DidService>| DidOp::Create {
        id: None,
        methods,
        controllers: vec![],
        services,
    };
    let svc = |endpoint: &str| DidService {
        fragment: "hub".into(),
        kind: "LinkedDomains".into(),
        endpoint: endpoint.into(),
    };
    let all = Scheme::ALL.iter().map(|s| method(s.name(), *s)).collect();
    with(create(all, vec![svc("https://example.org")])).unwrap();
    let many = (0..=MAX_DID_METHODS)
        .map(|i| method(&format!("k{i}"), Scheme::Ed25519))
        .collect();
    assert_eq!(field_of(with(create(many, vec![]))), "methods");
    assert_eq!(
        field_of(with(create(vec![method("a b", Scheme::Sm2)], vec![]))),
        "fragment"
    );
    let mut short = method("k", Scheme::Sm2);
    short.key.public_key.pop();
    assert_eq!(field_of(with(create(vec![short], vec![]))), "public_key");
    let mut off_curve = method("k", Scheme::Secp256k1);
    off_curve.key.public_key = vec![2; 33];
    off_curve.key.public_key[1..].fill(0xff);
    assert_eq!(
        field_of(with(create(vec![off_curve], vec![]))),
        "public_key"
    );
    assert_eq!(
        field_of(with(create(vec![], vec![svc("a b")]))),
        "service.endpoint"
    );
    let update = |changes| DidOp::Update {
        id: [1; 16],
        version: 0,
        changes,
    };
    assert_eq!(field_of(with(update(vec![]))), "changes");
    let too_many = vec![DidChange::AddController(Address::ZERO); MAX_DID_CHANGES + 1];
    assert_eq!(field_of(with(update(too_many))), "changes");
    // Gas: base + 16 per encoded byte of the operation.
    let deactivate = DidOp::Deactivate { id: [1; 16] };
    assert_eq!(deactivate.gas(), GAS_DID_OP + 16 * (1 + 16));
    assert_eq!(
        operation_of(&Payload::Did(deactivate.clone())),
        Some(Operation::Did)
    );
    // Encoding: Payload tag 7, DidOp tag 2 (Deactivate), then the 16-byte id.
    let mut want = vec![7, 2];
    want.extend([1; 16]);
    assert_eq!(codec::encode(&Payload::Did(deactivate)), want);
}
