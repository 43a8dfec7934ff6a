//! An NFT collection created and a token minted and transferred through the real pipeline
//! (admission, block, JMT); the token's owner and metadata proven from the state root, and a
//! never-minted token proven absent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{KeyPair, Suite};
use keel_execution::nft::{CollectionInfo, TokenRecord, TokenState};
use keel_ledger::{Genesis, Ledger, ProofKind};
use keel_mempool::MempoolConfig;
use keel_storage::StoreOptions;
use keel_types::{
    Address, ContentHashAlg, Hash, NftCollectionCreate, NftMetadata, NftOp, Payload, Signer,
    Transaction, codec,
};

const SUITE: Suite = Suite::Intl;
mod common;
use common::CHAIN;

fn address(k: &KeyPair) -> Address {
    common::address(SUITE, k)
}

fn nft_tx(key: &KeyPair, nonce: u64, op: NftOp) -> Vec<u8> {
    Transaction {
        chain_id: CHAIN,
        nonce,
        expires_at_height: 1_000,
        gas_limit: 1_000_000,
        signer: Signer {
            scheme: key.scheme(),
            public_key: key.public_key(),
        },
        payload: Payload::Nft(op),
    }
    .sign(key)
    .encode()
}

#[test]
fn token_owner_and_metadata_are_proven_from_the_state_root() {
    let dir = tempfile::tempdir().unwrap();
    let v = KeyPair::from_seed(SUITE.signature_scheme(), &[1; 32]);
    let alice = KeyPair::from_seed(SUITE.signature_scheme(), &[2; 32]);
    let bob = Address([7; 20]);
    let genesis: Genesis = common::genesis(SUITE, "nft-proof", 1, (&v, &alice, 10_000_000));
    let ledger = Ledger::open_with(
        genesis,
        address(&v),
        dir.path(),
        StoreOptions::default(),
        MempoolConfig::new(CHAIN, SUITE, 1),
    )
    .unwrap();
    let create = NftOp::CreateCollection(NftCollectionCreate {
        name: "Deeds".into(),
        symbol: "DEED".into(),
        issuer: address(&alice),
        max_supply: Some(10),
    });
    let raw = nft_tx(&alice, 0, create);
    let id = keel_types::SignedTransaction::decode(&raw)
        .unwrap()
        .hash(SUITE.hash());
    let metadata = NftMetadata {
        uri: "https://deeds.example/1".into(),
        content_hash: Hash([5; 32]),
        hash_alg: ContentHashAlg::Sha256,
        evidence: None,
    };
    let mint = NftOp::Mint {
        collection: id,
        token: 1,
        to: address(&alice),
        metadata: metadata.clone(),
    };
    let send = NftOp::Transfer {
        collection: id,
        token: 1,
        to: bob,
    };
    let txs = [raw, nft_tx(&alice, 1, mint), nft_tx(&alice, 2, send)];
    for r in ledger.submit(&txs) {
        r.unwrap();
    }
    let block = ledger.produce_block(&v, 2_000, 10, false).unwrap().unwrap();
    assert_eq!(block.transactions.len(), 3);

    let prove = |kind| ledger.prove(kind, None).unwrap().unwrap().verify().unwrap();
    let (header, value) = prove(ProofKind::NftOwner(id, 1));
    assert_eq!(header.height, 1);
    let st: TokenState = codec::decode("owner", &value.unwrap(), 4_096).unwrap();
    assert_eq!((st.owner, st.burned, st.provenance_len), (bob, false, 2));
    let (_, value) = prove(ProofKind::NftToken(id, 1));
    let t: TokenRecord = codec::decode("token", &value.unwrap(), 4_096).unwrap();
    assert_eq!((t.token, t.metadata, t.minted_height), (1, metadata, 1));
    let (_, value) = prove(ProofKind::NftCollection(id));
    let c: CollectionInfo = codec::decode("collection", &value.unwrap(), 4_096).unwrap();
    assert_eq!((c.minted, c.symbol.as_str()), (1, "DEED"));
    let (_, value) = prove(ProofKind::NftOwner(id, 2));
    assert_eq!(value, None, "a token never minted is proven absent");
}
