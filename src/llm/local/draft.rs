//! Drafting a span leaf's next words ("prompt lookup decoding").
//!
//! A value held to the lead's words (see [`super::span`]) almost always goes
//! on the way the lead wrote it: once the model has begun `"miss calls`, the
//! likeliest next tokens are ` from leads at night`. So after each token of
//! a span we look its words up in the lead's messages and offer what follows
//! there as a draft. The filler decodes the token and the draft as one batch,
//! reads the model's own choice at every position, keeps the drafted tokens
//! up to the first one the model would not have written, and drops the rest
//! from the KV cache. Only the number of decode calls changes, not the
//! decision rule: each token is still the model's greedy choice.
//!
//! Drafts are short on purpose. Measured with the default model on two
//! cores (AMD EPYC): one token costs 68–80 ms to decode, each further token
//! in the same batch ~45 ms up to seven tokens, and from eight tokens on
//! llama.cpp switches to another kernel that costs more until about sixteen
//! tokens. A kept drafted token so saves ~30 ms and a rejected one costs
//! ~45: drafting pays where the model copies, as in a span. Batched logits
//! can differ from one-token decodes in the last bits (attention over a
//! long cache is summed in another order), so a near tie — a capital letter
//! — may go the other way, as it may between two processes with different
//! warm-start files.
//!
//! Free text (replies) drafts the same way from the prompt itself: the
//! tokens that followed the last [`LOOKUP_KEY`] tokens where they last
//! occurred earlier in the sequence — a reply often repeats the question the
//! task quotes, the offer's name or a link. Checking a draft samples each
//! position as sequential decoding would (one draw per position, in order)
//! and stops at the first token that differs, so greedy text is what
//! sequential decoding writes (up to the last bits, above) and sampled text
//! follows the same distribution.

/// Most tokens in a batch that checks a draft (the token and its draft):
/// the largest batch before llama.cpp's slower mid-size kernel (see above).
pub(super) const DRAFT_BATCH: usize = 7;

/// Most tokens a span draft holds: a span goes on as the lead wrote it, so a
/// whole batch is worth offering.
pub(super) const DRAFT_MAX_TOKENS: usize = DRAFT_BATCH - 1;

/// Characters that end a run of words in a span grammar: a span never
/// crosses them (see [`super::span`]), so neither does a draft.
fn ends_run(c: char) -> bool {
    c == '"' || c == '\\' || c.is_control()
}

/// Whether `hay` starts with `needle` when letters may differ in case (the
/// span grammar lets every word start with either case); the length of the
/// match in `hay`, in bytes.
fn caseless_prefix(hay: &str, needle: &str) -> Option<usize> {
    let mut hay_chars = hay.char_indices();
    for n in needle.chars() {
        let (_, h) = hay_chars.next()?;
        if h != n && !h.to_lowercase().eq(n.to_lowercase()) {
            return None;
        }
    }
    Some(hay_chars.next().map_or(hay.len(), |(i, _)| i))
}

/// What follows `written` (the span so far, without its opening quote) in
/// the lead's words: the rest of the run of words where `written` starts at
/// a word, in the newest of `sources` that holds it. `None` when `written`
/// holds no word yet (any word could come next) or is found nowhere.
pub(super) fn continuation<'a>(written: &str, sources: &'a [String]) -> Option<&'a str> {
    if !written.chars().any(char::is_alphanumeric) {
        return None;
    }
    for source in sources.iter().rev() {
        let mut previous: Option<char> = None;
        for (start, c) in source.char_indices() {
            let word_start = c.is_alphanumeric() && !previous.is_some_and(char::is_alphanumeric);
            previous = Some(c);
            if !word_start {
                continue;
            }
            let Some(len) = caseless_prefix(&source[start..], written) else {
                continue;
            };
            let rest = &source[start + len..];
            let end = rest.find(ends_run).unwrap_or(rest.len());
            if end > 0 {
                return Some(&rest[..end]);
            }
        }
    }
    None
}

/// Tokens that must match before free text drafts what followed them.
pub(super) const LOOKUP_KEY: usize = 3;

/// Most tokens a free-text draft holds: a reply strays from the prompt's
/// words sooner than a span does, and a rejected token costs ~45 ms.
pub(super) const LOOKUP_MAX_TOKENS: usize = 4;

/// A reply stops drafting after this many drafts in a row of which the
/// model kept less than half: a reply that is not copying its prompt goes
/// on not copying it, and a rejected token costs ~45 ms while a kept one
/// saves ~30. (One scripted reply drafted 15 tokens and kept 1.)
pub(super) const LOOKUP_MISSES: usize = 2;

/// The tokens that followed the newest earlier occurrence of the last
/// [`LOOKUP_KEY`] tokens of `sequence` (then `next`), at most `max` of them
/// and none from `stop` on (the end of a chat turn): empty when the key
/// occurs nowhere earlier.
pub(super) fn lookup<T: Copy + PartialEq>(
    sequence: &[T],
    next: T,
    max: usize,
    stop: impl Fn(T) -> bool,
) -> Vec<T> {
    let Some(tail) = sequence.len().checked_sub(LOOKUP_KEY - 1) else {
        return Vec::new();
    };
    let key = |i: usize| -> T {
        match sequence.get(tail + i) {
            Some(t) => *t,
            None => next,
        }
    };
    // A match at `start` leaves at least one token after it, before the key.
    for start in (0..tail.saturating_sub(LOOKUP_KEY - 1)).rev() {
        if (0..LOOKUP_KEY).all(|i| sequence[start + i] == key(i)) {
            return sequence[start + LOOKUP_KEY..]
                .iter()
                .copied()
                .take_while(|t| !stop(*t))
                .take(max)
                .collect();
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn free_text_drafts_what_followed_the_key_last_time() {
        let never = |_: i32| false;
        // "… 7 8 9 1 2 3 4 5 | 1 2" + next 3 → drafts 4 5 (then the key itself).
        let seq = [1, 2, 3, 9, 9, 1, 2, 3, 4, 5, 1, 2];
        assert_eq!(lookup(&seq, 3, 8, never), vec![4, 5, 1, 2]);
        assert_eq!(lookup(&seq, 3, 1, never), vec![4]);
        assert_eq!(lookup(&seq, 3, 8, |t| t == 5), vec![4]);
        assert!(lookup(&seq, 7, 8, never).is_empty(), "key occurs nowhere");
        assert!(lookup(&[1, 2], 3, 8, never).is_empty());
        assert!(lookup(&[1], 2, 8, never).is_empty());
    }

    #[test]
    fn a_begun_span_goes_on_as_the_lead_wrote_it() {
        let s = sources(&["hi, I run a roofing company and we miss calls at night\nok"]);
        assert_eq!(
            continuation("miss calls", &s),
            Some(" at night"),
            "the run ends at the line break"
        );
        assert_eq!(
            continuation("Roof", &s),
            Some("ing company and we miss calls at night")
        );
        assert_eq!(continuation("mis", &s), Some("s calls at night"));
    }

    #[test]
    fn only_a_word_start_matches_and_the_newest_source_wins() {
        let s = sources(&["the team grew", "we lost a team member"]);
        assert_eq!(continuation("team", &s), Some(" member"));
        assert_eq!(
            continuation("eam", &s),
            None,
            "not from the middle of a word"
        );
    }

    #[test]
    fn nothing_to_draft_without_a_word_or_a_match() {
        let s = sources(&["we said \"slow\" twice"]);
        assert_eq!(continuation("", &s), None);
        assert_eq!(continuation(" ", &s), None);
        assert_eq!(continuation("fast", &s), None);
        assert_eq!(continuation("slow", &s), None, "a quote ends the run");
        assert_eq!(continuation("twice", &s), None, "nothing follows");
    }

    #[test]
    fn case_may_differ_and_non_ascii_text_is_safe() {
        let s = sources(&["Ärger mit Kunden, ständig"]);
        assert_eq!(continuation("ärger mit", &s), Some(" Kunden, ständig"));
        assert_eq!(continuation("Ständig", &s), None);
        assert_eq!(continuation("ständ", &s), Some("ig"));
    }
}
