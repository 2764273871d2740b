use super::*;
use crate::eval::case::Expect;

fn step(ladder: u32, step: u32, state: JobState) -> FollowupStep {
    FollowupStep {
        ladder,
        step,
        state,
        at: None,
        reason: None,
        template: None,
    }
}

fn sent(ladder: u32, n: u32, at: &str) -> FollowupStep {
    FollowupStep {
        at: Some(Offset::parse(at).unwrap()),
        template: Some(false),
        ..step(ladder, n, JobState::Sent)
    }
}

#[test]
fn offsets_parse_in_every_unit_and_print_back() {
    assert_eq!(Offset::parse("+0s"), Ok(Offset(0)));
    assert_eq!(Offset::parse("+3s"), Ok(Offset(3_000)));
    assert_eq!(Offset::parse("15m"), Ok(Offset(900_000)));
    assert_eq!(Offset::parse("+26h"), Ok(Offset(26 * 3_600_000)));
    assert_eq!(Offset::parse("+1d2h"), Ok(Offset(26 * 3_600_000)));
    assert_eq!(Offset(26 * 3_600_000).to_string(), "+1d2h");
    assert_eq!(Offset(0).to_string(), "+0s");
    for bad in ["", "+", "26", "+26x", "+h", "+1.5h"] {
        let e = Offset::parse(bad).unwrap_err();
        assert!(e.contains("+26h"), "{bad}: {e}");
    }
}

#[test]
fn an_offset_in_a_case_is_checked_when_the_case_is_read() {
    let bad: Result<FollowupStep, _> =
        serde_json::from_str(r#"{"step": 1, "state": "sent", "at": "+1 hour"}"#);
    assert!(bad.unwrap_err().to_string().contains("not an offset"));
    let bad: Result<FollowupStep, _> = serde_json::from_str(r#"{"step": 1, "state": "posted"}"#);
    assert!(bad.is_err());
}

#[test]
fn differences_explain_each_miss_and_each_unexpected_send() {
    let gold = vec![
        sent(1, 1, "+1h"),
        FollowupStep {
            reason: Some(JobReason::Window),
            ..step(1, 2, JobState::Skipped)
        },
    ];
    let pred = vec![sent(1, 1, "+2h"), sent(1, 2, "+25h"), sent(1, 3, "+3d")];
    let d = differences(&gold, &pred);
    assert_eq!(
        d,
        vec![
            "follow-up 1.1: expected sent at +1h, got sent at +2h",
            "follow-up 1.2: expected skipped (window), got sent at +1d1h",
            "follow-up 1.3: sent at +3d, but the case does not expect it",
        ]
    );
    assert!(differences(&gold[..1], &[sent(1, 1, "+1h")]).is_empty());
}

#[test]
fn precision_and_recall_match_a_hand_count() {
    // Case a: gold sends 1.1 and 1.2; run sends 1.1 (right), 1.2 at the wrong
    // time, and 1.3 (unexpected). Case b: gold sends 2.1; run sends nothing.
    // tp = 1 (a 1.1); fp = 2 (a 1.2 late, a 1.3); fn = 2 (a 1.2, b 2.1).
    let a_gold = Expect {
        followups: Some(vec![sent(1, 1, "+1h"), sent(1, 2, "+24h")]),
        ..Expect::default()
    };
    let a_pred = Expect {
        followups: Some(vec![
            sent(1, 1, "+1h"),
            sent(1, 2, "+25h"),
            sent(1, 3, "+3d"),
        ]),
        ..Expect::default()
    };
    let b_gold = Expect {
        followups: Some(vec![sent(2, 1, "+2d")]),
        ..Expect::default()
    };
    let b_pred = Expect {
        followups: Some(vec![step(2, 1, JobState::Cancelled)]),
        ..Expect::default()
    };
    let no_gold = Expect::default();
    let pairs = [
        Pair {
            id: "a",
            gold: &a_gold,
            pred: &a_pred,
        },
        Pair {
            id: "b",
            gold: &b_gold,
            pred: &b_pred,
        },
        Pair {
            id: "c",
            gold: &no_gold,
            pred: &a_pred,
        },
    ];
    let m = compute(&pairs);
    assert_eq!(m.cases, 2);
    assert_eq!((m.counts.tp, m.counts.fp, m.counts.fn_), (1, 2, 2));
    assert_eq!(m.precision, Some(1.0 / 3.0));
    assert_eq!(m.recall, Some(1.0 / 3.0));
}
