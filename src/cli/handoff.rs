//! `setter handoff packet ID [--format json|md]`: the packet a closer would
//! receive for this lead, now (delivery and triggers come with issue 21).

use super::terminal::escape;
use super::{load_config, now_ms, open_store};
use crate::handoff;
use crate::prompts::Prompts;
use crate::store::Handoff;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum HandoffCommand {
    /// Print a lead's handoff packet.
    Packet {
        /// Lead id or unique prefix.
        id: String,
        #[arg(long, default_value = "md", value_parser = ["json", "md"])]
        format: String,
    },
    /// Print the packet's JSON Schema (as in docs/handoff.schema.json).
    Schema,
    /// Hand a lead off now (once; the packet goes to the [handoff] targets).
    Send { id: String },
    /// Every handoff, its deliveries and their state.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Deliver a handoff's dead-lettered deliveries again.
    Retry { id: String },
}

pub async fn run(config: Option<&Path>, cmd: HandoffCommand) -> anyhow::Result<ExitCode> {
    let loaded = load_config(config)?;
    match cmd {
        HandoffCommand::Packet { id, format } => {
            let store = open_store(&loaded).await?;
            let memory = store.memory(&id).await?;
            let packet = handoff::build(&loaded, &memory);
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&packet)?);
            } else {
                let prompts = Prompts::load(Some(&loaded.resolve(&loaded.config.prompts_dir)))?;
                let text =
                    prompts.render("handoff.md.j2", serde_json::json!({ "packet": packet }))?;
                println!("{}", escape(&text));
            }
        }
        HandoffCommand::Schema => println!("{}", serde_json::to_string_pretty(&handoff::schema())?),
        HandoffCommand::Send { id } => {
            let store = open_store(&loaded).await?;
            let prompts = Prompts::load(Some(&loaded.resolve(&loaded.config.prompts_dir)))?;
            let now = now_ms();
            let reason = "handed off by the operator";
            match handoff::hand_off(&store, &prompts, &loaded, &id, "operator", reason, now).await?
            {
                Handoff::Created(h) => println!("handed off: {h}"),
                Handoff::AlreadyHandedOff(h) => println!("already handed off as {h}; nothing new"),
            }
            let delivered =
                handoff::deliver_due(&store, &loaded, &reqwest::Client::new(), now).await?;
            println!("{delivered} delivery(ies) done; `setter handoff list` shows the rest");
        }
        HandoffCommand::List { json } => {
            let store = open_store(&loaded).await?;
            let rows = store.handoffs().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if rows.is_empty() {
                println!("no handoffs yet");
            }
            for h in rows.iter().filter(|_| !json) {
                println!(
                    "{}  lead {}  {}: {}",
                    h.id,
                    h.lead_id,
                    h.trigger,
                    escape(&h.reason)
                );
                for d in &h.deliveries {
                    let error = d.last_error.as_deref().unwrap_or("");
                    println!(
                        "    {:<8} {:<10} attempts {}  {}",
                        d.target,
                        d.state,
                        d.attempts,
                        escape(error)
                    );
                }
            }
        }
        HandoffCommand::Retry { id } => {
            let store = open_store(&loaded).await?;
            let now = now_ms();
            let revived = store.retry_handoff(&id, now).await?;
            let delivered =
                handoff::deliver_due(&store, &loaded, &reqwest::Client::new(), now).await?;
            println!("{revived} dead delivery(ies) revived, {delivered} delivered now");
        }
    }
    Ok(ExitCode::SUCCESS)
}
