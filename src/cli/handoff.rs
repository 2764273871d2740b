//! `setter handoff ID [--format json|md]`: the packet a closer receives for
//! a lead — as delivered when the lead was handed off, else as it would be
//! now — and `setter handoff schema|send|list|retry`.

use super::terminal::escape;
use super::{load_config, now_ms, open_store};
use crate::config::Loaded;
use crate::handoff::{self, Desk};
use crate::llm::{self, ChatModel};
use crate::prompts::Prompts;
use crate::store::{Handoff, Store};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// `setter handoff LEAD_ID`, or one of the subcommands.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct HandoffArgs {
    /// Lead id or unique prefix: print its handoff packet.
    #[arg(required = true, value_name = "LEAD_ID")]
    id: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Md)]
    format: Format,
    #[command(subcommand)]
    command: Option<HandoffCommand>,
}

/// How the packet is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// As receivers get it (docs/handoff.schema.json).
    Json,
    /// As a closer reads it (prompts/handoff.md.j2).
    Md,
}

#[derive(Debug, clap::Subcommand)]
pub enum HandoffCommand {
    /// Same as `setter handoff LEAD_ID` (kept for scripts).
    #[command(hide = true)]
    Packet {
        id: String,
        #[arg(long, value_enum, default_value_t = Format::Md)]
        format: Format,
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

pub async fn run(config: Option<&Path>, args: HandoffArgs) -> anyhow::Result<ExitCode> {
    let loaded = load_config(config)?;
    let command = match (args.command, args.id) {
        (Some(command), _) => command,
        (None, Some(id)) => HandoffCommand::Packet {
            id,
            format: args.format,
        },
        (None, None) => {
            let usage = "give a LEAD_ID (`setter leads list` shows them) or a subcommand";
            return Err(super::exit::Usage(usage.into()).into());
        }
    };
    match command {
        HandoffCommand::Packet { id, format } => print_packet(&loaded, &id, format).await?,
        HandoffCommand::Schema => println!("{}", serde_json::to_string_pretty(&handoff::schema())?),
        HandoffCommand::Send { id } => send(&loaded, &id).await?,
        HandoffCommand::List { json } => list(&open_store(&loaded).await?, json).await?,
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

/// The frozen packet of a handed-off lead, else the packet as it would be
/// now (the model writing its approach, when one is configured).
async fn print_packet(loaded: &Loaded, id: &str, format: Format) -> anyhow::Result<()> {
    let store = open_store(loaded).await?;
    let memory = store.memory(id).await?;
    let (json, markdown) = match store.current_handoff(&memory.lead.id).await? {
        Some(frozen) => (serde_json::from_str(&frozen.packet)?, frozen.markdown),
        None => {
            eprintln!(
                "lead {} is not handed off yet: this is its packet as of now",
                memory.lead.id
            );
            let prompts = prompts(loaded)?;
            let model = model(loaded);
            let packet =
                handoff::full_packet(desk(&store, &prompts, loaded, &model), &memory).await;
            let markdown = handoff::markdown(&prompts, &packet)?;
            (serde_json::to_value(&packet)?, markdown)
        }
    };
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&json)?),
        // Line by line: escaping the whole document printed its newlines as `\n`.
        Format::Md => markdown.lines().for_each(|l| println!("{}", escape(l))),
    }
    Ok(())
}

async fn send(loaded: &Loaded, id: &str) -> anyhow::Result<()> {
    let store = open_store(loaded).await?;
    let prompts = prompts(loaded)?;
    let model = model(loaded);
    let now = now_ms();
    let desk = desk(&store, &prompts, loaded, &model);
    let reason = "handed off by the operator";
    match handoff::hand_off(desk, id, "operator", reason, now).await? {
        Handoff::Created(h) => println!("handed off: {h}"),
        Handoff::AlreadyHandedOff(h) => println!("already handed off as {h}; nothing new"),
    }
    let delivered = handoff::deliver_due(&store, loaded, &reqwest::Client::new(), now).await?;
    println!("{delivered} delivery(ies) done; `setter handoff list` shows the rest");
    Ok(())
}

async fn list(store: &Store, json: bool) -> anyhow::Result<()> {
    let rows = store.handoffs().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        println!("no handoffs yet");
    }
    for h in &rows {
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
    Ok(())
}

fn prompts(loaded: &Loaded) -> anyhow::Result<Prompts> {
    Ok(Prompts::load(Some(
        &loaded.resolve(&loaded.config.prompts_dir),
    ))?)
}

/// The configured model for the recommended approach, fetching nothing: a
/// packet is printed or sent without one (its approach `null`) rather
/// than not at all.
fn model(loaded: &Loaded) -> Option<Arc<dyn ChatModel>> {
    let built = llm::cassette::Settings::from_env().and_then(|c| llm::from_config(loaded, c));
    match built {
        Ok(model) => Some(model),
        Err(e) => {
            tracing::warn!(error = %e, "no model for the recommended approach");
            None
        }
    }
}

fn desk<'a>(
    store: &'a Store,
    prompts: &'a Prompts,
    loaded: &'a Loaded,
    model: &'a Option<Arc<dyn ChatModel>>,
) -> Desk<'a> {
    Desk {
        store,
        prompts,
        loaded,
        model: model.as_deref(),
    }
}
