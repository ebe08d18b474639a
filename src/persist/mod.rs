//! Durable state (`--state-dir`): what a directory holds, how start-up restores it, and how every
//! acknowledged mutation reaches the disk before its response.
//!
//! - **Recovery** ([`recover`]): lock the directory, read the newest snapshot and its log; a torn
//!   last log line is skipped with a warning, any other damage is an error naming the file.
//! - **Commit** ([`Persistence::record`]): after a state-changing request, the vendor's delta for
//!   the tenant is appended to the log and fsync'd (concurrent commits share one fsync) before
//!   the pipeline answers.
//! - **Compaction** ([`Persistence::checkpoint`]): the whole state is written as the next
//!   generation's snapshot (temporary file, fsync, rename), a fresh log is started and the old
//!   generation removed. It runs at start, when the log outgrows the snapshot, after control-plane
//!   changes of the state, and at graceful shutdown.
//!
//! The format is documented in `docs/persistence.md`.

pub(crate) mod files;
pub(crate) mod log;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::Value;

use crate::instance::Instance;
use crate::state::StateError;
use crate::vendor::Vendor;

use self::log::{Header, Record};

/// The smallest log size, in bytes, that triggers a compaction (the threshold is at least the size
/// of the last snapshot, so compaction work stays proportional to logged bytes).
pub const DEFAULT_COMPACT_BYTES: u64 = 64 * 1024 * 1024;

/// Why a state directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Another process holds the directory.
    #[error("{0}: the state directory is in use by another imgemu (it holds {0}/LOCK)")]
    Locked(PathBuf),
    /// A snapshot is not a readable state document.
    #[error("{file}: corrupt snapshot: {reason}; refusing to start rather than discard state (move the directory aside to start empty)")]
    CorruptSnapshot {
        /// The snapshot file.
        file: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A log is damaged before its last line.
    #[error("{file}: corrupt log: {reason}; refusing to start rather than discard state")]
    CorruptLog {
        /// The log file.
        file: PathBuf,
        /// Which line and why.
        reason: String,
    },
    /// Snapshot plus log make a document that does not load.
    #[error("{file}: {source}")]
    InvalidState {
        /// The snapshot (and log) it came from.
        file: PathBuf,
        /// The first validation error.
        source: StateError,
    },
    /// A log without the snapshot it continues.
    #[error("{0}: log without its snapshot; refusing to start rather than guess")]
    Orphan(PathBuf),
    /// An earlier write failed; the log can no longer be trusted until restart.
    #[error("an earlier write to the state directory failed ({0}); restart the emulator")]
    Broken(String),
}

impl PersistError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        PersistError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What start-up found in a state directory.
pub(crate) struct Recovered {
    dir: PathBuf,
    lock: File,
    /// The newest generation, `None` for an empty directory.
    generation: Option<u64>,
    /// Snapshot with its log applied; `None` for an empty directory (load fixtures instead).
    pub document: Option<Value>,
    /// The file the document came from, for error messages.
    pub source: PathBuf,
}

/// Locks `dir` (creating it if needed) and reads its state.
pub(crate) fn recover(dir: &Path) -> Result<Recovered, PersistError> {
    std::fs::create_dir_all(dir).map_err(|source| PersistError::io(dir, source))?;
    let lock = files::lock(dir)?;
    let listing = files::list(dir)?;
    for tmp in &listing.temporaries {
        files::remove(tmp)?;
    }
    let Some(&generation) = listing.snapshots.last() else {
        if let Some(&g) = listing.logs.last() {
            return Err(PersistError::Orphan(files::log_path(dir, g)));
        }
        return Ok(Recovered {
            dir: dir.to_path_buf(),
            lock,
            generation: None,
            document: None,
            source: dir.to_path_buf(),
        });
    };
    if let Some(&g) = listing.logs.iter().find(|&&g| g > generation) {
        return Err(PersistError::Orphan(files::log_path(dir, g)));
    }
    let snapshot = files::snapshot_path(dir, generation);
    let bytes = std::fs::read(&snapshot).map_err(|source| PersistError::io(&snapshot, source))?;
    let mut document: Value =
        serde_json::from_slice(&bytes).map_err(|e| PersistError::CorruptSnapshot {
            file: snapshot.clone(),
            reason: e.to_string(),
        })?;
    if !document.is_object() {
        return Err(PersistError::CorruptSnapshot {
            file: snapshot,
            reason: "not a JSON object".into(),
        });
    }
    let mut source = snapshot;
    if listing.logs.contains(&generation) {
        let log_file = files::log_path(dir, generation);
        let bytes =
            std::fs::read(&log_file).map_err(|source| PersistError::io(&log_file, source))?;
        let parsed = log::parse(&bytes, generation).map_err(|e| PersistError::CorruptLog {
            file: log_file.clone(),
            reason: e.to_string(),
        })?;
        if let Some(line) = parsed.torn {
            tracing::warn!(
                target: "imgemu::persist",
                file = %log_file.display(),
                line,
                "skipping the torn last line of the log (a write cut short by a crash; its request was never answered)"
            );
        }
        for record in parsed.records {
            if let Value::Object(doc) = &mut document {
                log::merge(
                    doc.entry(record.vendor).or_insert(Value::Null),
                    record.delta,
                );
            }
        }
        source = log_file;
    }
    Ok(Recovered {
        dir: dir.to_path_buf(),
        lock,
        generation: Some(generation),
        document: Some(document),
        source,
    })
}

/// One open log file and the last record (global sequence) written to it.
struct LogFile {
    path: PathBuf,
    file: File,
    written: AtomicU64,
}

/// The append side, under one lock.
struct Writer {
    generation: u64,
    log: Arc<LogFile>,
    /// Records in the current log.
    seq_in_log: u64,
    /// Records written since start, across generations: what durability is tracked in.
    seq: u64,
    /// Bytes in the current log.
    bytes: u64,
    /// Log size that triggers the next compaction.
    threshold: u64,
    /// Set when a write failed and could not be undone.
    broken: Option<String>,
}

/// An open state directory.
pub struct Persistence {
    dir: PathBuf,
    _lock: File,
    min_compact: u64,
    writer: Mutex<Writer>,
    /// The highest global sequence known to be on disk.
    durable: Mutex<u64>,
}

impl std::fmt::Debug for Persistence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Persistence")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Persistence {
    /// Starts persisting `instance` (whose state is already restored or loaded from fixtures):
    /// writes the next generation's snapshot and an empty log, and removes older files.
    pub(crate) fn start(
        recovered: Recovered,
        instance: &Instance,
        min_compact: u64,
    ) -> Result<Persistence, PersistError> {
        let Recovered {
            dir,
            lock,
            generation,
            ..
        } = recovered;
        let old = generation.unwrap_or(0);
        let (log, bytes, snapshot_len) = write_generation(&dir, old + 1, instance, 0)?;
        remove_generations_below(&dir, old + 1)?;
        Ok(Persistence {
            dir,
            _lock: lock,
            min_compact,
            writer: Mutex::new(Writer {
                generation: old + 1,
                log,
                seq_in_log: 0,
                seq: 0,
                bytes,
                threshold: min_compact.max(snapshot_len),
                broken: None,
            }),
            durable: Mutex::new(0),
        })
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends `vendor`'s delta for `tenant` and returns once it is on disk.
    pub(crate) fn record(
        &self,
        instance: &Instance,
        vendor: &dyn Vendor,
        tenant: &str,
    ) -> Result<(), PersistError> {
        let (log, seq) = {
            let mut writer = self.writer.lock();
            if let Some(reason) = &writer.broken {
                return Err(PersistError::Broken(reason.clone()));
            }
            let line = Record::line(
                writer.seq_in_log + 1,
                vendor.name(),
                vendor.export_tenant(tenant),
            );
            if let Err(e) = (&writer.log.file).write_all(&line) {
                // Cut a partial line off so that later records do not follow damage.
                let undone = writer.log.file.set_len(writer.bytes).is_ok();
                let path = writer.log.path.clone();
                if !undone {
                    writer.broken = Some(format!("{}: {e}", path.display()));
                }
                return Err(PersistError::io(&path, e));
            }
            writer.seq_in_log += 1;
            writer.seq += 1;
            writer.bytes += line.len() as u64;
            writer.log.written.store(writer.seq, Ordering::Release);
            if writer.bytes >= writer.threshold {
                match self.compact(&mut writer, instance) {
                    // The snapshot holds this record's effect: durable once compaction returns.
                    Ok(()) => return Ok(()),
                    Err(e) if writer.broken.is_some() => return Err(e),
                    Err(e) => {
                        // The current generation is intact: the log keeps the record, and the
                        // next attempt waits until the log has grown as much again.
                        tracing::warn!(target: "imgemu::persist", error = %e, "compaction failed; the log continues");
                        writer.threshold = writer.bytes.saturating_mul(2);
                    }
                }
            }
            (writer.log.clone(), writer.seq)
        };
        self.sync(&log, seq)
    }

    /// Waits until record `seq` of `log` is on disk, syncing everything written so far if no other
    /// commit already did (group commit).
    fn sync(&self, log: &LogFile, seq: u64) -> Result<(), PersistError> {
        let mut durable = self.durable.lock();
        if *durable >= seq {
            return Ok(());
        }
        let upto = log.written.load(Ordering::Acquire);
        log.file
            .sync_data()
            .map_err(|e| PersistError::io(&log.path, e))?;
        *durable = (*durable).max(upto);
        Ok(())
    }

    /// Writes the whole state as a new snapshot and starts a new log (compaction).
    pub(crate) fn checkpoint(&self, instance: &Instance) -> Result<(), PersistError> {
        let mut writer = self.writer.lock();
        self.compact(&mut writer, instance)
    }

    /// A failure before the new snapshot is in place leaves the current generation in force and
    /// the writer usable; a failure after it (the new snapshot would win at recovery over records
    /// appended to the old log) marks the writer broken.
    fn compact(&self, writer: &mut Writer, instance: &Instance) -> Result<(), PersistError> {
        let next = writer.generation + 1;
        let (log, bytes, snapshot_len) =
            match write_generation(&self.dir, next, instance, writer.seq) {
                Ok(written) => written,
                Err(e) => {
                    if files::snapshot_path(&self.dir, next).exists() {
                        writer.broken.get_or_insert_with(|| e.to_string());
                    }
                    return Err(e);
                }
            };
        {
            let mut durable = self.durable.lock();
            *durable = (*durable).max(writer.seq);
        }
        writer.generation = next;
        writer.log = log;
        writer.seq_in_log = 0;
        writer.bytes = bytes;
        writer.threshold = self.min_compact.max(snapshot_len);
        writer.broken = None;
        // Leftovers are harmless (recovery reads the newest generation and removes the rest).
        if let Err(e) = remove_generations_below(&self.dir, next) {
            tracing::warn!(target: "imgemu::persist", error = %e, "cannot remove an old generation");
        }
        Ok(())
    }
}

/// Writes generation `generation`: the snapshot of `instance`, then its empty log. Returns the log,
/// its size and the snapshot's size.
fn write_generation(
    dir: &Path,
    generation: u64,
    instance: &Instance,
    seq: u64,
) -> Result<(Arc<LogFile>, u64, u64), PersistError> {
    let snapshot = files::snapshot_path(dir, generation);
    let bytes = serde_json::to_vec(&instance.export_state())
        .map_err(|e| PersistError::io(&snapshot, std::io::Error::other(e)))?;
    files::write_atomic(dir, &snapshot, &bytes)?;
    let header = Header::line(generation);
    let path = files::log_path(dir, generation);
    let file = files::create_log(dir, &path, &header)?;
    let log = Arc::new(LogFile {
        path,
        file,
        written: AtomicU64::new(seq),
    });
    Ok((log, header.len() as u64, bytes.len() as u64))
}

/// Removes every snapshot and log older than `generation`.
fn remove_generations_below(dir: &Path, generation: u64) -> Result<(), PersistError> {
    let listing = files::list(dir)?;
    for g in listing.snapshots.iter().filter(|&&g| g < generation) {
        files::remove(&files::snapshot_path(dir, *g))?;
    }
    for g in listing.logs.iter().filter(|&&g| g < generation) {
        files::remove(&files::log_path(dir, *g))?;
    }
    files::sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::fixtures::Fixtures;
    use crate::settings::Settings;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("imgemu-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_failed_compaction_keeps_the_record_in_the_log_and_is_retried_later() {
        let dir = scratch("compact-fails");
        let instance = Instance::new(Clock::system(), Settings::default(), Fixtures::None, 0, 16);
        let recovered = recover(&dir).unwrap();
        // Threshold 1 byte: every record asks for a compaction.
        let persistence = Persistence::start(recovered, &instance, 1).unwrap();
        let aries = instance.registry().by_name("aries").unwrap().clone();
        // A directory where generation 2's temporary snapshot goes: its write fails.
        let blocker = dir.join("snapshot-000000000002.json.tmp");
        std::fs::create_dir(&blocker).unwrap();
        persistence
            .record(&instance, aries.as_ref(), "admin")
            .unwrap();
        persistence
            .record(&instance, aries.as_ref(), "admin")
            .unwrap();
        let log = std::fs::read_to_string(files::log_path(&dir, 1)).unwrap();
        assert_eq!(log.lines().count(), 3, "header and both records: {log}");
        // Once the snapshot can be written, a compaction goes through as soon as the log has
        // doubled since the failed attempt.
        std::fs::remove_dir(&blocker).unwrap();
        let mut records = 0;
        while files::list(&dir).unwrap().snapshots == vec![1] {
            assert!(records < 20, "no compaction after {records} more records");
            persistence
                .record(&instance, aries.as_ref(), "admin")
                .unwrap();
            records += 1;
        }
        let listing = files::list(&dir).unwrap();
        assert_eq!((listing.snapshots, listing.logs), (vec![2], vec![2]));
        drop(persistence);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
