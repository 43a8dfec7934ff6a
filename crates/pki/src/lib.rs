//! Keel's consortium PKI (ADR 0010): X.509 v3 certificates signed with SM2-with-SM3 (`gm`
//! chains) or Ed25519 (`intl` chains), roles, chain verification and signed revocation lists.
//!
//! # Hierarchy
//!
//! ```text
//! consortium root CA   CN=<name>, OU=ca, O=<consortium>   CA, pathLen 1, self-signed
//!   └─ organisation CA CN=<org> CA, OU=ca, O=<org>          CA, pathLen 0
//!        └─ end entity CN=<name>, OU=<role>, O=<org>        CA:FALSE, digitalSignature
//! ```
//!
//! The role ([`Role`]: validator, observer, client, org-admin, auditor, committee) is the
//! subject's single organizationalUnitName; the organisation is O and must equal the issuing
//! organisation CA's O. SM2 signatures follow GM/T 0009 (ID `1234567812345678`, DER
//! `SEQUENCE { r, s }`); they are made and checked with `keel-crypto`'s public API only.
//!
//! # Use
//!
//! * [`issue`] makes certificates ([`IssueRequest`], [`Issuer`], [`Profile`]);
//! * [`Certificate::from_der`] / [`Certificate::from_pem_chain`] parse (no signature check);
//! * [`verify_chain`] checks a presented chain against trusted roots at a given time with a
//!   [`RevocationSource`]; [`check_usage`] the leaf's role and key usage;
//!   [`verify_node_chain`] is the node-link admission check used by `keel-network`;
//! * [`RevocationList`] is the root-signed CRL; [`RevokedSet`] the in-memory set.
//!
//! No clocks are read here: every check takes `now` (Unix seconds) from the caller. The only
//! randomness is [`Serial::random`].

mod alg;
mod cert;
mod crl;
mod error;
mod issue;
mod role;
mod verify;

pub use alg::{
    OID_EC_PUBLIC_KEY, OID_ED25519, OID_SM2_CURVE, OID_SM2_WITH_SM3, sm2_signature_from_der,
};
pub use cert::{Certificate, MAX_CERT_DER_BYTES, MAX_PEM_CERTS, Serial};
pub use crl::{
    MAX_CRL_DER_BYTES, MAX_CRL_ENTRIES, NoRevocation, RevocationList, RevocationSource, RevokedSet,
};
pub use error::PkiError;
pub use issue::{
    IssueRequest, Issuer, MAX_NAME_CHARS, Profile, ROOT_PATH_LEN, Validity, check_name, issue,
};
pub use role::{CA_UNIT, Role, UnknownRole};
pub use verify::{MAX_CHAIN_CERTS, VerifiedChain, check_usage, verify_chain, verify_node_chain};

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds (for humans: CLI output, logs, diagnoses).
pub fn format_unix_time(secs: u64) -> String {
    der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map_or_else(|_| format!("@{secs}"), |t| t.to_string())
}
