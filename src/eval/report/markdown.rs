//! `--markdown FILE`: a report to paste into a pull request.

use super::{delta, missing_per_row, num};
use crate::eval::{Report, Status};
use std::fmt::Write;

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let s = &r.summary;
    let _ = writeln!(o, "# Eval: {} ({})\n", r.suite, r.mode);
    let _ = writeln!(
        o,
        "{} cases: **{} pass**, {} fail, {} error · generated {}\n",
        s.cases, s.passed, s.failed, s.errored, r.generated_at
    );
    let dq = &r.detail.disqualifier;
    if !dq.missed.is_empty() {
        let _ = writeln!(
            o,
            "> **Missed disqualifiers ({})**: {}\n",
            dq.missed.len(),
            dq.missed.join(", ")
        );
    }
    let cmp = r.comparison.as_ref();
    if cmp.is_some() {
        let _ = writeln!(
            o,
            "| metric | value | baseline | delta |\n|---|---:|---:|---:|"
        );
    } else {
        let _ = writeln!(o, "| metric | value |\n|---|---:|");
    }
    for (name, v) in super::ordered(&r.metrics) {
        match cmp.and_then(|c| c.deltas.iter().find(|d| &d.metric == name)) {
            Some(d) => {
                let _ = writeln!(
                    o,
                    "| {name} | {} | {} | {} |",
                    num(*v),
                    num(d.baseline),
                    delta(d.delta)
                );
            }
            None => {
                let _ = writeln!(o, "| {name} | {} |", num(*v));
            }
        }
    }
    let d = &r.detail;
    if !d.slots.is_empty() {
        let _ = writeln!(o, "\n## Slots\n\n| slot | tp | fp | fn | precision | recall | F1 |\n|---|---:|---:|---:|---:|---:|---:|");
        for m in d.slots.iter().chain(std::iter::once(&d.slot_micro)) {
            let c = m.counts;
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} |",
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
            "\nMacro F1 {} · joint goal accuracy {}",
            num(d.slot_macro_f1),
            num(d.joint_goal.accuracy)
        );
    }
    if d.tier.n > 0 {
        let c = &d.tier;
        let missing = missing_per_row(c);
        let _ = writeln!(o, "\n## Tier (rows expected, columns predicted)\n");
        let _ = writeln!(
            o,
            "| | {} | none |\n|---|{}---:|",
            c.labels.join(" | "),
            "---:|".repeat(c.labels.len())
        );
        for (i, l) in c.labels.iter().enumerate() {
            let cells: Vec<String> = c.confusion[i].iter().map(|n| n.to_string()).collect();
            let _ = writeln!(o, "| **{l}** | {} | {} |", cells.join(" | "), missing[i]);
        }
        let _ = writeln!(
            o,
            "\nAccuracy {} · macro F1 {} · kappa {}",
            num(c.accuracy),
            num(c.macro_f1),
            num(c.kappa)
        );
    }
    let _ = writeln!(
        o,
        "\nDisqualifier recall {} · precision {} · fit accuracy {} · intent accuracy {}",
        num(dq.recall),
        num(dq.precision),
        num(d.fit.accuracy),
        num(d.intent.accuracy)
    );
    if let Some(rep) = &r.repeat {
        let _ = writeln!(o, "\n{}", super::repeat_line(rep));
    }
    if let Some(c) = &r.cadence {
        let _ = writeln!(o, "\n{}", super::cadence_line(c));
    }
    if let Some(u) = &r.usage {
        let _ = writeln!(o, "\n{}", super::usage_line(u));
    }
    if let Some(c) = cmp {
        let _ = writeln!(
            o,
            "\n## vs baseline\n\n- fixed: {}\n- broken: {}",
            c.fixed.join(", "),
            c.broken.join(", ")
        );
    }
    let failing: Vec<_> = r
        .cases
        .iter()
        .filter(|c| c.status != Status::Pass)
        .collect();
    if !failing.is_empty() {
        let _ = writeln!(o, "\n## Failing cases\n");
        for c in failing {
            match c.status {
                Status::Error => {
                    let _ = writeln!(
                        o,
                        "- **{}** (error): {}",
                        c.id,
                        c.error.as_deref().unwrap_or("?")
                    );
                }
                _ => {
                    let _ = writeln!(o, "- **{}**: {}", c.id, c.diffs.join("; "));
                }
            }
        }
    }
    if let Some(p) = &r.prompt_diff {
        let _ = writeln!(
            o,
            "\n## Replies changed vs prompts `{}` ({} of {})\n\n| case | lead | before | after |\n|---|---|---|---|",
            p.against,
            p.changed.len(),
            p.replies
        );
        let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        for c in &p.changed {
            let _ = writeln!(
                o,
                "| {} #{} | {} | {} | {} |",
                c.case,
                c.message,
                cell(&c.lead),
                cell(&c.before),
                cell(&c.after)
            );
        }
    }
    if !r.gates.is_empty() {
        let _ = writeln!(o, "\n## Gates\n");
        for g in &r.gates {
            let _ = writeln!(o, "- {} {}", if g.ok { "✅" } else { "❌" }, g.message);
        }
    }
    o
}
