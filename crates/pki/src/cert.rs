//! [`Certificate`]: a parsed X.509 v3 certificate with the fields Keel uses, and PEM files.

use std::fmt;
use std::str::FromStr;

use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier};
use der::{Decode as _, Encode as _};
use keel_crypto::{HashAlgorithm, Scheme};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

use crate::{PkiError, Role, alg, role::CA_UNIT};

/// Longest certificate accepted, in DER bytes.
pub const MAX_CERT_DER_BYTES: usize = 8 * 1024;
/// Most certificates read from one PEM file.
pub const MAX_PEM_CERTS: usize = 8;

const OID_OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
const OID_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

/// A certificate serial number (big-endian magnitude); shown as lowercase hex.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial(Vec<u8>);

impl Serial {
    /// From the INTEGER's content bytes; a leading 0x00 sign byte is dropped.
    pub fn from_bytes(bytes: &[u8]) -> Serial {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        Serial(bytes[start..].to_vec())
    }

    /// The magnitude, big-endian, without leading zeros.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// 16 random bytes, positive, first byte non-zero (so the DER INTEGER is 16 bytes).
    pub fn random() -> Result<Serial, PkiError> {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).map_err(|e| PkiError::Issue(format!("no entropy: {e}")))?;
        b[0] = (b[0] & 0x7f) | 0x40;
        Ok(Serial(b.to_vec()))
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl FromStr for Serial {
    type Err = PkiError;
    /// Hex, with or without `0x` and `:` separators (as OpenSSL prints serials).
    fn from_str(s: &str) -> Result<Serial, PkiError> {
        let clean: String = s
            .trim()
            .trim_start_matches("0x")
            .chars()
            .filter(|c| *c != ':')
            .collect();
        let clean = if clean.len() % 2 == 1 {
            format!("0{clean}")
        } else {
            clean
        };
        let bytes = hex::decode(&clean).map_err(|e| PkiError::malformed("serial", e))?;
        if bytes.is_empty() || bytes.len() > 20 {
            return Err(PkiError::malformed("serial", "need 1..=20 bytes"));
        }
        Ok(Serial::from_bytes(&bytes))
    }
}

/// The outer `SEQUENCE { tbs, algorithm, signature }` of a certificate or CRL, keeping the
/// signed bytes exactly as received.
#[derive(der::Sequence)]
pub(crate) struct RawSigned<'a> {
    pub(crate) tbs: AnyRef<'a>,
    pub(crate) algorithm: AlgorithmIdentifierOwned,
    pub(crate) signature: BitStringRef<'a>,
}

/// Splits signed DER into (tbs DER, algorithm, signature bytes).
pub(crate) fn split_signed(
    what: &'static str,
    der_bytes: &[u8],
) -> Result<(Vec<u8>, AlgorithmIdentifierOwned, Vec<u8>), PkiError> {
    let raw = RawSigned::from_der(der_bytes).map_err(|e| PkiError::malformed(what, e))?;
    let tbs = raw.tbs.to_der().map_err(|e| PkiError::malformed(what, e))?;
    let sig = raw
        .signature
        .as_bytes()
        .ok_or_else(|| PkiError::malformed(what, "signature has unused bits"))?
        .to_vec();
    Ok((tbs, raw.algorithm, sig))
}

/// A parsed certificate. Construction checks the structure and the public key, not the
/// signature or dates (see [`crate::verify_chain`]).
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: Vec<u8>,
    algorithm: AlgorithmIdentifierOwned,
    signature: Vec<u8>,
    inner: x509_cert::Certificate,
    scheme: Scheme,
    public_key: Vec<u8>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject())
            .field("issuer", &self.issuer())
            .field("serial", &self.serial().to_string())
            .finish_non_exhaustive()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}
impl Eq for Certificate {}

impl Certificate {
    /// Parses one DER certificate (no trailing bytes).
    pub fn from_der(der_bytes: &[u8]) -> Result<Certificate, PkiError> {
        if der_bytes.len() > MAX_CERT_DER_BYTES {
            return Err(PkiError::malformed(
                "certificate",
                format!("{} bytes > {MAX_CERT_DER_BYTES}", der_bytes.len()),
            ));
        }
        let (tbs, algorithm, signature) = split_signed("certificate", der_bytes)?;
        let inner = x509_cert::Certificate::from_der(der_bytes)
            .map_err(|e| PkiError::malformed("certificate", e))?;
        if inner.signature_algorithm() != inner.tbs_certificate().signature() {
            return Err(PkiError::malformed(
                "certificate",
                "signature algorithm differs from the signed one",
            ));
        }
        let (scheme, public_key) =
            alg::public_key_of(inner.tbs_certificate().subject_public_key_info())?;
        Ok(Certificate {
            der: der_bytes.to_vec(),
            tbs,
            algorithm,
            signature,
            inner,
            scheme,
            public_key,
        })
    }

    /// Parses every `CERTIFICATE` block of a PEM text, in order (at most [`MAX_PEM_CERTS`]).
    pub fn from_pem_chain(pem: &str) -> Result<Vec<Certificate>, PkiError> {
        let blocks = pem_blocks(pem, "CERTIFICATE")?;
        if blocks.is_empty() {
            return Err(PkiError::malformed("PEM", "no CERTIFICATE block"));
        }
        if blocks.len() > MAX_PEM_CERTS {
            return Err(PkiError::malformed(
                "PEM",
                format!("more than {MAX_PEM_CERTS} certificates"),
            ));
        }
        blocks.iter().map(|b| Certificate::from_der(b)).collect()
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The PEM encoding (one block, LF line endings).
    pub fn to_pem(&self) -> String {
        to_pem("CERTIFICATE", &self.der)
    }

    pub(crate) fn x509(&self) -> &x509_cert::Certificate {
        &self.inner
    }

    /// Subject, RFC 4514.
    pub fn subject(&self) -> String {
        self.inner.tbs_certificate().subject().to_string()
    }

    /// Issuer, RFC 4514.
    pub fn issuer(&self) -> String {
        self.inner.tbs_certificate().issuer().to_string()
    }

    /// Whether subject and issuer names are equal (a root candidate).
    pub fn is_self_issued(&self) -> bool {
        self.inner.tbs_certificate().subject() == self.inner.tbs_certificate().issuer()
    }

    /// The serial number.
    pub fn serial(&self) -> Serial {
        Serial::from_bytes(self.inner.tbs_certificate().serial_number().as_bytes())
    }

    /// notBefore, Unix seconds.
    pub fn not_before(&self) -> u64 {
        self.inner
            .tbs_certificate()
            .validity()
            .not_before
            .to_unix_duration()
            .as_secs()
    }

    /// notAfter, Unix seconds.
    pub fn not_after(&self) -> u64 {
        self.inner
            .tbs_certificate()
            .validity()
            .not_after
            .to_unix_duration()
            .as_secs()
    }

    /// The key's scheme (SM2 or Ed25519).
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The subject public key in Keel's encoding (SM2: 33 bytes compressed; Ed25519: 32).
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// Every value of a subject attribute, in order.
    fn subject_values(&self, oid: ObjectIdentifier) -> Vec<String> {
        self.inner
            .tbs_certificate()
            .subject()
            .iter()
            .filter(|atv| atv.oid == oid)
            .filter_map(|atv| {
                x509_cert::ext::pkix::name::DirectoryString::try_from(&atv.value).ok()
            })
            .map(String::from)
            .collect()
    }

    /// The subject's common name (CN), if any.
    pub fn common_name(&self) -> Option<String> {
        self.subject_values(OID_CN).into_iter().next()
    }

    /// The subject's organisation (O), if exactly one.
    pub fn organization(&self) -> Option<String> {
        let mut all = self.subject_values(OID_O);
        (all.len() == 1).then(|| all.remove(0))
    }

    /// The Keel role: the one subject OU that names a [`Role`]. `None` if there is none, or
    /// more than one OU (ambiguous), or the OU is [`CA_UNIT`] or unknown.
    pub fn role(&self) -> Option<Role> {
        let units = self.subject_values(OID_OU);
        match units.as_slice() {
            [one] if one != CA_UNIT => one.parse().ok(),
            _ => None,
        }
    }

    /// basicConstraints: `Some(path_len)` for a CA (`path_len` `None` = unlimited), `None` for
    /// an end entity or when the extension is absent or malformed.
    pub fn ca_constraints(&self) -> Option<Option<u8>> {
        match self
            .inner
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
        {
            Ok(Some((_, bc))) if bc.ca => Some(bc.path_len_constraint),
            _ => None,
        }
    }

    /// Whether the subject is a CA.
    pub fn is_ca(&self) -> bool {
        self.ca_constraints().is_some()
    }

    /// keyUsage, if present and well-formed.
    pub fn key_usage(&self) -> Option<KeyUsage> {
        match self.inner.tbs_certificate().get_extension::<KeyUsage>() {
            Ok(Some((_, ku))) => Some(ku),
            _ => None,
        }
    }

    /// Hash of the DER encoding, hex (SM3 for SM2 certificates, SHA-256 for the others).
    pub fn fingerprint(&self) -> (HashAlgorithm, String) {
        (
            self.fingerprint_alg(),
            hex::encode(self.fingerprint_digest()),
        )
    }

    /// The fingerprint's bytes: what governance revokes (`GovAction::RevokeCertificate`) and
    /// binds accounts to.
    pub fn fingerprint_digest(&self) -> keel_crypto::Digest {
        self.fingerprint_alg().digest(&self.der)
    }

    fn fingerprint_alg(&self) -> HashAlgorithm {
        match self.scheme {
            Scheme::Sm2 => HashAlgorithm::Sm3,
            _ => HashAlgorithm::Sha256,
        }
    }

    /// Checks that `issuer`'s key signed this certificate (signature only; no names, dates or
    /// constraints).
    pub fn verify_signed_by(&self, issuer: &Certificate) -> Result<(), PkiError> {
        let ok = alg::verify(
            &self.algorithm,
            issuer.scheme,
            &issuer.public_key,
            &self.tbs,
            &self.signature,
        )?;
        if ok {
            Ok(())
        } else {
            Err(PkiError::BadSignature {
                subject: self.subject(),
                issuer: issuer.subject(),
            })
        }
    }
}

/// PEM-encodes `der` under `label`.
pub(crate) fn to_pem(label: &'static str, der_bytes: &[u8]) -> String {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der_bytes)
        // Encoding only fails for labels with invalid characters; ours are constants.
        .unwrap_or_default()
}

/// The DER of every PEM block with `label` (other blocks are skipped).
pub(crate) fn pem_blocks(pem: &str, label: &str) -> Result<Vec<Vec<u8>>, PkiError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find(&begin) {
        let after = &rest[start..];
        let stop = after
            .find(&end)
            .ok_or_else(|| PkiError::malformed("PEM", format!("{begin} without {end}")))?;
        let block = &after[..stop + end.len()];
        let (found, bytes) =
            der::pem::decode_vec(block.as_bytes()).map_err(|e| PkiError::malformed("PEM", e))?;
        if found != label {
            return Err(PkiError::malformed("PEM", format!("label {found}")));
        }
        out.push(bytes);
        if out.len() > MAX_PEM_CERTS {
            break;
        }
        rest = &after[stop + end.len()..];
    }
    Ok(out)
}
