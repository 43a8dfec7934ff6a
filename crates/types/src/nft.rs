//! Native non-fungible assets (issue 15; `docs/assets.md`): the `Payload::Nft` operations and
//! their field limits.
//!
//! A collection is identified by the hash of the transaction that created it; a token by its
//! collection and a `u64` token id the issuer picks when minting (never reused, even after a
//! burn, so a token's provenance stays unambiguous).

use crate::tx::{ContentHashAlg, GAS_PER_STORED_BYTE};
use crate::{Address, Hash};
use borsh::{BorshDeserialize, BorshSerialize};

/// Longest collection name, bytes (UTF-8, no control characters, not empty).
pub const MAX_NFT_NAME_BYTES: usize = 64;
/// Longest collection symbol, bytes (ASCII letters and digits, not empty).
pub const MAX_NFT_SYMBOL_BYTES: usize = 16;
/// Longest token URI, bytes (no control characters; may be empty).
pub const MAX_NFT_URI_BYTES: usize = 256;
/// Most provenance entries kept per token; older ones are overwritten (the count of all
/// owners ever stays in the token record).
pub const MAX_NFT_PROVENANCE: u64 = 256;
/// Base gas of creating a collection, plus 16 per stored byte of name and symbol.
pub const GAS_NFT_COLLECTION: u64 = 60_000;
/// Base gas of a mint, plus 16 per stored byte of URI.
pub const GAS_NFT_MINT: u64 = 60_000;
/// Gas of a transfer, approval or burn.
pub const GAS_NFT_OP: u64 = 30_000;

/// Create a collection. Its id is the creating transaction's hash.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct NftCollectionCreate {
    /// Name (at most [`MAX_NFT_NAME_BYTES`]).
    pub name: String,
    /// Symbol (at most [`MAX_NFT_SYMBOL_BYTES`], ASCII alphanumeric).
    pub symbol: String,
    /// Who may mint.
    pub issuer: Address,
    /// Most tokens ever minted (`None`: unbounded; `Some(0)` is invalid).
    pub max_supply: Option<u64>,
}

/// What a token points at: a URI and the hash of the content, optionally an evidence record.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct NftMetadata {
    /// Where the content is (at most [`MAX_NFT_URI_BYTES`]).
    pub uri: String,
    /// Hash of the content.
    pub content_hash: Hash,
    /// Which function produced `content_hash`.
    pub hash_alg: ContentHashAlg,
    /// An evidence record (id) the token is tied to; it must exist when minting.
    pub evidence: Option<Hash>,
}

/// A non-fungible asset operation.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum NftOp {
    /// Create a collection.
    CreateCollection(NftCollectionCreate),
    /// Issuer only: mint token `token` to `to`.
    Mint {
        /// Collection id.
        collection: Hash,
        /// Token id (unused in the collection).
        token: u64,
        /// First owner.
        to: Address,
        /// Metadata.
        metadata: NftMetadata,
    },
    /// The owner, or the token's approved spender, gives the token to `to`.
    Transfer {
        /// Collection id.
        collection: Hash,
        /// Token id.
        token: u64,
        /// New owner.
        to: Address,
    },
    /// The owner lets `spender` transfer the token (`None` clears the approval). A transfer
    /// clears it too.
    Approve {
        /// Collection id.
        collection: Hash,
        /// Token id.
        token: u64,
        /// Who may transfer it.
        spender: Option<Address>,
    },
    /// The owner destroys the token (its record and provenance stay).
    Burn {
        /// Collection id.
        collection: Hash,
        /// Token id.
        token: u64,
    },
}

impl NftOp {
    /// Stable lower-case name.
    pub fn name(&self) -> &'static str {
        match self {
            NftOp::CreateCollection(_) => "create_collection",
            NftOp::Mint { .. } => "mint",
            NftOp::Transfer { .. } => "transfer",
            NftOp::Approve { .. } => "approve",
            NftOp::Burn { .. } => "burn",
        }
    }

    /// The governance operation whose policy applies.
    pub fn operation(&self) -> crate::Operation {
        use crate::Operation;
        match self {
            NftOp::CreateCollection(_) => Operation::NftIssue,
            NftOp::Mint { .. } => Operation::NftMint,
            NftOp::Transfer { .. } | NftOp::Approve { .. } | NftOp::Burn { .. } => {
                Operation::NftTransfer
            }
        }
    }

    /// Gas the operation uses.
    pub fn gas(&self) -> u64 {
        match self {
            NftOp::CreateCollection(c) => {
                GAS_NFT_COLLECTION + GAS_PER_STORED_BYTE * (c.name.len() + c.symbol.len()) as u64
            }
            NftOp::Mint { metadata, .. } => {
                GAS_NFT_MINT + GAS_PER_STORED_BYTE * metadata.uri.len() as u64
            }
            _ => GAS_NFT_OP,
        }
    }

    /// Field limits, checked at admission, in block validation and again in execution.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        match self {
            NftOp::CreateCollection(c) => check_collection(c),
            NftOp::Mint { metadata, .. } => {
                if metadata.uri.len() > MAX_NFT_URI_BYTES {
                    return Err(("uri", format!("over {MAX_NFT_URI_BYTES} bytes")));
                }
                if metadata.uri.chars().any(char::is_control) {
                    return Err(("uri", "must not contain control characters".into()));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn check_collection(c: &NftCollectionCreate) -> Result<(), (&'static str, String)> {
    if c.name.is_empty() || c.name.len() > MAX_NFT_NAME_BYTES {
        return Err(("name", format!("must be 1 to {MAX_NFT_NAME_BYTES} bytes")));
    }
    if c.name.chars().any(char::is_control) {
        return Err(("name", "must not contain control characters".into()));
    }
    let symbol_ok = c.symbol.bytes().all(|b| b.is_ascii_alphanumeric());
    if c.symbol.is_empty() || c.symbol.len() > MAX_NFT_SYMBOL_BYTES || !symbol_ok {
        return Err((
            "symbol",
            format!("must be 1 to {MAX_NFT_SYMBOL_BYTES} ASCII letters or digits"),
        ));
    }
    if c.max_supply == Some(0) {
        return Err(("max_supply", "must be at least 1 when set".into()));
    }
    Ok(())
}
