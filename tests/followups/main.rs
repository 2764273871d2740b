//! Follow-ups on a virtual clock: the ladder is scheduled with each reply,
//! counted from the lead's last message, sent once when due, cancelled by
//! the lead's next message or a takeover, and skipped — with the reason —
//! outside a platform's 24 h window.

#[path = "../common/mod.rs"]
mod common;

use common::{new_lead, Env, Stub};
use setter::agent::{Agent, Inbound};
use setter::clock::ManualClock;
use setter::lead::{Channel, JobReason};
use setter::scheduler::Scheduler;
use setter::store::{Lead, NewLead};
use std::sync::Arc;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const T0: i64 = 1_764_000_000_000;

fn scheduler(agent: &Agent) -> Scheduler {
    Scheduler::new(
        agent.store().clone(),
        agent.prompts().clone(),
        Arc::new(agent.loaded().clone()),
    )
}

async fn say(agent: &Agent, lead: &Lead, text: &str, at: i64) {
    let inbound = Inbound {
        text: text.into(),
        external_id: None,
        at,
    };
    // The turn runs when the lead writes: its clock (the bot's send time,
    // which the minimum gap counts from) agrees with the message time.
    let agent = agent.clone().with_clock(ManualClock::new(at));
    agent.converse(lead, inbound, None).await.unwrap();
}

async fn lead_on(agent: &Agent, channel: Channel, id: &str) -> Lead {
    let new = NewLead {
        channel,
        external_id: id.into(),
        name: Some("Ana Souza".into()),
        source: None,
        account_id: None,
    };
    agent.store().lead_for(&new, T0).await.unwrap()
}

/// (step, kind, due offset from T0 in minutes, state) of the lead's jobs, soonest due first.
async fn ladder(agent: &Agent, lead: &Lead) -> Vec<(i64, String, i64, String)> {
    let mut jobs = agent.store().jobs(Some(&lead.id)).await.unwrap();
    jobs.reverse();
    jobs.into_iter()
        .map(|j| (j.step, j.kind, (j.due_at - T0) / MIN, j.state.to_string()))
        .collect()
}

#[tokio::test]
async fn each_channel_gets_its_ladder_from_the_last_lead_message() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let cases = [
        (
            // The seed's +24 h lands in the window's closing margin: it goes
            // out at the window's last safe minute instead.
            Channel::Whatsapp,
            vec![(1, "soft", 60), (2, "value", 24 * 60 - 10)],
        ),
        (
            Channel::Instagram,
            vec![
                (1, "soft", 4 * 60),
                (2, "value", 23 * 60),
                (3, "exit", 72 * 60),
            ],
        ),
        (
            Channel::Messenger,
            vec![
                (1, "soft", 4 * 60),
                (2, "value", 23 * 60),
                (3, "exit", 72 * 60),
            ],
        ),
        (
            Channel::Webchat,
            vec![(1, "soft", 15), (2, "value", 24 * 60)],
        ),
    ];
    for (channel, want) in cases {
        let lead = lead_on(&agent, channel, &format!("ladder-{channel}")).await;
        say(&agent, &lead, "hi, I run a clinic", T0).await;
        let got: Vec<(i64, String, i64)> = ladder(&agent, &lead)
            .await
            .into_iter()
            .map(|(s, k, m, state)| {
                assert_eq!(state, "pending");
                (s, k, m)
            })
            .collect();
        let want: Vec<(i64, String, i64)> = want
            .into_iter()
            .map(|(s, k, m)| (s, k.to_string(), m))
            .collect();
        assert_eq!(got, want, "{channel}");
    }
}

#[tokio::test]
async fn a_due_step_is_sent_exactly_once_through_the_outbox() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "15550100").await; // WhatsApp
    say(&agent, &lead, "hi, we are a roofing company", T0).await;
    let s = scheduler(&agent);
    assert_eq!(s.tick(T0 + 59 * MIN).await.unwrap().sent, 0, "not due yet");
    assert_eq!(s.tick(T0 + HOUR).await.unwrap().sent, 1);
    assert_eq!(s.tick(T0 + HOUR).await.unwrap().sent, 0, "once");
    assert_eq!(s.tick(T0 + 2 * HOUR).await.unwrap().sent, 0);
    let outbox = agent.store().outbox(&lead.id).await.unwrap();
    assert_eq!(outbox.len(), 2, "the reply, then the follow-up");
    assert_eq!(
        outbox[1].idempotency_key,
        format!("followup:{}:1:1", lead.id)
    );
    assert!(
        outbox[1]
            .text
            .starts_with("Hey Test, didn't want this to slip"),
        "{}",
        outbox[1].text
    );
    assert!(!outbox[1].text.to_lowercase().contains("still interested"));
    let states: Vec<String> = ladder(&agent, &lead)
        .await
        .into_iter()
        .map(|j| j.3)
        .collect();
    assert_eq!(states, ["sent", "pending"]);
}

#[tokio::test]
async fn a_lead_message_cancels_the_ladder_and_the_reply_restarts_it() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "15550101").await;
    say(&agent, &lead, "hi, we are a roofing company", T0).await;
    say(&agent, &lead, "we need more leads", T0 + 30 * MIN).await;
    let jobs = ladder(&agent, &lead).await;
    let states: Vec<(i64, String)> = jobs.iter().map(|j| (j.2, j.3.clone())).collect();
    assert_eq!(
        states,
        [
            (60, "cancelled".to_string()),
            (90, "pending".to_string()),
            (24 * 60 - 10, "cancelled".to_string()),
            (24 * 60 + 20, "pending".to_string())
        ]
    );
    let s = scheduler(&agent);
    assert_eq!(
        s.tick(T0 + 60 * MIN).await.unwrap().sent,
        0,
        "the old step is gone"
    );
    assert_eq!(s.tick(T0 + 90 * MIN).await.unwrap().sent, 1);
}

#[tokio::test]
async fn outside_the_window_steps_are_skipped_with_the_reason() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let ig = lead_on(&agent, Channel::Instagram, "ig-window").await;
    say(&agent, &ig, "hey, saw your reel", T0).await;
    let s = scheduler(&agent);
    // The server was down for three days: everything is due at once.
    let report = s.tick(T0 + 72 * HOUR).await.unwrap();
    assert_eq!(report.sent, 0);
    assert_eq!(report.skipped.len(), 3);
    assert!(
        report.skipped[2]
            .2
            .contains("outside instagram's 24 h messaging window"),
        "{:?}",
        report.skipped
    );
    let wa = new_lead(&agent, "15550102").await;
    say(&agent, &wa, "hello", T0).await;
    let report = s.tick(T0 + 25 * HOUR).await.unwrap();
    assert_eq!(report.sent, 0);
    assert!(
        report
            .skipped
            .iter()
            .any(|(_, _, why)| why.contains("131047")),
        "{:?}",
        report.skipped
    );
    // Web chat has no platform window (the latest due step goes out).
    let web = lead_on(&agent, Channel::Webchat, "web-window").await;
    say(&agent, &web, "hello", T0).await;
    assert_eq!(s.tick(T0 + 25 * HOUR).await.unwrap().sent, 1);
}

#[tokio::test]
async fn a_takeover_cancels_the_ladder_for_good() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "15550103").await;
    say(&agent, &lead, "hello", T0).await;
    agent
        .store()
        .pause(&lead.id, T0 + 12 * HOUR, "human", T0 + MIN)
        .await
        .unwrap();
    let reasons: Vec<Option<String>> = agent
        .store()
        .jobs(Some(&lead.id))
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.reason)
        .collect();
    assert!(reasons
        .iter()
        .all(|r| r.as_deref() == Some("a human took over the conversation")));
    assert_eq!(scheduler(&agent).tick(T0 + 2 * HOUR).await.unwrap().sent, 0);
}

#[tokio::test]
async fn a_claim_whose_worker_died_is_sent_once_after_its_lease() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "15550104").await;
    say(&agent, &lead, "hello", T0).await;
    // A worker claims the step and dies before sending.
    let claimed = agent
        .store()
        .claim_due_jobs(T0 + HOUR, 60_000, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let s = scheduler(&agent);
    assert_eq!(
        s.tick(T0 + HOUR + 30_000).await.unwrap().sent,
        0,
        "still leased"
    );
    assert_eq!(s.tick(T0 + HOUR + 61_000).await.unwrap().sent, 1);
    assert_eq!(s.tick(T0 + HOUR + 200_000).await.unwrap().sent, 0);
    assert_eq!(agent.store().outbox(&lead.id).await.unwrap().len(), 2);
}

#[test]
fn tick_refuses_a_time_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = common::setter_in(dir.path(), &["tick", "--now", "tomorrow"]);
    assert_eq!(code, 2);
    assert!(err.contains("is not an RFC 3339 time"), "{err}");
}

#[tokio::test]
async fn an_opt_out_is_acknowledged_once_and_ends_follow_ups_for_good() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "15550105").await;
    say(&agent, &lead, "hi, we are a roofing company", T0).await;
    let calls_before = stub.requests().len();
    let answer = |text: &str, at| Inbound {
        text: text.into(),
        external_id: None,
        at,
    };
    let ack = match agent
        .converse(&lead, answer("No me escribas más, gracias", T0 + MIN), None)
        .await
        .unwrap()
    {
        setter::agent::Answer::Replied(r) => r.reply,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        ack,
        "Entendido, no te escribiremos más. Si cambias de idea, escríbenos aquí."
    );
    assert_eq!(
        stub.requests().len(),
        calls_before + 1,
        "extraction only: the acknowledgment is not the model's"
    );
    let states: Vec<(String, Option<String>)> = agent
        .store()
        .jobs(Some(&lead.id))
        .await
        .unwrap()
        .into_iter()
        .map(|j| (j.state.to_string(), j.reason))
        .collect();
    assert_eq!(states.len(), 2, "no new ladder");
    assert!(states.iter().all(|(s, _)| s == "cancelled"), "{states:?}");
    let lead_now = agent.store().lead_by_id(&lead.id).await.unwrap();
    assert!(lead_now.opted_out_at.is_some());
    // "stop" again: silence, not a second acknowledgment.
    let again = agent
        .converse(&lead, answer("STOP", T0 + 2 * MIN), None)
        .await
        .unwrap();
    assert!(
        matches!(again, setter::agent::Answer::Scored(_)),
        "{again:?}"
    );
    // The lead writes again of their own accord: answered, but never followed up.
    say(&agent, &lead, "actually, what does it cost?", T0 + HOUR).await;
    assert_eq!(agent.store().jobs(Some(&lead.id)).await.unwrap().len(), 2);
    assert_eq!(
        scheduler(&agent).tick(T0 + 30 * HOUR).await.unwrap().sent,
        0
    );
    let (_, shown, _) = common::setter_in(env.dir.path(), &["leads", "show", &lead.id]);
    assert!(shown.contains("opted out"), "{shown}");
}

#[tokio::test]
async fn steps_due_together_after_an_outage_send_only_the_latest() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let web = lead_on(&agent, Channel::Webchat, "outage").await;
    say(&agent, &web, "hello", T0).await;
    let report = scheduler(&agent).tick(T0 + 25 * HOUR).await.unwrap();
    assert_eq!(report.sent, 1);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].1, JobReason::Superseded);
    assert_eq!(report.skipped[0].2, "a later step was due at the same time");
}

#[tokio::test]
async fn leads_show_lists_the_ladder_with_reasons() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let ig = lead_on(&agent, Channel::Instagram, "ig-show").await;
    say(&agent, &ig, "hey", T0).await;
    scheduler(&agent).tick(T0 + 30 * HOUR).await.unwrap();
    let (code, shown, _) = common::setter_in(env.dir.path(), &["leads", "show", &ig.id]);
    assert_eq!(code, 0);
    assert!(shown.contains("follow-ups:"), "{shown}");
    assert!(shown.contains("step 3 exit"), "{shown}");
    assert!(
        shown.contains("skipped (outside instagram's 24 h messaging window"),
        "{shown}"
    );
}

mod windows;

/// `[followups] personalise`: the model rewords a step from what the lead
/// said; a rewrite that breaks a rule is replaced by the static text.
#[tokio::test]
async fn a_personalised_step_is_the_models_rewrite_or_else_the_static_text() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |c| {
        c.followups.personalise = true;
        c.followups.quiet_hours = String::new();
    });
    let agent = env.agent().await;
    let lead = new_lead(&agent, "15550109").await;
    say(&agent, &lead, "hola, tengo una panadería en Sevilla", T0).await;
    let s = agent.followups();
    stub.reply("Hola Test, ¿seguimos con lo de la panadería?");
    assert_eq!(s.tick(T0 + HOUR).await.unwrap().sent, 1);
    let asked = stub.requests().last().unwrap().to_string();
    assert!(asked.contains("tengo una panadería en Sevilla"), "{asked}");
    assert!(
        asked.contains("slip through the cracks"),
        "the static text to reword"
    );
    stub.reply("Hey Test, are you still interested?");
    assert_eq!(s.tick(T0 + 24 * HOUR - 10 * MIN).await.unwrap().sent, 1);
    let outbox = agent.store().outbox(&lead.id).await.unwrap();
    assert_eq!(
        outbox[1].text,
        "Hola Test, ¿seguimos con lo de la panadería?"
    );
    assert!(
        outbox[2].text.starts_with("Quick one, Test"),
        "{}",
        outbox[2].text
    );
}
