//! `setter report calibration` on a generated set of 60 leads with known
//! tiers, scores, signals and outcomes, built through the store: every figure
//! is checked against a hand computation written here (fractions and
//! literals), never against the module's own arithmetic.

mod common;

use common::{setter_async, Env, Stub};
use serde_json::Value;
use setter::calibration::{self, Calibration};
use setter::lead::{Channel, EvidenceKind, LeadOutcome, Level, OutcomeSource, Stage, Tier};
use setter::llm::Usage;
use setter::store::{
    Batch, EvidenceRow, Lead, NewLead, NewOutcome, ScoreRow, Store, TurnCommit, TurnSaved,
};

use LeadOutcome::{Booked, Lost, Paid, Showed, Won};

/// `count` leads alike: their tier, score, the signals that counted, and
/// what the closer reported.
struct Group {
    count: usize,
    tier: Tier,
    score: i64,
    signals: &'static [&'static str],
    outcomes: &'static [LeadOutcome],
}

const GROUPS: [Group; 8] = [
    Group {
        count: 12,
        tier: Tier::Hot,
        score: 85,
        signals: &["asked_price", "budget_at_or_above_price"],
        outcomes: &[Booked, Showed, Won],
    },
    Group {
        count: 4,
        tier: Tier::Hot,
        score: 100,
        signals: &["asked_price", "asked_call"],
        outcomes: &[Booked, Lost],
    },
    Group {
        count: 4,
        tier: Tier::Hot,
        score: 78,
        signals: &["asked_price"],
        outcomes: &[Lost],
    },
    Group {
        count: 6,
        tier: Tier::Warm,
        score: 55,
        signals: &["asked_call"],
        outcomes: &[Paid],
    },
    Group {
        count: 9,
        tier: Tier::Warm,
        score: 47,
        signals: &["timing_within_horizon"],
        outcomes: &[Booked],
    },
    Group {
        count: 10,
        tier: Tier::Warm,
        score: 62,
        signals: &["just_browsing"],
        outcomes: &[Lost],
    },
    Group {
        count: 3,
        tier: Tier::Cold,
        score: 20,
        signals: &["urgent_pain", "just_browsing"],
        outcomes: &[Booked],
    },
    Group {
        count: 12,
        tier: Tier::Cold,
        score: 10,
        signals: &["no_budget", "just_browsing", "timing_within_horizon"],
        outcomes: &[Lost],
    },
];

/// Outcomes are reported at this time; scores before it are predictions.
const REPORTED_AT: i64 = 1_000_000;

async fn new_lead(store: &Store, n: usize) -> Lead {
    let new = NewLead {
        channel: Channel::Webchat,
        external_id: format!("cal-{n}"),
        name: None,
        source: None,
        account_id: None,
    };
    store.lead_for(&new, 0).await.unwrap()
}

/// One scored turn: a lead message at `at`, then the score.
async fn scored(
    store: &Store,
    lead: &Lead,
    turn: i64,
    at: i64,
    tier: Tier,
    score: i64,
    signals: &[&str],
) {
    let batch = Batch::message(NewLead::of(lead), None, format!("message {turn}"), at);
    let inbound = store.accept(&batch, at).await.unwrap().message_ids[0];
    let commit = TurnCommit {
        lead_id: lead.id.clone(),
        turn,
        inbound_id: inbound,
        seen_latest_inbound: inbound,
        reply: Some("ok".into()),
        via_outbox: false,
        channel: lead.channel,
        slots: vec![],
        // Keyword signals leave evidence too (the fallback for old scores).
        evidence: signals
            .iter()
            .map(|s| EvidenceRow {
                kind: EvidenceKind::Signal,
                key: s.to_string(),
                matched: true,
                quote: "q".into(),
                message_id: inbound,
                at,
            })
            .collect(),
        score: Some(ScoreRow {
            message_id: Some(inbound),
            fit: Level::Medium,
            intent: Level::Medium,
            tier,
            score,
            stage: Stage::Engaged,
            next_action: "x".into(),
            reason: "generated".into(),
            signals: signals.iter().map(|s| s.to_string()).collect(),
            at,
        }),
        stage_change: None,
        asked_slot: None,
        action: "ask".into(),
        guard: None,
        usage: Usage::default(),
        cost_usd: 0.0,
        latency_ms: 1,
        at,
        now: at,
        followups: vec![],
        opt_out: false,
        payment_link_sent: false,
    };
    assert!(matches!(
        store.commit_turn(&commit).await.unwrap(),
        TurnSaved::Saved { .. }
    ));
}

async fn report(store: &Store, outcome: LeadOutcome, lead: &Lead, at: i64) {
    let new = NewOutcome {
        lead_id: &lead.id,
        outcome,
        value: None,
        currency: "USD",
        note: None,
        source: OutcomeSource::Cli,
    };
    store.record_outcome(&new, at).await.unwrap();
}

/// The 60 leads, plus leads the report must ignore.
async fn generate(store: &Store, db_url: &str) {
    let mut n = 0;
    for g in &GROUPS {
        for _ in 0..g.count {
            n += 1;
            let lead = new_lead(store, n).await;
            // An early, different score first: the report reads the newest
            // score before the outcome, not the first one.
            scored(store, &lead, 1, 100, Tier::Cold, 0, &[]).await;
            scored(store, &lead, 2, 200, g.tier, g.score, g.signals).await;
            for (i, o) in g.outcomes.iter().enumerate() {
                report(store, *o, &lead, REPORTED_AT + i as i64).await;
            }
        }
    }
    // Learned after the outcome, not predicted before it: not counted.
    let late = new_lead(store, 1).await; // cal-1 again: the same lead
    scored(
        store,
        &late,
        3,
        REPORTED_AT + 500,
        Tier::Cold,
        0,
        &["no_budget"],
    )
    .await;
    // Scored before signals were stored: the evidence stands in for them.
    let old = new_lead(store, 13).await; // the first of the 100-point group
    let pool = sqlx::SqlitePool::connect(db_url).await.unwrap();
    sqlx::query("UPDATE scores SET signals = NULL WHERE lead_id = ?")
        .bind(&old.id)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    // No outcome, or no score: left out.
    let quiet = new_lead(store, 1000).await;
    scored(store, &quiet, 1, 100, Tier::Hot, 100, &["asked_price"]).await;
    let unscored = new_lead(store, 1001).await;
    report(store, Won, &unscored, REPORTED_AT).await;
}

/// (leads, of which booked).
type Counts = (usize, usize);

/// `leads` leads of which `hits` reached the outcome, at the rate hits/leads.
fn assert_rate(what: &str, r: &calibration::Rate, leads: usize, hits: usize, rate: Option<f64>) {
    assert_eq!((r.leads, r.hits), (leads, hits), "{what}");
    match (r.rate, rate) {
        (Some(got), Some(want)) => assert!((got - want).abs() < 1e-9, "{what}: {got} != {want}"),
        (got, want) => assert_eq!(got, want, "{what}"),
    }
}

fn assert_close(what: &str, got: Option<f64>, want: Option<f64>) {
    match (got, want) {
        (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "{what}: {g} != {w}"),
        _ => assert_eq!(got, want, "{what}"),
    }
}

async fn setup() -> (Env, Store, Calibration) {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let url = env.loaded().storage_url();
    let store = Store::open(&url).await.unwrap();
    generate(&store, &url).await;
    let samples = store.calibration_samples().await.unwrap();
    let weights = &env.loaded().config.scoring.signals;
    let report = calibration::compute(&samples, weights, calibration::DEFAULT_MIN_COUNT);
    (env, store, report)
}

#[tokio::test]
async fn every_figure_matches_the_hand_computation() {
    let (_env, _store, c) = setup().await;
    // 12+4+4 Hot, 6+9+10 Warm, 3+12 Cold; booked or better: 16 + 15 + 3.
    assert_eq!((c.leads, c.booked, c.min_count), (60, 34, 20));

    // (a) per tier. Hot: groups 1–2 booked (16), group 1 won (12).
    let tiers: Vec<Tier> = c.tiers.iter().map(|t| t.tier).collect();
    assert_eq!(tiers, [Tier::Hot, Tier::Warm, Tier::Cold]);
    assert_rate("hot booked", &c.tiers[0].booked, 20, 16, Some(16.0 / 20.0));
    assert_rate("hot won", &c.tiers[0].won, 20, 12, Some(12.0 / 20.0));
    // Warm: paid (6) and booked (9); paid is a sale.
    assert_rate("warm booked", &c.tiers[1].booked, 25, 15, Some(15.0 / 25.0));
    assert_rate("warm won", &c.tiers[1].won, 25, 6, Some(6.0 / 25.0));
    assert_rate("cold booked", &c.tiers[2].booked, 15, 3, Some(3.0 / 15.0));
    assert_rate("cold won", &c.tiers[2].won, 15, 0, Some(0.0));
    let few: Vec<bool> = c.tiers.iter().map(|t| t.too_few).collect();
    assert_eq!(few, [false, false, true], "cold has 15 < 20 leads");

    // (b) per signal: (name, weight, with leads/booked, without leads/booked).
    let expected: [(&str, f64, Counts, Counts); 10] = [
        ("asked_price", 3.0, (20, 16), (40, 18)),
        ("asked_call", 3.0, (10, 10), (50, 24)),
        ("timing_within_horizon", 2.0, (21, 9), (39, 25)),
        ("budget_at_or_above_price", 2.0, (12, 12), (48, 22)),
        ("budget_below_price", -2.0, (0, 0), (60, 34)),
        ("authority_confirmed", 1.0, (0, 0), (60, 34)),
        ("urgent_pain", 1.0, (3, 3), (57, 31)),
        ("just_browsing", -3.0, (25, 3), (35, 31)),
        ("no_budget", -3.0, (12, 0), (48, 34)),
        ("later", -2.0, (0, 0), (60, 34)),
    ];
    assert_eq!(c.signals.len(), expected.len());
    for (row, (name, weight, (wl, wb), (ol, ob))) in c.signals.iter().zip(expected) {
        assert_eq!((row.signal.as_str(), row.weight), (name, weight));
        let with = (wl > 0).then(|| wb as f64 / wl as f64);
        let without = ob as f64 / ol as f64;
        assert_rate(name, &row.with, wl, wb, with);
        assert_rate(name, &row.without, ol, ob, Some(without));
        assert_eq!(row.too_few, wl < 20 || ol < 20, "{name}");
    }
    let lift = |name: &str| c.signals.iter().find(|s| s.signal == name).unwrap().lift;
    assert_close(
        "asked_price",
        lift("asked_price"),
        Some((16.0 / 20.0) / (18.0 / 40.0)),
    );
    assert_close("asked_call", lift("asked_call"), Some(1.0 / (24.0 / 50.0)));
    assert_close(
        "timing",
        lift("timing_within_horizon"),
        Some((9.0 / 21.0) / (25.0 / 39.0)),
    );
    assert_close(
        "just_browsing",
        lift("just_browsing"),
        Some((3.0 / 25.0) / (31.0 / 35.0)),
    );
    assert_close("no_budget", lift("no_budget"), Some(0.0));
    assert_close("authority", lift("authority_confirmed"), None);

    // (c) reliability: deciles; scores 85, 100, 78, 55, 47, 62, 20, 10.
    let buckets: Vec<(i64, i64, usize, usize)> = c
        .buckets
        .iter()
        .map(|b| (b.from, b.to, b.booked.leads, b.booked.hits))
        .collect();
    assert_eq!(
        buckets,
        [
            (0, 9, 0, 0),
            (10, 19, 12, 0),
            (20, 29, 3, 3),
            (30, 39, 0, 0),
            (40, 49, 9, 9),
            (50, 59, 6, 6),
            (60, 69, 10, 0),
            (70, 79, 4, 0),
            (80, 89, 12, 12),
            (90, 100, 4, 4),
        ]
    );
    assert_eq!(c.buckets[0].booked.rate, None);
    assert_rate("90–100", &c.buckets[9].booked, 4, 4, Some(1.0));
    assert!(c.buckets.iter().all(|b| b.too_few == (b.booked.leads > 0)));

    // (d) warnings name every row under 20.
    assert_eq!(
        c.warnings,
        [
            "tiers with fewer than 20 leads (marked *), not to be trusted yet: cold (15)",
            "signals with fewer than 20 leads (marked *), not to be trusted yet: asked_call (10 with, 50 without), \
             budget_at_or_above_price (12 with, 48 without), budget_below_price (0 with, 60 without), \
             authority_confirmed (0 with, 60 without), \
             urgent_pain (3 with, 57 without), no_budget (12 with, 48 without), later (0 with, 60 without)",
            "score buckets with fewer than 20 leads (marked *), not to be trusted yet: 10–19 (12), 20–29 (3), \
             40–49 (9), 50–59 (6), 60–69 (10), 70–79 (4), 80–89 (12), 90–100 (4)",
        ]
    );

    // (e) suggestions: w × clamp(1 + sign(w)·ln(lift), 0, 2), to 0.1.
    // asked_price: 3 × (1 + ln 1.7778 = 1.5754) = 4.726 → 4.7
    // timing:      2 × (1 + ln 0.66857 = 0.59738) = 1.1948 → 1.2
    // just_browsing: −3 × clamp(1 − ln 0.13548 = 2.999, 0, 2) = −6
    // the rest: too few leads, kept.
    let suggested: Vec<(&str, f64)> = c
        .suggested
        .iter()
        .map(|s| (s.signal.as_str(), s.suggested))
        .collect();
    assert_eq!(
        suggested,
        [
            ("asked_price", 4.7),
            ("asked_call", 3.0),
            ("timing_within_horizon", 1.2),
            ("budget_at_or_above_price", 2.0),
            ("budget_below_price", -2.0),
            ("authority_confirmed", 1.0),
            ("urgent_pain", 1.0),
            ("just_browsing", -6.0),
            ("no_budget", -3.0),
            ("later", -2.0),
        ]
    );
    assert!(c.suggested[1]
        .why
        .starts_with("kept: too few leads (10 with, 50 without"));
    assert_eq!(
        c.suggested[0].why,
        "lift 1.78: booked 16/20 with, 18/40 without"
    );
}

/// What an operator reads, pinned; and the same report from the binary, in
/// every format.
#[tokio::test(flavor = "multi_thread")]
async fn the_report_reads_as_pinned_in_every_format() {
    let (env, store, c) = setup().await;
    let text = calibration::render_text(&c);
    insta::assert_snapshot!(text);
    store.close().await;
    let dir = env.dir.path();
    let (code, out, err) = setter_async(dir, &["report", "calibration"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, text);
    let (code, out, _) = setter_async(dir, &["report", "calibration", "--json"]).await;
    assert_eq!(code, 0);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (json["leads"].as_u64(), json["booked"].as_u64()),
        (Some(60), Some(34))
    );
    assert_eq!(json["tiers"][0]["tier"], "hot");
    assert_eq!(json["suggested"][0]["suggested"], 4.7);
    let (code, html, _) = setter_async(dir, &["report", "calibration", "--html"]).await;
    assert_eq!(code, 0);
    assert!(
        html.starts_with("<!doctype html>") && html.contains("<tr class=\"few\"><td>cold</td>"),
        "{html}"
    );
    // A lower bar: fewer warnings, and the suggestion for asked_call is made.
    let (_, out, _) = setter_async(
        dir,
        &["report", "calibration", "--json", "--min-count", "10"],
    )
    .await;
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["tiers"][2]["too_few"], false);
    assert_ne!(json["suggested"][1]["suggested"], 3.0);
    let (code, _, err) = setter_async(dir, &["report", "calibration", "--min-count", "0"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("--min-count"), "{err}");
}

#[tokio::test]
async fn with_no_outcomes_the_report_says_how_to_record_them() {
    let c = calibration::compute(&[], &Default::default(), 20);
    assert_eq!(c.leads, 0);
    assert!(
        c.warnings[0].contains("setter outcome ID"),
        "{:?}",
        c.warnings
    );
    assert!(c.tiers.iter().all(|t| t.booked.rate.is_none()));
    assert!(c.suggested.iter().all(|s| s.suggested == s.current));
}
