//! Asset records, holdings and allowances: reads over any state view, and writes that delete a
//! record once it holds nothing (so an emptied holding leaves no trace in the state tree).

use crate::ExecutionError;
use crate::context::read_value as read;
use crate::keys::{self, StateKey};
use crate::modules::{ModResult, refuse};
use crate::overlay::{Overlay, StateView};
use borsh::{BorshDeserialize, BorshSerialize};
use keel_crypto::HashAlgorithm;
use keel_types::{Address, ExecErrorCode, Hash, codec};

/// A fungible asset.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AssetInfo {
    /// Id: hash of the issuing transaction.
    pub id: Hash,
    /// Name.
    pub name: String,
    /// Ticker symbol.
    pub symbol: String,
    /// Decimals (display only).
    pub decimals: u8,
    /// Supply ceiling.
    pub max_supply: u128,
    /// Current supply: minted minus burned; always the sum of all holdings.
    pub supply: u128,
    /// Holder of the issuer role.
    pub issuer: Address,
    /// The issuer may mint.
    pub mintable: bool,
    /// Holders may burn their own balance.
    pub burnable: bool,
    /// The issuer may freeze holders.
    pub freezable: bool,
    /// Only listed holders (and the issuer) may send and receive.
    pub has_holder_list: bool,
    /// Height of the issuing block.
    pub created_height: u64,
}

impl AssetInfo {
    /// May `a` send and receive this asset as far as the white list goes?
    pub fn admits(&self, a: &Address, h: &Holding) -> bool {
        !self.has_holder_list || h.listed || *a == self.issuer
    }
}

/// A holder's position in one asset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Holding {
    /// Balance in the smallest unit.
    pub balance: u128,
    /// Frozen by the issuer: can neither send, receive, approve nor burn.
    pub frozen: bool,
    /// On the asset's white list.
    pub listed: bool,
}

/// An asset's record, if it exists.
pub fn asset_info(
    view: &dyn StateView,
    alg: HashAlgorithm,
    id: &Hash,
) -> Result<Option<AssetInfo>, ExecutionError> {
    read(view, "asset", &keys::asset(alg, id))
}

/// A holder's position (default if it holds nothing).
pub fn holding(
    view: &dyn StateView,
    alg: HashAlgorithm,
    id: &Hash,
    holder: &Address,
) -> Result<Holding, ExecutionError> {
    let key = keys::asset_holding(alg, id, holder);
    Ok(read(view, "asset holding", &key)?.unwrap_or_default())
}

/// How much `spender` may still move from `owner`'s balance.
pub fn allowance(
    view: &dyn StateView,
    alg: HashAlgorithm,
    id: &Hash,
    owner: &Address,
    spender: &Address,
) -> Result<u128, ExecutionError> {
    let key = keys::asset_allowance(alg, id, owner, spender);
    Ok(read(view, "asset allowance", &key)?.unwrap_or(0))
}

/// The asset, or `ASSET_UNKNOWN`.
pub(super) fn load(ov: &Overlay<'_>, alg: HashAlgorithm, id: &Hash) -> ModResult<AssetInfo> {
    match asset_info(ov, alg, id)? {
        Some(a) => Ok(a),
        None => refuse(ExecErrorCode::AssetUnknown, format!("no asset {id}")),
    }
}

pub(super) fn put_info(ov: &mut Overlay<'_>, alg: HashAlgorithm, info: &AssetInfo) {
    ov.put(keys::asset(alg, &info.id), codec::encode(info));
}

pub(super) fn put_holding(
    ov: &mut Overlay<'_>,
    alg: HashAlgorithm,
    id: &Hash,
    holder: &Address,
    h: &Holding,
) -> ModResult<()> {
    let key = keys::asset_holding(alg, id, holder);
    let value = (*h != Holding::default()).then(|| codec::encode(h));
    put_or_delete(ov, key, value)
}

pub(super) fn put_allowance(
    ov: &mut Overlay<'_>,
    alg: HashAlgorithm,
    id: &Hash,
    (owner, spender): (&Address, &Address),
    amount: u128,
) -> ModResult<()> {
    let key = keys::asset_allowance(alg, id, owner, spender);
    put_or_delete(ov, key, (amount != 0).then(|| codec::encode(&amount)))
}

/// Write `value`, or delete the key when `None` — only if it exists, so that an operation that
/// leaves a never-written record empty writes nothing at all.
fn put_or_delete(ov: &mut Overlay<'_>, key: StateKey, value: Option<Vec<u8>>) -> ModResult<()> {
    match value {
        Some(v) => ov.put(key, v),
        None if ov.get(&key)?.is_some() => ov.set(key, None),
        None => {}
    }
    Ok(())
}
