//! `chat --script FILE`: the file is read and checked whole before a lead is
//! created, so a missing, empty or garbled script stores nothing and names
//! the line to fix.

use crate::agent::{self, Agent};
use crate::store::Lead;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why a script cannot be used (a usage error: exit 2).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ScriptError {
    #[error("cannot read script {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}:{line}: not valid UTF-8 (byte {column}); save the script as UTF-8")]
    NotUtf8 {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    #[error("{path}: no lead messages; write one message per line")]
    Empty { path: PathBuf },
}

/// The lead messages of a script: one per non-blank line, trimmed.
pub(crate) fn read(path: &Path) -> Result<Vec<String>, ScriptError> {
    let bytes = std::fs::read(path).map_err(|error| ScriptError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    let lines = parse(&bytes).map_err(|(line, column)| ScriptError::NotUtf8 {
        path: path.to_path_buf(),
        line,
        column,
    })?;
    if lines.is_empty() {
        return Err(ScriptError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(lines)
}

/// A turn that failed. The lead's message is stored (the next one retries
/// the reply), so say so on stderr and, with `--json`, print
/// `{"error", "lead_id", "turn"}` on stdout: a script can tell a failure from
/// silence. `turn` is the number the reply would have had (null if the
/// store cannot say).
pub(crate) async fn turn_failed(
    agent: &Agent,
    lead: &Lead,
    error: &agent::Error,
    json: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let message = super::exit::render(error);
    let turn = agent
        .store()
        .turn_memory(&lead.id, 1)
        .await
        .ok()
        .map(|m| m.turn_count() as i64 + 1);
    eprintln!("error: {message} (the lead's message was saved)");
    if json {
        let object = serde_json::json!({"error": message, "lead_id": lead.id, "turn": turn});
        writeln!(out, "{object}")?;
    }
    Ok(())
}

/// Non-blank trimmed lines, or the 1-based (line, byte) of the first byte
/// that is not UTF-8.
fn parse(bytes: &[u8]) -> Result<Vec<String>, (usize, usize)> {
    let mut lines = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let text = std::str::from_utf8(raw).map_err(|e| (i + 1, e.valid_up_to() + 1))?;
        let text = text.trim();
        if !text.is_empty() {
            lines.push(text.to_string());
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_trimmed_and_blank_ones_skipped() {
        let got = parse(b"  hi there \r\n\n\t\nhow much?").unwrap();
        assert_eq!(got, ["hi there", "how much?"]);
    }

    #[test]
    fn the_first_bad_byte_is_located() {
        assert_eq!(parse(b"fine\nok \xff here\n\xc3"), Err((2, 4)));
    }
}
