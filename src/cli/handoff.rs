//! `setter handoff packet ID [--format json|md]`: the packet a closer would
//! receive for this lead, now (delivery and triggers come with issue 21).

use super::{load_config, open_store};
use crate::handoff;
use crate::prompts::Prompts;
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
                println!("{}", super::terminal::escape(&text));
            }
        }
        HandoffCommand::Schema => println!("{}", serde_json::to_string_pretty(&handoff::schema())?),
    }
    Ok(ExitCode::SUCCESS)
}
