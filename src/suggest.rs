//! "Did you mean …?" for misspelled keys and values in hand-written files
//! (eval cases, `suite.toml`, `setter.toml`).
//!
//! serde already names an unknown key and lists the known ones; a user who
//! typed `expcet` still has to spot `expect` in a list of nine. These helpers
//! add the nearest known name and the `file:line` where the key sits, so a
//! typo is an error pointing at itself instead of a case that checks nothing.

use std::path::Path;

/// The candidate closest to `word` by edit distance (a swap of two letters
/// counts once), if it is close enough to be a likely typo.
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = word.chars().count() / 3 + 1;
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance: insertions, deletions, substitutions
/// and swaps of neighbours each cost 1.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The name in serde's "unknown field `x`" or "unknown variant `x`", if the
/// message is one of those.
pub(crate) fn unknown_name(message: &str) -> Option<&str> {
    let rest = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|p| message.find(p).map(|at| &message[at + p.len()..]))?;
    rest.find('`').map(|end| &rest[..end])
}

/// serde's message with the nearest expected name added:
/// "unknown field `expcet`, expected one of `id`, … `expect` …; did you mean `expect`?".
pub(crate) fn explain(message: &str) -> String {
    let Some(name) = unknown_name(message) else {
        return message.to_string();
    };
    let Some(expected) = message.split_once("expected").map(|(_, e)| e) else {
        return message.to_string();
    };
    let known = expected.split('`').skip(1).step_by(2);
    match nearest(name, known) {
        Some(best) => format!("{message}; did you mean `{best}`?"),
        None => message.to_string(),
    }
}

/// The 1-based line of the first place `key` is written as a TOML key
/// (`key =`, `key.sub =`, `[key]`, `[a.key]`, `{ key = … }`).
pub(crate) fn toml_key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let code = line.split('#').next().unwrap_or_default();
            code.match_indices(key).any(|(at, _)| {
                let before = code[..at].trim_end().chars().last();
                let after = code[at + key.len()..].trim_start().chars().next();
                matches!(before, None | Some('[' | '{' | ',' | '.'))
                    && matches!(after, Some('=' | '.' | ']'))
            })
        })
        .map(|i| i + 1)
}

/// The 1-based line a TOML error points at, if it has a position.
pub(crate) fn toml_error_line(text: &str, e: &toml::de::Error) -> Option<usize> {
    e.span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
}

/// `origin`, with `:line` when there is one.
pub(crate) fn place(origin: &Path, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{}:{line}", origin.display()),
        None => origin.display().to_string(),
    }
}

/// A TOML parse error as one line: `path:line: message; did you mean …?`.
pub(crate) fn toml_error(origin: &Path, text: &str, e: &toml::de::Error) -> String {
    let place = place(origin, toml_error_line(text, e));
    format!("{place}: {}", explain(e.message().trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_key_and_strangers_find_none() {
        let keys = ["id", "channel", "turns", "expect", "notes", "tags"];
        assert_eq!(nearest("expcet", keys), Some("expect"));
        assert_eq!(nearest("tunrs", keys), Some("turns"));
        assert_eq!(nearest("chanel", keys), Some("channel"));
        assert_eq!(nearest("weather", keys), None);
    }

    #[test]
    fn serde_messages_get_the_nearest_name() {
        let msg = "unknown field `expcet`, expected one of `id`, `turns`, `expect`";
        assert_eq!(unknown_name(msg), Some("expcet"));
        assert_eq!(explain(msg), format!("{msg}; did you mean `expect`?"));
        let two = "unknown field `contain`, expected `contains` or `turn`";
        assert!(explain(two).ends_with("did you mean `contains`?"));
        let variant = "unknown variant `wram`, expected one of `hot`, `warm`, `cold`";
        assert!(explain(variant).ends_with("did you mean `warm`?"));
        assert_eq!(explain("missing field `id`"), "missing field `id`");
    }

    #[test]
    fn toml_keys_are_found_on_their_line() {
        let text = "# mode = x\nname = \"a\"\n\n[thresholdz]\nx = 1\n[persona]\nmax_turnz = 3\n";
        assert_eq!(toml_key_line(text, "mode"), None);
        assert_eq!(toml_key_line(text, "thresholdz"), Some(4));
        assert_eq!(toml_key_line(text, "max_turnz"), Some(7));
        assert_eq!(toml_key_line("p = { a = 1, turnz = 2 }", "turnz"), Some(1));
        assert_eq!(toml_key_line("xturnz = 2", "turnz"), None);
    }
}
