//! Key files: JSON with the scheme, secret (hex), public key and address. Written with mode
//! 0600, also over an existing file of wider mode; a key file readable or writable by group or
//! others is refused at load (like OpenSSH), since its secret may already be exposed.

use crate::NodeError;
use keel_crypto::{KeyPair, Scheme, Suite};
use keel_types::Address;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// On-disk key.
#[derive(Clone, Serialize, Deserialize)]
pub struct KeyFile {
    /// Scheme name.
    pub scheme: String,
    /// Secret key, hex.
    pub secret_key: String,
    /// Public key, hex.
    pub public_key: String,
    /// Address under the suite it was created for.
    pub address: Address,
    /// Suite the address was derived under.
    pub suite: String,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFile")
            .field("scheme", &self.scheme)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl KeyFile {
    /// A fresh key from OS entropy.
    pub fn generate(scheme: Scheme, suite: Suite) -> Result<(KeyFile, KeyPair), NodeError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| {
            NodeError::Invariant(format!("operating system entropy unavailable: {e}"))
        })?;
        let key = KeyPair::from_seed(scheme, &seed);
        Ok((KeyFile::from_key(&key, suite), key))
    }

    /// Describe an existing key.
    pub fn from_key(key: &KeyPair, suite: Suite) -> KeyFile {
        let pk = key.public_key();
        let address = keel_crypto::address_of(key.scheme(), &pk, suite.hash())
            .expect("a key pair's own public key is valid");
        KeyFile {
            scheme: key.scheme().name().into(),
            secret_key: hex::encode(key.secret_bytes().as_slice()),
            public_key: hex::encode(&pk),
            address: Address(address),
            suite: suite.name().into(),
        }
    }

    /// Load and check consistency.
    pub fn load(path: &Path) -> Result<(KeyFile, KeyPair), NodeError> {
        let bad = |reason: String| NodeError::Config {
            what: "key file",
            path: path.into(),
            reason,
        };
        check_private(path).map_err(|e| match e {
            Ok(reason) => bad(reason),
            Err(e) => NodeError::io(path, e),
        })?;
        let text = std::fs::read_to_string(path).map_err(|e| NodeError::io(path, e))?;
        let kf: KeyFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let scheme: Scheme = kf
            .scheme
            .parse()
            .map_err(|_| bad(format!("unknown scheme {}", kf.scheme)))?;
        let secret =
            hex::decode(&kf.secret_key).map_err(|_| bad("secret_key is not hex".into()))?;
        let key = KeyPair::from_secret_bytes(scheme, &secret).map_err(|e| bad(e.to_string()))?;
        if hex::encode(key.public_key()) != kf.public_key.trim_start_matches("0x") {
            return Err(bad("public_key does not match secret_key".into()));
        }
        Ok((kf, key))
    }

    /// Write with mode 0600 (owner only), also when the file exists with a wider mode.
    pub fn save(&self, path: &Path) -> Result<(), NodeError> {
        let text = serde_json::to_string_pretty(self).expect("key file serializes") + "\n";
        write_private(path, text.as_bytes()).map_err(|e| NodeError::io(path, e))
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    // `mode` applies only when the file is created: narrow an existing file's mode before the
    // secret goes into it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(bytes)?;
    f.sync_all()
}

/// Mode bits a key file must not have: any access by group or others.
#[cfg(unix)]
const KEY_MODE_FORBIDDEN_BITS: u32 = 0o077;

/// `Err(Ok(reason))` if the key file at `path` is accessible to group or others.
fn check_private(path: &Path) -> Result<(), Result<String, std::io::Error>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(Err)?.permissions().mode();
        if mode & KEY_MODE_FORBIDDEN_BITS != 0 {
            return Err(Ok(format!(
                "mode {:o} lets group or others access the secret key; run `chmod 600 {}` \
                 (and replace the key if others may have read it)",
                mode & 0o777,
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The genesis entry of a node key.
impl KeyFile {
    /// This key as a genesis validator (or observer) named `name`.
    pub fn genesis_validator(&self, name: impl Into<String>) -> keel_ledger::GenesisValidator {
        keel_ledger::GenesisValidator {
            name: name.into(),
            scheme: self.scheme.clone(),
            public_key: self.public_key.clone(),
            address: self.address,
        }
    }
}
