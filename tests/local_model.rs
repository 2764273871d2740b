//! A real three-turn conversation through the embedded model. Slow (about a
//! minute on two cores) and needs the ≈1.1 GB model, so it is ignored by default:
//!
//! ```text
//! setter model pull            # once
//! cargo test --test local_model -- --ignored --nocapture --test-threads 1
//! ```
//!
//! Without the model file it prints a notice and passes.
#![cfg(feature = "local")]

use setter::agent::{Agent, Answer, Inbound};
use setter::config::{self, Config, Provider};
use setter::lead::Channel;
use setter::prompts::Prompts;
use setter::store::{NewLead, Store};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "runs the real local model (slow; needs `setter model pull`)"]
async fn three_turns_with_the_local_model() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Config::example();
    c.llm.provider = Provider::Local;
    // A debug build on a busy machine can take minutes per call.
    c.llm.timeout_secs = 900;
    c.storage.url = "sqlite://setter.db".into();
    let config_path = dir.path().join("setter.toml");
    std::fs::write(&config_path, toml::to_string(&c).unwrap()).unwrap();
    let loaded = config::load(&config_path).unwrap();

    let model_path = setter::llm::local::model_path(&loaded).unwrap();
    if !model_path.is_file() {
        eprintln!(
            "SKIPPED: no local model at {} (run `setter model pull`)",
            model_path.display()
        );
        return;
    }

    let started = Instant::now();
    let model = setter::llm::from_config(&loaded, None).unwrap();
    eprintln!("model loaded in {:.1}s", started.elapsed().as_secs_f64());
    let prompts = Prompts::load(Some(&loaded.resolve(Path::new("prompts")))).unwrap();
    let store = Store::open(&loaded.storage_url()).await.unwrap();
    let agent = Agent::new(Arc::new(loaded), model, store, Arc::new(prompts)).unwrap();
    let lead = agent
        .store()
        .lead_for(
            &NewLead {
                channel: Channel::Whatsapp,
                external_id: "+15550009".into(),
                name: Some("Local Test".into()),
                source: None,
                account_id: None,
            },
            0,
        )
        .await
        .unwrap();

    let lines = [
        "hi, I run a roofing company and need more leads",
        "we want to start in 2 weeks",
        "budget is around $2k a month",
    ];
    for (i, text) in lines.iter().enumerate() {
        let started = Instant::now();
        let inbound = Inbound {
            text: (*text).into(),
            external_id: None,
            at: i as i64 * 60_000,
        };
        let Answer::Replied(report) = agent.converse(&lead, inbound, None).await.unwrap() else {
            panic!("turn {} was not answered", i + 1)
        };
        eprintln!(
            "turn {} ({:.1}s, speed {:?}): lead: {text}\n  bot: {}\n  slots: {:?}\n  problem: {:?}",
            i + 1,
            started.elapsed().as_secs_f64(),
            report.speed,
            report.reply,
            report.slots,
            report.extraction_problem
        );
        // Valid JSON every time: a repair is tolerated, giving up is not.
        // (Ungrounded values dropped by code are a note, not a failure.)
        if let Some(problem) = &report.extraction_problem {
            assert!(
                !problem.contains("gave up"),
                "turn {}: extraction failed: {problem}",
                i + 1
            );
        }
        assert!(
            !report.reply.trim().is_empty(),
            "turn {}: empty reply",
            i + 1
        );
        assert!(
            report.reply.matches('?').count() <= 1,
            "turn {}: {}",
            i + 1,
            report.reply
        );
    }
}

/// The embedded model with the example config and `timeout_secs`, or `None`
/// (with a notice) when the model file is not on disk.
fn local_model(timeout_secs: u64) -> Option<setter::llm::local::LocalModel> {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Config::example();
    c.llm.provider = Provider::Local;
    c.llm.timeout_secs = timeout_secs;
    let config_path = dir.path().join("setter.toml");
    std::fs::write(&config_path, toml::to_string(&c).unwrap()).unwrap();
    let loaded = config::load(&config_path).unwrap();
    if !setter::llm::local::model_path(&loaded).unwrap().is_file() {
        eprintln!("SKIPPED: no local model (run `setter model pull`)");
        return None;
    }
    Some(setter::llm::local::LocalModel::from_config(&loaded).unwrap())
}

/// `[llm] timeout_secs` holds for the embedded model too, and a caller that
/// stops waiting frees the engine: the blocking decode loop checks both.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "runs the real local model (needs `setter model pull`)"]
async fn a_local_call_stops_at_its_timeout_and_when_dropped() {
    use setter::llm::{ChatMessage, ChatModel, ChatRequest};
    let Some(model) = local_model(1) else {
        return;
    };
    let long = ChatRequest {
        messages: vec![ChatMessage::user(
            "Write a 2,000-word essay on the history of roofing.".to_string(),
        )],
        schema: None,
        temperature: 0.0,
        max_tokens: 4_000,
        conversation: None,
    };
    let started = Instant::now();
    let err = model.chat(&long).await.unwrap_err().to_string();
    let took = started.elapsed().as_secs_f64();
    eprintln!("timed out after {took:.1}s: {err}");
    assert!(err.contains("timed out after 1 s"), "{err}");
    // One decode step past the deadline at most, not 4,000 tokens.
    assert!(took < 30.0, "{took}");
    // A dropped call frees the engine for the next one at once.
    let model = model.with_timeout(std::time::Duration::from_secs(600));
    let dropped = tokio::time::timeout(std::time::Duration::from_secs(1), model.chat(&long)).await;
    assert!(dropped.is_err());
    let short = ChatRequest {
        max_tokens: 4,
        ..long
    };
    let started = Instant::now();
    model.chat(&short).await.unwrap();
    eprintln!(
        "next call after a dropped one: {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "runs the real local model (needs `setter model pull`)"]
async fn interleaved_leads_keep_their_own_cache() {
    use setter::llm::{ChatMessage, ChatModel, ChatRequest};
    let Some(model) = local_model(900) else {
        return;
    };
    let system = ChatMessage::system("You answer in one short sentence.".to_string());
    let request = |lead: &str, messages: &[&str]| ChatRequest {
        messages: std::iter::once(system.clone())
            .chain(messages.iter().enumerate().map(|(i, m)| {
                if i % 2 == 0 {
                    ChatMessage::user(m.to_string())
                } else {
                    ChatMessage::assistant(m.to_string())
                }
            }))
            .collect(),
        schema: None,
        temperature: 0.0,
        max_tokens: 2,
        conversation: Some(lead.to_string()),
    };
    let a = "hi, we run a roofing company in Dallas and we miss calls from leads at night";
    let reused = |r: setter::llm::ChatResponse| r.speed.unwrap().reused_tokens;
    model.chat(&request("lead-a", &[a])).await.unwrap();
    let b = model
        .chat(&request("lead-b", &["hola, tenemos una clínica dental"]))
        .await
        .unwrap();
    let a2 = model
        .chat(&request("lead-a", &[a, "Thanks! When?", "in two weeks"]))
        .await
        .unwrap();
    // Lead B shares only the system prompt; lead A's second call still
    // finds its own first message cached although B's call came between.
    let (b, a2) = (reused(b), reused(a2));
    eprintln!("reused: lead B {b} tokens, lead A's second call {a2}");
    assert!(a2 >= b + 15, "lead B {b}, lead A {a2}");
}

/// A prefill leaves the prompt up to the next-message mark in the lead's
/// lane: the next call evaluates only the new message and what follows.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "runs the real local model (needs `setter model pull`)"]
async fn a_prefill_is_reused_by_the_next_call() {
    use setter::llm::{ChatMessage, ChatModel, ChatRequest, NEXT_MESSAGE_MARK};
    let Some(model) = local_model(900) else {
        return;
    };
    assert!(model.prefills());
    let request = |next: &str| ChatRequest {
        messages: vec![
            ChatMessage::system("You answer in one short sentence.".to_string()),
            ChatMessage::user("hi, we run a roofing company in Dallas".to_string()),
            ChatMessage::assistant("Nice! What made you reach out today?".to_string()),
            ChatMessage::user(next.to_string()),
        ],
        schema: None,
        temperature: 0.0,
        max_tokens: 2,
        conversation: Some("lead-prefill".to_string()),
    };
    model.prefill(&request(NEXT_MESSAGE_MARK)).await.unwrap();
    let answer = model
        .chat(&request("we miss calls from leads at night"))
        .await
        .unwrap();
    let speed = answer.speed.unwrap();
    let evaluated = answer.usage.prompt_tokens - speed.reused_tokens;
    eprintln!(
        "prompt {} tokens, {} reused after the prefill",
        answer.usage.prompt_tokens, speed.reused_tokens
    );
    // The new message (~9 tokens) and the template's turn markers.
    assert!(evaluated <= 16, "evaluated {evaluated}");
}

/// Prints what evaluating n new tokens after a cached prefix costs, for the
/// batch sizes the decoder's splitting rule is about (`local::decode`,
/// `SMALL_BATCH`): the figures behind it, measured again on this machine.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "runs the real local model (needs `setter model pull`); prints timings"]
async fn decode_cost_by_batch_size() {
    use setter::llm::{ChatMessage, ChatModel, ChatRequest};
    let Some(model) = local_model(900) else {
        return;
    };
    let words = "one two three four five six seven eight nine ten eleven twelve thirteen \
                 fourteen fifteen sixteen seventeen eighteen nineteen twenty twentyone twentytwo";
    let request = |text: &str| ChatRequest {
        messages: vec![
            ChatMessage::system("You answer in one short sentence.".to_string()),
            ChatMessage::user(text.to_string()),
        ],
        schema: None,
        temperature: 0.0,
        max_tokens: 1,
        conversation: Some("lead-cost".to_string()),
    };
    let base = "Count with me:";
    model.chat(&request(base)).await.unwrap();
    for n in [
        1usize, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 18, 22,
    ] {
        let mut best = f64::MAX;
        let mut evaluated = 0;
        for _ in 0..3 {
            model.chat(&request(base)).await.unwrap();
            let text = format!(
                "{base} {}",
                words.split(' ').take(n).collect::<Vec<_>>().join(" ")
            );
            let answer = model.chat(&request(&text)).await.unwrap();
            let speed = answer.speed.unwrap();
            evaluated = answer.usage.prompt_tokens - speed.reused_tokens;
            best = best.min(f64::from(evaluated) / speed.prompt_tokens_per_s * 1000.0);
        }
        eprintln!("{n:>3} words: {evaluated:>3} tokens evaluated in {best:>6.0} ms");
    }
}
