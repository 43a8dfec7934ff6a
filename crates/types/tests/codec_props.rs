//! Round-trip property tests for every encoded type, and "decoders never panic" tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_types::*;
use proptest::prelude::*;

fn arb_hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}
fn arb_address() -> impl Strategy<Value = Address> {
    any::<[u8; 20]>().prop_map(Address)
}
fn arb_scheme() -> impl Strategy<Value = Scheme> {
    prop_oneof![
        Just(Scheme::Sm2),
        Just(Scheme::Ed25519),
        Just(Scheme::Secp256k1)
    ]
}
fn arb_signer() -> impl Strategy<Value = Signer> {
    (arb_scheme(), proptest::collection::vec(any::<u8>(), 0..70))
        .prop_map(|(scheme, public_key)| Signer { scheme, public_key })
}
fn arb_role() -> impl Strategy<Value = Role> {
    prop_oneof![
        Just(Role::Client),
        Just(Role::Auditor),
        Just(Role::Observer),
        Just(Role::OrgAdmin)
    ]
}
fn arb_addresses() -> impl Strategy<Value = Vec<Address>> {
    proptest::collection::vec(arb_address(), 0..4)
}
fn arb_gov_action() -> impl Strategy<Value = GovAction> {
    prop_oneof![
        (arb_address(), any::<u64>(), ".{0,10}").prop_map(|(address, weight, org)| {
            GovAction::AddMember {
                address,
                weight,
                org,
            }
        }),
        arb_address().prop_map(|address| GovAction::RemoveMember { address }),
        (".{0,10}", arb_signer(), ".{0,20}").prop_map(|(name, key, p2p_addr)| {
            GovAction::AddValidator(ValidatorInfo {
                name,
                key,
                p2p_addr,
            })
        }),
        arb_address().prop_map(|address| GovAction::RemoveValidator { address }),
        (
            arb_address(),
            arb_role(),
            ".{0,10}",
            proptest::option::of(arb_hash())
        )
            .prop_map(
                |(address, role, org, cert_fingerprint)| GovAction::SetAccount {
                    address,
                    role,
                    org,
                    cert_fingerprint,
                }
            ),
        (
            arb_address(),
            arb_hash(),
            arb_role(),
            ".{0,10}",
            any::<u64>()
        )
            .prop_map(|(address, fingerprint, role, org, not_after_secs)| {
                GovAction::SetAccountCertificate {
                    address,
                    fingerprint,
                    role,
                    org,
                    not_after_secs,
                }
            }),
        arb_address().prop_map(|address| GovAction::RemoveAccount { address }),
        arb_address().prop_map(|address| GovAction::Freeze { address }),
        arb_address().prop_map(|address| GovAction::Unfreeze { address }),
        arb_hash().prop_map(|fingerprint| GovAction::RevokeCertificate { fingerprint }),
        prop_oneof![
            any::<u128>().prop_map(ChainParam::GasPrice),
            any::<u32>().prop_map(ChainParam::MaxBlockTxs),
            any::<u64>().prop_map(ChainParam::BlockIntervalMs),
            any::<u64>().prop_map(ChainParam::ProposalTtlBlocks),
            any::<u64>().prop_map(ChainParam::MaxBlockGas),
            any::<bool>().prop_map(ChainParam::RequireAccountCertificates),
        ]
        .prop_map(GovAction::SetParam),
        (
            proptest::sample::select(Operation::ALL.to_vec()),
            prop_oneof![
                Just(OpPolicy::Open),
                arb_addresses().prop_map(OpPolicy::AllowList),
                arb_addresses().prop_map(OpPolicy::DenyList),
            ]
        )
            .prop_map(|(op, policy)| GovAction::SetOperationPolicy { op, policy }),
        prop_oneof![
            Just(OpPolicy::Open),
            arb_addresses().prop_map(OpPolicy::AllowList),
            arb_addresses().prop_map(OpPolicy::DenyList),
        ]
        .prop_map(|policy| GovAction::SetNodePolicy { policy }),
    ]
}
fn arb_gov() -> impl Strategy<Value = GovPayload> {
    prop_oneof![
        (arb_gov_action(), any::<u64>())
            .prop_map(|(action, ttl_blocks)| GovPayload::Propose { action, ttl_blocks }),
        (arb_hash(), any::<bool>())
            .prop_map(|(proposal, approve)| GovPayload::Vote { proposal, approve }),
        proptest::collection::vec(any::<u8>(), 0..64)
            .prop_map(|certificate| GovPayload::RevokeMemberCertificate { certificate }),
    ]
}
fn arb_asset_issue() -> impl Strategy<Value = AssetIssue> {
    (
        (".{0,20}", "[A-Z0-9]{0,8}", any::<u8>()),
        (any::<u128>(), any::<u128>(), arb_address()),
        (any::<[bool; 3]>(), proptest::option::of(arb_addresses())),
    )
        .prop_map(
            |((name, symbol, decimals), (max_supply, initial_supply, issuer), (f, list))| {
                AssetIssue {
                    name,
                    symbol,
                    decimals,
                    max_supply,
                    initial_supply,
                    issuer,
                    mintable: f[0],
                    burnable: f[1],
                    freezable: f[2],
                    holder_list: list,
                }
            },
        )
}
fn arb_asset_op() -> impl Strategy<Value = AssetOp> {
    let (h, a, n) = (arb_hash, arb_address, any::<u128>);
    prop_oneof![
        arb_asset_issue().prop_map(AssetOp::Issue),
        (h(), a(), n()).prop_map(|(asset, to, amount)| AssetOp::Mint { asset, to, amount }),
        (h(), n()).prop_map(|(asset, amount)| AssetOp::Burn { asset, amount }),
        (h(), a(), n()).prop_map(|(asset, to, amount)| AssetOp::Transfer { asset, to, amount }),
        (h(), a(), n()).prop_map(|(asset, spender, amount)| AssetOp::Approve {
            asset,
            spender,
            amount
        }),
        (h(), a(), a(), n()).prop_map(|(asset, from, to, amount)| AssetOp::TransferFrom {
            asset,
            from,
            to,
            amount
        }),
        (h(), a()).prop_map(|(asset, holder)| AssetOp::Freeze { asset, holder }),
        (h(), a()).prop_map(|(asset, holder)| AssetOp::Unfreeze { asset, holder }),
        (h(), a(), any::<bool>()).prop_map(|(asset, holder, listed)| AssetOp::SetListed {
            asset,
            holder,
            listed
        }),
        (h(), a()).prop_map(|(asset, issuer)| AssetOp::SetIssuer { asset, issuer }),
    ]
}
fn arb_nft_op() -> impl Strategy<Value = NftOp> {
    let (h, a, t) = (arb_hash, arb_address, any::<u64>);
    let meta = (
        ".{0,30}",
        arb_hash(),
        any::<bool>(),
        proptest::option::of(arb_hash()),
    )
        .prop_map(|(uri, content_hash, sm3, evidence)| NftMetadata {
            uri,
            content_hash,
            hash_alg: if sm3 {
                ContentHashAlg::Sm3
            } else {
                ContentHashAlg::Sha256
            },
            evidence,
        });
    prop_oneof![
        (".{0,20}", "[A-Z0-9]{0,8}", a(), proptest::option::of(t())).prop_map(
            |(name, symbol, issuer, max_supply)| NftOp::CreateCollection(NftCollectionCreate {
                name,
                symbol,
                issuer,
                max_supply
            })
        ),
        (h(), t(), a(), meta).prop_map(|(collection, token, to, metadata)| NftOp::Mint {
            collection,
            token,
            to,
            metadata
        }),
        (h(), t(), a()).prop_map(|(collection, token, to)| NftOp::Transfer {
            collection,
            token,
            to
        }),
        (h(), t(), proptest::option::of(a())).prop_map(|(collection, token, spender)| {
            NftOp::Approve {
                collection,
                token,
                spender,
            }
        }),
        (h(), t()).prop_map(|(collection, token)| NftOp::Burn { collection, token }),
    ]
}
fn arb_did_method() -> impl Strategy<Value = DidMethod> {
    (
        "[a-z0-9-]{1,12}",
        arb_signer(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(fragment, key, authentication, assertion)| DidMethod {
            fragment,
            key,
            authentication,
            assertion,
        })
}
fn arb_did_service() -> impl Strategy<Value = DidService> {
    ("[a-z0-9-]{1,12}", "[A-Za-z]{1,16}", ".{0,30}").prop_map(|(fragment, kind, endpoint)| {
        DidService {
            fragment,
            kind,
            endpoint,
        }
    })
}
fn arb_did_change() -> impl Strategy<Value = DidChange> {
    prop_oneof![
        arb_did_method().prop_map(DidChange::AddMethod),
        ".{0,12}".prop_map(DidChange::RemoveMethod),
        arb_address().prop_map(DidChange::AddController),
        arb_address().prop_map(DidChange::RemoveController),
        arb_did_service().prop_map(DidChange::AddService),
        ".{0,12}".prop_map(DidChange::RemoveService),
    ]
}
fn arb_did_op() -> impl Strategy<Value = DidOp> {
    use proptest::collection::vec;
    prop_oneof![
        (
            proptest::option::of(any::<[u8; 16]>()),
            vec(arb_did_method(), 0..3),
            vec(arb_address(), 0..3),
            vec(arb_did_service(), 0..3),
        )
            .prop_map(|(id, methods, controllers, services)| DidOp::Create {
                id,
                methods,
                controllers,
                services,
            }),
        (any::<[u8; 16]>(), any::<u64>(), vec(arb_did_change(), 0..4)).prop_map(
            |(id, version, changes)| DidOp::Update {
                id,
                version,
                changes
            }
        ),
        any::<[u8; 16]>().prop_map(|id| DidOp::Deactivate { id }),
    ]
}
fn arb_payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        arb_did_op().prop_map(Payload::Did),
        arb_gov().prop_map(Payload::Gov),
        arb_nft_op().prop_map(Payload::Nft),
        arb_asset_op().prop_map(Payload::Asset),
        (arb_address(), any::<u128>()).prop_map(|(to, amount)| Payload::Transfer { to, amount }),
        (
            arb_hash(),
            any::<bool>(),
            any::<u64>(),
            ".{0,20}",
            ".{0,40}"
        )
            .prop_map(|(content_hash, sm3, size, media_type, metadata)| {
                Payload::EvidencePut(EvidencePut {
                    content_hash,
                    hash_alg: if sm3 {
                        ContentHashAlg::Sm3
                    } else {
                        ContentHashAlg::Sha256
                    },
                    size,
                    media_type,
                    metadata,
                })
            }),
    ]
}
fn arb_signed_tx() -> impl Strategy<Value = SignedTransaction> {
    (
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        arb_signer(),
        arb_payload(),
        proptest::collection::vec(any::<u8>(), 0..72),
    )
        .prop_map(
            |(chain_id, nonce, expires_at_height, gas_limit, signer, payload, signature)| {
                SignedTransaction {
                    tx: Transaction {
                        chain_id,
                        nonce,
                        expires_at_height,
                        gas_limit,
                        signer,
                        payload,
                    },
                    signature,
                }
            },
        )
}
fn arb_header() -> impl Strategy<Value = Header> {
    (
        (any::<u64>(), any::<u64>(), arb_hash(), any::<u64>()),
        (
            arb_hash(),
            arb_hash(),
            arb_hash(),
            arb_address(),
            any::<u32>(),
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                (chain_id, height, parent_hash, timestamp_ms),
                (tx_root, receipts_root, state_root, proposer, tx_count, gas_used),
            )| Header {
                chain_id,
                height,
                parent_hash,
                timestamp_ms,
                tx_root,
                receipts_root,
                state_root,
                proposer,
                tx_count,
                gas_used,
            },
        )
}
fn arb_certificate() -> impl Strategy<Value = CommitCertificate> {
    (
        any::<u64>(),
        proptest::collection::vec(
            (arb_address(), proptest::collection::vec(any::<u8>(), 0..72)).prop_map(
                |(validator, signature)| CommitSignature {
                    validator,
                    signature,
                },
            ),
            0..4,
        ),
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(round, signatures, vote)| CommitCertificate {
            round,
            signatures,
            vote,
        })
}
fn arb_receipt() -> impl Strategy<Value = Receipt> {
    let code = prop_oneof![
        Just(ExecErrorCode::InsufficientBalance),
        Just(ExecErrorCode::EvidenceDuplicate),
        Just(ExecErrorCode::OutOfGas),
        Just(ExecErrorCode::NonceMismatch),
        Just(ExecErrorCode::Expired),
        Just(ExecErrorCode::Overflow),
    ];
    (
        arb_hash(),
        any::<bool>(),
        any::<u64>(),
        any::<u128>(),
        proptest::collection::vec(
            (
                ".{0,8}",
                ".{0,8}",
                proptest::collection::vec((".{0,6}", ".{0,10}"), 0..3),
            )
                .prop_map(|(module, name, attributes)| Event {
                    module,
                    name,
                    attributes,
                }),
            0..3,
        ),
        proptest::option::of((code, ".{0,20}")),
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(
            |(tx_hash, ok, gas_used, fee, events, error, output)| Receipt {
                tx_hash,
                status: if ok {
                    TxStatus::Success
                } else {
                    TxStatus::Failed
                },
                gas_used,
                fee,
                events,
                error,
                output,
            },
        )
}

fn round_trip<T>(v: &T)
where
    T: borsh::BorshSerialize + borsh::BorshDeserialize + PartialEq + std::fmt::Debug,
{
    let bytes = codec::encode(v);
    let back: T = codec::decode("t", &bytes, usize::MAX).expect("decodes");
    assert_eq!(&back, v);
    // Canonical: re-encoding gives the same bytes.
    assert_eq!(codec::encode(&back), bytes);
    // Trailing bytes are rejected.
    let mut extra = bytes.clone();
    extra.push(0);
    assert!(codec::decode::<T>("t", &extra, usize::MAX).is_err());
    // Every strict prefix is rejected (truncation never decodes to something else).
    for cut in [0, bytes.len() / 2, bytes.len().saturating_sub(1)] {
        if cut < bytes.len() {
            assert!(codec::decode::<T>("t", &bytes[..cut], usize::MAX).is_err());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn signed_tx_round_trips(tx in arb_signed_tx()) {
        round_trip(&tx);
        let bytes = tx.encode();
        prop_assert_eq!(SignedTransaction::decode(&bytes).ok(), (bytes.len() <= limits::MAX_TX_BYTES).then(|| tx.clone()));
    }

    #[test]
    fn header_round_trips(h in arb_header()) {
        round_trip(&h);
        prop_assert_eq!(Header::decode(&h.encode()).unwrap(), h);
    }

    #[test]
    fn block_round_trips(h in arb_header(), txs in proptest::collection::vec(arb_signed_tx(), 0..4), certificate in arb_certificate()) {
        let b = Block { header: h, transactions: txs, certificate };
        round_trip(&b);
        prop_assert_eq!(Block::decode(&b.encode()).unwrap(), b);
    }

    #[test]
    fn receipt_round_trips(r in arb_receipt()) {
        round_trip(&r);
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = SignedTransaction::decode(&bytes);
        let _ = Header::decode(&bytes);
        let _ = Block::decode(&bytes);
        let _ = codec::decode::<Receipt>("receipt", &bytes, 4096);
    }

    #[test]
    fn mutated_tx_never_panics(tx in arb_signed_tx(), idx in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = tx.encode();
        let i = idx.index(bytes.len());
        bytes[i] = byte;
        let _ = SignedTransaction::decode(&bytes);
    }
}

#[test]
fn oversized_input_rejected_before_decoding() {
    let big = vec![0u8; limits::MAX_TX_BYTES + 1];
    match SignedTransaction::decode(&big) {
        Err(CodecError::TooLarge { len, max, .. }) => {
            assert_eq!(len, limits::MAX_TX_BYTES + 1);
            assert_eq!(max, limits::MAX_TX_BYTES);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn huge_length_prefix_does_not_allocate_or_panic() {
    // A Vec<u8> length prefix of 4 GiB followed by nothing.
    let mut bytes = vec![0u8; 8 * 4 + 1];
    bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    assert!(SignedTransaction::decode(&bytes).is_err());
}

#[test]
fn unknown_scheme_tag_rejected() {
    let tx = SignedTransaction {
        tx: Transaction {
            chain_id: 1,
            nonce: 0,
            expires_at_height: 10,
            gas_limit: 21_000,
            signer: Signer {
                scheme: Scheme::Ed25519,
                public_key: vec![0; 32],
            },
            payload: Payload::Transfer {
                to: Address::ZERO,
                amount: 1,
            },
        },
        signature: vec![0; 64],
    };
    let mut bytes = tx.encode();
    // chain_id(8) nonce(8) expires(8) gas(8) then the scheme tag.
    assert_eq!(bytes[32], Scheme::Ed25519 as u8);
    bytes[32] = 99;
    let err = SignedTransaction::decode(&bytes).unwrap_err();
    assert!(
        err.to_string().contains("unknown signature scheme"),
        "{err}"
    );
}
