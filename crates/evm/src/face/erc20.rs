//! The ERC-20 face of a native fungible asset: `name`, `symbol`, `decimals`, `totalSupply`,
//! `balanceOf`, `allowance`, `transfer`, `approve`, `transferFrom`, with the `Transfer` and
//! `Approval` events. Same rules as the native module (`keel_execution::assets`): the asset
//! must exist, frozen holders neither send, receive nor approve, white-listed assets admit
//! only listed holders and the issuer, and the `asset_transfer` policy applies to the caller
//! (`msg.sender`). A refusal reverts with `Error(string)` naming the native error code.

use super::abi::{
    Res, Stop, abi_string, address, args_n, charge, fatal, finish, frame_ok, keel, no_args, refuse,
    selector, word,
};
use super::call::FaceCall;
use super::{SlotKind, holding_word, word_holding};
use alloy_primitives::{Address as EthAddress, B256, Log, U256, b256};
use keel_execution::assets::{AssetInfo, Holding, asset_info};
use keel_execution::keys;
use keel_types::{Address, ExecErrorCode, Operation};
use revm::context_interface::{ContextTr, JournalTr};
use revm::interpreter::{CallInputs, InterpreterResult};

/// Gas of a read (`name` … `allowance`).
pub const READ_GAS: u64 = 2_600;
/// Gas of a write (`transfer`, `approve`, `transferFrom`): the native operation's gas.
pub const WRITE_GAS: u64 = keel_types::GAS_ASSET_OP;

/// `keccak256("Transfer(address,address,uint256)")`.
pub const TRANSFER_TOPIC: B256 =
    b256!("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
/// `keccak256("Approval(address,address,uint256)")`.
pub const APPROVAL_TOPIC: B256 =
    b256!("0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925");

/// Function selectors (`keccak256(signature)[..4]`).
pub mod sel {
    /// `name()`
    pub const NAME: [u8; 4] = [0x06, 0xfd, 0xde, 0x03];
    /// `symbol()`
    pub const SYMBOL: [u8; 4] = [0x95, 0xd8, 0x9b, 0x41];
    /// `decimals()`
    pub const DECIMALS: [u8; 4] = [0x31, 0x3c, 0xe5, 0x67];
    /// `totalSupply()`
    pub const TOTAL_SUPPLY: [u8; 4] = [0x18, 0x16, 0x0d, 0xdd];
    /// `balanceOf(address)`
    pub const BALANCE_OF: [u8; 4] = [0x70, 0xa0, 0x82, 0x31];
    /// `allowance(address,address)`
    pub const ALLOWANCE: [u8; 4] = [0xdd, 0x62, 0xed, 0x3e];
    /// `transfer(address,uint256)`
    pub const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
    /// `approve(address,uint256)`
    pub const APPROVE: [u8; 4] = [0x09, 0x5e, 0xa7, 0xb3];
    /// `transferFrom(address,address,uint256)`
    pub const TRANSFER_FROM: [u8; 4] = [0x23, 0xb8, 0x72, 0xdd];
}

/// One call of an asset's face.
#[derive(Debug)]
pub struct Erc20<'a>(pub FaceCall<'a>);

impl<'a> std::ops::Deref for Erc20<'a> {
    type Target = FaceCall<'a>;
    fn deref(&self) -> &FaceCall<'a> {
        &self.0
    }
}

impl Erc20<'_> {
    /// Run one call; `Err` only for operating errors.
    pub fn run<CTX: ContextTr>(
        &self,
        ctx: &mut CTX,
        inputs: &CallInputs,
    ) -> Result<InterpreterResult, String> {
        let input = inputs.input.as_bytes(ctx).to_vec();
        let write = input.len() >= 4
            && [sel::TRANSFER, sel::APPROVE, sel::TRANSFER_FROM].contains(&selector(&input));
        let gas = match charge(inputs.gas_limit, if write { WRITE_GAS } else { READ_GAS }) {
            Ok(gas) => gas,
            Err(oog) => return Ok(oog),
        };
        finish(self.dispatch(ctx, inputs, &input, write), gas)
    }

    fn dispatch<CTX: ContextTr>(
        &self,
        ctx: &mut CTX,
        inputs: &CallInputs,
        input: &[u8],
        write: bool,
    ) -> Res<Vec<u8>> {
        frame_ok(inputs, write)?;
        if input.len() < 4 {
            return Err(Stop::Malformed);
        }
        let info = match asset_info(self.view, self.alg, &self.id).map_err(fatal)? {
            Some(i) => i,
            None => return refuse(ExecErrorCode::AssetUnknown, self.id),
        };
        let args = &input[4..];
        let caller = inputs.caller;
        match selector(input) {
            sel::NAME => no_args(args).map(|()| abi_string(&info.name)),
            sel::SYMBOL => no_args(args).map(|()| abi_string(&info.symbol)),
            sel::DECIMALS => no_args(args).map(|()| word(U256::from(info.decimals))),
            sel::TOTAL_SUPPLY => no_args(args).map(|()| word(U256::from(info.supply))),
            sel::BALANCE_OF => {
                let [a] = args_n::<1>(args)?;
                let h = self.holding(ctx, &keel(address(a)?))?;
                Ok(word(U256::from(h.balance)))
            }
            sel::ALLOWANCE => {
                let [o, s] = args_n::<2>(args)?;
                Ok(word(U256::from(self.allowance(
                    ctx,
                    &keel(address(o)?),
                    &keel(address(s)?),
                )?)))
            }
            sel::TRANSFER => {
                let [to, amount] = args_n::<2>(args)?;
                self.permitted(&caller)?;
                let (to, amount) = (address(to)?, amount_of(amount)?);
                self.transfer(ctx, &info, (&caller, &to), amount)?;
                Ok(word(U256::from(1)))
            }
            sel::APPROVE => {
                let [spender, amount] = args_n::<2>(args)?;
                self.permitted(&caller)?;
                // `type(uint256).max` ("unlimited") is stored as the largest native amount.
                let amount = u128::try_from(U256::from_be_bytes(amount)).unwrap_or(u128::MAX);
                self.approve(ctx, &caller, &address(spender)?, amount)?;
                Ok(word(U256::from(1)))
            }
            sel::TRANSFER_FROM => {
                let [from, to, amount] = args_n::<3>(args)?;
                self.permitted(&caller)?;
                let (from, to, amount) = (address(from)?, address(to)?, amount_of(amount)?);
                self.transfer_from(ctx, &info, &caller, (&from, &to), amount)?;
                Ok(word(U256::from(1)))
            }
            _ => Err(Stop::Malformed),
        }
    }

    /// The `asset_transfer` policy applies to the caller as to a native sender.
    fn permitted(&self, caller: &EthAddress) -> Res<()> {
        self.permitted_as(&Address(caller.0.0), Operation::AssetTransfer)
    }

    fn holding_slot(&self, holder: &Address) -> U256 {
        let key = keys::asset_holding(self.alg, &self.id, holder);
        self.slot(key, SlotKind::Holding)
    }

    fn allowance_slot(&self, owner: &Address, spender: &Address) -> U256 {
        let key = keys::asset_allowance(self.alg, &self.id, owner, spender);
        self.slot(key, SlotKind::Allowance)
    }

    fn holding<CTX: ContextTr>(&self, ctx: &mut CTX, holder: &Address) -> Res<Holding> {
        let slot = self.holding_slot(holder);
        Ok(word_holding(self.sload(ctx, slot)?))
    }

    fn put_holding<CTX: ContextTr>(&self, ctx: &mut CTX, holder: &Address, h: &Holding) -> Res<()> {
        let slot = self.holding_slot(holder);
        self.sstore(ctx, slot, holding_word(h))
    }

    fn allowance<CTX: ContextTr>(&self, ctx: &mut CTX, o: &Address, s: &Address) -> Res<u128> {
        let slot = self.allowance_slot(o, s);
        Ok(u128::try_from(self.sload(ctx, slot)?).unwrap_or(u128::MAX))
    }

    fn put_allowance<CTX: ContextTr>(
        &self,
        ctx: &mut CTX,
        (o, s): (&Address, &Address),
        amount: u128,
    ) -> Res<()> {
        let slot = self.allowance_slot(o, s);
        self.sstore(ctx, slot, U256::from(amount))
    }

    /// The native module's rule: not frozen, and admitted by the white list.
    fn may_hold(&self, info: &AssetInfo, a: &Address, h: &Holding) -> Res<()> {
        if h.frozen {
            return refuse(ExecErrorCode::AssetHolderFrozen, format!("{a} is frozen"));
        }
        if !info.admits(a, h) {
            return refuse(ExecErrorCode::AssetNotListed, format!("{a} is not listed"));
        }
        Ok(())
    }

    fn transfer<CTX: ContextTr>(
        &self,
        ctx: &mut CTX,
        info: &AssetInfo,
        (from, to): (&EthAddress, &EthAddress),
        amount: u128,
    ) -> Res<()> {
        let (f, t) = (Address(from.0.0), Address(to.0.0));
        let mut src = self.holding(ctx, &f)?;
        let mut dst = self.holding(ctx, &t)?;
        self.may_hold(info, &f, &src)?;
        self.may_hold(info, &t, &dst)?;
        if src.balance < amount {
            return refuse(
                ExecErrorCode::AssetInsufficientBalance,
                format!("{f} holds {}, less than {amount}", src.balance),
            );
        }
        if f != t {
            let Some(credited) = dst.balance.checked_add(amount) else {
                return refuse(ExecErrorCode::Overflow, format!("the balance of {t}"));
            };
            dst.balance = credited;
            src.balance -= amount;
            self.put_holding(ctx, &f, &src)?;
            self.put_holding(ctx, &t, &dst)?;
        }
        self.log(ctx, TRANSFER_TOPIC, (from, to), amount);
        Ok(())
    }

    fn approve<CTX: ContextTr>(
        &self,
        ctx: &mut CTX,
        owner: &EthAddress,
        spender: &EthAddress,
        amount: u128,
    ) -> Res<()> {
        let (o, s) = (Address(owner.0.0), Address(spender.0.0));
        if self.holding(ctx, &o)?.frozen {
            return refuse(ExecErrorCode::AssetHolderFrozen, format!("{o} is frozen"));
        }
        self.put_allowance(ctx, (&o, &s), amount)?;
        self.log(ctx, APPROVAL_TOPIC, (owner, spender), amount);
        Ok(())
    }

    fn transfer_from<CTX: ContextTr>(
        &self,
        ctx: &mut CTX,
        info: &AssetInfo,
        spender: &EthAddress,
        (from, to): (&EthAddress, &EthAddress),
        amount: u128,
    ) -> Res<()> {
        let (s, f) = (Address(spender.0.0), Address(from.0.0));
        if self.holding(ctx, &s)?.frozen {
            return refuse(ExecErrorCode::AssetHolderFrozen, format!("{s} is frozen"));
        }
        let allowed = self.allowance(ctx, &f, &s)?;
        if allowed < amount {
            return refuse(
                ExecErrorCode::AssetAllowanceExceeded,
                format!("{s} may move {allowed} of {f}'s balance, less than {amount}"),
            );
        }
        self.transfer(ctx, info, (from, to), amount)?;
        self.put_allowance(ctx, (&f, &s), allowed - amount)
    }

    fn log<CTX: ContextTr>(
        &self,
        ctx: &mut CTX,
        topic: B256,
        (a, b): (&EthAddress, &EthAddress),
        amount: u128,
    ) {
        let topics = vec![topic, a.into_word(), b.into_word()];
        let data = U256::from(amount).to_be_bytes::<32>().to_vec();
        ctx.journal_mut()
            .log(Log::new_unchecked(self.face, topics, data.into()));
    }
}

/// An amount: native amounts are u128, so anything larger cannot be held.
fn amount_of(w: [u8; 32]) -> Res<u128> {
    u128::try_from(U256::from_be_bytes(w)).or_else(|_| {
        refuse(
            ExecErrorCode::AssetInsufficientBalance,
            "amount above 2^128 - 1",
        )
    })
}
