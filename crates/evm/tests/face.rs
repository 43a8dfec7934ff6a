//! One state, two faces (ADR 0015): a native fungible asset read and moved through its ERC-20
//! face — `eth_call`s of the ERC-20 reads, an Ethereum transaction's `transfer` that moves the
//! native balance and logs `Transfer`, a native transfer seen by `balanceOf`, approve /
//! transferFrom, the native rules as reverts, a contract holding and moving the asset, and a
//! revert in the calling contract undoing the face's transfer and log. No storage of the face
//! account is ever written: the balances exist once, under the native keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::U256;
use keel_crypto::{HashAlgorithm, KeyPair, Scheme};
use keel_evm::face::erc20::{APPROVAL_TOPIC, TRANSFER_TOPIC, sel};
use keel_evm::logs;
use keel_execution::assets::{self, erc20_face};
use keel_execution::keys;
use keel_types::{Address, AssetIssue, AssetOp, ExecErrorCode, Hash, Payload, Receipt, TxStatus};

mod face_world;
use face_world::*;

/// ERC-20 reads of the face, and the native balance behind them.
trait Erc20Reads {
    fn balance_of(&self, face: Address, who: &Address) -> u128;
    fn native_balance(&self, id: &Hash, who: &Address) -> u128;
}

impl Erc20Reads for World {
    fn balance_of(&self, face: Address, who: &Address) -> u128 {
        let out = self.call(face, [sel::BALANCE_OF.to_vec(), aw(who)].concat());
        u128::try_from(U256::from_be_slice(&out)).unwrap()
    }

    fn native_balance(&self, id: &Hash, who: &Address) -> u128 {
        assets::holding(&self.state, ALG, id, who).unwrap().balance
    }
}

fn issue(issuer: Address) -> AssetOp {
    AssetOp::Issue(AssetIssue {
        name: "Keel Dollar".into(),
        symbol: "KUSD".into(),
        decimals: 2,
        max_supply: 1_000_000,
        initial_supply: 10_000,
        issuer,
        mintable: true,
        burnable: true,
        freezable: true,
        holder_list: None,
    })
}

fn transfer_data(to: &Address, amount: u128) -> Vec<u8> {
    [sel::TRANSFER.to_vec(), aw(to), word(amount)].concat()
}

/// Keys the face's account would own as an EVM account (account, code) — never written.
fn face_keys(face: &Address) -> [keys::StateKey; 2] {
    [keys::account(ALG, face), keys::code(ALG, face)]
}

/// The writes without the deletes of the (empty) fee beneficiary `0x0` every EVM transaction
/// touches.
fn without_coinbase(changed: &[keys::StateKey]) -> Vec<keys::StateKey> {
    let zero = face_keys(&Address::ZERO);
    changed
        .iter()
        .filter(|k| !zero.contains(k))
        .copied()
        .collect()
}

fn sorted(k: &[keys::StateKey]) -> Vec<keys::StateKey> {
    let mut v = k.to_vec();
    v.sort();
    v
}

struct Setup {
    w: World,
    issuer: KeyPair,
    user: KeyPair,
    id: Hash,
    face: Address,
}

/// An Ed25519 issuer with 10,000 of a native asset, 1,000 of which it sent natively to a
/// secp256k1 (Ethereum) user.
fn setup() -> Setup {
    let issuer = KeyPair::from_seed(Scheme::Ed25519, &[1; 32]);
    let user = KeyPair::from_seed(Scheme::Secp256k1, &[2; 32]);
    let mut w = World::new(&[addr_of(&issuer), addr_of(&user)]);
    let (r, _) = w.native(&issuer, Payload::Asset(issue(addr_of(&issuer))));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let id = Hash(r.output.clone().try_into().unwrap());
    let face = erc20_face(&id);
    let erc20 = r.events[0].attributes.iter().find(|(k, _)| k == "erc20");
    assert_eq!(erc20.map(|(_, v)| v.clone()), Some(face.to_string()));
    let send = AssetOp::Transfer {
        asset: id,
        to: addr_of(&user),
        amount: 1_000,
    };
    let (r, _) = w.native(&issuer, Payload::Asset(send));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    Setup {
        w,
        issuer,
        user,
        id,
        face,
    }
}

#[test]
fn face_address_is_prefixed_and_indexed() {
    let s = setup();
    assert_eq!(&s.face.0[..4], b"KEEL");
    assert_eq!(&s.face.0[4..], &s.id.0[..16]);
    assert_eq!(
        assets::face_target(&s.w.state, ALG, &s.face).unwrap(),
        Some(assets::FaceTarget::Erc20(s.id))
    );
    // An unprefixed address is not looked up; a prefixed one without an asset is nothing.
    let mut other = s.face;
    other.0[19] ^= 1;
    assert_eq!(assets::face_target(&s.w.state, ALG, &other).unwrap(), None);
}

#[test]
fn erc20_reads_by_eth_call_see_the_native_state() {
    let s = setup();
    let string = |out: Vec<u8>| {
        let len = usize::try_from(U256::from_be_slice(&out[32..64])).unwrap();
        String::from_utf8(out[64..64 + len].to_vec()).unwrap()
    };
    assert_eq!(string(s.w.call(s.face, sel::NAME.to_vec())), "Keel Dollar");
    assert_eq!(string(s.w.call(s.face, sel::SYMBOL.to_vec())), "KUSD");
    assert_eq!(s.w.call(s.face, sel::DECIMALS.to_vec()), word(2));
    assert_eq!(s.w.call(s.face, sel::TOTAL_SUPPLY.to_vec()), word(10_000));
    // The native transfer of the setup is visible through balanceOf.
    assert_eq!(s.w.balance_of(s.face, &addr_of(&s.user)), 1_000);
    assert_eq!(s.w.balance_of(s.face, &addr_of(&s.issuer)), 9_000);
    assert_eq!(s.w.balance_of(s.face, &Address([5; 20])), 0);
}

#[test]
fn selectors_and_topics_are_the_erc20_ones() {
    let k = |s: &str| HashAlgorithm::Keccak256.digest(s.as_bytes());
    let cases = [
        (sel::NAME, "name()"),
        (sel::SYMBOL, "symbol()"),
        (sel::DECIMALS, "decimals()"),
        (sel::TOTAL_SUPPLY, "totalSupply()"),
        (sel::BALANCE_OF, "balanceOf(address)"),
        (sel::ALLOWANCE, "allowance(address,address)"),
        (sel::TRANSFER, "transfer(address,uint256)"),
        (sel::APPROVE, "approve(address,uint256)"),
        (sel::TRANSFER_FROM, "transferFrom(address,address,uint256)"),
    ];
    for (s, sig) in cases {
        assert_eq!(s, k(sig)[..4], "{sig}");
    }
    assert_eq!(TRANSFER_TOPIC.0, k("Transfer(address,address,uint256)"));
    assert_eq!(APPROVAL_TOPIC.0, k("Approval(address,address,uint256)"));
}

#[test]
fn ethereum_transfer_moves_the_native_balance_and_logs_transfer() {
    let mut s = setup();
    let (user, bob) = (addr_of(&s.user), Address([0xb0; 20]));
    let (r, changed) = s.w.eth(&s.user, s.face, transfer_data(&bob, 250));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    // Gas: Ethereum intrinsic 21,000 + 572 of call data + the native operation's 30,000.
    assert_eq!(r.gas_used, 21_000 + 572 + keel_evm::face::erc20::WRITE_GAS);
    assert_eq!(s.w.native_balance(&s.id, &user), 750);
    assert_eq!(s.w.native_balance(&s.id, &bob), 250);
    assert_eq!(s.w.balance_of(s.face, &bob), 250);
    // One log, at the face, with the ERC-20 topics and the amount.
    assert_eq!(r.events.len(), 1);
    let log = logs::from_event(&r.events[0]).unwrap();
    assert_eq!(log.address.0.0, s.face.0);
    assert_eq!(log.topics[0], TRANSFER_TOPIC);
    assert_eq!(&log.topics[1].0[12..], &user.0);
    assert_eq!(&log.topics[2].0[12..], &bob.0);
    assert_eq!(log.data.to_vec(), word(250));
    // The writes are the native holdings (and the sender's account), nothing of the face.
    assert!(changed.contains(&keys::asset_holding(ALG, &s.id, &user)));
    assert!(changed.contains(&keys::asset_holding(ALG, &s.id, &bob)));
    for k in face_keys(&s.face) {
        assert!(!changed.contains(&k) && !s.w.state.0.contains_key(&k));
    }
    let expected = [
        keys::account(ALG, &user),
        keys::asset_holding(ALG, &s.id, &user),
        keys::asset_holding(ALG, &s.id, &bob),
    ];
    assert_eq!(
        without_coinbase(&changed),
        sorted(&expected),
        "sender account + holdings"
    );
    // Supply untouched.
    assert_eq!(
        assets::asset_info(&s.w.state, ALG, &s.id)
            .unwrap()
            .unwrap()
            .supply,
        10_000
    );
}

#[test]
fn native_rules_revert_through_the_face_and_change_nothing() {
    let mut s = setup();
    let bob = Address([0xb0; 20]);
    let before = s.w.native_balance(&s.id, &addr_of(&s.user));
    let reason = |r: &Receipt| keel_evm::exec::decode_revert_reason(&r.output).unwrap();
    let (r, changed) = s.w.eth(&s.user, s.face, transfer_data(&bob, 1_001));
    assert_eq!(r.error.as_ref().unwrap().0, ExecErrorCode::Reverted);
    assert!(
        reason(&r).starts_with("ASSET_INSUFFICIENT_BALANCE"),
        "{r:?}"
    );
    assert!(r.events.is_empty());
    let sender = [keys::account(ALG, &addr_of(&s.user))];
    assert_eq!(without_coinbase(&changed), sender.to_vec());
    // The issuer freezes the user natively: the face refuses too.
    let freeze = AssetOp::Freeze {
        asset: s.id,
        holder: addr_of(&s.user),
    };
    let issuer = KeyPair::from_seed(Scheme::Ed25519, &[1; 32]);
    assert_eq!(
        s.w.native(&issuer, Payload::Asset(freeze)).0.status,
        TxStatus::Success
    );
    let (r, _) = s.w.eth(&s.user, s.face, transfer_data(&bob, 1));
    assert!(reason(&r).starts_with("ASSET_HOLDER_FROZEN"), "{r:?}");
    let (r, _) = s.w.eth(
        &s.user,
        s.face,
        [sel::APPROVE.to_vec(), aw(&bob), word(1)].concat(),
    );
    assert!(reason(&r).starts_with("ASSET_HOLDER_FROZEN"), "{r:?}");
    assert_eq!(s.w.native_balance(&s.id, &addr_of(&s.user)), before);
    // Malformed call data reverts with no data.
    let (r, _) = s.w.eth(&s.user, s.face, vec![0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(r.error.as_ref().unwrap().0, ExecErrorCode::Reverted);
    assert!(r.output.is_empty());
}

#[test]
fn approve_and_transfer_from_share_the_native_allowance() {
    let mut s = setup();
    let spender = KeyPair::from_seed(Scheme::Secp256k1, &[3; 32]);
    let sp = addr_of(&spender);
    let (user, carol) = (addr_of(&s.user), Address([0xca; 20]));
    // Fund the spender's gas natively.
    let fund = Payload::Transfer {
        to: sp,
        amount: 10u128.pow(18),
    };
    s.w.native(&s.issuer, fund);
    let (r, _) = s.w.eth(
        &s.user,
        s.face,
        [sel::APPROVE.to_vec(), aw(&sp), word(300)].concat(),
    );
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let log = logs::from_event(&r.events[0]).unwrap();
    assert_eq!(log.topics[0], APPROVAL_TOPIC);
    // The face's allowance is the native allowance.
    assert_eq!(
        assets::allowance(&s.w.state, ALG, &s.id, &user, &sp).unwrap(),
        300
    );
    let read = s.w.call(
        s.face,
        [sel::ALLOWANCE.to_vec(), aw(&user), aw(&sp)].concat(),
    );
    assert_eq!(read, word(300));
    let move_ = |amount| {
        [
            sel::TRANSFER_FROM.to_vec(),
            aw(&user),
            aw(&carol),
            word(amount),
        ]
        .concat()
    };
    let (r, _) = s.w.eth(&spender, s.face, move_(301));
    let why = keel_evm::exec::decode_revert_reason(&r.output).unwrap();
    assert!(why.starts_with("ASSET_ALLOWANCE_EXCEEDED"), "{why}");
    let (r, _) = s.w.eth(&spender, s.face, move_(200));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(s.w.native_balance(&s.id, &carol), 200);
    assert_eq!(
        assets::allowance(&s.w.state, ALG, &s.id, &user, &sp).unwrap(),
        100
    );
    // And the native transfer-from spends what the face approved.
    let native_spender = KeyPair::from_seed(Scheme::Ed25519, &[4; 32]);
    let nsp = addr_of(&native_spender);
    s.w.native(
        &s.issuer,
        Payload::Transfer {
            to: nsp,
            amount: 10u128.pow(18),
        },
    );
    s.w.eth(
        &s.user,
        s.face,
        [sel::APPROVE.to_vec(), aw(&nsp), word(50)].concat(),
    );
    let tf = AssetOp::TransferFrom {
        asset: s.id,
        from: user,
        to: carol,
        amount: 50,
    };
    let (r, _) = s.w.native(&native_spender, Payload::Asset(tf));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(s.w.balance_of(s.face, &carol), 250);
}

/// Init code returning `runtime`.
fn deployable(runtime: &[u8]) -> Vec<u8> {
    let n = u8::try_from(runtime.len()).unwrap();
    let mut init = vec![0x60, n, 0x60, 12, 0x60, 0, 0x39, 0x60, n, 0x60, 0, 0xf3];
    init.extend(runtime);
    init
}

/// A contract forwarding its call data to `face`, then returning the first output word
/// (`revert_after`: reverting instead).
fn forwarder(face: &Address, revert_after: bool) -> Vec<u8> {
    let mut c = vec![0x36, 0x60, 0, 0x60, 0, 0x37]; // calldatacopy(0, 0, size)
    c.extend([0x60, 32, 0x60, 0, 0x36, 0x60, 0, 0x60, 0, 0x73]); // ret 32 @0, args @0..size, value 0
    c.extend(face.0);
    c.extend([0x5a, 0xf1]); // gas, call
    if revert_after {
        c.extend([0x60, 0, 0x60, 0, 0xfd]);
    } else {
        c.extend([0x60, 32, 0x60, 0, 0xf3]);
    }
    c
}

#[test]
fn a_contract_holds_and_moves_the_asset_and_its_revert_undoes_the_move() {
    let mut s = setup();
    let bob = Address([0xb0; 20]);
    let deploy = |w: &mut World, revert_after| {
        let p = Payload::EvmCall {
            to: None,
            value: 0,
            data: deployable(&forwarder(&s.face, revert_after)),
        };
        let (r, _) = w.native(&s.issuer, p);
        assert_eq!(r.status, TxStatus::Success, "{r:?}");
        Address(r.output.try_into().unwrap())
    };
    let (good, bad) = (deploy(&mut s.w, false), deploy(&mut s.w, true));
    for c in [good, bad] {
        let give = AssetOp::Transfer {
            asset: s.id,
            to: c,
            amount: 100,
        };
        assert_eq!(
            s.w.native(&s.issuer, Payload::Asset(give)).0.status,
            TxStatus::Success
        );
        assert_eq!(s.w.balance_of(s.face, &c), 100);
    }
    let call = |to| Payload::EvmCall {
        to: Some(to),
        value: 0,
        data: transfer_data(&bob, 40),
    };
    let (r, _) = s.w.native(&s.issuer, call(good));
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(
        s.w.native_balance(&s.id, &good),
        60,
        "the contract moved its own balance"
    );
    assert_eq!(s.w.native_balance(&s.id, &bob), 40);
    let log = logs::from_event(&r.events[0]).unwrap();
    assert_eq!(
        &log.topics[1].0[12..],
        &good.0,
        "msg.sender is the contract"
    );
    // The same call from a contract that reverts afterwards: nothing moved, no log.
    let (r, changed) = s.w.native(&s.issuer, call(bad));
    assert_eq!(r.error.as_ref().unwrap().0, ExecErrorCode::Reverted);
    assert!(r.events.is_empty());
    assert_eq!(s.w.native_balance(&s.id, &bad), 100);
    assert_eq!(s.w.native_balance(&s.id, &bob), 40);
    assert!(!changed.contains(&keys::asset_holding(ALG, &s.id, &bad)));
}

fn artefact(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/clients/contracts/build/Contracts.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let code = v["contracts"][name]["bytecode"].as_str().unwrap();
    hex::decode(code.trim_start_matches("0x")).unwrap()
}

fn selector(sig: &str) -> Vec<u8> {
    HashAlgorithm::Keccak256.digest(sig.as_bytes())[..4].to_vec()
}

/// `tests/clients/contracts/AssetVault.sol` (solc 0.8.28): a Solidity contract pulls a native
/// asset with `transferFrom` after a *native* approve, holds it as its own native balance, and
/// pushes it back with `transfer`; its own revert (withdrawing more than deposited) undoes
/// nothing it did not do.
#[test]
fn solidity_vault_holds_and_releases_a_native_asset() {
    let mut s = setup();
    let me = addr_of(&s.issuer);
    let init = [artefact("AssetVault"), aw(&s.face)].concat();
    let (r, _) = s.w.native(
        &s.issuer,
        Payload::EvmCall {
            to: None,
            value: 0,
            data: init,
        },
    );
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let vault = Address(r.output.try_into().unwrap());
    let approve = AssetOp::Approve {
        asset: s.id,
        spender: vault,
        amount: 500,
    };
    assert_eq!(
        s.w.native(&s.issuer, Payload::Asset(approve)).0.status,
        TxStatus::Success
    );
    let call = |data: Vec<u8>| Payload::EvmCall {
        to: Some(vault),
        value: 0,
        data,
    };
    let (r, _) = s.w.native(
        &s.issuer,
        call([selector("deposit(uint256)"), word(300)].concat()),
    );
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(
        s.w.native_balance(&s.id, &vault),
        300,
        "the vault holds it natively"
    );
    assert_eq!(s.w.native_balance(&s.id, &me), 8_700);
    assert_eq!(
        assets::allowance(&s.w.state, ALG, &s.id, &me, &vault).unwrap(),
        200
    );
    let held = s.w.call(vault, selector("held()"));
    assert_eq!(held, word(300));
    let (r, _) = s.w.native(
        &s.issuer,
        call([selector("withdraw(uint256)"), word(301)].concat()),
    );
    assert_eq!(r.error.as_ref().unwrap().0, ExecErrorCode::Reverted);
    assert_eq!(s.w.native_balance(&s.id, &vault), 300);
    let (r, _) = s.w.native(
        &s.issuer,
        call([selector("withdraw(uint256)"), word(120)].concat()),
    );
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    assert_eq!(s.w.native_balance(&s.id, &vault), 180);
    assert_eq!(s.w.native_balance(&s.id, &me), 8_820);
    let log = logs::from_event(&r.events[0]).unwrap();
    assert_eq!((log.address.0.0, log.topics[0]), (s.face.0, TRANSFER_TOPIC));
}

/// A contract that calls the face (call data forwarded) and then self-destructs to the face
/// address: the value it sends there is kept as the face address's native balance, not
/// dropped with the face's slots.
#[test]
fn value_sent_to_a_face_by_self_destruct_is_kept() {
    let mut s = setup();
    let mut runtime = vec![0x36, 0x60, 0, 0x60, 0, 0x37];
    runtime.extend([0x60, 32, 0x60, 0, 0x36, 0x60, 0, 0x60, 0, 0x73]);
    runtime.extend(s.face.0);
    runtime.extend([0x5a, 0xf1, 0x50, 0x73]); // call, pop, push20 face
    runtime.extend(s.face.0);
    runtime.push(0xff); // selfdestruct(face)
    let deploy = Payload::EvmCall {
        to: None,
        value: 1_000,
        data: deployable(&runtime),
    };
    let (r, _) = s.w.native(&s.issuer, deploy);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let c = Address(r.output.try_into().unwrap());
    let call = Payload::EvmCall {
        to: Some(c),
        value: 0,
        data: [sel::BALANCE_OF.to_vec(), aw(&c)].concat(),
    };
    let (r, _) = s.w.native(&s.issuer, call);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let native = |a: &Address| {
        keel_evm::db::read_account(&s.w.state, ALG, a)
            .unwrap()
            .unwrap_or_default()
            .balance
    };
    assert_eq!((native(&c), native(&s.face)), (0, 1_000));
}

/// A contract that calls `face` with its own call data through `op` (CALL, STATICCALL or
/// DELEGATECALL) and returns the success flag.
fn prober(face: &Address, op: u8) -> Vec<u8> {
    let mut c = vec![0x36, 0x60, 0, 0x60, 0, 0x37]; // calldatacopy(0, 0, size)
    c.extend([0x60, 0, 0x60, 0, 0x36, 0x60, 0]); // ret 0 @0, args @0..size
    if op == 0xf1 {
        c.extend([0x60, 0]); // value
    }
    c.push(0x73);
    c.extend(face.0);
    c.extend([0x5a, op, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xf3]); // mstore(0, ok), return
    c
}

#[test]
fn static_and_delegate_calls_cannot_write_and_approve_saturates() {
    let mut s = setup();
    let mut flag = |op: u8, data: Vec<u8>| {
        let deploy = Payload::EvmCall {
            to: None,
            value: 0,
            data: deployable(&prober(&s.face, op)),
        };
        let (r, _) = s.w.native(&s.issuer, deploy);
        let c = Address(r.output.try_into().unwrap());
        s.w.call(c, data)[31]
    };
    let zero_transfer = transfer_data(&Address([0xb0; 20]), 0);
    let read = [sel::BALANCE_OF.to_vec(), aw(&Address([0xb0; 20]))].concat();
    assert_eq!(flag(0xf1, zero_transfer.clone()), 1, "CALL may write");
    assert_eq!(
        flag(0xfa, zero_transfer.clone()),
        0,
        "STATICCALL may not write"
    );
    assert_eq!(flag(0xfa, read), 1, "STATICCALL may read");
    assert_eq!(flag(0xf4, zero_transfer), 0, "DELEGATECALL is refused");
    // approve(spender, type(uint256).max) stores the largest native allowance.
    let sp = Address([0x5b; 20]);
    let max = [sel::APPROVE.to_vec(), aw(&sp), vec![0xff; 32]].concat();
    let (r, _) = s.w.eth(&s.user, s.face, max);
    assert_eq!(r.status, TxStatus::Success, "{r:?}");
    let user = addr_of(&s.user);
    let allowed = assets::allowance(&s.w.state, ALG, &s.id, &user, &sp).unwrap();
    assert_eq!(allowed, u128::MAX);
}
