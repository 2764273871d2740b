//! Section 2, five leads at once: the embedded model answering five leads
//! whose messages interleave (one from each in turn), as a server meets
//! them. Three processes run the same scripts: one KV lane per lead (the
//! default), one shared sequence (`SETTER_LOCAL_LANES=0`: leads share the
//! system prompt but evict each other's conversation), and no prefix reuse
//! at all (`SETTER_LOCAL_PREFIX_REUSE=0`). Nothing here asserts a time.

use crate::process::{greedy_config, percentile, run_with};
use std::path::Path;

/// Five leads, four messages each, in five languages and businesses.
const SCRIPTS: [&str; 5] = [
    "hi, I run a roofing company and we miss calls from leads at night\n\
     about 6 guys, we do maybe 60k a month\n\
     honestly I just want every lead called back within 5 minutes\n\
     we'd want to start in 2 weeks\n",
    "hello! we're a dental clinic in Austin, our front desk can't keep up with instagram DMs\n\
     we want every DM answered within an hour\n\
     the budget is around 1500 a month\n\
     I'm the practice manager, the owner signs off\n",
    "hola, tengo una agencia de viajes y pierdo clientes por whatsapp\n\
     queremos responder a todos en minutos\n\
     empezar el mes que viene\n\
     ¿cuánto cuesta?\n",
    "hey, I coach fitness online and my DMs are a mess\n\
     I want to book 10 more calls a week\n\
     I'm the owner, I decide\n\
     could we start next week?\n",
    "good morning, we are a small law firm and leads wait days for a reply\n\
     we'd like to book consultations automatically\n\
     how much does it cost?\n\
     ok, and can it speak Spanish too?\n",
];

/// One process's run: warm-turn latencies (turn 2 on) in ms, wall time in
/// seconds, peak RSS in MB, and the reply calls' reused prompt tokens.
struct Run {
    warm_ms: Vec<f64>,
    wall_s: f64,
    rss_mb: u64,
    reused: Vec<u64>,
}

fn one_run(dir: &Path, name: &str, env: &[(&str, &str)]) -> Run {
    let config_file = greedy_config(dir, &format!("leads-{name}"));
    let mut args = vec!["--config", config_file.as_str(), "chat", "--json"];
    let files: Vec<String> = (0..SCRIPTS.len()).map(|i| format!("lead{i}.txt")).collect();
    for file in &files {
        args.extend(["--script", file.as_str()]);
    }
    let (wall, rss_mb, out) = run_with(dir, &args, env);
    let turns: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|t: &serde_json::Value| t["turn"].as_i64().unwrap_or(0) > 1)
        .collect();
    Run {
        warm_ms: turns
            .iter()
            .filter_map(|t| t["latency_ms"].as_f64())
            .collect(),
        wall_s: wall.as_secs_f64(),
        rss_mb,
        reused: turns
            .iter()
            .filter_map(|t| t["speed"]["reused_tokens"].as_u64())
            .collect(),
    }
}

/// The section's Markdown, or `None` when a run produced no warm turns.
pub fn interleaved(dir: &Path) -> Option<String> {
    for (i, script) in SCRIPTS.iter().enumerate() {
        std::fs::write(dir.join(format!("lead{i}.txt")), script).unwrap();
    }
    let runs = [
        ("one lane per lead (default)", "lanes", vec![]),
        (
            "one shared sequence",
            "shared",
            vec![("SETTER_LOCAL_LANES", "0")],
        ),
        (
            "no prefix reuse",
            "cold",
            vec![("SETTER_LOCAL_PREFIX_REUSE", "0")],
        ),
    ];
    let mut results = Vec::new();
    for (label, name, env) in &runs {
        println!("Five interleaved leads: {label}…");
        let run = one_run(dir, name, env);
        if run.warm_ms.is_empty() {
            println!("Skipped: `setter chat` produced no warm turns ({label}).\n");
            return None;
        }
        results.push((label, run));
    }
    let base = percentile(&results[0].1.warm_ms, 0.5).max(1.0);
    let mut out = String::from(
        "Five leads, four messages each, answered in turn (one message from each, \
         round robin), a new process per row:\n\n\
         | KV cache | warm turns | p50 | p90 | p50 / lanes | reply prompt reused (mean) | whole process | peak RSS |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for (label, run) in &results {
        let p50 = percentile(&run.warm_ms, 0.5);
        let mean_reused = run.reused.iter().sum::<u64>() as f64 / run.reused.len().max(1) as f64;
        out.push_str(&format!(
            "| {label} | {} | {:.1} s | {:.1} s | {:.2}× | {:.0} tokens | {:.0} s | {} MB |\n",
            run.warm_ms.len(),
            p50 / 1000.0,
            percentile(&run.warm_ms, 0.9) / 1000.0,
            p50 / base,
            mean_reused,
            run.wall_s,
            run.rss_mb,
        ));
    }
    Some(out)
}
