//! `setter leads list|show|export` and `setter score`.

use super::terminal::escape;
use super::{load_config, now_ms, open_store};
use crate::agent::score;
use crate::lead::{Direction, Level, Stage, Tier};
use crate::store::{Author, LeadFilter, Memory};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum LeadsCommand {
    /// Leads, most recently active first.
    List {
        #[arg(long, value_parser = |s: &str| s.parse::<Tier>())]
        tier: Option<Tier>,
        #[arg(long, value_parser = |s: &str| s.parse::<Stage>())]
        stage: Option<Stage>,
        #[arg(long)]
        json: bool,
    },
    /// Messages, slots (with the message each came from) and score history.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// The conversation as an eval case (json) or a transcript (md).
    Export {
        id: String,
        #[arg(long, default_value = "json", value_parser = ["json", "md"])]
        format: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// The lead to explain.
    #[arg(long, required_unless_present = "explain_matrix")]
    lead: Option<String>,
    #[arg(long)]
    json: bool,
    /// Print the configured fit × intent matrix.
    #[arg(long)]
    explain_matrix: bool,
}

pub async fn run(config: Option<&Path>, cmd: LeadsCommand) -> anyhow::Result<ExitCode> {
    let loaded = load_config(config)?;
    let store = open_store(&loaded).await?;
    match cmd {
        LeadsCommand::List { tier, stage, json } => {
            let leads = store.leads(&LeadFilter { tier, stage }).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&leads)?);
            } else if leads.is_empty() {
                println!("no leads yet; `setter chat` starts one");
            } else {
                println!(
                    "{:<36}  {:<9}  {:<5} {:>3}  {:<12}  {:>4}  {:<6}  first message",
                    "id", "channel", "tier", "scr", "stage", "msgs", "bot"
                );
                let now = now_ms();
                for l in &leads {
                    let first: String = l
                        .lead
                        .first_message
                        .as_deref()
                        .unwrap_or("")
                        .chars()
                        .take(40)
                        .collect();
                    // "paused": a human has the conversation; the bot is silent.
                    let bot = if l.lead.paused_at(now) {
                        "paused"
                    } else {
                        "on"
                    };
                    println!(
                        "{:<36}  {:<9}  {:<5} {:>3}  {:<12}  {:>4}  {:<6}  {}",
                        l.lead.id,
                        l.lead.channel,
                        l.tier.map(|t| t.as_str()).unwrap_or("-"),
                        l.score.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                        l.lead.stage,
                        l.messages,
                        bot,
                        escape(&first),
                    );
                }
            }
        }
        LeadsCommand::Show { id, json } => {
            let memory = store.memory(&id).await?;
            let jobs = store.jobs(Some(&memory.lead.id)).await?;
            let outcomes = store.outcomes(&memory.lead.id).await?;
            if json {
                let mut shown = show_json(&memory);
                shown["followups"] = json!(jobs);
                shown["outcomes"] = json!(outcomes);
                println!("{}", serde_json::to_string_pretty(&shown)?);
            } else {
                print!("{}", show_text(&memory));
                print!("{}", outcomes_text(&outcomes));
                print!("{}", followups_text(&jobs));
            }
        }
        LeadsCommand::Export { id, format } => {
            let memory = store.memory(&id).await?;
            if format == "md" {
                print!("{}", export_markdown(&memory));
            } else {
                println!("{}", serde_json::to_string(&export_case(&memory))?);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Who the lead is and where they came from (step 2 of the playbook), and
/// whether a human has the conversation.
fn identity(lead: &crate::store::Lead) -> String {
    let mut out = String::new();
    let line = |label: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(|v| format!("  {label:<8} {}\n", escape(v)))
            .unwrap_or_default()
    };
    out.push_str(&line("name", &lead.name));
    out.push_str(&line("source", &lead.source));
    out.push_str(&line("account", &lead.account_id));
    if let Some(at) = lead
        .opted_out_at
        .and_then(chrono::DateTime::from_timestamp_millis)
    {
        let day = at.format("%Y-%m-%d %H:%M UTC");
        out.push_str(&format!(
            "  contact  opted out {day}: no follow-ups, ever\n"
        ));
    }
    if let Some(at) = lead
        .payment_link_sent_at
        .and_then(chrono::DateTime::from_timestamp_millis)
    {
        let day = at.format("%Y-%m-%d %H:%M UTC");
        out.push_str(&format!("  payment  link sent {day} (close in the DM)\n"));
    }
    if lead.paused_at(now_ms()) {
        let until = lead
            .paused_until
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default();
        let why = lead.paused_reason.as_deref().unwrap_or("taken over");
        out.push_str(&format!(
            "  bot      paused until {until} ({})\n",
            escape(why)
        ));
    }
    out
}

/// What the closer reported, oldest first.
fn outcomes_text(outcomes: &[crate::store::OutcomeRow]) -> String {
    let mut out = String::from("\noutcomes:\n");
    if outcomes.is_empty() {
        out.push_str("  (none reported; `setter outcome ID booked|showed|won|lost|paid`)\n");
    }
    for o in outcomes {
        let at = chrono::DateTime::from_timestamp_millis(o.at)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default();
        let value = match (o.value, &o.currency) {
            (Some(v), Some(c)) => format!("  {v} {c}"),
            (Some(v), None) => format!("  {v}"),
            _ => String::new(),
        };
        let note = o
            .note
            .as_deref()
            .map(|n| format!("  \"{}\"", escape(n)))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {:<7} {at} ({}){value}{note}\n",
            o.outcome, o.source
        ));
    }
    out
}

/// The lead's follow-up steps, soonest first, with why any was skipped.
fn followups_text(jobs: &[crate::store::JobRow]) -> String {
    let mut out = String::from("\nfollow-ups:\n");
    if jobs.is_empty() {
        out.push_str("  (none scheduled)\n");
    }
    for j in jobs.iter().rev() {
        let due = chrono::DateTime::from_timestamp_millis(j.due_at)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default();
        let reason = j
            .reason
            .as_deref()
            .map(|r| format!(" ({})", escape(r)))
            .unwrap_or_default();
        out.push_str(&format!(
            "  step {} {:<5} {due}  {}{reason}\n",
            j.step, j.kind, j.state
        ));
    }
    out
}

/// 1-based position of a message in the conversation, as people count.
fn position(memory: &Memory, id: Option<i64>) -> String {
    id.and_then(|id| memory.messages.iter().position(|m| m.id == id))
        .map(|p| format!("#{}", p + 1))
        .unwrap_or_else(|| "-".into())
}

fn show_json(m: &Memory) -> serde_json::Value {
    json!({
        "lead": m.lead,
        "messages": m.messages,
        "slots": m.slots,
        "evidence": m.evidence,
        "scores": m.scores,
        "stages": m.stages,
        "turns": m.turns,
    })
}

fn show_text(m: &Memory) -> String {
    let mut out = format!(
        "lead {} · {} · stage {}\n",
        m.lead.id, m.lead.channel, m.lead.stage
    );
    out.push_str(&identity(&m.lead));
    out.push_str("\nconversation:\n");
    for (i, msg) in m.messages.iter().enumerate() {
        let who = match msg.author {
            Author::Lead => "lead  ",
            Author::Bot => "setter",
            Author::Human => "human ",
        };
        out.push_str(&format!("  #{:<3} {who}  {}\n", i + 1, escape(&msg.text)));
    }
    out.push_str("\nlearned:\n");
    if m.slots.is_empty() {
        out.push_str("  (nothing yet)\n");
    }
    for (slot, v) in &m.slots {
        let value = v
            .value
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.value.to_string());
        out.push_str(&format!(
            "  {slot:<18} {}   (from {})\n",
            escape(&value),
            position(m, v.evidence_message_id)
        ));
    }
    out.push_str("\nscore history:\n");
    for s in &m.scores {
        out.push_str(&format!(
            "  {} fit {:<6} intent {:<6} {:<4} {:>3}  {:<12} next {:<22} {}\n",
            position(m, s.message_id),
            s.fit,
            s.intent,
            s.tier,
            s.score,
            s.stage,
            s.next_action,
            escape(&s.reason)
        ));
    }
    for c in &m.stages {
        out.push_str(&format!(
            "  stage {} → {}: {}\n",
            c.from,
            c.to,
            escape(&c.reason)
        ));
    }
    out
}

/// The eval-case shape of `docs/evals.md`, with the current assessment as `expect`.
pub fn export_case(m: &Memory) -> serde_json::Value {
    let turns: Vec<_> = m
        .messages
        .iter()
        .map(|msg| {
            let role = if msg.direction == Direction::In {
                "lead"
            } else {
                "setter"
            };
            json!({"role": role, "text": msg.text, "at": msg.at})
        })
        .collect();
    let last = m.scores.last();
    json!({
        "id": m.lead.id,
        "channel": m.lead.channel,
        "turns": turns,
        "expect": {
            "slots": m.slots.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect::<serde_json::Map<_, _>>(),
            "fit": last.map(|s| s.fit),
            "intent": last.map(|s| s.intent),
            "tier": last.map(|s| s.tier),
            "disqualified": m.lead.stage == Stage::Disqualified,
        }
    })
}

fn export_markdown(m: &Memory) -> String {
    let mut out = format!(
        "# Lead {}\n\nChannel: {} · Stage: {}\n\n## Transcript\n\n",
        m.lead.id, m.lead.channel, m.lead.stage
    );
    for msg in &m.messages {
        let who = if msg.direction == Direction::In {
            "**Lead**"
        } else {
            "**Setter**"
        };
        let at = chrono::DateTime::from_timestamp_millis(msg.at)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        out.push_str(&format!("- {who} ({at}): {}\n", msg.text));
    }
    out.push_str("\n## What the lead told us\n\n");
    for (slot, v) in &m.slots {
        out.push_str(&format!(
            "- {slot}: {} ({})\n",
            v.value,
            position(m, v.evidence_message_id)
        ));
    }
    if let Some(s) = m.scores.last() {
        out.push_str(&format!(
            "\n## Score\n\nFit {} · Intent {} · **{}** ({}) · next: {}\n\n{}\n",
            s.fit, s.intent, s.tier, s.score, s.next_action, s.reason
        ));
    }
    out
}

pub async fn score(config: Option<&Path>, args: ScoreArgs) -> anyhow::Result<ExitCode> {
    let loaded = load_config(config)?;
    if args.explain_matrix {
        println!("{:<14}{:<32}{:<32}low", "fit \\ intent", "high", "medium");
        for fit in [Level::High, Level::Medium, Level::Low] {
            let cells: Vec<String> = [Level::High, Level::Medium, Level::Low]
                .iter()
                .map(|&intent| {
                    let (tier, action) = score::matrix(&loaded.config, fit, intent);
                    format!("{tier} → {action}")
                })
                .collect();
            println!(
                "{:<14}{:<32}{:<32}{}",
                fit.as_str(),
                cells[0],
                cells[1],
                cells[2]
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let store = open_store(&loaded).await?;
    let id = args.lead.as_deref().unwrap_or_default();
    let memory = store.memory(id).await?;
    let a = score::assess(
        &loaded.config,
        &loaded.framework,
        &memory.evidence,
        &memory.slots,
        now_ms(),
    );
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"lead_id": memory.lead.id, "stage": memory.lead.stage, "assessment": a})
            )?
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "lead {}: fit {} · intent {} ({:.1} points) · {} ({}) · stage {} · next {}",
        memory.lead.id,
        a.fit,
        a.intent,
        a.intent_points,
        a.tier,
        a.score,
        memory.lead.stage,
        a.next_action
    );
    if let Some(d) = &a.disqualified {
        println!(
            "disqualified by {}: \"{}\" ({})",
            d.id,
            escape(&d.quote),
            position(&memory, Some(d.message_id))
        );
    }
    println!("ICP traits:");
    for t in &a.traits {
        let status = match t.matched {
            Some(true) => "matched",
            Some(false) => "not matched",
            None => "unknown",
        };
        let quote = t
            .quote
            .as_deref()
            .map(|q| format!(" \"{}\" ({})", escape(q), position(&memory, t.message_id)))
            .unwrap_or_default();
        println!("  {:<18} w{:<4} {status}{quote}", t.id, t.weight);
    }
    println!("intent signals:");
    if a.signals.is_empty() {
        println!("  (none yet)");
    }
    for s in &a.signals {
        println!(
            "  {:<26} {:+.1}  \"{}\" ({})",
            s.signal,
            s.points,
            escape(&s.quote),
            position(&memory, s.message_id)
        );
    }
    Ok(ExitCode::SUCCESS)
}
