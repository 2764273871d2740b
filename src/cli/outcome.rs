//! `setter outcome ID booked|showed|won|lost|paid [--value N] [--note TEXT]`:
//! what really happened to a lead, reported by the closer (or a payment
//! confirmation); the calibration report learns from it.

use super::terminal::escape;
use super::{load_config, now_ms, open_store};
use crate::lead::{LeadOutcome, OutcomeSource};
use crate::store::NewOutcome;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct OutcomeArgs {
    /// Lead id or unique prefix.
    id: String,
    /// booked, showed, won, lost or paid (won and paid close the sale).
    #[arg(value_parser = |s: &str| s.parse::<LeadOutcome>())]
    outcome: LeadOutcome,
    /// The deal's value, in the offer currency.
    #[arg(long)]
    value: Option<f64>,
    /// Anything the closer wants to keep with it.
    #[arg(long)]
    note: Option<String>,
}

pub async fn run(config: Option<&Path>, args: OutcomeArgs) -> anyhow::Result<ExitCode> {
    let loaded = load_config(config)?;
    let store = open_store(&loaded).await?;
    let lead = store.lead(&args.id).await?;
    let new = NewOutcome {
        lead_id: &lead.id,
        outcome: args.outcome,
        value: args.value,
        currency: &loaded.config.offer.currency,
        note: args.note.as_deref(),
        source: OutcomeSource::Cli,
    };
    let recorded = store.record_outcome(&new, now_ms()).await?;
    let value = args
        .value
        .map(|v| format!(" ({v} {})", loaded.config.offer.currency))
        .unwrap_or_default();
    println!("recorded {}{value} for lead {}", args.outcome, lead.id);
    if recorded.stage_changed {
        println!("stage {} → {}", lead.stage, recorded.stage);
    }
    if recorded.cancelled_followups > 0 {
        println!(
            "{} pending follow-up(s) cancelled",
            recorded.cancelled_followups
        );
    }
    if let Some(note) = &args.note {
        println!("note: {}", escape(note));
    }
    Ok(ExitCode::SUCCESS)
}
