//! The fit × intent rubric, computed in code from stored evidence and slots.
//!
//! Fit is the weighted share of matched ICP traits over known traits; a
//! matched hard disqualifier makes fit low and the lead Cold, whatever else is
//! true. Intent is a sum of weighted signals (with optional decay by age).
//! The tier comes from the seed playbook's matrix; every number is in
//! `[scoring]`. Small models judge fit poorly, so none of this asks the model.

use super::signals;
use crate::config::{Config, Framework, SlotRole};
use crate::lead::{EvidenceKind, Level, Stage, Tier};
use crate::store::{EvidenceRow, SlotValue};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BTreeMap;

const DAY_MS: f64 = 86_400_000.0;

/// The next action of a Hot lead when the offer is cheap enough to close in
/// the DM (`[scoring] close_in_dm_below`): the plan sends the payment link.
pub const SEND_PAYMENT_LINK: &str = "send_payment_link";

/// One ICP trait's status for the explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraitStatus {
    pub id: String,
    /// `None` = unknown.
    pub matched: Option<bool>,
    pub weight: f64,
    pub quote: Option<String>,
    pub message_id: Option<i64>,
}

/// One intent signal that counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalHit {
    pub signal: String,
    /// Weight after decay.
    pub points: f64,
    pub quote: String,
    pub message_id: Option<i64>,
}

/// A matched hard disqualifier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disqualified {
    pub id: String,
    pub quote: String,
    pub message_id: i64,
}

/// The full, explainable result of scoring a lead.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub fit: Level,
    pub intent: Level,
    pub tier: Tier,
    pub score: i64,
    pub next_action: String,
    /// Matched share of known trait weight; `None` while no trait is known.
    pub fit_share: Option<f64>,
    pub intent_points: f64,
    pub disqualified: Option<Disqualified>,
    pub traits: Vec<TraitStatus>,
    pub signals: Vec<SignalHit>,
}

/// The first hard disqualifier the evidence shows, if any: what makes a
/// lead Cold whatever else is true, and what stops qualifying it.
pub fn disqualifier(evidence: &[EvidenceRow]) -> Option<Disqualified> {
    evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::Disqualifier && e.matched)
        .map(|e| Disqualified {
            id: e.key.clone(),
            quote: e.quote.clone(),
            message_id: e.message_id,
        })
}

/// Scores a lead from its evidence (oldest first) and current slots at `now`.
pub fn assess(
    config: &Config,
    framework: &Framework,
    evidence: &[EvidenceRow],
    slots: &BTreeMap<String, SlotValue>,
    now: i64,
) -> Assessment {
    let sc = &config.scoring;
    // A match anywhere counts (quoted evidence beats a later "false", which
    // small models report for traits a message simply doesn't mention).
    let traits: Vec<TraitStatus> = config
        .icp
        .traits
        .iter()
        .map(|t| {
            let mine = || {
                evidence
                    .iter()
                    .filter(|e| e.kind == EvidenceKind::Trait && e.key == t.id)
            };
            let last = mine().find(|e| e.matched).or_else(|| mine().next_back());
            TraitStatus {
                id: t.id.clone(),
                matched: last.map(|e| e.matched),
                weight: t.weight,
                quote: last.map(|e| e.quote.clone()),
                message_id: last.map(|e| e.message_id),
            }
        })
        .collect();
    let disqualified = disqualifier(evidence);
    let known: Vec<&TraitStatus> = traits.iter().filter(|t| t.matched.is_some()).collect();
    let known_weight: f64 = known.iter().map(|t| t.weight).sum();
    let fit_share = (known_weight > 0.0).then(|| {
        known
            .iter()
            .filter(|t| t.matched == Some(true))
            .map(|t| t.weight)
            .sum::<f64>()
            / known_weight
    });
    let fit = match (fit_share, &disqualified) {
        (_, Some(_)) => Level::Low,
        // Benefit of the doubt until something is known: qualify, don't decline.
        (None, None) => Level::Medium,
        (Some(s), None) if s >= sc.fit_high_at && known.len() >= sc.min_known_traits_for_high => {
            Level::High
        }
        (Some(s), None) if s >= sc.fit_medium_at => Level::Medium,
        (Some(_), None) => Level::Low,
    };

    let signals = intent_signals(config, framework, evidence, slots, now);
    let intent_points: f64 = signals.iter().map(|s| s.points).sum();
    let intent = if intent_points >= sc.intent_high_at {
        Level::High
    } else if intent_points >= sc.intent_medium_at {
        Level::Medium
    } else {
        Level::Low
    };
    let (tier, next_action) = matrix(config, fit, intent);
    Assessment {
        fit,
        intent,
        tier,
        score: number(tier, fit, intent),
        next_action,
        fit_share,
        intent_points,
        disqualified,
        traits,
        signals,
    }
}

/// Keyword signals (latest occurrence of each) plus signals read from slots.
fn intent_signals(
    config: &Config,
    framework: &Framework,
    evidence: &[EvidenceRow],
    slots: &BTreeMap<String, SlotValue>,
    now: i64,
) -> Vec<SignalHit> {
    let sc = &config.scoring;
    let w = &sc.signals;
    let decay = |at: i64| {
        if sc.intent_half_life_days <= 0.0 {
            1.0
        } else {
            // Whole days: a signal from earlier today counts fully, so a
            // threshold is never missed by a few seconds of decay.
            let age_days = ((now - at) as f64 / DAY_MS).max(0.0).floor();
            0.5f64.powf(age_days / sc.intent_half_life_days)
        }
    };
    let weight = |signal: &str| w.get(signal).unwrap_or(0.0);
    let mut latest: BTreeMap<&str, &EvidenceRow> = BTreeMap::new();
    for e in evidence
        .iter()
        .filter(|e| e.kind == EvidenceKind::Signal && e.matched)
    {
        latest.insert(e.key.as_str(), e);
    }
    let mut hits: Vec<SignalHit> = latest
        .into_iter()
        .map(|(signal, e)| SignalHit {
            signal: signal.to_string(),
            points: weight(signal) * decay(e.at),
            quote: e.quote.clone(),
            message_id: Some(e.message_id),
        })
        .collect();
    for slot in &framework.slots {
        let Some(value) = slots.get(&slot.id) else {
            continue;
        };
        let text = match &value.value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let signal = match slot.role {
            SlotRole::Timing
                if super::timing::parse_days(&text)
                    .is_some_and(|d| d <= sc.timing_horizon_days as f64) =>
            {
                "timing_within_horizon"
            }
            SlotRole::Budget => {
                match super::budget::against_price(
                    &text,
                    config.offer.price,
                    &config.offer.currency,
                ) {
                    Some(Ordering::Less) => "budget_below_price",
                    Some(_) => "budget_at_or_above_price",
                    None => continue,
                }
            }
            SlotRole::Authority if signals::is_decision_maker(&text) => "authority_confirmed",
            _ => continue,
        };
        hits.push(SignalHit {
            signal: signal.into(),
            points: weight(signal) * decay(value.updated_at),
            quote: text,
            message_id: value.evidence_message_id,
        });
    }
    hits
}

/// The seed matrix, with the two open cells from config.
pub fn matrix(config: &Config, fit: Level, intent: Level) -> (Tier, String) {
    let sc = &config.scoring;
    let a = &sc.next_actions;
    let configured = |t: &str| t.parse::<Tier>().unwrap_or(Tier::Cold);
    let hot_action = || {
        if config.offer.price < sc.close_in_dm_below {
            SEND_PAYMENT_LINK.to_string()
        } else {
            a.hot.clone()
        }
    };
    let by_tier = |tier: Tier| match tier {
        Tier::Hot => (tier, hot_action()),
        Tier::Warm => (tier, a.warm_nurture.clone()),
        Tier::Cold => (tier, a.cold_nurture.clone()),
    };
    use Level::*;
    match (fit, intent) {
        (Low, _) => (Tier::Cold, a.cold_decline.clone()),
        (High, High) => (Tier::Hot, hot_action()),
        (High, Medium) => (Tier::Warm, a.warm_nurture.clone()),
        (Medium, High) => (Tier::Warm, a.warm_deepen.clone()),
        (High, Low) => (Tier::Cold, a.cold_nurture.clone()),
        (Medium, Medium) => by_tier(configured(&sc.medium_medium)),
        (Medium, Low) => by_tier(configured(&sc.medium_low)),
    }
}

/// 0–100, monotone in tier: every Hot outranks every Warm outranks every Cold.
pub fn number(tier: Tier, fit: Level, intent: Level) -> i64 {
    let (base, width) = match tier {
        Tier::Cold => (0.0, 39.0),
        Tier::Warm => (40.0, 29.0),
        Tier::Hot => (70.0, 30.0),
    };
    let rank = |l: Level| l as usize as f64; // low 0, medium 1, high 2
    (base + width * (rank(fit) + rank(intent)) / 4.0).round() as i64
}

/// The lifecycle stage after this assessment. Stages only move forward
/// (new → engaged → mql → sql), except that a disqualifier ends the line.
pub fn stage(
    prev: Stage,
    a: &Assessment,
    inbound_count: usize,
    all_slots_known: bool,
) -> (Stage, String) {
    if let Some(d) = &a.disqualified {
        return (
            Stage::Disqualified,
            format!("disqualifier {} matched: \"{}\"", d.id, d.quote),
        );
    }
    // A lead who went quiet and came back picks up where they were engaged.
    let prev = if prev == Stage::Unresponsive {
        Stage::Engaged
    } else {
        prev
    };
    if matches!(prev, Stage::HandedOff | Stage::Closed | Stage::Disqualified) {
        return (prev, String::new());
    }
    let (computed, why) = if a.tier == Tier::Hot {
        (Stage::Sql, "tier hot".to_string())
    } else if all_slots_known && a.fit == Level::High {
        (
            Stage::Sql,
            "all framework slots known with fit high".to_string(),
        )
    } else if a.fit >= Level::Medium && a.fit_share.is_some() {
        (Stage::Mql, format!("fit {}", a.fit))
    } else if inbound_count >= 2 {
        (Stage::Engaged, "the lead replied".to_string())
    } else {
        (Stage::New, String::new())
    };
    if computed > prev {
        (computed, why)
    } else {
        (prev, String::new())
    }
}

#[cfg(test)]
#[path = "score_tests.rs"]
mod tests;
