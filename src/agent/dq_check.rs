//! Disqualifiers stated in other words: for each disqualifier with a
//! `check` (see [`crate::config::DqCheck`]), one contrastive question about
//! a new lead's messages, answered by the model with one of two words.
//!
//! Each check is its own call. Asked inside the extraction call, or all
//! three in one answer, the embedded model's answers collapsed (one job
//! seeker in 43 found); asked alone, with the question as the system prompt
//! and the lead's words as the user message, it separates them well
//! (docs/local-models.md). The embedded model reports how its probability
//! split between the two answers; the disqualifier counts when the
//! disqualifying answer's share reaches the check's `min` (decided in
//! `evidence`). The prompt is the same for every lead, so each check keeps
//! it cached in a lane of its own and costs little more than the lead's words.

use super::extract::Extraction;
use super::{evidence, filler, score, transcript};
use crate::config::{DqCheck, Icp};
use crate::llm::{ChatMessage, ChatModel, ChatRequest, ChatResponse, JsonSchema, Usage};
use crate::prompts::Prompts;
use crate::store::Memory;
use serde_json::json;
use std::collections::BTreeMap;
use tracing::Instrument;

/// Checks run while the lead has sent at most this many messages: who is
/// writing, what they sell and whether they have launched come up early,
/// and later turns keep their speed.
pub(super) const CHECKED_MESSAGES: usize = 3;

/// At most this much of the lead's words goes into a check, from the
/// start: who writes and what they do comes first.
const CHECKED_CHARS: usize = 2_400;

/// The answer's only key; the embedded model reports its share under it.
const ANSWER: &str = "answer";

/// Conversation key prefix of the checks' model calls. Lead ids are UUIDs,
/// so a check never shares a lead's cache lane.
const LANE_PREFIX: &str = "dq_check:";

/// One check, its prompt rendered once.
pub(super) struct Prepared {
    /// The disqualifier's id.
    id: String,
    system: String,
    /// The check's examples as earlier turns: a message, its answer.
    examples: Vec<ChatMessage>,
    schema: JsonSchema,
    disqualifying: String,
}

/// What the checks found for one turn.
#[derive(Debug, Default)]
pub(super) struct Checked {
    /// Disqualifier id → the disqualifying answer's share (0–1).
    pub shares: BTreeMap<String, f64>,
    pub usage: Usage,
}

/// The configured checks with their prompts (`check.j2`) rendered.
pub(super) fn prepare(icp: &Icp, prompts: &Prompts) -> crate::prompts::Result<Vec<Prepared>> {
    let mut out = Vec::new();
    for d in &icp.disqualifiers {
        let Some(check) = &d.check else { continue };
        let [disqualifying, otherwise] = check.answers();
        let system = prompts.render("check.j2", check.prompt_context())?;
        // The disqualifying answer first: the order the prompt names them.
        let options = json!([disqualifying, otherwise]);
        let schema = json!({
            "type": "object",
            "properties": {ANSWER: {"type": "string", "enum": options}},
            "required": [ANSWER],
            "additionalProperties": false,
        });
        out.push(Prepared {
            id: d.id.clone(),
            system,
            examples: example_turns(check),
            schema: JsonSchema {
                name: "dq_check".into(),
                schema,
            },
            disqualifying: disqualifying.to_string(),
        });
    }
    Ok(out)
}

/// Each example as a user message and the answer the model would write
/// for it, spelled as the schema's option (examples are validated to name
/// one of the two answers, in any case).
fn example_turns(check: &DqCheck) -> Vec<ChatMessage> {
    let answers = check.answers();
    let mut turns = Vec::new();
    for example in &check.examples {
        let answer = check
            .answer_index(&example.answer)
            .map_or(example.answer.trim(), |i| answers[i]);
        turns.push(ChatMessage::user(example.text.trim().to_string()));
        turns.push(ChatMessage::assistant(
            json!({ ANSWER: answer }).to_string(),
        ));
    }
    turns
}

/// Runs the checks `wanted` keeps on `text` (all the lead's words so far),
/// one call each. A check whose answer cannot be read counts as not run.
pub(super) async fn run(
    model: &dyn ChatModel,
    checks: &[Prepared],
    text: &str,
    wanted: impl Fn(&str) -> bool,
) -> Result<Checked, crate::llm::Error> {
    let mut out = Checked::default();
    for check in checks.iter().filter(|c| wanted(&c.id)) {
        let request = ChatRequest {
            messages: std::iter::once(ChatMessage::system(check.system.clone()))
                .chain(check.examples.iter().cloned())
                .chain([ChatMessage::user(text.to_string())])
                .collect(),
            schema: Some(check.schema.clone()),
            temperature: 0.0,
            max_tokens: 16,
            // A lane of its own per check, not the lead's: its prompt is
            // the same for every lead, so only the lead's words are new to
            // the model, and the lead's cached extraction prefix stays.
            conversation: Some(format!("{LANE_PREFIX}{}", check.id)),
        };
        let response = model.chat(&request).await?;
        out.usage += response.usage;
        match share(&response, &check.disqualifying) {
            Some(s) => {
                tracing::debug!(disqualifier = %check.id, share = s, "disqualifier check");
                out.shares.insert(check.id.clone(), s);
            }
            None => {
                tracing::warn!(disqualifier = %check.id, "disqualifier check answer unreadable; skipped")
            }
        }
    }
    Ok(out)
}

impl super::Agent {
    /// Step 1b: the checks of the disqualifiers nothing shows yet, while
    /// the lead is new, says more than hello, and is not disqualified
    /// already (by earlier evidence or a keyword in the new messages). A
    /// disqualifier the model quoted is not checked: its quote is judged.
    pub(super) async fn check_disqualifiers(
        &self,
        memory: &Memory,
        x: &Extraction,
    ) -> super::Result<Checked> {
        // All the lead's words so far, not only the new ones: "next year"
        // alone reads as not launched, after "we run a cleaning company"
        // it does not.
        let said = transcript::lead_said(memory);
        let text = transcript::clip(&said, CHECKED_CHARS);
        let icp = &self.loaded.config.icp;
        let keyword = icp
            .disqualifiers
            .iter()
            .any(|d| evidence::first_keyword(&memory.pending, &d.keywords).is_some());
        let known = score::disqualifier(&memory.evidence).is_some();
        let early = memory.inbound_count() <= CHECKED_MESSAGES;
        let new_words = filler::says_something(&transcript::pending_text(memory));
        if self.dq_checks.is_empty() || known || keyword || !early || !new_words {
            return Ok(Checked::default());
        }
        let quoted = |id: &str| x.disqualifiers.contains_key(id);
        let checked = run(self.model.as_ref(), &self.dq_checks, &text, |id| {
            !quoted(id)
        })
        .instrument(tracing::info_span!("dq_checks", lead = %memory.lead.id))
        .await?;
        Ok(checked)
    }
}

/// The disqualifying answer's share in `response`: the model's reported
/// share of its answer, or 1 / 0 for a model that reports none.
fn share(response: &ChatResponse, disqualifying: &str) -> Option<f64> {
    let value = super::extract::tolerant_json(&response.text).ok()?;
    let answer = value.get(ANSWER)?.as_str()?.trim();
    let chose = answer.eq_ignore_ascii_case(disqualifying);
    let p = response
        .confidence
        .get(ANSWER)
        .map_or(1.0, |p| f64::from(*p).clamp(0.0, 1.0));
    Some(if chose { p } else { 1.0 - p })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(text: &str, p: Option<f32>) -> ChatResponse {
        ChatResponse {
            text: text.into(),
            usage: Usage::default(),
            speed: None,
            confidence: p.map(|p| (ANSWER.to_string(), p)).into_iter().collect(),
            forced: Default::default(),
        }
    }

    #[test]
    fn the_share_is_the_disqualifying_answers() {
        let s = |text, p| share(&response(text, p), "job");
        assert_eq!(s(r#"{"answer": "job"}"#, Some(0.8)), Some(0.8_f32 as f64));
        assert!((s(r#"{"answer": "business"}"#, Some(0.75)).unwrap() - 0.25).abs() < 1e-6);
        // A model that reports no share: its answer counts in full.
        assert_eq!(s(r#"{"answer": "Job"}"#, None), Some(1.0));
        assert_eq!(s(r#"{"answer": "business"}"#, None), Some(0.0));
        assert_eq!(s("job", None), None);
        assert_eq!(s(r#"{"answer": null}"#, None), None);
    }

    #[test]
    fn each_check_asks_its_question_with_both_answers() {
        let mut icp = crate::config::Config::example().icp;
        for d in &mut icp.disqualifiers {
            d.check = None;
        }
        assert!(prepare(&icp, &Prompts::load(None).unwrap())
            .unwrap()
            .is_empty());
        icp.disqualifiers[1].check = Some(crate::config::DqCheck {
            question: "Is the person who wrote this message asking about a job for themselves, or writing about a business?".into(),
            disqualifying: " job".into(),
            otherwise: "business".into(),
            min: 0.7,
            examples: vec![
                crate::config::CheckExample {
                    text: "Acabo de terminar la carrera ".into(),
                    answer: "JOB".into(),
                },
                crate::config::CheckExample {
                    text: "We run a plumbing company".into(),
                    answer: "business".into(),
                },
            ],
        });
        let checks = prepare(&icp, &Prompts::load(None).unwrap()).unwrap();
        assert_eq!(checks.len(), 1, "only the disqualifier with a check");
        let job = &checks[0];
        assert_eq!(job.id, icp.disqualifiers[1].id);
        insta::assert_snapshot!(job.system);
        assert_eq!(
            job.schema.schema["properties"]["answer"]["enum"],
            json!(["job", "business"])
        );
        assert_eq!(job.disqualifying, "job", "answers are trimmed");
        // Examples are earlier turns, answered as the schema spells it.
        let turns: Vec<_> = job.examples.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(
            turns,
            [
                "Acabo de terminar la carrera",
                r#"{"answer":"job"}"#,
                "We run a plumbing company",
                r#"{"answer":"business"}"#,
            ]
        );
    }
}
