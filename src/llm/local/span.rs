//! Grammars that admit only spans of given texts: a string leaf marked with
//! [`SPAN_OF`](crate::llm::SPAN_OF) can be `null` or a run of whole words
//! copied from one of the texts — so the embedded model cannot write a value
//! the lead never said, not even a paraphrase.
//!
//! The grammar is linear in the texts' length: word *k* of a text is a rule
//! `wK ::= "word" ("separator" wK+1)?`, and a span starts at any word. A span
//! never crosses a character JSON would have to escape (a quote, a backslash,
//! a line break): those end a run, so every admitted value is a valid JSON
//! string without escapes.

/// Most words offered: the newest text's tail wins, so a long paste cannot
/// make the grammar (and each token's check against it) large.
const MAX_WORDS: usize = 400;

/// One run of words with what separates them (`seps[i]` follows `words[i]`).
#[derive(Debug, PartialEq)]
struct Run<'a> {
    words: Vec<&'a str>,
    seps: Vec<&'a str>,
}

/// Splits `text` into runs of words; characters that would need escaping in
/// JSON end a run.
fn runs(text: &str) -> Vec<Run<'_>> {
    let mut out = Vec::new();
    for piece in text.split(|c: char| c == '"' || c == '\\' || c.is_control()) {
        let mut run = Run {
            words: Vec::new(),
            seps: Vec::new(),
        };
        let mut word_start: Option<usize> = None;
        let mut sep_start = 0;
        for (i, c) in piece.char_indices().chain([(piece.len(), ' ')]) {
            match (c.is_alphanumeric() && i < piece.len(), word_start) {
                (true, None) => {
                    if !run.words.is_empty() {
                        run.seps.push(&piece[sep_start..i]);
                    }
                    word_start = Some(i);
                }
                (false, Some(start)) => {
                    run.words.push(&piece[start..i]);
                    word_start = None;
                    sep_start = i;
                }
                _ => {}
            }
        }
        if !run.words.is_empty() {
            out.push(run);
        }
    }
    out
}

/// A GBNF string literal for `text` (which holds no quote, backslash or
/// control character, see [`runs`]).
fn literal(text: &str) -> String {
    format!("\"{text}\"")
}

/// A word's literal whose first letter may be either case: the model may
/// start a value with a capital ("Roofing company") the lead did not type,
/// and a grammar that refused it would overrule the model's own answer.
fn word(text: &str) -> String {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return literal(text);
    };
    let (lower, upper): (String, String) = (
        first.to_lowercase().collect(),
        first.to_uppercase().collect(),
    );
    let rest = chars.as_str();
    if lower == upper {
        return literal(text);
    }
    let head = format!("(\"{lower}\" | \"{upper}\")");
    match rest.is_empty() {
        true => head,
        false => format!("{head} {}", literal(rest)),
    }
}

/// The GBNF rules for a leaf whose value is `null` or a span of `texts`;
/// the leaf rule is `leaf-value`. When the texts hold no word the leaf can
/// only be `null`.
pub(super) fn grammar(texts: &[String]) -> String {
    let mut all: Vec<Run<'_>> = texts.iter().flat_map(|t| runs(t)).collect();
    // Keep the newest words when there are too many.
    let mut budget = MAX_WORDS;
    let mut kept = Vec::new();
    while let Some(mut run) = all.pop() {
        if budget == 0 {
            break;
        }
        if run.words.len() > budget {
            let cut = run.words.len() - budget;
            run.words.drain(..cut);
            run.seps.drain(..cut);
        }
        budget -= run.words.len();
        kept.push(run);
    }
    kept.reverse();
    let mut rules = Vec::new();
    let mut starts = Vec::new();
    let mut n = 0usize;
    for run in &kept {
        for (i, word) in run.words.iter().enumerate() {
            let rule = match run.seps.get(i) {
                Some(sep) => format!(
                    "w{n} ::= {} ({} w{})?",
                    self::word(word),
                    literal(sep),
                    n + 1
                ),
                None => format!("w{n} ::= {}", self::word(word)),
            };
            rules.push(rule);
            starts.push(format!("w{n}"));
            n += 1;
        }
    }
    let value = match starts.is_empty() {
        true => "leaf-value ::= \"null\"".to_string(),
        false => {
            rules.push(format!("span ::= {}", starts.join(" | ")));
            "leaf-value ::= \"null\" | \"\\\"\" span \"\\\"\"".to_string()
        }
    };
    let mut out = value;
    for rule in rules {
        out.push('\n');
        out.push_str(&rule);
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_at_characters_json_escapes() {
        let r = runs("we're \"slow\", sorry\nnext line");
        let words: Vec<Vec<&str>> = r.iter().map(|r| r.words.clone()).collect();
        assert_eq!(
            words,
            vec![
                vec!["we", "re"],
                vec!["slow"],
                vec!["sorry"],
                vec!["next", "line"]
            ]
        );
        assert_eq!(r[0].seps, vec!["'"]);
        assert!(runs("  ?! ").is_empty());
    }

    #[test]
    fn each_word_starts_a_span_and_may_go_on_to_the_next() {
        let g = grammar(&["Half of them, gone.".to_string(), "más tarde".to_string()]);
        assert_eq!(
            g,
            "leaf-value ::= \"null\" | \"\\\"\" span \"\\\"\"\n\
             w0 ::= (\"h\" | \"H\") \"alf\" (\" \" w1)?\n\
             w1 ::= (\"o\" | \"O\") \"f\" (\" \" w2)?\n\
             w2 ::= (\"t\" | \"T\") \"hem\" (\", \" w3)?\n\
             w3 ::= (\"g\" | \"G\") \"one\"\n\
             w4 ::= (\"m\" | \"M\") \"ás\" (\" \" w5)?\n\
             w5 ::= (\"t\" | \"T\") \"arde\"\n\
             span ::= w0 | w1 | w2 | w3 | w4 | w5\n"
        );
    }

    #[test]
    fn without_words_only_null_is_left() {
        assert_eq!(grammar(&["👍".to_string()]), "leaf-value ::= \"null\"\n");
        assert_eq!(grammar(&[]), "leaf-value ::= \"null\"\n");
    }

    #[test]
    fn a_long_paste_keeps_its_newest_words() {
        let long = (0..MAX_WORDS + 50)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let g = grammar(&["older".to_string(), long]);
        assert!(!g.contains("\"lder\""));
        assert!(!g.contains("\"49\""));
        assert!(g.contains("\"50\"") && g.contains(&format!("\"{}\"", MAX_WORDS + 49)));
    }
}
