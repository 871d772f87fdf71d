//! Writing results: atomically to a file, or to stdout tolerating a closed pipe;
//! and the temporary files of those writes removed when SIGINT or SIGTERM ends
//! the run (exit 130 / 143), so an interrupted run leaves no `.tmp*` file and
//! no `.sqlready-evidence-*` directory behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary paths in the making, removed if a signal ends the run.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A temporary path registered for removal on SIGINT/SIGTERM while it lives;
/// dropping it (after the rename that publishes it, or after its own clean-up)
/// unregisters it.
#[derive(Debug)]
pub struct Temporary(PathBuf);

impl Temporary {
    pub fn register(path: &Path) -> Temporary {
        if let Ok(mut pending) = PENDING.lock() {
            pending.push(path.to_path_buf());
        }
        Temporary(path.to_path_buf())
    }

    /// Creates a temporary path with `make` and registers it in one step: the
    /// list stays locked meanwhile, so a signal arriving between the creation
    /// and the registration still finds (and removes) it.
    pub fn create<T>(
        make: impl FnOnce() -> std::io::Result<T>,
        path_of: impl Fn(&T) -> &Path,
    ) -> std::io::Result<(T, Temporary)> {
        let mut pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
        let made = make()?;
        let path = path_of(&made).to_path_buf();
        pending.push(path.clone());
        Ok((made, Temporary(path)))
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if let Ok(mut pending) = PENDING.lock()
            && let Some(index) = pending.iter().rposition(|p| p == &self.0)
        {
            pending.swap_remove(index);
        }
    }
}

/// Blocks SIGINT and SIGTERM in this thread and every thread started after
/// it, and waits for them on a thread of their own: on either, the pending
/// temporary paths are removed and the process exits 128 + the signal (130,
/// 143). Call first thing in `main`, before any other thread exists (a
/// thread started earlier would still take the default action and leave the
/// files). sigwait in a normal thread, unlike a signal handler, may take
/// locks and remove directories.
pub fn remove_temporaries_on_signals() -> std::io::Result<()> {
    // SAFETY: sigset_t is plain data initialised by sigemptyset; the calls
    // only read and write the set and this thread's signal mask.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(std::io::Error::from_raw_os_error(rc));
        }
        set
    };
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            loop {
                let mut signal: libc::c_int = 0;
                // SAFETY: `set` lives in this closure; sigwait writes `signal`.
                if unsafe { libc::sigwait(&set, &mut signal) } != 0 {
                    continue;
                }
                let removed = remove_pending();
                let name = if signal == libc::SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                };
                eprintln!("interrupted ({name}); {removed} temporary path(s) removed");
                std::process::exit(128 + signal);
            }
        })?;
    Ok(())
}

/// Removes every pending temporary path (a file or a whole directory).
fn remove_pending() -> usize {
    let paths = match PENDING.lock() {
        Ok(mut pending) => std::mem::take(&mut *pending),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    };
    let mut removed = 0;
    for path in paths {
        let gone = match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&path).is_ok(),
            Ok(_) => std::fs::remove_file(&path).is_ok(),
            Err(_) => false,
        };
        removed += usize::from(gone);
    }
    removed
}

/// Writes `contents` to `path` via a temporary file in the same directory and
/// a rename, so readers never see a partial file.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |out| out.write_all(contents))
}

/// [`write_atomic`] with the contents streamed by `write` (buffered), for a
/// report too large to hold twice in memory. A path that is not a regular
/// file (a device, a named pipe) is written in place, not replaced.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    // `-o /dev/null`, `-o /dev/stdout`, a named pipe: written in place. A
    // rename would replace the device or pipe with a regular file.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let mut out = std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::OpenOptions::new().write(true).open(path)?,
        );
        write(&mut out)?;
        return out.flush();
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    // Readable like any file the user writes (tempfile's default is 0600).
    let (temp, _pending) = Temporary::create(
        || {
            tempfile::Builder::new()
                .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
                .tempfile_in(dir)
        },
        |temp| temp.path(),
    )?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, EarlyWriteback::new(temp.as_file()));
    write(&mut out)?;
    out.flush()?;
    drop(out);
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// A file being written that asks the kernel to start writing what it holds
/// to disk every few MiB, without waiting, so the `fsync` before the rename
/// waits for the last few MiB instead of the whole file (a fleet's JSON report
/// is hundreds of MiB: 0.2 s of a merge was that wait).
struct EarlyWriteback<'a> {
    file: &'a std::fs::File,
    written: u64,
    /// Up to where writeback was started.
    started: u64,
}

impl<'a> EarlyWriteback<'a> {
    /// Writeback is started in steps of this many bytes.
    const STEP: u64 = 8 << 20;

    fn new(file: &'a std::fs::File) -> Self {
        EarlyWriteback {
            file,
            written: 0,
            started: 0,
        }
    }
}

impl Write for EarlyWriteback<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = (&mut &*self.file).write(bytes)?;
        self.written += n as u64;
        if self.written - self.started >= Self::STEP {
            #[cfg(target_os = "linux")]
            {
                use std::os::fd::AsRawFd;
                let (from, len) = (self.started, self.written - self.started);
                // SAFETY: a plain syscall on an open descriptor. Only a hint:
                // a failure leaves the work to the fsync, so it is ignored.
                unsafe {
                    libc::sync_file_range(
                        self.file.as_raw_fd(),
                        i64::try_from(from).unwrap_or(i64::MAX),
                        i64::try_from(len).unwrap_or(0),
                        libc::SYNC_FILE_RANGE_WRITE,
                    );
                }
            }
            self.started = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
pub fn print(contents: &str) -> std::io::Result<()> {
    print_with(|out| out.write_all(contents.as_bytes()))
}

/// [`print`] with the contents streamed by `write` (buffered).
pub fn print_with(
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut stdout = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    match write(&mut stdout).and_then(|()| stdout.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file larger than a writeback step (so writeback is started while
    /// it is written) comes out whole, and nothing else is left beside it.
    #[test]
    fn a_large_file_written_with_early_writeback_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fleet.json");
        let block: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
        let blocks = 2 * (EarlyWriteback::STEP as usize >> 20) + 3;
        write_atomic_with(&path, |out| {
            for _ in 0..blocks {
                out.write_all(&block)?;
            }
            Ok(())
        })
        .unwrap();
        let written = std::fs::read(&path).unwrap();
        assert_eq!(written.len(), blocks << 20);
        assert!(
            written
                .chunks(1 << 20)
                .all(|chunk| chunk == block.as_slice())
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// `-o` naming a named pipe (as `-o /dev/null` names a device) writes
    /// into it; the pipe is still a pipe afterwards, not a regular file.
    #[test]
    fn a_named_pipe_is_written_in_place_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("report.pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_atomic(&fifo, b"{\"report\": true}\n").unwrap();
        // Checked before joining: a replaced pipe would leave the reader waiting.
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(kind.is_fifo(), "{kind:?}");
        assert_eq!(reader.join().unwrap(), b"{\"report\": true}\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_regular_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, "old and longer contents").unwrap();
        write_atomic_with(&path, |out| out.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
