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
    assert_eq!(p.schema_version, 2);
    assert_eq!(
        p.recommended_approach, None,
        "code alone writes no approach"
    );
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

/// A loopback receiver: answers each POST from `statuses` (then 200) and
/// keeps (signature ok?, idempotency key) per request.
async fn receiver(
    statuses: Vec<u16>,
) -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(bool, String)>>>,
) {
    use axum::{
        body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post, Router,
    };
    type Seen = std::sync::Arc<std::sync::Mutex<Vec<(bool, String)>>>;
    let seen: Seen = Default::default();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from(
        statuses,
    )));
    let app = Router::new()
        .route(
            "/hook",
            post(
                |State((seen, queue)): State<(
                    Seen,
                    std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<u16>>>,
                )>,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    let header = |k: &str| {
                        headers
                            .get(k)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string()
                    };
                    let ok = header("x-setter-signature")
                        == setter::channels::signature::sign("hook-secret", &body);
                    seen.lock().unwrap().push((ok, header("idempotency-key")));
                    let status = queue.lock().unwrap().pop_front().unwrap_or(200);
                    StatusCode::from_u16(status).unwrap()
                },
            ),
        )
        .with_state((seen.clone(), queue));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn a_handoff_is_delivered_once_signed_through_a_receivers_outage() {
    let stub = Stub::start().await;
    let (url, seen) = receiver(vec![500, 503]).await;
    let drop_dir = tempfile::tempdir().unwrap();
    std::env::set_var("SETTER_TEST_HOOK_SECRET", "hook-secret");
    let dir = drop_dir.path().to_str().unwrap().to_string();
    let env = Env::new(&stub, |c| {
        c.handoff.webhook_url = url.clone();
        c.handoff.webhook_secret_env = "SETTER_TEST_HOOK_SECRET".into();
        c.handoff.directory = dir.clone();
    });
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550202").await;
    say(&agent, &lead, "hi, I run a roofing company", 0).await;
    let (store, loaded, desk) = (agent.store(), agent.loaded(), agent.handoff_desk());
    let http = reqwest::Client::new();
    let now = 1_000_000;
    let first = setter::handoff::hand_off(desk, &lead.id, "operator", "test", now)
        .await
        .unwrap();
    let setter::store::Handoff::Created(id) = first else {
        panic!("{first:?}")
    };
    // Never twice.
    let again = setter::handoff::hand_off(desk, &lead.id, "hot", "test", now)
        .await
        .unwrap();
    assert_eq!(again, setter::store::Handoff::AlreadyHandedOff(id.clone()));
    // The receiver is down twice, then up: one delivery, three signed tries, one key.
    assert_eq!(
        setter::handoff::deliver_due(store, loaded, &http, now)
            .await
            .unwrap(),
        1,
        "the file"
    );
    assert_eq!(
        setter::handoff::deliver_due(store, loaded, &http, now + 1_500)
            .await
            .unwrap(),
        0,
        "backing off"
    );
    assert_eq!(
        setter::handoff::deliver_due(store, loaded, &http, now + 2_500)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        setter::handoff::deliver_due(store, loaded, &http, now + 10_000)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        setter::handoff::deliver_due(store, loaded, &http, now + 100_000)
            .await
            .unwrap(),
        0
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|(ok, key)| *ok && *key == id), "{seen:?}");
    // The file drop has both renderings.
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(drop_dir.path().join(format!("{id}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(json["lead"]["id"], lead.id.as_str());
    assert!(
        std::fs::read_to_string(drop_dir.path().join(format!("{id}.md")))
            .unwrap()
            .starts_with("# Handoff")
    );
    // The lead is the closer's now: stage, and the bot stays silent.
    let memory = store.memory(&lead.id).await.unwrap();
    assert_eq!(memory.lead.stage, setter::lead::Stage::HandedOff);
    let inbound = setter::agent::Inbound {
        text: "hello?".into(),
        external_id: None,
        at: now + 200_000,
    };
    let answer = agent.converse(&lead, inbound, None).await.unwrap();
    assert!(
        matches!(answer, setter::agent::Answer::Scored(_)),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_is_dead_lettered_and_can_be_retried() {
    let stub = Stub::start().await;
    let (url, seen) = receiver(vec![500, 500, 500]).await;
    let env = Env::new(&stub, |c| {
        c.handoff.webhook_url = url.clone();
        c.handoff.max_attempts = 2;
    });
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550203").await;
    say(&agent, &lead, "hello", 0).await;
    let (store, loaded) = (agent.store(), agent.loaded());
    let http = reqwest::Client::new();
    setter::handoff::hand_off(agent.handoff_desk(), &lead.id, "operator", "test", 0)
        .await
        .unwrap();
    setter::handoff::deliver_due(store, loaded, &http, 10)
        .await
        .unwrap();
    setter::handoff::deliver_due(store, loaded, &http, 100_000)
        .await
        .unwrap();
    let rows = store.handoffs().await.unwrap();
    let d = &rows[0].deliveries[0];
    assert_eq!((d.state.as_str(), d.attempts), ("dead", 2));
    assert!(
        d.last_error.as_deref().unwrap().contains("HTTP 500"),
        "{d:?}"
    );
    assert_eq!(
        store
            .retry_handoff(&rows[0].id[..8], 200_000)
            .await
            .unwrap(),
        1
    );
    // The third try still fails (500), the fourth is answered 200.
    setter::handoff::deliver_due(store, loaded, &http, 200_000)
        .await
        .unwrap();
    assert_eq!(
        setter::handoff::deliver_due(store, loaded, &http, 300_000)
            .await
            .unwrap(),
        1
    );
    assert_eq!(seen.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn a_lead_asking_for_a_human_in_spanish_is_handed_off_and_told_what_happens() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |c| c.handoff.auto = true);
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550204").await;
    say(&agent, &lead, "hola, tengo una clínica dental", 0).await;
    let calls = stub.requests().len();
    let r = say(
        &agent,
        &lead,
        "¿Puedo hablar con una persona real, por favor?",
        60_000,
    )
    .await;
    assert!(
        r.reply.starts_with("¡Claro! Un especialista te escribirá"),
        "{}",
        r.reply
    );
    assert!(
        r.reply
            .contains("https://cal.example.com/growthpilot/discovery"),
        "{}",
        r.reply
    );
    let kinds: Vec<&str> = stub.requests()[calls..].iter().map(kind).collect();
    assert_eq!(
        kinds,
        ["extraction", "approach"],
        "no reply request: the reply is code's"
    );
    let rows = agent.store().handoffs().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].trigger, "asked_for_human");
    assert_eq!(
        agent.store().memory(&lead.id).await.unwrap().lead.stage,
        setter::lead::Stage::HandedOff
    );
}

#[tokio::test]
async fn a_hot_lead_is_handed_off_once_by_code() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |c| c.handoff.auto = true);
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550205").await;
    let r = say(
        &agent,
        &lead,
        "I'm the owner of a roofing agency and we get tons of leads from ads. How much is it? Can we book a call?",
        0,
    )
    .await;
    assert_eq!(r.tier, setter::lead::Tier::Hot, "{:?}", r.reasons);
    let rows = agent.store().handoffs().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].trigger, "hot");
    assert!(rows[0].reason.starts_with("tier hot"), "{}", rows[0].reason);
}

/// What a closer reads, pinned word for word: a change to the packet's
/// Markdown shows up as a snapshot diff in review.
#[tokio::test]
async fn the_markdown_packet_reads_as_pinned() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550206").await;
    stub.reply("Thanks! What result would you like from fixing that?");
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
    stub.reply("Ask how many calls they miss at night [1]. Their budget is $5k [1].");
    let desk = agent.handoff_desk();
    setter::handoff::hand_off(desk, &lead.id, "operator", "test", 0)
        .await
        .unwrap();
    let frozen = agent.store().current_handoff(&lead.id).await.unwrap();
    insta::assert_snapshot!(frozen.unwrap().markdown);
}

/// Which call a request to the stub was.
fn kind(request: &Value) -> &'static str {
    let prompt = request["messages"][0]["content"].as_str().unwrap_or("");
    if request["response_format"]["type"] == "json_schema" {
        "extraction"
    } else if prompt.starts_with("You brief a closer") {
        "approach"
    } else {
        "reply"
    }
}
