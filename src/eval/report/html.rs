//! `--html FILE`: one self-contained page (inline CSS, no scripts, no network)
//! to open from a CI artifact.

use super::{delta, list_or_none, missing_per_row, num, ordered};
use crate::eval::cadence::{CheckResult, CheckStatus};
use crate::eval::metrics::ClassMetrics;
use crate::eval::{CaseResult, Report, Status};
use std::fmt::Write;

fn esc(s: &str) -> String {
    super::junit::escape(s)
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#222}\
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}\
th:first-child,td:first-child{text-align:left}th{background:#f5f5f5}.alert{background:#fde8e8;border:1px solid #e0a0a0;\
padding:.6rem 1rem;border-radius:4px}.pass{color:#1a7f37}.fail{color:#b42318}.error{color:#9a6700}\
ul.diffs{margin:.2rem 0 .8rem 1.2rem;padding:0}code{background:#f5f5f5;padding:0 .2rem}\
table.chat td{text-align:left;vertical-align:top}td.barcell{width:10rem}.bar{height:.7rem;background:#1a7f37}tr.bad td{background:#fde8e8}";

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let s = &r.summary;
    let _ = write!(
        o,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>setter eval · {}</title><style>{STYLE}</style></head><body>\n",
        esc(&r.suite)
    );
    let _ = writeln!(
        o,
        "<h1>setter eval · {} <small>({})</small></h1>",
        esc(&r.suite),
        esc(&r.mode)
    );
    let _ = writeln!(
        o,
        "<p>{} cases: <b class=\"pass\">{} pass</b>, <b class=\"fail\">{} fail</b>, <b class=\"error\">{} error</b> · {}</p>",
        s.cases,
        s.passed,
        s.failed,
        s.errored,
        esc(&r.generated_at)
    );
    let dq = &r.detail.disqualifier;
    if !dq.missed.is_empty() {
        let _ = writeln!(
            o,
            "<p class=\"alert\"><b>Missed disqualifiers ({})</b>: {} — the costliest error: these leads would be qualified and chased.</p>",
            dq.missed.len(),
            esc(&dq.missed.join(", "))
        );
    }
    let cmp = r.comparison.as_ref();
    let _ = writeln!(
        o,
        "<h2>Metrics</h2><table><tr><th>metric</th><th>value</th>"
    );
    if cmp.is_some() {
        let _ = write!(o, "<th>baseline</th><th>delta</th>");
    }
    let _ = writeln!(o, "</tr>");
    for (name, v) in ordered(&r.metrics) {
        let _ = write!(o, "<tr><td>{}</td><td>{}</td>", esc(name), num(*v));
        if let Some(d) = cmp.and_then(|c| c.deltas.iter().find(|d| &d.metric == name)) {
            let _ = write!(o, "<td>{}</td><td>{}</td>", num(d.baseline), delta(d.delta));
        }
        let _ = writeln!(o, "</tr>");
    }
    let _ = writeln!(o, "</table>");

    let d = &r.detail;
    if !d.slots.is_empty() {
        let _ = writeln!(
            o,
            "<h2>Slots</h2><table><tr><th>slot</th><th>tp</th><th>fp</th><th>fn</th><th>precision</th><th>recall</th><th>F1</th><th></th></tr>"
        );
        for m in d.slots.iter().chain(std::iter::once(&d.slot_micro)) {
            let c = m.counts;
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"barcell\"><div class=\"bar\" style=\"width:{:.0}%\"></div></td></tr>",
                esc(&m.slot),
                c.tp,
                c.fp,
                c.fn_,
                num(m.precision),
                num(m.recall),
                num(m.f1),
                m.f1.unwrap_or(0.0) * 100.0
            );
        }
        let _ = writeln!(
            o,
            "</table><p>Macro F1 {} · joint goal accuracy {}</p>",
            num(d.slot_macro_f1),
            num(d.joint_goal.accuracy)
        );
    }
    for (name, c) in [("Tier", &d.tier), ("Fit", &d.fit), ("Intent", &d.intent)] {
        if c.n > 0 {
            confusion(&mut o, name, c);
        }
    }
    let _ = writeln!(
        o,
        "<h2>Disqualifiers</h2><p>recall {} ({} of {} caught) · precision {} · false alarms: {}</p>",
        num(dq.recall),
        dq.tp,
        dq.tp + dq.fn_,
        num(dq.precision),
        esc(&list_or_none(&dq.false_alarms))
    );
    if let Some(u) = &r.usage {
        let _ = writeln!(o, "<p>{}</p>", esc(&super::usage_line(u)));
    }
    if let Some(rep) = &r.repeat {
        let _ = writeln!(o, "<p>{}</p>", esc(&super::repeat_line(rep)));
    }
    if let Some(c) = &r.cadence {
        let _ = writeln!(o, "<p>{}</p>", esc(&super::cadence_line(c)));
    }
    if let Some(c) = cmp {
        let _ = writeln!(
            o,
            "<h2>vs baseline</h2><p>fixed ({}): {}<br>broken ({}): {}</p>",
            c.fixed.len(),
            esc(&c.fixed.join(", ")),
            c.broken.len(),
            esc(&c.broken.join(", "))
        );
    }
    if let Some(p) = &r.prompt_diff {
        let _ = writeln!(
            o,
            "<h2>Replies changed vs prompts <code>{}</code> ({} of {})</h2><table class=\"chat\"><tr><th>case</th><th>lead</th><th>before</th><th>after</th></tr>",
            esc(&p.against),
            p.changed.len(),
            p.replies
        );
        for c in &p.changed {
            let _ = writeln!(
                o,
                "<tr><td>{} #{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.case),
                c.message,
                esc(&c.lead),
                esc(&c.before),
                esc(&c.after)
            );
        }
        let _ = writeln!(o, "</table>");
    }
    if !r.gates.is_empty() {
        let _ = writeln!(o, "<h2>Gates</h2><ul>");
        for g in &r.gates {
            let (class, word) = if g.ok {
                ("pass", "ok")
            } else {
                ("fail", "FAIL")
            };
            let _ = writeln!(
                o,
                "<li><b class=\"{class}\">{word}</b> {}</li>",
                esc(&g.message)
            );
        }
        let _ = writeln!(o, "</ul>");
    }
    let _ = writeln!(o, "<h2>Cases</h2>");
    for c in &r.cases {
        let (class, word) = match c.status {
            Status::Pass => ("pass", "pass"),
            Status::Fail => ("fail", "FAIL"),
            Status::Error => ("error", "ERROR"),
        };
        let at = c
            .location
            .as_deref()
            .map(|l| format!(" <small>{}</small>", esc(l)))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "<div><b class=\"{class}\">{word}</b> <code>{}</code>{at}",
            esc(&c.id)
        );
        if let Some(e) = &c.error {
            let _ = writeln!(o, "<ul class=\"diffs\"><li>{}</li></ul>", esc(e));
        } else if !c.diffs.is_empty() {
            let _ = writeln!(o, "<ul class=\"diffs\">");
            for diff in &c.diffs {
                let _ = writeln!(o, "<li>{}</li>", esc(diff));
            }
            let _ = writeln!(o, "</ul>");
        }
        transcript(&mut o, c);
        let _ = writeln!(o, "</div>");
    }
    let _ = writeln!(o, "</body></html>");
    o
}

/// The regenerated conversation; replies with a failed assertion are
/// highlighted with what failed underneath.
fn transcript(o: &mut String, c: &CaseResult) {
    if c.transcript.is_empty() {
        return;
    }
    let open = if c.status == Status::Pass {
        ""
    } else {
        " open"
    };
    let _ = writeln!(
        o,
        "<details{open}><summary>transcript</summary><table class=\"chat\">"
    );
    for t in &c.transcript {
        let failed: Vec<&CheckResult> = c
            .checks
            .iter()
            .filter(|k| k.message == t.message && k.status == CheckStatus::Fail)
            .collect();
        let class = if failed.is_empty() {
            ""
        } else {
            " class=\"bad\""
        };
        let _ = writeln!(
            o,
            "<tr><td>lead {}</td><td>{}</td></tr><tr{class}><td>setter</td><td>{} <small>{} · {}{}</small>",
            t.message,
            esc(&t.lead),
            esc(&t.reply),
            esc(&t.action),
            esc(t.stage.as_str()),
            t.guard.as_deref().map(|g| format!(" · guard {}", esc(g))).unwrap_or_default()
        );
        for k in failed {
            let _ = write!(
                o,
                "<br><b class=\"fail\">{}</b>: {}",
                esc(&k.assertion),
                esc(&k.detail)
            );
        }
        let _ = writeln!(o, "</td></tr>");
    }
    let _ = writeln!(o, "</table></details>");
}

fn confusion(o: &mut String, name: &str, c: &ClassMetrics) {
    let missing = missing_per_row(c);
    let _ = write!(
        o,
        "<h2>{name}</h2><table><tr><th>expected \\ predicted</th>"
    );
    for l in &c.labels {
        let _ = write!(o, "<th>{}</th>", esc(l));
    }
    let _ = writeln!(o, "<th>none</th></tr>");
    for (i, l) in c.labels.iter().enumerate() {
        let _ = write!(o, "<tr><td>{}</td>", esc(l));
        // A heat map: green on the diagonal, red off it, by share of the row.
        let row: u32 = c.confusion[i].iter().sum::<u32>() + missing[i];
        for (j, n) in c.confusion[i].iter().enumerate() {
            let share = if row == 0 {
                0.0
            } else {
                *n as f64 / row as f64
            };
            let rgb = if i == j { "26,127,55" } else { "180,35,24" };
            let _ = write!(
                o,
                "<td style=\"background:rgba({rgb},{:.2})\">{n}</td>",
                share * 0.6
            );
        }
        let _ = writeln!(o, "<td>{}</td></tr>", missing[i]);
    }
    let _ = writeln!(
        o,
        "</table><p>accuracy {} ({}/{}) · macro F1 {} · kappa {}</p>",
        num(c.accuracy),
        c.correct,
        c.n,
        num(c.macro_f1),
        num(c.kappa)
    );
}
