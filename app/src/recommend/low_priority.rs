//! CPU-heavy background work (training and encoding a shop's models) on a thread of its own
//! at a low scheduling priority, so on a busy machine the requests being served take the
//! cores first and a build mostly slows itself down, not a shopper's answer.

use crate::error::AppError;

/// Nice value of the background thread: the scheduler gives it about a tenth of what a
/// request's thread gets when both want a core (19, the lowest, would be a seventieth: a
/// build could then starve for minutes behind a steady load and the models go stale).
const NICE: i32 = 10;

/// Runs `work` on a new thread at low priority and waits for it without blocking the
/// async runtime. A new thread each time: a thread's priority cannot be raised again without
/// privileges, so a pooled thread lowered once would stay slow for whatever ran on it next.
pub(crate) async fn run<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(format!("kindred-{what}"))
        .spawn(move || {
            lower_this_threads_priority();
            let _ = done.send(work());
        })
        .map_err(|e| AppError::Internal(format!("starting {what}: {e}")))?;
    result
        .await
        .map_err(|_| AppError::Internal(format!("{what} stopped before it finished")))
}

/// Linux only: elsewhere (macOS) the nice value belongs to the whole process, and lowering
/// it would slow every request.
#[cfg(target_os = "linux")]
fn lower_this_threads_priority() {
    // On Linux the nice value belongs to the thread: `who = 0` is the calling thread.
    // SAFETY: setpriority only reads its integer arguments.
    let lowered = unsafe { libc::setpriority(libc::PRIO_PROCESS as _, 0, NICE) };
    if lowered != 0 {
        tracing::debug!("background work runs at normal priority: setpriority refused");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}
