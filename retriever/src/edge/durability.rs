//! When the embedded shard's writes reach the disk, the locking that keeps
//! `EdgeShard::flush` from panicking on a busy lock (see the module docs of `edge`), and
//! the catching of the panics it still raises on I/O errors.

use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use qdrant_edge::EdgeShard;

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
    pub(super) fn flush(&self, shard: &EdgeShard) -> Result<(), RetrieverError> {
        let _no_optimization = self.optimizing.lock();
        let _writes = self.writes.lock();
        self.flush_if_dirty(shard)
    }

    /// Flushes pending writes unless an optimisation runs, which flushes when it ends.
    fn flush_unless_optimizing(&self, shard: &EdgeShard) -> Result<(), RetrieverError> {
        let _writes = self.writes.lock();
        let Some(_no_optimization) = self.optimizing.try_lock() else {
            return Ok(());
        };
        self.flush_if_dirty(shard)
    }

    /// Runs the optimisers, one optimisation at a time, then flushes what was written
    /// meanwhile along with the new segments.
    pub(super) fn optimize(&self, shard: &EdgeShard) -> Result<bool, RetrieverError> {
        let _one_at_a_time = self.optimizing.lock();
        let result = shard.optimize();
        let _writes = self.writes.lock();
        flush_caught(shard)?;
        self.dirty.store(false, Ordering::Release);
        Ok(result?)
    }

    /// Called with `writes` held, so no write can slip in between; the flag is cleared only
    /// once the flush has succeeded.
    fn flush_if_dirty(&self, shard: &EdgeShard) -> Result<(), RetrieverError> {
        if self.dirty.load(Ordering::Acquire) {
            flush_caught(shard)?;
            self.dirty.store(false, Ordering::Release);
        }
        Ok(())
    }
}

/// `EdgeShard::flush`, whose panic on an I/O error (a full disk, a data folder removed
/// under the process) becomes an error: unwinding on would drop the shard, whose own
/// `Drop` flushes and panics again, and a panic during a panic aborts the process.
pub(super) fn flush_caught(shard: &EdgeShard) -> Result<(), RetrieverError> {
    catch_unwind(AssertUnwindSafe(|| shard.flush())).map_err(|_| {
        RetrieverError::Backend("the vector index could not write to its folder".into())
    })
}

/// The shard, closed without aborting: `EdgeShard`'s `Drop` flushes and panics on I/O
/// errors, so the last handle dropping it catches that panic and logs it instead.
pub(super) struct Shard(ManuallyDrop<EdgeShard>);

impl Shard {
    pub(super) fn new(shard: EdgeShard) -> Self {
        Self(ManuallyDrop::new(shard))
    }
}

impl Deref for Shard {
    type Target = EdgeShard;

    fn deref(&self) -> &EdgeShard {
        &self.0
    }
}

impl Drop for Shard {
    fn drop(&mut self) {
        // SAFETY: the shard is taken once, here, and `self` is never used again.
        let shard = unsafe { ManuallyDrop::take(&mut self.0) };
        if catch_unwind(AssertUnwindSafe(move || drop(shard))).is_err() {
            tracing::error!("closing the vector index lost writes it could not flush");
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
        shard: Weak<Shard>,
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
                // The next round tries again.
                if let Err(error) = guards.flush_unless_optimizing(&shard) {
                    tracing::error!(%error, "flushing the vector index failed; retrying");
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
