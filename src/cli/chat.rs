//! `setter chat`: be the lead. Interactive with history, or `--script FILE
//! --json` printing one JSON line per turn (for tests and evals).

use super::{build_agent, exit, load_config, now_ms, script};
use crate::agent::{Agent, Answer, Inbound, TurnReport};
use crate::lead::Channel;
use crate::store::{Lead, NewLead};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ChatArgs {
    /// Continue this lead (id or unique prefix). Default: your terminal lead.
    #[arg(long, conflicts_with = "new")]
    lead: Option<String>,
    /// Start a fresh lead instead of continuing the terminal one.
    #[arg(long)]
    new: bool,
    /// The channel the conversation is on.
    #[arg(long, default_value = "webchat", value_parser = parse_channel)]
    channel: Channel,
    /// Show slots, fit, intent, tier and next action after each turn.
    #[arg(long)]
    debug: bool,
    /// Read lead messages from FILE, one per line, instead of the keyboard.
    /// Repeat it for several leads at once (each file a new lead, answered
    /// in turn: one message from each, round robin), as a server meets
    /// leads who write at the same time.
    #[arg(long)]
    script: Vec<PathBuf>,
    /// With --script: print one JSON object per turn on stdout.
    #[arg(long, requires = "script")]
    json: bool,
}

fn parse_channel(s: &str) -> Result<Channel, String> {
    s.parse()
}

pub async fn run(config: Option<&Path>, args: ChatArgs) -> anyhow::Result<ExitCode> {
    // Every script is checked before a lead exists: a bad one stores nothing.
    let scripts = args
        .script
        .iter()
        .map(|path| script::read(path))
        .collect::<Result<Vec<_>, _>>()?;
    if scripts.len() > 1 && args.lead.is_some() {
        return Err(exit::Usage(
            "--lead continues one lead; with several --script files each file is a new lead (drop --lead)".into(),
        )
        .into());
    }
    let loaded = load_config(config)?;
    let persona = loaded.config.persona.name.clone();
    let agent = build_agent(loaded).await?;
    if scripts.is_empty() {
        let lead = lead_for(&agent, &args, args.new).await?;
        return interactive(&agent, &lead, &args, &persona).await;
    }
    let new = args.new || scripts.len() > 1;
    let mut leads = Vec::new();
    for lines in scripts {
        leads.push((lead_for(&agent, &args, new).await?, lines));
    }
    script(&agent, &leads, &args, &persona).await
}

/// The lead to talk as: `--lead`, a new one, or the terminal's own lead.
async fn lead_for(agent: &Agent, args: &ChatArgs, new: bool) -> anyhow::Result<Lead> {
    if let Some(id) = &args.lead {
        return Ok(agent.store().lead(id).await?);
    }
    let external_id = if new {
        format!("terminal-{}", uuid::Uuid::now_v7())
    } else {
        "terminal".to_string()
    };
    let new = NewLead {
        channel: args.channel,
        external_id,
        name: None,
        source: Some("setter chat".into()),
        account_id: None,
    };
    Ok(agent.store().lead_for(&new, now_ms()).await?)
}

/// Each lead's messages in turn, round robin: the first message of every
/// lead, then the second of every lead, and so on.
fn round_robin(leads: &[(Lead, Vec<String>)]) -> Vec<(&Lead, &str)> {
    let longest = leads.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    (0..longest)
        .flat_map(|i| {
            leads
                .iter()
                .filter_map(move |(lead, lines)| lines.get(i).map(|l| (lead, l.as_str())))
        })
        .collect()
}

async fn script(
    agent: &Agent,
    leads: &[(Lead, Vec<String>)],
    args: &ChatArgs,
    persona: &str,
) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for (lead, line) in round_robin(leads) {
        let inbound = Inbound {
            text: line.to_string(),
            external_id: None,
            at: now_ms(),
        };
        let (report, replied) = match agent.converse(lead, inbound, None).await {
            Ok(Answer::Replied(report)) => (report, true),
            Ok(Answer::Scored(report)) => (report, false),
            Ok(Answer::NothingPending | Answer::Superseded(_)) => continue,
            Err(e) => {
                failed = true;
                script::turn_failed(agent, lead, &e, args.json, &mut out).await?;
                continue;
            }
        };
        if args.json {
            writeln!(out, "{}", serde_json::to_string(&report)?)?;
        } else {
            writeln!(out, "lead: {line}\n{persona}: {}", report.reply)?;
            if args.debug {
                writeln!(out, "{}", debug_line(&report))?;
            }
        }
        out.flush()?;
        // As a server does once a reply is sent: the next line is answered
        // as if the lead took a moment to read and type it.
        if replied {
            agent.prefill_next(&lead.id).await;
        }
    }
    Ok(ExitCode::from(if failed { exit::RUNTIME } else { 0 }))
}

/// The terminal conversation: each line the user types is the lead's
/// message, answered as a turn, until Ctrl-D.
async fn interactive(
    agent: &Agent,
    lead: &Lead,
    args: &ChatArgs,
    persona: &str,
) -> anyhow::Result<ExitCode> {
    greet(agent, lead, persona).await?;
    let mut editor = rustyline::DefaultEditor::new()?;
    let history = dirs::data_dir().map(|d| d.join("setter").join("chat_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    let mut replied = false;
    loop {
        let (back, line) = read_while_prefilling(editor, agent, lead, replied).await?;
        editor = back;
        let line = match line {
            Ok(line) => line,
            Err(
                rustyline::error::ReadlineError::Interrupted | rustyline::error::ReadlineError::Eof,
            ) => break,
            Err(e) => return Err(e.into()),
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(line);
        replied = answer(agent, lead, line, persona, args.debug).await;
    }
    if let Some(h) = &history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(h);
    }
    println!(
        "Bye. `setter leads show {}` shows what was learned.",
        &lead.id
    );
    Ok(ExitCode::SUCCESS)
}

/// Says whose conversation this is; a continued one shows its last lines.
async fn greet(agent: &Agent, lead: &Lead, persona: &str) -> anyhow::Result<()> {
    let memory = agent.store().memory(&lead.id).await?;
    if memory.messages.is_empty() {
        println!(
            "New lead {} on {}. Write as the lead; Ctrl-D to leave.",
            lead.id, lead.channel
        );
        return Ok(());
    }
    println!(
        "Continuing lead {} ({} messages; --new starts a fresh one). Ctrl-D to leave.",
        lead.id,
        memory.messages.len()
    );
    for m in memory.messages.iter().rev().take(4).rev() {
        let who = if m.direction == crate::lead::Direction::In {
            "you"
        } else {
            persona
        };
        println!("  {who}: {}", m.text);
    }
    Ok(())
}

/// Reads the user's next line while the model reads ahead (see
/// `Agent::prefill_next`) when the last line was replied to. The editor
/// goes to a blocking thread and comes back with the line.
async fn read_while_prefilling(
    mut editor: rustyline::DefaultEditor,
    agent: &Agent,
    lead: &Lead,
    replied: bool,
) -> anyhow::Result<(rustyline::DefaultEditor, rustyline::Result<String>)> {
    let read = tokio::task::spawn_blocking(move || {
        let line = editor.readline("you> ");
        (editor, line)
    });
    let prefill = async {
        if replied {
            agent.prefill_next(&lead.id).await;
        }
    };
    let ((), read) = tokio::join!(prefill, read);
    Ok(read?)
}

/// Stores the line as the lead's message and prints the turn's answer;
/// true when the bot replied (so the next turn is worth prefilling).
async fn answer(agent: &Agent, lead: &Lead, line: &str, persona: &str, debug: bool) -> bool {
    let inbound = Inbound {
        text: line.to_string(),
        external_id: None,
        at: now_ms(),
    };
    match agent.converse(lead, inbound, None).await {
        Ok(Answer::Replied(report)) => {
            println!("{persona}: {}", report.reply);
            if debug {
                println!("{}", debug_line(&report));
            }
            true
        }
        Ok(Answer::Scored(report)) => {
            println!("({persona} stays silent: this lead is with a human now — handed off, taken over, or opted out; `setter leads show` says which)");
            if debug {
                println!("{}", debug_line(&report));
            }
            false
        }
        // Another process answered this message already.
        Ok(Answer::NothingPending | Answer::Superseded(_)) => false,
        // Your message is stored; the next turn sees it. Say why and go on.
        Err(e) => {
            eprintln!("error: {e} (your message was saved)");
            false
        }
    }
}

/// The one-line debug panel printed after each turn.
pub fn debug_line(r: &TurnReport) -> String {
    let slots: Vec<String> = r
        .slots
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            )
        })
        .collect();
    let mut line = format!(
        "  [turn {}] fit {} · intent {} · {} ({}) · stage {} · next {} · reply: {}{}\n  slots: {}\n  why: {}\n  tokens {}+{} · {} ms",
        r.turn,
        r.fit,
        r.intent,
        r.tier,
        r.score,
        r.stage,
        r.next_action,
        r.action.as_str(),
        r.asked_slot.as_deref().map(|s| format!(" {s}")).unwrap_or_default(),
        if slots.is_empty() { "(none yet)".to_string() } else { slots.join(", ") },
        r.reasons.join("; "),
        r.tokens.prompt,
        r.tokens.completion,
        r.latency_ms,
    );
    if let Some(s) = &r.speed {
        line.push_str(&format!(
            " · prompt {:.1} tok/s · generation {:.1} tok/s",
            s.prompt_tokens_per_s, s.gen_tokens_per_s
        ));
    }
    if let Some(g) = &r.guard {
        line.push_str(&format!(" · guard: {g}"));
    }
    if let Some(p) = &r.extraction_problem {
        line.push_str(&format!(" · extraction: {p}"));
    }
    line
}
