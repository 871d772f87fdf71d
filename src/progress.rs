//! Progress of a run on stderr, never on stdout (which may carry the JSON
//! report): a bar (indicatif) when stderr is a terminal, else a plain line
//! every interval — a CronJob's log shows the run is alive without a bar's
//! control characters in it. The counters are a [`Tally`] the collection
//! bumps; the display reads it on its own thread.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How a run shows its progress (`--progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Mode {
    /// A bar when stderr is a terminal; otherwise a line every 30 seconds of a long run.
    #[default]
    Auto,
    /// Plain lines (every 30 seconds, and one when collection ends), even on a terminal.
    Lines,
    /// Nothing.
    #[value(name = "none")]
    Off,
}

/// How often a plain progress line is written.
pub const LINE_INTERVAL: Duration = Duration::from_secs(30);

/// The run's counters: targets discovered (this shard's, with `--shard`),
/// audited, and those that could not be audited.
#[derive(Debug, Clone, Default)]
pub struct Tally(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    discovered: AtomicUsize,
    audited: AtomicUsize,
    failed: AtomicUsize,
}

impl Tally {
    /// `n` more targets to audit.
    pub fn discovered(&self, n: usize) {
        self.0.discovered.fetch_add(n, Ordering::Relaxed);
    }

    /// One target done: audited, or not (`ok` false).
    pub fn done(&self, ok: bool) {
        let counter = if ok { &self.0.audited } else { &self.0.failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// (discovered, audited, failed).
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.0.discovered.load(Ordering::Relaxed),
            self.0.audited.load(Ordering::Relaxed),
            self.0.failed.load(Ordering::Relaxed),
        )
    }
}

/// The plain line, as a log shows it.
pub fn line(tally: &Tally, elapsed: Duration) -> String {
    let (discovered, audited, failed) = tally.counts();
    format!(
        "progress: {discovered} target(s) discovered, {audited} audited, {failed} failed ({}s)",
        elapsed.as_secs()
    )
}

/// A running display; [`Display::finish`] ends it.
pub struct Display {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Display {
    /// Starts showing `tally` as `mode` says, given whether stderr is a terminal.
    pub fn start(tally: &Tally, mode: Mode, terminal: bool) -> Display {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let (bar, final_line) = match mode {
            Mode::Off => (false, false),
            Mode::Auto => (terminal, false),
            Mode::Lines => (false, true),
        };
        let thread = (mode != Mode::Off).then(|| {
            let (tally, stop) = (tally.clone(), stop.clone());
            std::thread::spawn(move || {
                if bar {
                    show_bar(&tally, &stop);
                } else {
                    show_lines(&tally, &stop, final_line);
                }
            })
        });
        Display { stop, thread }
    }

    /// Stops the display: clears the bar, or writes the last line (`Lines`).
    pub fn finish(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        let (lock, wake) = &*self.stop;
        if let Ok(mut stopped) = lock.lock() {
            *stopped = true;
        }
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

/// Waits up to `timeout` for the stop signal; whether it came.
fn wait(stop: &(Mutex<bool>, Condvar), timeout: Duration) -> bool {
    let (lock, wake) = stop;
    let Ok(stopped) = lock.lock() else {
        return true;
    };
    match wake.wait_timeout_while(stopped, timeout, |stopped| !*stopped) {
        Ok((stopped, _)) => *stopped,
        Err(_) => true,
    }
}

fn show_lines(tally: &Tally, stop: &(Mutex<bool>, Condvar), final_line: bool) {
    let started = Instant::now();
    let mut stderr = std::io::stderr();
    while !wait(stop, LINE_INTERVAL) {
        let _ = writeln!(stderr, "{}", line(tally, started.elapsed()));
    }
    if final_line {
        let _ = writeln!(stderr, "{}", line(tally, started.elapsed()));
    }
}

fn show_bar(tally: &Tally, stop: &(Mutex<bool>, Condvar)) {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {elapsed:>4} [{bar:30}] {pos}/{len} targets · {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    loop {
        let (discovered, audited, failed) = tally.counts();
        bar.set_length(discovered as u64);
        bar.set_position((audited + failed) as u64);
        bar.set_message(format!("{audited} audited, {failed} failed"));
        bar.tick();
        if wait(stop, Duration::from_millis(150)) {
            break;
        }
    }
    bar.finish_and_clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_each_kind() {
        let tally = Tally::default();
        tally.discovered(3);
        tally.done(true);
        tally.done(false);
        assert_eq!(
            line(&tally, Duration::from_secs(61)),
            "progress: 3 target(s) discovered, 1 audited, 1 failed (61s)"
        );
    }

    #[test]
    fn a_display_stops_when_finished() {
        let tally = Tally::default();
        // Not a terminal: lines mode, stopped at once (no 30-second wait).
        Display::start(&tally, Mode::Lines, false).finish();
        Display::start(&tally, Mode::Off, true).finish();
    }
}
