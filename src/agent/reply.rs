//! Step 3 of a turn: the model words the planned reply, then code guards it
//! ([`super::guard`]) and applies the reply rules ([`super::rules`]).

use super::turn::{Decision, Reply};
use super::{context, guard, language, localized, rules, transcript, Agent, Result};
use crate::config::Config;
use crate::lead::Direction;
use crate::llm::{tokens, ChatMessage, ChatRequest, ChatResponse, Usage};
use crate::store::{Author, Memory};
use serde_json::Value;
use whatlang::Lang;

/// Reply length cap: a DM is at most three short sentences (~60 words), and
/// on a local model every generated token is ~0.05 s of the lead's wait. A
/// reply cut by the cap loses its unfinished sentence (see `guard::finished`).
const REPLY_MAX_TOKENS: u32 = 80;
/// How many of the bot's newest replies a reply may not repeat.
const RECENT_REPLIES: usize = 3;

impl Agent {
    /// The model words the planned reply; code guards it. With a recorded
    /// reply (eval offline mode) the model is not called.
    pub(super) async fn reply(
        &self,
        memory: &Memory,
        d: &Decision,
        recorded: Option<String>,
    ) -> Result<Reply> {
        if let Some(text) = recorded {
            let guarded = guard::Guarded { text, fired: None };
            return Ok(Reply {
                guarded,
                usage: Usage::default(),
                speed: None,
            });
        }
        let (ctx, lang, named) = self.reply_context(memory, d);
        let request = self.reply_request(memory, &ctx)?;
        let answer = self.model.chat(&request).await?;
        let guarded = self.checked(memory, d, &answer, &ctx, lang, named)?;
        if let Some(fired) = &guarded.fired {
            tracing::info!(guards = %fired, "reply guard fired");
        }
        Ok(Reply {
            guarded,
            usage: answer.usage,
            speed: answer.speed,
        })
    }

    /// The templates' context for this turn's reply, the reply's language,
    /// and whether the prompt names it (a lead writing other than English
    /// to a persona that matches the lead's language).
    pub(super) fn reply_context(&self, memory: &Memory, d: &Decision) -> (Value, Lang, bool) {
        let config = &self.loaded.config;
        let lang = reply_language(config, memory);
        // A small model answers a Spanish lead in English unless the prompt
        // names the language, so code names the lead's (a fixed persona
        // language is named by the system prompt already).
        let named = Some(lang).filter(|l| *l != Lang::Eng && matches_lead(config));
        let lead = context::Addressee::of(
            memory.lead.name.as_deref(),
            &self.loaded.framework,
            &d.known,
        );
        let ctx = context::reply(
            config,
            &d.known,
            &d.plan,
            named.map(|l| l.eng_name()),
            &lead,
        );
        (ctx, lang, named.is_some())
    }

    /// Code's checks on the model's words: a reply cut by the token cap
    /// loses its unfinished sentence, the reply rules clean it, the guards
    /// check what is left, and the rules settle the result. `named`: the
    /// prompt named the lead's language (not English).
    fn checked(
        &self,
        memory: &Memory,
        d: &Decision,
        answer: &ChatResponse,
        ctx: &Value,
        lang: Lang,
        named: bool,
    ) -> Result<guard::Guarded> {
        let config = &self.loaded.config;
        let text = if answer.usage.completion_tokens >= REPLY_MAX_TOKENS {
            guard::finished(&answer.text)
        } else {
            answer.text.clone()
        };
        // fallback.j2 is English: other languages get code's own stand-in.
        let fallback = match localized::fallback(&d.plan, lang, &config.offer.name) {
            Some(text) => text,
            None => self.prompts.render("fallback.j2", ctx)?,
        };
        let lead_text = transcript::pending_text(memory);
        let lead_said = transcript::lead_said(memory);
        let recent = recent_replies(memory);
        let input = rules::Input {
            plan: &d.plan,
            lead_text: &lead_text,
            lead_said: &lead_said,
            recent: &recent,
            config_text: &self.config_text,
            fallback: &fallback,
            lang,
            persona: &config.persona,
            offer: &config.offer,
        };
        let (cleaned, earlier) = rules::clean(&text, &input);
        // With nothing useful left there is nothing to guard: the rules put
        // the plan's wording in its place.
        let guarded = match rules::useful(&cleaned) {
            true => guard::check(
                &cleaned,
                &lead_text,
                &d.plan,
                // The literal questions are English: only for English leads.
                d.plan
                    .slot
                    .as_deref()
                    .and_then(|id| self.loaded.framework.slot(id))
                    .filter(|_| !named),
                &config.offer.description,
                &fallback,
            ),
            false => guard::Guarded {
                text: cleaned,
                fired: None,
            },
        };
        Ok(rules::apply(guarded, earlier, &input))
    }

    /// Stable instructions first, the conversation, then this turn's task:
    /// only the tail changes between turns, so a local model re-evaluates
    /// little more than the new messages.
    pub(super) fn reply_request(&self, memory: &Memory, ctx: &Value) -> Result<ChatRequest> {
        let config = &self.loaded.config;
        let system = ChatMessage::system(self.prompts.render("system.j2", ctx)?);
        let task = ChatMessage::system(self.prompts.render("turn.j2", ctx)?);
        let mut history = transcript::conversation(memory);
        let budget = config
            .llm
            .context_tokens
            .saturating_sub(REPLY_MAX_TOKENS as usize)
            .saturating_sub(tokens::count_messages(std::slice::from_ref(&task)));
        tokens::trim_to_budget(&system, &mut history, budget);
        let mut messages = vec![system];
        messages.extend(history);
        messages.push(task);
        Ok(ChatRequest {
            messages,
            schema: None,
            temperature: config.llm.temperature,
            max_tokens: REPLY_MAX_TOKENS,
            conversation: Some(memory.lead.id.clone()),
        })
    }
}

/// The bot's newest replies in the loaded window, oldest first.
fn recent_replies(memory: &Memory) -> Vec<String> {
    let mut recent: Vec<String> = memory
        .messages
        .iter()
        .rev()
        .filter(|m| m.author == Author::Bot)
        .take(RECENT_REPLIES)
        .map(|m| m.text.clone())
        .collect();
    recent.reverse();
    recent
}

fn matches_lead(config: &Config) -> bool {
    config.persona.language == "match_lead"
}

/// The language a reply to this lead is written in: the persona's fixed
/// language, else the lead's (from their recent messages), else English.
pub(super) fn reply_language(config: &Config, memory: &Memory) -> Lang {
    if !matches_lead(config) {
        return language::from_code(&config.persona.language).unwrap_or(Lang::Eng);
    }
    let recent: Vec<&str> = memory
        .messages
        .iter()
        .rev()
        .filter(|m| m.direction == Direction::In)
        .take(3)
        .map(|m| m.text.as_str())
        .collect();
    language::detect(&recent.join(" ")).unwrap_or(Lang::Eng)
}
