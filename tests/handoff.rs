//! The handoff packet: built in code from what the lead said, nulls where
//! they said nothing, every cited message real; its JSON Schema published.

mod common;

use common::{new_lead, say, Env, Stub};
use serde_json::{json, Value};

fn facts(pairs: &[(&str, &str)]) -> Value {
    let mut v = json!({"pain": null, "business": null, "desired_outcome": null, "timeline": null,
                       "budget": null, "traits": {}, "disqualifiers": {}});
    for (k, val) in pairs {
        v[*k] = json!(val);
    }
    v
}

#[test]
fn the_published_schema_matches_the_types() {
    let published = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/handoff.schema.json"
    ))
    .unwrap();
    let published: Value = serde_json::from_str(&published).unwrap();
    assert_eq!(
        published,
        setter::handoff::schema(),
        "regenerate with `setter handoff schema > docs/handoff.schema.json`"
    );
}

#[tokio::test]
async fn the_packet_holds_what_the_lead_said_and_nothing_else() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550200").await;
    stub.extraction(facts(&[
        ("pain", "we miss calls at night"),
        ("business", "roofing company"),
    ]));
    say(
        &agent,
        &lead,
        "hi, I run a roofing company and we miss calls at night",
        0,
    )
    .await;
    stub.extraction(facts(&[("timeline", "next month")]));
    say(&agent, &lead, "we'd want this next month", 60_000).await;

    let memory = agent.store().memory(&lead.id).await.unwrap();
    let p = setter::handoff::build(agent.loaded(), &memory);
    assert_eq!(p.schema_version, 1);
    assert_eq!(p.lead.name.as_deref(), Some("Test Lead"));
    assert_eq!(p.transcript.len(), 4);
    assert_eq!(p.transcript[0].from, "lead");
    assert_eq!(p.transcript[1].from, "bot");
    // Stated: pain and timing, each with the message it came from.
    let pain = p.pain.clone().unwrap();
    assert_eq!(pain.value, Some(json!("we miss calls at night")));
    assert_eq!(pain.message, Some(1));
    assert_eq!(p.timing.clone().unwrap().message, Some(3));
    // Not stated: null, not guessed.
    assert_eq!(p.budget, None);
    assert_eq!(p.desired_outcome, None);
    let outcome = p.slots.iter().find(|s| s.id == "desired_outcome").unwrap();
    assert_eq!((outcome.value.clone(), outcome.message), (None, None));
    // Every trait and disqualifier is listed; a keyword match cites its words.
    assert_eq!(p.fit.traits.len(), agent.loaded().config.icp.traits.len());
    assert_eq!(
        p.fit.disqualifiers.len(),
        agent.loaded().config.icp.disqualifiers.len()
    );
    let service = p
        .fit
        .traits
        .iter()
        .find(|t| t.id == "service_business")
        .unwrap();
    assert_eq!(service.matched, Some(true));
    assert!(p.fit.disqualifiers.iter().all(|d| d.matched.is_none()));
    // Every cited message exists and says what is cited.
    let text = |n: usize| p.transcript[n - 1].text.to_lowercase();
    for s in p.slots.iter().filter(|s| s.value.is_some()) {
        let n = s.message.unwrap();
        assert_eq!(p.transcript[n - 1].from, "lead");
        let value = s.value.as_ref().unwrap().as_str().unwrap().to_lowercase();
        assert!(text(n).contains(&value), "{} cites message {n}", s.id);
    }
    for c in p
        .fit
        .traits
        .iter()
        .chain(&p.fit.disqualifiers)
        .filter(|c| c.quote.is_some())
    {
        let quote = c.quote.clone().unwrap().to_lowercase();
        assert!(
            text(c.message.unwrap()).contains(quote.trim_end_matches('…')),
            "{}",
            c.id
        );
    }
    assert_eq!(p.score_history.len(), 2);
    assert_eq!(p.score_history[1].message, Some(3));
}

#[tokio::test(flavor = "multi_thread")]
async fn setter_handoff_packet_prints_json_and_markdown() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550201").await;
    say(&agent, &lead, "hello there", 0).await;
    agent.store().clone().close().await;
    let dir = env.dir.path();
    let (code, md, err) = common::setter_in(dir, &["handoff", "packet", &lead.id[..12]]);
    assert_eq!(code, 0, "{err}");
    assert!(md.contains("# Handoff: Test Lead (whatsapp)"), "{md}");
    assert!(
        md.contains("**pain**: not stated — ask on the call"),
        "{md}"
    );
    assert!(md.contains("1. **lead**: hello there"), "{md}");
    let (code, json, _) =
        common::setter_in(dir, &["handoff", "packet", &lead.id, "--format", "json"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["lead"]["id"], lead.id.as_str());
    assert_eq!(v["budget"], Value::Null);
}
