//! Decoding for the embedded model: JSON skeletons whose leaves the model
//! fills under per-leaf grammars, grammar-checked sampling, and feeding
//! tokens into a slot's KV cache (checking the call's stop before each
//! decode). Split from `local` so the engine and the decoding read apart.

use super::skeleton::Step;
use super::{Slot, BATCH, GRAMMAR_TOP_K};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;

/// How a request is answered.
pub(super) enum Plan {
    /// Token by token from a sampler.
    Sample(Sampling),
    /// Object keys and punctuation written by us, leaf values by the model.
    Skeleton(Vec<Step>),
}

/// The largest batch llama.cpp's CPU backend decodes with its per-token
/// kernel. 8 or more tokens take the many-token kernel, which costs a
/// fixed ~300-450 ms more on two cores: 8 new tokens after a cached prefix
/// took 519 ms in one batch and 338 ms as 7 + 1, 11 tokens 540 ms against
/// 443, 13 tokens 525 against 496, 14 tokens about the same either way
/// (`decode_cost_by_batch_size` in `tests/local_model.rs`, best of 3).
const SMALL_BATCH: usize = 7;

/// `tokens` cut into decode calls: at most [`BATCH`] each, and a run that
/// would take the many-token kernel at a loss (8 to 13 tokens) as
/// [`SMALL_BATCH`] and the rest.
fn batches(tokens: &[LlamaToken]) -> impl Iterator<Item = &[LlamaToken]> {
    tokens.chunks(BATCH).flat_map(|chunk| {
        let at = match chunk.len() {
            8..=13 => SMALL_BATCH,
            n => n,
        };
        let (head, tail) = chunk.split_at(at);
        std::iter::once(head).chain((!tail.is_empty()).then_some(tail))
    })
}

/// Decodes `tokens` after what the slot holds; logits are kept for the last one.
pub(super) fn feed(
    slot: &mut Slot,
    batch: &mut LlamaBatch,
    tokens: &[LlamaToken],
) -> std::result::Result<i32, String> {
    let mut last = 0;
    for chunk in batches(tokens) {
        batch.clear();
        let base = slot.cached.len();
        for (i, tok) in chunk.iter().enumerate() {
            batch
                .add(*tok, (base + i) as i32, &[slot.seq], i == chunk.len() - 1)
                .map_err(|e| e.to_string())?;
        }
        slot.check_stop()?;
        slot.ctx.decode(batch).map_err(|e| format!("decode: {e}"))?;
        slot.decodes += 1;
        slot.cached.extend_from_slice(chunk);
        last = batch.n_tokens() - 1;
    }
    Ok(last)
}

/// Decodes `tokens` after what the slot holds as one batch with logits for
/// every one (batch index `i` holds the logits after `tokens[i]`): a token
/// and its draft, to be checked against the model's own choices.
pub(super) fn feed_every(
    slot: &mut Slot,
    batch: &mut LlamaBatch,
    tokens: &[LlamaToken],
) -> std::result::Result<(), String> {
    feed_with_logits(slot, batch, tokens, |_| true)?;
    slot.drafted += tokens.len().saturating_sub(1);
    Ok(())
}

/// Decodes `tokens` after what the slot holds as one batch, with logits
/// after `tokens[i]` (at batch index `i`) for each `i` that `wanted`:
/// computing them costs the output layer, ~15 % of a 1.5B model's work
/// per token.
pub(super) fn feed_with_logits(
    slot: &mut Slot,
    batch: &mut LlamaBatch,
    tokens: &[LlamaToken],
    wanted: impl Fn(usize) -> bool,
) -> std::result::Result<(), String> {
    batch.clear();
    let base = slot.cached.len();
    for (i, tok) in tokens.iter().enumerate() {
        batch
            .add(*tok, (base + i) as i32, &[slot.seq], wanted(i))
            .map_err(|e| e.to_string())?;
    }
    slot.check_stop()?;
    slot.ctx.decode(batch).map_err(|e| format!("decode: {e}"))?;
    slot.decodes += 1;
    slot.cached.extend_from_slice(tokens);
    Ok(())
}

/// Drops everything after the first `keep` tokens of the active lane from
/// the KV cache and from `Slot::cached`; false (and nothing dropped) when
/// llama.cpp cannot cut the sequence there.
fn cut(slot: &mut Slot, keep: usize) -> bool {
    if keep >= slot.cached.len() {
        return true;
    }
    let removed = slot
        .ctx
        .clear_kv_cache_seq(Some(slot.seq as u32), Some(keep as u32), None)
        .unwrap_or(false);
    if removed {
        slot.cached.truncate(keep);
    }
    removed
}

/// Drops the drafted tokens after the first `keep` from the cache: those
/// the model would not have written.
pub(super) fn truncate(slot: &mut Slot, keep: usize) -> std::result::Result<(), String> {
    let rejected = slot.cached.len().saturating_sub(keep);
    if !cut(slot, keep) {
        return Err("the KV cache could not drop rejected draft tokens".into());
    }
    slot.rejected += rejected;
    Ok(())
}

/// Whether the grammar allows `token` next.
pub(super) fn allows(grammar: &mut LlamaSampler, token: LlamaToken) -> bool {
    let mut single = LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 0.0, 0.0)], false);
    single.apply_sampler(grammar);
    single.data[0].logit().is_finite()
}

pub(super) fn rate(tokens: usize, secs: f64) -> f64 {
    if tokens == 0 || secs <= 0.0 {
        0.0
    } else {
        tokens as f64 / secs
    }
}

pub(super) enum Sampling {
    Greedy,
    Chain(LlamaSampler),
    /// Greedy decoding under a grammar; counts how often the model's first
    /// choice was not allowed.
    Grammar(LlamaSampler, usize),
}

impl Sampling {
    pub(super) fn sample(
        &mut self,
        ctx: &LlamaContext<'_>,
        idx: i32,
    ) -> std::result::Result<LlamaToken, String> {
        match self {
            Sampling::Greedy => Ok(argmax(ctx.get_logits_ith(idx))),
            Sampling::Chain(sampler) => Ok(sampler.sample(ctx, idx)),
            Sampling::Grammar(grammar, fallbacks) => {
                let logits = ctx.get_logits_ith(idx);
                let best = argmax(logits);
                // Fast path: the model's own choice is usually allowed.
                let mut single = LlamaTokenDataArray::new(
                    vec![LlamaTokenData::new(best, logits[best.0 as usize], 0.0)],
                    false,
                );
                single.apply_sampler(grammar);
                let token = if single.data[0].logit().is_finite() {
                    best
                } else {
                    // Next: the best allowed token among the model's top few,
                    // and only then the whole vocabulary (slow: ~150k pieces).
                    *fallbacks += 1;
                    allowed_fallback(grammar, ctx, idx)?
                };
                grammar.accept(token);
                Ok(token)
            }
        }
    }
}

/// The `GRAMMAR_TOP_K` most likely tokens, the candidates tried against the
/// grammar before falling back to the whole vocabulary.
pub(super) fn top_candidates(logits: &[f32]) -> Vec<LlamaTokenData> {
    let mut top: Vec<LlamaTokenData> = logits
        .iter()
        .enumerate()
        .map(|(i, &l)| LlamaTokenData::new(LlamaToken(i as i32), l, 0.0))
        .collect();
    let k = GRAMMAR_TOP_K.min(top.len());
    top.select_nth_unstable_by(k - 1, |a, b| b.logit().total_cmp(&a.logit()));
    top.truncate(k);
    top
}

/// The best token the grammar allows at batch index `idx` when the model's
/// own choice is not: among the `GRAMMAR_TOP_K` likeliest first, then in
/// the whole vocabulary (slow: ~150k pieces).
pub(super) fn allowed_fallback(
    grammar: &mut LlamaSampler,
    ctx: &LlamaContext<'_>,
    idx: i32,
) -> Result<LlamaToken, String> {
    match best_allowed(grammar, top_candidates(ctx.get_logits_ith(idx))) {
        Some(token) => Ok(token),
        None => best_allowed(grammar, ctx.token_data_array_ith(idx).data)
            .ok_or_else(|| "the grammar allows no token here".to_string()),
    }
}

/// The highest-logit token the grammar allows among `candidates`.
pub(super) fn best_allowed(
    grammar: &mut LlamaSampler,
    candidates: Vec<LlamaTokenData>,
) -> Option<LlamaToken> {
    let mut array = LlamaTokenDataArray::new(candidates, false);
    array.apply_sampler(grammar);
    array
        .data
        .iter()
        .filter(|d| d.logit().is_finite())
        .max_by(|a, b| a.logit().total_cmp(&b.logit()))
        .map(|d| d.id())
}

pub(super) fn argmax(logits: &[f32]) -> LlamaToken {
    let mut best = 0usize;
    let mut best_logit = f32::NEG_INFINITY;
    for (i, &l) in logits.iter().enumerate() {
        if l > best_logit {
            best = i;
            best_logit = l;
        }
    }
    LlamaToken(best as i32)
}

/// Prefix reuse: keeps what the slot's cache already holds of `tokens` (none
/// with reuse off) and drops the rest; returns how many tokens are kept. At
/// least one token is always left to evaluate, to get fresh logits.
pub(super) fn reuse_prefix(slot: &mut Slot, tokens: &[LlamaToken], reuse: bool) -> usize {
    let mut keep = if reuse {
        super::lanes::common_prefix(&slot.cached, tokens)
    } else {
        0
    };
    keep = keep.min(tokens.len() - 1);
    if !cut(slot, keep) {
        // Only this lane: the other lanes' cells stay theirs.
        slot.forget_active();
        keep = 0;
    }
    keep
}

/// Evaluates `tokens[keep..]` in batches; returns the batch index of the last
/// token's logits (where generation starts).
pub(super) fn evaluate(
    slot: &mut Slot,
    batch: &mut LlamaBatch,
    tokens: &[LlamaToken],
    keep: usize,
) -> Result<i32, String> {
    let mut last_logits = 0;
    let mut base = keep;
    for chunk in batches(&tokens[keep..]) {
        batch.clear();
        for (i, tok) in chunk.iter().enumerate() {
            let pos = base + i;
            let is_last = pos == tokens.len() - 1;
            batch
                .add(*tok, pos as i32, &[slot.seq], is_last)
                .map_err(|e| e.to_string())?;
        }
        slot.check_stop()?;
        slot.ctx.decode(batch).map_err(|e| format!("decode: {e}"))?;
        slot.decodes += 1;
        slot.cached.extend_from_slice(chunk);
        last_logits = batch.n_tokens() - 1;
        base += chunk.len();
    }
    Ok(last_logits)
}

/// Samples up to `max_new` tokens of free text (or a whole-answer grammar):
/// (text, tokens generated, grammar fallbacks). Each token's successors are
/// drafted from the sequence (see [`super::draft::lookup`]) and checked in
/// one batch when drafting is on.
pub(super) fn sample_text(
    model: &LlamaModel,
    slot: &mut Slot,
    batch: &mut LlamaBatch,
    sampler: &mut Sampling,
    last_logits: i32,
    max_new: usize,
) -> Result<(String, usize, usize), String> {
    let vocab = model.vocab();
    let mut bytes = Vec::new();
    let mut generated = 0usize;
    let mut idx = last_logits;
    // A token already sampled where a draft went another way.
    let mut chosen: Option<LlamaToken> = None;
    // Drafts in a row of which the model kept nothing.
    let mut missed = 0;
    while generated < max_new {
        let token = match chosen.take() {
            Some(token) => token,
            None => sampler.sample(&slot.ctx, idx)?,
        };
        generated += 1;
        if vocab.is_eog(token) {
            break;
        }
        bytes.extend(vocab.token_to_piece(token, false, None));
        if generated == max_new {
            break;
        }
        let room = super::draft::LOOKUP_MAX_TOKENS.min(max_new - generated - 1);
        let draft = match slot.draft && missed < super::draft::LOOKUP_MISSES {
            true => super::draft::lookup(&slot.cached, token, room, |t| vocab.is_eog(t)),
            false => Vec::new(),
        };
        if draft.is_empty() {
            feed(slot, batch, &[token])?;
            idx = 0;
            continue;
        }
        let start = slot.cached.len();
        let mut tokens = vec![token];
        tokens.extend_from_slice(&draft);
        feed_every(slot, batch, &tokens)?;
        idx = draft.len() as i32;
        let mut kept = draft.len();
        for (i, drafted) in draft.iter().enumerate() {
            let sampled = sampler.sample(&slot.ctx, i as i32)?;
            if sampled != *drafted {
                truncate(slot, start + i + 1)?;
                chosen = Some(sampled);
                kept = i;
                break;
            }
            generated += 1;
            bytes.extend(vocab.token_to_piece(sampled, false, None));
        }
        // A draft pays when the model keeps at least half of it.
        missed = if kept * 2 >= draft.len() {
            0
        } else {
            missed + 1
        };
    }
    let fallbacks = match sampler {
        Sampling::Grammar(_, n) => *n,
        _ => 0,
    };
    Ok((
        String::from_utf8_lossy(&bytes).trim().to_string(),
        generated,
        fallbacks,
    ))
}

#[cfg(test)]
mod tests {
    use super::{batches, BATCH};
    use llama_cpp_2::token::LlamaToken;

    fn sizes(n: usize) -> Vec<usize> {
        let tokens = vec![LlamaToken(0); n];
        batches(&tokens).map(<[LlamaToken]>::len).collect()
    }

    #[test]
    fn runs_the_many_token_kernel_would_slow_down_are_split() {
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(7), [7]);
        assert_eq!(sizes(8), [7, 1]);
        assert_eq!(sizes(13), [7, 6]);
        assert_eq!(sizes(14), [14]);
        assert_eq!(sizes(270), [270]);
        assert_eq!(sizes(BATCH + 10), [BATCH, 7, 3]);
        assert_eq!(sizes(BATCH + 20), [BATCH, 20]);
        assert!(sizes(0).is_empty());
    }
}
