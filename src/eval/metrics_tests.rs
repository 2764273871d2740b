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
