//! The default terminal report: aligned tables, missed disqualifiers first,
//! then metrics, and every failing case with what differed.

use super::{delta, list_or_none, missing_per_row, num};
use crate::eval::cadence::CheckStatus;
use crate::eval::metrics::ClassMetrics;
use crate::eval::{Report, Status};
use std::fmt::Write;

/// A terminal stays readable on a 10,000-case run; the file reports keep everything.
const TERMINAL_CASE_CAP: usize = 50;
const TERMINAL_LIST_CAP: usize = 20;

fn capped(items: &[String], cap: usize) -> String {
    let shown = items
        .iter()
        .take(cap)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match items.len().saturating_sub(cap) {
        0 => shown,
        more => format!("{shown}, … and {more} more"),
    }
}

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let s = &r.summary;
    let _ = writeln!(
        o,
        "setter eval · {} · {} · {} cases: {} pass, {} fail, {} error",
        r.suite, r.mode, s.cases, s.passed, s.failed, s.errored
    );
    let dq = &r.detail.disqualifier;
    if !dq.missed.is_empty() {
        let _ = writeln!(
            o,
            "\n!! MISSED DISQUALIFIERS ({}): {}\n   (the costliest error: these leads would be qualified and chased)",
            dq.missed.len(),
            capped(&dq.missed, TERMINAL_LIST_CAP)
        );
    }
    for w in &r.warnings {
        let _ = writeln!(o, "warning: {w}");
    }

    // Headline metrics, with the baseline when there is one.
    let _ = writeln!(o);
    let cmp = r.comparison.as_ref();
    if cmp.is_some() {
        let _ = writeln!(
            o,
            "{:<24} {:>8} {:>9} {:>8}",
            "metric", "value", "baseline", "delta"
        );
    } else {
        let _ = writeln!(o, "{:<24} {:>8}", "metric", "value");
    }
    for (name, value) in super::ordered(&r.metrics) {
        match cmp.and_then(|c| c.deltas.iter().find(|d| &d.metric == name)) {
            Some(d) => {
                let _ = writeln!(
                    o,
                    "{name:<24} {:>8} {:>9} {:>8}",
                    num(*value),
                    num(d.baseline),
                    delta(d.delta)
                );
            }
            None => {
                let _ = writeln!(o, "{name:<24} {:>8}", num(*value));
            }
        }
    }

    // Slots.
    let d = &r.detail;
    if !d.slots.is_empty() {
        let _ = writeln!(
            o,
            "\n{:<18} {:>4} {:>4} {:>4} {:>9} {:>7} {:>7}",
            "slot", "tp", "fp", "fn", "precision", "recall", "f1"
        );
        for m in d.slots.iter().chain(std::iter::once(&d.slot_micro)) {
            let c = m.counts;
            let _ = writeln!(
                o,
                "{:<18} {:>4} {:>4} {:>4} {:>9} {:>7} {:>7}",
                m.slot,
                c.tp,
                c.fp,
                c.fn_,
                num(m.precision),
                num(m.recall),
                num(m.f1)
            );
        }
        let _ = writeln!(
            o,
            "macro F1 {} · joint goal accuracy {} ({}/{} cases with every listed slot right)",
            num(d.slot_macro_f1),
            num(d.joint_goal.accuracy),
            d.joint_goal.correct,
            d.joint_goal.n
        );
    }

    for (name, c) in [("tier", &d.tier), ("fit", &d.fit), ("intent", &d.intent)] {
        if c.n > 0 {
            confusion(&mut o, name, c);
        }
    }

    let _ = writeln!(
        o,
        "\ndisqualifier: recall {} ({} of {} caught) · precision {} · false alarms {}",
        num(dq.recall),
        dq.tp,
        dq.tp + dq.fn_,
        num(dq.precision),
        list_or_none(&dq.false_alarms)
    );
    if let Some(u) = &r.usage {
        let _ = writeln!(o, "{}", super::usage_line(u));
    }

    if let Some(rep) = &r.repeat {
        let _ = writeln!(o, "{}", super::repeat_line(rep));
    }
    if let Some(c) = &r.cadence {
        let _ = writeln!(o, "{}", super::cadence_line(c));
    }

    let failing: Vec<_> = r
        .cases
        .iter()
        .filter(|c| c.status != Status::Pass)
        .collect();
    if !failing.is_empty() {
        let _ = writeln!(o, "\nfailing cases:");
        let hidden = failing.len().saturating_sub(TERMINAL_CASE_CAP);
        for c in failing.into_iter().take(TERMINAL_CASE_CAP) {
            // An error message already names its file:line.
            let at = c
                .location
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            match c.status {
                Status::Error => {
                    let msg = c.error.as_deref().unwrap_or("?");
                    if c.location.as_deref() == Some(c.id.as_str()) {
                        let _ = writeln!(o, "  ERROR {msg}");
                    } else {
                        let _ = writeln!(o, "  ERROR {}: {msg}", c.id);
                    }
                }
                _ => {
                    let _ = writeln!(o, "  FAIL  {}{at}", c.id);
                    for diff in &c.diffs {
                        let _ = writeln!(o, "        - {diff}");
                    }
                    // The replies an assertion failed on, as the lead saw them.
                    for t in c.transcript.iter().filter(|t| {
                        c.checks
                            .iter()
                            .any(|k| k.message == t.message && k.status == CheckStatus::Fail)
                    }) {
                        let _ = writeln!(o, "          lead {}: {}", t.message, t.lead);
                        let _ = writeln!(o, "          reply {}: {}", t.message, t.reply);
                    }
                }
            }
        }
        if hidden > 0 {
            let _ = writeln!(o, "  … and {hidden} more failing cases (every one is in --json, --markdown, --junit, --html)");
        }
    }

    if let Some(c) = cmp {
        let _ = writeln!(o, "\nvs baseline {}:", c.baseline);
        let _ = writeln!(
            o,
            "  fixed  ({}): {}",
            c.fixed.len(),
            list_or_none(&c.fixed)
        );
        let _ = writeln!(
            o,
            "  broken ({}): {}",
            c.broken.len(),
            list_or_none(&c.broken)
        );
        if !c.new.is_empty() || !c.gone.is_empty() {
            let _ = writeln!(
                o,
                "  new: {} · gone: {}",
                list_or_none(&c.new),
                list_or_none(&c.gone)
            );
        }
    }
    if let Some(p) = &r.prompt_diff {
        let _ = writeln!(
            o,
            "\nreplies changed vs prompts {}: {} of {}",
            p.against,
            p.changed.len(),
            p.replies
        );
        for c in p.changed.iter().take(TERMINAL_CASE_CAP) {
            let _ = writeln!(o, "  {} #{}  lead: {}", c.case, c.message, c.lead);
            let _ = writeln!(o, "    - {}", c.before);
            let _ = writeln!(o, "    + {}", c.after);
        }
    }
    if !r.gates.is_empty() {
        let _ = writeln!(o, "\ngates:");
        for g in &r.gates {
            let _ = writeln!(o, "  {} {}", if g.ok { "ok  " } else { "FAIL" }, g.message);
        }
    }
    o
}

fn confusion(o: &mut String, name: &str, c: &ClassMetrics) {
    let missing = missing_per_row(c);
    let _ = writeln!(o, "\n{name} (rows expected, columns predicted)");
    let _ = write!(o, "  {:<8}", "");
    for l in &c.labels {
        let _ = write!(o, " {l:>6}");
    }
    let show_missing = c.missing > 0;
    if show_missing {
        let _ = write!(o, " {:>6}", "none");
    }
    let _ = writeln!(o);
    for (i, l) in c.labels.iter().enumerate() {
        let _ = write!(o, "  {l:<8}");
        for n in &c.confusion[i] {
            let _ = write!(o, " {n:>6}");
        }
        if show_missing {
            let _ = write!(o, " {:>6}", missing[i]);
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(
        o,
        "  accuracy {} ({}/{}) · macro F1 {} · kappa {}",
        num(c.accuracy),
        c.correct,
        c.n,
        num(c.macro_f1),
        num(c.kappa)
    );
}
