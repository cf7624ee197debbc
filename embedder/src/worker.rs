//! The model on a thread of its own, behind two bounded queues ("lanes").
//!
//! Requests that wait together in a lane are embedded together: short requests arriving at
//! once (say, several webhook deliveries) share batches instead of each paying for a tiny
//! one. Catalogue indexing and shoppers' searches wait in separate lanes, served in turn,
//! so a flood of search texts can fill only its own lane (and be refused there) while every
//! shop's catalogue keeps being indexed, and the other way round. A model call that panics
//! fails its requests, not the thread.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};

use tokio::sync::oneshot;

use crate::{EmbedError, Embedder};

/// Texts gathered from waiting requests into one model call, at most.
const MAX_COALESCED_TEXTS: usize = 1_024;
/// The storefront lane's texts are short and a shopper is waiting: small batches.
const MAX_COALESCED_STOREFRONT_TEXTS: usize = 64;

/// Which queue a request waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Product texts: imports, webhooks, reindexing.
    Catalogue,
    /// Shoppers' search texts, embedded while a storefront request waits.
    Storefront,
}

struct Job {
    texts: Vec<String>,
    reply: oneshot::Sender<Result<Vec<Vec<f32>>, EmbedError>>,
}

#[derive(Default)]
struct Queues {
    catalogue: VecDeque<Job>,
    storefront: VecDeque<Job>,
    /// The lane that was served last, so the other goes next when both wait.
    last: Option<Lane>,
    closed: bool,
}

struct Shared {
    queues: Mutex<Queues>,
    ready: Condvar,
    capacity: usize,
    storefront_capacity: usize,
}

/// A handle to the embedding thread; cheap to share behind an `Arc`. The thread ends when
/// the handle is dropped.
pub struct EmbeddingWorker {
    shared: Arc<Shared>,
    dimension: usize,
}

impl EmbeddingWorker {
    /// Starts the thread; at most `queue_capacity` requests wait in the catalogue lane and
    /// as many in the storefront lane; more are refused.
    pub fn spawn(embedder: Arc<dyn Embedder>, queue_capacity: usize) -> Self {
        Self::spawn_with_lanes(embedder, queue_capacity, queue_capacity)
    }

    /// As [`spawn`](Self::spawn), with the storefront lane's own capacity.
    pub fn spawn_with_lanes(
        embedder: Arc<dyn Embedder>,
        queue_capacity: usize,
        storefront_capacity: usize,
    ) -> Self {
        let shared = Arc::new(Shared {
            queues: Mutex::default(),
            ready: Condvar::new(),
            capacity: queue_capacity.max(1),
            storefront_capacity: storefront_capacity.max(1),
        });
        let dimension = embedder.dimension();
        let thread_shared = shared.clone();
        std::thread::Builder::new()
            .name("kindred-embedder".into())
            .spawn(move || run(embedder.as_ref(), &thread_shared))
            .map(|_| ())
            .unwrap_or_else(|err| tracing::error!(%err, "could not start the embedding thread"));
        Self { shared, dimension }
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Embeds `texts` in the catalogue lane, one vector each, in order.
    /// [`EmbedError::Overloaded`] when the lane is full.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed_in(Lane::Catalogue, texts).await
    }

    /// Embeds `texts` in the given lane. [`EmbedError::Overloaded`] when that lane is full.
    pub async fn embed_in(
        &self,
        lane: Lane,
        texts: Vec<String>,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        {
            let mut queues = self
                .shared
                .queues
                .lock()
                .map_err(|_| EmbedError::Inference("the embedding queue is poisoned".into()))?;
            let (queue, capacity) = match lane {
                Lane::Catalogue => (&mut queues.catalogue, self.shared.capacity),
                Lane::Storefront => (&mut queues.storefront, self.shared.storefront_capacity),
            };
            if queue.len() >= capacity {
                return Err(EmbedError::Overloaded);
            }
            queue.push_back(Job { texts, reply });
        }
        self.shared.ready.notify_one();
        answer
            .await
            .map_err(|_| EmbedError::Inference("the embedding thread dropped the request".into()))?
    }
}

impl Drop for EmbeddingWorker {
    fn drop(&mut self) {
        if let Ok(mut queues) = self.shared.queues.lock() {
            queues.closed = true;
        }
        self.shared.ready.notify_all();
    }
}

/// The next batch: from the lane not served last when both wait, coalesced within it.
fn next_batch(shared: &Shared) -> Option<Vec<Job>> {
    let mut queues = shared.queues.lock().ok()?;
    loop {
        let storefront_turn = match (queues.catalogue.is_empty(), queues.storefront.is_empty()) {
            (true, true) if queues.closed => return None,
            (true, true) => {
                queues = shared.ready.wait(queues).ok()?;
                continue;
            }
            (false, true) => false,
            (true, false) => true,
            (false, false) => queues.last != Some(Lane::Storefront),
        };
        let (lane, most) = if storefront_turn {
            (Lane::Storefront, MAX_COALESCED_STOREFRONT_TEXTS)
        } else {
            (Lane::Catalogue, MAX_COALESCED_TEXTS)
        };
        queues.last = Some(lane);
        let queue = match lane {
            Lane::Catalogue => &mut queues.catalogue,
            Lane::Storefront => &mut queues.storefront,
        };
        let mut batch: Vec<Job> = queue.pop_front().into_iter().collect();
        let mut texts = batch.iter().map(|j| j.texts.len()).sum::<usize>();
        while let Some(job) = queue.front() {
            if texts + job.texts.len() > most {
                break;
            }
            texts += job.texts.len();
            batch.extend(queue.pop_front());
        }
        return Some(batch);
    }
}

fn run(embedder: &dyn Embedder, shared: &Shared) {
    while let Some(batch) = next_batch(shared) {
        let all: Vec<String> = batch
            .iter()
            .flat_map(|job| job.texts.iter().cloned())
            .collect();
        let started = std::time::Instant::now();
        let outcome =
            catch_unwind(AssertUnwindSafe(|| embedder.embed(&all))).unwrap_or_else(|_| {
                tracing::error!(
                    texts = all.len(),
                    "the model panicked; its requests fail, the thread goes on"
                );
                Err(EmbedError::Inference(
                    "the model panicked on this batch".into(),
                ))
            });
        match outcome {
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

    /// A model that panics on one text and echoes the others.
    struct Fragile;

    impl Embedder for Fragile {
        fn dimension(&self) -> usize {
            1
        }
        fn model_id(&self) -> &str {
            "fragile"
        }
        fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
            assert!(
                !texts.iter().any(|t| t == "boom"),
                "a text the model cannot take"
            );
            Ok(texts.iter().map(|t| vec![t.len() as f32]).collect())
        }
    }

    #[tokio::test]
    async fn a_panicking_model_call_fails_its_request_and_the_thread_goes_on() {
        let worker = EmbeddingWorker::spawn(Arc::new(Fragile), 4);
        assert!(worker.embed(vec!["boom".into()]).await.is_err());
        assert_eq!(
            worker.embed(vec!["ok".into()]).await.unwrap(),
            vec![vec![2.0]]
        );
    }

    #[tokio::test]
    async fn a_full_storefront_lane_refuses_searches_while_the_catalogue_lane_is_served() {
        let worker = Arc::new(EmbeddingWorker::spawn_with_lanes(Arc::new(Echo), 8, 2));
        let searches: Vec<_> = (0..20)
            .map(|_| {
                let worker = worker.clone();
                tokio::spawn(
                    async move { worker.embed_in(Lane::Storefront, vec!["q".into()]).await },
                )
            })
            .collect();
        // Catalogue work queued behind the flood is served in turn, not after all of it.
        let started = std::time::Instant::now();
        let catalogue = worker.embed(vec!["product".into()]).await.unwrap();
        assert_eq!(catalogue, vec![vec![7.0]]);
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
        let mut refused = 0;
        for search in searches {
            refused += usize::from(matches!(search.await.unwrap(), Err(EmbedError::Overloaded)));
        }
        assert!(refused >= 10, "{refused} of 20 refused");
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
