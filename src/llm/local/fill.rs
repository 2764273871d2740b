//! Filling a JSON skeleton: we write the literal text (decoded in batches)
//! and the model writes each leaf value under that leaf's grammar.
//!
//! On two cores every decode call costs about as much as a generated token
//! (~60–90 ms), so the filler makes as few as it can: a leaf that is done
//! (`null`, a closed string) is not decoded on its own — its last token
//! waits and goes into the next batch with the following key — and the
//! separators after it (`,`, newline) are ours to write, never the model's.
//! A null leaf therefore costs no decode of its own, only its share of the
//! next batch; leaves that were `null` in the lane's last answer are
//! drafted together in one batch and checked (see [`guess`]).

mod guess;

use super::decode::{allowed_fallback, allows, argmax, feed, feed_every, top_candidates, truncate};
use super::draft::{continuation, DRAFT_MAX_TOKENS};
use super::skeleton::{Step, FORCED_WITHIN, LEAF_MAX_TOKENS};
use super::Slot;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;

/// Per leaf path, the probability the model gave to writing a string rather
/// than `null` (see [`crate::llm::ChatResponse::confidence`]).
pub(super) type Confidence = std::collections::BTreeMap<String, f32>;

/// What a call generated: the text, tokens decoded (for a skeleton, ours
/// and the model's), grammar fallbacks and, for a skeleton, per-leaf
/// confidence and forced leaves.
#[derive(Default)]
pub(super) struct Filled {
    pub(super) text: String,
    pub(super) produced: usize,
    pub(super) fallbacks: usize,
    pub(super) confidence: Confidence,
    /// Span leaves the grammar overruled at the start (see
    /// [`crate::llm::ChatResponse::forced`]).
    pub(super) forced: std::collections::BTreeSet<String>,
    /// Each complete leaf's tokens: the draft for the lane's next answer
    /// (see [`guess`]).
    pub(super) answers: Answers,
}

pub(super) use guess::Answers;

/// Writes the skeleton's literal text ourselves and lets the model fill each
/// leaf under that leaf's grammar; `idx` is the batch index holding the
/// logits after the prompt; `last`: the lane's last answer to the same
/// skeleton, which drafts this one (see [`guess`]). The result is always
/// valid JSON for the schema.
pub(super) fn fill_skeleton<'b>(
    model: &LlamaModel,
    slot: &mut Slot,
    batch: &mut LlamaBatch<'b>,
    steps: &[Step],
    idx: i32,
    max_new: usize,
    last: Option<Answers>,
) -> std::result::Result<Filled, String> {
    let mut filler = Filler {
        model,
        slot,
        batch,
        idx,
        max_new,
        filled: Filled::default(),
        pending: String::new(),
        carry: Vec::new(),
        tail: String::new(),
        steps,
        at: 0,
        last: last.map(|answers| guess::nulls(answers, model)),
        run: None,
        diverged: 0,
    };
    for (at, step) in steps.iter().enumerate() {
        filler.at = at;
        match step {
            Step::Text(text) => filler.literal(text),
            Step::Value {
                path,
                gbnf,
                span,
                options,
            } => filler.leaf(path, gbnf, span.as_deref(), options)?,
        }
    }
    Ok(filler.filled)
}

/// The filler's state between steps.
struct Filler<'a, 'b> {
    model: &'a LlamaModel,
    slot: &'a mut Slot,
    batch: &'a mut LlamaBatch<'b>,
    /// Batch index of the logits the next token is chosen from.
    idx: i32,
    max_new: usize,
    filled: Filled,
    /// Literal text written but not decoded yet.
    pending: String,
    /// The model's last token of a finished leaf, not decoded yet: it goes
    /// into the next batch, before `pending`.
    carry: Vec<LlamaToken>,
    /// Text the model already wrote after a value (`,`, newline), which the
    /// next literal must not repeat.
    tail: String,
    steps: &'a [Step],
    /// The step being filled.
    at: usize,
    /// The lane's last answer (see [`guess`]).
    last: Option<Answers>,
    /// A run decoded from `last` and not checked to its end.
    run: Option<guess::Run>,
    /// Drafted values the model did not write, this answer.
    diverged: usize,
}

/// How one leaf's decoding ended.
#[derive(Default)]
struct Leaf {
    /// What the model wrote, as bytes.
    value: Vec<u8>,
    /// How many tokens that is.
    n: usize,
    /// The value is whole (else it was cut short by a token limit).
    complete: bool,
    /// The grammar overruled the model's own choice within its first tokens.
    forced: bool,
    /// The tokens it took.
    tokens: Vec<LlamaToken>,
    /// For a leaf with options, how the model's probability split between
    /// them where its choice first told them apart (see [`option_shares`]).
    shares: Option<Vec<f32>>,
}

/// How a draft check ended.
enum Drafted {
    /// The model chose every drafted token; the logits after the last one
    /// are current.
    Kept,
    /// A drafted token finished the value (already decoded: nothing to carry).
    Whole,
    /// The model chose something else (this; `None`: end the value) where
    /// the draft went on; the logits there are current.
    Diverged(Option<LlamaToken>),
}

impl Filler<'_, '_> {
    /// Literal skeleton text: written now, decoded with the next leaf.
    fn literal(&mut self, text: &str) {
        self.filled.text.push_str(text);
        // Part of it may already be decoded as the tail of the last value.
        let rest = text.strip_prefix(self.tail.as_str()).unwrap_or(text);
        self.pending.push_str(rest);
        self.tail.clear();
    }

    /// Decodes the carried token and the pending literal text as one batch.
    fn flush(&mut self) -> std::result::Result<(), String> {
        if self.pending.is_empty() && self.carry.is_empty() {
            return Ok(());
        }
        let mut tokens = std::mem::take(&mut self.carry);
        let literal = self
            .model
            .vocab()
            .tokenize(self.pending.as_bytes(), false, false);
        self.filled.produced += literal.len();
        tokens.extend(literal);
        self.pending.clear();
        self.idx = feed(self.slot, self.batch, &tokens)?;
        Ok(())
    }

    /// One leaf: decode the model's value and write it (repaired to valid
    /// JSON if it was cut short).
    fn leaf(
        &mut self,
        path: &str,
        gbnf: &str,
        span: Option<&[String]>,
        options: &[String],
    ) -> std::result::Result<(), String> {
        let mut grammar =
            LlamaSampler::grammar(self.model, gbnf, "root").map_err(|e| format!("grammar: {e}"))?;
        if self.run.is_none() {
            self.start_run()?;
        }
        let leaf = match self.take_from_run(path, &mut grammar)? {
            Some(guess::Checked::Whole(leaf)) => leaf,
            Some(guess::Checked::Open(leaf, chosen)) => {
                self.decode_leaf(path, &mut grammar, span, leaf, chosen)?
            }
            None => {
                self.flush()?;
                self.decode_leaf(path, &mut grammar, span, Leaf::default(), None)?
            }
        };
        if leaf.complete {
            self.filled
                .answers
                .insert(path.to_string(), leaf.tokens.clone());
        }
        let mut written = String::from_utf8_lossy(&leaf.value).into_owned();
        if let Some(shares) = &leaf.shares {
            let chosen = written.trim().trim_end_matches(',').trim_end();
            if let Some(i) = options.iter().position(|o| o == chosen) {
                self.filled.confidence.insert(path.to_string(), shares[i]);
            }
        }
        if span.is_some() && leaf.forced && written.trim_start().starts_with('"') {
            // The model meant words the lead did not write; the span it was
            // held to may not be its answer.
            self.filled.forced.insert(path.to_string());
        }
        if leaf.complete {
            let trimmed = written.trim_end_matches([',', '\n']).len();
            self.tail = written.split_off(trimmed);
        }
        let text = written_as_json(&written, leaf.complete);
        self.filled.text.push_str(&text);
        // What the model wrote is decoded (or carried); a quote we added is not.
        if let Some(rest) = text.trim_start().strip_prefix(written.trim_start()) {
            self.pending.push_str(rest);
        }
        Ok(())
    }

    /// The model's tokens for one leaf, greedy under `grammar`, going on
    /// from `leaf` (what a run already took) and `chosen` (the model's
    /// choice from the current logits when a check already made it); a span
    /// leaf's next words are drafted from `span` (see [`super::draft`]).
    fn decode_leaf(
        &mut self,
        path: &str,
        grammar: &mut LlamaSampler,
        span: Option<&[String]>,
        mut leaf: Leaf,
        mut chosen: Option<Option<LlamaToken>>,
    ) -> std::result::Result<Leaf, String> {
        let eos = self.model.vocab().eos();
        leaf.complete = loop {
            if leaf.n >= LEAF_MAX_TOKENS || self.filled.produced >= self.max_new {
                break allows(grammar, eos);
            }
            let choice = match chosen.take() {
                Some(choice) => choice,
                None => self.choose(path, grammar, &mut leaf)?,
            };
            let Some(token) = choice else {
                break true;
            };
            if self.take(grammar, token, &mut leaf) {
                // Done: what follows is ours to write. The token is decoded
                // with the next batch, not on its own.
                self.carry.push(token);
                break true;
            }
            let draft = self.draft(span, &leaf);
            if draft.is_empty() {
                self.idx = feed(self.slot, self.batch, &[token])?;
                continue;
            }
            match self.check_draft(path, grammar, &mut leaf, token, &draft)? {
                Drafted::Kept => {}
                Drafted::Whole => break true,
                Drafted::Diverged(choice) => chosen = Some(choice),
            }
        };
        Ok(leaf)
    }

    /// Tokens the lead's words continue the span with (none when drafting
    /// is off, the leaf is no span or nothing follows), within the leaf's
    /// and the call's token limits.
    fn draft(&self, span: Option<&[String]>, leaf: &Leaf) -> Vec<LlamaToken> {
        let (Some(sources), true) = (span, self.slot.draft) else {
            return Vec::new();
        };
        let written = String::from_utf8_lossy(&leaf.value);
        let Some(inside) = written.trim_start().strip_prefix('"') else {
            return Vec::new();
        };
        let Some(next) = continuation(inside, sources) else {
            return Vec::new();
        };
        let room = DRAFT_MAX_TOKENS
            .min(LEAF_MAX_TOKENS.saturating_sub(leaf.n + 1))
            .min(self.max_new.saturating_sub(self.filled.produced + 1));
        let mut tokens = self.model.vocab().tokenize(next.as_bytes(), false, false);
        tokens.truncate(room);
        tokens
    }

    /// Decodes `token` and its `draft` as one batch, then keeps the drafted
    /// tokens the model itself chooses, in order, and drops the rest from
    /// the cache.
    fn check_draft(
        &mut self,
        path: &str,
        grammar: &mut LlamaSampler,
        leaf: &mut Leaf,
        token: LlamaToken,
        draft: &[LlamaToken],
    ) -> std::result::Result<Drafted, String> {
        let start = self.slot.cached.len();
        let mut tokens = Vec::with_capacity(draft.len() + 1);
        tokens.push(token);
        tokens.extend_from_slice(draft);
        feed_every(self.slot, self.batch, &tokens)?;
        for (i, drafted) in draft.iter().enumerate() {
            self.idx = i as i32;
            let choice = self.choose(path, grammar, leaf)?;
            if choice != Some(*drafted) {
                truncate(self.slot, start + i + 1)?;
                return Ok(Drafted::Diverged(choice));
            }
            if self.take(grammar, *drafted, leaf) {
                truncate(self.slot, start + i + 2)?;
                return Ok(Drafted::Whole);
            }
        }
        self.idx = draft.len() as i32;
        Ok(Drafted::Kept)
    }

    /// The model's next token for the leaf from the current logits: its own
    /// choice if the grammar allows it, else the best allowed one (`None`:
    /// the value may end here and the model wants it to).
    fn choose(
        &mut self,
        path: &str,
        grammar: &mut LlamaSampler,
        leaf: &mut Leaf,
    ) -> std::result::Result<Option<LlamaToken>, String> {
        let vocab = self.model.vocab();
        let logits = self.slot.ctx.get_logits_ith(self.idx);
        if leaf.n == 0 {
            if let Some(p) = string_probability(self.model, grammar, logits) {
                self.filled.confidence.insert(path.to_string(), p);
            }
        }
        if leaf.shares.is_none() {
            if let Step::Value { options, .. } = &self.steps[self.at] {
                if !options.is_empty() {
                    let written = String::from_utf8_lossy(&leaf.value).into_owned();
                    leaf.shares = option_shares(self.model, grammar, logits, &written, options);
                }
            }
        }
        let best = argmax(logits);
        if !vocab.is_eog(best) && allows(grammar, best) {
            return Ok(Some(best));
        }
        if allows(grammar, vocab.eos()) {
            return Ok(None);
        }
        self.filled.fallbacks += 1;
        leaf.forced |= leaf.n < FORCED_WITHIN;
        let token = allowed_fallback(grammar, &self.slot.ctx, self.idx)?;
        Ok((!vocab.is_eog(token)).then_some(token))
    }

    /// Accepts `token` into the leaf; true when the value is then whole.
    fn take(&mut self, grammar: &mut LlamaSampler, token: LlamaToken, leaf: &mut Leaf) -> bool {
        grammar.accept(token);
        let vocab = self.model.vocab();
        leaf.value.extend(vocab.token_to_piece(token, false, None));
        leaf.tokens.push(token);
        leaf.n += 1;
        self.filled.produced += 1;
        is_whole_value(&leaf.value) && allows(grammar, vocab.eos())
    }
}

/// Whether `value` (what the model wrote for a leaf so far) is a whole JSON
/// value that cannot go on: `null`, a boolean or a closed string. A number
/// could still grow a digit, so it is left to the model to end.
fn is_whole_value(value: &[u8]) -> bool {
    let text = String::from_utf8_lossy(value);
    let text = text.trim().trim_end_matches(',').trim_end();
    match text {
        "null" | "true" | "false" => true,
        _ => {
            text.len() >= 2
                && text.starts_with('"')
                && matches!(
                    serde_json::from_str::<serde_json::Value>(text),
                    Ok(serde_json::Value::String(_))
                )
        }
    }
}

/// The leaf's text as it goes into the answer: a value cut short closes its
/// open string (or becomes `null`), and every value starts with a space.
fn written_as_json(written: &str, complete: bool) -> String {
    let mut text = written.to_string();
    if !complete {
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
    text
}

/// The likeliest next tokens the leaf's grammar allows, as their text and
/// their probability relative to the likeliest (1.0).
fn allowed_pieces(
    model: &LlamaModel,
    grammar: &mut LlamaSampler,
    logits: &[f32],
) -> Vec<(Vec<u8>, f32)> {
    let mut array = LlamaTokenDataArray::new(top_candidates(logits), false);
    array.apply_sampler(grammar);
    let allowed: Vec<&LlamaTokenData> = array
        .data
        .iter()
        .filter(|t| t.logit().is_finite())
        .collect();
    let top = allowed.iter().map(|t| t.logit()).fold(f32::MIN, f32::max);
    allowed
        .into_iter()
        .map(|t| {
            let piece = model.vocab().token_to_piece(t.id(), false, None);
            (piece, (t.logit() - top).exp())
        })
        .collect()
}

/// How the allowed next tokens' probability splits between `options` (JSON
/// texts) after `written`: a token counts for each option it is a start of
/// (or that it completes); `None` until some token tells the options apart.
/// With two options this is the model's own yes/no reading, which a
/// greedy answer hides ("business" at 0.55 and at 0.99 read the same).
fn option_shares(
    model: &LlamaModel,
    grammar: &mut LlamaSampler,
    logits: &[f32],
    written: &str,
    options: &[String],
) -> Option<Vec<f32>> {
    let mut mass = vec![0f32; options.len()];
    let mut apart = false;
    for (piece, weight) in allowed_pieces(model, grammar, logits) {
        let text = format!("{written}{}", String::from_utf8_lossy(&piece));
        let text = text.trim_start();
        let fits: Vec<usize> = (0..options.len())
            .filter(|&i| options[i].starts_with(text) || text.starts_with(options[i].as_str()))
            .collect();
        if fits.is_empty() {
            continue;
        }
        apart |= fits.len() < options.len();
        let weight = weight / fits.len() as f32;
        for i in fits {
            mass[i] += weight;
        }
    }
    let total: f32 = mass.iter().sum();
    (apart && total > 0.0).then(|| mass.iter().map(|m| m / total).collect())
}

/// Among the likeliest first tokens the leaf's grammar allows, the share of
/// probability on those that open a string (`"`, ` "`) against those that
/// start `null`. `None` unless both kinds are among them: a leaf that can only
/// be one of the two says nothing about the model's certainty.
fn string_probability(
    model: &LlamaModel,
    grammar: &mut LlamaSampler,
    logits: &[f32],
) -> Option<f32> {
    let (mut string, mut null) = (0f32, 0f32);
    for (piece, weight) in allowed_pieces(model, grammar, logits) {
        match piece.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'"') => string += weight,
            Some(b'n') => null += weight,
            _ => {}
        }
    }
    (string > 0.0 && null > 0.0).then(|| string / (string + null))
}
