//! Decoding for the embedded model: JSON skeletons whose leaves the model
//! fills under per-leaf grammars, grammar-checked sampling, and feeding
//! tokens into a slot's KV cache (checking the call's stop before each
//! decode). Split from `local` so the engine and the decoding read apart.

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

/// One piece of a JSON skeleton.
#[derive(Debug, Clone)]
pub(super) enum Step {
    /// Literal JSON text (braces, keys, commas).
    Text(String),
    /// A value the model writes, constrained by a GBNF grammar; `path` names
    /// it (`pain`, `disqualifiers.job_seeker`) in the answer's confidences;
    /// `span`: the value must be a span of given texts (see [`super::span`]).
    Value {
        path: String,
        gbnf: String,
        span: bool,
    },
}

/// A span leaf whose first tokens (the opening quote and the first word or
/// two) were not the model's own choice reports confidence 0: the model
/// wanted to write something that is not in the lead's words.
const FORCED_WITHIN: usize = 3;

/// Most tokens one leaf value may take before it is cut short.
pub(super) const LEAF_MAX_TOKENS: usize = 48;

/// Flattens an object schema into literal text and leaf values. Objects with
/// `properties` (and not nullable) are spelled out, pretty-printed the way the
/// model writes JSON itself; anything else is a leaf. Keys end at the colon and
/// a leaf may start with a space, so the model tokenizes ` "value"` naturally.
pub(super) fn skeleton(
    schema: &serde_json::Value,
    path: &str,
    indent: usize,
    steps: &mut Vec<Step>,
) -> std::result::Result<(), String> {
    let props = schema.get("properties").and_then(|p| p.as_object());
    match props {
        Some(props)
            if schema.get("type").and_then(|t| t.as_str()) == Some("object")
                && !props.is_empty() =>
        {
            steps.push(Step::Text(if indent == 0 { "{" } else { " {" }.into()));
            let pad = " ".repeat(indent + 2);
            for (i, (name, sub)) in props.iter().enumerate() {
                let key = serde_json::to_string(name).map_err(|e| e.to_string())?;
                let sep = if i == 0 { "" } else { "," };
                steps.push(Step::Text(format!("{sep}\n{pad}{key}:")));
                let path = match path {
                    "" => name.clone(),
                    parent => format!("{parent}.{name}"),
                };
                skeleton(sub, &path, indent + 2, steps)?;
            }
            steps.push(Step::Text(format!("\n{}}}", " ".repeat(indent))));
        }
        _ => {
            let sources = span_sources(schema);
            let span = sources.is_some();
            let grammar = match sources {
                Some(texts) => super::span::grammar(&texts),
                None => llama_cpp_2::json_schema_to_grammar(&schema.to_string())
                    .map_err(|e| format!("JSON schema to grammar: {e}"))?,
            };
            // Rename the generated root and allow one leading space.
            let mut renamed = String::new();
            for line in grammar.lines() {
                match line.strip_prefix("root ::=") {
                    Some(rest) => renamed.push_str(&format!("leaf-value ::={rest}")),
                    None => renamed.push_str(line),
                }
                renamed.push('\n');
            }
            // A trailing `,` or newline is accepted (and removed again): the model
            // likes tokens such as `",` that close a value and go on.
            renamed.push_str("root ::= \" \"? leaf-value \",\"? \"\\n\"?\n");
            steps.push(Step::Value {
                path: path.to_string(),
                gbnf: renamed,
                span,
            });
        }
    }
    Ok(())
}

/// The texts a string leaf must be a span of (see [`crate::llm::SPAN_OF`]).
pub(super) fn span_sources(schema: &serde_json::Value) -> Option<Vec<String>> {
    let texts = schema.get(crate::llm::SPAN_OF)?.as_array()?;
    Some(
        texts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
    )
}

/// Decodes `tokens` after what the slot holds; logits are kept for the last one.
pub(super) fn feed(
    slot: &mut Slot,
    batch: &mut LlamaBatch,
    tokens: &[LlamaToken],
) -> std::result::Result<i32, String> {
    let mut last = 0;
    for chunk in tokens.chunks(BATCH) {
        batch.clear();
        let base = slot.cached.len();
        for (i, tok) in chunk.iter().enumerate() {
            batch
                .add(*tok, (base + i) as i32, &[0], i == chunk.len() - 1)
                .map_err(|e| e.to_string())?;
        }
        slot.check_stop()?;
        slot.ctx.decode(batch).map_err(|e| format!("decode: {e}"))?;
        slot.cached.extend_from_slice(chunk);
        last = batch.n_tokens() - 1;
    }
    Ok(last)
}

/// Whether the grammar allows `token` next.
pub(super) fn allows(grammar: &mut LlamaSampler, token: LlamaToken) -> bool {
    let mut single = LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 0.0, 0.0)], false);
    single.apply_sampler(grammar);
    single.data[0].logit().is_finite()
}

/// Writes the skeleton's literal text ourselves (decoded as one batch, which
/// costs about as much as a single generated token) and lets the model fill
/// each leaf under that leaf's grammar. A leaf ends as soon as the model wants
/// a token its grammar rejects and the grammar may end there (e.g. `,` after
/// a closed string). The result is always valid JSON for the schema.
/// Returns the text, tokens produced, grammar fallbacks and, per leaf that
/// could be a string or `null`, how sure the model was that it is a string.
pub(super) fn fill_skeleton(
    model: &LlamaModel,
    slot: &mut Slot,
    batch: &mut LlamaBatch,
    steps: &[Step],
    mut idx: i32,
    max_new: usize,
) -> std::result::Result<(String, usize, usize, Confidence), String> {
    let vocab = model.vocab();
    let eos = vocab.eos();
    let mut out = String::new();
    let mut pending = String::new();
    // Text after a value the model already wrote (`,` / newline), kept out of `out`.
    let mut tail = String::new();
    let mut produced = 0usize;
    let mut fallbacks = 0usize;
    let mut confidence = Confidence::new();
    for step in steps {
        match step {
            Step::Text(text) => {
                out.push_str(text);
                // Part of it may already be decoded as the tail of the last value.
                let rest = text.strip_prefix(tail.as_str()).unwrap_or(text);
                pending.push_str(rest);
                tail.clear();
            }
            Step::Value { path, gbnf, span } => {
                if !pending.is_empty() {
                    let tokens = vocab.tokenize(pending.as_bytes(), false, false);
                    idx = feed(slot, batch, &tokens)?;
                    produced += tokens.len();
                    pending.clear();
                }
                let mut grammar = LlamaSampler::grammar(model, gbnf, "root")
                    .map_err(|e| format!("grammar: {e}"))?;
                let mut value: Vec<u8> = Vec::new();
                let mut n = 0usize;
                // The grammar overruled the model's own choice at the start.
                let mut forced = false;
                let complete = loop {
                    if n >= LEAF_MAX_TOKENS || produced >= max_new {
                        break allows(&mut grammar, eos);
                    }
                    let logits = slot.ctx.get_logits_ith(idx);
                    if n == 0 {
                        if let Some(p) = string_probability(model, &mut grammar, logits) {
                            confidence.insert(path.clone(), p);
                        }
                    }
                    let best = argmax(logits);
                    let token = if !vocab.is_eog(best) && allows(&mut grammar, best) {
                        best
                    } else if allows(&mut grammar, eos) {
                        break true;
                    } else {
                        fallbacks += 1;
                        forced |= n < FORCED_WITHIN;
                        match best_allowed(&mut grammar, top_candidates(logits)) {
                            Some(t) => t,
                            None => {
                                best_allowed(&mut grammar, slot.ctx.token_data_array_ith(idx).data)
                                    .ok_or("the grammar allows no token here")?
                            }
                        }
                    };
                    if vocab.is_eog(token) {
                        break true;
                    }
                    grammar.accept(token);
                    value.extend(vocab.token_to_piece(token, false, None));
                    n += 1;
                    produced += 1;
                    idx = feed(slot, batch, &[token])?;
                };
                let mut written = String::from_utf8_lossy(&value).into_owned();
                if *span && forced && written.trim_start().starts_with('"') {
                    // The model meant words the lead did not write; the span
                    // it was held to is not its answer.
                    confidence.insert(path.clone(), 0.0);
                }
                if complete {
                    let trimmed = written.trim_end_matches([',', '\n']).len();
                    tail = written.split_off(trimmed);
                }
                let mut text = written.clone();
                if !complete {
                    // Cut short: close an open string, else give up on the value.
                    if text.trim_start().starts_with('"') && text.trim_start().len() > 1 {
                        while text.ends_with('\\') || text.ends_with('\u{fffd}') {
                            text.pop();
                        }
                        text.push('"');
                        if serde_json::from_str::<serde_json::Value>(&text).is_err() {
                            text = " null".into();
                        }
                    } else {
                        text = " null".into();
                    }
                }
                if !text.starts_with(' ') {
                    text.insert(0, ' ');
                }
                out.push_str(&text);
                // What the model wrote is already decoded; a closing quote we added is not.
                if let Some(rest) = text.strip_prefix(written.as_str()) {
                    pending.push_str(rest);
                }
            }
        }
    }
    Ok((out, produced, fallbacks, confidence))
}

/// Per leaf path, the probability the model gave to writing a string rather
/// than `null` (see [`crate::llm::ChatResponse::confidence`]).
pub(super) type Confidence = std::collections::BTreeMap<String, f32>;

/// Among the likeliest first tokens the leaf's grammar allows, the share of
/// probability on those that open a string (`"`, ` "`) against those that
/// start `null`. `None` unless both kinds are among them: a leaf that can only
/// be one of the two says nothing about the model's certainty.
fn string_probability(
    model: &LlamaModel,
    grammar: &mut LlamaSampler,
    logits: &[f32],
) -> Option<f32> {
    let mut array = LlamaTokenDataArray::new(top_candidates(logits), false);
    array.apply_sampler(grammar);
    let allowed: Vec<&LlamaTokenData> = array
        .data
        .iter()
        .filter(|t| t.logit().is_finite())
        .collect();
    let top = allowed.iter().map(|t| t.logit()).fold(f32::MIN, f32::max);
    let (mut string, mut null) = (0f32, 0f32);
    for t in allowed {
        let piece = model.vocab().token_to_piece(t.id(), false, None);
        let weight = (t.logit() - top).exp();
        match piece.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'"') => string += weight,
            Some(b'n') => null += weight,
            _ => {}
        }
    }
    (string > 0.0 && null > 0.0).then(|| string / (string + null))
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
                    match best_allowed(grammar, top_candidates(logits)) {
                        Some(token) => token,
                        None => best_allowed(grammar, ctx.token_data_array_ith(idx).data)
                            .ok_or("the grammar allows no token here")?,
                    }
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
        slot.cached
            .iter()
            .zip(tokens)
            .take_while(|(a, b)| a == b)
            .count()
    } else {
        0
    };
    keep = keep.min(tokens.len() - 1);
    if keep < slot.cached.len() {
        let removed = slot
            .ctx
            .clear_kv_cache_seq(Some(0), Some(keep as u32), None)
            .unwrap_or(false);
        if !removed {
            slot.ctx.clear_kv_cache();
            keep = 0;
        }
        slot.cached.truncate(keep);
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
    for (chunk_index, chunk) in tokens[keep..].chunks(BATCH).enumerate() {
        batch.clear();
        let base = keep + chunk_index * BATCH;
        for (i, tok) in chunk.iter().enumerate() {
            let pos = base + i;
            let is_last = pos == tokens.len() - 1;
            batch
                .add(*tok, pos as i32, &[0], is_last)
                .map_err(|e| e.to_string())?;
        }
        slot.check_stop()?;
        slot.ctx.decode(batch).map_err(|e| format!("decode: {e}"))?;
        slot.cached.extend_from_slice(chunk);
        last_logits = batch.n_tokens() - 1;
    }
    Ok(last_logits)
}

/// Samples up to `max_new` tokens of free text (or a whole-answer grammar):
/// (text, tokens generated, grammar fallbacks).
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
    while generated < max_new {
        let token = sampler.sample(&slot.ctx, idx)?;
        generated += 1;
        if vocab.is_eog(token) {
            break;
        }
        bytes.extend(vocab.token_to_piece(token, false, None));
        if generated == max_new {
            break;
        }
        feed(slot, batch, &[token])?;
        idx = 0;
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
