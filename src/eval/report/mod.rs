//! Renderers of a [`Report`](super::Report): one file per format. Each is a
//! pure `render(&Report) -> String`, so formats are easy to test and add.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod text;

/// A metric for people: three decimals, or `n/a` when not computable.
pub fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "n/a".into())
}

/// A signed change, or empty when unknown.
pub fn delta(v: Option<f64>) -> String {
    match v {
        Some(d) if d.abs() < 5e-4 => "±0".into(),
        Some(d) => format!("{d:+.3}"),
        None => String::new(),
    }
}

/// Gold-row counts with no prediction, per label of a class metric.
pub fn missing_per_row(c: &super::metrics::ClassMetrics) -> Vec<u32> {
    c.per_label
        .iter()
        .zip(&c.confusion)
        .map(|(l, row)| l.support - row.iter().sum::<u32>())
        .collect()
}

/// Metrics in [`METRIC_NAMES`](crate::eval::METRIC_NAMES) order, then any others.
pub fn ordered(
    metrics: &std::collections::BTreeMap<String, Option<f64>>,
) -> Vec<(&String, &Option<f64>)> {
    let rank = |k: &str| {
        crate::eval::METRIC_NAMES
            .iter()
            .position(|n| *n == k)
            .unwrap_or(usize::MAX)
    };
    let mut v: Vec<_> = metrics.iter().collect();
    v.sort_by_key(|(k, _)| rank(k));
    v
}

/// One line on the regenerated replies' cadence, for every human format.
pub fn cadence_line(c: &super::cadence::Cadence) -> String {
    let named: std::collections::BTreeMap<_, _> = c.named().into_iter().collect();
    let early = list_or_none(&c.budget_too_early);
    format!(
        "cadence: {} replies · {} questions per reply · {} with more than one question · budget asked {} times, too early: {} · qualified in or out: {} cases, after {} lead messages on average · assertions {}/{} passed ({} skipped)",
        c.replies,
        num(named["questions_per_reply"]),
        c.multi_question_replies,
        c.budget_questions,
        early,
        c.qualified_cases,
        num(named["messages_to_qualify"]),
        c.checks_passed,
        c.checks - c.checks_skipped,
        c.checks_skipped
    )
}

/// One line on `--repeat k`.
pub fn repeat_line(r: &super::compare::Repeat) -> String {
    let flaky = list_or_none(&r.flaky);
    format!(
        "repeat: every case run {} times · pass^{} {} · flaky: {flaky}",
        r.k,
        r.k,
        num(r.pass_hat_k)
    )
}

/// One line on tokens, cost and latency, for every human format.
pub fn usage_line(u: &super::Usage) -> String {
    let ms = |v: Option<i64>| v.map(|v| format!("{v} ms")).unwrap_or_else(|| "n/a".into());
    let per_lead = u
        .cost_per_qualified_lead_usd
        .map(|c| format!(" (${c:.4} per lead qualified in or out)"))
        .unwrap_or_default();
    format!(
        "usage: {} turns · tokens {} prompt + {} completion · cost ${:.4}{per_lead} · latency per turn p50 {} p95 {}",
        u.turns,
        u.prompt_tokens,
        u.completion_tokens,
        u.cost_usd,
        ms(u.latency_p50_ms),
        ms(u.latency_p95_ms)
    )
}

/// `a, b, c`, or `none`.
pub fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}
