//! Transaction receipts.

use crate::Hash;
use borsh::{BorshDeserialize, BorshSerialize};

/// Did the transaction take effect?
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum TxStatus {
    /// All effects applied.
    Success,
    /// No effects except nonce increment and fee (see the receipt's error).
    Failed,
}

/// Why a transaction failed during execution. The numeric codes are stable (documented in
/// `docs/rpc.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[borsh(use_discriminant = true)]
#[repr(u16)]
pub enum ExecErrorCode {
    /// Balance does not cover amount plus fee.
    InsufficientBalance = 1,
    /// An evidence record with this content hash already exists.
    EvidenceDuplicate = 2,
    /// `gas_limit` does not cover the gas used.
    OutOfGas = 3,
    /// The transaction nonce is not the account's next nonce.
    NonceMismatch = 4,
    /// The transaction expired before this block.
    Expired = 5,
    /// Transfer amount overflows the recipient balance.
    Overflow = 6,
    /// The EVM reverted; the receipt's `output` holds the revert data (ADR 0009).
    Reverted = 7,
    /// The EVM halted (out of gas, invalid opcode, stack error, ...) or rejected the
    /// transaction (fee cap below the gas price, gas limit above the block gas limit, ...).
    EvmHalted = 8,
    /// Permissioned chain: the sender is not an admitted account (ADR 0011).
    NotAdmitted = 20,
    /// The sender's account is frozen.
    AccountFrozen = 21,
    /// The sender's role does not allow this operation (e.g. an auditor writing).
    NotPermitted = 22,
    /// A governance proposal or vote is invalid (unknown target, duplicate, closed, ...).
    GovInvalid = 23,
    /// The proposal would remove the last committee member.
    GovLastMember = 24,
    /// A validator change was already accepted in this epoch.
    GovOneValidatorPerEpoch = 25,
    /// The sender's account is bound to a certificate that governance revoked (issue 14).
    CertificateRevoked = 26,
    /// The sender's account is bound to a client certificate that has expired (issue 14).
    CertificateExpired = 27,
    /// No asset with this id.
    AssetUnknown = 30,
    /// Only the asset's issuer may do this (mint, freeze, unfreeze, white list, issuer role).
    AssetNotIssuer = 31,
    /// The mint would take the supply above the asset's max supply.
    AssetMaxSupply = 32,
    /// The asset is not mintable.
    AssetNotMintable = 33,
    /// The asset is not burnable.
    AssetNotBurnable = 34,
    /// The asset is not freezable.
    AssetNotFreezable = 35,
    /// A holder involved (sender, recipient, owner or spender) is frozen for this asset.
    AssetHolderFrozen = 36,
    /// A holder involved is not on the asset's white list.
    AssetNotListed = 37,
    /// The spender's allowance does not cover the amount.
    AssetAllowanceExceeded = 38,
    /// The holder's asset balance does not cover the amount.
    AssetInsufficientBalance = 39,
    /// The asset operation is invalid (field limits, no white list to edit, ...).
    AssetInvalid = 40,
    /// No NFT collection with this id.
    NftUnknownCollection = 41,
    /// No token with this id in the collection.
    NftUnknownToken = 42,
    /// Only the collection's issuer may mint.
    NftNotIssuer = 43,
    /// The mint would take the collection above its max supply.
    NftMaxSupply = 44,
    /// The token id was already minted in the collection (tokens ids are never reused).
    NftTokenExists = 45,
    /// The sender is neither the token's owner nor (for a transfer) its approved spender.
    NftNotOwner = 46,
    /// The token was burned.
    NftBurned = 47,
    /// The evidence record the metadata names does not exist.
    NftEvidenceUnknown = 48,
    /// The NFT operation is invalid (field limits).
    NftInvalid = 49,
    /// A DID with this id already exists (or existed: ids are never reused).
    DidExists = 50,
    /// No DID with this id.
    DidUnknown = 51,
    /// The sender is not a controller of the DID.
    DidNotController = 52,
    /// The DID is deactivated; it can no longer change.
    DidDeactivated = 53,
    /// The DID operation is invalid (field limits, duplicate or unknown fragment, removing the
    /// last controller, ...).
    DidInvalid = 54,
    /// The update names a document version that is not the current one.
    DidStale = 55,
    /// The document would exceed a limit (methods, services or controllers).
    DidLimit = 56,
}

impl ExecErrorCode {
    /// Stable numeric code.
    pub fn code(self) -> u16 {
        self as u16
    }
    /// Stable symbolic name.
    pub fn name(self) -> &'static str {
        match self {
            ExecErrorCode::InsufficientBalance => "INSUFFICIENT_BALANCE",
            ExecErrorCode::EvidenceDuplicate => "EVIDENCE_DUPLICATE",
            ExecErrorCode::OutOfGas => "OUT_OF_GAS",
            ExecErrorCode::NonceMismatch => "NONCE_MISMATCH",
            ExecErrorCode::Expired => "EXPIRED",
            ExecErrorCode::Overflow => "OVERFLOW",
            ExecErrorCode::Reverted => "REVERTED",
            ExecErrorCode::EvmHalted => "EVM_HALTED",
            ExecErrorCode::NotAdmitted => "NOT_ADMITTED",
            ExecErrorCode::AccountFrozen => "ACCOUNT_FROZEN",
            ExecErrorCode::NotPermitted => "NOT_PERMITTED",
            ExecErrorCode::GovInvalid => "GOV_INVALID",
            ExecErrorCode::GovLastMember => "GOV_LAST_MEMBER",
            ExecErrorCode::GovOneValidatorPerEpoch => "GOV_ONE_VALIDATOR_PER_EPOCH",
            ExecErrorCode::CertificateRevoked => "CERTIFICATE_REVOKED",
            ExecErrorCode::CertificateExpired => "CERTIFICATE_EXPIRED",
            ExecErrorCode::AssetUnknown => "ASSET_UNKNOWN",
            ExecErrorCode::AssetNotIssuer => "ASSET_NOT_ISSUER",
            ExecErrorCode::AssetMaxSupply => "ASSET_MAX_SUPPLY",
            ExecErrorCode::AssetNotMintable => "ASSET_NOT_MINTABLE",
            ExecErrorCode::AssetNotBurnable => "ASSET_NOT_BURNABLE",
            ExecErrorCode::AssetNotFreezable => "ASSET_NOT_FREEZABLE",
            ExecErrorCode::AssetHolderFrozen => "ASSET_HOLDER_FROZEN",
            ExecErrorCode::AssetNotListed => "ASSET_NOT_LISTED",
            ExecErrorCode::AssetAllowanceExceeded => "ASSET_ALLOWANCE_EXCEEDED",
            ExecErrorCode::AssetInsufficientBalance => "ASSET_INSUFFICIENT_BALANCE",
            ExecErrorCode::AssetInvalid => "ASSET_INVALID",
            ExecErrorCode::NftUnknownCollection => "NFT_UNKNOWN_COLLECTION",
            ExecErrorCode::NftUnknownToken => "NFT_UNKNOWN_TOKEN",
            ExecErrorCode::NftNotIssuer => "NFT_NOT_ISSUER",
            ExecErrorCode::NftMaxSupply => "NFT_MAX_SUPPLY",
            ExecErrorCode::NftTokenExists => "NFT_TOKEN_EXISTS",
            ExecErrorCode::NftNotOwner => "NFT_NOT_OWNER",
            ExecErrorCode::NftBurned => "NFT_BURNED",
            ExecErrorCode::NftEvidenceUnknown => "NFT_EVIDENCE_UNKNOWN",
            ExecErrorCode::NftInvalid => "NFT_INVALID",
            ExecErrorCode::DidExists => "DID_EXISTS",
            ExecErrorCode::DidUnknown => "DID_UNKNOWN",
            ExecErrorCode::DidNotController => "DID_NOT_CONTROLLER",
            ExecErrorCode::DidDeactivated => "DID_DEACTIVATED",
            ExecErrorCode::DidInvalid => "DID_INVALID",
            ExecErrorCode::DidStale => "DID_STALE",
            ExecErrorCode::DidLimit => "DID_LIMIT",
        }
    }
}

/// A structured event emitted by a module.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Event {
    /// Emitting module, e.g. `token`, `evidence`.
    pub module: String,
    /// Event name, e.g. `Transfer`.
    pub name: String,
    /// Ordered key/value attributes (values rendered as text: hex for hashes/addresses).
    pub attributes: Vec<(String, String)>,
}

/// Outcome of one transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Receipt {
    /// The transaction.
    pub tx_hash: Hash,
    /// Success or failure.
    pub status: TxStatus,
    /// Gas charged.
    pub gas_used: u64,
    /// Fee charged (gas used × gas price).
    pub fee: u128,
    /// Events (empty on failure).
    pub events: Vec<Event>,
    /// Failure reason.
    pub error: Option<(ExecErrorCode, String)>,
    /// Module output (e.g. an evidence record id), empty if none.
    pub output: Vec<u8>,
}
