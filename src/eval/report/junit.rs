//! `--junit FILE`: JUnit XML for CI dashboards. One `<testcase>` per case; a
//! failing case's `<failure message>` lists every expectation that differed,
//! joined with "; " (e.g. `tier: expected hot, got warm; slot budget: expected
//! "3000", got null`); a case that could not be read or run is an `<error>`.

use crate::eval::{Report, Status};
use std::fmt::Write;

/// Escapes text for XML attributes and content.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

pub fn render(r: &Report) -> String {
    let s = &r.summary;
    let suite = escape(&r.suite);
    let secs = |ms: i64| ms as f64 / 1000.0;
    let total_ms: i64 = r
        .cases
        .iter()
        .filter_map(|c| c.usage.as_ref())
        .flat_map(|u| &u.latency_ms)
        .sum();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<testsuites name=\"setter eval\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3}\">",
        s.cases,
        s.failed,
        s.errored,
        secs(total_ms)
    );
    let _ = writeln!(
        o,
        "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{:.3}\" timestamp=\"{}\">",
        s.cases,
        s.failed,
        s.errored,
        secs(total_ms),
        // The schema's timestamp has no zone designator; it is UTC.
        escape(r.generated_at.trim_end_matches('Z'))
    );
    let _ = writeln!(o, "    <properties>");
    for (k, v) in &r.metrics {
        let v = v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "n/a".into());
        let _ = writeln!(o, "      <property name=\"{}\" value=\"{v}\"/>", escape(k));
    }
    let _ = writeln!(o, "    </properties>");
    for c in &r.cases {
        let ms: i64 = c
            .usage
            .as_ref()
            .map(|u| u.latency_ms.iter().sum())
            .unwrap_or(0);
        let file = c
            .location
            .as_deref()
            .map(|l| format!(" file=\"{}\"", escape(l)))
            .unwrap_or_default();
        let head = format!(
            "    <testcase classname=\"setter.eval.{suite}\" name=\"{}\"{file} time=\"{:.3}\"",
            escape(&c.id),
            secs(ms)
        );
        match c.status {
            Status::Pass => {
                let _ = writeln!(o, "{head}/>");
            }
            Status::Fail => {
                let _ = writeln!(o, "{head}>");
                let _ = writeln!(
                    o,
                    "      <failure type=\"mismatch\" message=\"{}\">{}</failure>",
                    escape(&c.diffs.join("; ")),
                    escape(&c.diffs.join("\n"))
                );
                let _ = writeln!(o, "    </testcase>");
            }
            Status::Error => {
                let msg = c.error.as_deref().unwrap_or("error");
                let _ = writeln!(o, "{head}>");
                let _ = writeln!(
                    o,
                    "      <error type=\"error\" message=\"{}\">{}</error>",
                    escape(msg),
                    escape(msg)
                );
                let _ = writeln!(o, "    </testcase>");
            }
        }
    }
    let _ = writeln!(o, "  </testsuite>\n</testsuites>");
    o
}
