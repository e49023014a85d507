//! The boundary around sled: its panics stop here and become `Error::Io`.
//!
//! sled 0.34 unwraps some I/O results: when the last handle on a store is
//! dropped it fsyncs the log and panics if that fails, and a failed sync inside
//! it can surface the same way. A panic must not reach a caller (a Nuke plugin, a
//! Python tool, the CLI after it printed "stored"): the sync points and the final
//! drop run inside [`contained`], and a panic there is reported as an I/O error
//! or, in a drop, ignored (every write was already flushed and acknowledged).
//!
//! Rust prints a panic through the process's panic hook even when it is caught.
//! The first use chains a hook that stays silent for panics raised inside
//! [`contained`] on the current thread and hands every other panic to the hook
//! that was there before, so a host's own hook keeps working.

use crate::error::{Error, Result};
use std::cell::Cell;
use std::ops::Deref;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;

thread_local! {
    /// How deep the current thread is inside `contained`.
    static INSIDE: Cell<u32> = const { Cell::new(0) };
}

fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if INSIDE.with(Cell::get) == 0 {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into `Err` with its message (a `&str` or `String`
/// payload; anything else is "a panic").
pub(crate) fn contained<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    install_quiet_hook();
    INSIDE.with(|d| d.set(d.get() + 1));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    INSIDE.with(|d| d.set(d.get() - 1));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_owned())
    })
}

/// `sled::Db::flush`, with sled's errors and panics both reported as errors of
/// the vault at `dir`.
pub(crate) fn flush(db: &sled::Db, dir: &Path) -> Result<()> {
    match contained(|| db.flush()) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(Error::sled(dir, e)),
        Err(why) => Err(panicked(dir, &why)),
    }
}

/// `flush`, then an fsync of sled's file: on Linux sled 0.34 ends its flush
/// with `sync_file_range`, which starts the writeback but neither waits for the
/// file's metadata nor flushes the drive's cache, so a power cut can still take
/// what it wrote. A checkpoint, after which the journal no longer holds those
/// changes, needs them on the disk for real.
pub(crate) fn flush_durably(db: &sled::Db, dir: &Path) -> Result<()> {
    flush(db, dir)?;
    let file = dir.join("db");
    std::fs::File::open(&file)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(format!("syncing {}", file.display()), e))
}

/// The error a panic inside sled becomes: sled's panics come from failed I/O.
pub(crate) fn panicked(dir: &Path, why: &str) -> Error {
    Error::io(
        format!("vault storage at {}", dir.display()),
        std::io::Error::other(format!("the storage engine failed: {why}")),
    )
}

/// A sled database whose drop (the last handle's, which fsyncs sled's log and
/// panics if that fails) runs inside the boundary.
pub(crate) struct GuardedDb(Option<sled::Db>);

impl GuardedDb {
    pub(crate) fn new(db: sled::Db) -> GuardedDb {
        GuardedDb(Some(db))
    }
}

impl Deref for GuardedDb {
    type Target = sled::Db;

    fn deref(&self) -> &sled::Db {
        self.0.as_ref().expect("the database is present until drop")
    }
}

impl Drop for GuardedDb {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            // Every write was flushed before it was acknowledged; a failure of
            // sled's closing sync changes nothing the next open relies on.
            let _ = contained(move || drop(db));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::contained;

    #[test]
    fn a_panic_inside_is_an_error_with_its_message() {
        assert_eq!(contained(|| 7), Ok(7));
        let r: Result<(), String> = contained(|| panic!("disk on fire"));
        assert_eq!(r, Err("disk on fire".to_owned()));
        let n = 3;
        let r: Result<(), String> = contained(|| panic!("failed {n} times"));
        assert_eq!(r, Err("failed 3 times".to_owned()));
    }
}
