//! The role checks on values a 1.5B model really wrote (issue 22).

use super::*;
use serde_json::json;

#[test]
fn a_timeline_says_when_in_six_languages() {
    for v in [
        "in 2 weeks",
        "Monday morning",
        "yesterday",
        "asap",
        "este mês",
        "más tarde",
        "nächste Woche",
        "le mois prochain",
        "entro domani",
        "by 5pm",
    ] {
        assert!(says_when(v), "{v}");
    }
    for v in [
        "instagram",
        "fill my calendar with discovery calls",
        "10-15 a week",
        "$3k per month",
    ] {
        assert!(!says_when(v), "{v}");
    }
}

#[test]
fn a_question_is_not_a_pain_and_one_phrase_fills_one_slot() {
    let fw = Framework::resolve("pif", &[]).unwrap();
    let said =
        "we're a small video production company. can we set up a call?\nHow much do you charge";
    let mut slots = BTreeMap::from([
        (
            "business".to_string(),
            json!("small video production company"),
        ),
        (
            "pain".to_string(),
            json!("we're a small video production company"),
        ),
        ("desired_outcome".to_string(), json!("set up a call")),
        ("timeline".to_string(), json!("video production")),
    ]);
    let mut dropped = drop_implausible(&fw, &mut slots, &BTreeMap::new(), said);
    dropped.sort();
    assert_eq!(dropped, vec!["desired_outcome", "pain", "timeline"]);
    assert_eq!(slots.keys().collect::<Vec<_>>(), vec!["business"]);
    // A reason to wait is no pain; a request is no pain.
    for (v, pain) in [
        ("not right now", true),
        ("no budget", true),
        ("solo mirando por ahora", false),
    ] {
        assert!(holds_back(v, pain), "{v}");
    }
    assert!(holds_back("I'd rather see the demo first", true));
    assert!(!holds_back("book more discovery calls", false));
    assert!(!holds_back("we miss calls at night", true));
    // A DM's question often has no "?".
    assert!(asked("how much do you charge", said));
    assert!(!asked("small video production company", said));
    // A pain outranks an outcome; a known value keeps its words.
    let mut slots = BTreeMap::from([
        ("pain".to_string(), json!("intake team is slow")),
        ("desired_outcome".to_string(), json!("intake team is slow")),
    ]);
    let known = BTreeMap::new();
    assert_eq!(
        drop_implausible(&fw, &mut slots, &known, "our intake team is slow"),
        vec!["desired_outcome"]
    );
    let known = BTreeMap::from([("business".to_string(), json!("law firm"))]);
    let mut slots = BTreeMap::from([("pain".to_string(), json!("law firm"))]);
    assert_eq!(
        drop_implausible(&fw, &mut slots, &known, "a law firm"),
        vec!["pain"]
    );
}

#[test]
fn a_greeting_is_no_fact_in_any_field() {
    let fw = Framework::resolve("pif", &[]).unwrap();
    let said = "hello\nwe're a law firm, we run Facebook Ads into Messenger";
    let mut slots = BTreeMap::from([
        ("pain".to_string(), json!("hello")),
        ("business".to_string(), json!("law firm")),
    ]);
    let dropped = drop_implausible(&fw, &mut slots, &BTreeMap::new(), said);
    assert_eq!(dropped, vec!["pain"]);
    assert_eq!(slots.keys().collect::<Vec<_>>(), vec!["business"]);
}

#[test]
fn a_phrase_put_in_every_field_does_not_replace_what_the_lead_said() {
    let fw = Framework::resolve("pif", &[]).unwrap();
    let newest = "I'm the owner, it's my call";
    let known = BTreeMap::from([
        ("business".to_string(), json!("roofing company")),
        ("pain".to_string(), json!("miss calls at night")),
    ]);
    let mut slots: BTreeMap<String, Value> = ["business", "pain", "desired_outcome"]
        .iter()
        .map(|k| (k.to_string(), json!(newest)))
        .collect();
    let mut dropped = drop_implausible(&fw, &mut slots, &known, newest);
    dropped.sort();
    assert_eq!(dropped, vec!["business", "desired_outcome", "pain"]);
    // In two fields it is an ordinary conflict: the higher role keeps it.
    let mut slots: BTreeMap<String, Value> = ["business", "pain"]
        .iter()
        .map(|k| (k.to_string(), json!("we're a physio clinic")))
        .collect();
    let said = "we're a physio clinic";
    assert_eq!(
        drop_implausible(&fw, &mut slots, &BTreeMap::new(), said),
        vec!["pain"]
    );
    // Nothing known: the phrase still goes to the field whose role claims it first.
    let mut slots: BTreeMap<String, Value> = ["business", "pain", "desired_outcome"]
        .iter()
        .map(|k| (k.to_string(), json!(said)))
        .collect();
    drop_implausible(&fw, &mut slots, &BTreeMap::new(), said);
    assert_eq!(slots.keys().collect::<Vec<_>>(), vec!["business"]);
}

#[test]
fn an_introduction_is_no_plan_and_an_authority_names_someone() {
    for v in [
        "I'm a business coach",
        "somos una clínica dental",
        "ich bin ein Coach",
    ] {
        assert!(introduces(v), "{v}");
    }
    for v in [
        "I'm planning to hire a VA",
        "we are losing leads",
        "a coach",
    ] {
        assert!(!introduces(v), "{v}");
    }
    assert!(misplaced(SlotRole::Other, "I'm a business coach", ""));
    assert!(!misplaced(SlotRole::Fit, "I'm a business coach", ""));
    assert!(misplaced(SlotRole::Authority, "the next step", ""));
    for v in [
        "managing partner",
        "I make the call",
        "mi socio y yo",
        "la directrice",
    ] {
        assert!(!misplaced(SlotRole::Authority, v, ""), "{v}");
    }
}
