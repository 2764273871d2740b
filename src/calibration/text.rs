//! The terminal rendering: readable tables, then the warnings, then the
//! suggested weights as a TOML snippet to paste.

use super::compute::{Calibration, Rate};
use std::fmt::Write;

/// `12/20  60.0%`, or `0/0      -`.
fn ratio(r: &Rate) -> String {
    format!("{:>3}/{:<3} {:>6}", r.hits, r.leads, percent(r.rate))
}

pub(super) fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".into(), |r| format!("{:.1}%", r * 100.0))
}

pub(super) fn lift(lift: Option<f64>) -> String {
    lift.map_or_else(|| "-".into(), |l| format!("{l:.2}"))
}

pub(super) fn mark(too_few: bool) -> &'static str {
    if too_few {
        "  *"
    } else {
        ""
    }
}

/// The whole report as text.
pub fn render(c: &Calibration) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Calibration over {} leads with outcomes: {} reached a booking or better ({}).",
        c.leads,
        c.booked,
        percent((c.leads > 0).then(|| c.booked as f64 / c.leads as f64))
    );
    let _ = writeln!(
        o,
        "\nOutcome rate per tier (booked/leads: booked, showed, won or paid; won: won or paid)"
    );
    let _ = writeln!(o, "  {:<6} {:<14}   won", "tier", "booked");
    for t in &c.tiers {
        let _ = writeln!(
            o,
            "  {:<6} {}   {}{}",
            t.tier,
            ratio(&t.booked),
            ratio(&t.won),
            mark(t.too_few)
        );
    }
    let _ = writeln!(o, "\nWhich signals predict a booking (booked/leads with the signal and without; lift = with ÷ without)");
    let _ = writeln!(
        o,
        "  {:<25} {:>6}   {:<14}   {:<14}   {:>5}",
        "signal", "weight", "with", "without", "lift"
    );
    for s in &c.signals {
        let _ = writeln!(
            o,
            "  {:<25} {:>6}   {}   {}   {:>5}{}",
            s.signal,
            s.weight,
            ratio(&s.with),
            ratio(&s.without),
            lift(s.lift),
            mark(s.too_few)
        );
    }
    let _ = writeln!(o, "\nReliability: score vs booking rate");
    let _ = writeln!(o, "  {:<7} booked", "score");
    for b in &c.buckets {
        let range = format!("{}–{}", b.from, b.to);
        let _ = writeln!(o, "  {range:<7} {}{}", ratio(&b.booked), mark(b.too_few));
    }
    if !c.warnings.is_empty() {
        let _ = writeln!(o, "\nWarnings");
        for w in &c.warnings {
            let _ = writeln!(o, "  ! {w}");
        }
    }
    let _ = writeln!(
        o,
        "\nSuggested weights: not applied; paste into setter.toml to use them.\n"
    );
    o.push_str(&toml_snippet(c));
    o
}

/// `[scoring.signals]` with the suggested weights, each with why.
pub fn toml_snippet(c: &Calibration) -> String {
    let mut o = format!(
        "# Suggested by `setter report calibration` from {} leads with outcomes.\n[scoring.signals]\n",
        c.leads
    );
    for s in &c.suggested {
        let _ = writeln!(
            o,
            "{} = {}  # was {}; {}",
            s.signal, s.suggested, s.current, s.why
        );
    }
    o
}
