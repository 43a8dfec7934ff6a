//! docs/rpc.md documents every method and every error name the code can return.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{Scheme, Suite};
use keel_mempool::AdmitError;
use keel_types::{ExecErrorCode, Hash};

#[test]
fn rpc_doc_lists_every_method_and_error() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rpc.md")).unwrap();
    for m in keel_rpc::METHODS.iter().chain(keel_rpc::eth::ETH_METHODS) {
        assert!(doc.contains(&format!("`{m}`")), "docs/rpc.md lacks {m}");
    }
    let admit = [
        AdmitError::Malformed {
            reason: String::new(),
        },
        AdmitError::TooLarge { len: 0, max: 0 },
        AdmitError::WrongChainId {
            expected: 0,
            got: 0,
        },
        AdmitError::SchemeNotAllowed {
            scheme: Scheme::Sm2,
            suite: Suite::Intl,
        },
        AdmitError::BadSignature {
            scheme: Scheme::Sm2,
        },
        AdmitError::NonceTooLow {
            nonce: 0,
            expected: 0,
        },
        AdmitError::NonceTooHigh { nonce: 0, max: 0 },
        AdmitError::Expired {
            expires_at: 0,
            next_height: 0,
        },
        AdmitError::InsufficientBalance {
            balance: 0,
            needed: 0,
        },
        AdmitError::PoolFull { capacity: 0 },
        AdmitError::AlreadyKnown { hash: Hash::ZERO },
        AdmitError::InvalidField {
            field: "x",
            reason: String::new(),
        },
        AdmitError::ExpiryTooFar {
            expires_at: 0,
            window: 0,
            next_height: 0,
        },
        AdmitError::NonceAlreadyPending { nonce: 0 },
        AdmitError::SenderQueueFull { pending: 0 },
        AdmitError::FeeTooLow {
            max_fee_per_gas: 0,
            gas_price: 0,
        },
        AdmitError::NotAdmitted(String::new()),
        AdmitError::AccountFrozen(String::new()),
        AdmitError::NotPermitted(String::new()),
        AdmitError::GovRefused {
            code: "QUORUM_UNREACHABLE",
            reason: String::new(),
        },
    ];
    for e in admit {
        let row = format!("| {} | `{}` |", e.code(), e.name());
        assert!(doc.contains(&row), "docs/rpc.md lacks the row {row}");
    }
    for c in [
        ExecErrorCode::InsufficientBalance,
        ExecErrorCode::EvidenceDuplicate,
        ExecErrorCode::OutOfGas,
        ExecErrorCode::NonceMismatch,
        ExecErrorCode::Expired,
        ExecErrorCode::Overflow,
        ExecErrorCode::Reverted,
        ExecErrorCode::EvmHalted,
        ExecErrorCode::NotAdmitted,
        ExecErrorCode::AccountFrozen,
        ExecErrorCode::NotPermitted,
        ExecErrorCode::GovInvalid,
        ExecErrorCode::GovLastMember,
        ExecErrorCode::GovOneValidatorPerEpoch,
        ExecErrorCode::CertificateRevoked,
        ExecErrorCode::CertificateExpired,
        ExecErrorCode::AssetUnknown,
        ExecErrorCode::AssetNotIssuer,
        ExecErrorCode::AssetMaxSupply,
        ExecErrorCode::AssetNotMintable,
        ExecErrorCode::AssetNotBurnable,
        ExecErrorCode::AssetNotFreezable,
        ExecErrorCode::AssetHolderFrozen,
        ExecErrorCode::AssetNotListed,
        ExecErrorCode::AssetAllowanceExceeded,
        ExecErrorCode::AssetInsufficientBalance,
        ExecErrorCode::AssetInvalid,
        ExecErrorCode::DidExists,
        ExecErrorCode::DidUnknown,
        ExecErrorCode::DidNotController,
        ExecErrorCode::DidDeactivated,
        ExecErrorCode::DidInvalid,
        ExecErrorCode::DidStale,
        ExecErrorCode::DidLimit,
    ] {
        let row = format!("| {} | `{}` |", c.code(), c.name());
        assert!(doc.contains(&row), "docs/rpc.md lacks the row {row}");
    }
    // Transport and limit errors (docs/rpc.md "Limits").
    for e in [
        keel_rpc::RpcError::too_large(0),
        keel_rpc::RpcError::batch_too_large(0, 0),
        keel_rpc::RpcError::busy(""),
        keel_rpc::RpcError::gas_budget(0, 0),
        keel_rpc::RpcError::timeout(""),
        keel_rpc::RpcError::too_many_connections(""),
    ] {
        let row = format!("| {} | `{}` |", e.code, e.name);
        assert!(doc.contains(&row), "docs/rpc.md lacks the row {row}");
    }
    // Governance refusal rule names carried in `GOV_REFUSED` messages.
    for rule in [
        "QUORUM_UNREACHABLE",
        "GOV_LAST_MEMBER",
        "GOV_ONE_VALIDATOR_PER_EPOCH",
        "GOV_INVALID",
    ] {
        assert!(
            doc.contains(&format!("`{rule}`")),
            "docs/rpc.md lacks the rule {rule}"
        );
    }
}
