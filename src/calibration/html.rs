//! `--html`: one self-contained page (inline CSS, no scripts, no network).

use super::compute::{Calibration, Rate};
use super::text::{lift, percent, toml_snippet};
use std::fmt::Write;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}\
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}\
th:first-child,td:first-child{text-align:left}th{background:#f5f5f5}tr.few td{color:#9a6700;background:#fff8e1}\
.alert{background:#fff8e1;border:1px solid #e0c080;padding:.6rem 1rem;border-radius:4px}pre{background:#f5f5f5;padding:.8rem}";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn cells(r: &Rate) -> String {
    format!(
        "<td>{}/{}</td><td>{}</td>",
        r.hits,
        r.leads,
        percent(r.rate)
    )
}

fn row_class(too_few: bool) -> &'static str {
    if too_few {
        " class=\"few\""
    } else {
        ""
    }
}

/// The whole report as an HTML page.
pub fn render(c: &Calibration) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>setter · calibration</title><style>{STYLE}</style></head><body>"
    );
    let _ = writeln!(
        o,
        "<h1>Calibration</h1><p>{} leads with outcomes; {} reached a booking or better. Rows with fewer than {} leads are highlighted.</p>",
        c.leads, c.booked, c.min_count
    );
    for w in &c.warnings {
        let _ = writeln!(o, "<p class=\"alert\">{}</p>", esc(w));
    }
    let _ = writeln!(o, "<h2>Outcome rate per tier</h2><table><tr><th>tier</th><th>booked</th><th>rate</th><th>won</th><th>rate</th></tr>");
    for t in &c.tiers {
        let _ = writeln!(
            o,
            "<tr{}><td>{}</td>{}{}</tr>",
            row_class(t.too_few),
            t.tier,
            cells(&t.booked),
            cells(&t.won)
        );
    }
    let _ = writeln!(o, "</table><h2>Which signals predict a booking</h2><table><tr><th>signal</th><th>weight</th><th>with</th><th>rate</th><th>without</th><th>rate</th><th>lift</th></tr>");
    for s in &c.signals {
        let _ = writeln!(
            o,
            "<tr{}><td>{}</td><td>{}</td>{}{}<td>{}</td></tr>",
            row_class(s.too_few),
            esc(&s.signal),
            s.weight,
            cells(&s.with),
            cells(&s.without),
            lift(s.lift)
        );
    }
    let _ = writeln!(o, "</table><h2>Reliability: score vs booking rate</h2><table><tr><th>score</th><th>booked</th><th>rate</th></tr>");
    for b in &c.buckets {
        let _ = writeln!(
            o,
            "<tr{}><td>{}–{}</td>{}</tr>",
            row_class(b.too_few),
            b.from,
            b.to,
            cells(&b.booked)
        );
    }
    let _ = writeln!(
        o,
        "</table><h2>Suggested weights</h2><p>Not applied: paste into <code>setter.toml</code> to use them.</p><pre>{}</pre>\n</body></html>",
        esc(&toml_snippet(c))
    );
    o
}
