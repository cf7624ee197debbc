//! The model on a thread of its own, behind a bounded queue.
//!
//! Requests that wait together are embedded together: short requests arriving at once
//! (say, several webhook deliveries) share batches instead of each paying for a tiny one.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::{EmbedError, Embedder};

/// Texts gathered from waiting requests into one model call, at most.
const MAX_COALESCED_TEXTS: usize = 1_024;

struct Job {
    texts: Vec<String>,
    reply: oneshot::Sender<Result<Vec<Vec<f32>>, EmbedError>>,
}

/// A handle to the embedding thread; cheap to share behind an `Arc`. The thread ends when
/// the last handle is dropped.
pub struct EmbeddingWorker {
    queue: SyncSender<Job>,
    dimension: usize,
}

impl EmbeddingWorker {
    /// Starts the thread; at most `queue_capacity` requests wait, more are refused.
    pub fn spawn(embedder: Arc<dyn Embedder>, queue_capacity: usize) -> Self {
        let (queue, jobs) = mpsc::sync_channel(queue_capacity.max(1));
        let dimension = embedder.dimension();
        std::thread::Builder::new()
            .name("kindred-embedder".into())
            .spawn(move || run(embedder.as_ref(), &jobs))
            .map(|_| ())
            .unwrap_or_else(|err| tracing::error!(%err, "could not start the embedding thread"));
        Self { queue, dimension }
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Embeds `texts`, one vector each, in order. [`EmbedError::Overloaded`] when the queue is full.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        match self.queue.try_send(Job { texts, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(EmbedError::Overloaded),
            Err(TrySendError::Disconnected(_)) => {
                return Err(EmbedError::Inference(
                    "the embedding thread has stopped".into(),
                ))
            }
        }
        answer
            .await
            .map_err(|_| EmbedError::Inference("the embedding thread dropped the request".into()))?
    }
}

fn run(embedder: &dyn Embedder, jobs: &Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        let mut texts = batch[0].texts.len();
        while texts < MAX_COALESCED_TEXTS {
            match jobs.try_recv() {
                Ok(job) => {
                    texts += job.texts.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        let all: Vec<String> = batch
            .iter()
            .flat_map(|job| job.texts.iter().cloned())
            .collect();
        let started = std::time::Instant::now();
        match embedder.embed(&all) {
            Ok(vectors) => {
                tracing::debug!(
                    texts = all.len(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "embedded"
                );
                let mut vectors = vectors.into_iter();
                for job in batch {
                    let mine: Vec<Vec<f32>> = vectors.by_ref().take(job.texts.len()).collect();
                    // A requester that gave up is no error here.
                    let _ = job.reply.send(Ok(mine));
                }
            }
            Err(err) => {
                let message = err.to_string();
                for job in batch {
                    let _ = job.reply.send(Err(EmbedError::Inference(message.clone())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in model whose vector reveals its text, to check routing of results.
    struct Echo;

    impl Embedder for Echo {
        fn dimension(&self) -> usize {
            1
        }
        fn model_id(&self) -> &str {
            "echo"
        }
        fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
            std::thread::sleep(std::time::Duration::from_millis(20));
            Ok(texts.iter().map(|t| vec![t.len() as f32]).collect())
        }
    }

    #[tokio::test]
    async fn concurrent_requests_get_their_own_vectors_back() {
        let worker = Arc::new(EmbeddingWorker::spawn(Arc::new(Echo), 64));
        let handles: Vec<_> = (1..=20)
            .map(|n| {
                let worker = worker.clone();
                tokio::spawn(async move {
                    (
                        n,
                        worker
                            .embed(vec!["x".repeat(n), "y".repeat(n * 2)])
                            .await
                            .unwrap(),
                    )
                })
            })
            .collect();
        for handle in handles {
            let (n, vectors) = handle.await.unwrap();
            assert_eq!(vectors, vec![vec![n as f32], vec![(n * 2) as f32]]);
        }
    }

    #[tokio::test]
    async fn a_full_queue_says_overloaded() {
        let worker = Arc::new(EmbeddingWorker::spawn(Arc::new(Echo), 1));
        let results: Vec<_> = futures_join(worker, 10).await;
        assert!(results
            .iter()
            .any(|r| matches!(r, Err(EmbedError::Overloaded))));
        assert!(results.iter().any(|r| r.is_ok()));
    }

    async fn futures_join(
        worker: Arc<EmbeddingWorker>,
        n: usize,
    ) -> Vec<Result<Vec<Vec<f32>>, EmbedError>> {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let worker = worker.clone();
                tokio::spawn(async move { worker.embed(vec!["text".into()]).await })
            })
            .collect();
        let mut results = Vec::new();
        for handle in handles {
            results.push(handle.await.unwrap());
        }
        results
    }
}
