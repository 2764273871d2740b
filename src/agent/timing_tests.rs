//! Time phrases as leads write them, in the six languages.

use super::*;

#[test]
fn deadlines_become_days_in_six_languages() {
    for (phrase, days) in [
        ("in 2 weeks", 14.0),
        ("ASAP", 1.0),
        ("Yesterday.", 1.0),
        ("next month", 30.0),
        ("in a year or so", 365.0),
        ("Monday morning", 7.0),
        ("este mês", 30.0),
        ("ainda este mês", 30.0),
        ("en dos semanas", 14.0),
        ("in den nächsten 2 Monaten", 60.0),
        ("ein paar Wochen", 21.0),
        ("le mois prochain", 30.0),
        ("aujourd'hui", 1.0),
        ("entro domani", 1.0),
        ("tra tre mesi", 90.0),
        ("l'année prochaine", 365.0),
    ] {
        assert_eq!(parse_days(phrase), Some(days), "{phrase}");
    }
    for phrase in [
        "when the time is right",
        "by March",
        "2 messages",
        "40 a week",
    ] {
        assert_eq!(parse_days(phrase), None, "{phrase}");
    }
}

#[test]
fn a_time_in_a_call_request_is_when_to_talk() {
    let said =
        "8 people, around $45k a month. What does this cost and can we book a call this week?";
    assert!(about_a_call("this week", said));
    assert!(about_a_call(
        "thursday",
        "ok that's doable. can we do a call thursday?"
    ));
    assert!(about_a_call("mañana", "Perfecto, ¿una llamada mañana?"));
    // Another clause of the same message still says when to buy.
    let said = "We want it running next month, can we talk tomorrow?";
    assert!(!about_a_call("next month", said));
    assert!(about_a_call("tomorrow", said));
    assert!(!about_a_call("next week", "not in this message"));
}

#[test]
fn the_present_is_no_deadline() {
    for v in [
        "right now I get about 8",
        "currently we use a VA",
        "actuellement nous avons 3 setters",
        "ahora mismo tengo dos clientes",
        "aujourd'hui je réponds moi-même",
    ] {
        assert!(present_state(v), "{v}");
    }
    for v in [
        "right now",
        "we need it right now",
        "now",
        "today if possible",
        "this week",
    ] {
        assert!(!present_state(v), "{v}");
    }
}
