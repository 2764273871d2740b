//! `setter eval score|run`: wiring between the command line and `crate::eval`.
//!
//! Exit codes: 0 all gates pass; 1 a `--fail-under` / `--max-regression` gate
//! failed; 2 usage or data errors (bad suite, unreadable file, a malformed case
//! line, a case that could not run). Reports are written even on exit 1 or 2.

use super::load_config;
use crate::config::{self, Config, Loaded};
use crate::eval::case::{self, Case, CaseError, CaseFile, Suite};
use crate::eval::compare::{self, Baseline};
use crate::eval::metrics::SlotRules;
use crate::eval::{parse_gate, report, run, Error, Mode, Outcome, Report};
use crate::llm::cassette;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum EvalCommand {
    /// Score a predictions file against a gold file (same JSONL shape, matched by id). No model.
    Score {
        /// Gold cases (JSONL).
        gold: PathBuf,
        /// Predictions: the same shape, with `expect` holding predicted values.
        pred: PathBuf,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Run a suite directory (suite.toml + cases.jsonl) through the agent, offline.
    Run {
        /// The suite directory.
        suite: PathBuf,
        /// Record/replay model calls in FILE (replay when it exists, else record;
        /// SETTER_CASSETTE_MODE=record|replay|auto overrides).
        #[arg(long)]
        cassette: Option<PathBuf>,
        /// offline: re-extract and re-score with the recorded replies; replay:
        /// also regenerate every reply and check the per-turn assertions.
        /// Default: the suite's `mode`.
        #[arg(long, value_enum)]
        mode: Option<Mode>,
        /// Decide `llm_judge` assertions with the model (otherwise skipped).
        #[arg(long)]
        judge: bool,
        /// Replay the cases with the prompts in DIR too, and show which replies
        /// and metrics moved from those prompts to the current ones (replay mode).
        #[arg(long, value_name = "DIR", conflicts_with = "baseline")]
        diff_against: Option<PathBuf>,
        /// Run every case K times and report pass^k (cases that passed all K
        /// times) and the flaky ones; meaningful with a live, sampling model.
        #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
        repeat: u32,
        /// No progress bar.
        #[arg(long)]
        no_progress: bool,
        #[command(flatten)]
        report: ReportArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Write the full report as JSON (also the --baseline format). `-` = stdout.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a Markdown report. `-` = stdout.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Write JUnit XML (one testcase per case). `-` = stdout.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a self-contained HTML page. `-` = stdout.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// A previous --json report: show per-metric deltas and fixed/broken cases.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Exit 1 when METRIC is under VALUE (repeatable), e.g. tier_accuracy=0.8.
    #[arg(long, value_name = "METRIC=VALUE", value_parser = parse_gate)]
    fail_under: Vec<(String, f64)>,
    /// Exit 1 when METRIC dropped more than VALUE since --baseline (repeatable).
    #[arg(long, value_name = "METRIC=VALUE", value_parser = parse_gate, requires = "baseline")]
    max_regression: Vec<(String, f64)>,
}

/// Data errors exit 2 and runtime failures 1, like every command (`super::exit`).
pub async fn run(config: Option<&Path>, cmd: EvalCommand) -> anyhow::Result<ExitCode> {
    Ok(execute(config, cmd).await?)
}

async fn execute(config: Option<&Path>, cmd: EvalCommand) -> Result<ExitCode, Error> {
    match cmd {
        EvalCommand::Score { gold, pred, report } => {
            let loaded =
                load_config(config).map_err(|e| Error::Data(super::exit::render(e.as_ref())))?;
            let (outcomes, warnings, rules) = score_files(&gold, &pred, &loaded)?;
            let name = gold
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            finish(
                Report::build(&name, "score", outcomes, &rules, warnings),
                read_baseline(&report)?,
                &report,
                &BTreeMap::new(),
            )
        }
        EvalCommand::Run {
            suite,
            cassette: cassette_path,
            mode,
            judge,
            diff_against,
            repeat,
            no_progress,
            report,
        } => {
            let suite = Suite::load(&suite).map_err(Error::Data)?;
            let warnings = suite_warnings(&suite);
            let loaded = suite_config(&suite)?;
            let file = case::load_cases(&suite.cases_path()).map_err(Error::Data)?;
            let (cases, errored, rules) = checked(file, &loaded);
            let settings = match cassette_path
                .or_else(|| suite.file.cassette.as_ref().map(|p| suite.dir.join(p)))
            {
                Some(path) => Some(cassette_settings(path)?),
                None => cassette::Settings::from_env()?,
            };
            let opts = run::Options {
                mode: mode.unwrap_or(suite.file.mode),
                cassette: settings,
                prompts_dir: None,
                judge,
                progress: !no_progress && std::io::stderr().is_terminal(),
            };
            let mode = opts.mode.as_str();
            let build = |mut outcomes: Vec<Outcome>| {
                outcomes.extend(errored.iter().cloned());
                Report::build(&suite.name, mode, outcomes, &rules, warnings.clone())
            };
            let before = match &diff_against {
                Some(dir) => Some(diffed_run(&loaded, &cases, &opts, dir).await.map(build)?),
                None => None,
            };
            let mut runs = Vec::new();
            for _ in 1..repeat {
                runs.push(build(run::run(loaded.clone(), &cases, opts.clone()).await?));
            }
            let mut current = build(run::run(loaded, &cases, opts).await?);
            if repeat > 1 {
                runs.push(current.clone());
                let rep = compare::repeat(&runs);
                current.metrics.insert("pass_hat_k".into(), rep.pass_hat_k);
                current.repeat = Some(rep);
            }
            let baseline = match (&before, &diff_against) {
                (Some(before), Some(dir)) => {
                    let name = format!("prompts {}", dir.display());
                    current.prompt_diff = Some(compare::prompt_diff(
                        &dir.display().to_string(),
                        before,
                        &current,
                    ));
                    Some(Baseline::from_report(&name, before))
                }
                _ => read_baseline(&report)?,
            };
            finish(current, baseline, &report, &suite.file.thresholds)
        }
    }
}

/// The suite's config (relative to the suite), or the built-in example with
/// the suite directory as base (so prompts are the embedded defaults).
fn suite_config(suite: &Suite) -> Result<Loaded, Error> {
    let loaded = match &suite.file.config {
        Some(path) => config::load(&suite.dir.join(path)),
        None => config::finish(
            Config::example(),
            Path::new("(built-in example)"),
            suite.dir.clone(),
        ),
    };
    loaded.map_err(|e| Error::Data(format!("suite config: {e}")))
}

/// Thresholds under the suite's own `baseline.json`, when it has one.
fn suite_warnings(suite: &Suite) -> Vec<String> {
    let path = suite.dir.join("baseline.json");
    if !path.exists() || suite.file.thresholds.is_empty() {
        return Vec::new();
    }
    let parsed = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
        .and_then(|text| Baseline::parse(&path.display().to_string(), &text));
    match parsed {
        Ok(baseline) => compare::loose_thresholds(&suite.file.thresholds, &baseline),
        Err(e) => vec![e],
    }
}

fn cassette_settings(path: PathBuf) -> Result<cassette::Settings, Error> {
    let mode = match std::env::var("SETTER_CASSETTE_MODE") {
        Ok(m) => m.parse().map_err(Error::Data)?,
        Err(_) if path.exists() => cassette::Mode::Replay,
        Err(_) => cassette::Mode::Record,
    };
    Ok(cassette::Settings { path, mode })
}

/// Good cases, errored outcomes for bad lines, bad per-case overrides and
/// unknown slot names, and the slot rules of every framework the cases use.
fn checked(file: CaseFile, loaded: &Loaded) -> (Vec<(Case, String)>, Vec<Outcome>, SlotRules) {
    let base = SlotRules::from_framework(&loaded.framework);
    let mut rules = base.clone();
    let mut errored = unreadable(file.errors);
    let mut cases = Vec::new();
    for (c, location) in file.cases {
        let checked = if c.uses_suite_config() {
            case::check_slots(&c, &base.order, &location, "expect").map_err(|e| e.message)
        } else {
            c.config(loaded).and_then(|l| {
                let own = SlotRules::from_framework(&l.framework);
                rules.merge(&own);
                case::check_slots(&c, &own.order, &location, "expect").map_err(|e| e.message)
            })
        };
        match checked {
            Ok(()) => cases.push((c, location)),
            Err(message) => {
                let message = format!("{location}: {message}");
                let mut o = Outcome::errored(c.id.clone(), Some(location), message);
                o.gold = Some(c.expect.clone());
                errored.push(o);
            }
        }
    }
    (cases, errored, rules)
}

/// Good cases whose slot names `rules` knows, plus errored outcomes for bad
/// lines and unknown slots.
fn checked_against(
    file: CaseFile,
    rules: &SlotRules,
    what: &str,
) -> (Vec<(Case, String)>, Vec<Outcome>) {
    let mut errored = unreadable(file.errors);
    let mut cases = Vec::new();
    for (c, location) in file.cases {
        match case::check_slots(&c, &rules.order, &location, what) {
            Ok(()) => cases.push((c, location)),
            Err(e) => {
                let mut o = Outcome::errored(c.id.clone(), Some(location), e.to_string());
                o.gold = Some(c.expect.clone());
                errored.push(o);
            }
        }
    }
    (cases, errored)
}

/// Lines that could not be read, as errored outcomes.
fn unreadable(errors: Vec<CaseError>) -> Vec<Outcome> {
    errors
        .into_iter()
        .map(|e| Outcome::errored(e.id.clone(), Some(e.location.clone()), e.to_string()))
        .collect()
}

/// Pairs gold and predictions by id.
fn score_files(
    gold: &Path,
    pred: &Path,
    loaded: &Loaded,
) -> Result<(Vec<Outcome>, Vec<String>, SlotRules), Error> {
    let (gold_cases, mut errored, rules) =
        checked(case::load_cases(gold).map_err(Error::Data)?, loaded);
    let (pred_cases, pred_errors) = checked_against(
        case::load_cases(pred).map_err(Error::Data)?,
        &rules,
        "predicted expect",
    );
    // Index by id: a linear search per case made 10,000 cases quadratic.
    let preds: HashMap<&str, &case::Case> =
        pred_cases.iter().map(|(p, _)| (p.id.as_str(), p)).collect();
    let golds: HashSet<&str> = gold_cases.iter().map(|(g, _)| g.id.as_str()).collect();
    let mut warnings = Vec::new();
    let mut outcomes = Vec::new();
    for (g, location) in &gold_cases {
        // A bad or duplicate prediction line for this id wins over a good
        // one: which of two predictions was meant cannot be known.
        let bad = pred_errors
            .iter()
            .find(|e| e.id == g.id)
            .and_then(|e| e.pred.as_ref().err().cloned());
        let pred = match (bad, preds.get(g.id.as_str())) {
            (Some(why), _) => Err(why),
            (None, Some(p)) => Ok(p.expect.clone()),
            (None, None) => Err(format!(
                "no prediction with id \"{}\" in {}",
                g.id,
                pred.display()
            )),
        };
        outcomes.push(Outcome {
            id: g.id.clone(),
            location: Some(location.clone()),
            gold: Some(g.expect.clone()),
            pred,
            usage: None,
            trace: Vec::new(),
            checks: Vec::new(),
        });
    }
    // Prediction lines that could not be read and match no gold case still count as errors.
    for e in pred_errors {
        if !golds.contains(e.id.as_str()) {
            errored.push(e);
        }
    }
    for (p, location) in &pred_cases {
        if !golds.contains(p.id.as_str()) {
            warnings.push(format!(
                "{location}: prediction \"{}\" has no gold case; ignored",
                p.id
            ));
        }
    }
    outcomes.append(&mut errored);
    Ok((outcomes, warnings, rules))
}

/// The same run with the prompts in `dir` (`--diff-against`).
async fn diffed_run(
    loaded: &Loaded,
    cases: &[(Case, String)],
    opts: &run::Options,
    dir: &Path,
) -> Result<Vec<Outcome>, Error> {
    if !opts.mode.regenerates() {
        return Err(Error::Data(
            "--diff-against compares regenerated replies: use --mode replay (offline keeps the recorded ones)".into(),
        ));
    }
    if !dir.is_dir() {
        return Err(Error::Data(format!(
            "--diff-against {}: not a directory of prompt templates",
            dir.display()
        )));
    }
    let mut other = opts.clone();
    other.prompts_dir = Some(dir.to_path_buf());
    run::run(loaded.clone(), cases, other).await
}

/// `--baseline FILE`, read and parsed.
fn read_baseline(args: &ReportArgs) -> Result<Option<Baseline>, Error> {
    let Some(path) = &args.baseline else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Data(format!("cannot read baseline {}: {e}", path.display())))?;
    Baseline::parse(&path.display().to_string(), &text)
        .map(Some)
        .map_err(Error::Data)
}

/// Comparison, gates, reports; returns the exit code.
fn finish(
    mut r: Report,
    baseline: Option<Baseline>,
    args: &ReportArgs,
    thresholds: &BTreeMap<String, f64>,
) -> Result<ExitCode, Error> {
    if let Some(b) = &baseline {
        r.comparison = Some(compare::compare(&r, b));
    }
    // Suite thresholds, overridden by the command line for the same metric.
    let mut under: BTreeMap<String, f64> = BTreeMap::new();
    for (metric, limit) in thresholds {
        parse_gate(&format!("{metric}={limit}"))
            .map_err(|e| Error::Data(format!("suite.toml [thresholds]: {e}")))?;
        under.insert(metric.clone(), *limit);
    }
    for (metric, limit) in &args.fail_under {
        under.insert(metric.clone(), *limit);
    }
    let mut gates: Vec<_> = under
        .iter()
        .map(|(m, l)| compare::fail_under(&r, m, *l))
        .collect();
    if let Some(b) = &baseline {
        gates.extend(
            args.max_regression
                .iter()
                .map(|(m, l)| compare::max_regression(&r, b, m, *l)),
        );
    }
    r.gates = gates;

    let mut to_stdout = false;
    for (path, text) in [
        (&args.json, report::json::render as fn(&Report) -> String),
        (&args.markdown, report::markdown::render),
        (&args.junit, report::junit::render),
        (&args.html, report::html::render),
    ] {
        let Some(path) = path else { continue };
        let text = text(&r);
        if path.as_os_str() == "-" {
            to_stdout = true;
            print!("{text}");
        } else {
            std::fs::write(path, text)
                .map_err(|e| Error::Data(format!("cannot write {}: {e}", path.display())))?;
        }
    }
    let table = report::text::render(&r);
    if to_stdout {
        eprint!("{table}");
    } else {
        print!("{table}");
    }
    Ok(ExitCode::from(r.exit_code()))
}
