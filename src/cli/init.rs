//! `setter init` and `setter check`.

use crate::agent::context;
use crate::config::{self, Config, Loaded, EXAMPLE_TOML};
use crate::prompts::{self, Prompts, DEFAULTS};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Directory to write into (created if missing).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
}

pub fn init(args: InitArgs) -> anyhow::Result<()> {
    let prompts = args.dir.join("prompts");
    std::fs::create_dir_all(&prompts).with_context(|| format!("creating {}", prompts.display()))?;
    let mut files = vec![(args.dir.join("setter.toml"), EXAMPLE_TOML)];
    files.extend(
        DEFAULTS
            .iter()
            .map(|(name, text)| (prompts.join(name), *text)),
    );
    let existing: Vec<String> = files
        .iter()
        .filter(|(p, _)| p.exists())
        .map(|(p, _)| p.display().to_string())
        .collect();
    if !existing.is_empty() && !args.force {
        return Err(super::exit::Usage(format!(
            "{} already exist(s); pass --force to overwrite",
            existing.join(", ")
        ))
        .into());
    }
    for (path, text) in &files {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    println!("\nNext: edit setter.toml (offer, ICP), then `setter check` and `setter chat`.");
    Ok(())
}

/// Validates the config and renders every template against sample contexts.
/// Secrets `setter serve` will need that this shell does not have (only
/// `check` says so: `chat` and `eval` never need them).
fn serve_secrets_unset(c: &Config) -> Vec<config::Issue> {
    let mut out = Vec::new();
    for (channel, m) in c.channels.meta() {
        for (key, var) in [
            ("access_token_env", &m.access_token_env),
            ("app_secret_env", &m.app_secret_env),
            ("verify_token_env", &m.verify_token_env),
        ] {
            if std::env::var_os(var).is_none_or(|v| v.is_empty()) {
                out.push(config::Issue {
                    key: format!("channels.{channel}.{key}"),
                    message: format!(
                        "environment variable {var} is not set; `setter serve` will not start"
                    ),
                });
            }
        }
    }
    out
}

pub fn check(explicit: Option<&Path>) -> anyhow::Result<ExitCode> {
    let path = explicit
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("setter.toml"));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{}: cannot read: {e}", path.display());
            return Ok(ExitCode::from(2));
        }
    };
    let config = match Config::parse(&text, &path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(2));
        }
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let (errors, warnings) = config.validate_in(&base);
    for w in warnings.iter().chain(&serve_secrets_unset(&config)) {
        println!("warning: {w}");
    }
    for e in &errors {
        println!("error: {e}");
    }
    if !errors.is_empty() {
        println!("{}: {} error(s)", path.display(), errors.len());
        return Ok(ExitCode::from(2));
    }
    let loaded = config::finish(config, &path, base)?;
    let mut problems = 0;
    let prompts = match Prompts::load(Some(&loaded.resolve(&loaded.config.prompts_dir))) {
        Ok(p) => p,
        Err(e) => {
            println!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let c = &loaded.config;
    for e in render_samples(&prompts, &loaded) {
        println!("error: {e}");
        problems += 1;
    }
    for (name, origin) in &prompts.sources {
        println!("template {name}: {origin}");
    }
    if problems > 0 {
        return Ok(ExitCode::from(2));
    }
    println!(
        "{}: ok (framework {} with {} slots, {} traits, {} disqualifiers)",
        path.display(),
        loaded.framework.id,
        loaded.framework.slots.len(),
        c.icp.traits.len(),
        c.icp.disqualifiers.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Renders every template against sample contexts (each planned action,
/// a non-English lead): the errors, each template's first one only.
pub(crate) fn render_samples(prompts: &Prompts, loaded: &Loaded) -> Vec<prompts::Error> {
    let c = &loaded.config;
    let mut errors: Vec<prompts::Error> = Vec::new();
    let mut failed: Vec<&str> = Vec::new();
    let mut attempt = |name: &'static str, ctx: serde_json::Value| {
        if failed.contains(&name) {
            return;
        }
        if let Err(e) = prompts.render(name, ctx) {
            failed.push(name);
            errors.push(e);
        }
    };
    attempt("extract.j2", context::extract(c, &loaded.framework));
    for d in &c.icp.disqualifiers {
        if let Some(check) = &d.check {
            attempt("check.j2", check.prompt_context());
        }
    }
    for plan in context::sample_plans(&loaded.framework) {
        let known = [("pain".to_string(), serde_json::json!("not enough leads"))].into();
        let lead = context::sample_addressee();
        let ctx = context::reply(c, &known, &plan, Some("Spanish"), &lead);
        attempt("system.j2", ctx.clone());
        attempt("turn.j2", ctx.clone());
        attempt("fallback.j2", ctx);
    }
    for ctx in context::opener_samples(c, &loaded.framework) {
        attempt("opener.j2", ctx);
    }
    use crate::config::StepKind;
    for kind in [StepKind::Soft, StepKind::Value, StepKind::Exit] {
        for name in [Some("Ana"), None] {
            attempt(kind.template(), crate::scheduler::context(c, name, 1, kind));
        }
    }
    use crate::handoff::recommend;
    for packet in crate::handoff::sample::packets(loaded) {
        attempt(
            recommend::TEMPLATE,
            recommend::context(c, &packet.transcript),
        );
        attempt("handoff.md.j2", serde_json::json!({ "packet": packet }));
    }
    errors
}
