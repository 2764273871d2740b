//! `setter eval`: measure extraction and scoring against labelled conversations.
//!
//! Two modes in this slice:
//! - **score**: gold JSONL vs predictions JSONL, matched by case id. Pure.
//! - **offline run**: replay each case's lead turns through the agent with the
//!   recorded setter replies (`Agent::answer_with`), so only extraction calls the
//!   model, and score the final turn's slots, fit, intent, tier and stage.
//!
//! Both produce a [`Report`], rendered by [`report`] as a terminal table, JSON,
//! Markdown or JUnit XML. A previous JSON report can be a `--baseline`; gates
//! (`--fail-under`, `--max-regression`) decide the exit code. The data format
//! and every metric are described in `docs/evals.md`.

pub mod assertion;
pub mod cadence;
pub mod case;
pub mod classes;
pub mod compare;
pub mod followups;
pub mod metrics;
pub mod report;
pub mod run;
pub mod simulate;

use cadence::{Cadence, CheckResult, CheckStatus, TurnTrace};
use case::Expect;
use metrics::{Metrics, Pair, SlotRules};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad suite, case file or options: exit 2.
    #[error("{0}")]
    Data(String),
    #[error(transparent)]
    Model(#[from] crate::llm::Error),
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error(transparent)]
    Agent(#[from] crate::agent::Error),
    #[error(transparent)]
    Prompt(#[from] crate::prompts::Error),
}

/// Bump when the JSON report changes incompatibly.
pub const REPORT_VERSION: u32 = 1;

/// Names of the metrics gates and baselines can refer to (all higher-is-better).
pub const METRIC_NAMES: &[&str] = &[
    "case_pass_rate",
    "slot_micro_precision",
    "slot_micro_recall",
    "slot_micro_f1",
    "slot_macro_f1",
    "joint_goal_accuracy",
    "tier_accuracy",
    "tier_macro_f1",
    "tier_kappa",
    "fit_accuracy",
    "intent_accuracy",
    "disqualifier_recall",
    "disqualifier_precision",
    "assertion_pass_rate",
    "single_question_rate",
    "budget_timing_rate",
    "pass_hat_k",
    "followup_precision",
    "followup_recall",
];

/// How a suite's cases are run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Re-extract and re-score the recorded lead turns; recorded replies stay.
    #[default]
    Offline,
    /// Also regenerate every reply with the current prompts and config, and
    /// run the per-turn assertions on them.
    Replay,
    /// Like replay, but after the scripted opening a model plays the lead
    /// (each case's `persona`) for up to `max_turns` lead messages.
    Simulate,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Offline => "offline",
            Mode::Replay => "replay",
            Mode::Simulate => "simulate",
        }
    }

    /// Whether the bot's replies are regenerated (so transcripts and
    /// assertions mean something).
    pub fn regenerates(self) -> bool {
        self != Mode::Offline
    }
}

/// Token and latency figures of one case in run mode.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    #[serde(default)]
    pub cost_usd: f64,
    /// Per lead turn, in milliseconds.
    pub latency_ms: Vec<i64>,
}

/// What happened to one case before scoring.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: String,
    /// `file:line` of the gold case.
    pub location: Option<String>,
    pub gold: Option<Expect>,
    /// The prediction, or why there is none (the case is then "errored").
    pub pred: Result<Expect, String>,
    pub usage: Option<CaseUsage>,
    /// Regenerated replies (replay and simulate modes).
    pub trace: Vec<TurnTrace>,
    pub checks: Vec<CheckResult>,
}

impl Outcome {
    pub fn errored(
        id: impl Into<String>,
        location: Option<String>,
        message: impl Into<String>,
    ) -> Outcome {
        Outcome {
            id: id.into(),
            location,
            gold: None,
            pred: Err(message.into()),
            usage: None,
            trace: Vec::new(),
            checks: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub id: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// One line per expectation that differed.
    #[serde(default)]
    pub diffs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted: Option<Expect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<CaseUsage>,
    /// The regenerated conversation (replay and simulate modes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<TurnTrace>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub cases: u32,
    pub passed: u32,
    pub failed: u32,
    pub errored: u32,
}

/// Tokens and per-turn latency over a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub turns: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// From the `[llm]` prices (0 for the local model).
    #[serde(default)]
    pub cost_usd: f64,
    /// Total cost over leads qualified in or out (regenerating modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_per_qualified_lead_usd: Option<f64>,
    pub latency_p50_ms: Option<i64>,
    pub latency_p95_ms: Option<i64>,
}

/// A gate's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    /// `fail_under` or `max_regression`.
    pub kind: String,
    pub metric: String,
    pub limit: f64,
    pub actual: Option<f64>,
    pub ok: bool,
    pub message: String,
}

/// Everything an eval produced; `--json` writes exactly this.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub version: u32,
    pub suite: String,
    /// `score` or `offline`.
    pub mode: String,
    pub generated_at: String,
    pub summary: Summary,
    /// Headline metrics by name (see [`METRIC_NAMES`]); null = not computable.
    pub metrics: BTreeMap<String, Option<f64>>,
    pub detail: Metrics,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Present when replies were regenerated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadence: Option<Cadence>,
    pub cases: Vec<CaseResult>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<compare::Comparison>,
    /// pass^k with `--repeat k`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<compare::Repeat>,
    /// Replies that changed against `--diff-against` prompts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_diff: Option<compare::PromptDiff>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<Gate>,
}

impl Report {
    /// Scores outcomes into a report (no comparison or gates yet).
    pub fn build(
        suite: &str,
        mode: &str,
        outcomes: Vec<Outcome>,
        rules: &SlotRules,
        warnings: Vec<String>,
    ) -> Report {
        let empty = Expect::default();
        let mut cases = Vec::new();
        let mut summary = Summary::default();
        let mut usage = Usage::default();
        let mut latencies = Vec::new();
        let mut any_usage = false;
        let mut cadence: Option<Cadence> = None;
        for o in &outcomes {
            if !o.trace.is_empty() || !o.checks.is_empty() {
                cadence
                    .get_or_insert_with(Cadence::default)
                    .add(&o.id, &o.trace, &o.checks);
            }
            summary.cases += 1;
            if let Some(u) = &o.usage {
                any_usage = true;
                usage.turns += u.latency_ms.len() as u32;
                usage.prompt_tokens += u.prompt_tokens;
                usage.completion_tokens += u.completion_tokens;
                usage.cost_usd += u.cost_usd;
                latencies.extend(u.latency_ms.iter().copied());
            }
            let (status, diffs, error) = match &o.pred {
                Err(e) => {
                    summary.errored += 1;
                    (Status::Error, Vec::new(), Some(e.clone()))
                }
                Ok(pred) => {
                    let mut diffs =
                        metrics::differences(o.gold.as_ref().unwrap_or(&empty), pred, rules);
                    diffs.extend(
                        o.checks
                            .iter()
                            .filter(|c| c.status == CheckStatus::Fail)
                            .map(|c| format!("reply {}: {}: {}", c.message, c.assertion, c.detail)),
                    );
                    if diffs.is_empty() {
                        summary.passed += 1;
                        (Status::Pass, diffs, None)
                    } else {
                        summary.failed += 1;
                        (Status::Fail, diffs, None)
                    }
                }
            };
            cases.push(CaseResult {
                id: o.id.clone(),
                status,
                location: o.location.clone(),
                diffs,
                error,
                expected: o.gold.clone(),
                predicted: o.pred.as_ref().ok().cloned(),
                usage: o.usage.clone(),
                transcript: o.trace.clone(),
                checks: o.checks.clone(),
            });
        }
        let pairs: Vec<Pair> = outcomes
            .iter()
            .filter_map(|o| match (&o.gold, &o.pred) {
                (Some(gold), Ok(pred)) => Some(Pair {
                    id: &o.id,
                    gold,
                    pred,
                }),
                _ => None,
            })
            .collect();
        let detail = metrics::compute(&pairs, rules);
        let mut named = detail.named();
        named.insert(
            "case_pass_rate".into(),
            metrics::ratio(
                summary.passed as f64,
                (summary.passed + summary.failed) as f64,
            ),
        );
        if let Some(c) = &cadence {
            named.extend(c.named().into_iter().map(|(k, v)| (k.to_string(), v)));
        }
        if let Some(c) = &cadence {
            usage.cost_per_qualified_lead_usd =
                metrics::ratio(usage.cost_usd, c.qualified_cases as f64);
        }
        if any_usage {
            usage.latency_p50_ms = metrics::percentile(&latencies, 50.0);
            usage.latency_p95_ms = metrics::percentile(&latencies, 95.0);
        }
        Report {
            version: REPORT_VERSION,
            suite: suite.to_string(),
            mode: mode.to_string(),
            generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            summary,
            metrics: named,
            detail,
            usage: any_usage.then_some(usage),
            cadence,
            cases,
            warnings,
            comparison: None,
            prompt_diff: None,
            repeat: None,
            gates: Vec::new(),
        }
    }

    /// 0 all good; 1 a gate failed; 2 a case could not be read or run.
    pub fn exit_code(&self) -> u8 {
        if self.summary.errored > 0 {
            2
        } else if self.gates.iter().any(|g| !g.ok) {
            1
        } else {
            0
        }
    }
}

/// Parses `metric=value` (for `--fail-under` / `--max-regression`).
pub fn parse_gate(s: &str) -> Result<(String, f64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("\"{s}\" is not metric=value"))?;
    let name = name.trim();
    if !METRIC_NAMES.contains(&name) {
        return Err(format!(
            "unknown metric \"{name}\"; one of {}",
            METRIC_NAMES.join(", ")
        ));
    }
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("\"{value}\" is not a number"))?;
    Ok((name.to_string(), value))
}
