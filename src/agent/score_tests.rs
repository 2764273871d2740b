//! Table-driven tests of the rubric: every matrix cell, thresholds at their
//! boundaries, disqualifier override, decay, stages.

use super::*;
use crate::config::Config;
use crate::lead::EvidenceKind::{Disqualifier, Signal, Trait};

const DAY: i64 = 86_400_000;

fn setup() -> (Config, Framework) {
    (Config::example(), Framework::resolve("pif", &[]).unwrap())
}

fn ev(kind: EvidenceKind, key: &str, matched: bool, at: i64) -> EvidenceRow {
    EvidenceRow {
        kind,
        key: key.into(),
        matched,
        quote: key.into(),
        message_id: 1,
        at,
    }
}

#[test]
fn every_matrix_cell_has_its_tier_and_action() {
    let (mut c, _) = setup();
    c.offer.price = 9000.0; // high ticket: Hot books a call
    use Level::*;
    let table = [
        (High, High, Tier::Hot, "book_call"),
        (High, Medium, Tier::Warm, "nurture_and_invite"),
        (Medium, High, Tier::Warm, "send_case_study"),
        (High, Low, Tier::Cold, "long_form_nurture"),
        (Low, High, Tier::Cold, "decline_with_resource"),
        (Low, Medium, Tier::Cold, "decline_with_resource"),
        (Low, Low, Tier::Cold, "decline_with_resource"),
        (Medium, Medium, Tier::Warm, "nurture_and_invite"),
        (Medium, Low, Tier::Cold, "long_form_nurture"),
    ];
    for (fit, intent, tier, action) in table {
        assert_eq!(
            matrix(&c, fit, intent),
            (tier, action.to_string()),
            "{fit}/{intent}"
        );
    }
    c.scoring.medium_medium = "cold".into();
    assert_eq!(matrix(&c, Medium, Medium).0, Tier::Cold);
}

#[test]
fn cheap_offers_close_in_the_dm() {
    let (c, _) = setup(); // $2000 < 5000
    assert_eq!(matrix(&c, Level::High, Level::High).1, "send_payment_link");
}

#[test]
fn score_is_monotone_in_tier() {
    let levels = [Level::Low, Level::Medium, Level::High];
    let max_of = |t: Tier| {
        levels
            .iter()
            .flat_map(|&f| levels.iter().map(move |&i| number(t, f, i)))
            .max()
            .unwrap()
    };
    let min_of = |t: Tier| {
        levels
            .iter()
            .flat_map(|&f| levels.iter().map(move |&i| number(t, f, i)))
            .min()
            .unwrap()
    };
    assert!(max_of(Tier::Cold) < min_of(Tier::Warm));
    assert!(max_of(Tier::Warm) < min_of(Tier::Hot));
    assert_eq!(number(Tier::Hot, Level::High, Level::High), 100);
}

#[test]
fn fit_thresholds_at_their_boundaries() {
    let (c, fw) = setup();
    // Weights: service_business 3, revenue 2, inbound_volume 2, owner 2, no_setter 1.
    let cases = [
        // matched / known → share → level
        (
            vec![
                ("service_business", true),
                ("revenue", true),
                ("owner", false),
            ],
            Level::High,
        ), // 5/7 = 0.714
        (
            vec![
                ("service_business", true),
                ("owner", false),
                ("revenue", false),
            ],
            Level::Medium,
        ), // 3/7 = 0.43
        (
            vec![("revenue", true), ("service_business", false)],
            Level::Medium,
        ), // 2/5 = 0.4 exactly
        (
            vec![("no_setter", true), ("service_business", false)],
            Level::Low,
        ), // 1/4
        (vec![("service_business", true)], Level::Medium), // 1.0 but only one known trait
        (vec![], Level::Medium),                           // nothing known: benefit of the doubt
    ];
    for (traits, expected) in cases {
        let evidence: Vec<EvidenceRow> = traits.iter().map(|(k, m)| ev(Trait, k, *m, 0)).collect();
        let a = assess(&c, &fw, &evidence, &BTreeMap::new(), 0);
        assert_eq!(a.fit, expected, "{traits:?}");
    }
}

#[test]
fn intent_thresholds_at_their_boundaries() {
    let (c, fw) = setup();
    let cases = [
        (vec!["asked_price"], Level::Medium),                      // 3
        (vec!["asked_price", "urgent_pain"], Level::High),         // 4 exactly
        (vec!["urgent_pain", "urgent_pain"], Level::Low),          // counted once: 1
        (vec!["asked_call", "just_browsing"], Level::Low),         // 0
        (vec!["asked_price", "asked_call", "later"], Level::High), // 4
    ];
    for (signals, expected) in cases {
        let evidence: Vec<EvidenceRow> = signals.iter().map(|s| ev(Signal, s, true, 0)).collect();
        assert_eq!(
            assess(&c, &fw, &evidence, &BTreeMap::new(), 0).intent,
            expected,
            "{signals:?}"
        );
    }
}

#[test]
fn slots_give_signals_budget_timing_authority() {
    let (c, _) = setup();
    let fw = Framework::resolve("bant", &[]).unwrap();
    let slot = |v: &str| SlotValue {
        value: serde_json::json!(v),
        evidence_message_id: Some(3),
        updated_at: 0,
    };
    let slots = BTreeMap::from([
        ("budget".to_string(), slot("around $2,500 a month")),
        ("timeline".to_string(), slot("next month")),
        ("authority".to_string(), slot("I'm the owner")),
    ]);
    let a = assess(&c, &fw, &[], &slots, 0);
    let names: Vec<&str> = a.signals.iter().map(|s| s.signal.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "timing_within_horizon",
            "authority_confirmed",
            "budget_at_or_above_price"
        ]
    );
    assert_eq!(a.intent_points, 5.0);
    // A budget under the price lowers intent ("hoping for $300 a month").
    let low = BTreeMap::from([("budget".to_string(), slot("$500"))]);
    let a = assess(&c, &fw, &[], &low, 0);
    assert_eq!(a.signals[0].signal, "budget_below_price");
    assert_eq!(a.intent_points, -2.0);
    // Another currency tells nothing without a rate.
    let reais = BTreeMap::from([("budget".to_string(), slot("R$ 3 mil por mês"))]);
    assert!(assess(&c, &fw, &[], &reais, 0).signals.is_empty());
}

#[test]
fn a_disqualifier_overrides_everything() {
    let (c, fw) = setup();
    let mut evidence: Vec<EvidenceRow> = ["service_business", "revenue", "owner"]
        .iter()
        .map(|k| ev(Trait, k, true, 0))
        .collect();
    evidence.extend(
        ["asked_price", "asked_call"]
            .iter()
            .map(|s| ev(Signal, s, true, 0)),
    );
    assert_eq!(
        assess(&c, &fw, &evidence, &BTreeMap::new(), 0).tier,
        Tier::Hot
    );
    evidence.push(ev(Disqualifier, "physical_products", true, 0));
    let a = assess(&c, &fw, &evidence, &BTreeMap::new(), 0);
    assert_eq!((a.fit, a.tier), (Level::Low, Tier::Cold));
    assert_eq!(a.next_action, "decline_with_resource");
    let (stage, why) = stage(Stage::Sql, &a, 5, true);
    assert_eq!(
        (stage, why.as_str()),
        (
            Stage::Disqualified,
            "disqualifier physical_products matched: \"physical_products\""
        )
    );
}

#[test]
fn old_signals_decay_by_half_life() {
    let (c, fw) = setup(); // half-life 30 days
    let evidence = vec![
        ev(Signal, "asked_price", true, 0),
        ev(Signal, "asked_call", true, 0),
    ];
    let fresh = assess(&c, &fw, &evidence, &BTreeMap::new(), 0);
    let month = assess(&c, &fw, &evidence, &BTreeMap::new(), 30 * DAY);
    assert_eq!(fresh.intent_points, 6.0);
    assert!((month.intent_points - 3.0).abs() < 1e-9);
    assert_eq!((fresh.intent, month.intent), (Level::High, Level::Medium));
    let mut no_decay = c.clone();
    no_decay.scoring.intent_half_life_days = 0.0;
    assert_eq!(
        assess(&no_decay, &fw, &evidence, &BTreeMap::new(), 300 * DAY).intent_points,
        6.0
    );
}

#[test]
fn stages_move_forward_only() {
    let (c, fw) = setup();
    let nothing = assess(&c, &fw, &[], &BTreeMap::new(), 0);
    assert_eq!(stage(Stage::New, &nothing, 1, false).0, Stage::New);
    assert_eq!(stage(Stage::New, &nothing, 2, false).0, Stage::Engaged);
    let fit: Vec<EvidenceRow> = ["service_business", "owner"]
        .iter()
        .map(|k| ev(Trait, k, true, 0))
        .collect();
    let mql = assess(&c, &fw, &fit, &BTreeMap::new(), 0);
    assert_eq!(
        stage(Stage::Engaged, &mql, 3, false),
        (Stage::Mql, "fit high".to_string())
    );
    assert_eq!(
        stage(Stage::Mql, &mql, 3, true),
        (
            Stage::Sql,
            "all framework slots known with fit high".to_string()
        )
    );
    assert_eq!(
        stage(Stage::Sql, &nothing, 9, false).0,
        Stage::Sql,
        "no regression"
    );
    assert_eq!(
        stage(Stage::Unresponsive, &mql, 4, false).0,
        Stage::Mql,
        "a returning lead re-enters"
    );
}
