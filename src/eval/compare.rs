//! Baselines and gates: deltas against a previous `--json` report, per-case
//! fixed/broken lists, and the `--fail-under` / `--max-regression` verdicts.

use super::{Gate, Report, Status};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    pub metric: String,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// current − baseline; null when either is not computable.
    pub delta: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub baseline: String,
    pub deltas: Vec<Delta>,
    /// Failed (or errored) in the baseline, pass now.
    pub fixed: Vec<String>,
    /// Passed in the baseline, fail (or error) now.
    pub broken: Vec<String>,
    /// Cases not in the baseline.
    pub new: Vec<String>,
    /// Baseline cases no longer present.
    pub gone: Vec<String>,
}

/// The parts of a previous report a comparison needs (tolerant of newer fields).
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    pub name: String,
    pub metrics: BTreeMap<String, Option<f64>>,
    pub passed: BTreeMap<String, bool>,
}

/// How far under the baseline a threshold may sit before it is called loose:
/// thresholds are written by hand, rounded to two decimals.
const THRESHOLD_SLACK: f64 = 0.01;

/// Warnings for suite thresholds under the suite's own baseline: such a gate
/// lets a regression from the baseline down to the threshold pass, so it
/// guards less than it seems.
pub fn loose_thresholds(thresholds: &BTreeMap<String, f64>, baseline: &Baseline) -> Vec<String> {
    thresholds
        .iter()
        .filter_map(|(metric, &limit)| {
            let value = baseline.metrics.get(metric).copied().flatten()?;
            (limit + THRESHOLD_SLACK < value).then(|| {
                format!(
                    "suite.toml [thresholds] {metric} = {limit} is under the suite's baseline {value:.3} ({}): a regression to {limit} still passes; raise the threshold",
                    baseline.name
                )
            })
        })
        .collect()
}

impl Baseline {
    pub fn parse(name: &str, text: &str) -> Result<Baseline, String> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| format!("{name}: not a JSON report: {e}"))?;
        let metrics = v
            .get("metrics")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                format!("{name}: no \"metrics\" object; is it a `setter eval --json` report?")
            })?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_f64()))
            .collect();
        let passed = v
            .get("cases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| {
                let id = c.get("id")?.as_str()?.to_string();
                Some((id, c.get("status")?.as_str()? == "pass"))
            })
            .collect();
        Ok(Baseline {
            name: name.to_string(),
            metrics,
            passed,
        })
    }
}

impl Baseline {
    /// A report from this process as a baseline (`--diff-against`).
    pub fn from_report(name: &str, r: &Report) -> Baseline {
        Baseline {
            name: name.to_string(),
            metrics: r.metrics.clone(),
            passed: r
                .cases
                .iter()
                .map(|c| (c.id.clone(), c.status == Status::Pass))
                .collect(),
        }
    }
}

/// One reply that two prompt versions worded differently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyDiff {
    pub case: String,
    pub message: u32,
    pub lead: String,
    /// With the `--diff-against` prompts.
    pub before: String,
    /// With the current prompts.
    pub after: String,
}

/// The same cases replayed with two prompt directories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptDiff {
    /// The `--diff-against` directory.
    pub against: String,
    /// Replies compared (present in both runs).
    pub replies: u32,
    pub changed: Vec<ReplyDiff>,
}

/// Pairs the replies of two runs by case and lead message.
pub fn prompt_diff(against: &str, before: &Report, after: &Report) -> PromptDiff {
    let mut d = PromptDiff {
        against: against.to_string(),
        replies: 0,
        changed: Vec::new(),
    };
    for case in &after.cases {
        let Some(old) = before.cases.iter().find(|c| c.id == case.id) else {
            continue;
        };
        for t in &case.transcript {
            let Some(o) = old.transcript.iter().find(|o| o.message == t.message) else {
                continue;
            };
            d.replies += 1;
            if o.reply != t.reply {
                d.changed.push(ReplyDiff {
                    case: case.id.clone(),
                    message: t.message,
                    lead: t.lead.clone(),
                    before: o.reply.clone(),
                    after: t.reply.clone(),
                });
            }
        }
    }
    d
}

/// The same cases run k times (`--repeat k`): how many passed every time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repeat {
    pub k: u32,
    /// Cases that passed in all k runs / cases that ran (not errored) in all.
    pub pass_hat_k: Option<f64>,
    /// Cases that passed in some runs and failed in others.
    pub flaky: Vec<String>,
}

/// pass^k over `runs` (the same cases each time).
pub fn repeat(runs: &[Report]) -> Repeat {
    let mut passes: BTreeMap<&str, (u32, bool)> = BTreeMap::new();
    for r in runs {
        for c in &r.cases {
            let e = passes.entry(c.id.as_str()).or_insert((0, false));
            match c.status {
                Status::Pass => e.0 += 1,
                Status::Error => e.1 = true,
                Status::Fail => {}
            }
        }
    }
    let k = runs.len() as u32;
    let scored: Vec<_> = passes.iter().filter(|(_, (_, errored))| !errored).collect();
    let all = scored.iter().filter(|(_, (n, _))| *n == k).count();
    Repeat {
        k,
        pass_hat_k: super::metrics::ratio(all as f64, scored.len() as f64),
        flaky: scored
            .iter()
            .filter(|(_, (n, _))| *n > 0 && *n < k)
            .map(|(id, _)| id.to_string())
            .collect(),
    }
}

pub fn compare(report: &Report, base: &Baseline) -> Comparison {
    let deltas = report
        .metrics
        .iter()
        .map(|(metric, &current)| {
            let baseline = base.metrics.get(metric).copied().flatten();
            Delta {
                metric: metric.clone(),
                baseline,
                current,
                delta: baseline.zip(current).map(|(b, c)| c - b),
            }
        })
        .collect();
    let mut c = Comparison {
        baseline: base.name.clone(),
        deltas,
        fixed: Vec::new(),
        broken: Vec::new(),
        new: Vec::new(),
        gone: Vec::new(),
    };
    for case in &report.cases {
        let now = case.status == Status::Pass;
        match base.passed.get(&case.id) {
            None => c.new.push(case.id.clone()),
            Some(false) if now => c.fixed.push(case.id.clone()),
            Some(true) if !now => c.broken.push(case.id.clone()),
            _ => {}
        }
    }
    for id in base.passed.keys() {
        if !report.cases.iter().any(|x| &x.id == id) {
            c.gone.push(id.clone());
        }
    }
    c
}

/// `metric >= limit`; a metric that cannot be computed fails the gate.
pub fn fail_under(report: &Report, metric: &str, limit: f64) -> Gate {
    let actual = report.metrics.get(metric).copied().flatten();
    let (ok, message) = match actual {
        None => (
            false,
            format!("{metric} is not computable on this data (n/a) but must be >= {limit}"),
        ),
        Some(a) if a + 1e-12 >= limit => (true, format!("{metric} {a:.3} >= {limit}")),
        Some(a) => (false, format!("{metric} {a:.3} is under {limit}")),
    };
    Gate {
        kind: "fail_under".into(),
        metric: metric.into(),
        limit,
        actual,
        ok,
        message,
    }
}

/// `baseline − current <= limit`; skipped (ok) when the baseline lacks the metric.
pub fn max_regression(report: &Report, base: &Baseline, metric: &str, limit: f64) -> Gate {
    let current = report.metrics.get(metric).copied().flatten();
    let before = base.metrics.get(metric).copied().flatten();
    let (ok, message) = match (before, current) {
        (None, _) => (true, format!("{metric}: not in the baseline; not checked")),
        (Some(b), None) => (
            false,
            format!("{metric} was {b:.3} and is now not computable"),
        ),
        (Some(b), Some(c)) if b - c <= limit + 1e-12 => {
            (true, format!("{metric} {b:.3} → {c:.3} (max drop {limit})"))
        }
        (Some(b), Some(c)) => (
            false,
            format!(
                "{metric} dropped {:.3} ({b:.3} → {c:.3}), more than {limit}",
                b - c
            ),
        ),
    };
    Gate {
        kind: "max_regression".into(),
        metric: metric.into(),
        limit,
        actual: current,
        ok,
        message,
    }
}
