//! Revocation: a signed X.509 v2 CRL issued by the consortium root, the [`RevocationSource`]
//! trait through which the chain (or anything else) can supply revoked serials, and
//! [`RevokedSet`], the in-memory set the checks use.
//!
//! Keel's CRL is *consortium-wide*: the root signs one list of serials, whichever CA issued
//! them. Serials are 128-bit random ([`Serial::random`]), so matching on the serial alone is
//! unambiguous in practice (ADR 0010).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use der::{Decode as _, Encode as _};
use keel_crypto::KeyPair;
use x509_cert::Version;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;

use crate::cert::{pem_blocks, split_signed, to_pem};
use crate::{Certificate, PkiError, Serial, alg};

/// Most entries in one CRL.
pub const MAX_CRL_ENTRIES: usize = 100_000;
/// Longest CRL accepted, in DER bytes (16 MiB).
pub const MAX_CRL_DER_BYTES: usize = 16 * 1024 * 1024;

/// Anything that can say whether a serial is revoked: a CRL file today, the chain's on-chain
/// revocation list later. Implementations must be cheap (called per handshake and per cert).
pub trait RevocationSource: Send + Sync + fmt::Debug {
    /// Whether the certificate with this serial is revoked.
    fn is_revoked(&self, serial: &Serial) -> bool;
}

/// A set of revoked serials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevokedSet(BTreeSet<Serial>);

impl RevokedSet {
    /// An empty set.
    pub fn new() -> RevokedSet {
        RevokedSet::default()
    }

    /// Adds a serial; returns whether it was new.
    pub fn insert(&mut self, serial: Serial) -> bool {
        self.0.insert(serial)
    }

    /// Number of serials.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The serials, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &Serial> {
        self.0.iter()
    }
}

impl FromIterator<Serial> for RevokedSet {
    fn from_iter<I: IntoIterator<Item = Serial>>(iter: I) -> RevokedSet {
        RevokedSet(iter.into_iter().collect())
    }
}

impl RevocationSource for RevokedSet {
    fn is_revoked(&self, serial: &Serial) -> bool {
        self.0.contains(serial)
    }
}

/// Nothing is revoked.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRevocation;

impl RevocationSource for NoRevocation {
    fn is_revoked(&self, _serial: &Serial) -> bool {
        false
    }
}

/// A CRL is a revocation source once its signature was checked ([`RevocationList::verify`]).
impl RevocationSource for RevocationList {
    fn is_revoked(&self, serial: &Serial) -> bool {
        self.entries.contains_key(serial)
    }
}

/// A parsed, signed revocation list.
#[derive(Clone)]
pub struct RevocationList {
    der: Vec<u8>,
    tbs: Vec<u8>,
    algorithm: spki::AlgorithmIdentifierOwned,
    signature: Vec<u8>,
    issuer: String,
    this_update: u64,
    entries: BTreeMap<Serial, u64>,
}

impl fmt::Debug for RevocationList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationList")
            .field("issuer", &self.issuer)
            .field("this_update", &self.this_update)
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl RevocationList {
    /// Makes and signs a CRL: `entries` maps serial → revocation time (Unix seconds).
    pub fn issue(
        issuer: &Certificate,
        key: &KeyPair,
        entries: &BTreeMap<Serial, u64>,
        this_update: u64,
    ) -> Result<RevocationList, PkiError> {
        if key.scheme() != issuer.scheme() || key.public_key() != issuer.public_key() {
            return Err(PkiError::Issue(format!(
                "the key does not match {}",
                issuer.subject()
            )));
        }
        if entries.len() > MAX_CRL_ENTRIES {
            return Err(PkiError::Issue(format!(
                "more than {MAX_CRL_ENTRIES} revoked serials"
            )));
        }
        let time = |secs: u64| -> Result<Time, PkiError> {
            der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))
                .map(Time::from)
                .map_err(|e| PkiError::Issue(format!("time {secs}: {e}")))
        };
        let revoked = entries
            .iter()
            .map(|(serial, at)| {
                Ok(RevokedCert {
                    serial_number: SerialNumber::<x509_cert::certificate::Rfc5280>::new(
                        serial.as_bytes(),
                    )
                    .map_err(|e| PkiError::Issue(e.to_string()))?,
                    revocation_date: time(*at)?,
                    crl_entry_extensions: None,
                })
            })
            .collect::<Result<Vec<_>, PkiError>>()?;
        let algorithm = alg::signature_algorithm(key.scheme())?;
        let tbs = TbsCertList {
            version: Version::V2,
            signature: algorithm.clone(),
            issuer: issuer.x509().tbs_certificate().subject().clone(),
            this_update: time(this_update)?,
            next_update: None,
            revoked_certificates: (!revoked.is_empty()).then_some(revoked),
            crl_extensions: None,
        };
        let tbs_der = tbs.to_der().map_err(|e| PkiError::Issue(e.to_string()))?;
        let der_bytes = crate::issue::sign_and_wrap(key, &tbs_der, algorithm)?;
        RevocationList::from_der(&der_bytes)
    }

    /// Parses a DER CRL (the signature is checked by [`RevocationList::verify`]).
    pub fn from_der(der_bytes: &[u8]) -> Result<RevocationList, PkiError> {
        if der_bytes.len() > MAX_CRL_DER_BYTES {
            return Err(PkiError::malformed("CRL", "too large"));
        }
        let (tbs, algorithm, signature) = split_signed("CRL", der_bytes)?;
        let list = CertificateList::<x509_cert::certificate::Rfc5280>::from_der(der_bytes)
            .map_err(|e| PkiError::malformed("CRL", e))?;
        let t = &list.tbs_cert_list;
        if t.signature != list.signature_algorithm {
            return Err(PkiError::malformed(
                "CRL",
                "signature algorithm differs from the signed one",
            ));
        }
        let revoked = t.revoked_certificates.as_deref().unwrap_or_default();
        if revoked.len() > MAX_CRL_ENTRIES {
            return Err(PkiError::malformed("CRL", "too many entries"));
        }
        let entries = revoked
            .iter()
            .map(|r| {
                (
                    Serial::from_bytes(r.serial_number.as_bytes()),
                    r.revocation_date.to_unix_duration().as_secs(),
                )
            })
            .collect();
        Ok(RevocationList {
            der: der_bytes.to_vec(),
            tbs,
            algorithm,
            signature,
            issuer: t.issuer.to_string(),
            this_update: t.this_update.to_unix_duration().as_secs(),
            entries,
        })
    }

    /// Parses the first `X509 CRL` block of a PEM text.
    pub fn from_pem(pem: &str) -> Result<RevocationList, PkiError> {
        let blocks = pem_blocks(pem, "X509 CRL")?;
        let first = blocks
            .first()
            .ok_or_else(|| PkiError::malformed("PEM", "no X509 CRL block"))?;
        RevocationList::from_der(first)
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// PEM (`X509 CRL`).
    pub fn to_pem(&self) -> String {
        to_pem("X509 CRL", &self.der)
    }

    /// Checks that `issuer` (the consortium root) signed this list under its name.
    pub fn verify(&self, issuer: &Certificate) -> Result<(), PkiError> {
        if self.issuer != issuer.subject() {
            return Err(PkiError::UnknownIssuer {
                subject: "CRL".into(),
                issuer: self.issuer.clone(),
            });
        }
        if alg::verify(
            &self.algorithm,
            issuer.scheme(),
            issuer.public_key(),
            &self.tbs,
            &self.signature,
        )? {
            Ok(())
        } else {
            Err(PkiError::BadSignature {
                subject: "CRL".into(),
                issuer: issuer.subject(),
            })
        }
    }

    /// Issuer name, RFC 4514.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// thisUpdate, Unix seconds.
    pub fn this_update(&self) -> u64 {
        self.this_update
    }

    /// Serial → revocation time.
    pub fn entries(&self) -> &BTreeMap<Serial, u64> {
        &self.entries
    }

    /// The revoked serials as a set.
    pub fn revoked(&self) -> RevokedSet {
        self.entries.keys().cloned().collect()
    }
}
