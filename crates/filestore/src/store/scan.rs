//! Startup work: remove leftover temp files, walk the shard folders, recompute usage.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::disk::{io_error, read_header, sync_dir};
use super::{OpenReport, Usage, shard_path};
use crate::{FileStoreError, OwnerId, ShardAddress};

/// Removes every entry of the temp folder: writes that never reached their rename.
///
/// Only called while the store's lock is held, so no live write is removed.
pub(super) fn clean_temp(tmp: &Path) -> Result<u64, FileStoreError> {
    let mut removed = 0;
    for entry in fs::read_dir(tmp).map_err(|e| io_error("list temp folder", tmp, e))? {
        let path = entry
            .map_err(|e| io_error("list temp folder", tmp, e))?
            .path();
        // Everything in tmp/ is the store's own; a folder there is removed too, not fatal.
        let is_dir = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        let removed_entry = if is_dir {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        removed_entry.map_err(|e| io_error("remove temp file", &path, e))?;
        removed += 1;
    }
    if removed > 0 {
        sync_dir(tmp)?;
    }
    Ok(removed)
}

/// Calls `found` for each well-named shard file under `shards`; returns the stray-entry count.
///
/// A shard file sits at `shards/<aa>/<bb>/<address hex>` where `aa`, `bb` are the first two
/// digest bytes. Anything else (a wrong name, a file where a folder belongs) is counted as
/// stray and left alone: the store never deletes what it did not write.
pub(super) fn walk(
    shards: &Path,
    found: &mut impl FnMut(ShardAddress, PathBuf) -> Result<(), FileStoreError>,
) -> Result<u64, FileStoreError> {
    let mut strays = 0;
    for outer in list_dir(shards)? {
        if !is_fanout_dir(&outer) {
            strays += 1;
            continue;
        }
        for inner in list_dir(&outer)? {
            if !is_fanout_dir(&inner) {
                strays += 1;
                continue;
            }
            for file in list_dir(&inner)? {
                match shard_at(shards, &file) {
                    Some(address) => found(address, file)?,
                    None => strays += 1,
                }
            }
        }
    }
    Ok(strays)
}

/// Rebuilds per-owner usage from the shard headers (see `docs/filestore.md`, why not a ledger).
pub(super) fn recompute_usage(
    shards: &Path,
) -> Result<(HashMap<OwnerId, Usage>, OpenReport), FileStoreError> {
    let mut usage: HashMap<OwnerId, Usage> = HashMap::new();
    let mut report = OpenReport::default();
    report.stray_entries = walk(shards, &mut |_, path| {
        match read_header(&path)? {
            Some(header) => {
                let entry = usage.entry(header.owner).or_default();
                entry.bytes = entry.bytes.saturating_add(header.len_bytes.into());
                entry.shards = entry.shards.saturating_add(1);
                report.shards += 1;
            }
            None => report.unreadable_shards += 1,
        }
        Ok(())
    })?;
    Ok((usage, report))
}

fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, FileStoreError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| io_error("list folder", dir, e))? {
        out.push(entry.map_err(|e| io_error("list folder", dir, e))?.path());
    }
    out.sort();
    Ok(out)
}

fn is_fanout_dir(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let hex = name.len() == 2 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    hex && fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// The address of `file` if its name parses and it sits in the folder its address maps to.
fn shard_at(shards: &Path, file: &Path) -> Option<ShardAddress> {
    let address = ShardAddress::from_hex(file.file_name()?.to_str()?).ok()?;
    let regular = fs::symlink_metadata(file).is_ok_and(|m| m.is_file());
    (shard_path(shards, &address) == file && regular).then_some(address)
}
