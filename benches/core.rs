//! Setter's benchmarks in one command: (1) its own cost per turn with a model
//! that costs nothing, (4) memory and storage per lead, (5) `setter serve`
//! under load (acks/s, turns/s), (3) eval throughput
//! and (2) the embedded model's latency and memory (when present), with
//! prefix reuse on and off.
//!
//! Run: `cargo bench --bench core` (`--no-default-features` skips the model
//! section). It prints Markdown tables, headed by the machine (cores, CPU,
//! RAM), the date and the command, and rewrites the matching generated blocks
//! of docs/benchmarks.md (between `<!-- bench:NAME -->` and
//! `<!-- /bench:NAME -->`); the prose around them is written by hand.
//! `SETTER_BENCH_DOCS=0` only prints. Not a test: nothing here asserts a
//! time. All network traffic goes to 127.0.0.1 and is bounded.

#[path = "../tests/common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../tests/serve/harness.rs"]
mod harness;
mod leads;
mod process;
mod serve_load;
mod tick_load;

use setter::agent::{Agent, Answer, Inbound};
use setter::config::{self, Config, Provider};
use setter::lead::Channel;
use setter::llm::{ChatModel, ChatRequest, ChatResponse, ModelInfo, Usage};
use setter::prompts::Prompts;
use setter::store::{NewLead, Store};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Measured turns per row (one per lead) and raw round trips.
const SAMPLES: usize = 100;
/// Stored messages per lead before the measured turn, one row each.
const HISTORIES: [usize; 3] = [2, 20, 200];
/// Turns the turn benchmark runs in all: two models, every row, fill + measured.
const TURNS_RUN: usize = 2 * SAMPLES * (HISTORIES[0] / 2 + HISTORIES[1] / 2 + HISTORIES[2] / 2 + 3);

/// An in-process model that answers instantly: all-null facts, a fixed reply.
struct InstantModel;

#[async_trait::async_trait]
impl ChatModel for InstantModel {
    async fn chat(&self, request: &ChatRequest) -> setter::llm::Result<ChatResponse> {
        let text = match &request.schema {
            Some(s) => common::null_instance(&s.schema).to_string(),
            None => "Thanks! What made you reach out today?".to_string(),
        };
        Ok(ChatResponse {
            text,
            usage: Usage {
                prompt_tokens: 100,
                completion_tokens: 20,
            },
            speed: None,
            confidence: Default::default(),
            forced: Default::default(),
        })
    }
    fn info(&self) -> ModelInfo {
        ModelInfo {
            provider: "bench".into(),
            model: "instant".into(),
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn agent(dir: &Path, model: Arc<dyn ChatModel>) -> Agent {
    let mut c = Config::example();
    c.storage.url = format!("sqlite://{}", dir.join("bench.db").display());
    c.llm.provider = Provider::Openai;
    let loaded = config::finish(c, Path::new("bench"), dir.to_path_buf()).unwrap();
    let store = Store::open(&loaded.storage_url()).await.unwrap();
    let prompts = Prompts::load(None).unwrap();
    Agent::new(Arc::new(loaded), model, store, Arc::new(prompts)).unwrap()
}

/// p50/p99 ms of one turn on leads that already hold `history` messages:
/// SAMPLES leads are filled to that size first, then each answers one message.
async fn turn_latency(agent: &Agent, history: usize, tag: &str) -> (f64, f64, [f64; 5]) {
    let mut times = Vec::with_capacity(SAMPLES);
    let mut stages = [0f64; 5];
    for n in 0..SAMPLES {
        let new = NewLead {
            channel: Channel::Webchat,
            external_id: format!("{tag}-{history}-{n}"),
            name: None,
            source: None,
            account_id: None,
        };
        let lead = agent.store().lead_for(&new, 0).await.unwrap();
        for i in 0..history / 2 {
            let inbound = Inbound {
                text: format!("earlier message {i}"),
                external_id: None,
                at: i as i64,
            };
            agent.converse(&lead, inbound, None).await.unwrap();
        }
        let inbound = Inbound {
            text: "we are an agency and need more leads".into(),
            external_id: None,
            at: 1_000_000,
        };
        let t = Instant::now();
        let outcome = agent.converse(&lead, inbound, None).await.unwrap();
        times.push(t.elapsed());
        if let Answer::Replied(r) = outcome {
            let s = r.stage_us;
            for (acc, v) in stages
                .iter_mut()
                .zip([s.load, s.extract, s.decide, s.reply, s.persist])
            {
                *acc += v as f64;
            }
        }
    }
    times.sort();
    let total: f64 = stages.iter().sum();
    (
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        stages.map(|v| 100.0 * v / total),
    )
}

/// Raw HTTP round trip to the stub with the same client stack (reqwest via async-openai).
async fn raw_round_trip(url: &str) -> f64 {
    let mut llm = Config::example().llm;
    llm.base_url = url.to_string();
    let model = setter::llm::openai::OpenAiModel::from_config(&llm).unwrap();
    let request = ChatRequest {
        messages: vec![setter::llm::ChatMessage::user("hi")],
        schema: None,
        temperature: 0.0,
        max_tokens: 10,
        conversation: None,
    };
    let mut times = Vec::new();
    for _ in 0..SAMPLES * 2 {
        let t = Instant::now();
        model.chat(&request).await.unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    percentile(&times, 0.5)
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The benchmarked machine, date and command, for the head of the results.
fn machine() -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cpu = format!("{cpu}, {}", vector_isa(&cpuinfo));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let ram_kb: u64 = read("/proc/meminfo")
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0);
    let os = read("/etc/os-release")
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| std::env::consts::OS.into());
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "rustc (version unknown)".into());
    let command = if cfg!(feature = "local") {
        "cargo bench --bench core"
    } else {
        "cargo bench --bench core --no-default-features"
    };
    format!(
        "Machine: {cores} cores ({cpu}), {:.1} GiB RAM, {os}, {rustc}. Date: {} (UTC). \
         Command: `{command}`.",
        ram_kb as f64 / (1024.0 * 1024.0),
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
    )
}

/// The widest vector instructions the CPU offers. llama.cpp's quantized
/// kernels use them, and the CPU's name does not say which: two machines
/// both reported as "AMD EPYC, 2 cores" ran the same warm turns at p50
/// 8.8 s and 3.8 s (the faster one has AVX-512 with VNNI).
fn vector_isa(cpuinfo: &str) -> &'static str {
    let flags: Vec<&str> = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    let has = |f: &str| flags.contains(&f);
    match (has("avx512f"), has("avx512_vnni"), has("avx2")) {
        (true, true, _) => "AVX-512 with VNNI",
        (true, false, _) => "AVX-512",
        (false, _, true) => "AVX2",
        _ => "no AVX2",
    }
}

/// Replaces each `<!-- bench:NAME -->…<!-- /bench:NAME -->` block of `doc`
/// with the generated text for NAME; blocks with no new text stay as they are.
fn fill_blocks(doc: &str, blocks: &[(&str, String)]) -> String {
    let mut out = doc.to_string();
    for (name, text) in blocks {
        let (open, close) = (
            format!("<!-- bench:{name} -->"),
            format!("<!-- /bench:{name} -->"),
        );
        let (Some(start), Some(end)) = (out.find(&open), out.find(&close)) else {
            continue;
        };
        if end < start {
            continue;
        }
        let inner = start + open.len();
        out.replace_range(inner..end, &format!("\n{}\n", text.trim()));
    }
    out
}

/// Prints a generated section as it is produced and keeps it for the docs.
struct Results(Vec<(&'static str, String)>);

impl Results {
    fn add(&mut self, name: &'static str, text: String) {
        println!("{text}\n");
        self.keep(name, text);
    }

    /// Keeps a section already printed piece by piece.
    fn keep(&mut self, name: &'static str, text: String) {
        self.0.push((name, text));
    }

    fn write_docs(&self) {
        if std::env::var("SETTER_BENCH_DOCS").is_ok_and(|v| v == "0") {
            return;
        }
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/benchmarks.md");
        let Ok(doc) = std::fs::read_to_string(&path) else {
            return;
        };
        let filled = fill_blocks(&doc, &self.0);
        if filled != doc {
            std::fs::write(&path, filled).unwrap();
            println!("Updated the generated blocks of {}.", path.display());
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let rss_idle = rss_kb();
    let mut results = Results(Vec::new());
    results.add("machine", machine());
    // `SETTER_BENCH_ONLY=model` runs the embedded-model sections alone.
    if std::env::var("SETTER_BENCH_ONLY").is_ok_and(|v| v == "model") {
        local_model_sections(dir.path(), &mut results);
        results.write_docs();
        return;
    }
    // `SETTER_BENCH_ONLY=tick` runs the follow-up tick section alone.
    if std::env::var("SETTER_BENCH_ONLY").is_ok_and(|v| v == "tick") {
        println!("## Follow-up tick cost\n");
        results.add("tick", tick_load::run(dir.path()).await);
        results.write_docs();
        return;
    }
    // `SETTER_BENCH_ONLY=serve` runs the serve section alone.
    if std::env::var("SETTER_BENCH_ONLY").is_ok_and(|v| v == "serve") {
        let url = common::Stub::start_unrecorded().await.url;
        let raw = raw_round_trip(&url).await;
        println!("## setter serve under load\n");
        results.add("serve", serve_load::run(raw).await);
        results.write_docs();
        return;
    }
    println!("## Turn overhead (instant model), {SAMPLES} leads per row\n");
    let mut table = String::from(
        "| model | stored messages | p50 ms | p99 ms | load % | extract % | decide % | reply % | persist % |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    print!("{table}");
    std::fs::create_dir_all(dir.path().join("fake")).unwrap();
    std::fs::create_dir_all(dir.path().join("http")).unwrap();
    let fake = agent(&dir.path().join("fake"), Arc::new(InstantModel)).await;
    let url = common::Stub::start_unrecorded().await.url;
    let raw = raw_round_trip(&url).await;
    let mut llm = Config::example().llm;
    llm.base_url = url.clone();
    let http: Arc<dyn ChatModel> =
        Arc::new(setter::llm::openai::OpenAiModel::from_config(&llm).unwrap());
    let over_http = agent(&dir.path().join("http"), http).await;
    let mut summary = Vec::new();
    for history in HISTORIES {
        let mut row = |name: &str, p50: f64, p99: f64, share: [f64; 5]| {
            let share: Vec<String> = share.iter().map(|v| format!("{v:.0}")).collect();
            let line = format!(
                "| {name} | {history} | {p50:.2} | {p99:.2} | {} |",
                share.join(" | ")
            );
            println!("{line}");
            table.push_str(&line);
            table.push('\n');
        };
        let (p50, p99, share) = turn_latency(&fake, history, "fake").await;
        row("in-process", p50, p99, share);
        let (h50, h99, share) = turn_latency(&over_http, history, "http").await;
        row("loopback HTTP stub", h50, h99, share);
        summary.push((history, h50));
    }
    let mut tail = String::new();
    tail.push_str(&format!(
        "\nRaw HTTP round trip to the stub (p50): {raw:.3} ms; a turn makes 2 model calls.\n\n\
         | stored messages | Setter's own work per turn over HTTP (p50 minus 2 round trips) | ratio to the raw round trip |\n\
         |---|---|---|\n"
    ));
    for (history, h50) in summary {
        let own = (h50 - 2.0 * raw).max(0.0);
        tail.push_str(&format!(
            "| {history} | {own:.2} ms | {:.1}× |\n",
            own / raw
        ));
    }
    println!("{tail}");
    table.push_str(&tail);
    results.keep("turns", table);

    println!("## Memory and storage\n");
    let store_dir = dir.path().join("leads");
    std::fs::create_dir_all(&store_dir).unwrap();
    let store = Store::open(&format!(
        "sqlite://{}",
        store_dir.join("leads.db").display()
    ))
    .await
    .unwrap();
    let before = rss_kb();
    for i in 0..10_000 {
        let new = NewLead {
            channel: Channel::Whatsapp,
            external_id: format!("+1555{i:07}"),
            name: None,
            source: None,
            account_id: None,
        };
        let event = setter::store::InboundEvent {
            lead: new,
            external_id: Some(format!("wamid.{i}")),
            kind: "text".into(),
            text: "Hi! I run a small agency and I'm interested in your service.".into(),
            at: i,
        };
        let batch = setter::store::Batch {
            raw: None,
            events: vec![setter::store::Event::Inbound(event)],
        };
        store.accept(&batch, i).await.unwrap();
    }
    store.close().await;
    let db_bytes: u64 = std::fs::read_dir(&store_dir)
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    let memory = format!(
        "| figure | value |\n|---|---|\n\
         | RSS at start (no local model loaded) | {} MB |\n\
         | RSS after the turn benchmarks ({} turns on {} leads) | {} MB |\n\
         | RSS after storing 10,000 more leads with one message each | {} MB |\n\
         | database bytes per stored lead + message (incl. WAL and indexes) | {} |",
        rss_idle / 1024,
        TURNS_RUN,
        2 * SAMPLES * HISTORIES.len(),
        before / 1024,
        rss_kb() / 1024,
        db_bytes / 10_000
    );
    results.add("memory", memory);

    println!("## setter serve under load\n");
    results.add("serve", serve_load::run(raw).await);
    println!("## Follow-up tick cost\n");
    results.add("tick", tick_load::run(dir.path()).await);
    results.add("eval", process::eval_throughput(dir.path()));
    local_model_sections(dir.path(), &mut results);
    results.write_docs();
}

/// Section 2: one scripted lead (prefix reuse on and off), then five
/// interleaved leads (lanes, one shared sequence, no reuse).
fn local_model_sections(dir: &std::path::Path, results: &mut Results) {
    if let Some(model) = process::local_model(dir) {
        results.add("model", model);
        if let Some(leads) = leads::interleaved(dir) {
            results.add("leads", leads);
        }
    }
}
