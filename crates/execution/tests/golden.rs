//! Pins the exact state changes and receipts of a fixed history that exercises every native
//! module (token, evidence, governance: proposals, votes, a gas price change, an operation
//! policy, a freeze). Any change to the stored encodings, the key layout, fees or events changes
//! the digest, and with it every state root: such a change is a consensus change and must be
//! deliberate (update the digest in the same commit and say why).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{HashAlgorithm, KeyPair, Scheme, Suite};
use keel_execution::governance::{self, GovGenesis};
use keel_execution::*;
use keel_types::*;

const ALG: HashAlgorithm = HashAlgorithm::Sm3;

/// SM3 over the encoded (changes, receipts) of every block of [`history`].
const GOLDEN: &str = "eb215952de4325d9d3736fc76aba358d4fe2e44bf36f7c188f68825a4db3167a";

fn addr(i: u8) -> Address {
    Address([i; 20])
}

fn tx(nonce: u64, payload: Payload) -> SignedTransaction {
    SignedTransaction {
        tx: Transaction {
            chain_id: 9,
            nonce,
            expires_at_height: 1_000,
            gas_limit: 1_000_000,
            signer: Signer {
                scheme: Scheme::Sm2,
                public_key: vec![2; 33],
            },
            payload,
        },
        signature: vec![0; 64],
    }
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

#[test]
fn native_modules_history_is_pinned() {
    let ex = Executor::new(ChainParams {
        chain_id: 9,
        suite: Suite::Gm,
        gas_price: 1,
    });
    let mut state = genesis();
    let mut digest_input = codec::encode(&state.0.iter().collect::<Vec<_>>());
    let mut codes = vec![];
    for (i, block) in history().iter().enumerate() {
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
    let digest = hex::encode(ALG.digest(&digest_input));
    assert_eq!(
        digest, GOLDEN,
        "the native modules' state changes or receipts changed"
    );
}
