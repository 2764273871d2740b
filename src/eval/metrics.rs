//! Eval metrics as pure functions over (gold, predicted) pairs.
//!
//! Every ratio whose denominator is zero is `None` ("n/a" in reports), never a
//! made-up 0 or 1: a suite without disqualified leads has no disqualifier
//! recall. Definitions are in `docs/evals.md`; the unit tests below check them
//! against hand-computed examples.

use super::case::Expect;
use crate::agent::signals;
use crate::config::{Framework, SlotKind, SlotRole};
use crate::lead::{Level, Tier};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub use super::classes::{classify, kappa, mean, ClassMetrics, LabelMetrics};

/// How a slot's values are compared after normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// Equal after normalisation (enum and bool slots).
    Exact,
    /// Amounts within 5% of each other ("$3k/month" = "3000"); budget and number
    /// slots. When either side has no amount ("no budget"), compared as free text.
    Numeric,
    /// Equal, or one contains the other (at least 3 characters); free-text slots.
    FreeText,
}

/// The comparison rule of each slot, from the framework.
#[derive(Debug, Clone, Default)]
pub struct SlotRules {
    pub order: Vec<String>,
    pub kinds: BTreeMap<String, MatchKind>,
}

impl SlotRules {
    pub fn from_framework(framework: &Framework) -> SlotRules {
        let mut rules = SlotRules::default();
        for s in &framework.slots {
            let kind = match (s.kind, s.role) {
                (SlotKind::Number, _) | (_, SlotRole::Budget) => MatchKind::Numeric,
                (SlotKind::String, _) => MatchKind::FreeText,
                _ => MatchKind::Exact,
            };
            rules.order.push(s.id.clone());
            rules.kinds.insert(s.id.clone(), kind);
        }
        rules
    }

    /// Adds `other`'s slots not known yet (cases may use several frameworks).
    pub fn merge(&mut self, other: &SlotRules) {
        for id in &other.order {
            if !self.knows(id) {
                self.order.push(id.clone());
                self.kinds.insert(id.clone(), other.kind(id));
            }
        }
    }

    pub fn kind(&self, slot: &str) -> MatchKind {
        self.kinds.get(slot).copied().unwrap_or(MatchKind::FreeText)
    }

    pub fn knows(&self, slot: &str) -> bool {
        self.kinds.contains_key(slot)
    }
}

/// Lowercased, whitespace-collapsed text of a value; `None` for null or empty.
pub fn normalise(v: &Value) -> Option<String> {
    let text = match v {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let text = text
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!text.is_empty()).then_some(text)
}

fn amount(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => signals::parse_amount(s),
        _ => None,
    }
}

/// Whether a predicted value matches the gold one (both non-null).
pub fn values_match(kind: MatchKind, gold: &Value, pred: &Value) -> bool {
    let (Some(g), Some(p)) = (normalise(gold), normalise(pred)) else {
        return false;
    };
    if g == p {
        return true;
    }
    let numeric = kind == MatchKind::Numeric || (gold.is_number() && pred.is_number());
    if numeric {
        if let (Some(a), Some(b)) = (amount(gold), amount(pred)) {
            return (a - b).abs() <= 0.05 * a.abs().max(b.abs());
        }
    }
    if matches!(kind, MatchKind::FreeText | MatchKind::Numeric) {
        let (short, long) = if g.chars().count() <= p.chars().count() {
            (&g, &p)
        } else {
            (&p, &g)
        };
        return short.chars().count() >= 3 && long.contains(short.as_str());
    }
    false
}

/// `num / den`, or `None` when `den` is zero.
pub fn ratio(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| num / den)
}

/// Counts for one slot (or all slots, micro-averaged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub tp: u32,
    pub fp: u32,
    #[serde(rename = "fn")]
    pub fn_: u32,
}

impl Counts {
    pub fn add(&mut self, o: Counts) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }
    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp as f64, (self.tp + self.fp) as f64)
    }
    pub fn recall(&self) -> Option<f64> {
        ratio(self.tp as f64, (self.tp + self.fn_) as f64)
    }
    /// 2TP / (2TP + FP + FN): defined whenever anything was expected or predicted.
    pub fn f1(&self) -> Option<f64> {
        ratio(
            2.0 * self.tp as f64,
            (2 * self.tp + self.fp + self.fn_) as f64,
        )
    }
}

/// Scores one slot of one case. Gold null + predicted null counts nothing;
/// a wrong value is both a false positive and a false negative.
pub fn slot_counts(kind: MatchKind, gold: &Value, pred: Option<&Value>) -> Counts {
    let pred = pred.unwrap_or(&Value::Null);
    match (normalise(gold).is_some(), normalise(pred).is_some()) {
        (true, true) if values_match(kind, gold, pred) => Counts {
            tp: 1,
            ..Counts::default()
        },
        (true, true) => Counts {
            tp: 0,
            fp: 1,
            fn_: 1,
        },
        (true, false) => Counts {
            fn_: 1,
            ..Counts::default()
        },
        (false, true) => Counts {
            fp: 1,
            ..Counts::default()
        },
        (false, false) => Counts::default(),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotMetrics {
    pub slot: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
}

/// Disqualifier detection: positive = the lead should be disqualified.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Disqualifier {
    pub tp: u32,
    pub fp: u32,
    #[serde(rename = "fn")]
    pub fn_: u32,
    pub tn: u32,
    pub recall: Option<f64>,
    pub precision: Option<f64>,
    /// Cases that should have been disqualified and were not: the costliest error.
    pub missed: Vec<String>,
    /// Cases disqualified that should not have been.
    pub false_alarms: Vec<String>,
}

/// One scored case: gold expectations and predictions.
pub struct Pair<'a> {
    pub id: &'a str,
    pub gold: &'a Expect,
    pub pred: &'a Expect,
}

/// Every metric of a set of scored cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub slots: Vec<SlotMetrics>,
    pub slot_micro: SlotMetrics,
    pub slot_macro_f1: Option<f64>,
    /// Cases with `expect.slots` whose every listed slot is right.
    pub joint_goal: JointGoal,
    pub tier: ClassMetrics,
    pub fit: ClassMetrics,
    pub intent: ClassMetrics,
    pub disqualifier: Disqualifier,
    /// Present when a case lists follow-ups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followups: Option<super::followups::FollowupMetrics>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JointGoal {
    pub n: u32,
    pub correct: u32,
    pub accuracy: Option<f64>,
}

const TIERS: [Tier; 3] = [Tier::Hot, Tier::Warm, Tier::Cold];
const LEVELS: [Level; 3] = [Level::High, Level::Medium, Level::Low];

pub fn compute(pairs: &[Pair], rules: &SlotRules) -> Metrics {
    // Slots: framework order first, then any other slot named in gold.
    let mut order: Vec<String> = rules.order.clone();
    for p in pairs {
        for k in p.gold.slots.iter().flat_map(|s| s.keys()) {
            if !order.contains(k) {
                order.push(k.clone());
            }
        }
    }
    let mut per_slot: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut joint = JointGoal::default();
    for p in pairs {
        let Some(gold_slots) = &p.gold.slots else {
            continue;
        };
        joint.n += 1;
        let mut all_right = true;
        for (slot, gold) in gold_slots {
            let c = slot_counts(rules.kind(slot), gold, p.pred.slot(slot));
            all_right &= c.fp == 0 && c.fn_ == 0;
            per_slot.entry(slot.as_str()).or_default().add(c);
        }
        joint.correct += all_right as u32;
    }
    joint.accuracy = ratio(joint.correct as f64, joint.n as f64);
    let row = |slot: &str, c: Counts| SlotMetrics {
        slot: slot.to_string(),
        counts: c,
        precision: c.precision(),
        recall: c.recall(),
        f1: c.f1(),
    };
    let slots: Vec<SlotMetrics> = order
        .iter()
        .filter_map(|s| per_slot.get(s.as_str()).map(|c| row(s, *c)))
        .collect();
    let mut micro = Counts::default();
    for s in &slots {
        micro.add(s.counts);
    }
    let f1s: Vec<f64> = slots.iter().filter_map(|s| s.f1).collect();

    let tier: Vec<(Tier, Option<Tier>)> = pairs
        .iter()
        .filter_map(|p| p.gold.tier.map(|g| (g, p.pred.tier)))
        .collect();
    let fit: Vec<(Level, Option<Level>)> = pairs
        .iter()
        .filter_map(|p| p.gold.fit.map(|g| (g, p.pred.fit)))
        .collect();
    let intent: Vec<(Level, Option<Level>)> = pairs
        .iter()
        .filter_map(|p| p.gold.intent.map(|g| (g, p.pred.intent)))
        .collect();

    let mut dq = Disqualifier::default();
    for p in pairs {
        let Some(gold) = p.gold.disqualified else {
            continue;
        };
        let pred = p.pred.disqualified.unwrap_or(false);
        match (gold, pred) {
            (true, true) => dq.tp += 1,
            (true, false) => {
                dq.fn_ += 1;
                dq.missed.push(p.id.to_string());
            }
            (false, true) => {
                dq.fp += 1;
                dq.false_alarms.push(p.id.to_string());
            }
            (false, false) => dq.tn += 1,
        }
    }
    dq.recall = ratio(dq.tp as f64, (dq.tp + dq.fn_) as f64);
    dq.precision = ratio(dq.tp as f64, (dq.tp + dq.fp) as f64);

    Metrics {
        slot_micro: row("(micro)", micro),
        slot_macro_f1: mean(&f1s),
        slots,
        joint_goal: joint,
        tier: classify(&tier, &TIERS),
        fit: classify(&fit, &LEVELS),
        intent: classify(&intent, &LEVELS),
        disqualifier: dq,
        followups: pairs
            .iter()
            .any(|p| p.gold.followups.is_some())
            .then(|| super::followups::compute(pairs)),
    }
}

impl Metrics {
    /// The headline numbers by name: what `--fail-under`, `--max-regression`
    /// and `--baseline` refer to. All are "higher is better", in 0..=1 (kappa −1..=1).
    pub fn named(&self) -> BTreeMap<String, Option<f64>> {
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: Option<f64>| {
            m.insert(k.to_string(), v);
        };
        put("slot_micro_precision", self.slot_micro.precision);
        put("slot_micro_recall", self.slot_micro.recall);
        put("slot_micro_f1", self.slot_micro.f1);
        put("slot_macro_f1", self.slot_macro_f1);
        put("joint_goal_accuracy", self.joint_goal.accuracy);
        put("tier_accuracy", self.tier.accuracy);
        put("tier_macro_f1", self.tier.macro_f1);
        put("tier_kappa", self.tier.kappa);
        put("fit_accuracy", self.fit.accuracy);
        put("intent_accuracy", self.intent.accuracy);
        put("disqualifier_recall", self.disqualifier.recall);
        put("disqualifier_precision", self.disqualifier.precision);
        if let Some(f) = &self.followups {
            put("followup_precision", f.precision);
            put("followup_recall", f.recall);
        }
        m
    }
}

/// What differs between gold and prediction, one line per expectation, e.g.
/// `tier: expected hot, got warm` or `slot budget: expected "3000", got null`.
pub fn differences(gold: &Expect, pred: &Expect, rules: &SlotRules) -> Vec<String> {
    fn show<T: std::fmt::Display>(v: Option<T>) -> String {
        v.map(|v| v.to_string()).unwrap_or_else(|| "null".into())
    }
    let mut out = Vec::new();
    if let Some(g) = gold.disqualified {
        let p = pred.disqualified.unwrap_or(false);
        if g != p {
            let what = if g {
                "MISSED DISQUALIFIER"
            } else {
                "false disqualification"
            };
            out.push(format!("disqualified: expected {g}, got {p} ({what})"));
        }
    }
    if let Some(g) = gold.tier {
        if pred.tier != Some(g) {
            out.push(format!("tier: expected {g}, got {}", show(pred.tier)));
        }
    }
    if let Some(g) = gold.fit {
        if pred.fit != Some(g) {
            out.push(format!("fit: expected {g}, got {}", show(pred.fit)));
        }
    }
    if let Some(g) = gold.intent {
        if pred.intent != Some(g) {
            out.push(format!("intent: expected {g}, got {}", show(pred.intent)));
        }
    }
    // Framework order first, then slots the framework does not know.
    let mut listed: Vec<(&String, &Value)> = gold.slots.iter().flatten().collect();
    listed.sort_by_key(|(slot, _)| {
        rules
            .order
            .iter()
            .position(|o| o == *slot)
            .unwrap_or(usize::MAX)
    });
    for (slot, g) in listed {
        let p = pred.slot(slot).unwrap_or(&Value::Null);
        let c = slot_counts(rules.kind(slot), g, Some(p));
        if c.fp > 0 || c.fn_ > 0 {
            out.push(format!(
                "slot {slot}: expected {}, got {}",
                compact(g),
                compact(p)
            ));
        }
    }
    if let Some(want) = &gold.followups {
        let got = pred.followups.as_deref().unwrap_or_default();
        out.extend(super::followups::differences(want, got));
    }
    out
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…\"", s.chars().take(78).collect::<String>())
    } else {
        s
    }
}

/// Nearest-rank percentile (`p` in 0..=100) of unsorted values.
pub fn percentile(values: &[i64], p: f64) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    Some(v[rank.clamp(1, v.len()) - 1])
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
