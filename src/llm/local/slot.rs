//! A slot: one llama.cpp context (one per kind of call, so extraction and
//! replies never evict each other's prefix), its lanes and the running
//! call's stop.

use super::fill::Answers;
use super::lanes::{Lanes, SEQUENCES};
use super::BATCH;
use crate::llm::stop::Stop;
use crate::llm::{Error, Result};
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use std::collections::HashMap;
use std::num::NonZeroU32;

/// One context, its lanes (see [`lanes`]) and what the active lane's
/// sequence currently holds.
pub(super) struct Slot {
    pub(super) ctx: LlamaContext<'static>,
    /// The active lane's tokens, as evaluated into sequence `seq`.
    pub(super) cached: Vec<LlamaToken>,
    /// The active lane (its sequence id).
    pub(super) seq: i32,
    pub(super) lanes: Lanes,
    /// The running call's stop, checked before every decode.
    pub(super) stop: Option<Stop>,
    /// Decode calls so far (each costs about one generated token on a CPU):
    /// the figure the skeleton filler keeps low.
    pub(super) decodes: usize,
    /// Span leaves and free text draft their next tokens (see [`super::draft`]).
    pub(super) draft: bool,
    /// Drafted tokens decoded so far, and how many of them were dropped
    /// again (the model chose otherwise): what tuning the drafts reads.
    pub(super) drafted: usize,
    pub(super) rejected: usize,
    /// Each conversation's last skeleton answer, which drafts its next one
    /// (see `fill::guess`).
    pub(super) answers: HashMap<String, Answers>,
}

/// The slot a request runs in: extraction (a schema) or replies.
pub(super) fn slot_for(request: &crate::llm::ChatRequest) -> usize {
    if request.schema.is_some() {
        super::SLOT_STRUCTURED
    } else {
        super::SLOT_FREE
    }
}

/// Conversations whose last answer a slot keeps; past this it forgets them
/// all (a draft only saves time, and a busy server's leads come back).
const ANSWERS_KEPT: usize = 256;

impl Slot {
    /// A context for `model` with one sequence per lane over a unified KV
    /// cache of `n_ctx` cells (see [`super::lanes`]).
    pub(super) fn new(
        model: &'static LlamaModel,
        backend: &LlamaBackend,
        n_ctx: u32,
        threads: i32,
        lanes_on: bool,
    ) -> Result<Slot> {
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(BATCH as u32)
            .with_n_ubatch(BATCH as u32)
            .with_n_seq_max(SEQUENCES)
            .with_kv_unified(true)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        let ctx = model
            .new_context(backend, params)
            .map_err(|e| Error::Config(format!("creating a llama.cpp context: {e}")))?;
        Ok(Slot {
            ctx,
            cached: Vec::new(),
            seq: 0,
            lanes: Lanes::new(lanes_on),
            stop: None,
            decodes: 0,
            draft: true,
            drafted: 0,
            rejected: 0,
            answers: HashMap::new(),
        })
    }

    /// Keeps `answers` as `conversation`'s last skeleton answer.
    pub(super) fn remember(&mut self, conversation: String, answers: Answers) {
        if self.answers.len() >= ANSWERS_KEPT && !self.answers.contains_key(&conversation) {
            self.answers.clear();
        }
        self.answers.insert(conversation, answers);
    }

    pub(super) fn check_stop(&self) -> std::result::Result<(), String> {
        self.stop.as_ref().map_or(Ok(()), Stop::check)
    }
}
