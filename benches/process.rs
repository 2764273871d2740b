//! Whole-process benchmarks run through the real `setter` binary: eval
//! throughput (section 3) and the embedded model's latency and memory
//! (section 2, when the binary has the `local` feature and the model is
//! present). Included by `core.rs`; nothing here asserts a time.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SETTER: &str = env!("CARGO_BIN_EXE_setter");

/// Runs `setter` in `dir`, sampling the child's peak RSS (VmHWM) while it runs.
/// Returns (wall time, peak RSS in MB, stdout).
pub fn run(dir: &Path, args: &[&str]) -> (Duration, u64, String) {
    let started = Instant::now();
    let mut child = Command::new(SETTER)
        .args(args)
        .current_dir(dir)
        .env_remove("SETTER_CASSETTE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the setter binary starts");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    while child.try_wait().expect("wait on setter").is_none() {
        if let Ok(status) = std::fs::read_to_string(&status_file) {
            let hwm = status.lines().find(|l| l.starts_with("VmHWM:"));
            if let Some(kb) = hwm.and_then(|l| l.split_whitespace().nth(1)?.parse().ok()) {
                peak_kb = peak_kb.max(kb);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (
        started.elapsed(),
        peak_kb / 1024,
        reader.join().unwrap_or_default(),
    )
}

/// Deterministic pseudo-random numbers (no dependency needed for test data).
struct Lcg(u64);
impl Lcg {
    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        options[(self.0 >> 33) as usize % options.len()]
    }
}

fn generated_case(rng: &mut Lcg, id: usize) -> String {
    let levels = ["high", "medium", "low"];
    let slots = serde_json::json!({
        "pain": rng.pick(&["no leads", "DMs pile up", "slow replies"]),
        "business": rng.pick(&["agency", "dental clinic", "roofer"]),
        "timeline": rng.pick(&["in 2 weeks", "next month", "later"]),
        "budget": rng.pick(&["$3k/month", "2000", "no budget"]),
    });
    serde_json::json!({
        "id": format!("c{id}"), "channel": "whatsapp",
        "turns": [{"role": "lead", "text": "hi"}],
        "expect": {"slots": slots, "fit": rng.pick(&levels), "intent": rng.pick(&levels),
                   "tier": rng.pick(&["hot", "warm", "cold"]), "disqualified": rng.pick(&["a", "b", "c", "d", "e", "f", "g", "h", "i", "x"]) == "x"}
    })
    .to_string()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Section 3: `setter eval score` on 10,000 generated cases, and an offline
/// run of the starter suite from its cassette.
pub fn eval_throughput(dir: &Path) {
    const CASES: usize = 10_000;
    let mut rng = Lcg(7);
    for name in ["gold.jsonl", "pred.jsonl"] {
        let lines: Vec<String> = (0..CASES).map(|i| generated_case(&mut rng, i)).collect();
        std::fs::write(dir.join(name), lines.join("\n")).unwrap();
    }
    let runs: Vec<(Duration, u64)> = (0..3)
        .map(|_| {
            let (t, rss, _) = run(
                dir,
                &[
                    "eval",
                    "score",
                    "gold.jsonl",
                    "pred.jsonl",
                    "--json",
                    "out.json",
                ],
            );
            (t, rss)
        })
        .collect();
    let wall = median(runs.iter().map(|r| r.0).collect());
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("evals/starter");
    let suite = suite.to_str().unwrap();
    let offline = median(
        (0..5)
            .map(|_| {
                run(
                    dir,
                    &["eval", "run", suite, "--no-progress", "--json", "o.json"],
                )
                .0
            })
            .collect(),
    );
    println!("\n## Eval throughput (whole process, median of runs)\n");
    println!("| run | cases | wall | cases/s | peak RSS |\n|---|---|---|---|---|");
    println!(
        "| `eval score` gold vs predictions | {CASES} | {:.2} s | {:.0} | {} MB |",
        wall.as_secs_f64(),
        CASES as f64 / wall.as_secs_f64(),
        runs[0].1
    );
    println!(
        "| `eval run evals/starter` (offline, cassette) | 46 | {:.2} s | {:.0} | - |",
        offline.as_secs_f64(),
        46.0 / offline.as_secs_f64()
    );
}

/// Section 2: the embedded model over a scripted 6-turn conversation in a new
/// process: first (cold) turn, warm turns, tokens/s, peak RSS.
pub fn local_model(dir: &Path) {
    println!("\n## Embedded model (default local model, 2 threads per core available)\n");
    let (_, _, path) = run(dir, &["model", "path"]);
    let path = path.trim();
    if path.is_empty() || !Path::new(path).is_file() {
        println!("Skipped: no local model in this binary or on disk (`cargo bench --bench core` after `setter model pull`).");
        return;
    }
    let script = "hi, I run a roofing company and we miss calls from leads at night\n\
                  about 6 guys, we do maybe 60k a month\n\
                  honestly I just want every lead called back within 5 minutes\n\
                  we'd want to start in 2 weeks\n\
                  I'm the owner, it's my call\n\
                  how much is it?\n";
    std::fs::write(dir.join("script.txt"), script).unwrap();
    let (wall, rss, out) = run(dir, &["chat", "--new", "--script", "script.txt", "--json"]);
    println!("| turn | latency | prompt tok/s | generation tok/s | extract ms | reply ms |\n|---|---|---|---|---|---|");
    for line in out.lines() {
        let Ok(r) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        println!(
            "| {} | {:.1} s | {:.1} | {:.1} | {} | {} |",
            r["turn"],
            r["latency_ms"].as_f64().unwrap_or(0.0) / 1000.0,
            r["speed"]["prompt_tokens_per_s"].as_f64().unwrap_or(0.0),
            r["speed"]["gen_tokens_per_s"].as_f64().unwrap_or(0.0),
            r["stage_us"]["extract"].as_u64().unwrap_or(0) / 1000,
            r["stage_us"]["reply"].as_u64().unwrap_or(0) / 1000,
        );
    }
    println!(
        "\nWhole process (load + 6 turns): {:.1} s; peak RSS {rss} MB.",
        wall.as_secs_f64()
    );
}
