//! The load a benchmark puts on a `kindred serve` from its own process: open loop at a fixed
//! rate (latency counted from each request's scheduled start, so a stalled server cannot
//! hide its queueing) and closed loop for peak throughput, over plain HTTP/1.1 keep-alive.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;

/// Latencies (sorted), requests per second achieved, errors.
pub type Sampled = (Vec<Duration>, f64, usize);

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
            let ok = get(&client, &uri, &key).await;
            (scheduled.elapsed(), ok)
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
                let ok = get(&client, &uris[i % uris.len()], &key).await;
                samples.push((sent.elapsed(), ok));
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
    handles: Vec<tokio::task::JoinHandle<(Duration, bool)>>,
    started: Instant,
) -> Sampled {
    let mut all = Vec::with_capacity(handles.len());
    for handle in handles {
        all.push(handle.await.unwrap());
    }
    summarise(all, started)
}

fn summarise(samples: Vec<(Duration, bool)>, started: Instant) -> Sampled {
    let errors = samples.iter().filter(|(_, ok)| !ok).count();
    let rps = samples.len() as f64 / started.elapsed().as_secs_f64();
    let mut latencies: Vec<Duration> = samples.into_iter().map(|(d, _)| d).collect();
    latencies.sort();
    (latencies, rps, errors)
}

async fn get<C>(client: &Client<C, Empty<Bytes>>, uri: &str, key: &str) -> bool
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let Ok(request) = hyper::Request::get(uri)
        .header("authorization", format!("Bearer {key}"))
        .body(Empty::new())
    else {
        return false;
    };
    match client.request(request).await {
        Ok(response) => {
            let ok = response.status().is_success();
            ok && response.into_body().collect().await.is_ok()
        }
        Err(_) => false,
    }
}
