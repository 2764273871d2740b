//! `setter report calibration [--json|--html] [--min-count N]`: does the
//! rubric predict what closers report? Suggests weights, never applies them.

use super::{load_config, open_store};
use crate::calibration;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// Outcome rate per tier, per-signal lift, score vs booking rate, and
    /// suggested `[scoring.signals]` weights, over leads with outcomes.
    Calibration {
        #[arg(long, conflicts_with = "html")]
        json: bool,
        /// A self-contained HTML page on stdout.
        #[arg(long)]
        html: bool,
        /// Rows with fewer leads than this are marked as not to be trusted.
        #[arg(long, default_value_t = calibration::DEFAULT_MIN_COUNT as u64,
              value_parser = clap::value_parser!(u64).range(1..))]
        min_count: u64,
    },
}

pub async fn run(config: Option<&Path>, cmd: ReportCommand) -> anyhow::Result<ExitCode> {
    let loaded = load_config(config)?;
    let ReportCommand::Calibration {
        json,
        html,
        min_count,
    } = cmd;
    let store = open_store(&loaded).await?;
    let samples = store.calibration_samples().await?;
    let weights = &loaded.config.scoring.signals;
    let report = calibration::compute(&samples, weights, min_count as usize);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if html {
        print!("{}", calibration::render_html(&report));
    } else {
        print!("{}", calibration::render_text(&report));
    }
    Ok(ExitCode::SUCCESS)
}
