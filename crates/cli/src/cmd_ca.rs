//! `keel ca` (consortium root, organisation CAs, issuing, revoking) and `keel cert` (show,
//! verify). See docs/pki.md and ADR 0010.
//!
//! Layout of a CA folder `DIR` (made by `keel ca init`):
//!
//! ```text
//! DIR/root.crt, DIR/root.key          consortium root CA (self-signed) and its key
//! DIR/crl.pem                         revocation list signed by the root (starts empty)
//! DIR/orgs/<org>/ca.crt, ca.key       organisation CA
//! DIR/issued/<serial>.crt             every end-entity certificate issued (a record)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use keel_crypto::{KeyPair, Scheme, Suite};
use keel_node::KeyFile;
use keel_pki::{
    Certificate, IssueRequest, Issuer, Profile, ROOT_PATH_LEN, RevocationList, RevokedSet, Role,
    Serial, Validity, format_unix_time,
};

use crate::CliError;

#[derive(Subcommand)]
pub(crate) enum CaCmd {
    /// Create the consortium root CA (self-signed) and an empty revocation list in DIR.
    Init(CaInitArgs),
    /// Create an organisation CA signed by the root: DIR/orgs/<NAME>/ca.crt and ca.key.
    Org(CaOrgArgs),
    /// Issue an end-entity certificate (validator, observer, client, auditor, org-admin or
    /// committee) from an organisation CA; writes the chain (certificate, then org CA).
    Issue(CaIssueArgs),
    /// Revoke a certificate by serial: adds it to DIR/crl.pem and re-signs the list.
    Revoke(CaRevokeArgs),
}

#[derive(Args)]
pub(crate) struct CaInitArgs {
    /// CA folder to create.
    #[arg(long)]
    pub(crate) dir: PathBuf,
    /// gm: SM2-with-SM3 certificates; intl: Ed25519.
    #[arg(long, default_value = "gm")]
    pub(crate) suite: Suite,
    /// Consortium name (the root's O and CN).
    #[arg(long, default_value = "Keel Consortium")]
    pub(crate) name: String,
    /// Validity of the root certificate, days.
    #[arg(long, default_value_t = 3650)]
    pub(crate) days: u64,
    /// Overwrite an existing root in DIR.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Args)]
pub(crate) struct CaOrgArgs {
    /// Organisation name (the CA's O; letters, digits, space, '-', '_', '.').
    pub(crate) name: String,
    /// CA folder.
    #[arg(long)]
    pub(crate) dir: PathBuf,
    /// Validity, days.
    #[arg(long, default_value_t = 1825)]
    pub(crate) days: u64,
}

#[derive(Args)]
pub(crate) struct CaIssueArgs {
    /// CA folder.
    #[arg(long)]
    pub(crate) dir: PathBuf,
    /// Role written into the certificate (subject OU): validator, observer, client, org-admin,
    /// auditor or committee.
    #[arg(long, value_parser = parse_role)]
    pub(crate) role: Role,
    /// Issuing organisation (made with `keel ca org`).
    #[arg(long)]
    pub(crate) org: String,
    /// The subject's key file (`keel keys new`), or `new` to create one next to --out.
    #[arg(long)]
    pub(crate) key: String,
    /// Subject common name (default: "<role> <first 8 hex digits of the key>").
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Where to write the chain (PEM: certificate, then the org CA). Default: <name>.crt.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Validity, days.
    #[arg(long, default_value_t = 365)]
    pub(crate) days: u64,
}

#[derive(Args)]
pub(crate) struct CaRevokeArgs {
    /// Serial to revoke, hex (as `keel cert show` prints it; ':' separators allowed).
    pub(crate) serial: String,
    /// CA folder (the root key signs the list).
    #[arg(long)]
    pub(crate) dir: PathBuf,
}

#[derive(Subcommand)]
pub(crate) enum CertCmd {
    /// Print certificates (or a CRL) in human-readable form: subject, issuer, serial,
    /// validity, role, key scheme, fingerprint.
    Show {
        /// PEM file (a chain is shown certificate by certificate) or DER certificate.
        file: PathBuf,
    },
    /// Verify a chain against a root: exit code 0 if valid, 3 if not.
    Verify(CertVerifyArgs),
}

#[derive(Args)]
pub(crate) struct CertVerifyArgs {
    /// Chain file (PEM: the certificate first, then its CA certificates).
    pub(crate) chain: PathBuf,
    /// Trusted root certificate(s), PEM.
    #[arg(long)]
    pub(crate) root: PathBuf,
    /// Revocation list signed by the root (PEM); revoked certificates fail.
    #[arg(long)]
    pub(crate) crl: Option<PathBuf>,
    /// Require one of these roles (repeatable), e.g. `--role validator --role observer`
    /// (validator, observer, client, org-admin, auditor, committee).
    #[arg(long, value_parser = parse_role)]
    pub(crate) role: Vec<Role>,
    /// Check at this time (Unix seconds) instead of now.
    #[arg(long)]
    pub(crate) at: Option<u64>,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse().map_err(|e: keel_pki::UnknownRole| e.to_string())
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn pki_err(e: keel_pki::PkiError) -> CliError {
    CliError::Usage(e.to_string())
}

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| CliError::io(parent, e))?;
    }
    std::fs::write(path, text).map_err(|e| CliError::io(path, e))
}

/// Every certificate of a PEM file (or one DER certificate).
pub(crate) fn load_certs(path: &Path) -> Result<Vec<Certificate>, CliError> {
    let bytes = std::fs::read(path).map_err(|e| CliError::io(path, e))?;
    let parsed = match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("-----BEGIN") => Certificate::from_pem_chain(text),
        _ => Certificate::from_der(&bytes).map(|c| vec![c]),
    };
    parsed.map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

/// The first certificate of a PEM file (the leaf of a chain), or one DER certificate.
pub(crate) fn load_cert(path: &Path) -> Result<Certificate, CliError> {
    load_certs(path)?
        .into_iter()
        .next()
        .ok_or_else(|| CliError::Usage(format!("{}: no certificate in it", path.display())))
}

/// A CA certificate with its key, checked to match.
pub(crate) struct CaKey {
    pub(crate) cert: Certificate,
    pub(crate) key: KeyPair,
}

fn load_ca(cert: &Path, key: &Path) -> Result<CaKey, CliError> {
    let cert = load_cert(cert)?;
    let (_, key) = KeyFile::load(key)?;
    if key.scheme() != cert.scheme() || key.public_key() != cert.public_key() {
        return Err(CliError::Usage(format!(
            "{} does not hold the key of {}",
            key_hint(cert.subject()),
            cert.subject()
        )));
    }
    Ok(CaKey { cert, key })
}

fn key_hint(subject: String) -> String {
    format!("the key file for {subject}")
}

fn suite_of(scheme: Scheme) -> Suite {
    match scheme {
        Scheme::Sm2 => Suite::Gm,
        _ => Suite::Intl,
    }
}

fn org_dir(dir: &Path, org: &str) -> PathBuf {
    dir.join("orgs").join(org)
}

/// `keel ca init`: root certificate, key and an empty CRL.
pub(crate) fn ca_init(a: &CaInitArgs) -> Result<CaKey, CliError> {
    let root_crt = a.dir.join("root.crt");
    if root_crt.exists() && !a.force {
        return Err(CliError::Usage(format!(
            "{} exists; pass --force to replace the consortium root (every certificate issued under it becomes untrusted)",
            root_crt.display()
        )));
    }
    keel_pki::check_name("consortium name", &a.name).map_err(pki_err)?;
    std::fs::create_dir_all(&a.dir).map_err(|e| CliError::io(&a.dir, e))?;
    let (kf, key) = KeyFile::generate(a.suite.signature_scheme(), a.suite)?;
    let now = now_secs();
    let cert = keel_pki::issue(
        &IssueRequest {
            common_name: &a.name,
            organization: &a.name,
            profile: Profile::Ca {
                path_len: ROOT_PATH_LEN,
            },
            scheme: key.scheme(),
            public_key: &key.public_key(),
            validity: Validity::days_from(now, a.days),
            serial: Serial::random().map_err(pki_err)?,
        },
        Issuer::SelfSigned(&key),
    )
    .map_err(pki_err)?;
    kf.save(&a.dir.join("root.key"))?;
    write(&root_crt, &cert.to_pem())?;
    let crl = RevocationList::issue(&cert, &key, &BTreeMap::new(), now).map_err(pki_err)?;
    write(&a.dir.join("crl.pem"), &crl.to_pem())?;
    Ok(CaKey { cert, key })
}

/// `keel ca org`: an organisation CA signed by the root.
pub(crate) fn ca_org(dir: &Path, org: &str, days: u64) -> Result<CaKey, CliError> {
    keel_pki::check_name("organisation", org).map_err(pki_err)?;
    let root = load_ca(&dir.join("root.crt"), &dir.join("root.key"))?;
    let od = org_dir(dir, org);
    if od.join("ca.crt").exists() {
        return Err(CliError::Usage(format!(
            "organisation {org:?} already has a CA in {}",
            od.display()
        )));
    }
    std::fs::create_dir_all(&od).map_err(|e| CliError::io(&od, e))?;
    let scheme = root.key.scheme();
    let (kf, key) = KeyFile::generate(scheme, suite_of(scheme))?;
    let cert = keel_pki::issue(
        &IssueRequest {
            common_name: &format!("{org} CA"),
            organization: org,
            profile: Profile::Ca { path_len: 0 },
            scheme,
            public_key: &key.public_key(),
            validity: Validity::days_from(now_secs(), days),
            serial: Serial::random().map_err(pki_err)?,
        },
        Issuer::Ca {
            cert: &root.cert,
            key: &root.key,
        },
    )
    .map_err(pki_err)?;
    kf.save(&od.join("ca.key"))?;
    write(&od.join("ca.crt"), &cert.to_pem())?;
    Ok(CaKey { cert, key })
}

/// Issues an end-entity certificate for `(scheme, public_key)` from `org`'s CA; returns the
/// chain (certificate, org CA) and records the certificate under DIR/issued.
pub(crate) fn ca_issue(
    dir: &Path,
    org: &str,
    role: Role,
    common_name: &str,
    subject: &KeyPair,
    days: u64,
) -> Result<Vec<Certificate>, CliError> {
    let od = org_dir(dir, org);
    if !od.join("ca.crt").exists() {
        return Err(CliError::Usage(format!(
            "no organisation {org:?} in {}; create it with `keel ca org {org} --dir {}`",
            dir.display(),
            dir.display()
        )));
    }
    let ca = load_ca(&od.join("ca.crt"), &od.join("ca.key"))?;
    let cert = keel_pki::issue(
        &IssueRequest {
            common_name,
            organization: org,
            profile: Profile::EndEntity(role),
            scheme: subject.scheme(),
            public_key: &subject.public_key(),
            validity: Validity::days_from(now_secs(), days),
            serial: Serial::random().map_err(pki_err)?,
        },
        Issuer::Ca {
            cert: &ca.cert,
            key: &ca.key,
        },
    )
    .map_err(pki_err)?;
    write(
        &dir.join("issued").join(format!("{}.crt", cert.serial())),
        &cert.to_pem(),
    )?;
    Ok(vec![cert, ca.cert])
}

/// PEM of a chain.
pub(crate) fn chain_pem(chain: &[Certificate]) -> String {
    chain.iter().map(Certificate::to_pem).collect()
}

fn issue_cmd(a: &CaIssueArgs) -> Result<(), CliError> {
    let root = load_cert(&a.dir.join("root.crt"))?;
    let (key, generated) = if a.key == "new" {
        let scheme = root.scheme();
        let (kf, key) = KeyFile::generate(scheme, suite_of(scheme))?;
        (key, Some(kf))
    } else {
        let (_, key) = KeyFile::load(Path::new(&a.key))?;
        (key, None)
    };
    let name = a
        .name
        .clone()
        .unwrap_or_else(|| format!("{} {}", a.role, &hex::encode(key.public_key())[2..10]));
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.crt", name.replace(' ', "_"))));
    let chain = ca_issue(&a.dir, &a.org, a.role, &name, &key, a.days)?;
    write(&out, &chain_pem(&chain))?;
    println!(
        "issued {} certificate {:?} for organisation {} (serial {}), valid until {}",
        a.role,
        name,
        a.org,
        chain[0].serial(),
        format_unix_time(chain[0].not_after())
    );
    println!("  chain: {}", out.display());
    if let Some(kf) = generated {
        let key_path = out.with_extension("key");
        kf.save(&key_path)?;
        println!("  new key: {} (address {})", key_path.display(), kf.address);
    }
    Ok(())
}

/// Adds `serial` to DIR/crl.pem (re-signed by the root); returns the new list.
pub(crate) fn revoke(dir: &Path, serial: Serial) -> Result<RevocationList, CliError> {
    let root = load_ca(&dir.join("root.crt"), &dir.join("root.key"))?;
    let crl_path = dir.join("crl.pem");
    let mut entries = if crl_path.exists() {
        let crl = RevocationList::from_pem(&read(&crl_path)?).map_err(pki_err)?;
        crl.verify(&root.cert)
            .map_err(|e| CliError::Usage(format!("{}: {e}", crl_path.display())))?;
        crl.entries().clone()
    } else {
        BTreeMap::new()
    };
    let now = now_secs();
    if entries.insert(serial.clone(), now).is_some() {
        return Err(CliError::Usage(format!(
            "serial {serial} is already revoked"
        )));
    }
    let crl = RevocationList::issue(&root.cert, &root.key, &entries, now).map_err(pki_err)?;
    write(&crl_path, &crl.to_pem())?;
    Ok(crl)
}

fn show(file: &Path) -> Result<(), CliError> {
    let text = std::fs::read(file).map_err(|e| CliError::io(file, e))?;
    if let Ok(t) = std::str::from_utf8(&text)
        && t.contains("-----BEGIN X509 CRL-----")
    {
        let crl = RevocationList::from_pem(t).map_err(pki_err)?;
        println!("Revocation list");
        println!("  issuer:      {}", crl.issuer());
        println!("  this update: {}", format_unix_time(crl.this_update()));
        println!("  revoked:     {}", crl.entries().len());
        for (serial, at) in crl.entries() {
            println!("    {serial}  since {}", format_unix_time(*at));
        }
        return Ok(());
    }
    let certs = load_certs(file)?;
    for (i, c) in certs.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print!("{}", describe(c));
    }
    Ok(())
}

/// The human-readable dump of `keel cert show`.
pub(crate) fn describe(c: &Certificate) -> String {
    let kind = match (c.ca_constraints(), c.is_self_issued()) {
        (Some(_), true) => "root CA".to_string(),
        (Some(Some(n)), false) => format!("CA (path length {n})"),
        (Some(None), false) => "CA".to_string(),
        (None, _) => "end entity".to_string(),
    };
    let role = c
        .role()
        .map_or_else(|| "-".to_string(), |r| r.name().to_string());
    let (alg, fp) = c.fingerprint();
    let mut out = String::new();
    out.push_str(&format!("Certificate ({kind})\n"));
    out.push_str(&format!("  subject:     {}\n", c.subject()));
    out.push_str(&format!("  issuer:      {}\n", c.issuer()));
    out.push_str(&format!("  serial:      {}\n", c.serial()));
    out.push_str(&format!(
        "  valid:       {} .. {}\n",
        format_unix_time(c.not_before()),
        format_unix_time(c.not_after())
    ));
    out.push_str(&format!("  role:        {role}\n"));
    out.push_str(&format!(
        "  organisation: {}\n",
        c.organization().unwrap_or_else(|| "-".into())
    ));
    out.push_str(&format!(
        "  key:         {} {}\n",
        c.scheme().name(),
        hex::encode(c.public_key())
    ));
    if let Ok(address) =
        keel_crypto::address_of(c.scheme(), c.public_key(), suite_of(c.scheme()).hash())
    {
        out.push_str(&format!("  address:     0x{}\n", hex::encode(address)));
    }
    out.push_str(&format!("  fingerprint: {alg:?} {fp}\n"));
    out
}

/// Loads a CRL and checks it was signed by one of `roots`.
pub(crate) fn load_crl(path: &Path, roots: &[Certificate]) -> Result<RevocationList, CliError> {
    let crl = RevocationList::from_pem(&read(path)?)
        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    let signed = roots.iter().any(|r| crl.verify(r).is_ok());
    if !signed {
        return Err(CliError::Verify(format!(
            "{}: the revocation list is not signed by the given root",
            path.display()
        )));
    }
    Ok(crl)
}

fn verify_cmd(a: &CertVerifyArgs) -> Result<(), CliError> {
    let chain = load_certs(&a.chain)?;
    let roots = load_certs(&a.root)?;
    let revoked = match &a.crl {
        Some(p) => load_crl(p, &roots)?.revoked(),
        None => RevokedSet::new(),
    };
    let now = a.at.unwrap_or_else(now_secs);
    let verified = keel_pki::verify_chain(&chain, &roots, now, &revoked)
        .map_err(|e| CliError::Verify(format!("{} ({})", e, e.code())))?;
    if !a.role.is_empty() {
        keel_pki::check_usage(&verified, &a.role)
            .map_err(|e| CliError::Verify(format!("{} ({})", e, e.code())))?;
    }
    let leaf = verified.leaf();
    println!(
        "OK: {} (role {}, serial {}) chains to {} ({} certificates); valid until {}",
        leaf.subject(),
        leaf.role().map_or("-", |r| r.name()),
        leaf.serial(),
        verified.anchor().subject(),
        verified.path().len(),
        format_unix_time(verified.not_after())
    );
    Ok(())
}

pub(crate) fn ca(c: CaCmd) -> Result<(), CliError> {
    match c {
        CaCmd::Init(a) => {
            let root = ca_init(&a)?;
            println!(
                "created consortium root {:?} ({}, serial {}) in {}",
                a.name,
                root.cert.scheme().name(),
                root.cert.serial(),
                a.dir.display()
            );
            println!("  root certificate: {}", a.dir.join("root.crt").display());
            println!("  revocation list:  {}", a.dir.join("crl.pem").display());
            println!("next: keel ca org <name> --dir {}", a.dir.display());
            Ok(())
        }
        CaCmd::Org(a) => {
            let org = ca_org(&a.dir, &a.name, a.days)?;
            println!(
                "created organisation CA {:?} (serial {}) in {}",
                a.name,
                org.cert.serial(),
                org_dir(&a.dir, &a.name).display()
            );
            Ok(())
        }
        CaCmd::Issue(a) => issue_cmd(&a),
        CaCmd::Revoke(a) => {
            let serial: Serial = a.serial.parse().map_err(pki_err)?;
            let crl = revoke(&a.dir, serial.clone())?;
            println!(
                "revoked {serial}; {} now lists {} serial(s). Copy it to every node's crl_file (nodes re-read it).",
                a.dir.join("crl.pem").display(),
                crl.entries().len()
            );
            Ok(())
        }
    }
}

pub(crate) fn cert(c: CertCmd) -> Result<(), CliError> {
    match c {
        CertCmd::Show { file } => show(&file),
        CertCmd::Verify(a) => verify_cmd(&a),
    }
}
