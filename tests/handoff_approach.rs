//! The packet's recommended approach: the model's paragraph, kept claim by
//! claim only where the cited messages say it; null, never blocking, when
//! the model fails or is slow.

mod common;

use common::{new_lead, say, Env, Stub};
use serde_json::{json, Value};

/// The model's paragraph, checked claim by claim against the transcript:
/// what the cited messages say is kept, the rest dropped with why.
#[tokio::test]
async fn the_recommended_approach_keeps_only_what_the_cited_messages_say() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550207").await;
    stub.reply("Sorry to hear that! When would you want this fixed?");
    say(
        &agent,
        &lead,
        "hi, I run a roofing company and we miss calls at night",
        0,
    )
    .await;
    say(&agent, &lead, "we'd want this next month", 60_000).await;
    stub.reply(
        "Recommended approach: They run a roofing company and miss calls at night [1]. \
         They want it fixed next month [2, 3]. Their budget is $5k [3]. \
         They are ready to sign today [1]. Open with pricing. They loved our demo [7].",
    );
    let desk = agent.handoff_desk();
    let created = setter::handoff::hand_off(desk, &lead.id, "hot", "test", 120_000)
        .await
        .unwrap();
    let requests = stub.requests();
    let prompt = requests.last().unwrap()["messages"][0]["content"]
        .as_str()
        .unwrap();
    assert!(
        prompt.starts_with("You brief a closer")
            && prompt.contains("[1] LEAD: hi, I run a roofing company"),
        "{prompt}"
    );
    assert!(
        prompt.contains("[3] LEAD: we'd want this next month"),
        "{prompt}"
    );

    let frozen = agent
        .store()
        .current_handoff(&lead.id)
        .await
        .unwrap()
        .unwrap();
    let packet: Value = serde_json::from_str(&frozen.packet).unwrap();
    assert_eq!(packet["schema_version"], 2);
    let approach = &packet["recommended_approach"];
    assert_eq!(
        approach["claims"],
        json!([
            {"text": "They run a roofing company and miss calls at night.", "cites": [1]},
            {"text": "They want it fixed next month.", "cites": [2, 3]},
        ])
    );
    assert_eq!(
        approach["text"],
        "They run a roofing company and miss calls at night [1]. They want it fixed next month [2, 3]."
    );
    assert_eq!(
        approach["dropped"],
        json!([
            {"text": "Their budget is $5k.", "why": "\"5k\" is not in message(s) 3"},
            {"text": "They are ready to sign today.", "why": "message(s) 1 do not say it"},
            {"text": "Open with pricing.", "why": "cites no message"},
            {"text": "They loved our demo.", "why": "cites message 7, which does not exist"},
        ])
    );
    assert!(frozen.markdown.contains(
        "## Recommended approach\nThey run a roofing company and miss calls at night [1]."
    ));
    assert!(
        !frozen.markdown.contains("Their budget is"),
        "a dropped claim never reaches the closer"
    );
    // Frozen: a second trigger neither calls the model nor changes the packet.
    let again = setter::handoff::hand_off(desk, &lead.id, "operator", "again", 180_000)
        .await
        .unwrap();
    let setter::store::Handoff::Created(id) = created else {
        panic!("{created:?}")
    };
    assert_eq!(again, setter::store::Handoff::AlreadyHandedOff(id));
    assert_eq!(stub.requests().len(), requests.len());
}

/// The approach is best effort: a failing or slow model leaves it null and
/// the handoff goes ahead within the model's timeout.
#[tokio::test]
async fn a_failing_or_slow_model_leaves_the_approach_null() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |c| c.llm.timeout_secs = 1);
    let agent = env.agent().await;
    let (failing, slow) = (
        new_lead(&agent, "+15550208").await,
        new_lead(&agent, "+15550209").await,
    );
    say(&agent, &failing, "hi, I run a roofing company", 0).await;
    say(&agent, &slow, "hi, I run a dental clinic", 0).await;
    stub.fail(500).fail(500).fail(500);
    let desk = agent.handoff_desk();
    setter::handoff::hand_off(desk, &failing.id, "operator", "test", 1)
        .await
        .unwrap();
    stub.script.lock().unwrap().delay_ms = 5_000;
    let started = std::time::Instant::now();
    setter::handoff::hand_off(desk, &slow.id, "operator", "test", 1)
        .await
        .unwrap();
    let waited = started.elapsed();
    assert!(
        waited < std::time::Duration::from_millis(2_900),
        "{waited:?}"
    );
    for lead in [&failing, &slow] {
        let frozen = agent
            .store()
            .current_handoff(&lead.id)
            .await
            .unwrap()
            .unwrap();
        let packet: Value = serde_json::from_str(&frozen.packet).unwrap();
        assert_eq!(packet["recommended_approach"], Value::Null, "{}", lead.id);
        assert!(frozen.markdown.contains("None: no model could write it."));
    }
}
