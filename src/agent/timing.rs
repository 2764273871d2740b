//! Time in what a lead wrote, in the six languages Setter answers in: does a
//! value say *when* at all, how many days away is it, and is the time about
//! buying — or about the call the lead wants ("can we talk tomorrow?") or
//! how things stand today ("right now I get about 8")?
//!
//! Only a buying timeline is a timing signal; a call time is already the
//! `asked_call` signal, and the present is no deadline. Reading these apart
//! in code keeps a small model's slot choice from scoring a lead Hot.

use super::plausible::words;
use super::time_words::{COUNTS, DEADLINES, TIME_STEMS, UNITS, WEEKDAYS};

/// Words that turn a following time word into a rate ("30 a week", "per
/// month", "al mes", "pro Woche"): volume or money, not when.
const RATE_WORDS: &[&str] = &[
    "a", "per", "every", "each", "an", "al", "por", "cada", "pro", "je", "par", "chaque", "ao",
    "todo", "toda", "ogni", "alla",
];

fn is_time_word(word: &str) -> bool {
    TIME_STEMS.iter().chain(WEEKDAYS).any(|stem| {
        let n = stem.chars().count();
        word == *stem || (n >= 4 && word.starts_with(stem))
    })
}

/// Whether `value` says when: a time word that is not a rate, or a clock
/// time or date written with digits ("5pm", "3/15").
pub(crate) fn says_when(value: &str) -> bool {
    let w = words(value);
    let timed = w.iter().enumerate().any(|(i, word)| {
        let rate = i > 0 && RATE_WORDS.contains(&w[i - 1].as_str());
        is_time_word(word) && !rate
    });
    let clock = w.iter().any(|t| {
        t.chars().next().is_some_and(|c| c.is_ascii_digit())
            && (t.ends_with("am") || t.ends_with("pm") || t.ends_with('h'))
    });
    timed || clock || value.contains('/')
}
/// Lowercase words joined by single spaces and padded, every other
/// character a space ("Aujourd'hui!" → " aujourd hui "): phrases and text
/// normalised alike match on whole words.
fn padded(text: &str) -> String {
    let lowered: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    format!(
        " {} ",
        lowered.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

/// The value of `word` in `table`.
fn lookup(table: &[(f64, &[&str])], word: &str) -> Option<f64> {
    table
        .iter()
        .find(|(_, words)| words.contains(&word))
        .map(|(n, _)| *n)
}

/// Days until a stated timing, when the phrase says ("2 weeks", "tomorrow",
/// "le mois prochain", "este mês", "Thursday", "asap"). `None` when it
/// cannot be told — a month name needs a calendar, "when the time is
/// right" has no date — so an unclear phrase never counts as urgent.
pub fn parse_days(text: &str) -> Option<f64> {
    let t = padded(text);
    let deadline = DEADLINES
        .iter()
        .find(|(_, phrases)| phrases.iter().any(|p| t.contains(&padded(p))));
    if let Some((days, _)) = deadline {
        return Some(*days);
    }
    if t.split_whitespace().any(|w| WEEKDAYS.contains(&w)) {
        return Some(7.0);
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    let number = |w: &str| w.parse::<f64>().ok();
    (1..words.len()).find_map(|i| {
        // "40 a week" is a rate, not a deadline.
        let rate = i >= 2 && RATE_WORDS.contains(&words[i - 1]) && number(words[i - 2]).is_some();
        let n = lookup(COUNTS, words[i - 1]).or_else(|| number(words[i - 1]))?;
        (!rate).then_some(())?;
        Some(n * lookup(UNITS, words[i])?)
    })
}

/// Whether the clause of `lead_said` that holds `value` asks for a call or
/// meeting ("can we book a call this week?", "¿hablamos el jueves?"): the
/// time in it is when to talk, not when to buy.
pub(crate) fn about_a_call(value: &str, lead_said: &str) -> bool {
    let is_end = |c: char| matches!(c, '.' | '!' | '?' | ';' | ',' | '\n');
    enclosing(value, lead_said, is_end).is_some_and(|(start, end)| {
        super::signals::keyword_signals(&lead_said[start..end])
            .iter()
            .any(|(signal, _)| *signal == "asked_call")
    })
}

/// The byte range of the stretch of `text` between two `is_end`
/// characters that holds `value` (compared case-insensitively); `None`
/// when `value` is not in `text`.
pub(super) fn enclosing(
    value: &str,
    text: &str,
    is_end: impl Fn(char) -> bool + Copy,
) -> Option<(usize, usize)> {
    let hay = text.to_lowercase();
    let needle = value.trim().to_lowercase();
    // Lowercasing can change byte lengths; only cut where offsets agree.
    if needle.is_empty() || hay.len() != text.len() {
        return None;
    }
    let at = hay.find(&needle)?;
    let start = hay[..at].rfind(is_end).map_or(0, |i| i + 1);
    let end = hay[at + needle.len()..]
        .find(is_end)
        .map_or(hay.len(), |i| at + needle.len() + i);
    Some((start, end))
}

/// Words that say "at present" when a phrase opens with them.
const PRESENT: &[&str] = &[
    "now",
    "right now",
    "currently",
    "at the moment",
    "today",
    "these days",
    "ahora",
    "ahora mismo",
    "actualmente",
    "hoy en día",
    "agora",
    "atualmente",
    "hoje em dia",
    "jetzt",
    "derzeit",
    "aktuell",
    "zurzeit",
    "momentan",
    "maintenant",
    "actuellement",
    "en ce moment",
    "aujourd'hui",
    "adesso",
    "ora",
    "attualmente",
    "al momento",
];

/// Subjects that make "right now …" a statement of how things are.
const SUBJECTS: &[&str] = &[
    "i", "i'm", "im", "we", "we're", "were", "they", "it", "it's", "its", "my", "our", "yo",
    "tengo", "tenemos", "nosotros", "mi", "eu", "tenho", "temos", "nós", "nos", "ich", "wir", "je",
    "j'ai", "nous", "on", "io", "noi", "ho", "abbiamo",
];

/// Whether `value` describes the present rather than a deadline: it opens
/// with "right now" (or the like) and goes on with a subject — "right now
/// I get about 8", "actuellement nous avons 3 setters" — where a timeline
/// would be "right now" alone or "we need it right now".
pub(crate) fn present_state(value: &str) -> bool {
    let w = words(value);
    PRESENT.iter().any(|marker| {
        let m: Vec<&str> = marker.split(' ').collect();
        w.len() > m.len() + 1
            && w.iter().zip(&m).all(|(a, b)| a == b)
            && SUBJECTS.contains(&w[m.len()].as_str())
    })
}

#[cfg(test)]
#[path = "timing_tests.rs"]
mod tests;
