//! Asking the model for the recommended approach (`prompts/handoff_approach.j2`)
//! and checking its answer ([`super::approach`]). Best effort by design: a
//! handoff never waits longer than the model's timeout for it and never
//! fails for it — without a model, or when the call fails, the packet's
//! `recommended_approach` is `null` and a warning says why.

use super::approach::{self, Approach};
use super::packet::{Line, Packet};
use crate::config::{Config, Loaded};
use crate::llm::{tokens, ChatMessage, ChatModel, ChatRequest};
use crate::prompts::Prompts;
use std::time::Duration;

/// The template's file name (overridable in `prompts/` like the others).
pub(crate) const TEMPLATE: &str = "handoff_approach.j2";
/// Five short sentences with citations fit well within this.
const MAX_TOKENS: u32 = 300;
/// A message longer than this reaches the model cut (it is checked whole).
const LINE_CHARS: usize = 500;

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error(transparent)]
    Prompt(#[from] crate::prompts::Error),
    #[error(transparent)]
    Model(#[from] crate::llm::Error),
    #[error("the model did not answer within {0}s")]
    Timeout(u64),
}

/// The checked approach for `packet`, or `None` (logged) when there is no
/// model or the call fails.
pub(super) async fn recommend(
    model: Option<&dyn ChatModel>,
    prompts: &Prompts,
    loaded: &Loaded,
    packet: &Packet,
) -> Option<Approach> {
    let lead_id = packet.lead.id.as_str();
    let Some(model) = model else {
        tracing::info!(
            lead_id,
            "no model to write the recommended approach; it is null"
        );
        return None;
    };
    match ask(model, prompts, &loaded.config, &packet.transcript).await {
        Ok(answer) => {
            let approach =
                approach::check(&answer, &packet.transcript, &known_names(loaded, packet));
            tracing::info!(
                lead_id,
                kept = approach.claims.len(),
                dropped = approach.dropped.len(),
                "recommended approach checked"
            );
            Some(approach)
        }
        Err(e) => {
            tracing::warn!(lead_id, error = %e, "no recommended approach; it is null");
            None
        }
    }
}

/// The model's raw answer, within twice `llm.timeout_secs` (the bound the
/// HTTP backend puts on a call and its retries; the local one has none).
async fn ask(
    model: &dyn ChatModel,
    prompts: &Prompts,
    config: &Config,
    transcript: &[Line],
) -> Result<String, Error> {
    let prompt = fitted_prompt(prompts, config, transcript)?;
    let request = ChatRequest {
        messages: vec![ChatMessage::user(prompt)],
        schema: None,
        temperature: config.llm.temperature,
        max_tokens: MAX_TOKENS,
        conversation: None,
    };
    let secs = 2 * config.llm.timeout_secs;
    let answer = tokio::time::timeout(Duration::from_secs(secs), model.chat(&request))
        .await
        .map_err(|_| Error::Timeout(secs))??;
    Ok(answer.text)
}

/// The prompt with as many of the newest messages as fit the context
/// window (each cut to [`LINE_CHARS`]); numbers stay the transcript's.
fn fitted_prompt(
    prompts: &Prompts,
    config: &Config,
    transcript: &[Line],
) -> Result<String, crate::prompts::Error> {
    let fixed = tokens::count(&prompts.render(TEMPLATE, context(config, &[]))?);
    let mut budget = config
        .llm
        .context_tokens
        .saturating_sub(MAX_TOKENS as usize + fixed);
    let mut lines: Vec<Line> = Vec::new();
    for line in transcript.iter().rev() {
        let text = clip(&line.text);
        let cost = tokens::count(&text) + 8;
        if cost > budget {
            break;
        }
        budget -= cost;
        lines.push(Line {
            text,
            ..line.clone()
        });
    }
    lines.reverse();
    prompts.render(TEMPLATE, context(config, &lines))
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(LINE_CHARS) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// What the template sees (also rendered by `setter check`).
pub(crate) fn context(config: &Config, transcript: &[Line]) -> serde_json::Value {
    serde_json::json!({
        "offer": config.offer,
        "persona": config.persona,
        "transcript": transcript,
    })
}

/// Names the packet states anyway, so a claim may use them uncited.
fn known_names(loaded: &Loaded, packet: &Packet) -> Vec<String> {
    let config = &loaded.config;
    let mut names = vec![config.offer.name.clone(), config.persona.name.clone()];
    names.extend(packet.lead.name.clone());
    names
}
