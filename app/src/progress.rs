//! Progress of long catalogue work: a bar in a terminal, structured log lines otherwise.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

pub trait Progress: Send + Sync {
    fn start(&self, total: u64);
    fn advance(&self, done: u64);
    fn finish(&self);
}

/// For work nobody watches (request handlers).
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _total: u64) {}
    fn advance(&self, _done: u64) {}
    fn finish(&self) {}
}

/// A progress bar on a terminal; on anything else, a log line every tenth of the work.
pub enum Reporter {
    Bar(ProgressBar),
    Log {
        label: &'static str,
        total: AtomicU64,
        done: AtomicU64,
    },
}

impl Reporter {
    pub fn new(label: &'static str) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(0);
            let style =
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(label);
            Self::Bar(bar)
        } else {
            Self::Log {
                label,
                total: AtomicU64::new(0),
                done: AtomicU64::new(0),
            }
        }
    }
}

impl Progress for Reporter {
    fn start(&self, total: u64) {
        match self {
            Self::Bar(bar) => bar.set_length(total),
            Self::Log {
                label,
                total: t,
                done,
            } => {
                t.store(total, Ordering::Relaxed);
                done.store(0, Ordering::Relaxed);
                tracing::info!(stage = *label, total, "started");
            }
        }
    }

    fn advance(&self, n: u64) {
        match self {
            Self::Bar(bar) => bar.inc(n),
            Self::Log { label, total, done } => {
                let total = total.load(Ordering::Relaxed).max(1);
                let before = done.fetch_add(n, Ordering::Relaxed);
                let after = before + n;
                if after * 10 / total > before * 10 / total {
                    tracing::info!(stage = *label, done = after, total, "progress");
                }
            }
        }
    }

    fn finish(&self) {
        match self {
            Self::Bar(bar) => bar.finish(),
            Self::Log { label, done, .. } => tracing::info!(
                stage = *label,
                done = done.load(Ordering::Relaxed),
                "finished"
            ),
        }
    }
}
