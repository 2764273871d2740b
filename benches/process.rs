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
    run_with(dir, args, &[])
}

/// [`run`] with extra environment variables.
pub fn run_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Duration, u64, String) {
    let started = Instant::now();
    let mut child = Command::new(SETTER)
        .args(args)
        .current_dir(dir)
        .env_remove("SETTER_CASSETTE")
        .envs(env.iter().copied())
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
/// run of the starter suite from its cassette. Returns the Markdown table.
pub fn eval_throughput(dir: &Path) -> String {
    println!("## Eval throughput (whole process, median of runs)\n");
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
    // The suite grows: count its cases from the run's own report.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("o.json")).unwrap_or_default())
            .unwrap_or_default();
    let suite_cases = report["summary"]["cases"].as_u64().unwrap_or(0);
    format!(
        "| run | cases | wall | cases/s | peak RSS |\n|---|---|---|---|---|\n\
         | `setter eval score` gold vs predictions (generated) | {CASES} | {:.2} s | **{:.0}** | {} MB |\n\
         | `setter eval run evals/starter` (offline, from the cassette) | {suite_cases} | {:.2} s | {:.0} | - |",
        wall.as_secs_f64(),
        CASES as f64 / wall.as_secs_f64(),
        runs[0].1,
        offline.as_secs_f64(),
        suite_cases as f64 / offline.as_secs_f64()
    )
}

/// The scripted conversation of section 2: six lead messages.
const SCRIPT: &str = "hi, I run a roofing company and we miss calls from leads at night\n\
                      about 6 guys, we do maybe 60k a month\n\
                      honestly I just want every lead called back within 5 minutes\n\
                      we'd want to start in 2 weeks\n\
                      I'm the owner, it's my call\n\
                      how much is it?\n";

/// One turn of `setter chat --script … --json`, as the benchmark reads it.
struct Turn {
    latency_ms: f64,
    prompt_tps: f64,
    gen_tps: f64,
    extract_ms: u64,
    reply_ms: u64,
    prompt_tokens: u64,
    reply: String,
}

/// Writes `NAME.toml` in `dir`: the example config, greedy (temperature 0)
/// so that runs hold the same conversation and differ only in what they
/// measure, with its own database `NAME.db`. Returns the file name.
pub fn greedy_config(dir: &Path, name: &str) -> String {
    let example = include_str!("../setter.example.toml");
    let config = example
        .replace("temperature = 0.3", "temperature = 0.0")
        .replace("sqlite://setter.db", &format!("sqlite://{name}.db"));
    assert!(
        config.contains("temperature = 0.0") && config.contains(&format!("{name}.db")),
        "the example config changed: update the benchmark"
    );
    let config_file = format!("{name}.toml");
    std::fs::write(dir.join(&config_file), config).unwrap();
    config_file
}

/// The `p` quantile of `values` (nearest rank; 0 when empty).
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).copied().unwrap_or(0.0)
}

/// A new process that loads the model and talks through [`SCRIPT`] with
/// the switches in `env` (`SETTER_LOCAL_PREFIX_REUSE`, `SETTER_LOCAL_DRAFT`,
/// `SETTER_LOCAL_PREFILL`):
/// wall time, peak RSS (MB) and its turns.
fn conversation(dir: &Path, name: &str, env: &[(&str, &str)]) -> (Duration, u64, Vec<Turn>) {
    let config_file = greedy_config(dir, name);
    let (wall, rss, out) = run_with(
        dir,
        &[
            "--config",
            &config_file,
            "chat",
            "--new",
            "--script",
            "script.txt",
            "--json",
        ],
        env,
    );
    let turns = out
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|r| Turn {
            latency_ms: r["latency_ms"].as_f64().unwrap_or(0.0),
            prompt_tps: r["speed"]["prompt_tokens_per_s"].as_f64().unwrap_or(0.0),
            gen_tps: r["speed"]["gen_tokens_per_s"].as_f64().unwrap_or(0.0),
            extract_ms: r["stage_us"]["extract"].as_u64().unwrap_or(0) / 1000,
            reply_ms: r["stage_us"]["reply"].as_u64().unwrap_or(0) / 1000,
            prompt_tokens: r["tokens"]["prompt"].as_u64().unwrap_or(0),
            reply: r["reply"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    (wall, rss, turns)
}

/// Section 2: the embedded model over a scripted 6-turn conversation, each
/// run in a new process: with prefix reuse on (per-turn latency, tokens/s,
/// peak RSS), then off, then with drafting off, then with prefill off, and
/// the ratios. Turn latency is the lead's wait: a prefill runs after the
/// reply, before the next scripted line. `None` when skipped.
pub fn local_model(dir: &Path) -> Option<String> {
    println!(
        "## Embedded model: scripted 6-turn conversation, prefix reuse, drafting and prefill on and off\n"
    );
    if !cfg!(feature = "local") {
        println!("Skipped: built without the `local` feature (run `cargo bench --bench core`).\n");
        return None;
    }
    let (_, _, path) = run(dir, &["model", "path"]);
    let path = path.trim();
    if path.is_empty() || !Path::new(path).is_file() {
        println!("Skipped: no local model on disk (`setter model pull`, then `cargo bench --bench core`).\n");
        return None;
    }
    std::fs::write(dir.join("script.txt"), SCRIPT).unwrap();
    println!("Reuse on…");
    let (on_wall, on_rss, on) = conversation(dir, "reuse-on", &[]);
    println!("Reuse off…");
    let (off_wall, off_rss, off) =
        conversation(dir, "reuse-off", &[("SETTER_LOCAL_PREFIX_REUSE", "0")]);
    println!("Drafting off…");
    let (_, _, undrafted) = conversation(dir, "draft-off", &[("SETTER_LOCAL_DRAFT", "0")]);
    println!("Prefill off…");
    let (_, _, unprefilled) = conversation(dir, "prefill-off", &[("SETTER_LOCAL_PREFILL", "0")]);
    if on.is_empty() || off.is_empty() || undrafted.is_empty() || unprefilled.is_empty() {
        println!("Skipped: `setter chat` produced no turns (run it by hand to see why).\n");
        return None;
    }
    let mut out = String::from(
        "Prefix reuse on (the default):\n\n\
         | turn | latency | prompt tok/s | generation tok/s | extract ms | reply ms |\n\
         |---|---|---|---|---|---|\n",
    );
    let label = |i: usize| {
        if i == 0 {
            "1 (cold)".to_string()
        } else {
            (i + 1).to_string()
        }
    };
    for (i, t) in on.iter().enumerate() {
        out.push_str(&format!(
            "| {} | {:.1} s | {:.1} | {:.1} | {} | {} |\n",
            label(i),
            t.latency_ms / 1000.0,
            t.prompt_tps,
            t.gen_tps,
            t.extract_ms,
            t.reply_ms,
        ));
    }
    out.push_str(&format!(
        "\nWhole process (model load + {} turns): {:.1} s; peak RSS {on_rss} MB.\n\n\
         Reuse on vs off (`SETTER_LOCAL_PREFIX_REUSE=0`), same script, greedy decoding, a new process each:\n\n\
         | turn | prompt tokens | reuse on | reuse off | off / on |\n|---|---|---|---|---|\n",
        on.len(),
        on_wall.as_secs_f64()
    ));
    for (i, (a, b)) in on.iter().zip(&off).enumerate() {
        out.push_str(&format!(
            "| {} | {} | {:.1} s | {:.1} s | {:.2}× |\n",
            label(i),
            a.prompt_tokens,
            a.latency_ms / 1000.0,
            b.latency_ms / 1000.0,
            b.latency_ms / a.latency_ms.max(1.0)
        ));
    }
    let warm = |turns: &[Turn]| turns.iter().skip(1).map(|t| t.latency_ms).sum::<f64>();
    let (warm_on, warm_off) = (warm(&on), warm(&off));
    let same = |a: &[Turn], b: &[Turn]| a.iter().zip(b).filter(|(a, b)| a.reply == b.reply).count();
    out.push_str(&format!(
        "| warm turns 2–{} (sum) | | {:.1} s | {:.1} s | **{:.2}×** |\n\n\
         Whole process: reuse on {:.1} s, off {:.1} s ({:.2}×); peak RSS on {on_rss} MB, off {off_rss} MB. \
         Replies identical in both runs: {} of {}.\n",
        on.len(),
        warm_on / 1000.0,
        warm_off / 1000.0,
        warm_off / warm_on.max(1.0),
        on_wall.as_secs_f64(),
        off_wall.as_secs_f64(),
        off_wall.as_secs_f64() / on_wall.as_secs_f64().max(1e-9),
        same(&on, &off),
        on.len().min(off.len()),
    ));
    // Warm turns' spread: the aim (< 8 s) is on the p50.
    let p50 = |turns: &[Turn]| {
        let warm_ms: Vec<f64> = turns.iter().skip(1).map(|t| t.latency_ms).collect();
        (
            percentile(&warm_ms, 0.5) / 1000.0,
            percentile(&warm_ms, 0.9) / 1000.0,
        )
    };
    let (on_p50, on_p90) = p50(&on);
    out.push_str(&format!(
        "\nFirst reply (turn 1; the instant opener when `[persona] instant_opener` is on; extraction runs after it is sent): {:.2} s. \
         **Warm turns 2–{}: p50 {on_p50:.1} s, p90 {on_p90:.1} s.**\n\n",
        on[0].latency_ms / 1000.0,
        on.len(),
    ));
    let switched_off = |what: &str, turns: &[Turn]| {
        format!(
            "{what}, same script: warm p50 {:.1} s, warm turns {:.1} s against {:.1} s with it on (**{:.2}×**); \
             replies identical: {} of {}.",
            p50(turns).0,
            warm(turns) / 1000.0,
            warm_on / 1000.0,
            warm(turns) / warm_on.max(1.0),
            same(&on, turns),
            on.len().min(turns.len()),
        )
    };
    out.push_str(&switched_off(
        "Drafting off (`SETTER_LOCAL_DRAFT=0`: span values and replies decoded token by token)",
        &undrafted,
    ));
    out.push_str("\n\n");
    out.push_str(&switched_off(
        "Prefill off (`SETTER_LOCAL_PREFILL=0`: the next turn's known prompt prefix is left to the next turn \
         instead of evaluated once the reply is sent)",
        &unprefilled,
    ));
    Some(out)
}
