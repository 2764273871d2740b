//! The figures, from plain rows: no I/O, no clock, so every number can be
//! checked by hand against a generated set of leads.

use crate::config::SignalWeights;
use crate::lead::{LeadOutcome, Tier};
use crate::store::CalibrationSample;
use serde::Serialize;

/// How many leads a row needs before its rate is worth reading.
pub const DEFAULT_MIN_COUNT: usize = 20;

/// Score buckets of the reliability table: deciles of the 0–100 score (the
/// last one holds 90–100).
const BUCKET_WIDTH: i64 = 10;
const BUCKETS: i64 = 10;

/// A suggested weight moves at most this far from the current one, as a
/// factor of it: never a sign flip, never more than double.
const MAX_FACTOR: f64 = 2.0;

/// The report, as `--json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// Leads with at least one outcome and a score.
    pub leads: usize,
    /// Of those, leads that reached a booking or better.
    pub booked: usize,
    pub min_count: usize,
    /// Hot, Warm, Cold.
    pub tiers: Vec<TierRow>,
    /// One per configured signal, in `[scoring.signals]` order.
    pub signals: Vec<SignalRow>,
    /// Score deciles, lowest first.
    pub buckets: Vec<BucketRow>,
    /// Rows whose counts are below `min_count`, in words.
    pub warnings: Vec<String>,
    /// Weights for `[scoring.signals]`: suggested, never applied.
    pub suggested: Vec<SuggestedWeight>,
}

/// How many of `leads` reached the outcome; `rate` is `None` with no leads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    pub leads: usize,
    pub hits: usize,
    pub rate: Option<f64>,
}

impl Rate {
    fn of(leads: usize, hits: usize) -> Rate {
        let rate = (leads > 0).then(|| hits as f64 / leads as f64);
        Rate { leads, hits, rate }
    }
}

/// Is Hot really better than Warm? Booking (or better) and sale rates per tier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierRow {
    pub tier: Tier,
    /// Reached booked, showed, won or paid.
    pub booked: Rate,
    /// Reached won or paid.
    pub won: Rate,
    pub too_few: bool,
}

/// Does this signal predict a booking? Rates with and without it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalRow {
    pub signal: String,
    /// Its weight in `[scoring.signals]` now.
    pub weight: f64,
    pub with: Rate,
    pub without: Rate,
    /// Booking rate with ÷ without; `None` when either side has no leads or
    /// no lead without it booked.
    pub lift: Option<f64>,
    /// Either side has fewer than `min_count` leads.
    pub too_few: bool,
}

/// One score bucket of the reliability table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BucketRow {
    /// Inclusive score range.
    pub from: i64,
    pub to: i64,
    pub booked: Rate,
    /// Has leads, but fewer than `min_count`.
    pub too_few: bool,
}

/// A weight the data suggests, with why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuggestedWeight {
    pub signal: String,
    pub current: f64,
    pub suggested: f64,
    pub why: String,
}

/// Computes the report over `samples` with the current signal `weights`.
pub fn compute(
    samples: &[CalibrationSample],
    weights: &SignalWeights,
    min_count: usize,
) -> Calibration {
    let booked = |s: &&CalibrationSample| s.outcomes.iter().any(|o| o.is_booking_or_better());
    let tiers = tier_rows(samples, min_count);
    let signals = signal_rows(samples, weights, min_count);
    let buckets = bucket_rows(samples, min_count);
    let warnings = warnings(samples.len(), &tiers, &signals, &buckets, min_count);
    let suggested = signals.iter().map(|r| suggest(r, min_count)).collect();
    Calibration {
        leads: samples.len(),
        booked: samples.iter().filter(booked).count(),
        min_count,
        tiers,
        signals,
        buckets,
        warnings,
        suggested,
    }
}

/// How many of `samples` reached `hit`.
fn rate(samples: &[&CalibrationSample], hit: fn(LeadOutcome) -> bool) -> Rate {
    let hits = samples
        .iter()
        .filter(|s| s.outcomes.iter().any(|o| hit(*o)))
        .count();
    Rate::of(samples.len(), hits)
}

fn tier_rows(samples: &[CalibrationSample], min_count: usize) -> Vec<TierRow> {
    [Tier::Hot, Tier::Warm, Tier::Cold]
        .into_iter()
        .map(|tier| {
            let mine: Vec<&CalibrationSample> = samples.iter().filter(|s| s.tier == tier).collect();
            TierRow {
                tier,
                booked: rate(&mine, LeadOutcome::is_booking_or_better),
                won: rate(&mine, LeadOutcome::closes_the_sale),
                too_few: mine.len() < min_count,
            }
        })
        .collect()
}

fn signal_rows(
    samples: &[CalibrationSample],
    weights: &SignalWeights,
    min_count: usize,
) -> Vec<SignalRow> {
    SignalWeights::NAMES
        .iter()
        .map(|&name| {
            let (with, without): (Vec<&CalibrationSample>, Vec<&CalibrationSample>) =
                samples.iter().partition(|s| s.signals.contains(name));
            let with = rate(&with, LeadOutcome::is_booking_or_better);
            let without = rate(&without, LeadOutcome::is_booking_or_better);
            let lift = match (with.rate, without.rate) {
                (Some(w), Some(wo)) if wo > 0.0 => Some(w / wo),
                _ => None,
            };
            SignalRow {
                signal: name.to_string(),
                weight: weights.get(name).unwrap_or(0.0),
                with,
                without,
                lift,
                too_few: with.leads < min_count || without.leads < min_count,
            }
        })
        .collect()
}

fn bucket_rows(samples: &[CalibrationSample], min_count: usize) -> Vec<BucketRow> {
    let bucket = |score: i64| (score.clamp(0, 100) / BUCKET_WIDTH).min(BUCKETS - 1);
    (0..BUCKETS)
        .map(|b| {
            let mine: Vec<&CalibrationSample> =
                samples.iter().filter(|s| bucket(s.score) == b).collect();
            let booked = rate(&mine, LeadOutcome::is_booking_or_better);
            BucketRow {
                from: b * BUCKET_WIDTH,
                to: if b == BUCKETS - 1 {
                    100
                } else {
                    b * BUCKET_WIDTH + BUCKET_WIDTH - 1
                },
                too_few: booked.leads > 0 && booked.leads < min_count,
                booked,
            }
        })
        .collect()
}

/// One line per table whose rows are too small to trust, naming the rows.
fn warnings(
    leads: usize,
    tiers: &[TierRow],
    signals: &[SignalRow],
    buckets: &[BucketRow],
    min_count: usize,
) -> Vec<String> {
    if leads == 0 {
        return vec!["no lead has an outcome yet: record them with `setter outcome ID booked|showed|won|lost|paid`".into()];
    }
    let mut out = Vec::new();
    let mut table = |what: &str, rows: Vec<String>| {
        if !rows.is_empty() {
            out.push(format!(
                "{what} with fewer than {min_count} leads (marked *), not to be trusted yet: {}",
                rows.join(", ")
            ));
        }
    };
    table(
        "tiers",
        tiers
            .iter()
            .filter(|t| t.too_few)
            .map(|t| format!("{} ({})", t.tier, t.booked.leads))
            .collect(),
    );
    table(
        "signals",
        signals
            .iter()
            .filter(|s| s.too_few)
            .map(|s| {
                format!(
                    "{} ({} with, {} without)",
                    s.signal, s.with.leads, s.without.leads
                )
            })
            .collect(),
    );
    table(
        "score buckets",
        buckets
            .iter()
            .filter(|b| b.too_few)
            .map(|b| format!("{}–{} ({})", b.from, b.to, b.booked.leads))
            .collect(),
    );
    out
}

/// The data's weight for one signal: the current weight scaled by its
/// log-lift, `w × clamp(1 + sign(w)·ln(lift), 0, 2)`, rounded to 0.1. A
/// signal that doubles bookings keeps its sign and grows; one that predicts
/// nothing shrinks toward 0. Kept as is when the counts are too small or
/// the lift is undefined, and for a weight of 0 (switched off).
fn suggest(row: &SignalRow, min_count: usize) -> SuggestedWeight {
    let keep = |why: String| SuggestedWeight {
        signal: row.signal.clone(),
        current: row.weight,
        suggested: row.weight,
        why,
    };
    let Some(lift) = row.lift.filter(|_| !row.too_few) else {
        return keep(if row.too_few {
            format!(
                "kept: too few leads ({} with, {} without; {min_count} needed each)",
                row.with.leads, row.without.leads
            )
        } else {
            "kept: no lead without it booked, so its lift is undefined".into()
        });
    };
    if row.weight == 0.0 {
        return keep(format!("kept: weight 0 (switched off); lift {lift:.2}"));
    }
    let factor = (1.0 + row.weight.signum() * lift.ln()).clamp(0.0, MAX_FACTOR);
    SuggestedWeight {
        signal: row.signal.clone(),
        current: row.weight,
        suggested: (row.weight * factor * 10.0).round() / 10.0,
        why: format!(
            "lift {lift:.2}: booked {}/{} with, {}/{} without",
            row.with.hits, row.with.leads, row.without.hits, row.without.leads
        ),
    }
}
