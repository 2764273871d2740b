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

/// Per-label precision/recall/F1 of a classification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelMetrics {
    pub label: String,
    pub support: u32,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
}

/// A 3-class classification (tier, fit, intent) over the cases that label it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub labels: Vec<String>,
    /// Cases with a gold label.
    pub n: u32,
    pub correct: u32,
    /// Gold label present but nothing predicted (counted wrong).
    pub missing: u32,
    pub accuracy: Option<f64>,
    /// Rows gold, columns predicted, in `labels` order.
    pub confusion: Vec<Vec<u32>>,
    pub per_label: Vec<LabelMetrics>,
    /// Mean F1 over labels that occur in gold or predictions.
    pub macro_f1: Option<f64>,
    /// Cohen's kappa over the confusion matrix; `None` when chance agreement is 1.
    pub kappa: Option<f64>,
}

pub fn classify<T: Copy + PartialEq + std::fmt::Display>(
    pairs: &[(T, Option<T>)],
    labels: &[T],
) -> ClassMetrics {
    let k = labels.len();
    let index = |t: T| {
        labels
            .iter()
            .position(|l| *l == t)
            .expect("label in the label set")
    };
    let mut confusion = vec![vec![0u32; k]; k];
    let mut missing = 0;
    let mut correct = 0;
    for (gold, pred) in pairs {
        match pred {
            Some(p) => {
                confusion[index(*gold)][index(*p)] += 1;
                if p == gold {
                    correct += 1;
                }
            }
            None => missing += 1,
        }
    }
    let n = pairs.len() as u32;
    let mut per_label = Vec::new();
    let mut f1s = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let tp = confusion[i][i];
        let row: u32 = confusion[i].iter().sum();
        let col: u32 = confusion.iter().map(|r| r[i]).sum();
        let missed = pairs
            .iter()
            .filter(|(g, p)| *g == *label && p.is_none())
            .count() as u32;
        let c = Counts {
            tp,
            fp: col - tp,
            fn_: row - tp + missed,
        };
        if let Some(f) = c.f1() {
            f1s.push(f);
        }
        per_label.push(LabelMetrics {
            label: label.to_string(),
            support: row + missed,
            precision: c.precision(),
            recall: c.recall(),
            f1: c.f1(),
        });
    }
    ClassMetrics {
        labels: labels.iter().map(|l| l.to_string()).collect(),
        n,
        correct,
        missing,
        accuracy: ratio(correct as f64, n as f64),
        macro_f1: mean(&f1s),
        kappa: kappa(&confusion),
        confusion,
        per_label,
    }
}

pub fn mean(xs: &[f64]) -> Option<f64> {
    ratio(xs.iter().sum(), xs.len() as f64)
}

/// Cohen's kappa: (p_o − p_e) / (1 − p_e).
pub fn kappa(confusion: &[Vec<u32>]) -> Option<f64> {
    let n: u32 = confusion.iter().flatten().sum();
    if n == 0 {
        return None;
    }
    let n = n as f64;
    let k = confusion.len();
    let po = (0..k).map(|i| confusion[i][i] as f64).sum::<f64>() / n;
    let pe = (0..k)
        .map(|i| {
            let row: u32 = confusion[i].iter().sum();
            let col: u32 = confusion.iter().map(|r| r[i]).sum();
            row as f64 * col as f64
        })
        .sum::<f64>()
        / (n * n);
    ((1.0 - pe).abs() > 1e-12).then(|| (po - pe) / (1.0 - pe))
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
mod tests {
    use super::*;
    use serde_json::json;

    fn rules() -> SlotRules {
        let mut r = SlotRules::default();
        for (s, k) in [
            ("pain", MatchKind::FreeText),
            ("budget", MatchKind::Numeric),
            ("urgent", MatchKind::Exact),
        ] {
            r.order.push(s.into());
            r.kinds.insert(s.into(), k);
        }
        r
    }

    fn expect(v: Value) -> Expect {
        serde_json::from_value(v).unwrap()
    }

    fn close(a: Option<f64>, b: f64) {
        let a = a.expect("defined");
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn values_match_normalised_numeric_and_free_text() {
        use MatchKind::*;
        assert!(values_match(Exact, &json!("  Yes "), &json!("yes")));
        assert!(!values_match(Exact, &json!("yes"), &json!("yes please")));
        assert!(values_match(
            Numeric,
            &json!("$3k/month"),
            &json!("3000 per month")
        ));
        assert!(values_match(Numeric, &json!("2000"), &json!(2090)));
        assert!(!values_match(Numeric, &json!("2000"), &json!(2200)));
        // Numeric slots decide by amount, never by substring: 30000 is not 3000.
        assert!(!values_match(Numeric, &json!("3000"), &json!("$30000")));
        assert!(values_match(
            Numeric,
            &json!("no budget"),
            &json!("No budget right now")
        ));
        assert!(values_match(
            FreeText,
            &json!("not enough leads"),
            &json!("Not enough   leads from Instagram")
        ));
        assert!(!values_match(FreeText, &json!("no"), &json!("no idea")));
        assert!(!values_match(FreeText, &json!(null), &json!(null)));
        // JSON numbers compare numerically whatever the slot.
        assert!(values_match(Exact, &json!(100), &json!(103)));
    }

    #[test]
    fn slot_counts_cover_the_four_cases() {
        let k = MatchKind::FreeText;
        assert_eq!(
            slot_counts(k, &json!("x y z"), Some(&json!("X Y Z"))),
            Counts {
                tp: 1,
                fp: 0,
                fn_: 0
            }
        );
        assert_eq!(
            slot_counts(k, &json!("abc"), Some(&json!("xyz"))),
            Counts {
                tp: 0,
                fp: 1,
                fn_: 1
            }
        );
        assert_eq!(
            slot_counts(k, &json!("abc"), None),
            Counts {
                tp: 0,
                fp: 0,
                fn_: 1
            }
        );
        assert_eq!(
            slot_counts(k, &json!(null), Some(&json!("abc"))),
            Counts {
                tp: 0,
                fp: 1,
                fn_: 0
            }
        );
        assert_eq!(
            slot_counts(k, &json!(null), Some(&json!(""))),
            Counts::default()
        );
    }

    #[test]
    fn hand_computed_example() {
        // Case a: pain right, budget wrong (fp+fn), tier hot→hot, dq false/false.
        // Case b: pain missed (fn), budget null but predicted (fp), tier warm→hot, dq true/false (missed).
        // Case c: pain right, tier cold→cold, dq true/true; no budget listed.
        let ga = expect(
            json!({"slots": {"pain": "slow leads", "budget": "2000"}, "tier": "hot", "disqualified": false}),
        );
        let pa = expect(
            json!({"slots": {"pain": "slow leads", "budget": "500"}, "tier": "hot", "disqualified": false}),
        );
        let gb = expect(
            json!({"slots": {"pain": "no time", "budget": null}, "tier": "warm", "disqualified": true}),
        );
        let pb = expect(json!({"slots": {"budget": "1000"}, "tier": "hot", "disqualified": false}));
        let gc = expect(
            json!({"slots": {"pain": "ads"}, "tier": "cold", "disqualified": true, "fit": "low"}),
        );
        let pc = expect(
            json!({"slots": {"pain": "ADS"}, "tier": "cold", "disqualified": true, "fit": "medium"}),
        );
        let pairs = [
            Pair {
                id: "a",
                gold: &ga,
                pred: &pa,
            },
            Pair {
                id: "b",
                gold: &gb,
                pred: &pb,
            },
            Pair {
                id: "c",
                gold: &gc,
                pred: &pc,
            },
        ];
        let m = compute(&pairs, &rules());
        // pain: tp 2, fn 1 → P 1, R 2/3, F1 4/5. budget: tp 0, fp 2, fn 1 → P 0, R 0, F1 0.
        assert_eq!(m.slots.len(), 2);
        assert_eq!(
            m.slots[0].counts,
            Counts {
                tp: 2,
                fp: 0,
                fn_: 1
            }
        );
        close(m.slots[0].f1, 0.8);
        assert_eq!(
            m.slots[1].counts,
            Counts {
                tp: 0,
                fp: 2,
                fn_: 1
            }
        );
        close(m.slots[1].f1, 0.0);
        // micro: tp 2, fp 2, fn 2 → P R F1 all 0.5; macro F1 (0.8 + 0) / 2.
        close(m.slot_micro.precision, 0.5);
        close(m.slot_micro.recall, 0.5);
        close(m.slot_micro.f1, 0.5);
        close(m.slot_macro_f1, 0.4);
        // joint goal: only c is fully right.
        assert_eq!((m.joint_goal.n, m.joint_goal.correct), (3, 1));
        // tier: 2 of 3 right; confusion rows gold (hot, warm, cold).
        close(m.tier.accuracy, 2.0 / 3.0);
        assert_eq!(
            m.tier.confusion,
            vec![vec![1, 0, 0], vec![1, 0, 0], vec![0, 0, 1]]
        );
        // per tier F1: hot 2/3, warm 0, cold 1 → macro 5/9.
        close(m.tier.macro_f1, 5.0 / 9.0);
        // kappa: po 2/3, pe (1·2 + 1·0 + 1·1)/9 = 1/3 → (2/3 − 1/3)/(2/3) = 0.5.
        close(m.tier.kappa, 0.5);
        close(m.fit.accuracy, 0.0);
        assert_eq!(m.intent.accuracy, None);
        // disqualifier: tp 1 (c), fn 1 (b) → recall 0.5, precision 1.
        close(m.disqualifier.recall, 0.5);
        close(m.disqualifier.precision, 1.0);
        assert_eq!(m.disqualifier.missed, vec!["b"]);
        let d = differences(&gb, &pb, &rules());
        assert_eq!(
            d,
            vec![
                "disqualified: expected true, got false (MISSED DISQUALIFIER)",
                "tier: expected warm, got hot",
                "slot pain: expected \"no time\", got null",
                "slot budget: expected null, got \"1000\"",
            ]
        );
    }

    #[test]
    fn degenerate_inputs_give_none_not_nonsense() {
        // No cases at all.
        let m = compute(&[], &rules());
        assert!(m.slots.is_empty());
        assert_eq!(m.slot_micro.f1, None);
        assert_eq!(m.slot_macro_f1, None);
        assert_eq!(m.joint_goal.accuracy, None);
        assert_eq!(m.tier.accuracy, None);
        assert_eq!(m.tier.kappa, None);
        assert_eq!(m.disqualifier.recall, None);
        // All gold slots null and nothing predicted: every case jointly right,
        // but P/R/F1 are undefined (nothing to find, nothing found).
        let g = expect(json!({"slots": {"pain": null, "budget": null}, "tier": "cold"}));
        let p = expect(json!({"slots": {}, "tier": "cold"}));
        let m = compute(
            &[Pair {
                id: "x",
                gold: &g,
                pred: &p,
            }],
            &rules(),
        );
        assert_eq!(m.slot_micro.precision, None);
        assert_eq!(m.slot_micro.recall, None);
        assert_eq!(m.slot_micro.f1, None);
        close(m.joint_goal.accuracy, 1.0);
        // One class everywhere: accuracy 1, chance agreement 1 → kappa undefined.
        close(m.tier.accuracy, 1.0);
        assert_eq!(m.tier.kappa, None);
        close(m.tier.macro_f1, 1.0);
        // Missing predictions count as wrong.
        let p = expect(json!({}));
        let m = compute(
            &[Pair {
                id: "x",
                gold: &g,
                pred: &p,
            }],
            &rules(),
        );
        close(m.tier.accuracy, 0.0);
        assert_eq!(m.tier.missing, 1);
        assert_eq!(m.tier.kappa, None);
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 95.0), Some(7));
        let v: Vec<i64> = (1..=20).rev().collect();
        assert_eq!(percentile(&v, 50.0), Some(10));
        assert_eq!(percentile(&v, 95.0), Some(19));
        assert_eq!(percentile(&v, 100.0), Some(20));
    }
}
