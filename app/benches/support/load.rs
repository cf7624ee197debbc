//! The load a benchmark puts on a `kindred serve` from its own process: open loop at a fixed
//! rate (latency counted from each request's scheduled start, so a stalled server cannot
//! hide its queueing) and closed loop for peak throughput, over plain HTTP/1.1 keep-alive.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;

/// Latencies (sorted), requests per second achieved, errors.
pub type Sampled = (Vec<Duration>, f64, Errors);

/// What a request ended as when it did not end as a 2xx answer read to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    Status(u16),
    /// No connection could be opened (the server's backlog or this process's descriptors).
    Connect,
    /// The connection failed while the request or its answer was under way.
    Transport,
}

/// The failed requests of a run, counted by what each failure was.
#[derive(Debug, Default, Clone)]
pub struct Errors(BTreeMap<Failure, usize>);

impl Errors {
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }
}

/// `0`, or the total and what it was made of: `7260 (503: 7000, connect: 260)`.
impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.total())?;
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(failure, n)| match failure {
                Failure::Status(code) => format!("{code}: {n}"),
                Failure::Connect => format!("connect: {n}"),
                Failure::Transport => format!("transport: {n}"),
            })
            .collect();
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

pub async fn open_loop<C>(
    client: &Arc<Client<C, Empty<Bytes>>>,
    key: &str,
    request: &impl Fn(usize) -> String,
    rate: u64,
    seconds: u64,
) -> Sampled
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let total = (rate * seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    let mut handles = Vec::with_capacity(total);
    for i in 0..total {
        let scheduled = started + interval * i as u32;
        tokio::time::sleep_until(scheduled.into()).await;
        let client = client.clone();
        let (uri, key) = (request(i), key.to_owned());
        handles.push(tokio::spawn(async move {
            let outcome = get(&client, &uri, &key).await;
            (scheduled.elapsed(), outcome)
        }));
    }
    collect(handles, started).await
}

pub async fn closed_loop<C>(
    client: &Arc<Client<C, Empty<Bytes>>>,
    key: &str,
    request: &impl Fn(usize) -> String,
    connections: usize,
    seconds: u64,
) -> Sampled
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut handles = Vec::new();
    for worker in 0..connections {
        let client = client.clone();
        let key = key.to_owned();
        let uris: Vec<String> = (0..2_000).map(|i| request(worker * 2_000 + i)).collect();
        handles.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut i = 0;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let outcome = get(&client, &uris[i % uris.len()], &key).await;
                samples.push((sent.elapsed(), outcome));
                i += 1;
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for handle in handles {
        all.extend(handle.await.unwrap());
    }
    summarise(all, started)
}

async fn collect(
    handles: Vec<tokio::task::JoinHandle<(Duration, Result<(), Failure>)>>,
    started: Instant,
) -> Sampled {
    let mut all = Vec::with_capacity(handles.len());
    for handle in handles {
        all.push(handle.await.unwrap());
    }
    summarise(all, started)
}

fn summarise(samples: Vec<(Duration, Result<(), Failure>)>, started: Instant) -> Sampled {
    let mut errors = Errors::default();
    for failure in samples.iter().filter_map(|(_, outcome)| outcome.err()) {
        *errors.0.entry(failure).or_default() += 1;
    }
    let rps = samples.len() as f64 / started.elapsed().as_secs_f64();
    let mut latencies: Vec<Duration> = samples.into_iter().map(|(d, _)| d).collect();
    latencies.sort();
    (latencies, rps, errors)
}

async fn get<C>(client: &Client<C, Empty<Bytes>>, uri: &str, key: &str) -> Result<(), Failure>
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let request = hyper::Request::get(uri)
        .header("authorization", format!("Bearer {key}"))
        .body(Empty::new())
        .map_err(|_| Failure::Transport)?;
    let response = client.request(request).await.map_err(|err| {
        if err.is_connect() {
            Failure::Connect
        } else {
            Failure::Transport
        }
    })?;
    let status = response.status();
    response
        .into_body()
        .collect()
        .await
        .map_err(|_| Failure::Transport)?;
    if status.is_success() {
        Ok(())
    } else {
        Err(Failure::Status(status.as_u16()))
    }
}
