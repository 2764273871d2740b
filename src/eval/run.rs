//! Offline mode: replay each case's lead turns through the real agent with the
//! recorded setter replies, so only extraction calls the model (through a
//! cassette when given), and read the prediction off the final turn.

use super::case::{Case, Expect, Role};
use super::{CaseUsage, Error, Outcome};
use crate::agent::{Agent, Inbound, Outcome as TurnOutcome, TurnReport};
use crate::config::Loaded;
use crate::lead::{Channel, Stage};
use crate::llm::cassette;
use crate::prompts::Prompts;
use crate::store::{NewLead, Store};
use std::path::PathBuf;
use std::sync::Arc;

/// Cases start at 2026-01-05 09:00 UTC and turns are a minute apart unless a
/// turn has `at`: fixed times keep prompts (and cassette keys) stable.
pub const START_MS: i64 = 1_767_603_600_000;
const TURN_GAP_MS: i64 = 60_000;

/// A scratch SQLite file, removed (with its WAL files) on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Runs every case; a case that fails to run becomes an errored outcome.
/// `progress` shows a bar on stderr (hidden when stderr is not a terminal).
pub async fn offline(
    loaded: Loaded,
    cases: &[(Case, String)],
    cassette: Option<cassette::Settings>,
    progress: bool,
) -> Result<Vec<Outcome>, Error> {
    let prompts = Prompts::load(Some(&loaded.resolve(&loaded.config.prompts_dir)))?;
    let model = crate::llm::from_config(&loaded, cassette)?;
    let scratch =
        Scratch(std::env::temp_dir().join(format!("setter-eval-{}.db", uuid::Uuid::now_v7())));
    let store = Store::open(&format!("sqlite://{}", scratch.0.display())).await?;
    let agent = Agent::new(Arc::new(loaded), model, store.clone(), Arc::new(prompts))?;

    let bar = if progress {
        let bar = indicatif::ProgressBar::new(cases.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} eval [{bar:30}] {pos}/{len} {elapsed_precise} {msg}",
            )
            .expect("valid progress template")
            .progress_chars("=> "),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut out = Vec::new();
    for (case, location) in cases {
        bar.set_message(case.id.clone());
        let outcome = match run_case(&agent, case).await {
            Ok((pred, usage)) => Outcome {
                id: case.id.clone(),
                location: Some(location.clone()),
                gold: Some(case.expect.clone()),
                pred: Ok(pred),
                usage: Some(usage),
            },
            Err(e) => Outcome {
                id: case.id.clone(),
                location: Some(location.clone()),
                gold: Some(case.expect.clone()),
                pred: Err(e),
                usage: None,
            },
        };
        out.push(outcome);
        bar.inc(1);
    }
    bar.finish_and_clear();
    drop(agent);
    store.close().await;
    drop(scratch);
    Ok(out)
}

/// One case through the agent: (prediction, usage) or why it could not run.
async fn run_case(agent: &Agent, case: &Case) -> Result<(Expect, CaseUsage), String> {
    if !case.turns.iter().any(|t| t.role == Role::Lead) {
        return Err("the case has no lead turn".into());
    }
    let new = NewLead {
        channel: case.channel.unwrap_or(Channel::Webchat),
        external_id: format!("eval-{}", case.id),
        name: None,
        source: Some("setter eval".into()),
    };
    let lead = agent
        .store()
        .lead_for(&new, START_MS)
        .await
        .map_err(|e| e.to_string())?;
    let mut usage = CaseUsage::default();
    let mut last: Option<TurnReport> = None;
    for (i, turn) in case.turns.iter().enumerate() {
        if turn.role != Role::Lead {
            continue;
        }
        // The setter turn that answered this message, if recorded; offline
        // mode never calls the reply model.
        let recorded = match case.turns.get(i + 1) {
            Some(next) if next.role == Role::Setter => next.text.clone(),
            _ => String::new(),
        };
        let inbound = Inbound {
            text: turn.text.clone(),
            external_id: None,
            at: turn.at.unwrap_or(START_MS + i as i64 * TURN_GAP_MS),
        };
        match agent.turn_with(&lead, inbound, Some(recorded)).await {
            Ok(TurnOutcome::Replied(report)) => {
                usage.prompt_tokens += report.tokens.prompt as u64;
                usage.completion_tokens += report.tokens.completion as u64;
                usage.latency_ms.push(report.latency_ms);
                last = Some(*report);
            }
            Ok(TurnOutcome::Duplicate) => {
                return Err(format!("turn {}: stored as a duplicate", i + 1))
            }
            Err(e) => return Err(format!("turn {}: {e}", i + 1)),
        }
    }
    let r = last.expect("at least one lead turn ran");
    let pred = Expect {
        slots: Some(r.slots.clone()),
        fit: Some(r.fit),
        intent: Some(r.intent),
        tier: Some(r.tier),
        disqualified: Some(r.stage == Stage::Disqualified),
    };
    Ok((pred, usage))
}
