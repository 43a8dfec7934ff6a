//! Native fungible assets (issue 15): the `Payload::Asset` operations and their field limits.
//!
//! An asset is identified by the hash of the transaction that issued it. Amounts are in the
//! asset's smallest unit (`decimals` only tells wallets where to put the point).

use crate::tx::GAS_PER_STORED_BYTE;
use crate::{Address, Hash};
use borsh::{BorshDeserialize, BorshSerialize};

/// Longest asset name, bytes (UTF-8, no control characters, not empty).
pub const MAX_ASSET_NAME_BYTES: usize = 64;
/// Longest asset symbol, bytes (ASCII letters and digits, not empty).
pub const MAX_ASSET_SYMBOL_BYTES: usize = 16;
/// Most decimals an asset may declare (as ERC-20 tokens commonly do).
pub const MAX_ASSET_DECIMALS: u8 = 18;
/// Most addresses in the holder white list given at issuance.
pub const MAX_ASSET_HOLDER_LIST: usize = 256;
/// Base gas of an issuance, plus `GAS_PER_STORED_BYTE` (16) per stored byte of name, symbol
/// and white list.
pub const GAS_ASSET_ISSUE: u64 = 60_000;
/// Gas of every other asset operation.
pub const GAS_ASSET_OP: u64 = 30_000;

/// Issue a new fungible asset. Its id is the issuing transaction's hash.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AssetIssue {
    /// Name (at most [`MAX_ASSET_NAME_BYTES`]).
    pub name: String,
    /// Ticker symbol (at most [`MAX_ASSET_SYMBOL_BYTES`], ASCII alphanumeric).
    pub symbol: String,
    /// Decimals (at most [`MAX_ASSET_DECIMALS`]).
    pub decimals: u8,
    /// Supply can never exceed this (≥ 1).
    pub max_supply: u128,
    /// Minted to the issuer at issuance (≤ `max_supply`); the whole supply if not mintable.
    pub initial_supply: u128,
    /// Who holds the issuer role (mints, freezes, manages the white list, hands the role on).
    pub issuer: Address,
    /// The issuer may mint after issuance.
    pub mintable: bool,
    /// Holders may burn their own balance.
    pub burnable: bool,
    /// The issuer may freeze a holder.
    pub freezable: bool,
    /// `Some`: only listed holders (and the issuer) may receive and send the asset.
    pub holder_list: Option<Vec<Address>>,
}

/// An asset operation.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum AssetOp {
    /// Issue a new asset.
    Issue(AssetIssue),
    /// Issuer only: create `amount` for `to` (within the max supply).
    Mint {
        /// Asset id.
        asset: Hash,
        /// Recipient.
        to: Address,
        /// Amount.
        amount: u128,
    },
    /// Destroy `amount` of the sender's own balance (burnable assets).
    Burn {
        /// Asset id.
        asset: Hash,
        /// Amount.
        amount: u128,
    },
    /// Move `amount` from the sender to `to`.
    Transfer {
        /// Asset id.
        asset: Hash,
        /// Recipient.
        to: Address,
        /// Amount.
        amount: u128,
    },
    /// Let `spender` move up to `amount` of the sender's balance (replaces any previous amount).
    Approve {
        /// Asset id.
        asset: Hash,
        /// Who may spend.
        spender: Address,
        /// Allowance.
        amount: u128,
    },
    /// As an approved spender, move `amount` from `from` to `to` (uses the allowance).
    TransferFrom {
        /// Asset id.
        asset: Hash,
        /// Owner of the balance.
        from: Address,
        /// Recipient.
        to: Address,
        /// Amount.
        amount: u128,
    },
    /// Issuer only, freezable assets: `holder` can neither send, receive nor burn.
    Freeze {
        /// Asset id.
        asset: Hash,
        /// Holder.
        holder: Address,
    },
    /// Issuer only: lift a freeze.
    Unfreeze {
        /// Asset id.
        asset: Hash,
        /// Holder.
        holder: Address,
    },
    /// Issuer only, assets with a white list: add (`true`) or remove a holder.
    SetListed {
        /// Asset id.
        asset: Hash,
        /// Holder.
        holder: Address,
        /// On the list or not.
        listed: bool,
    },
    /// Issuer only: hand the issuer role to `issuer`.
    SetIssuer {
        /// Asset id.
        asset: Hash,
        /// New issuer.
        issuer: Address,
    },
}

impl AssetOp {
    /// Stable lower-case name.
    pub fn name(&self) -> &'static str {
        match self {
            AssetOp::Issue(_) => "issue",
            AssetOp::Mint { .. } => "mint",
            AssetOp::Burn { .. } => "burn",
            AssetOp::Transfer { .. } => "transfer",
            AssetOp::Approve { .. } => "approve",
            AssetOp::TransferFrom { .. } => "transfer_from",
            AssetOp::Freeze { .. } => "freeze",
            AssetOp::Unfreeze { .. } => "unfreeze",
            AssetOp::SetListed { .. } => "set_listed",
            AssetOp::SetIssuer { .. } => "set_issuer",
        }
    }

    /// The governance operation whose policy applies: issuance, the issuer's administration,
    /// or a holder's movement of balance.
    pub fn operation(&self) -> crate::Operation {
        use crate::Operation;
        match self {
            AssetOp::Issue(_) => Operation::AssetIssue,
            AssetOp::Mint { .. }
            | AssetOp::Freeze { .. }
            | AssetOp::Unfreeze { .. }
            | AssetOp::SetListed { .. }
            | AssetOp::SetIssuer { .. } => Operation::AssetAdmin,
            AssetOp::Burn { .. }
            | AssetOp::Transfer { .. }
            | AssetOp::Approve { .. }
            | AssetOp::TransferFrom { .. } => Operation::AssetTransfer,
        }
    }

    /// Gas the operation uses.
    pub fn gas(&self) -> u64 {
        match self {
            AssetOp::Issue(i) => {
                let listed = i.holder_list.as_ref().map_or(0, Vec::len);
                let stored = i.name.len() + i.symbol.len() + 20 * listed;
                GAS_ASSET_ISSUE + GAS_PER_STORED_BYTE * stored as u64
            }
            _ => GAS_ASSET_OP,
        }
    }

    /// Field limits, checked at admission, in block validation and again in execution.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let AssetOp::Issue(i) = self else {
            return Ok(());
        };
        if i.name.is_empty() || i.name.len() > MAX_ASSET_NAME_BYTES {
            return Err(("name", format!("must be 1 to {MAX_ASSET_NAME_BYTES} bytes")));
        }
        if i.name.chars().any(char::is_control) {
            return Err(("name", "must not contain control characters".into()));
        }
        let symbol_ok = i.symbol.bytes().all(|b| b.is_ascii_alphanumeric());
        if i.symbol.is_empty() || i.symbol.len() > MAX_ASSET_SYMBOL_BYTES || !symbol_ok {
            return Err((
                "symbol",
                format!("must be 1 to {MAX_ASSET_SYMBOL_BYTES} ASCII letters or digits"),
            ));
        }
        if i.decimals > MAX_ASSET_DECIMALS {
            return Err(("decimals", format!("over {MAX_ASSET_DECIMALS}")));
        }
        if i.max_supply == 0 {
            return Err(("max_supply", "must be at least 1".into()));
        }
        if i.initial_supply > i.max_supply {
            return Err(("initial_supply", "above max_supply".into()));
        }
        match &i.holder_list {
            Some(l) if l.len() > MAX_ASSET_HOLDER_LIST => Err((
                "holder_list",
                format!("over {MAX_ASSET_HOLDER_LIST} addresses"),
            )),
            _ => Ok(()),
        }
    }
}
