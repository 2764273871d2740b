//! How the binary ends on an error: the message once, each cause once, and
//! one meaning per exit code for every command — 2 for usage and
//! configuration errors (what the user must fix before trying again, as clap
//! does for bad flags), 1 for runtime failures (a model, the database).

use crate::{agent, config, eval, prompts, store};
use std::error::Error as StdError;
use std::process::ExitCode;

/// Exit code of usage and configuration errors.
pub(crate) const USAGE: u8 = 2;
/// Exit code of runtime failures.
pub(crate) const RUNTIME: u8 = 1;

/// A mistake in how a command was called (exit 2), e.g. `init` over
/// existing files without `--force`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Usage(pub String);

/// Prints `error: …` on stderr and returns the exit code for it.
pub fn fail(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {}", render(error.as_ref()));
    ExitCode::from(code(error))
}

/// `error` and its causes, each said once. Many errors repeat their source in
/// their own message ("cannot open database x: <sqlx error>") and also return
/// it as `source()`; printing both showed the same cause three times.
pub(crate) fn render(error: &(dyn StdError + 'static)) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

/// [`USAGE`] when anything in the chain is the user's to fix, else [`RUNTIME`].
pub(crate) fn code(error: &anyhow::Error) -> u8 {
    if error.chain().any(is_usage) {
        USAGE
    } else {
        RUNTIME
    }
}

fn is_usage(e: &(dyn StdError + 'static)) -> bool {
    e.is::<Usage>()
        || e.is::<config::Error>()
        || e.is::<prompts::Error>()
        || e.is::<super::script::ScriptError>()
        || matches!(
            e.downcast_ref::<store::Error>(),
            Some(
                store::Error::LeadNotFound(_)
                    | store::Error::AmbiguousLead { .. }
                    | store::Error::BadOutcomeValue(_)
            )
        )
        || matches!(
            e.downcast_ref::<agent::Error>(),
            Some(agent::Error::Prompt(_))
        )
        || e.is::<crate::server::MissingSecret>()
        || matches!(
            e.downcast_ref::<crate::channels::send::SetupError>(),
            Some(crate::channels::send::SetupError::MissingSecret { .. })
        )
        || matches!(
            e.downcast_ref::<crate::app::Error>(),
            Some(crate::app::Error::Prompts(_))
        )
        || matches!(
            e.downcast_ref::<eval::Error>(),
            Some(eval::Error::Data(_) | eval::Error::Prompt(_))
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot open database x: {source}")]
    struct Open {
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = anyhow::Error::new(Open { source: io }).context("opening storage x");
        assert_eq!(
            render(e.as_ref()),
            "opening storage x: cannot open database x: no such file"
        );
        assert_eq!(code(&e), RUNTIME);
    }

    #[test]
    fn configuration_and_usage_errors_exit_2() {
        let e = anyhow::Error::new(Usage("pass --force".into())).context("init");
        assert_eq!(code(&e), USAGE);
        let e = anyhow::Error::new(store::Error::LeadNotFound("x".into()));
        assert_eq!(code(&e), USAGE);
    }
}
