//! The `setter` command line (clap). One file per subcommand; `anyhow` lives
//! here and in `main.rs` only.

mod chat;
mod eval;
mod exit;
mod followups;
mod handoff;
mod init;
mod leads;
mod model;
mod outcome;
mod report;
mod script;
mod serve;
mod terminal;

pub use exit::fail;

use crate::agent::Agent;
use crate::config::{self, Config, Loaded};
use crate::prompts::Prompts;
use crate::store::Store;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "setter",
    version,
    about = "AI appointment setter: qualify DM leads, score them, hand them off"
)]
pub struct Cli {
    /// Path to setter.toml (without it, ./setter.toml, else the built-in example).
    #[arg(long, global = true, env = "SETTER_CONFIG")]
    pub config: Option<PathBuf>,
    /// More logs on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented setter.toml and the prompt templates to edit.
    Init(init::InitArgs),
    /// Validate setter.toml and render every template; exit 2 on problems.
    Check,
    /// Talk to the bot as a lead (interactive, or --script FILE --json).
    Chat(chat::ChatArgs),
    /// List, show and export leads.
    #[command(subcommand)]
    Leads(leads::LeadsCommand),
    /// A lead's score with its full explanation, or the matrix.
    Score(leads::ScoreArgs),
    /// Measure extraction and scoring on labelled conversations (see docs/evals.md).
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Fetch, verify and list local GGUF models (`setter model pull`).
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Answer WhatsApp, Instagram, Messenger and web-chat leads over HTTP.
    Serve(serve::ServeArgs),
    /// Send or skip every follow-up due now, once (cron; `serve` does this continuously).
    Tick(followups::TickArgs),
    /// List or cancel follow-ups.
    #[command(subcommand)]
    Followups(followups::FollowupsCommand),
    /// Print a lead's handoff packet (`handoff ID [--format json|md]`); send, list, retry handoffs.
    Handoff(handoff::HandoffArgs),
    /// Record what really happened to a lead: booked, showed, won, lost or paid.
    Outcome(outcome::OutcomeArgs),
    /// Reports over recorded outcomes (`report calibration`).
    #[command(subcommand)]
    Report(report::ReportCommand),
}

/// Logs go to stderr so `--json` output on stdout stays machine-readable.
pub fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "setter=info",
        _ => "setter=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(terminal::colour_on_stderr())
        .init();
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Init(args) => init::init(args).map(|_| ExitCode::SUCCESS),
        Command::Check => init::check(cli.config.as_deref()),
        Command::Chat(args) => chat::run(cli.config.as_deref(), args).await,
        Command::Leads(cmd) => leads::run(cli.config.as_deref(), cmd).await,
        Command::Score(args) => leads::score(cli.config.as_deref(), args).await,
        Command::Eval(cmd) => eval::run(cli.config.as_deref(), cmd).await,
        Command::Model(cmd) => model::run(cli.config.as_deref(), cmd).await,
        Command::Serve(args) => serve::run(cli.config.as_deref(), args).await,
        Command::Tick(args) => followups::tick(cli.config.as_deref(), args).await,
        Command::Followups(cmd) => followups::run(cli.config.as_deref(), cmd).await,
        Command::Handoff(args) => handoff::run(cli.config.as_deref(), args).await,
        Command::Outcome(args) => outcome::run(cli.config.as_deref(), args).await,
        Command::Report(cmd) => report::run(cli.config.as_deref(), cmd).await,
    }
}

/// Loads the configuration: an explicit path must exist; otherwise
/// ./setter.toml, or the built-in example so a first run needs no files.
pub fn load_config(explicit: Option<&Path>) -> anyhow::Result<Loaded> {
    let loaded = match explicit {
        Some(path) => config::load(path)?,
        None if Path::new("setter.toml").exists() => config::load(Path::new("setter.toml"))?,
        None => {
            tracing::info!("no setter.toml here; using the built-in example (write your own with `setter init`)");
            config::finish(
                Config::example(),
                Path::new("(built-in example)"),
                PathBuf::from("."),
            )?
        }
    };
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    Ok(loaded)
}

/// Opens the store named in the config.
pub async fn open_store(loaded: &Loaded) -> anyhow::Result<Store> {
    Ok(crate::app::open_store(loaded).await?)
}

/// Config, store, prompts and model, wired into an agent.
pub async fn build_agent(loaded: Loaded) -> anyhow::Result<Agent> {
    let prompts = checked_prompts(&loaded)?;
    let model = crate::app::model(&loaded).await?;
    Ok(crate::app::agent(loaded, model, prompts).await?)
}

/// The templates, each rendered once against sample data: a template error
/// is the user's to fix, so say so now, before a model loads or a lead is
/// created. The same templates then serve the agent (read once).
fn checked_prompts(loaded: &Loaded) -> anyhow::Result<Prompts> {
    let prompts = crate::app::prompts(loaded)?;
    if let Some(e) = init::render_samples(&prompts, loaded).into_iter().next() {
        return Err(e.into());
    }
    Ok(prompts)
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
