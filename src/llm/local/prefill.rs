//! Prefill: evaluating the next turn's known prompt prefix while the lead
//! is still reading the reply (see [`crate::llm::ChatModel::prefill`]).
//!
//! A warm turn's prompts grow by what happened since the last one: the
//! reply just sent and the lead's new message. Only the new message is
//! unknown once the reply is out, so the agent builds each next request
//! with [`crate::llm::NEXT_MESSAGE_MARK`] in its place and the engine
//! evaluates the prompt up to the mark into the lead's lane. The next real
//! call then finds it there (prefix reuse) and evaluates only the new
//! message and what follows it: on two cores ~25 ms a token less of the
//! lead's wait.
//!
//! Nobody waits for a prefill, so it never keeps a waiting call from the
//! engine: it evaluates in small batches and stops between two as soon as a
//! call is waiting. What it evaluated stays valid; the rest is evaluated by
//! the next call as it would have been anyway.

use super::{decode, slot_for, Engine, Slot, BATCH};
use crate::llm::stop::Stop;
use crate::llm::{ChatRequest, NEXT_MESSAGE_MARK};
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::token::LlamaToken;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Tokens per decode call in a prefill: large enough to run llama.cpp's
/// fast many-token kernel (~22 ms a token on two cores, against ~45 for
/// batches under 8), small enough that a waiting call waits under a second.
const PREFILL_BATCH: usize = 32;

impl Engine {
    /// Evaluates `request`'s prompt up to [`NEXT_MESSAGE_MARK`] into its
    /// conversation's lane, stopping early when a call is `waiting`. With
    /// prefix reuse off there is nothing to keep, so nothing is done.
    pub(super) fn prefill(
        &mut self,
        request: &ChatRequest,
        stop: Stop,
        waiting: &AtomicUsize,
    ) -> std::result::Result<(), String> {
        if !self.prefix_reuse || waiting.load(Ordering::SeqCst) > 0 {
            return Ok(());
        }
        let prompt = self.prompt_text(request)?;
        let Some(end) = prompt.rfind(NEXT_MESSAGE_MARK) else {
            return Err("prefill request has no next-message mark".into());
        };
        let tokens = self
            .model
            .vocab()
            .tokenize(&prompt.as_bytes()[..end], true, true);
        if tokens.len() + 16 > self.n_ctx as usize {
            return Ok(());
        }
        let index = slot_for(request);
        let slot = &mut self.slots[index];
        slot.enter(
            request.conversation.as_deref(),
            &tokens,
            tokens.len(),
            self.n_ctx as usize,
        );
        slot.stop = Some(stop);
        let result = evaluate_until_wanted(slot, &tokens, waiting);
        slot.stop = None;
        match result {
            Ok(evaluated) => {
                tracing::debug!(
                    slot = index,
                    prefix = tokens.len(),
                    evaluated,
                    "local prefill"
                );
                Ok(())
            }
            Err(e) => {
                // The lane may hold a half-decoded batch: forget it.
                slot.forget_active();
                Err(e)
            }
        }
    }
}

/// Evaluates what the slot's lane does not hold yet of `tokens`, in
/// [`PREFILL_BATCH`]-token batches, until done or a call is `waiting`;
/// returns how many tokens it evaluated.
fn evaluate_until_wanted(
    slot: &mut Slot,
    tokens: &[LlamaToken],
    waiting: &AtomicUsize,
) -> std::result::Result<usize, String> {
    let held = super::lanes::common_prefix(&slot.cached, tokens);
    if held == tokens.len() {
        return Ok(0);
    }
    let keep = decode::reuse_prefix(slot, tokens, true);
    let mut batch = LlamaBatch::new(BATCH, 1);
    let mut done = keep;
    for chunk in tokens[keep..].chunks(PREFILL_BATCH) {
        if waiting.load(Ordering::SeqCst) > 0 {
            break;
        }
        decode::feed(slot, &mut batch, chunk)?;
        done += chunk.len();
    }
    Ok(done - keep)
}
