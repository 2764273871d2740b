//! Drafting a skeleton answer's `null` leaves from the lane's last answer.
//!
//! Turn after turn the extractor answers the same schema about the same
//! lead, and a leaf that was `null` mostly stays `null` (the disqualifiers,
//! a fact not given yet). Filled one by one, every leaf costs a decode call
//! of its own for its key, and on two cores a call of 7 tokens or fewer
//! costs ~45 ms a token while one of 20-30 tokens costs ~25. So at a leaf
//! that was `null` last time, the filler decodes the pending key, `null`,
//! and the following keys and `null`s that were `null` too (a "run", up to
//! [`RUN_MAX`] tokens) as one batch, then checks each drafted value token
//! against the model's own choice there, exactly as it would have chosen
//! it. The first value token the model would not write ends the run: what
//! follows it is dropped from the cache and the leaf goes on as usual.
//! Whatever is kept is what filling leaf by leaf would have written, up to
//! near ties batched logits can tip. Restated string values are left to the
//! span drafts (see `local::draft`): drafted here too they broke runs often
//! enough to cost what they saved (see [`nulls`]).

use super::super::decode::{feed_with_logits, truncate};
use super::super::skeleton::Step;
use super::{Filler, Leaf};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use std::collections::{BTreeMap, VecDeque};

/// Each complete leaf's tokens in one answer, by leaf path.
pub(in crate::llm::local) type Answers = BTreeMap<String, Vec<LlamaToken>>;

/// Most tokens one run decodes: batches of 20-30 tokens cost ~25 ms a token
/// on two cores, and a value the model does not repeat wastes the rest.
pub(super) const RUN_MAX: usize = 32;

/// Fewest tokens worth a run: below 14 a batch costs more than the same
/// tokens decoded key by key (see `decode::SMALL_BATCH`).
pub(super) const RUN_MIN: usize = 14;

/// The leaves of `answers` that were `null`: the ones worth drafting. A
/// null leaf mostly stays null (a disqualifier, a fact not given yet),
/// while a value the model restates often comes out in other words or
/// case, and a run that breaks early wastes the rest of its batch
/// (measured on the scripted conversation: drafting every leaf cut decode
/// calls from ~18 to 5-20 an answer but saved no time).
pub(super) fn nulls(answers: Answers, model: &llama_cpp_2::model::LlamaModel) -> Answers {
    let vocab = model.vocab();
    answers
        .into_iter()
        .filter(|(_, tokens)| {
            let bytes: Vec<u8> = tokens
                .iter()
                .flat_map(|t| vocab.token_to_piece(*t, false, None))
                .collect();
            String::from_utf8_lossy(&bytes)
                .trim()
                .trim_end_matches(',')
                .trim()
                == "null"
        })
        .collect()
}

/// Runs stop for the rest of an answer once this many drafted values were
/// not what the model wrote: a message that changes several facts tends to
/// change more, and each run pays a fixed ~0.4 s for its batch.
const MAX_DIVERGED: usize = 2;

/// A drafted value in a run.
pub(super) struct Planned {
    pub(super) path: String,
    /// Literal tokens decoded before it since the previous value (its key).
    pub(super) literal: usize,
    /// Batch index of its first token.
    pub(super) start: usize,
    pub(super) tokens: Vec<LlamaToken>,
}

/// A decoded run not yet checked to its end.
pub(super) struct Run {
    /// Cache position of the run's first token.
    pub(super) base: usize,
    /// Values still to check, in order.
    pub(super) planned: VecDeque<Planned>,
    /// The leaf whose key ends the run, when the run ends with a key
    /// rather than a value, and the key's token count.
    pub(super) keyed: Option<(String, usize)>,
    /// Tokens in the run.
    pub(super) len: usize,
}

/// A leaf taken from a run.
pub(super) enum Checked {
    /// The model chose every drafted token and they make a whole value.
    Whole(Leaf),
    /// The model went another way (its choice, when made) or the value is
    /// not done: the leaf goes on from here as usual.
    Open(Leaf, Option<Option<LlamaToken>>),
}

impl Filler<'_, '_> {
    /// At a leaf whose last answer is known: decodes the pending key, that
    /// answer's value and as many following keys and values as fit in
    /// [`RUN_MAX`] tokens as one batch, to be checked leaf by leaf
    /// ([`Filler::take_from_run`]). Nothing happens when drafting is off, no
    /// last answer is known, or the run would be shorter than [`RUN_MIN`].
    pub(super) fn start_run(&mut self) -> std::result::Result<(), String> {
        let Some((tokens, flushed, run)) = self.plan_run() else {
            return Ok(());
        };
        // Logits where a value token is chosen, and after the run's end.
        let end = tokens.len() - 1;
        let choices: Vec<std::ops::Range<usize>> = run
            .planned
            .iter()
            .map(|p| p.start - 1..p.start + p.tokens.len())
            .collect();
        feed_with_logits(self.slot, self.batch, &tokens, |i| {
            i == end || choices.iter().any(|r| r.contains(&i))
        })?;
        self.slot.drafted += tokens.len() - flushed;
        self.carry.clear();
        self.pending.clear();
        self.run = Some(run);
        Ok(())
    }

    /// The run [`Filler::start_run`] would decode here: its tokens (the
    /// carried token and pending key first), how many of them are that
    /// flush, and the run. `None` when there is none worth decoding.
    fn plan_run(&self) -> Option<(Vec<LlamaToken>, usize, Run)> {
        let (Some(last), true) = (&self.last, self.slot.draft) else {
            return None;
        };
        let Step::Value { path, .. } = &self.steps[self.at] else {
            return None;
        };
        let mut guess = last.get(path)?;
        let vocab = self.model.vocab();
        let key = vocab.tokenize(self.pending.as_bytes(), false, false);
        let mut tokens = self.carry.clone();
        tokens.extend_from_slice(&key);
        let flushed = tokens.len();
        let (mut path, mut literal, mut at) = (path.clone(), key.len(), self.at);
        let mut planned = VecDeque::new();
        let mut keyed = None;
        while flushed > 0 && tokens.len() + guess.len() <= RUN_MAX {
            planned.push_back(Planned {
                path: path.clone(),
                literal,
                start: tokens.len(),
                tokens: guess.clone(),
            });
            tokens.extend_from_slice(guess);
            let bytes: Vec<u8> = guess
                .iter()
                .flat_map(|t| vocab.token_to_piece(*t, false, None))
                .collect();
            let Some((text, next)) = literal_after(self.steps, at, &tail_of(&bytes)) else {
                break;
            };
            let key = vocab.tokenize(text.as_bytes(), false, false);
            if tokens.len() + key.len() > RUN_MAX {
                break;
            }
            tokens.extend_from_slice(&key);
            let Step::Value {
                path: next_path, ..
            } = &self.steps[next]
            else {
                break;
            };
            match last.get(next_path) {
                Some(next_guess) if tokens.len() + next_guess.len() <= RUN_MAX => {
                    (path, literal, at, guess) = (next_path.clone(), key.len(), next, next_guess);
                }
                _ => {
                    keyed = Some((next_path.clone(), key.len()));
                    break;
                }
            }
        }
        if planned.is_empty()
            || tokens.len() < RUN_MIN
            || self.filled.produced + tokens.len() >= self.max_new
        {
            return None;
        }
        let run = Run {
            base: self.slot.cached.len(),
            planned,
            keyed,
            len: tokens.len(),
        };
        Some((tokens, flushed, run))
    }

    /// The leaf at `path` as far as the current run has it: `None` when no
    /// run covers it. Each drafted token is checked against the model's own
    /// choice from the logits before it; the first it would not write ends
    /// the run, and the run's tokens from there on leave the cache.
    pub(super) fn take_from_run(
        &mut self,
        path: &str,
        grammar: &mut LlamaSampler,
    ) -> std::result::Result<Option<Checked>, String> {
        let Some(run) = self.run.as_mut() else {
            return Ok(None);
        };
        let base = run.base;
        let Some(p) = run.planned.pop_front() else {
            // The run ended with a key: this leaf's, by construction.
            let (keyed, len) = (run.keyed.take(), run.len);
            self.run = None;
            let Some((key_of, literal)) = keyed else {
                return Ok(None);
            };
            if key_of != path {
                // Not this leaf's key after all: it leaves the cache and is
                // decoded again with this leaf's pending text.
                self.end_run(base + len - literal)?;
                return Ok(None);
            }
            self.pending.clear();
            self.carry.clear();
            self.filled.produced += literal;
            self.idx = len as i32 - 1;
            return Ok(Some(Checked::Open(Leaf::default(), None)));
        };
        if p.path != path {
            self.end_run(base + p.start - p.literal)?;
            return Ok(None);
        }
        // The key written since the last value is decoded in the run.
        self.pending.clear();
        self.carry.clear();
        let more = !run.planned.is_empty() || run.keyed.is_some();
        self.filled.produced += p.literal;
        let mut leaf = Leaf::default();
        for (i, &drafted) in p.tokens.iter().enumerate() {
            self.idx = (p.start + i) as i32 - 1;
            let choice = self.choose(path, grammar, &mut leaf)?;
            if choice != Some(drafted) {
                self.end_run(base + p.start + i)?;
                self.diverged += 1;
                if self.diverged >= MAX_DIVERGED {
                    // This answer is not the last one again: no more runs.
                    self.last = None;
                }
                return Ok(Some(Checked::Open(leaf, Some(choice))));
            }
            let whole = self.take(grammar, drafted, &mut leaf);
            let last = i + 1 == p.tokens.len();
            match (whole, last) {
                (true, true) => {
                    if !more {
                        self.run = None;
                    }
                    leaf.complete = true;
                    return Ok(Some(Checked::Whole(leaf)));
                }
                (true, false) => {
                    self.end_run(base + p.start + i + 1)?;
                    leaf.complete = true;
                    return Ok(Some(Checked::Whole(leaf)));
                }
                (false, true) => {
                    self.end_run(base + p.start + i + 1)?;
                    self.idx = (p.start + i) as i32;
                    return Ok(Some(Checked::Open(leaf, None)));
                }
                (false, false) => {}
            }
        }
        Ok(Some(Checked::Open(leaf, None)))
    }

    /// Ends the run, dropping its tokens after the first `keep` of the lane.
    fn end_run(&mut self, keep: usize) -> std::result::Result<(), String> {
        self.run = None;
        truncate(self.slot, keep)
    }
}

/// The literal text the filler writes between the leaf at `steps[at]` and
/// the next leaf, given the `tail` the leaf's value ended with (`,` of a
/// `",` token, which the first literal does not repeat), and that next
/// leaf's index; `None` when no leaf follows.
pub(super) fn literal_after(steps: &[Step], at: usize, tail: &str) -> Option<(String, usize)> {
    let mut text = String::new();
    let mut tail = tail;
    for (i, step) in steps.iter().enumerate().skip(at + 1) {
        match step {
            Step::Text(t) => {
                text.push_str(t.strip_prefix(tail).unwrap_or(t));
                tail = "";
            }
            Step::Value { .. } => return Some((text, i)),
        }
    }
    None
}

/// The tail a value written as `bytes` leaves for the next literal to skip
/// (see `Filler::leaf`).
pub(super) fn tail_of(bytes: &[u8]) -> String {
    let written = String::from_utf8_lossy(bytes);
    let trimmed = written.trim_end_matches([',', '\n']).len();
    written[trimmed..].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps() -> Vec<Step> {
        let leaf = |path: &str| Step::Value {
            path: path.into(),
            gbnf: String::new(),
            span: None,
            options: Vec::new(),
        };
        vec![
            Step::Text("{\n  \"a\":".into()),
            leaf("a"),
            Step::Text(",\n  \"b\":".into()),
            Step::Text(" {\n    \"c\":".into()),
            leaf("b.c"),
            Step::Text("\n  }\n}".into()),
        ]
    }

    #[test]
    fn the_literal_between_two_leaves_skips_what_the_value_wrote() {
        let steps = steps();
        assert_eq!(
            literal_after(&steps, 1, ""),
            Some((",\n  \"b\": {\n    \"c\":".to_string(), 4))
        );
        assert_eq!(
            literal_after(&steps, 1, ","),
            Some(("\n  \"b\": {\n    \"c\":".to_string(), 4))
        );
        assert_eq!(literal_after(&steps, 4, ""), None);
    }

    #[test]
    fn a_value_token_that_goes_on_leaves_a_tail() {
        assert_eq!(tail_of(br#" "roofing company","#), ",");
        assert_eq!(tail_of(b" null"), "");
        assert_eq!(tail_of(b" null,\n"), ",\n");
    }
}
