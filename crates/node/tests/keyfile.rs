//! Key file permissions (issue 12, security review 14): `save` narrows an existing file to mode
//! 0600 before the secret goes in; `load` refuses a key file group or others may access.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keel_crypto::{Scheme, Suite};
use keel_node::{KeyFile, NodeError};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn save_over_a_world_readable_file_makes_it_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("validator.key");
    std::fs::write(&path, b"old content\n").unwrap();
    chmod(&path, 0o644);
    let (kf, _) = KeyFile::generate(Scheme::Ed25519, Suite::Intl).unwrap();
    kf.save(&path).unwrap();
    assert_eq!(mode(&path), 0o600, "an existing 0644 file keeps its mode");
    let (loaded, _) = KeyFile::load(&path).unwrap();
    assert_eq!(loaded.address, kf.address);
}

#[test]
fn load_refuses_a_key_readable_by_group_or_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("account.key");
    let (kf, _) = KeyFile::generate(Scheme::Secp256k1, Suite::Intl).unwrap();
    kf.save(&path).unwrap();
    for wide in [0o644, 0o640, 0o604, 0o660, 0o602] {
        chmod(&path, wide);
        match KeyFile::load(&path) {
            Err(NodeError::Config { what, reason, .. }) => {
                assert_eq!(what, "key file");
                assert!(reason.contains("chmod 600"), "{reason}");
            }
            Err(e) => panic!("mode {wide:o}: expected a key-file refusal, got {e}"),
            Ok(_) => panic!("mode {wide:o}: a key readable by others was loaded"),
        }
    }
    chmod(&path, 0o600);
    assert_eq!(KeyFile::load(&path).unwrap().0.address, kf.address);
    chmod(&path, 0o400);
    assert_eq!(KeyFile::load(&path).unwrap().0.address, kf.address);
}
