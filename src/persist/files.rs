//! The files of a state directory: their names, which generation is current, atomic snapshot
//! writes and the directory lock.
//!
//! A directory holds one current generation `g`: `snapshot-<g>.json` (a state document) and
//! `log-<g>.jsonl` (the mutations since that snapshot). Compaction writes generation `g + 1` next to
//! it and then removes `g`, so a crash at any point leaves a directory whose highest snapshot
//! generation, plus its log if present, is the whole acknowledged state.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::PersistError;

/// Name of the lock file that keeps two emulators out of one directory.
const LOCK_FILE: &str = "LOCK";

/// Path of generation `generation`'s snapshot.
pub(crate) fn snapshot_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("snapshot-{generation:012}.json"))
}

/// Path of generation `generation`'s log.
pub(crate) fn log_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("log-{generation:012}.jsonl"))
}

/// The generation in a file name of the form `<prefix><digits><suffix>`.
fn generation_of(name: &str, prefix: &str, suffix: &str) -> Option<u64> {
    let digits = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// What a state directory holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Listing {
    /// Generations that have a snapshot, ascending.
    pub snapshots: Vec<u64>,
    /// Generations that have a log, ascending.
    pub logs: Vec<u64>,
    /// Leftover temporary files of an interrupted snapshot write.
    pub temporaries: Vec<PathBuf>,
}

/// Lists the state files in `dir` (other files are left alone).
pub(crate) fn list(dir: &Path) -> Result<Listing, PersistError> {
    let entries = fs::read_dir(dir).map_err(|source| PersistError::io(dir, source))?;
    let mut listing = Listing::default();
    for entry in entries {
        let entry = entry.map_err(|source| PersistError::io(dir, source))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(g) = generation_of(name, "snapshot-", ".json") {
            listing.snapshots.push(g);
        } else if let Some(g) = generation_of(name, "log-", ".jsonl") {
            listing.logs.push(g);
        } else if name.starts_with("snapshot-") && name.ends_with(".tmp") {
            listing.temporaries.push(entry.path());
        }
    }
    listing.snapshots.sort_unstable();
    listing.logs.sort_unstable();
    Ok(listing)
}

/// Makes the directory entries of `dir` durable (new, renamed and removed files).
pub(crate) fn sync_dir(dir: &Path) -> Result<(), PersistError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| PersistError::io(dir, source))
}

/// Writes `bytes` to `path` atomically: a temporary file, fsync, rename, fsync of the directory.
pub(crate) fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), PersistError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let write = || -> io::Result<()> {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    write().map_err(|source| PersistError::io(&tmp, source))?;
    fs::rename(&tmp, path).map_err(|source| PersistError::io(path, source))?;
    sync_dir(dir)
}

/// Creates a new, empty file for appending (failing if it exists) and makes it durable.
pub(crate) fn create_log(dir: &Path, path: &Path, header: &[u8]) -> Result<File, PersistError> {
    let create = || -> io::Result<File> {
        let mut file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(path)?;
        file.write_all(header)?;
        file.sync_all()?;
        Ok(file)
    };
    let file = create().map_err(|source| PersistError::io(path, source))?;
    sync_dir(dir)?;
    Ok(file)
}

/// Removes a file that is no longer part of the state; a file already gone is fine.
pub(crate) fn remove(path: &Path) -> Result<(), PersistError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(PersistError::io(path, e)),
        _ => Ok(()),
    }
}

/// Takes the directory's exclusive lock, held for as long as the returned file is open.
pub(crate) fn lock(dir: &Path) -> Result<File, PersistError> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| PersistError::io(&path, source))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(PersistError::Locked(dir.to_path_buf())),
        Err(fs::TryLockError::Error(source)) => Err(PersistError::io(&path, source)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_are_read_from_names_only_when_exact() {
        assert_eq!(
            generation_of("snapshot-000000000007.json", "snapshot-", ".json"),
            Some(7)
        );
        assert_eq!(generation_of("snapshot-.json", "snapshot-", ".json"), None);
        assert_eq!(
            generation_of("snapshot-1a.json", "snapshot-", ".json"),
            None
        );
        assert_eq!(
            generation_of("snapshot-1.json.tmp", "snapshot-", ".json"),
            None
        );
        assert_eq!(
            snapshot_path(Path::new("/d"), 3),
            PathBuf::from("/d/snapshot-000000000003.json")
        );
        assert_eq!(
            log_path(Path::new("/d"), 3),
            PathBuf::from("/d/log-000000000003.jsonl")
        );
    }
}
