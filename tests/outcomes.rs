//! Close in the DM and closer outcomes: a cheap offer's Hot lead gets the
//! payment link with their name and stated outcome, and the store records
//! that it was sent; a high-ticket offer's gets the booking link. Outcomes
//! are recorded from the CLI, close the sale on won/paid, end follow-ups,
//! and show in `setter leads show`.

mod common;

use common::{say, setter_async, Env, Stub};
use serde_json::{json, Value};
use setter::agent::{Agent, Answer, Inbound};
use setter::clock::ManualClock;
use setter::lead::{Channel, Stage};
use setter::store::{Lead, NewLead};

const PAY: &str = "https://pay.example.com/growthpilot";
const BOOK: &str = "https://cal.example.com/growthpilot/discovery";
const NOW: i64 = 1_767_603_600_000;

/// A Hot lead in one message that names the result they want.
const HOT: &str = "I'm the owner of a roofing agency and we get tons of leads from ads. \
                   I want to fill my calendar. How much is it? Can we book a call?";

fn facts() -> Value {
    json!({"pain": null, "business": "roofing agency", "desired_outcome": "fill my calendar",
           "timeline": null, "budget": null, "traits": {}, "disqualifiers": {}})
}

async fn agent_at(env: &Env) -> Agent {
    env.agent().await.with_clock(ManualClock::new(NOW))
}

async fn named_lead(agent: &Agent, external_id: &str) -> Lead {
    let new = NewLead {
        channel: Channel::Whatsapp,
        external_id: external_id.into(),
        name: Some("Ana Souza".into()),
        source: None,
        account_id: None,
    };
    agent.store().lead_for(&new, 0).await.unwrap()
}

/// The reply task the model was given last (the prompt's final message).
fn last_task(stub: &Stub) -> String {
    let requests = stub.requests();
    let reply = requests
        .iter()
        .rev()
        .find(|r| r["response_format"].is_null())
        .expect("a reply request");
    let messages = reply["messages"].as_array().unwrap();
    messages.last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cheap_offer_closes_in_the_dm_with_the_leads_name_and_outcome() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = agent_at(&env).await;
    let lead = named_lead(&agent, "+15550300").await;
    stub.extraction(facts());
    stub.reply(&format!("Ana, here is how we fill your calendar: {PAY}"));
    let r = say(&agent, &lead, HOT, NOW).await;
    assert_eq!(r.tier, setter::lead::Tier::Hot, "{:?}", r.reasons);
    assert_eq!(r.next_action, "send_payment_link");
    assert!(
        r.reply.contains(PAY) && !r.reply.contains(BOOK),
        "{}",
        r.reply
    );
    // Code chose the link; the model was told whom it speaks to and why.
    let task = last_task(&stub);
    assert!(task.contains(&format!("with this link: {PAY}.")), "{task}");
    assert!(
        task.contains("Address them by their first name, Ana."),
        "{task}"
    );
    assert!(task.contains("they want: \"fill my calendar\""), "{task}");
    // Recorded: that the link went out, and when.
    let memory = agent.store().memory(&lead.id).await.unwrap();
    assert_eq!(memory.lead.payment_link_sent_at, Some(NOW));
    let packet = setter::handoff::packet::build(agent.loaded(), &memory);
    assert_eq!(
        packet.links.payment_link_sent_at,
        Some(NOW),
        "the closer sees it"
    );
    agent.store().clone().close().await;
    let (code, shown, err) = setter_async(env.dir.path(), &["leads", "show", &lead.id]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        shown.contains("payment  link sent 2026-01-05 09:00 UTC"),
        "{shown}"
    );
}

#[tokio::test]
async fn when_the_models_reply_fails_a_guard_code_still_names_the_lead() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = agent_at(&env).await;
    let lead = named_lead(&agent, "+15550301").await;
    stub.extraction(facts());
    stub.reply(""); // empty: the fallback is sent instead
    let r = say(&agent, &lead, HOT, NOW).await;
    assert_eq!(
        r.reply,
        // The lead asked "how much": code adds the configured price.
        format!("Great, Ana, it sounds like a fit for what you want (\"fill my calendar\"). It starts at 2000 USD. Here's the next step: {PAY}")
    );
    let memory = agent.store().memory(&lead.id).await.unwrap();
    assert_eq!(memory.lead.payment_link_sent_at, Some(NOW));
}

#[tokio::test]
async fn a_high_ticket_offer_gets_the_booking_link_and_no_payment_link() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |c| c.offer.price = 8000.0);
    let agent = agent_at(&env).await;
    let lead = named_lead(&agent, "+15550302").await;
    stub.extraction(facts());
    stub.reply("Ana, let's get your calendar full: book a call here.");
    let r = say(&agent, &lead, HOT, NOW).await;
    assert_eq!(r.tier, setter::lead::Tier::Hot, "{:?}", r.reasons);
    assert_eq!(r.next_action, "book_call");
    assert!(
        r.reply.contains(BOOK) && !r.reply.contains(PAY),
        "{}",
        r.reply
    );
    assert!(last_task(&stub).contains(&format!("with this link: {BOOK}.")));
    let memory = agent.store().memory(&lead.id).await.unwrap();
    assert_eq!(memory.lead.payment_link_sent_at, None);
    let packet = setter::handoff::packet::build(agent.loaded(), &memory);
    assert_eq!(packet.links.payment_link_sent_at, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn outcomes_are_recorded_close_the_sale_and_end_follow_ups() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = agent_at(&env).await;
    let lead = common::new_lead(&agent, "+15550303").await;
    say(&agent, &lead, "hi, I run a roofing company", NOW).await;
    let pending = |jobs: &[setter::store::JobRow]| {
        jobs.iter()
            .filter(|j| j.state == setter::lead::JobState::Pending)
            .count()
    };
    let jobs = agent.store().jobs(Some(&lead.id)).await.unwrap();
    assert!(pending(&jobs) > 0, "the reply scheduled follow-ups");
    agent.store().clone().close().await;
    let dir = env.dir.path();
    let prefix = &lead.id[..13];

    let (code, out, err) =
        setter_async(dir, &["outcome", prefix, "booked", "--note", "Tue 3pm"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("recorded booked for lead {}", lead.id)),
        "{out}"
    );
    assert!(out.contains("follow-up(s) cancelled"), "{out}");
    assert!(!out.contains("stage"), "booked does not close: {out}");
    let (code, out, err) = setter_async(dir, &["outcome", prefix, "won", "--value", "4000"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("recorded won (4000 USD)"), "{out}");
    assert!(out.contains(" → closed"), "{out}");

    let (_, shown, _) = setter_async(dir, &["leads", "show", prefix]).await;
    let lines: Vec<&str> = shown.lines().skip_while(|l| *l != "outcomes:").collect();
    assert!(
        lines[1].starts_with("  booked  ") && lines[1].ends_with("(cli)  \"Tue 3pm\""),
        "{shown}"
    );
    assert!(
        lines[2].starts_with("  won     ") && lines[2].ends_with("(cli)  4000 USD"),
        "{shown}"
    );
    let (_, json, _) = setter_async(dir, &["leads", "show", prefix, "--json"]).await;
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["lead"]["stage"], "closed");
    assert_eq!(json["outcomes"][1]["outcome"], "won");
    assert_eq!(json["outcomes"][1]["currency"], "USD");
    assert!(json["followups"]
        .as_array()
        .unwrap()
        .iter()
        .all(|j| j["state"] == "cancelled" && j["reason_code"] == "outcome"));

    // A customer who writes again is not sold to again: scored, not answered.
    let agent = agent_at(&env).await;
    let lead = agent.store().lead(prefix).await.unwrap();
    assert_eq!(lead.stage, Stage::Closed);
    let inbound = Inbound {
        text: "how much is it again?".into(),
        external_id: None,
        at: NOW + 60_000,
    };
    let answer = agent.converse(&lead, inbound, None).await.unwrap();
    assert!(matches!(answer, Answer::Scored(_)), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_outcome_value_or_lead_says_what_to_fix() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = agent_at(&env).await;
    let lead = common::new_lead(&agent, "+15550304").await;
    agent.store().clone().close().await;
    let dir = env.dir.path();
    let (code, _, err) = setter_async(dir, &["outcome", &lead.id, "refunded"]).await;
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "\"refunded\" is not an outcome; expected one of booked, showed, won, lost, paid"
        ),
        "{err}"
    );
    let (code, _, err) = setter_async(dir, &["outcome", &lead.id, "won", "--value=-5"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("must be a number ≥ 0"), "{err}");
    let (code, _, err) = setter_async(dir, &["outcome", "nope", "won"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("no lead matches \"nope\""), "{err}");
    let (_, json, _) = setter_async(dir, &["leads", "show", &lead.id, "--json"]).await;
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        json["outcomes"],
        json!([]),
        "nothing recorded by a bad call"
    );
    assert_eq!(json["lead"]["stage"], "new");
}
