//! The local shard store: one folder of its own, one file per shard, named by its address.
//!
//! ```text
//! <root>/VERSION                      "keel-filestore shard store 1\n"
//! <root>/LOCK                         held (flock) while a ShardStore is open
//! <root>/tmp/<n>.tmp                  writes in progress; emptied on open
//! <root>/shards/<aa>/<bb>/<address>   header ‖ shard bytes (see `disk.rs`)
//! ```
//!
//! `<address>` is the multihash in lower-case hex, `aa` and `bb` the first two digest bytes.
//! A put writes a temp file, fsyncs it, renames it into place and fsyncs the folder: a put that
//! returned `Ok` survives a crash, and a killed put leaves only a temp file, never a half shard
//! at a shard's path. Per-owner usage is recomputed from the shard headers on open.

#[cfg(test)]
mod crash_tests;
mod disk;
mod folder;
mod scan;
mod types;

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use keel_crypto::HashAlgorithm;

use self::disk::{Header, Stored, ensure_dir, io_error, load, read_header, sync_dir};
use self::folder::{check_version, create_root, lock};
use crate::cipher::TAG_LEN_BYTES;
use crate::{CHUNK_SIZE_MAX_BYTES, FileStoreError, ShardAddress};

pub use self::types::{OpenReport, OwnerId, PutOutcome, Quota, StoreConfig, Usage};

/// Largest shard any store holds: a whole sealed chunk of the largest size (`k = 1`).
pub const SHARD_SIZE_MAX_BYTES: u32 = CHUNK_SIZE_MAX_BYTES + TAG_LEN_BYTES as u32;

/// A node's local shard store. One per folder; [`ShardStore::open`] takes the folder's lock.
#[derive(Debug)]
pub struct ShardStore {
    root: PathBuf,
    config: StoreConfig,
    quotas: HashMap<OwnerId, Quota>,
    usage: HashMap<OwnerId, Usage>,
    report: OpenReport,
    temp_count: u64,
    /// Test builds: the step at which the next put stops as if the process died there.
    #[cfg(test)]
    crash_at: Option<CrashPoint>,
    /// Holds the folder's lock until the store is dropped.
    _lock: File,
}

/// The steps of a put a crash can fall between (see `crash_tests.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CrashPoint {
    /// While the temp file is being written.
    TempTorn,
    /// After the temp file is written and fsynced, before the rename.
    TempWritten,
    /// After the rename, before the folder's fsync.
    Renamed,
}

impl ShardStore {
    /// Opens (creating if needed) the store at `root`: locks it, removes leftover temp files,
    /// checks the layout version and recomputes every owner's usage from the shard headers.
    pub fn open(root: &Path, config: StoreConfig) -> Result<ShardStore, FileStoreError> {
        config.check()?;
        create_root(root)?;
        let lock = lock(root)?;
        ensure_dir(&root.join("tmp"))?;
        let temp_files_removed = scan::clean_temp(&root.join("tmp"))?;
        check_version(root)?;
        ensure_dir(&root.join("shards"))?;
        let (usage, report) = scan::recompute_usage(&root.join("shards"))?;
        let report = OpenReport {
            temp_files_removed,
            ..report
        };
        Ok(ShardStore {
            root: root.to_path_buf(),
            config,
            quotas: HashMap::new(),
            usage,
            report,
            temp_count: 0,
            #[cfg(test)]
            crash_at: None,
            _lock: lock,
        })
    }

    /// What [`ShardStore::open`] found: temp files removed, shards, unreadable and stray files.
    pub fn open_report(&self) -> OpenReport {
        self.report
    }

    /// Sets `owner`'s quota (from the chain); lowering it below usage only refuses new puts.
    pub fn set_quota(&mut self, owner: OwnerId, quota: Quota) {
        self.quotas.insert(owner, quota);
    }

    /// `owner`'s quota: the one set, else the configured default.
    pub fn quota(&self, owner: &OwnerId) -> Quota {
        *self.quotas.get(owner).unwrap_or(&self.config.quota_default)
    }

    /// Bytes and shards stored for `owner`.
    pub fn usage(&self, owner: &OwnerId) -> Usage {
        self.usage.get(owner).copied().unwrap_or_default()
    }

    /// Stores `bytes` under `address` for `owner`, durably, once it checks.
    ///
    /// Refused with nothing stored: a size outside `1..=shard_size_max_bytes`, an address that
    /// is not SHA-256 or SM3, bytes that do not hash to `address`, a shard held by another
    /// owner, or a quota that would be exceeded. Putting a valid shard again is a no-op; a
    /// corrupt copy on disk is replaced (this is how repair restores a rotted shard).
    pub fn put(
        &mut self,
        owner: OwnerId,
        address: &ShardAddress,
        bytes: &[u8],
    ) -> Result<PutOutcome, FileStoreError> {
        self.check_shard(address, bytes)?;
        let path = self.path(address);
        let previous = match load(&path, address)? {
            Stored::Valid { header, .. } if header.owner == owner => {
                return Ok(PutOutcome::AlreadyStored);
            }
            Stored::Valid { .. } => {
                return Err(FileStoreError::ShardOwnedByOther { address: *address });
            }
            Stored::Corrupt { header, .. } => Some(header),
            Stored::Absent => None,
        };
        let len_bytes = u32::try_from(bytes.len()).expect("checked against the shard limit");
        let credit = previous.flatten().filter(|h| h.owner == owner);
        self.check_quota(owner, len_bytes, credit)?;
        self.write_shard(&path, Header { owner, len_bytes }, bytes)?;
        if let Some(old) = previous.flatten() {
            self.uncharge(old);
        }
        self.charge(Header { owner, len_bytes });
        Ok(match previous {
            Some(_) => PutOutcome::Replaced,
            None => PutOutcome::Stored,
        })
    }

    /// The shard's bytes, checked against `address` on every read; `Ok(None)` if absent.
    ///
    /// A shard that fails its check is reported as [`FileStoreError::ShardCorrupt`], never
    /// returned.
    pub fn get(&self, address: &ShardAddress) -> Result<Option<Vec<u8>>, FileStoreError> {
        check_address(address)?;
        match load(&self.path(address), address)? {
            Stored::Absent => Ok(None),
            Stored::Valid { payload, .. } => Ok(Some(payload)),
            Stored::Corrupt { what, .. } => Err(FileStoreError::ShardCorrupt {
                address: *address,
                what,
            }),
        }
    }

    /// True when a file exists for `address` (without reading or checking it).
    pub fn has(&self, address: &ShardAddress) -> Result<bool, FileStoreError> {
        check_address(address)?;
        let path = self.path(address);
        match fs::symlink_metadata(&path) {
            Ok(meta) => Ok(meta.is_file()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_error("stat shard", &path, e)),
        }
    }

    /// Every stored address, sorted (walks the folders: O(shards)).
    pub fn list(&self) -> Result<Vec<ShardAddress>, FileStoreError> {
        let mut out = Vec::new();
        scan::walk(&self.root.join("shards"), &mut |address, _| {
            out.push(address);
            Ok(())
        })?;
        out.sort();
        Ok(out)
    }

    /// Removes the shard durably and credits its owner; `Ok(false)` if it was not stored.
    pub fn delete(&mut self, address: &ShardAddress) -> Result<bool, FileStoreError> {
        check_address(address)?;
        let path = self.path(address);
        let header = read_header(&path)?;
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io_error("remove shard", &path, e)),
        }
        sync_dir(path.parent().expect("shard paths have a folder"))?;
        if let Some(header) = header {
            self.uncharge(header);
        }
        Ok(true)
    }

    fn path(&self, address: &ShardAddress) -> PathBuf {
        shard_path(&self.root.join("shards"), address)
    }

    fn check_shard(&self, address: &ShardAddress, bytes: &[u8]) -> Result<(), FileStoreError> {
        let max_bytes = self.config.shard_size_max_bytes;
        if bytes.is_empty() || bytes.len() > max_bytes as usize {
            let len_bytes = bytes.len() as u64;
            return Err(FileStoreError::ShardSizeInvalid {
                len_bytes,
                max_bytes,
            });
        }
        check_address(address)?;
        let actual = ShardAddress::of(address.hash(), bytes);
        if actual != *address {
            let expected = *address;
            return Err(FileStoreError::ShardAddressMismatch { expected, actual });
        }
        Ok(())
    }

    /// Refuses a put that would exceed `owner`'s quota; `credit` is a corrupt copy it replaces.
    fn check_quota(
        &self,
        owner: OwnerId,
        len_bytes: u32,
        credit: Option<Header>,
    ) -> Result<(), FileStoreError> {
        let (quota, used) = (self.quota(&owner), self.usage(&owner));
        let credit_bytes = credit.map_or(0, |h| u64::from(h.len_bytes));
        let used_bytes = used.bytes.saturating_sub(credit_bytes);
        let used_shards = used.shards.saturating_sub(u64::from(credit.is_some()));
        let shard_bytes = u64::from(len_bytes);
        if used_bytes.saturating_add(shard_bytes) > quota.bytes_max {
            return Err(FileStoreError::QuotaBytesExceeded {
                owner,
                used_bytes,
                shard_bytes,
                quota_bytes: quota.bytes_max,
            });
        }
        if used_shards >= quota.shards_max {
            return Err(FileStoreError::QuotaShardsExceeded {
                owner,
                used_shards,
                quota_shards: quota.shards_max,
            });
        }
        Ok(())
    }

    /// Temp file, fsync, rename into place, fsync the folder. On error the temp file is removed
    /// and no shard is visible at `path`.
    fn write_shard(
        &mut self,
        path: &Path,
        header: Header,
        bytes: &[u8],
    ) -> Result<(), FileStoreError> {
        let folder = path.parent().expect("shard paths have a folder");
        ensure_dir(folder.parent().expect("fan-out has two levels"))?;
        ensure_dir(folder)?;
        self.temp_count += 1;
        let temp = self
            .root
            .join("tmp")
            .join(format!("{}.tmp", self.temp_count));
        self.crash_point(CrashPoint::TempTorn, &temp)?;
        let written = disk::write_new_synced(&temp, &[&header.encode(), bytes]);
        self.crash_point(CrashPoint::TempWritten, &temp)?;
        let renamed =
            written.and_then(|()| fs::rename(&temp, path).map_err(|e| io_error("rename", path, e)));
        if let Err(e) = renamed {
            let _ = fs::remove_file(&temp); // Best effort: open() removes leftovers anyway.
            return Err(e);
        }
        self.crash_point(CrashPoint::Renamed, &temp)?;
        if let Err(e) = sync_dir(folder) {
            // Not acknowledged, so not kept: a retry must write and fsync again.
            let _ = fs::remove_file(path);
            return Err(e);
        }
        Ok(())
    }

    /// Test builds: stops a put at `point` as a crash would (no cleanup; `TempTorn` leaves a
    /// partly written temp file). A no-op otherwise.
    fn crash_point(&self, point: CrashPoint, temp: &Path) -> Result<(), FileStoreError> {
        #[cfg(test)]
        if self.crash_at == Some(point) {
            if point == CrashPoint::TempTorn {
                fs::write(temp, b"KSHD\x01torn").map_err(|e| io_error("torn write", temp, e))?;
            }
            let source = std::io::Error::other("simulated crash");
            return Err(io_error("crash point", temp, source));
        }
        let _ = (point, temp);
        Ok(())
    }

    fn charge(&mut self, header: Header) {
        let usage = self.usage.entry(header.owner).or_default();
        usage.bytes = usage.bytes.saturating_add(header.len_bytes.into());
        usage.shards = usage.shards.saturating_add(1);
    }

    fn uncharge(&mut self, header: Header) {
        let usage = self.usage.entry(header.owner).or_default();
        usage.bytes = usage.bytes.saturating_sub(header.len_bytes.into());
        usage.shards = usage.shards.saturating_sub(1);
    }
}

/// Where the shard with `address` lives under the `shards` folder.
fn shard_path(shards: &Path, address: &ShardAddress) -> PathBuf {
    let d = address.digest();
    shards
        .join(format!("{:02x}", d[0]))
        .join(format!("{:02x}", d[1]))
        .join(address.to_hex())
}

/// Only the suites' hashes address shards; a Keccak address would alias a SHA-256 name.
fn check_address(address: &ShardAddress) -> Result<(), FileStoreError> {
    match address.hash() {
        HashAlgorithm::Sm3 | HashAlgorithm::Sha256 => Ok(()),
        HashAlgorithm::Keccak256 => Err(FileStoreError::AddressMalformed {
            what: "Keccak-256 does not address shards",
        }),
    }
}
