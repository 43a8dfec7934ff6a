//! Keel's core data types and their canonical encoding.
//!
//! Everything that is hashed, signed, stored or sent between nodes is encoded with
//! [`borsh`](https://borsh.io): deterministic, length-prefixed, rejecting trailing bytes and
//! unknown enum tags. Every decoder goes through [`codec::decode`], which bounds the input size
//! first, so no allocation is ever driven by an unchecked length.
//!
//! * [`Hash`] / [`Address`]: 32-byte digests (suite hash) and 20-byte account addresses.
//! * [`Transaction`] / [`SignedTransaction`]: a native Keel transaction naming its signature
//!   scheme explicitly ([`Signer`]); see [`SignedTransaction::signing_message`] for what is signed.
//! * [`Header`] / [`Block`] / [`CommitCertificate`]: a block commits to its transactions,
//!   receipts and the state root; the certificate slot carries validator signatures.
//! * [`Receipt`]: outcome of one transaction, including failures with a precise [`ExecErrorCode`].
//! * [`AssetOp`]: native fungible asset operations and their field limits.
//! * [`NftOp`]: native non-fungible asset operations and their field limits.
//! * [`DidOp`]: did:keel document operations and their field limits.
//! * [`merkle`]: the RFC 6962 binary Merkle tree used for the tx and receipt roots.

pub mod codec;
pub mod limits;
pub mod merkle;

mod asset;
mod block;
mod did;
mod gov;
mod nft;
mod primitives;
mod receipt;
mod tx;

pub use asset::{
    AssetIssue, AssetOp, GAS_ASSET_ISSUE, GAS_ASSET_OP, MAX_ASSET_DECIMALS, MAX_ASSET_HOLDER_LIST,
    MAX_ASSET_NAME_BYTES, MAX_ASSET_SYMBOL_BYTES,
};
pub use block::{Block, CommitCertificate, CommitSignature, Header};
pub use codec::CodecError;
pub use did::{
    DidChange, DidId, DidMethod, DidOp, DidService, GAS_DID_CREATE, GAS_DID_OP, MAX_DID_CHANGES,
    MAX_DID_CONTROLLERS, MAX_DID_ENDPOINT_BYTES, MAX_DID_FRAGMENT_BYTES, MAX_DID_METHODS,
    MAX_DID_SERVICE_TYPE_BYTES, MAX_DID_SERVICES, check_fragment,
};
pub use gov::{
    ChainParam, GAS_GOV, GovAction, GovPayload, MAX_GOV_NAME_BYTES, MAX_P2P_ADDR_BYTES,
    MAX_POLICY_ADDRESSES, MAX_PROPOSAL_TTL_BLOCKS, OpPolicy, Operation, Role, ValidatorInfo,
    operation_of,
};
pub use keel_crypto::{HashAlgorithm, Scheme, Suite};
pub use nft::{
    GAS_NFT_COLLECTION, GAS_NFT_MINT, GAS_NFT_OP, MAX_NFT_NAME_BYTES, MAX_NFT_PROVENANCE,
    MAX_NFT_SYMBOL_BYTES, MAX_NFT_URI_BYTES, NftCollectionCreate, NftMetadata, NftOp,
};
pub use primitives::{Address, Hash, ParseHexError};
pub use receipt::{Event, ExecErrorCode, Receipt, TxStatus};
pub use tx::{
    ContentHashAlg, EvidencePut, Payload, SignedTransaction, Signer, Transaction, TxCheckError,
};
