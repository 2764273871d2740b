//! What the model sees of the conversation: the extraction transcript and
//! the reply's chat history, with every message clipped so that one huge
//! message cannot blow the context window (it is stored whole all the same).

use crate::lead::Direction;
use crate::llm::ChatMessage;
use crate::store::{Memory, Message};

/// How many earlier messages the extractor sees for context, at least.
pub(super) const EXTRACT_CONTEXT_MESSAGES: usize = 6;
/// The extractor's window moves in steps of this many messages, not one by
/// one: consecutive turns then start their transcript with the same
/// messages, so a local model keeps them cached and evaluates only what is
/// new (a window that slid every turn re-evaluated the whole transcript,
/// ~120 tokens or 2 s on two cores, from the fourth turn on).
pub(super) const EXTRACT_CONTEXT_STEP: usize = 4;
/// An earlier message longer than this reaches the model cut (with "…"): a
/// DM is rarely over 500 characters, and context is only context.
const EARLIER_CHARS: usize = 500;
/// The messages being answered reach the model cut to this many characters
/// in all (~600 tokens): a 100 KB paste cannot crowd out the prompt.
const NEWEST_CHARS: usize = 2_400;

/// `text` cut to at most `max` characters, marked with "…" when cut.
pub(super) fn clip(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => text.into(),
        Some((end, _)) => format!("{}…", &text[..end]).into(),
    }
}

/// The messages this turn answers, joined, as the model and guards read them.
pub(super) fn pending_text(memory: &Memory) -> String {
    let joined = memory
        .pending
        .iter()
        .map(|m| m.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    clip(&joined, NEWEST_CHARS).into_owned()
}

/// Recent context plus the lead's newest (unanswered) messages, as one user message.
/// Every message the lead has written, one per line: what grounding and
/// the reply rules compare values and sentences with.
pub(super) fn lead_said(memory: &Memory) -> String {
    lead_messages(memory).join("\n")
}

/// Every message the lead has written (in the loaded window), oldest first.
pub(super) fn lead_messages(memory: &Memory) -> Vec<&str> {
    memory
        .messages
        .iter()
        .filter(|m| m.direction == Direction::In)
        .map(|m| m.text.as_str())
        .collect()
}

pub(super) fn extraction(memory: &Memory) -> String {
    let first_pending = memory.pending.first().map_or(i64::MAX, |m| m.id);
    let earlier: Vec<&Message> = memory
        .messages
        .iter()
        .filter(|m| m.id < first_pending)
        .collect();
    let start = context_start(memory, &earlier);
    let mut out = String::new();
    if start < earlier.len() {
        out.push_str("Earlier messages:\n");
        for m in &earlier[start..] {
            let who = if m.direction == Direction::In {
                "LEAD"
            } else {
                "YOU"
            };
            out.push_str(&format!("{who}: {}\n", clip(&m.text, EARLIER_CHARS)));
        }
        out.push('\n');
    }
    let label = if memory.pending.len() > 1 {
        "Newest LEAD messages"
    } else {
        "Newest LEAD message"
    };
    out.push_str(&format!("{label}:\n{}", pending_text(memory)));
    out
}

/// Where the extractor's context starts in `earlier`: at a message number
/// that is a multiple of [`EXTRACT_CONTEXT_STEP`], with at least
/// [`EXTRACT_CONTEXT_MESSAGES`] messages after it (fewer when there are fewer).
fn context_start(memory: &Memory, earlier: &[&Message]) -> usize {
    let skipped = earlier
        .first()
        .and_then(|m| memory.message_number(m.id))
        .map_or(0, |n| n - 1);
    let total = skipped + earlier.len();
    let from = total.saturating_sub(EXTRACT_CONTEXT_MESSAGES) / EXTRACT_CONTEXT_STEP
        * EXTRACT_CONTEXT_STEP;
    from.saturating_sub(skipped)
}

/// The conversation as chat messages (lead = user, Setter or a human from the
/// business = assistant), each clipped.
pub(super) fn conversation(memory: &Memory) -> Vec<ChatMessage> {
    memory
        .messages
        .iter()
        .map(|m| {
            let text = clip(&m.text, NEWEST_CHARS).into_owned();
            match m.direction {
                Direction::In => ChatMessage::user(text),
                Direction::Out => ChatMessage::assistant(text),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::clip;

    #[test]
    fn clipping_counts_characters_and_marks_the_cut() {
        assert_eq!(clip("hello", 5), "hello");
        assert_eq!(clip("héllo wörld", 5), "héllo…");
        assert_eq!(clip(&"x".repeat(100_000), 3), "xxx…");
    }
}
