//! What reaches the operator's terminal: colour only where it renders, and a
//! lead's words with their control characters made visible.

use std::borrow::Cow;
use std::ffi::OsString;
use std::io::IsTerminal;

/// Colour for logs on stderr: only on a terminal (a log file or a pipe would
/// get raw escape codes), and never with `NO_COLOR` set (<https://no-color.org>).
pub(crate) fn colour_on_stderr() -> bool {
    colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR"),
    )
}

fn colour(is_terminal: bool, no_color: Option<OsString>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// `text` with control characters (ESC, BEL, BS, NUL, newlines…) and
/// bidirectional overrides escaped as `\u{1b}`, `\n`…: a lead's message is
/// shown, never obeyed, so it cannot recolour, rewrite or clear the screen.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_on_terminal) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_on_terminal(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn unsafe_on_terminal(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some("".into())));
        assert!(!colour(true, Some("1".into())));
        assert!(!colour(false, None));
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(escape("plain ¿qué? 👋"), "plain ¿qué? 👋");
        assert_eq!(
            escape("a\u{1b}[31mred\u{7}\u{8}\0\nb\u{202e}"),
            "a\\u{1b}[31mred\\u{7}\\u{8}\\u{0}\\nb\\u{202e}"
        );
    }
}
