//! Prompt templates (minijinja). Defaults are embedded in the binary so
//! Setter runs with no files at all; a `prompts/` directory next to
//! `setter.toml` overrides any of them by file name.
//!
//! Templates put what is the same for every lead first and lead-specific
//! content last, so a local model can keep the fixed prefix in its KV cache.

use minijinja::Environment;
use serde::Serialize;
use std::path::Path;

/// (file name, embedded default). `setter init` writes these.
pub const DEFAULTS: [(&str, &str); 12] = [
    ("system.j2", include_str!("../prompts/system.j2")),
    ("turn.j2", include_str!("../prompts/turn.j2")),
    ("opener.j2", include_str!("../prompts/opener.j2")),
    ("extract.j2", include_str!("../prompts/extract.j2")),
    ("check.j2", include_str!("../prompts/check.j2")),
    ("fallback.j2", include_str!("../prompts/fallback.j2")),
    (
        "followup_soft.j2",
        include_str!("../prompts/followup_soft.j2"),
    ),
    (
        "followup_value.j2",
        include_str!("../prompts/followup_value.j2"),
    ),
    (
        "followup_exit.j2",
        include_str!("../prompts/followup_exit.j2"),
    ),
    (
        "followup_personalise.j2",
        include_str!("../prompts/followup_personalise.j2"),
    ),
    ("handoff.md.j2", include_str!("../prompts/handoff.md.j2")),
    (
        "handoff_approach.j2",
        include_str!("../prompts/handoff_approach.j2"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read template {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("template {name}{}: {message}", .line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Template {
        name: String,
        line: Option<usize>,
        message: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The compiled templates.
pub struct Prompts {
    env: Environment<'static>,
    /// Where each template came from, for `setter check`.
    pub sources: Vec<(String, String)>,
}

fn template_error(name: &str, e: &minijinja::Error) -> Error {
    let mut message = e.kind().to_string();
    if let Some(detail) = e.detail() {
        message = format!("{message}: {detail}");
    }
    Error::Template {
        name: name.to_string(),
        line: e.line(),
        message,
    }
}

impl Prompts {
    /// Embedded defaults, overridden by files in `dir` when it exists.
    pub fn load(dir: Option<&Path>) -> Result<Prompts> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .build()
                .expect("default delimiters are valid"),
        );
        let mut sources = Vec::new();
        for (name, default) in DEFAULTS {
            let file = dir.map(|d| d.join(name)).filter(|p| p.is_file());
            let (text, origin) = match &file {
                Some(path) => (
                    std::fs::read_to_string(path).map_err(|source| Error::Read {
                        path: path.display().to_string(),
                        source,
                    })?,
                    path.display().to_string(),
                ),
                None => (default.to_string(), "embedded default".to_string()),
            };
            env.add_template_owned(name.to_string(), text)
                .map_err(|e| template_error(name, &e))?;
            sources.push((name.to_string(), origin));
        }
        Ok(Prompts { env, sources })
    }

    /// Renders template `name` with `ctx`; errors carry the line number.
    pub fn render(&self, name: &str, ctx: impl Serialize) -> Result<String> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| template_error(name, &e))?;
        let text = tmpl
            .render(minijinja::Value::from(minijinja::value::Serde(&ctx)))
            .map_err(|e| template_error(name, &e))?;
        Ok(text.trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_errors_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("system.j2"), "Hello\n{{ persona.name }\n").unwrap();
        let err = Prompts::load(Some(dir.path())).err().unwrap().to_string();
        assert!(
            err.starts_with("template system.j2 line 2: syntax error"),
            "{err}"
        );
    }

    #[test]
    fn undefined_variables_are_errors_not_blanks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("fallback.j2"), "Hi {{ lead_nmae }}").unwrap();
        std::fs::write(dir.path().join("turn.j2"), "Hi\n{{ persona.nmae }}!").unwrap();
        let prompts = Prompts::load(Some(dir.path())).unwrap();
        let err = |name| {
            let ctx = serde_json::json!({"persona": {"name": "Maya"}});
            prompts.render(name, ctx).unwrap_err().to_string()
        };
        assert_eq!(
            err("fallback.j2"),
            "template fallback.j2 line 1: undefined value: `lead_nmae` is undefined"
        );
        assert_eq!(
            err("turn.j2"),
            "template turn.j2 line 2: undefined value: `persona.nmae` is undefined"
        );
        let (_, origin) = prompts
            .sources
            .iter()
            .find(|(name, _)| name == "fallback.j2")
            .unwrap();
        assert_eq!(
            *origin,
            dir.path().join("fallback.j2").display().to_string()
        );
    }
}
