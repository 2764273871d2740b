//! A follow-up reworded by the model from what the lead said
//! (`[followups] personalise = true`).
//!
//! Code has already decided that the step goes out now and rendered its
//! static text; the model only rewrites that text with the lead's own facts
//! and language. Whatever the model returns is checked in code, and the
//! static text goes out instead when the rewrite is empty, long, asks "are
//! you still interested?", adds a link, or the model fails or is slow — a
//! follow-up is never lost or delayed for the sake of a nicer wording.

use crate::config::Loaded;
use crate::lead::Direction;
use crate::llm::{ChatMessage, ChatModel, ChatRequest};
use crate::prompts::Prompts;
use crate::store::Memory;
use serde_json::json;
use std::time::Duration;

/// The lead messages the model sees: enough for their language and tone.
const RECENT: usize = 3;
/// Longest lead message shown, in characters.
const CLIP: usize = 300;

/// What a step needs to be personalised.
pub(super) struct Draft<'a> {
    pub text: &'a str,
    pub kind: &'a str,
    pub lead_name: Option<&'a str>,
}

/// The model's rewrite of `draft`, or why it was not used.
pub(super) async fn personalise(
    model: &dyn ChatModel,
    prompts: &Prompts,
    loaded: &Loaded,
    memory: &Memory,
    draft: &Draft<'_>,
) -> Result<String, String> {
    let prompt = prompts
        .render("followup_personalise.j2", context(memory, draft))
        .map_err(|e| e.to_string())?;
    let request = ChatRequest {
        messages: vec![ChatMessage::user(prompt)],
        schema: None,
        temperature: loaded.config.llm.temperature,
        max_tokens: 120,
        conversation: None,
    };
    // The local backend has no timeout of its own.
    let limit = Duration::from_secs(2 * loaded.config.llm.timeout_secs.max(1));
    let answer = tokio::time::timeout(limit, model.chat(&request))
        .await
        .map_err(|_| format!("no answer within {} s", limit.as_secs()))?
        .map_err(|e| e.to_string())?;
    checked(answer.text.trim(), draft.text)
}

fn context(memory: &Memory, draft: &Draft<'_>) -> serde_json::Value {
    let facts: Vec<String> = memory
        .slots
        .iter()
        .filter_map(|(slot, v)| match &v.value {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) if s.trim().is_empty() => None,
            serde_json::Value::String(s) => Some(format!("{}: {s}", slot.replace('_', " "))),
            other => Some(format!("{}: {other}", slot.replace('_', " "))),
        })
        .collect();
    let mut recent: Vec<String> = memory
        .messages
        .iter()
        .rev()
        .filter(|m| m.direction == Direction::In)
        .take(RECENT)
        .map(|m| m.text.chars().take(CLIP).collect())
        .collect();
    recent.reverse();
    json!({
        "text": draft.text,
        "kind": draft.kind,
        "lead_name": draft.lead_name,
        "facts": facts,
        "recent": recent,
    })
}

/// The rewrite when it keeps the rules the static text keeps.
pub(super) fn checked(rewrite: &str, original: &str) -> Result<String, String> {
    let text = rewrite.trim().trim_matches('"').trim();
    let limit = (original.chars().count() * 2).max(320);
    if text.is_empty() {
        return Err("the rewrite is empty".into());
    }
    if text.chars().count() > limit {
        return Err(format!("the rewrite is longer than {limit} characters"));
    }
    if super::asks_if_still_interested(text) {
        return Err("the rewrite asks \"are you still interested?\"".into());
    }
    if text.contains("{{") || text.contains("{%") {
        return Err("the rewrite contains template syntax".into());
    }
    let links = |t: &str| t.contains("http://") || t.contains("https://") || t.contains("www.");
    if links(text) && !links(original) {
        return Err("the rewrite adds a link".into());
    }
    if text.matches('?').count() > 1 {
        return Err("the rewrite asks more than one question".into());
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::checked;

    const STATIC: &str = "Hey Ana, didn't want this to slip through the cracks.";

    #[test]
    fn a_rewrite_that_breaks_a_rule_falls_back() {
        assert!(checked("Hola Ana, ¿seguimos con tu tienda de ropa?", STATIC).is_ok());
        assert!(
            checked("\"Hi Ana, quick nudge on the roofing leads.\"", STATIC)
                .is_ok_and(|t| !t.starts_with('"'))
        );
        for (bad, why) in [
            ("", "empty"),
            ("Are you still interested, Ana?", "still interested"),
            ("Book here: https://evil.example.com", "adds a link"),
            ("Hi {{ lead_name }}", "template"),
            ("Why? When? How?", "more than one question"),
        ] {
            let err = checked(bad, STATIC).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
        assert!(checked(&"word ".repeat(100), STATIC)
            .unwrap_err()
            .contains("longer"));
    }
}
