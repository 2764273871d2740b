//! `setter tick` (follow-ups due now, once — for cron and tests) and
//! `setter followups list|cancel`.

use super::terminal::escape;
use super::{load_config, now_ms, open_store};
use crate::prompts::Prompts;
use crate::scheduler::Scheduler;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct TickArgs {
    /// Act as if it were this time (RFC 3339, e.g. 2026-12-01T09:00:00Z).
    #[arg(long, value_parser = parse_time)]
    now: Option<i64>,
}

#[derive(Debug, clap::Subcommand)]
pub enum FollowupsCommand {
    /// Every follow-up step: channel, kind, due time, state and reason.
    List {
        /// Only this lead (id or unique prefix).
        #[arg(long)]
        lead: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Cancel a lead's pending follow-ups.
    Cancel { id: String },
}

fn parse_time(s: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("\"{s}\" is not an RFC 3339 time like 2026-12-01T09:00:00Z: {e}"))
}

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

pub async fn tick(config: Option<&Path>, args: TickArgs) -> anyhow::Result<ExitCode> {
    let loaded = load_config(config)?;
    let store = open_store(&loaded).await?;
    let prompts = Prompts::load(Some(&loaded.resolve(&loaded.config.prompts_dir)))?;
    let loaded = Arc::new(loaded);
    let scheduler = Scheduler::new(store.clone(), Arc::new(prompts), loaded.clone());
    let now = args.now.unwrap_or_else(now_ms);
    let report = scheduler.tick(now).await?;
    let handoffs =
        crate::handoff::deliver_due(&store, &loaded, &reqwest::Client::new(), now).await?;
    println!(
        "{}: {} follow-up(s) queued to send, {} skipped",
        when(now),
        report.sent,
        report.skipped.len()
    );
    for (job, _, why) in &report.skipped {
        println!("  skipped job {job}: {why}");
    }
    if handoffs > 0 {
        println!("{handoffs} handoff delivery(ies) done");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run(config: Option<&Path>, cmd: FollowupsCommand) -> anyhow::Result<ExitCode> {
    let loaded = load_config(config)?;
    let store = open_store(&loaded).await?;
    match cmd {
        FollowupsCommand::List { lead, json } => {
            let lead_id = match &lead {
                Some(id) => Some(store.lead(id).await?.id),
                None => None,
            };
            let jobs = store.jobs(lead_id.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&jobs)?);
            } else if jobs.is_empty() {
                println!("no follow-ups scheduled");
            } else {
                println!(
                    "{:<36}  {:<9}  {:>4}  {:<5}  {:<20}  {:<9}  reason",
                    "lead", "channel", "step", "kind", "due", "state"
                );
                for j in &jobs {
                    println!(
                        "{:<36}  {:<9}  {:>4}  {:<5}  {:<20}  {:<9}  {}",
                        j.lead_id,
                        j.channel,
                        j.step,
                        j.kind,
                        when(j.due_at),
                        j.state,
                        escape(j.reason.as_deref().unwrap_or(""))
                    );
                }
            }
        }
        FollowupsCommand::Cancel { id } => {
            let lead = store.lead(&id).await?;
            let n = store
                .cancel_jobs(&lead.id, crate::lead::JobReason::Operator, now_ms())
                .await?;
            println!("cancelled {n} pending follow-up(s) for lead {}", lead.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}
