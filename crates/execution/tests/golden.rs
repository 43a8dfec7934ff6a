//! Pins the exact state changes and receipts of fixed histories that exercise every native
//! module (token, evidence, governance: proposals, votes, a gas price change, an operation
//! policy, a freeze; fee shortfalls and void transactions; assets). Any change to the stored encodings, the key layout, fees or events changes
//! the digest, and with it every state root: such a change is a consensus change and must be
//! deliberate (update the digest in the same commit and say why).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{HashAlgorithm, KeyPair, Scheme, Suite};
use keel_execution::governance::{self, GovGenesis};
use keel_execution::*;
use keel_types::*;

mod common;
use common::tx;

const ALG: HashAlgorithm = HashAlgorithm::Sm3;

/// SM3 over the encoded (changes, receipts) of every block of [`history`].
const GOLDEN: &str = "eb215952de4325d9d3736fc76aba358d4fe2e44bf36f7c188f68825a4db3167a";

fn addr(i: u8) -> Address {
    Address([i; 20])
}

fn genesis() -> MemoryState {
    let validator = |i: u8| ValidatorInfo {
        name: format!("v{i}"),
        key: Signer {
            scheme: Scheme::Sm2,
            public_key: KeyPair::from_seed(Scheme::Sm2, &[i; 32]).public_key(),
        },
        p2p_addr: String::new(),
    };
    let g = GovGenesis {
        permissioned: false,
        members: (1..=3).map(|i| (addr(i), 1, format!("org{i}"))).collect(),
        validators: (1..=4).map(validator).collect(),
        accounts: vec![(addr(10), Role::Client, "bank".into())],
        proposal_ttl_blocks: 0,
    };
    let mut s = MemoryState::default();
    let alloc: Vec<_> = [1, 2, 3, 10, 11]
        .map(|i| (addr(i), 10_000_000u128))
        .to_vec();
    s.apply(&genesis_changes(ALG, &alloc));
    s.apply(&governance::genesis_changes(ALG, &g));
    s
}

fn propose(action: GovAction) -> Payload {
    Payload::Gov(GovPayload::Propose {
        action,
        ttl_blocks: 0,
    })
}

fn vote(proposal: Hash) -> Payload {
    Payload::Gov(GovPayload::Vote {
        proposal,
        approve: true,
    })
}

fn transfer(to: u8, amount: u128) -> Payload {
    Payload::Transfer {
        to: addr(to),
        amount,
    }
}

fn evidence(byte: u8) -> Payload {
    Payload::EvidencePut(EvidencePut {
        content_hash: Hash([byte; 32]),
        hash_alg: ContentHashAlg::Sm3,
        size: 10,
        media_type: "text/plain".into(),
        metadata: "m".into(),
    })
}

/// Blocks of (sender, nonce, payload); proposal ids are the hashes of the proposing txs.
fn history() -> Vec<Vec<(Address, SignedTransaction)>> {
    let price = tx(0, propose(GovAction::SetParam(ChainParam::GasPrice(3))));
    let deny = tx(
        1,
        propose(GovAction::SetOperationPolicy {
            op: Operation::EvidencePut,
            policy: OpPolicy::DenyList(vec![addr(11)]),
        }),
    );
    let freeze = tx(2, propose(GovAction::Freeze { address: addr(10) }));
    let (p, d, f) = (price.hash(ALG), deny.hash(ALG), freeze.hash(ALG));
    vec![
        vec![
            (addr(10), tx(0, transfer(20, 1_000))),
            (addr(11), tx(0, transfer(20, 99_000_000))),
            (addr(10), tx(1, evidence(0xaa))),
            (addr(11), tx(1, evidence(0xaa))),
            (addr(11), tx(7, transfer(20, 1))),
        ],
        vec![(addr(1), price), (addr(2), tx(0, vote(p)))],
        vec![
            (addr(10), tx(2, transfer(21, 5))),
            (addr(1), deny),
            (addr(3), tx(0, vote(d))),
            (addr(11), tx(2, evidence(0xbb))),
            (addr(1), freeze),
            (addr(2), tx(1, vote(f))),
            (addr(10), tx(3, transfer(21, 5))),
        ],
    ]
}

/// Runs `blocks` from [`genesis`] at gas price `gas_price`; returns the hex digest of the genesis
/// state and every block's (changes, receipts, gas) and the receipts' error codes.
fn run(
    blocks: &[Vec<(Address, SignedTransaction)>],
    gas_price: u128,
) -> (String, Vec<Option<ExecErrorCode>>) {
    let ex = Executor::new(ChainParams {
        chain_id: 9,
        suite: Suite::Gm,
        gas_price,
    });
    let mut state = genesis();
    let mut digest_input = codec::encode(&state.0.iter().collect::<Vec<_>>());
    let mut codes = vec![];
    for (i, block) in blocks.iter().enumerate() {
        let inputs: Vec<TxInput<'_>> = block
            .iter()
            .map(|(sender, t)| TxInput {
                tx: t,
                hash: t.hash(ALG),
                sender: *sender,
            })
            .collect();
        let ctx = BlockContext {
            height: i as u64 + 1,
            timestamp_ms: 1_700_000_000_000 + i as u64,
        };
        let out = ex.execute_block(&state, ctx, &inputs).unwrap();
        state.apply(&out.changes);
        codes.extend(out.receipts.iter().map(|r| r.error.as_ref().map(|e| e.0)));
        digest_input.extend(codec::encode(&(&out.changes, &out.receipts, out.gas_used)));
    }
    (hex::encode(ALG.digest(&digest_input)), codes)
}

/// Fee shortfalls (nothing, or part of the fee, to pay), void transactions, and the asset
/// module's operations and refusals. Nonces are assigned in order per sender.
fn fees_and_assets() -> Vec<Vec<(Address, SignedTransaction)>> {
    let issue = AssetOp::Issue(AssetIssue {
        name: "Golden".into(),
        symbol: "GLD".into(),
        decimals: 3,
        max_supply: 1_000,
        initial_supply: 600,
        issuer: addr(1),
        mintable: true,
        burnable: true,
        freezable: true,
        holder_list: Some(vec![addr(2), addr(3)]),
    });
    // addr(1)'s second transaction issues the asset.
    let asset = tx(1, Payload::Asset(issue.clone())).hash(ALG);
    let (a2, a3, a4) = (addr(2), addr(3), addr(4));
    let assets: Vec<(u8, AssetOp)> = vec![
        (1, issue),
        (
            1,
            AssetOp::Transfer {
                asset,
                to: a2,
                amount: 100,
            },
        ),
        (
            1,
            AssetOp::Transfer {
                asset,
                to: a4,
                amount: 1,
            },
        ),
        (
            2,
            AssetOp::Approve {
                asset,
                spender: a3,
                amount: 60,
            },
        ),
        (
            3,
            AssetOp::TransferFrom {
                asset,
                from: a2,
                to: a3,
                amount: 50,
            },
        ),
        (
            3,
            AssetOp::TransferFrom {
                asset,
                from: a2,
                to: a3,
                amount: 11,
            },
        ),
        (
            1,
            AssetOp::Mint {
                asset,
                to: a3,
                amount: 401,
            },
        ),
        (
            1,
            AssetOp::Mint {
                asset,
                to: a3,
                amount: 400,
            },
        ),
        (1, AssetOp::Freeze { asset, holder: a3 }),
        (3, AssetOp::Burn { asset, amount: 1 }),
        (2, AssetOp::Burn { asset, amount: 50 }),
        (1, AssetOp::SetIssuer { asset, issuer: a2 }),
        (
            2,
            AssetOp::SetListed {
                asset,
                holder: a4,
                listed: true,
            },
        ),
    ];
    let mut nonces = std::collections::HashMap::<u8, u64>::new();
    let mut next = |who: u8| {
        let n = nonces.entry(who).or_default();
        *n += 1;
        *n - 1
    };
    let mut expired = tx(0, transfer(1, 1));
    expired.tx.expires_at_height = 0;
    let first = vec![
        (addr(30), tx(next(30), transfer(1, 0))),
        (addr(1), tx(next(1), transfer(31, 30_000))),
        (addr(31), tx(next(31), transfer(1, 1))),
        (addr(2), tx(5, transfer(1, 1))),
        (addr(4), expired),
    ];
    let second = assets
        .into_iter()
        .map(|(who, op)| (addr(who), tx(next(who), Payload::Asset(op))))
        .collect();
    vec![first, second]
}

#[test]
fn fee_shortfalls_and_assets_are_pinned() {
    let (digest, codes) = run(&fees_and_assets(), 2);
    use ExecErrorCode::*;
    let expected = [
        Some(InsufficientBalance),
        None,
        Some(InsufficientBalance),
        Some(NonceMismatch),
        Some(Expired),
        None,
        None,
        Some(AssetNotListed),
        None,
        None,
        Some(AssetAllowanceExceeded),
        Some(AssetMaxSupply),
        None,
        None,
        Some(AssetHolderFrozen),
        None,
        None,
        None,
    ];
    assert_eq!(codes, expected);
    assert_eq!(digest, GOLDEN_FEES_AND_ASSETS);
}

/// [`fee_shortfalls_and_assets_are_pinned`]'s digest (changed deliberately by ADR 0015: an
/// issuance also indexes the asset's ERC-20 face address and names it in `AssetIssued`).
const GOLDEN_FEES_AND_ASSETS: &str =
    "92908ecdc197b933d4717a4a5ccc26905a4298787e430da4f0d994bc5f925d75";

#[test]
fn native_modules_history_is_pinned() {
    let (digest, codes) = run(&history(), 1);
    // The history does what it says: refusals where expected, the rest applied.
    use ExecErrorCode::*;
    let expected = [
        None,
        Some(InsufficientBalance),
        None,
        Some(EvidenceDuplicate),
        Some(NonceMismatch),
        None,
        None,
        None,
        None,
        None,
        Some(NotPermitted),
        None,
        None,
        Some(AccountFrozen),
    ];
    assert_eq!(codes, expected);
    assert_eq!(
        digest, GOLDEN,
        "the native modules' state changes or receipts changed"
    );
}

/// The nft module's operations and refusals, in one block (collection id = first tx hash).
fn nfts() -> Vec<Vec<(Address, SignedTransaction)>> {
    let create = Payload::Nft(NftOp::CreateCollection(NftCollectionCreate {
        name: "Golden Deeds".into(),
        symbol: "GDEED".into(),
        issuer: addr(1),
        max_supply: Some(2),
    }));
    let col = tx(0, create.clone()).hash(ALG);
    let mint = |token, to| {
        Payload::Nft(NftOp::Mint {
            collection: col,
            token,
            to: addr(to),
            metadata: NftMetadata {
                uri: format!("https://deeds.example/{token}"),
                content_hash: Hash([token as u8; 32]),
                hash_alg: ContentHashAlg::Sha256,
                evidence: None,
            },
        })
    };
    let xfer = |token, to| {
        Payload::Nft(NftOp::Transfer {
            collection: col,
            token,
            to: addr(to),
        })
    };
    let ops = vec![
        (1, create),
        (2, mint(1, 2)), // not the issuer
        (1, mint(1, 2)),
        (1, mint(2, 3)),
        (1, mint(3, 3)), // max supply
        (3, xfer(1, 3)), // not the owner
        (
            2,
            Payload::Nft(NftOp::Approve {
                collection: col,
                token: 1,
                spender: Some(addr(3)),
            }),
        ),
        (3, xfer(1, 10)),
        (
            10,
            Payload::Nft(NftOp::Burn {
                collection: col,
                token: 1,
            }),
        ),
        (10, xfer(1, 2)), // burned
    ];
    let mut nonces = std::collections::HashMap::<u8, u64>::new();
    let block = ops
        .into_iter()
        .map(|(who, p)| {
            let n = nonces.entry(who).or_default();
            *n += 1;
            (addr(who), tx(*n - 1, p))
        })
        .collect();
    vec![block]
}

#[test]
fn nft_history_is_pinned() {
    let (digest, codes) = run(&nfts(), 1);
    use ExecErrorCode::*;
    let expected = [
        None,
        Some(NftNotIssuer),
        None,
        None,
        Some(NftMaxSupply),
        Some(NftNotOwner),
        None,
        None,
        None,
        Some(NftBurned),
    ];
    assert_eq!(codes, expected);
    assert_eq!(
        digest, GOLDEN_NFTS,
        "the nft module's state changes or receipts changed"
    );
}

/// [`nft_history_is_pinned`]'s digest.
const GOLDEN_NFTS: &str = "818f15efc638ab820e1c1da0c651455c0c99ddb1723fb15f4f6e14e84448692f";
