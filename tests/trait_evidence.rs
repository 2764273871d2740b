//! A model's ICP trait claim is evidence only with the lead's words behind
//! it: a quote really in the message, and not the whole message. The case
//! that prompted this: "Hi! I saw your ad…" claimed as a service business
//! with the whole greeting as its quote, and the lead was an MQL after hello.

mod common;

use common::{new_lead, say, Env, Stub};
use serde_json::{json, Value};
use setter::lead::Stage;

fn facts(traits: Value) -> Value {
    json!({"pain": null, "business": null, "desired_outcome": null, "timeline": null,
           "budget": null, "traits": traits, "disqualifiers": {}})
}

const GREETING: &str = "Hi! I saw your ad and wanted to know more about the program.";

#[tokio::test]
async fn a_greeting_is_no_evidence_of_fit() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550101").await;
    stub.reply("Hi! What kind of business do you run?");
    // The whole message as "quote", a bare `true`, and words the lead never wrote.
    stub.extraction(facts(json!({
        "service_business": GREETING,
        "owner": true,
        "revenue": "makes at least $5k a month",
    })));
    let r = say(&agent, &lead, GREETING, 0).await;
    assert!(
        r.assessment.traits.iter().all(|t| t.matched.is_none()),
        "{:?}",
        r.assessment.traits
    );
    assert_eq!(r.assessment.fit_share, None);
    assert_eq!(r.stage, Stage::New);
    // A second hello still leaves nothing known: engaged, not MQL.
    stub.extraction(facts(json!({"service_business": "know more"})));
    let r = say(&agent, &lead, "hello? just want to know more", 60_000).await;
    assert_eq!(r.assessment.fit_share, None);
    assert_eq!(r.stage, Stage::Engaged);
}

#[tokio::test]
async fn a_quoted_part_of_the_message_counts_and_names_its_words() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550102").await;
    stub.reply("Got it. What's not working right now?");
    stub.extraction(facts(json!({"service_business": "pest control company"})));
    let r = say(
        &agent,
        &lead,
        "We're a pest control company, 4 vans, calls come in all day",
        0,
    )
    .await;
    let t = r
        .assessment
        .traits
        .iter()
        .find(|t| t.id == "service_business")
        .unwrap();
    assert_eq!(t.matched, Some(true));
    assert_eq!(t.quote.as_deref(), Some("pest control company"));
    assert_eq!(r.stage, Stage::Mql);
}
