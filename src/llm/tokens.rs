//! Token counting (tiktoken-rs, o200k) for the context budget and cost per turn.
//!
//! Counts are exact for OpenAI's current models and a close estimate for
//! others (the local model reports its own exact usage); the budget only has
//! to keep calls inside the context window with a margin.

use super::{ChatMessage, Usage};
use crate::config::LlmConfig;

/// Tokens a chat message costs beyond its text (role and separators).
const PER_MESSAGE_OVERHEAD: usize = 4;

pub fn count(text: &str) -> usize {
    tiktoken_rs::o200k_base_singleton()
        .encode_ordinary(text)
        .len()
}

pub fn count_messages(messages: &[ChatMessage]) -> usize {
    messages
        .iter()
        .map(|m| count(&m.content) + PER_MESSAGE_OVERHEAD)
        .sum()
}

/// Drops the oldest conversation messages until `system` plus the rest fit in
/// `budget` tokens. The system prompt and the newest message are never dropped.
/// Counts from the newest message back and stops at the budget, so the cost
/// is bounded by the context window, not by how long the conversation is.
/// Returns how many messages were dropped.
pub fn trim_to_budget(
    system: &ChatMessage,
    history: &mut Vec<ChatMessage>,
    budget: usize,
) -> usize {
    let mut total = count(&system.content) + PER_MESSAGE_OVERHEAD;
    let mut keep = 0;
    for m in history.iter().rev() {
        total += count(&m.content) + PER_MESSAGE_OVERHEAD;
        if total > budget && keep > 0 {
            break;
        }
        keep += 1;
    }
    let dropped = history.len() - keep;
    history.drain(..dropped);
    dropped
}

/// Cost in USD from the configured per-1k prices (0 when unpriced).
pub fn cost(llm: &LlmConfig, usage: Usage) -> f64 {
    (usage.prompt_tokens as f64 * llm.price_per_1k_prompt
        + usage.completion_tokens as f64 * llm.price_per_1k_completion)
        / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_drops_oldest_first_and_keeps_the_newest() {
        let system = ChatMessage::system("You are helpful.");
        let mut history: Vec<ChatMessage> = (0..50)
            .map(|i| ChatMessage::user(format!("message number {i} with some words in it")))
            .collect();
        let dropped = trim_to_budget(&system, &mut history, 120);
        assert!(dropped > 0);
        assert_eq!(
            history.last().unwrap().content,
            "message number 49 with some words in it"
        );
        assert!(count_messages(&history) + count(&system.content) + 4 <= 120);
        assert!(!history
            .iter()
            .any(|m| m.content.starts_with("message number 0 ")));
    }

    #[test]
    fn cost_uses_per_thousand_prices() {
        let llm = LlmConfig {
            price_per_1k_prompt: 0.5,
            price_per_1k_completion: 1.5,
            ..LlmConfig::default()
        };
        let c = cost(
            &llm,
            Usage {
                prompt_tokens: 2000,
                completion_tokens: 1000,
            },
        );
        assert!((c - 2.5).abs() < 1e-9);
    }
}
