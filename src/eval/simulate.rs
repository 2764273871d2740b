//! The simulated lead of `simulate` mode: a model playing a persona writes
//! the lead's next DM from the conversation so far. Its calls go through the
//! same cassette as the bot's, so a recorded simulation replays exactly.

use super::cadence::TurnTrace;
use super::case::Persona;
use crate::llm::{ChatMessage, ChatModel, ChatRequest};

/// What the model writes when the persona would not answer.
const SILENCE: &str = "(silence)";
/// A DM is a sentence or two.
const MAX_TOKENS: u32 = 80;

/// The lead's next message, or `None` when the persona goes quiet.
pub async fn next_message(
    model: &dyn ChatModel,
    business: &str,
    persona: &Persona,
    trace: &[TurnTrace],
    temperature: f32,
) -> Result<Option<String>, crate::llm::Error> {
    let mut messages = vec![ChatMessage::system(format!(
        "You are role-playing a potential customer who is writing direct messages to \
         {business}. {}\n\nYou are the customer, not the business: you never offer help, \
         never thank them for their time and never say 'you're welcome'. Write only your \
         next message as that customer: one or two short sentences, in your own language \
         and style, no quotes, no name prefix. You never reveal that you are role-playing. \
         If you would not reply any more, write exactly {SILENCE}.",
        persona.description.trim()
    ))];
    // Roles flipped: the bot's replies are what "the user" said to the persona.
    for t in trace {
        messages.push(ChatMessage::assistant(t.lead.clone()));
        messages.push(ChatMessage::user(t.reply.clone()));
    }
    let answer = model
        .chat(&ChatRequest {
            messages,
            schema: None,
            temperature,
            max_tokens: MAX_TOKENS,
            conversation: None,
        })
        .await?;
    Ok(clean(&answer.text))
}

/// Strips what small models add around a message: quotes, a speaker prefix.
fn clean(text: &str) -> Option<String> {
    let text = text.trim().trim_matches('"').trim();
    let text = ["Lead:", "Me:", "You:"]
        .iter()
        .find_map(|p| text.strip_prefix(p))
        .unwrap_or(text)
        .trim()
        .trim_matches('"')
        .trim();
    // Small models drop the brackets or use others: "silence", "[silence]".
    let bare = text
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    (!bare.is_empty() && bare != "silence" && !text.contains(SILENCE)).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn clean_strips_quotes_prefixes_and_reads_silence() {
        assert_eq!(
            clean(" \"Lead: sure, tuesday works\" ").as_deref(),
            Some("sure, tuesday works")
        );
        assert_eq!(clean("Lead: \"sure\"").as_deref(), Some("sure"));
        assert_eq!(clean("(silence)"), None);
        assert_eq!(clean("silence"), None);
        assert_eq!(clean("[Silence]"), None);
        assert_eq!(clean("..."), None);
        assert_eq!(clean("   "), None);
    }
}
