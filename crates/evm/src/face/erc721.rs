//! The ERC-721 face of a native NFT collection: `name`, `symbol`, `totalSupply`, `balanceOf`,
//! `ownerOf`, `getApproved`, `tokenURI`, `approve`, `transferFrom`, `supportsInterface`, with
//! the `Transfer` and `Approval` events. Same rules as `keel_execution::nft`: the token exists
//! and is not burned, `from` is its owner, the caller is the owner or (for a transfer) the
//! approved spender, the `nft_transfer` policy applies to `msg.sender`; a transfer appends a
//! provenance step at the block's height and clears the approval. Not offered:
//! `safeTransferFrom` (it would call back into the EVM) and operators
//! (`setApprovalForAll`/`isApprovedForAll`), so `supportsInterface` claims ERC-165 and
//! ERC-721 Metadata but not the full ERC-721 interface id.

use super::SlotKind;
use super::abi::{
    Res, Stop, abi_string, address, args_n, charge, fatal, finish, frame_ok, keel, no_args, refuse,
    selector, word,
};
use super::call::FaceCall;
use super::words::{address_word, state_word, step_word, word_address, word_state};
use crate::face::erc20::{APPROVAL_TOPIC, TRANSFER_TOPIC};
use alloy_primitives::{Address as EthAddress, B256, Log, U256};
use keel_execution::keys;
use keel_execution::nft::{CollectionInfo, Step, TokenState, collection_info, token_info};
use keel_types::{Address, ExecErrorCode, MAX_NFT_PROVENANCE, Operation};
use revm::context_interface::{Block, ContextTr, JournalTr};
use revm::interpreter::{CallInputs, InterpreterResult};

/// Gas of a read.
pub const READ_GAS: u64 = 2_600;
/// Gas of a write (`approve`, `transferFrom`): the native operation's gas.
pub const WRITE_GAS: u64 = keel_types::GAS_NFT_OP;

/// Function selectors (`keccak256(signature)[..4]`).
pub mod sel {
    /// `name()`
    pub const NAME: [u8; 4] = [0x06, 0xfd, 0xde, 0x03];
    /// `symbol()`
    pub const SYMBOL: [u8; 4] = [0x95, 0xd8, 0x9b, 0x41];
    /// `totalSupply()`
    pub const TOTAL_SUPPLY: [u8; 4] = [0x18, 0x16, 0x0d, 0xdd];
    /// `balanceOf(address)`
    pub const BALANCE_OF: [u8; 4] = [0x70, 0xa0, 0x82, 0x31];
    /// `ownerOf(uint256)`
    pub const OWNER_OF: [u8; 4] = [0x63, 0x52, 0x21, 0x1e];
    /// `getApproved(uint256)`
    pub const GET_APPROVED: [u8; 4] = [0x08, 0x18, 0x12, 0xfc];
    /// `tokenURI(uint256)`
    pub const TOKEN_URI: [u8; 4] = [0xc8, 0x7b, 0x56, 0xdd];
    /// `approve(address,uint256)`
    pub const APPROVE: [u8; 4] = [0x09, 0x5e, 0xa7, 0xb3];
    /// `transferFrom(address,address,uint256)`
    pub const TRANSFER_FROM: [u8; 4] = [0x23, 0xb8, 0x72, 0xdd];
    /// `supportsInterface(bytes4)`
    pub const SUPPORTS_INTERFACE: [u8; 4] = [0x01, 0xff, 0xc9, 0xa7];
}

/// Interface ids `supportsInterface` answers true for: ERC-165, ERC-721 Metadata.
pub const INTERFACES: [[u8; 4]; 2] = [[0x01, 0xff, 0xc9, 0xa7], [0x5b, 0x5e, 0x13, 0x9f]];

/// One call of a collection's face.
#[derive(Debug)]
pub struct Erc721<'a>(pub FaceCall<'a>);

impl<'a> std::ops::Deref for Erc721<'a> {
    type Target = FaceCall<'a>;
    fn deref(&self) -> &FaceCall<'a> {
        &self.0
    }
}

/// A token id word: native ids are u64, so a larger one names no token.
fn token_of(w: [u8; 32]) -> Res<u64> {
    u64::try_from(U256::from_be_bytes(w))
        .or_else(|_| refuse(ExecErrorCode::NftUnknownToken, "token id above 2^64 - 1"))
}

impl Erc721<'_> {
    /// Run one call; `Err` only for operating errors.
    pub fn run<CTX: ContextTr>(
        &self,
        ctx: &mut CTX,
        inputs: &CallInputs,
    ) -> Result<InterpreterResult, String> {
        let input = inputs.input.as_bytes(ctx).to_vec();
        let write =
            input.len() >= 4 && [sel::APPROVE, sel::TRANSFER_FROM].contains(&selector(&input));
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
        let info: CollectionInfo = match collection_info(self.view, self.alg, &self.id) {
            Ok(Some(i)) => i,
            Ok(None) => return refuse(ExecErrorCode::NftUnknownCollection, self.id),
            Err(e) => return Err(fatal(e)),
        };
        let args = &input[4..];
        let caller = keel(inputs.caller);
        match selector(input) {
            sel::NAME => no_args(args).map(|()| abi_string(&info.name)),
            sel::SYMBOL => no_args(args).map(|()| abi_string(&info.symbol)),
            sel::TOTAL_SUPPLY => {
                no_args(args).map(|()| word(U256::from(info.minted - info.burned)))
            }
            sel::BALANCE_OF => {
                let [a] = args_n::<1>(args)?;
                let n = self.balance(ctx, &keel(address(a)?))?;
                Ok(word(U256::from(n)))
            }
            sel::OWNER_OF => {
                let [t] = args_n::<1>(args)?;
                let st = self.live(ctx, token_of(t)?)?;
                Ok(word(address_word(&st.owner)))
            }
            sel::GET_APPROVED => {
                let [t] = args_n::<1>(args)?;
                let token = token_of(t)?;
                self.live(ctx, token)?;
                Ok(word(address_word(&self.approved(ctx, token)?)))
            }
            sel::TOKEN_URI => {
                let [t] = args_n::<1>(args)?;
                let token = token_of(t)?;
                self.live(ctx, token)?;
                match token_info(self.view, self.alg, &self.id, token).map_err(fatal)? {
                    Some(t) => Ok(abi_string(&t.metadata.uri)),
                    None => refuse(ExecErrorCode::NftUnknownToken, token),
                }
            }
            sel::SUPPORTS_INTERFACE => {
                let [w] = args_n::<1>(args)?;
                if w[4..].iter().any(|b| *b != 0) {
                    return Err(Stop::Malformed);
                }
                let yes = INTERFACES.iter().any(|i| i[..] == w[..4]);
                Ok(word(U256::from(u8::from(yes))))
            }
            sel::APPROVE => {
                let [to, t] = args_n::<2>(args)?;
                self.permitted(&caller)?;
                self.approve(ctx, &caller, &keel(address(to)?), token_of(t)?)?;
                Ok(vec![])
            }
            sel::TRANSFER_FROM => {
                let [from, to, t] = args_n::<3>(args)?;
                self.permitted(&caller)?;
                let (from, to) = (keel(address(from)?), keel(address(to)?));
                self.transfer_from(ctx, &caller, (&from, &to), token_of(t)?)?;
                Ok(vec![])
            }
            _ => Err(Stop::Malformed),
        }
    }

    /// The `nft_transfer` policy applies to the caller as to a native sender.
    fn permitted(&self, caller: &Address) -> Res<()> {
        self.permitted_as(caller, Operation::NftTransfer)
    }

    fn balance<CTX: ContextTr>(&self, ctx: &mut CTX, owner: &Address) -> Res<u64> {
        let slot = self.slot(
            keys::nft_balance(self.alg, &self.id, owner),
            SlotKind::NftBalance,
        );
        Ok(u64::try_from(self.sload(ctx, slot)?).unwrap_or(u64::MAX))
    }

    fn add_balance<CTX: ContextTr>(&self, ctx: &mut CTX, owner: &Address, up: bool) -> Res<()> {
        let n = self.balance(ctx, owner)?;
        let n = if up {
            n.saturating_add(1)
        } else {
            n.saturating_sub(1)
        };
        let slot = self.slot(
            keys::nft_balance(self.alg, &self.id, owner),
            SlotKind::NftBalance,
        );
        self.sstore(ctx, slot, U256::from(n))
    }

    fn state_slot(&self, token: u64) -> U256 {
        self.slot(
            keys::nft_owner(self.alg, &self.id, token),
            SlotKind::NftState,
        )
    }

    /// A minted, unburned token's state, or `NFT_UNKNOWN_TOKEN` / `NFT_BURNED`.
    fn live<CTX: ContextTr>(&self, ctx: &mut CTX, token: u64) -> Res<TokenState> {
        let slot = self.state_slot(token);
        let st = word_state(self.sload(ctx, slot)?);
        if st.provenance_len == 0 {
            return refuse(ExecErrorCode::NftUnknownToken, format!("no token {token}"));
        }
        if st.burned {
            return refuse(
                ExecErrorCode::NftBurned,
                format!("token {token} was burned"),
            );
        }
        Ok(st)
    }

    fn approved_slot(&self, token: u64) -> U256 {
        self.slot(
            keys::nft_approved(self.alg, &self.id, token),
            SlotKind::NftApproved,
        )
    }

    fn approved<CTX: ContextTr>(&self, ctx: &mut CTX, token: u64) -> Res<Address> {
        let slot = self.approved_slot(token);
        Ok(word_address(self.sload(ctx, slot)?))
    }

    fn approve<CTX: ContextTr>(
        &self,
        ctx: &mut CTX,
        caller: &Address,
        to: &Address,
        token: u64,
    ) -> Res<()> {
        let st = self.live(ctx, token)?;
        if st.owner != *caller {
            return refuse(
                ExecErrorCode::NftNotOwner,
                format!("{caller} may not approve a spender for token {token}: not its owner"),
            );
        }
        let slot = self.approved_slot(token);
        self.sstore(ctx, slot, address_word(to))?;
        self.log(ctx, APPROVAL_TOPIC, (&st.owner, to), token);
        Ok(())
    }

    fn transfer_from<CTX: ContextTr>(
        &self,
        ctx: &mut CTX,
        caller: &Address,
        (from, to): (&Address, &Address),
        token: u64,
    ) -> Res<()> {
        if *to == Address::ZERO {
            return refuse(ExecErrorCode::NftInvalid, "transfer to the zero address");
        }
        let mut st = self.live(ctx, token)?;
        if st.owner != *from {
            return refuse(
                ExecErrorCode::NftNotOwner,
                format!("token {token} is owned by {}, not {from}", st.owner),
            );
        }
        let approved = self.approved(ctx, token)?;
        if *caller != st.owner && (approved != *caller || approved == Address::ZERO) {
            return refuse(
                ExecErrorCode::NftNotOwner,
                format!("{caller} may not transfer token {token}"),
            );
        }
        let height = u64::try_from(ctx.block().number()).unwrap_or(u64::MAX);
        let step = Step {
            owner: *to,
            height,
            burned: false,
        };
        let step_key = keys::nft_provenance(
            self.alg,
            &self.id,
            token,
            st.provenance_len % MAX_NFT_PROVENANCE,
        );
        let step_slot = self.slot(step_key, SlotKind::NftStep);
        self.sstore(ctx, step_slot, step_word(&step))?;
        st.owner = *to;
        st.provenance_len += 1;
        let slot = self.state_slot(token);
        self.sstore(ctx, slot, state_word(&st))?;
        if approved != Address::ZERO {
            let slot = self.approved_slot(token);
            self.sstore(ctx, slot, U256::ZERO)?;
        }
        if from != to {
            self.add_balance(ctx, from, false)?;
            self.add_balance(ctx, to, true)?;
        }
        self.log(ctx, TRANSFER_TOPIC, (from, to), token);
        Ok(())
    }

    fn log<CTX: ContextTr>(
        &self,
        ctx: &mut CTX,
        topic: B256,
        (a, b): (&Address, &Address),
        t: u64,
    ) {
        let word_of = |x: &Address| EthAddress::from(x.0).into_word();
        let topics = vec![topic, word_of(a), word_of(b), B256::from(U256::from(t))];
        ctx.journal_mut()
            .log(Log::new_unchecked(self.face, topics, Default::default()));
    }
}
