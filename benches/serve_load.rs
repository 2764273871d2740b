//! `setter serve` under load, in-process on 127.0.0.1: signed WhatsApp
//! webhooks from a local load generator (acks/s and ack latency, durable
//! storage, group commit), and end-to-end turns/s with the loopback stub
//! model at 1, 10 and 100 concurrent leads, beside the stub's own round trip.

use crate::harness::{post_signed, Serve, PHONE_ID};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Webhooks posted in the ack benchmark, and clients posting at once.
const ACKS: usize = 20_000;
const CLIENTS: usize = 64;
const LEADS: usize = 1_000;

fn webhook(lead: usize, id: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{
        "field": "messages",
        "value": {"messaging_product": "whatsapp",
                  "metadata": {"display_phone_number": "1555", "phone_number_id": PHONE_ID},
                  "contacts": [{"profile": {"name": "Bench"}, "wa_id": format!("1555{lead:07}")}],
                  "messages": [{"from": format!("1555{lead:07}"), "id": id, "timestamp": "1700000000",
                                "type": "text", "text": {"body": "hi, we run an agency and need more leads"}}]}}]}]}))
    .unwrap()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    ms(sorted[((sorted.len() as f64 - 1.0) * p).round() as usize])
}

/// Posts `total` signed webhooks from `clients` concurrent clients; returns
/// (acks/s, sorted latencies).
async fn load(s: &Serve, total: usize, clients: usize, tag: &str) -> (f64, Vec<Duration>) {
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, url, next, tag) = (
            s.http.clone(),
            format!("{}/webhooks/meta", s.url),
            next.clone(),
            tag.to_string(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    return latencies;
                }
                let body = webhook(i % LEADS, &format!("wamid.{tag}.{i}"));
                let t = Instant::now();
                let r = post_signed(&http, &url, body).await.unwrap();
                assert_eq!(r.status(), 200);
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::with_capacity(total);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

/// One message from each of `leads` new leads at once, `rounds` times;
/// returns turns/s once every reply has gone through the fake Graph API.
async fn turns(s: &Serve, leads: usize, rounds: usize, tag: &str) -> f64 {
    let started = Instant::now();
    let before = s.graph.calls().len();
    for round in 0..rounds {
        let mut posts = Vec::new();
        for lead in 0..leads {
            let (http, url) = (s.http.clone(), format!("{}/webhooks/meta", s.url));
            let body = webhook(10_000 + lead, &format!("wamid.{tag}.{round}.{lead}"));
            posts.push(tokio::spawn(async move {
                post_signed(&http, &url, body).await.unwrap()
            }));
        }
        for p in posts {
            assert_eq!(p.await.unwrap().status(), 200);
        }
        let want = before + (round + 1) * leads;
        let deadline = Instant::now() + Duration::from_secs(120);
        while s.graph.calls().len() < want && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    (leads * rounds) as f64 / started.elapsed().as_secs_f64()
}

/// The section's Markdown.
pub async fn run(stub_round_trip_ms: f64) -> String {
    // Acks alone: the queue's debounce keeps turns out of the way.
    let s = Serve::start(|c| c.serve.debounce_ms = 60_000).await;
    let (single_rate, single) = load(&s, 2_000, 1, "one").await;
    let (rate, latencies) = load(&s, ACKS, CLIENTS, "many").await;
    let mut out = format!(
        "| load | acks/s | p50 ms | p99 ms |\n|---|---|---|---|\n\
         | 1 client, one webhook at a time | {single_rate:.0} | {:.2} | {:.2} |\n\
         | {CLIENTS} clients, {ACKS} webhooks from {LEADS} leads (group commit) | {rate:.0} | {:.2} | {:.2} |\n\n\
         {CLIENTS} concurrent clients ack **{:.1}×** the single-client rate: concurrent webhooks share one \
         transaction and one fsync.\n\n",
        percentile(&single, 0.5),
        percentile(&single, 0.99),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        rate / single_rate,
    );
    drop(s);
    out.push_str(
        "| concurrent leads | turns/s end to end | wall ms per turn (amortized) | stub round trip ms |\n\
         |---|---|---|---|\n",
    );
    for leads in [1, 10, 100] {
        let s = Serve::start(|c| {
            c.serve.debounce_ms = 0;
            c.serve.max_concurrent_turns = 16;
        })
        .await;
        let rounds = (300 / leads).max(3);
        let rate = turns(&s, leads, rounds, &format!("t{leads}")).await;
        out.push_str(&format!(
            "| {leads} | {rate:.0} | {:.2} | {stub_round_trip_ms:.3} |\n",
            1000.0 / rate
        ));
    }
    out
}
