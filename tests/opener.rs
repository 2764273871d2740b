//! The instant opener (`[persona] instant_opener`, on by default): a new
//! lead's first message is answered from `prompts/opener.j2` with no reply
//! model call, in the lead's language, asking the framework's first
//! question; extraction still scores that message; the model writes from the
//! second reply on.

mod common;

use common::{new_lead, say, Env, Stub};
use serde_json::{json, Value};
use setter::agent::{Agent, Answer, Inbound};
use setter::lead::Tier;

fn with_opener(stub: &Stub) -> Env {
    Env::new(stub, |c| c.persona.instant_opener = true)
}

/// The stub's requests: (extraction calls, reply calls).
fn calls(stub: &Stub) -> (Vec<Value>, Vec<Value>) {
    stub.requests()
        .into_iter()
        .partition(|q| q.get("response_format").is_some())
}

#[tokio::test]
async fn the_first_reply_is_the_template_and_the_second_the_model_s() {
    let stub = Stub::start().await;
    let env = with_opener(&stub);
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550101").await;
    stub.extraction(json!({"pain": "we miss calls at night", "business": null,
        "desired_outcome": null, "timeline": null, "budget": null,
        "traits": {"service_business": "roofing company", "revenue": null,
                   "inbound_volume": null, "owner": null, "no_setter": null},
        "disqualifiers": {"physical_products": null, "job_seeker": null, "pre_launch": null}}));
    let first = say(
        &agent,
        &lead,
        "hi, I own a roofing company and we miss calls at night",
        0,
    )
    .await;
    assert_eq!(
        first.reply,
        "Hi Test! Thanks for reaching out to GrowthPilot. What made you reach out today?"
    );
    assert_eq!(first.guard.as_deref(), Some("instant_opener"));
    assert_eq!(first.asked_slot.as_deref(), Some("pain"));
    let (extractions, replies) = calls(&stub);
    assert_eq!((extractions.len(), replies.len()), (1, 0), "no reply call");
    // Extraction still read the first message; the report and the store
    // hold what it found.
    assert_eq!(first.slots["pain"], json!("we miss calls at night"));
    let memory = agent.store().memory(&lead.id).await.unwrap();
    assert_eq!(memory.slots["pain"].value, json!("we miss calls at night"));
    assert_eq!(memory.scores.len(), 1);
    assert!(memory.unscored_turn().is_none());
    assert_eq!(
        memory.turns[0].usage.prompt_tokens, 100,
        "extraction's tokens"
    );

    stub.reply("Got it. What does your business look like today?");
    let second = say(&agent, &lead, "we're 6 people", 60_000).await;
    let (extractions, replies) = calls(&stub);
    assert_eq!((extractions.len(), replies.len()), (2, 1));
    assert_eq!(second.turn, 2);
    assert_eq!(second.guard, None);
    assert!(second.reply.starts_with("Got it."), "{}", second.reply);
}

#[tokio::test]
async fn the_opener_speaks_the_lead_s_language_and_answers_what_they_asked() {
    let stub = Stub::start().await;
    let env = with_opener(&stub);
    let agent = env.agent().await;
    let cases = [
        (
            "+34600000101",
            "Hola! Tengo una clínica dental en Madrid",
            "¡Hola Test! Gracias por escribirnos. ¿Qué te hizo escribirnos hoy?",
        ),
        (
            "+34600000102",
            "Hola, ¿cuánto cuesta? ¿Eres un bot?",
            "¡Hola Test! Gracias por escribirnos. Soy Maya, la asistente virtual de GrowthPilot. \
             El precio es desde 2000 USD. ¿Qué te hizo escribirnos hoy?",
        ),
        (
            "+15550102",
            "how much is it? are you a bot?",
            "Hi Test! Thanks for reaching out to GrowthPilot. I'm Maya, GrowthPilot's virtual \
             assistant. It starts at 2000 USD. What made you reach out today?",
        ),
        (
            "+4915100000103",
            "Hallo, ich habe eine kleine Agentur in Berlin",
            "Hallo Test! Danke für Ihre Nachricht. Was hat Sie dazu gebracht, uns heute zu schreiben?",
        ),
    ];
    for (phone, message, expected) in cases {
        let lead = new_lead(&agent, phone).await;
        let r = say(&agent, &lead, message, 0).await;
        assert_eq!(r.reply, expected, "{message}");
    }
    assert_eq!(calls(&stub).1.len(), 0, "no reply call for any of them");
}

#[tokio::test]
async fn a_keyword_disqualifier_or_a_lead_without_a_name_is_handled() {
    let stub = Stub::start().await;
    let env = with_opener(&stub);
    let agent = env.agent().await;
    // A disqualifier the keywords catch: the model declines, no opener.
    let lead = new_lead(&agent, "+15550104").await;
    stub.reply("Thanks for reaching out! We only work with service businesses, best of luck.");
    let r = say(
        &agent,
        &lead,
        "hi, I'm looking for a job, are you hiring?",
        0,
    )
    .await;
    assert_eq!(r.tier, Tier::Cold);
    assert!(r.reply.contains("best of luck"), "{}", r.reply);
    assert_eq!(calls(&stub).1.len(), 1, "the model wrote the decline");
    // No display name (web chat): no name in the greeting.
    let new = setter::store::NewLead {
        channel: setter::lead::Channel::Webchat,
        external_id: "visitor-7".into(),
        name: None,
        source: None,
        account_id: None,
    };
    let visitor = agent.store().lead_for(&new, 0).await.unwrap();
    let r = say(&agent, &visitor, "hey", 0).await;
    assert_eq!(
        r.reply,
        "Hi! Thanks for reaching out to GrowthPilot. What made you reach out today?"
    );
}

/// The reply is stored before extraction runs; if extraction then fails, the
/// reply stays (it may already be sent) and the lead's next turn scores the
/// first message before answering the second.
#[tokio::test]
async fn an_extraction_that_fails_after_the_opener_is_caught_up_next_turn() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |c| {
        c.persona.instant_opener = true;
        c.llm.max_retries = 0;
    });
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550105").await;
    stub.fail(400);
    let inbound = Inbound {
        text: "hi, I run a roofing company".into(),
        external_id: None,
        at: 0,
    };
    assert!(agent.converse(&lead, inbound, None).await.is_err());
    let memory = agent.store().memory(&lead.id).await.unwrap();
    assert_eq!(memory.messages.len(), 2, "the opener is stored");
    assert!(memory.pending.is_empty());
    assert_eq!(memory.unscored_turn().map(|t| t.turn), Some(1));

    stub.reply("Nice. How big is the team?");
    let r = say(&agent, &lead, "we miss calls at night", 60_000).await;
    assert_eq!((r.turn, r.messages), (2, 1));
    let memory = agent.store().memory(&lead.id).await.unwrap();
    assert!(memory.unscored_turn().is_none());
    assert_eq!(memory.scores.len(), 2, "message 1 scored, then message 2");
    assert!(
        memory.scores[0].reason.contains("\"roofing\" in message 1"),
        "{:?}",
        memory.scores[0]
    );
    let (extractions, _) = calls(&stub);
    assert!(extractions[1]["messages"][1]["content"]
        .as_str()
        .unwrap()
        .ends_with("Newest LEAD message:\nhi, I run a roofing company"));
}

/// What `answer_then` hands over first is the stored opener, before its
/// message is scored; what it returns holds the scoring.
#[tokio::test]
async fn the_reply_is_handed_over_before_extraction_runs() {
    let stub = Stub::start().await;
    stub.script.lock().unwrap().delay_ms = 400;
    let env = with_opener(&stub);
    let agent: Agent = env.agent().await;
    let lead = new_lead(&agent, "+15550106").await;
    let inbound = Inbound {
        text: "hi, I run a dental clinic".into(),
        external_id: None,
        at: 0,
    };
    agent.accept(&lead, inbound).await.unwrap();
    let started = std::time::Instant::now();
    let mut handed = None;
    let answer = agent
        .answer_then(&lead.id, None, |a| {
            handed = Some((started.elapsed(), stub.requests().len(), a.clone()));
        })
        .await
        .unwrap();
    let (after, requests, first) = handed.expect("handed over");
    assert_eq!(requests, 0, "before any model call");
    assert!(after.as_millis() < 400, "{after:?}: waited for the model");
    let Answer::Replied(first) = first else {
        panic!("{first:?}")
    };
    let Answer::Replied(done) = answer else {
        panic!("{answer:?}")
    };
    assert_eq!(first.reply, done.reply);
    assert_eq!(stub.requests().len(), 1, "then the extraction");
    assert_eq!(done.turn, 1);
}

/// `setter check` validates the key, warns about a custom first question the
/// opener would ask badly, and renders an overridden `opener.j2`.
#[tokio::test(flavor = "multi_thread")]
async fn setter_check_validates_the_opener() {
    let stub = Stub::start().await;
    let env = with_opener(&stub);
    let dir = env.dir.path();
    let toml = std::fs::read_to_string(&env.config_path).unwrap();
    let bad = toml.replace("instant_opener = true", "instant_opener = \"yes\"");
    assert_ne!(bad, toml);
    std::fs::write(&env.config_path, &bad).unwrap();
    let (code, out, err) = common::setter_in(dir, &["check"]);
    assert_eq!(code, 2, "{out}{err}");
    // The error points at the key's line.
    let line = bad
        .lines()
        .position(|l| l.starts_with("instant_opener"))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!(
            "setter.toml:{line}: invalid type: string \"yes\", expected a boolean"
        )),
        "{out}{err}"
    );

    let env = Env::new(&stub, |c| {
        c.persona.instant_opener = true;
        c.qualification.framework = "custom".into();
        c.qualification.slots = vec![serde_json::from_value(json!({
            "id": "team_size", "description": "How many people work in the business",
            "question": "Ask how big their team is"
        }))
        .unwrap()];
    });
    let dir = env.dir.path();
    let (code, out, _) = common::setter_in(dir, &["check"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("qualification.slots[0].ask: is empty, and the instant opener asks"),
        "{out}"
    );
    std::fs::create_dir(dir.join("prompts")).unwrap();
    std::fs::write(
        dir.join("prompts/opener.j2"),
        "Hi {{ nmae }}! {{ question }}",
    )
    .unwrap();
    let (code, out, _) = common::setter_in(dir, &["check"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("template opener.j2 line 1: undefined value"),
        "{out}"
    );
}
