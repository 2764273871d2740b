//! `--json FILE`: the whole [`Report`](super::super::Report), pretty-printed.
//! This is also the `--baseline` format.

use crate::eval::Report;

pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("reports serialize");
    s.push('\n');
    s
}
