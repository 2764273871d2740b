//! A whole qualifying conversation against the loopback model stub: slots
//! accumulate, one question per reply, budget waits, disqualified leads stop
//! being questioned, bad model output is repaired or survived.

mod common;

use common::{new_lead, say, Env, Stub};
use serde_json::json;
use setter::agent::plan::Action;
use setter::lead::{Stage, Tier};

const DAY: i64 = 86_400_000;

fn facts(pairs: &[(&str, &str)]) -> serde_json::Value {
    let mut v = json!({"pain": null, "business": null, "desired_outcome": null, "timeline": null, "budget": null,
                        "traits": {}, "disqualifiers": {}});
    for (k, val) in pairs {
        v[*k] = json!(val);
    }
    v
}

#[tokio::test]
async fn a_qualifying_conversation_accumulates_slots_and_respects_cadence() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550001").await;

    let script = [
        (
            "Hi! I run a marketing agency and we're drowning in DMs",
            facts(&[
                ("pain", "drowning in DMs"),
                ("business", "marketing agency"),
            ]),
        ),
        (
            "About 8 people, 40k a month",
            facts(&[("business", "marketing agency, 8 people, 40k/month")]),
        ),
        (
            "I want every lead answered in 5 minutes",
            facts(&[("desired_outcome", "every lead answered in 5 minutes")]),
        ),
        ("Ideally in 2 weeks", facts(&[("timeline", "in 2 weeks")])),
        ("We could do $3k/month", facts(&[("budget", "$3k/month")])),
        ("What does it cost? Can we book a call?", facts(&[])),
    ];
    // The writer model over-asks, and off plan; the guard cuts it to one
    // question and asks the planned slot (desired_outcome) instead.
    stub.reply("Love that. What do you sell? And what's your budget?");
    let mut reports = Vec::new();
    for (i, (text, extraction)) in script.iter().enumerate() {
        stub.extraction(extraction.clone());
        reports.push(say(&agent, &lead, text, i as i64 * 60_000).await);
    }
    for (i, r) in reports.iter().enumerate() {
        assert!(
            r.reply.matches('?').count() <= 1,
            "turn {}: {}",
            i + 1,
            r.reply
        );
        if i + 1 < 5 {
            assert_ne!(
                r.asked_slot.as_deref(),
                Some("budget"),
                "budget asked in message {}",
                i + 1
            );
        }
    }
    assert_eq!(
        reports[0].reply,
        "Love that. If this worked perfectly, what would be different for you in 90 days?"
    );
    assert_eq!(
        reports[0].guard.as_deref(),
        Some("extra_questions_cut,off_plan_question")
    );
    let asked: Vec<Option<&str>> = reports.iter().map(|r| r.asked_slot.as_deref()).collect();
    // Message 3 answers the question of turn 1, not the timeline asked in turn
    // 2: no immediate re-ask. Messages 4–5 leave only budget, which waits for
    // message 5 — and the lead volunteers it.
    assert_eq!(
        asked,
        vec![
            Some("desired_outcome"),
            Some("timeline"),
            None,
            None,
            None,
            None
        ]
    );

    let last = reports.last().unwrap();
    assert_eq!(last.slots["budget"], json!("$3k/month"));
    assert_eq!(
        last.slots["business"],
        json!("marketing agency, 8 people, 40k/month")
    );
    assert_eq!(last.slots.len(), 5);
    assert_eq!((last.tier, last.stage), (Tier::Hot, Stage::Sql));
    assert_eq!(last.action, Action::Close);
    assert!(
        last.reply.contains("https://pay.example.com/growthpilot"),
        "{}",
        last.reply
    );

    // Slots point at the message they came from.
    let memory = agent.store().memory(&lead.id).await.unwrap();
    let budget_msg = memory.slots["budget"].evidence_message_id.unwrap();
    assert_eq!(
        memory
            .messages
            .iter()
            .find(|m| m.id == budget_msg)
            .unwrap()
            .text,
        "We could do $3k/month"
    );
    assert_eq!(memory.scores.len(), 6);
    assert_eq!(memory.turns.len(), 6);
}

#[tokio::test]
async fn a_disqualified_lead_is_declined_and_never_questioned() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550002").await;
    stub.reply("Thanks! What's your monthly revenue?");
    let r = say(&agent, &lead, "hey, I sell candles on my Shopify store", 0).await;
    assert_eq!(
        (r.action, r.tier, r.stage),
        (Action::Decline, Tier::Cold, Stage::Disqualified)
    );
    assert!(!r.reply.contains('?'), "{}", r.reply);
    assert_eq!(r.guard.as_deref(), Some("question_in_decline"));
    assert!(
        r.reasons
            .iter()
            .any(|x| x == "disqualifier physical_products matched: \"shopify\" in message 1"),
        "{:?}",
        r.reasons
    );
    let again = say(
        &agent,
        &lead,
        "but I really want more sales, how much is it?",
        1000,
    )
    .await;
    assert_eq!(
        (again.action, again.stage),
        (Action::Decline, Stage::Disqualified)
    );
}

#[tokio::test]
async fn a_model_disqualifier_needs_a_real_quote() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550003").await;
    let mut x = facts(&[]);
    x["disqualifiers"] = json!({"job_seeker": "I want a job"});
    stub.extraction(x);
    let r = say(
        &agent,
        &lead,
        "I run a dental clinic and need more bookings",
        0,
    )
    .await;
    assert_eq!(
        r.stage,
        Stage::Mql,
        "the clinic trait counts; the invented quote does not"
    );
    assert_ne!(r.action, Action::Decline);
}

#[tokio::test]
async fn invalid_extraction_is_repaired_once_then_survived() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550004").await;

    stub.raw_extraction("Sure! The lead is an agency owner.");
    stub.extraction(facts(&[("pain", "no leads")]));
    let r = say(&agent, &lead, "no leads lately", 0).await;
    assert_eq!(
        r.extraction_problem.as_deref(),
        Some("repaired: no JSON object in the reply")
    );
    assert_eq!(r.slots["pain"], json!("no leads"));
    let retry = &stub.requests()[1];
    let last = retry["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(last, "That answer was invalid: no JSON object in the reply. Reply with only the JSON object matching the schema.");

    stub.raw_extraction("{\"pain\": 42}");
    stub.raw_extraction("still not json");
    let r = say(&agent, &lead, "we sell courses", 1000).await;
    assert_eq!(
        r.extraction_problem.as_deref(),
        Some("gave up: no JSON object in the reply")
    );
    assert_eq!(r.slots.len(), 1, "the turn goes on with what was known");
    assert!(!r.reply.is_empty());
}

#[tokio::test]
async fn a_cold_lead_who_comes_back_asking_price_becomes_hot() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550005").await;
    let turns = [
        (
            "I'm the owner of a coaching business, we get leads from Instagram DMs",
            facts(&[("business", "coaching business")]),
        ),
        (
            "Our DMs are a mess, we lose leads",
            facts(&[("pain", "DMs are a mess")]),
        ),
        ("Honestly maybe later, not right now", facts(&[])),
    ];
    let mut last = None;
    for (i, (text, x)) in turns.iter().enumerate() {
        stub.extraction(x.clone());
        last = Some(say(&agent, &lead, text, i as i64 * 60_000).await);
    }
    let cold = last.unwrap();
    assert_eq!(cold.tier, Tier::Cold, "{:?}", cold.reasons);
    stub.extraction(facts(&[]));
    let back = say(
        &agent,
        &lead,
        "Ok we're ready now. What's the price and can we get a call?",
        30 * DAY,
    )
    .await;
    assert_eq!(back.tier, Tier::Hot, "{:?}", back.reasons);
    assert!(
        back.reasons.iter().any(|r| r == "tier cold → hot"),
        "{:?}",
        back.reasons
    );
    assert!(
        back.reasons
            .iter()
            .any(|r| r.starts_with("asked price: \"price\" in message 7")),
        "{:?}",
        back.reasons
    );
}

#[tokio::test]
async fn redelivered_messages_are_processed_once() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550006").await;
    let msg = |at| setter::agent::Inbound {
        text: "hello".into(),
        external_id: Some("wamid.ABC".into()),
        at,
    };
    assert!(matches!(
        agent.converse(&lead, msg(0), None).await.unwrap(),
        setter::agent::Answer::Replied(_)
    ));
    assert!(matches!(
        agent.converse(&lead, msg(5), None).await.unwrap(),
        setter::agent::Answer::NothingPending
    ));
    assert_eq!(
        agent.store().memory(&lead.id).await.unwrap().messages.len(),
        2
    );
}

/// Reply requests only grow at the end between turns: stable instructions,
/// the conversation, then this turn's task. A local model keeps everything
/// but the tail in its KV cache.
#[tokio::test]
async fn reply_prompts_are_append_only_with_the_task_last() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550009").await;
    for (i, text) in ["hi there", "I run a dental clinic", "we miss DMs at night"]
        .iter()
        .enumerate()
    {
        say(&agent, &lead, text, i as i64 * 60_000).await;
    }
    let replies: Vec<Vec<serde_json::Value>> = stub
        .requests()
        .into_iter()
        .filter(|q| q.get("response_format").is_none())
        .map(|q| q["messages"].as_array().unwrap().clone())
        .collect();
    assert_eq!(replies.len(), 3);
    for (turn, messages) in replies.iter().enumerate() {
        let last = messages.last().unwrap();
        assert_eq!(last["role"], "system");
        assert!(
            last["content"].as_str().unwrap().contains("Your task ("),
            "{last}"
        );
        assert!(!messages[0]["content"]
            .as_str()
            .unwrap()
            .contains("Your task"));
        // system + (lead, reply) pairs + the new lead message + the task.
        assert_eq!(messages.len(), 2 * turn + 3);
    }
    for pair in replies.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        let shared = before.len() - 1; // all but the old task
        assert_eq!(before[..shared], after[..shared], "only the tail changes");
    }
}

/// A Spanish lead: the reply prompt names the language, and the guard does
/// not splice an English question into the reply.
#[tokio::test]
async fn a_spanish_lead_gets_a_prompt_naming_spanish() {
    let stub = Stub::start().await;
    stub.reply("¡Hola! ¿Cuál es tu mayor reto con los mensajes?");
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+34600000001").await;
    let r = say(&agent, &lead, "Hola! Tengo una clínica dental en Madrid", 0).await;
    assert_eq!(r.reply, "¡Hola! ¿Cuál es tu mayor reto con los mensajes?");
    assert_eq!(r.guard, None);
    let request = stub
        .requests()
        .into_iter()
        .rfind(|q| q.get("response_format").is_none())
        .unwrap();
    let task = request["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        task.ends_with("The lead writes in Spanish: write your whole reply in Spanish."),
        "{task}"
    );
}

/// Three turns for one lead at once (as from two `setter chat --lead SAME`
/// processes): one reply, the others find nothing left to answer — no
/// "UNIQUE constraint failed", and no message left unanswered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_turns_for_one_lead_answer_once() {
    let stub = Stub::start().await;
    stub.script.lock().unwrap().delay_ms = 50;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550010").await;
    let inbound = setter::agent::Inbound {
        text: "hi, I run an agency".into(),
        external_id: None,
        at: 0,
    };
    agent.accept(&lead, inbound).await.unwrap();
    let turns: Vec<_> = (0..3)
        .map(|_| {
            let agent = agent.clone();
            let id = lead.id.clone();
            tokio::spawn(async move { agent.answer(&id).await })
        })
        .collect();
    let mut replied = 0;
    for t in turns {
        match t.await.unwrap().unwrap() {
            setter::agent::Answer::Replied(_) => replied += 1,
            setter::agent::Answer::NothingPending => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(replied, 1);
    let memory = agent.store().memory(&lead.id).await.unwrap();
    assert_eq!(memory.turns.len(), 1);
    assert_eq!(memory.messages.len(), 2);
    assert!(memory.pending.is_empty());
}

/// A failed model call leaves the message pending (scored and answered by
/// the next turn), instead of stored but never answered.
#[tokio::test]
async fn a_failed_turn_leaves_the_message_pending_for_the_next_one() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |c| c.llm.max_retries = 0);
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550011").await;
    stub.fail(400);
    let inbound = |text: &str, at| setter::agent::Inbound {
        text: text.into(),
        external_id: None,
        at,
    };
    assert!(agent
        .converse(&lead, inbound("we are a roofing company", 0), None)
        .await
        .is_err());
    let memory = agent.store().memory(&lead.id).await.unwrap();
    assert_eq!(memory.pending.len(), 1);
    let report = say(&agent, &lead, "and we need more leads", 10).await;
    assert_eq!(report.turn, 1);
    assert_eq!(report.messages, 2, "the turn answered both messages");
    // The first message's keyword evidence was not lost.
    assert!(
        report
            .reasons
            .iter()
            .any(|r| r.contains("\"roofing\" in message 1")),
        "{:?}",
        report.reasons
    );
}

/// A 100 KB message is stored whole but reaches the model cut.
#[tokio::test]
async fn a_huge_message_is_clipped_for_the_model() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550012").await;
    let huge = "we sell services ".repeat(6_000);
    say(&agent, &lead, &huge, 0).await;
    let memory = agent.store().memory(&lead.id).await.unwrap();
    assert_eq!(memory.messages[0].text, huge);
    for request in stub.requests() {
        let size = request.to_string().len();
        assert!(size < 30_000, "a model request of {size} bytes");
    }
}

/// `max_retries = 3` against a server that always fails: 4 requests, not 16
/// (async-openai's own retry layer used to multiply backon's).
#[tokio::test]
async fn max_retries_bounds_the_requests_made() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |c| c.llm.max_retries = 3);
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550013").await;
    for _ in 0..20 {
        stub.fail(500);
    }
    let inbound = setter::agent::Inbound {
        text: "hello".into(),
        external_id: None,
        at: 0,
    };
    assert!(agent.converse(&lead, inbound, None).await.is_err());
    assert_eq!(stub.requests().len(), 4);
}
