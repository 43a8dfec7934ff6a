//! One stored shard on disk, and the durable-write helpers.
//!
//! A shard file is `header ‖ shard bytes`; the header is
//! `"KSHD" ‖ version (u8 = 1) ‖ owner (20 bytes) ‖ shard length (u32 BE)`, 29 bytes. The owner
//! lives in the same file as the bytes so one rename makes both visible at once: the per-owner
//! usage recomputed from the headers on open can never disagree with the shards present.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use crate::{FileStoreError, OwnerId, SHARD_SIZE_MAX_BYTES, ShardAddress};

const HEADER_MAGIC: [u8; 4] = *b"KSHD";
const HEADER_VERSION: u8 = 1;
/// Length of a shard file's header.
pub(super) const HEADER_LEN_BYTES: usize = 4 + 1 + 20 + 4;

/// What the header of a stored shard says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Header {
    /// The account the shard is charged to.
    pub(super) owner: OwnerId,
    /// Length of the shard bytes that follow.
    pub(super) len_bytes: u32,
}

impl Header {
    pub(super) fn encode(&self) -> [u8; HEADER_LEN_BYTES] {
        let mut out = [0u8; HEADER_LEN_BYTES];
        out[..4].copy_from_slice(&HEADER_MAGIC);
        out[4] = HEADER_VERSION;
        out[5..25].copy_from_slice(&self.owner.0);
        out[25..].copy_from_slice(&self.len_bytes.to_be_bytes());
        out
    }

    /// `None` unless magic, version and a length within [`SHARD_SIZE_MAX_BYTES`] all check.
    pub(super) fn decode(bytes: &[u8; HEADER_LEN_BYTES]) -> Option<Header> {
        if bytes[..4] != HEADER_MAGIC || bytes[4] != HEADER_VERSION {
            return None;
        }
        let owner = OwnerId(bytes[5..25].try_into().expect("20 bytes"));
        let len_bytes = u32::from_be_bytes(bytes[25..].try_into().expect("4 bytes"));
        (1..=SHARD_SIZE_MAX_BYTES)
            .contains(&len_bytes)
            .then_some(Header { owner, len_bytes })
    }
}

/// A stored shard as found on disk.
#[derive(Debug)]
pub(super) enum Stored {
    /// No file at the shard's path.
    Absent,
    /// Header and bytes check against the address.
    Valid { header: Header, payload: Vec<u8> },
    /// The file exists but fails a check; `header` if that part was readable.
    Corrupt {
        header: Option<Header>,
        what: &'static str,
    },
}

/// Reads and checks the shard at `path` against `address`; reads at most the largest shard.
pub(super) fn load(path: &Path, address: &ShardAddress) -> Result<Stored, FileStoreError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Stored::Absent),
        Err(e) => return Err(io_error("open shard", path, e)),
    };
    let limit = (HEADER_LEN_BYTES + SHARD_SIZE_MAX_BYTES as usize + 1) as u64;
    let mut buf = Vec::new();
    file.take(limit)
        .read_to_end(&mut buf)
        .map_err(|e| io_error("read shard", path, e))?;
    let corrupt = |header, what| Ok(Stored::Corrupt { header, what });
    let Some((head, payload)) = buf.split_first_chunk::<HEADER_LEN_BYTES>() else {
        return corrupt(None, "shorter than its header");
    };
    let Some(header) = Header::decode(head) else {
        return corrupt(None, "header does not decode");
    };
    if payload.len() != header.len_bytes as usize {
        return corrupt(Some(header), "length differs from its header");
    }
    if !address.matches(payload) {
        return corrupt(Some(header), "bytes do not hash to the address");
    }
    let payload = payload.to_vec();
    Ok(Stored::Valid { header, payload })
}

/// The header of the shard file at `path`; `Ok(None)` if absent or unreadable as a header.
pub(super) fn read_header(path: &Path) -> Result<Option<Header>, FileStoreError> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("open shard", path, e)),
    };
    let mut head = [0u8; HEADER_LEN_BYTES];
    match file.read_exact(&mut head) {
        Ok(()) => Ok(Header::decode(&head)),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(io_error("read shard header", path, e)),
    }
}

/// Creates `path` (it must not exist), writes `parts` and fsyncs the file.
pub(super) fn write_new_synced(path: &Path, parts: &[&[u8]]) -> Result<(), FileStoreError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| io_error("create temp file", path, e))?;
    for part in parts {
        file.write_all(part)
            .map_err(|e| io_error("write temp file", path, e))?;
    }
    file.sync_all()
        .map_err(|e| io_error("fsync temp file", path, e))
}

/// Fsyncs a directory, making the entries created, renamed or removed in it durable.
pub(super) fn sync_dir(dir: &Path) -> Result<(), FileStoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("fsync directory", dir, e))
}

/// Creates `dir` if it is missing, then fsyncs its parent so the new entry survives a crash.
pub(super) fn ensure_dir(dir: &Path) -> Result<(), FileStoreError> {
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(io_error("create directory", dir, e)),
    }
    match dir.parent() {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

/// Wraps an I/O error with the operation and the path.
pub(super) fn io_error(op: &'static str, path: &Path, source: io::Error) -> FileStoreError {
    FileStoreError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_rejects_bad_fields() {
        let header = Header {
            owner: OwnerId([7; 20]),
            len_bytes: 1234,
        };
        assert_eq!(Header::decode(&header.encode()), Some(header));
        let mut bad_magic = header.encode();
        bad_magic[0] ^= 1;
        assert_eq!(Header::decode(&bad_magic), None);
        let mut bad_version = header.encode();
        bad_version[4] = 2;
        assert_eq!(Header::decode(&bad_version), None);
        for len_bytes in [0, SHARD_SIZE_MAX_BYTES + 1] {
            let h = Header {
                len_bytes,
                ..header
            };
            assert_eq!(Header::decode(&h.encode()), None);
        }
    }
}
