//! The part of a local call after its prompt: the answer generated under
//! the call's plan, and the response with the call's usage and speed.

use super::decode::{self, rate, Plan};
use super::fill::{fill_skeleton, Filled};
use super::Slot;
use crate::llm::{ChatResponse, Speed, Usage};
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;

/// The answer after the prompt: a skeleton filled leaf by leaf (drafted
/// from the lane's last answer to `answers_key`, which it then replaces) or
/// free text sampled to a stop.
pub(super) fn generate(
    model: &LlamaModel,
    slot: &mut Slot,
    batch: &mut LlamaBatch<'_>,
    plan: &mut Plan,
    last_logits: i32,
    max_new: usize,
    answers_key: String,
) -> std::result::Result<Filled, String> {
    Ok(match plan {
        Plan::Skeleton(steps) => {
            let last = slot.answers.get(&answers_key).cloned();
            let filled = fill_skeleton(model, slot, batch, steps, last_logits, max_new, last)?;
            slot.remember(answers_key, filled.answers.clone());
            filled
        }
        Plan::Sample(sampler) => {
            let (text, produced, fallbacks) =
                decode::sample_text(model, slot, batch, sampler, last_logits, max_new)?;
            Filled {
                text,
                produced,
                fallbacks,
                ..Filled::default()
            }
        }
    })
}

/// What one call's prompt and generation took, for its usage and speed.
pub(super) struct Timing {
    /// Prompt tokens, of which `reused` came from the cache.
    pub(super) prompt: usize,
    pub(super) reused: usize,
    pub(super) prompt_secs: f64,
    pub(super) gen_secs: f64,
}

impl Timing {
    pub(super) fn response(self, out: Filled) -> ChatResponse {
        ChatResponse {
            text: out.text,
            usage: Usage {
                prompt_tokens: self.prompt as u32,
                completion_tokens: out.produced as u32,
            },
            speed: Some(Speed {
                prompt_tokens_per_s: rate(self.prompt - self.reused, self.prompt_secs),
                gen_tokens_per_s: rate(out.produced, self.gen_secs),
                reused_tokens: self.reused as u32,
            }),
            confidence: out.confidence,
            forced: out.forced,
        }
    }
}
