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
