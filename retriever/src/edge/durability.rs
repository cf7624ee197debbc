//! When the embedded shard's writes reach the disk, and the locking that keeps
//! `EdgeShard::flush` from panicking (see the module docs of `edge`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use qdrant_edge::{EdgeShard, OperationResult};

use crate::RetrieverError;

/// Serialises writes, flushes and optimisations so that a flush never meets a lock it
/// only tries. Lock order: `optimizing` before `writes`; the only path that holds
/// `writes` and wants `optimizing` merely tries it.
#[derive(Default)]
pub(super) struct Guards {
    writes: Mutex<()>,
    optimizing: Mutex<()>,
    /// Written since the last flush.
    dirty: AtomicBool,
}

impl Guards {
    /// Runs one write; the next flush makes it durable.
    pub(super) fn write<T>(&self, work: impl FnOnce() -> T) -> T {
        let _writes = self.writes.lock();
        let result = work();
        self.dirty.store(true, Ordering::Release);
        result
    }

    /// Flushes pending writes now, waiting for a running optimisation to end first.
    pub(super) fn flush(&self, shard: &EdgeShard) {
        let _no_optimization = self.optimizing.lock();
        let _writes = self.writes.lock();
        self.flush_if_dirty(shard);
    }

    /// Flushes pending writes unless an optimisation runs, which flushes when it ends.
    fn flush_unless_optimizing(&self, shard: &EdgeShard) {
        let _writes = self.writes.lock();
        let Some(_no_optimization) = self.optimizing.try_lock() else {
            return;
        };
        self.flush_if_dirty(shard);
    }

    /// Runs the optimisers, one optimisation at a time, then flushes what was written
    /// meanwhile along with the new segments.
    pub(super) fn optimize(&self, shard: &EdgeShard) -> OperationResult<bool> {
        let _one_at_a_time = self.optimizing.lock();
        let result = shard.optimize();
        let _writes = self.writes.lock();
        shard.flush();
        self.dirty.store(false, Ordering::Release);
        result
    }

    /// Called with `writes` held, so no write can slip in between; the flag is cleared only
    /// once the flush has succeeded (it panics on I/O errors).
    fn flush_if_dirty(&self, shard: &EdgeShard) {
        if self.dirty.load(Ordering::Acquire) {
            shard.flush();
            self.dirty.store(false, Ordering::Release);
        }
    }
}

/// A thread that flushes the shard every `interval` while there are unflushed writes.
/// Flushing after every write instead would cost a disk sync of every segment file
/// (0.1–0.4 s measured here) per product.
pub(super) struct Flusher {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    /// Holds the shard weakly, so the last `EdgeIndex` handle alone decides when it closes.
    pub(super) fn start(
        shard: Weak<EdgeShard>,
        guards: Arc<Guards>,
        interval: Duration,
    ) -> Result<Self, RetrieverError> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = stop.clone();
        let thread = std::thread::Builder::new()
            .name("kindred-edge-flush".into())
            .spawn(move || loop {
                {
                    let (stopped, wake) = &*signal;
                    let mut stopped = stopped.lock();
                    if !*stopped {
                        wake.wait_for(&mut stopped, interval);
                    }
                    if *stopped {
                        return;
                    }
                }
                let Some(shard) = shard.upgrade() else {
                    return;
                };
                // `EdgeShard::flush` panics on I/O errors; the next round tries again.
                let flushed = catch_unwind(AssertUnwindSafe(|| {
                    guards.flush_unless_optimizing(&shard);
                }));
                if flushed.is_err() {
                    tracing::error!("flushing the vector index failed; retrying");
                }
            })
            .map_err(|e| RetrieverError::Backend(format!("cannot start the flush thread: {e}")))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Flusher {
    /// Stops the thread and waits for a flush in progress, so that the shard (and the
    /// lock on its WAL) is released as soon as the index is dropped.
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock() = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// How long writes may wait for the disk by default.
pub(super) const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(1);
