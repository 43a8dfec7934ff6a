//! Native records packed into one EVM storage word and back (the face slots of
//! [`super::SlotKind`]).

use super::SlotKind;
use alloy_primitives::U256;
use keel_execution::assets::Holding;
use keel_execution::nft::{Step, TokenState};
use keel_types::{Address, CodecError, codec};

/// A holding as a storage word.
pub fn holding_word(h: &Holding) -> U256 {
    let mut w = U256::from(h.balance);
    w.set_bit(128, h.frozen);
    w.set_bit(129, h.listed);
    w
}

/// A storage word as a holding (bits above 129 are never written).
pub fn word_holding(w: U256) -> Holding {
    Holding {
        balance: low_u128(w),
        frozen: w.bit(128),
        listed: w.bit(129),
    }
}

pub(super) fn low_u128(w: U256) -> u128 {
    let limbs = w.as_limbs();
    u128::from(limbs[0]) | (u128::from(limbs[1]) << 64)
}

/// Owner in bytes 12..32, a u64 in bytes 4..12, a flag in byte 3.
fn pack(owner: &Address, n: u64, flag: bool) -> U256 {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&owner.0);
    w[4..12].copy_from_slice(&n.to_be_bytes());
    w[3] = u8::from(flag);
    U256::from_be_bytes(w)
}

fn unpack(w: U256) -> (Address, u64, bool) {
    let b = w.to_be_bytes::<32>();
    let mut owner = [0u8; 20];
    owner.copy_from_slice(&b[12..]);
    let mut n = [0u8; 8];
    n.copy_from_slice(&b[4..12]);
    (Address(owner), u64::from_be_bytes(n), b[3] != 0)
}

/// A stored record as a word.
pub(super) fn to_word(kind: SlotKind, bytes: &[u8]) -> Result<U256, CodecError> {
    Ok(match kind {
        SlotKind::Holding => holding_word(&codec::decode::<Holding>("holding", bytes, 64)?),
        SlotKind::Allowance => U256::from(codec::decode::<u128>("allowance", bytes, 16)?),
        SlotKind::NftState => {
            let t: TokenState = codec::decode("nft owner", bytes, 64)?;
            pack(&t.owner, t.provenance_len, t.burned)
        }
        SlotKind::NftApproved => {
            let a: Address = codec::decode("nft approval", bytes, 20)?;
            pack(&a, 0, false)
        }
        SlotKind::NftBalance => U256::from(codec::decode::<u64>("nft balance", bytes, 8)?),
        SlotKind::NftStep => {
            let s: Step = codec::decode("nft provenance", bytes, 64)?;
            pack(&s.owner, s.height, s.burned)
        }
    })
}

/// A word as the stored record (`None`: delete — an empty holding, a zero allowance or count,
/// no approval).
pub(super) fn from_word(kind: SlotKind, w: U256) -> Option<Vec<u8>> {
    match kind {
        SlotKind::Holding => {
            let h = word_holding(w);
            (h != Holding::default()).then(|| codec::encode(&h))
        }
        SlotKind::Allowance | SlotKind::NftBalance => {
            let n = low_u128(w);
            match kind {
                SlotKind::NftBalance => (n != 0).then(|| codec::encode(&(n as u64))),
                _ => (n != 0).then(|| codec::encode(&n)),
            }
        }
        SlotKind::NftState => {
            let (owner, provenance_len, burned) = unpack(w);
            Some(codec::encode(&TokenState {
                owner,
                burned,
                provenance_len,
            }))
        }
        SlotKind::NftApproved => {
            let (a, _, _) = unpack(w);
            (a != Address::ZERO).then(|| codec::encode(&a))
        }
        SlotKind::NftStep => {
            let (owner, height, burned) = unpack(w);
            Some(codec::encode(&Step {
                owner,
                height,
                burned,
            }))
        }
    }
}

/// A token state as a word.
pub fn state_word(t: &TokenState) -> U256 {
    pack(&t.owner, t.provenance_len, t.burned)
}

/// A word as a token state.
pub fn word_state(w: U256) -> TokenState {
    let (owner, provenance_len, burned) = unpack(w);
    TokenState {
        owner,
        burned,
        provenance_len,
    }
}

/// A provenance step as a word.
pub fn step_word(s: &Step) -> U256 {
    pack(&s.owner, s.height, s.burned)
}

/// An address word (approvals).
pub fn address_word(a: &Address) -> U256 {
    pack(a, 0, false)
}

/// The address in a word.
pub fn word_address(w: U256) -> Address {
    unpack(w).0
}
