//! The store folder itself: creation, the lock, the layout version.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::Read;
use std::path::Path;

use super::disk::{self, io_error, sync_dir};
use crate::FileStoreError;

const VERSION_TEXT: &[u8] = b"keel-filestore shard store 1\n";

/// Creates the store folder if needed, making its entry durable in its parent.
pub(super) fn create_root(root: &Path) -> Result<(), FileStoreError> {
    if fs::symlink_metadata(root).is_ok() {
        return Ok(());
    }
    fs::create_dir_all(root).map_err(|e| io_error("create store folder", root, e))?;
    let parent = root.parent().filter(|p| !p.as_os_str().is_empty());
    sync_dir(parent.unwrap_or(Path::new(".")))
}

/// Takes the folder's exclusive lock (`flock` through `File::try_lock`), held until drop.
pub(super) fn lock(root: &Path) -> Result<File, FileStoreError> {
    let path = root.join("LOCK");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io_error("open lock file", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(FileStoreError::StoreLocked { path }),
        Err(TryLockError::Error(e)) => Err(io_error("lock", &path, e)),
    }
}

/// Writes `VERSION` on a new store; refuses a store written by another layout version.
pub(super) fn check_version(root: &Path) -> Result<(), FileStoreError> {
    let path = root.join("VERSION");
    match File::open(&path) {
        Ok(file) => {
            let mut text = Vec::new();
            let limit = VERSION_TEXT.len() as u64 + 1;
            file.take(limit)
                .read_to_end(&mut text)
                .map_err(|e| io_error("read", &path, e))?;
            if text != VERSION_TEXT {
                return Err(FileStoreError::StoreVersionUnsupported { path });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let temp = root.join("tmp").join("VERSION.tmp");
            disk::write_new_synced(&temp, &[VERSION_TEXT])?;
            fs::rename(&temp, &path).map_err(|e| io_error("rename", &path, e))?;
            sync_dir(root)
        }
        Err(e) => Err(io_error("open", &path, e)),
    }
}
