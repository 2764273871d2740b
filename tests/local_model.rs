//! A real three-turn conversation through the embedded model. Slow (about a
//! minute on two cores) and needs the ≈1.1 GB model, so it is ignored by default:
//!
//! ```text
//! setter model pull            # once
//! cargo test --test local_model -- --ignored --nocapture
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
