//! Splitting the model's paragraph into claims and their citations.
//!
//! The model is asked for sentences ending in `[3]` or `[3, 5]`, but small
//! models also write `… night. [1]`, lists, `[#3]`, `[messages 2-4]` and a
//! leading "Recommended approach:" label. Parsing is lenient about form so
//! that the checks after it can be strict about content: every sentence
//! becomes a claim with the union of its citations, and a citation standing
//! before a sentence's first word belongs to the sentence before it.

/// One sentence of the model's answer, citations taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RawClaim {
    /// The sentence without its citations, whitespace normalised.
    pub(super) text: String,
    /// Cited message numbers, sorted, without repeats.
    pub(super) cites: Vec<usize>,
}

/// A `[a-b]` range longer than this is not a citation anyone means.
const MAX_RANGE: usize = 20;

/// The claims in `answer`, in order.
pub(super) fn split(answer: &str) -> Vec<RawClaim> {
    let mut claims: Vec<RawClaim> = Vec::new();
    for line in answer.lines().map(strip_list_marker) {
        let line = strip_label(line);
        for sentence in sentences(line) {
            add_sentence(&mut claims, &sentence);
        }
    }
    claims
}

/// Appends one sentence: its leading citations go to the claim before it.
fn add_sentence(claims: &mut Vec<RawClaim>, sentence: &str) {
    let mut leading = Vec::new();
    let mut rest = sentence.trim_start();
    while let Some((cites, after)) = citation_at(rest) {
        leading.extend(cites);
        rest = after.trim_start_matches(|c: char| c.is_whitespace() || ".,;".contains(c));
    }
    match claims.last_mut() {
        Some(previous) if !leading.is_empty() => {
            previous.cites.extend(leading);
            normalise(&mut previous.cites);
        }
        _ => rest = sentence.trim_start(),
    }
    let (text, mut cites) = take_citations(rest);
    if !text.is_empty() {
        normalise(&mut cites);
        claims.push(RawClaim { text, cites });
    }
}

fn normalise(cites: &mut Vec<usize>) {
    cites.sort_unstable();
    cites.dedup();
}

/// `text` without its citation groups, and the numbers they held.
fn take_citations(text: &str) -> (String, Vec<usize>) {
    let mut out = String::new();
    let mut cites = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        match citation_at(&rest[open..]) {
            Some((numbers, after)) => {
                cites.extend(numbers);
                rest = after;
            }
            None => {
                out.push('[');
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    (tidy(&out), cites)
}

/// Collapses whitespace and the space a removed citation leaves before
/// punctuation ("night [1]." → "night.").
fn tidy(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(joined.len());
    for c in joined.chars() {
        if ".,;:!?".contains(c) && out.ends_with(' ') {
            out.pop();
        }
        out.push(c);
    }
    out.trim().to_string()
}

/// A citation group at the start of `text`: its numbers and what follows.
fn citation_at(text: &str) -> Option<(Vec<usize>, &str)> {
    let inner = text.strip_prefix('[')?;
    let close = inner.find(']')?;
    let numbers = parse_group(&inner[..close])?;
    Some((numbers, &inner[close + 1..]))
}

/// `3`, `3, 5`, `#3; #5`, `message 3`, `msgs 2-4`: the numbers, or `None`
/// when the brackets hold anything else (then they are ordinary text).
fn parse_group(group: &str) -> Option<Vec<usize>> {
    const WORDS: [&str; 4] = ["messages", "message", "msgs", "msg"];
    let mut numbers = Vec::new();
    for item in group.split([',', ';']) {
        let mut item = item.trim().to_lowercase();
        if let Some(word) = WORDS.iter().find(|w| item.starts_with(*w)) {
            item = item[word.len()..].trim_start().to_string();
        }
        let item = item.trim_start_matches('#');
        match item.split_once(['-', '–']) {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b)?);
                if b < a || b - a > MAX_RANGE {
                    return None;
                }
                numbers.extend(a..=b);
            }
            None => numbers.push(number(item)?),
        }
    }
    Some(numbers)
}

fn number(s: &str) -> Option<usize> {
    let s = s.trim().trim_start_matches('#');
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// "- ", "* ", "• ", "1. ", "2) " at the start of a line.
fn strip_list_marker(line: &str) -> &str {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix(['-', '*', '•']) {
        return rest.trim_start();
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    match line[digits..].strip_prefix(['.', ')']) {
        Some(rest) if digits > 0 && rest.starts_with(' ') => rest.trim_start(),
        _ => line,
    }
}

/// "Recommended approach:" and the like, which models put first.
fn strip_label(line: &str) -> &str {
    match line.split_once(':') {
        Some((label, rest)) if label.len() <= 40 && label.to_lowercase().contains("approach") => {
            rest.trim_start()
        }
        _ => line,
    }
}

/// Sentences: ends at `.`, `!` or `?` before whitespace (not "3.5"), and
/// after a citation group followed by a capital ("… [1] Ask …").
fn sentences(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        current.push(c);
        let next = chars.get(i + 1).copied();
        let after_space = chars[i + 1..].iter().find(|c| !c.is_whitespace()).copied();
        let ends = match c {
            '.' | '!' | '?' => next.is_none_or(char::is_whitespace),
            ']' => after_space.is_some_and(char::is_uppercase) && ends_citation(&current),
            _ => false,
        };
        if ends {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// Whether `text` ends with a citation group.
fn ends_citation(text: &str) -> bool {
    text.rfind('[')
        .is_some_and(|open| citation_at(&text[open..]).is_some_and(|(_, after)| after.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(answer: &str) -> Vec<(String, Vec<usize>)> {
        split(answer)
            .into_iter()
            .map(|c| (c.text, c.cites))
            .collect()
    }
    fn c(text: &str, cites: &[usize]) -> (String, Vec<usize>) {
        (text.to_string(), cites.to_vec())
    }

    #[test]
    fn sentences_with_citations_become_claims() {
        assert_eq!(
            claims("They miss calls at night [1]. Budget is $5k [2, 4]. Ask about timing."),
            vec![
                c("They miss calls at night.", &[1]),
                c("Budget is $5k.", &[2, 4]),
                c("Ask about timing.", &[]),
            ]
        );
    }

    #[test]
    fn citations_after_the_full_stop_belong_to_the_sentence_before() {
        assert_eq!(
            claims("They miss calls at night. [1] They want it next month. [3][5]"),
            vec![
                c("They miss calls at night.", &[1]),
                c("They want it next month.", &[3, 5]),
            ]
        );
    }

    #[test]
    fn lists_labels_and_citation_spellings_are_understood() {
        let answer = "Recommended approach:\n- Open with the missed calls [#1]\n2. Revenue is 3.5k [message 2; msg 4]\n* Volume [2-4] Then pricing [9]";
        assert_eq!(
            claims(answer),
            vec![
                c("Open with the missed calls", &[1]),
                c("Revenue is 3.5k", &[2, 4]),
                c("Volume", &[2, 3, 4]),
                c("Then pricing", &[9]),
            ]
        );
    }

    #[test]
    fn brackets_that_are_not_citations_stay_text() {
        assert_eq!(
            claims("Ask about [their niche] first [1]. Nothing [1-99]."),
            vec![
                c("Ask about [their niche] first.", &[1]),
                c("Nothing [1-99].", &[])
            ]
        );
        assert!(claims("  \n [1] ").is_empty());
    }
}
