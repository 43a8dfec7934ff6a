//! Issuing certificates: the consortium root, organisation CAs and end-entity certificates.

use std::str::FromStr as _;

use der::asn1::{AnyRef, BitStringRef, OctetString};
use der::flagset::FlagSet;
use der::{Decode as _, Encode as _};
use keel_crypto::{KeyPair, Scheme};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity as X509Validity};

use crate::cert::RawSigned;
use crate::{Certificate, PkiError, Role, Serial, alg, role::CA_UNIT};

/// Longest name component (CN, O) accepted, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Path length of the consortium root: one level of organisation CAs below it.
pub const ROOT_PATH_LEN: u8 = 1;

/// A validity window, Unix seconds (inclusive at both ends, as in RFC 5280).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    /// notBefore.
    pub not_before: u64,
    /// notAfter.
    pub not_after: u64,
}

impl Validity {
    /// From `now` for `days` days.
    pub fn days_from(now: u64, days: u64) -> Validity {
        Validity {
            not_before: now,
            not_after: now.saturating_add(days.saturating_mul(86_400)),
        }
    }
}

/// Who signs: a key that is its own issuer (a root), or a CA certificate with its key.
#[derive(Clone, Copy, Debug)]
pub enum Issuer<'a> {
    /// Self-signed: the subject's own key signs.
    SelfSigned(&'a KeyPair),
    /// A CA certificate and its key.
    Ca {
        /// The CA's certificate (its subject becomes the issuer name).
        cert: &'a Certificate,
        /// The CA's key (must match the certificate).
        key: &'a KeyPair,
    },
}

/// What kind of certificate to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// A CA (OU = `ca`, basicConstraints CA with this path length, keyUsage keyCertSign,
    /// cRLSign, digitalSignature).
    Ca {
        /// basicConstraints pathLenConstraint.
        path_len: u8,
    },
    /// An end entity with a role (OU = the role, basicConstraints CA:FALSE, keyUsage
    /// digitalSignature).
    EndEntity(Role),
}

/// Everything about the certificate to issue except the issuer.
#[derive(Clone, Debug)]
pub struct IssueRequest<'a> {
    /// Subject CN.
    pub common_name: &'a str,
    /// Subject O.
    pub organization: &'a str,
    /// CA or end entity with a role.
    pub profile: Profile,
    /// The subject key's scheme.
    pub scheme: Scheme,
    /// The subject's public key (Keel encoding).
    pub public_key: &'a [u8],
    /// Validity window.
    pub validity: Validity,
    /// Serial number (unique in the consortium; see [`Serial::random`]).
    pub serial: Serial,
}

/// Keel's own TBSCertificate layout for encoding (the x509-cert type is read-only).
#[derive(der::Sequence)]
struct TbsOut {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: u8,
    serial_number: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: X509Validity,
    subject: Name,
    subject_public_key_info: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT")]
    extensions: Vec<Extension>,
}

/// X.509 v3 (the INTEGER 2).
const VERSION_V3: u8 = 2;

/// Checks a CN or O value: 1..=64 characters of letters and digits of any script (Chinese
/// names such as `上海某银行` included; they are encoded as UTF8String), space, `-`, `_`, `.`,
/// not starting or ending with a space (so the RFC 4514 form needs no escaping).
pub fn check_name(what: &str, value: &str) -> Result<(), PkiError> {
    let ok_chars = value
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'));
    if value.is_empty()
        || value.chars().count() > MAX_NAME_CHARS
        || !ok_chars
        || value.starts_with(' ')
        || value.ends_with(' ')
    {
        return Err(PkiError::Issue(format!(
            "{what} {value:?} must be 1..={MAX_NAME_CHARS} letters, digits, spaces, '-', '_' or '.'"
        )));
    }
    Ok(())
}

fn name(common_name: &str, unit: &str, organization: &str) -> Result<Name, PkiError> {
    check_name("common name", common_name)?;
    check_name("organisation", organization)?;
    Name::from_str(&format!("CN={common_name},OU={unit},O={organization}"))
        .map_err(|e| PkiError::Issue(format!("name: {e}")))
}

fn time(secs: u64) -> Result<Time, PkiError> {
    let dt = der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map_err(|e| PkiError::Issue(format!("time {secs}: {e}")))?;
    Ok(Time::from(dt))
}

fn extension<T: der::Encode>(
    oid: der::oid::ObjectIdentifier,
    value: &T,
) -> Result<Extension, PkiError> {
    let bytes = value.to_der().map_err(|e| PkiError::Issue(e.to_string()))?;
    Ok(Extension {
        extn_id: oid,
        critical: true,
        extn_value: OctetString::new(bytes).map_err(|e| PkiError::Issue(e.to_string()))?,
    })
}

fn extensions(profile: Profile) -> Result<Vec<Extension>, PkiError> {
    use der::oid::AssociatedOid as _;
    let (bc, usage): (BasicConstraints, FlagSet<KeyUsages>) = match profile {
        Profile::Ca { path_len } => (
            BasicConstraints {
                ca: true,
                path_len_constraint: Some(path_len),
            },
            KeyUsages::KeyCertSign | KeyUsages::CRLSign | KeyUsages::DigitalSignature,
        ),
        Profile::EndEntity(_) => (
            BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
            KeyUsages::DigitalSignature.into(),
        ),
    };
    Ok(vec![
        extension(BasicConstraints::OID, &bc)?,
        extension(KeyUsage::OID, &KeyUsage(usage))?,
    ])
}

/// Issues a certificate for `req`, signed by `issuer`. The issuer's key must be SM2 or
/// Ed25519; for [`Issuer::Ca`] it must match the CA certificate and the CA must be a CA.
pub fn issue(req: &IssueRequest<'_>, issuer: Issuer<'_>) -> Result<Certificate, PkiError> {
    let unit = match req.profile {
        Profile::Ca { .. } => CA_UNIT,
        Profile::EndEntity(role) => role.name(),
    };
    let subject = name(req.common_name, unit, req.organization)?;
    let (key, issuer_name) = match issuer {
        Issuer::SelfSigned(key) => {
            if key.scheme() != req.scheme || key.public_key() != req.public_key {
                return Err(PkiError::Issue(
                    "a self-signed certificate must be for the signing key".into(),
                ));
            }
            (key, subject.clone())
        }
        Issuer::Ca { cert, key } => {
            if key.scheme() != cert.scheme() || key.public_key() != cert.public_key() {
                return Err(PkiError::Issue(format!(
                    "the key does not match CA {}",
                    cert.subject()
                )));
            }
            if !cert.is_ca() {
                return Err(PkiError::NotACa {
                    subject: cert.subject(),
                    reason: "basicConstraints CA is not set",
                });
            }
            (key, cert.x509().tbs_certificate().subject().clone())
        }
    };
    if req.validity.not_after < req.validity.not_before {
        return Err(PkiError::Issue("notAfter is before notBefore".into()));
    }
    let signature = alg::signature_algorithm(key.scheme())?;
    let tbs = TbsOut {
        version: VERSION_V3,
        serial_number: SerialNumber::new(req.serial.as_bytes())
            .map_err(|e| PkiError::Issue(format!("serial: {e}")))?,
        signature: signature.clone(),
        issuer: issuer_name,
        validity: X509Validity::new(
            time(req.validity.not_before)?,
            time(req.validity.not_after)?,
        ),
        subject,
        subject_public_key_info: alg::spki_of(req.scheme, req.public_key)?,
        extensions: extensions(req.profile)?,
    };
    let tbs_der = tbs.to_der().map_err(|e| PkiError::Issue(e.to_string()))?;
    let der_bytes = sign_and_wrap(key, &tbs_der, signature)?;
    Certificate::from_der(&der_bytes)
}

/// Signs `tbs_der` and wraps it as `SEQUENCE { tbs, algorithm, signature }`.
pub(crate) fn sign_and_wrap(
    key: &KeyPair,
    tbs_der: &[u8],
    algorithm: AlgorithmIdentifierOwned,
) -> Result<Vec<u8>, PkiError> {
    let sig = alg::sign(key, tbs_der)?;
    let signed = RawSigned {
        tbs: AnyRef::from_der(tbs_der).map_err(|e| PkiError::Issue(e.to_string()))?,
        algorithm,
        signature: BitStringRef::from(&sig),
    };
    signed.to_der().map_err(|e| PkiError::Issue(e.to_string()))
}
