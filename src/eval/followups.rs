//! Follow-ups on a virtual clock: what a case expects of the ladder, what the
//! run did, and how the two are compared.
//!
//! A case's lead messages carry offsets from the case's start (`"+0s"`,
//! `"+3s"`, `"+26h"`). Between two messages, and after the last one until
//! the case's `until`, the runner moves a virtual clock from one due step to
//! the next and runs the real scheduler tick there — so a suite of weeks of
//! silence runs in milliseconds and gives the same answer every time.
//!
//! Expectations name a step by its ladder (1 = the ladder the first reply
//! started, 2 = the one after the lead's next message, …) and its position,
//! and say what must have happened to it: `sent` (optionally `at` an offset,
//! `template: true` for a WhatsApp template), `skipped` or `cancelled` (with
//! a `reason` code). Every step a case lists is checked; a step sent that the
//! case does not list as sent is a false positive — the costly error, a
//! message a lead should not have received.

use super::metrics::{ratio, Counts, Pair};
use crate::lead::{JobReason, JobState};
use crate::scheduler::Scheduler;
use crate::store::{JobRow, Store};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeSet;

/// The most ticks one case may take: a ladder that keeps deferring itself
/// would otherwise loop for ever.
const MAX_TICKS: usize = 1_000;

/// A time relative to the case's start, written `+26h`, `+1d2h`, `+90s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Offset(pub i64);

impl Offset {
    /// Parses `+<n><unit>…` with units `d`, `h`, `m`, `s`; the `+` is optional.
    pub fn parse(text: &str) -> Result<Offset, String> {
        let bad = || {
            format!("\"{text}\" is not an offset: write it like \"+3s\", \"+15m\", \"+26h\" or \"+1d2h\"")
        };
        let body = text.trim().strip_prefix('+').unwrap_or(text.trim());
        if body.is_empty() {
            return Err(bad());
        }
        let (mut total, mut number) = (0i64, String::new());
        for c in body.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let unit: i64 = match c {
                'd' => 86_400_000,
                'h' => 3_600_000,
                'm' => 60_000,
                's' => 1_000,
                _ => return Err(bad()),
            };
            let n: i64 = number.parse().map_err(|_| bad())?;
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(bad)?;
            number.clear();
        }
        match number.is_empty() {
            true => Ok(Offset(total)),
            false => Err(bad()),
        }
    }
}

impl std::fmt::Display for Offset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut left = self.0.max(0) / 1000;
        let mut out = String::from("+");
        for (unit, secs) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
            if left >= secs {
                out.push_str(&format!("{}{unit}", left / secs));
                left %= secs;
            }
        }
        if out.len() == 1 {
            out.push_str("0s");
        }
        f.write_str(&out)
    }
}

impl Serialize for Offset {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Offset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Offset, D::Error> {
        let text = String::deserialize(d)?;
        Offset::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn first_ladder() -> u32 {
    1
}

/// What happened (or must happen) to one follow-up step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowupStep {
    /// 1 = the ladder the first reply started, 2 = the next one, …
    #[serde(default = "first_ladder")]
    pub ladder: u32,
    /// 1-based position in the ladder.
    pub step: u32,
    pub state: JobState,
    /// When it was sent (sent steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Offset>,
    /// Why it was skipped or cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<JobReason>,
    /// Whether it went out as an approved WhatsApp template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<bool>,
}

impl std::fmt::Display for FollowupStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.state)?;
        if let Some(at) = self.at {
            write!(f, " at {at}")?;
        }
        if self.template == Some(true) {
            write!(f, " as a template")?;
        }
        if let Some(r) = self.reason {
            write!(f, " ({r})")?;
        }
        Ok(())
    }
}

/// Runs every follow-up step due up to `until` (inclusive), each at its own
/// due time, so deferrals and windows see the time they would in production.
pub async fn advance(scheduler: &Scheduler, store: &Store, until: i64) -> Result<(), String> {
    for _ in 0..MAX_TICKS {
        match store.next_job_due().await.map_err(|e| e.to_string())? {
            Some(due) if due <= until => {
                scheduler.tick(due).await.map_err(|e| e.to_string())?;
            }
            _ => return Ok(()),
        }
    }
    Err(format!(
        "follow-ups still due after {MAX_TICKS} ticks: a step keeps deferring itself"
    ))
}

/// The steps of one lead's ladders as the run left them, ladder by ladder.
pub fn observed(jobs: &[JobRow], start: i64) -> Vec<FollowupStep> {
    let epochs: BTreeSet<i64> = jobs.iter().map(|j| j.epoch).collect();
    let mut steps: Vec<FollowupStep> = jobs
        .iter()
        .map(|j| FollowupStep {
            ladder: epochs.iter().position(|e| *e == j.epoch).unwrap_or(0) as u32 + 1,
            step: j.step as u32,
            state: j.state,
            at: j.sent_at.map(|at| Offset(at - start)),
            reason: j.reason_code,
            template: (j.state == JobState::Sent).then_some(j.as_template),
        })
        .collect();
    steps.sort_by_key(|s| (s.ladder, s.step));
    steps
}

/// Whether `got` is what `want` asks for (fields `want` leaves out match anything).
fn satisfies(got: &FollowupStep, want: &FollowupStep) -> bool {
    got.state == want.state
        && want.at.is_none_or(|at| got.at == Some(at))
        && want.reason.is_none_or(|r| got.reason == Some(r))
        && want.template.is_none_or(|t| got.template == Some(t))
}

fn find(steps: &[FollowupStep], ladder: u32, step: u32) -> Option<&FollowupStep> {
    steps.iter().find(|s| s.ladder == ladder && s.step == step)
}

/// One line per expectation the run missed, and per step sent unexpected.
pub fn differences(gold: &[FollowupStep], pred: &[FollowupStep]) -> Vec<String> {
    let mut out = Vec::new();
    for want in gold {
        let (l, s) = (want.ladder, want.step);
        match find(pred, l, s) {
            None => out.push(format!(
                "follow-up {l}.{s}: expected {want}, but no such step was scheduled"
            )),
            Some(got) if !satisfies(got, want) => {
                out.push(format!("follow-up {l}.{s}: expected {want}, got {got}"))
            }
            Some(_) => {}
        }
    }
    for got in pred.iter().filter(|p| p.state == JobState::Sent) {
        if find(gold, got.ladder, got.step).is_none() {
            out.push(format!(
                "follow-up {}.{}: {got}, but the case does not expect it",
                got.ladder, got.step
            ));
        }
    }
    out
}

/// Sent steps against the cases' expectations: a step counts as right when
/// the case expects it sent and every field it gives matches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FollowupMetrics {
    /// Cases with follow-up expectations.
    pub cases: u32,
    pub counts: Counts,
    /// Steps sent that should have been.
    pub precision: Option<f64>,
    /// Steps that should have been sent that were.
    pub recall: Option<f64>,
}

/// Micro-averaged over the cases that list follow-ups.
pub fn compute(pairs: &[Pair]) -> FollowupMetrics {
    let mut m = FollowupMetrics::default();
    for p in pairs {
        let (Some(gold), pred) = (&p.gold.followups, &p.pred.followups) else {
            continue;
        };
        let pred = pred.as_deref().unwrap_or_default();
        m.cases += 1;
        let wanted = |g: &&FollowupStep| g.state == JobState::Sent;
        for want in gold.iter().filter(wanted) {
            match find(pred, want.ladder, want.step) {
                Some(got) if satisfies(got, want) => m.counts.tp += 1,
                _ => m.counts.fn_ += 1,
            }
        }
        for got in pred.iter().filter(|s| s.state == JobState::Sent) {
            let right = find(gold, got.ladder, got.step)
                .is_some_and(|want| want.state == JobState::Sent && satisfies(got, want));
            if !right {
                m.counts.fp += 1;
            }
        }
    }
    m.precision = ratio(m.counts.tp as f64, (m.counts.tp + m.counts.fp) as f64);
    m.recall = ratio(m.counts.tp as f64, (m.counts.tp + m.counts.fn_) as f64);
    m
}

#[cfg(test)]
#[path = "followups_tests.rs"]
mod tests;
