//! One turn = extract → score → plan → reply → guard → persist.
//!
//! Only extraction and wording come from the model. Scoring, disqualifiers,
//! cadence, the next action and the guards on the outgoing reply are decided
//! here in code, so every decision is testable and explainable.

pub mod context;
pub mod extract;
pub mod grounding;
pub mod guard;
pub mod language;
pub mod plan;
pub mod score;
pub mod signals;
pub mod topics;

use crate::config::Loaded;
use crate::lead::{Direction, EvidenceKind, Level, Stage, Tier};
use crate::llm::{tokens, ChatMessage, ChatModel, ChatRequest, JsonSchema, Speed};
use crate::prompts::Prompts;
use crate::store::{
    self, EvidenceRow, Lead, Memory, ScoreRow, SlotValue, StageChange, Store, TurnCommit,
};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Model(#[from] crate::llm::Error),
    #[error(transparent)]
    Prompt(#[from] crate::prompts::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How many earlier messages the extractor sees for context.
const EXTRACT_CONTEXT_MESSAGES: usize = 6;
/// Messages a turn loads: the newest 20 (ten exchanges). The extractor sees
/// the newest 7 of them, grounding checks slot values against the lead's
/// words among them, and the reply sees them trimmed to the token budget;
/// facts from older messages reach the reply through the known slots. Counts
/// (message number, turn number) come from the store, not from this window,
/// so a turn costs the same at 20 or 2,000 stored messages.
const HISTORY_MESSAGES: usize = 20;
const _: () = assert!(HISTORY_MESSAGES > EXTRACT_CONTEXT_MESSAGES);
/// Reply length cap: a DM is at most three short sentences (~60 words), and
/// on a local model every generated token is ~0.05 s of the lead's wait. A
/// reply cut by the cap loses its unfinished sentence (see `guard::finished`).
const REPLY_MAX_TOKENS: u32 = 80;

/// A lead message to answer.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub text: String,
    /// The platform's message id, for dedupe (None in the terminal).
    pub external_id: Option<String>,
    pub at: i64,
}

/// Everything one turn decided, as printed by `setter chat --json`.
#[derive(Debug, Clone, Serialize)]
pub struct TurnReport {
    pub lead_id: String,
    pub turn: i64,
    pub reply: String,
    pub slots: BTreeMap<String, Value>,
    pub fit: Level,
    pub intent: Level,
    pub tier: Tier,
    pub score: i64,
    pub stage: Stage,
    pub next_action: String,
    pub action: plan::Action,
    pub asked_slot: Option<String>,
    pub reasons: Vec<String>,
    pub guard: Option<String>,
    pub extraction_problem: Option<String>,
    pub tokens: TokenReport,
    pub cost_usd: f64,
    pub latency_ms: i64,
    /// Where the turn's time went, in microseconds.
    pub stage_us: StageTimes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed: Option<Speed>,
    #[serde(skip)]
    pub assessment: score::Assessment,
}

/// Wall time per stage of a turn (µs): what `setter chat --debug` and the
/// benchmarks report, so Setter's own overhead is visible next to the model's.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct StageTimes {
    /// Storing the inbound message and loading the lead's memory.
    pub load: u64,
    pub extract: u64,
    /// Evidence, scoring, stage and planning (pure code).
    pub decide: u64,
    /// Rendering the prompt, the reply call and the guards.
    pub reply: u64,
    pub persist: u64,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct TokenReport {
    pub prompt: u32,
    pub completion: u32,
}

/// The result of offering a message to the agent.
#[derive(Debug)]
pub enum Outcome {
    Replied(Box<TurnReport>),
    /// The platform redelivered a message already processed.
    Duplicate,
}

/// The qualification agent; cheap to clone and share.
#[derive(Clone)]
pub struct Agent {
    loaded: Arc<Loaded>,
    model: Arc<dyn ChatModel>,
    store: Store,
    prompts: Arc<Prompts>,
    schema: JsonSchema,
    extract_system: Arc<String>,
}

impl Agent {
    pub fn new(
        loaded: Arc<Loaded>,
        model: Arc<dyn ChatModel>,
        store: Store,
        prompts: Arc<Prompts>,
    ) -> Result<Agent> {
        let config = &loaded.config;
        let schema = extract::schema(&loaded.framework, &config.icp);
        let extract_system =
            prompts.render("extract.j2", context::extract(config, &loaded.framework))?;
        Ok(Agent {
            loaded,
            model,
            store,
            prompts,
            schema,
            extract_system: Arc::new(extract_system),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The configuration this agent runs with.
    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// Answers one lead message. The message is stored first, so it is never
    /// lost even if a model call then fails.
    pub async fn turn(&self, lead: &Lead, inbound: Inbound) -> Result<Outcome> {
        self.turn_with(lead, inbound, None).await
    }

    /// Like [`Agent::turn`], but with `recorded_reply` the reply model is not
    /// called: the recorded text is stored as the bot's reply (unguarded). Eval
    /// `offline` mode uses this to re-extract and re-score a real transcript.
    pub async fn turn_with(
        &self,
        lead: &Lead,
        inbound: Inbound,
        recorded_reply: Option<String>,
    ) -> Result<Outcome> {
        let started = Instant::now();
        let Some(message_id) = self
            .store
            .add_inbound(
                lead,
                &inbound.text,
                inbound.external_id.as_deref(),
                inbound.at,
            )
            .await?
        else {
            return Ok(Outcome::Duplicate);
        };
        let memory = self.store.turn_memory(&lead.id, HISTORY_MESSAGES).await?;
        let mut times = StageTimes::default();
        let mut mark = Instant::now();
        let mut lap = |slot: &mut u64| {
            *slot = mark.elapsed().as_micros() as u64;
            mark = Instant::now();
        };
        times.load = started.elapsed().as_micros() as u64;
        let turn = memory.turn_count() as i64 + 1;
        let span = tracing::info_span!("turn", lead_id = %lead.id, channel = %lead.channel, turn);
        let _guard = span.enter();
        let config = &self.loaded.config;
        let framework = &self.loaded.framework;

        // 1. Extract.
        let mut extracted = extract::run(
            self.model.as_ref(),
            self.extract_system.as_str().to_owned(),
            extraction_transcript(&memory),
            self.schema.clone(),
            framework,
            &config.icp,
        )
        .await?;
        let mut usage = extracted.usage;
        let lead_text: String = memory
            .messages
            .iter()
            .filter(|m| m.direction == Direction::In)
            .map(|m| m.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let dropped =
            grounding::drop_ungrounded(framework, &mut extracted.extraction.slots, &lead_text);
        if !dropped.is_empty() {
            tracing::info!(slots = ?dropped, "dropped slot values not found in the lead's words");
            let note = format!("ungrounded, dropped: {}", dropped.join(", "));
            extracted.problem = Some(match extracted.problem.take() {
                Some(p) => format!("{p}; {note}"),
                None => note,
            });
        }

        lap(&mut times.extract);

        // 2. Evidence and slots, then score.
        let new_evidence = self.evidence(
            &inbound,
            message_id,
            &extracted.extraction,
            &memory.evidence,
        );
        let mut slots = memory.slots.clone();
        let mut changed = Vec::new();
        for (id, value) in &extracted.extraction.slots {
            if slots.get(id).map(|s| &s.value) != Some(value) {
                changed.push((id.clone(), value.clone()));
                slots.insert(
                    id.clone(),
                    SlotValue {
                        value: value.clone(),
                        evidence_message_id: Some(message_id),
                        updated_at: inbound.at,
                    },
                );
            }
        }
        let mut evidence = memory.evidence.clone();
        evidence.extend(new_evidence.iter().cloned());
        let assessment = score::assess(config, framework, &evidence, &slots, inbound.at);
        let all_known = framework.slots.iter().all(|s| slots.contains_key(&s.id));
        let message_no = memory.inbound_count();
        let (stage, stage_why) =
            score::stage(memory.lead.stage, &assessment, message_no, all_known);

        // 3. Plan.
        let known: BTreeMap<String, Value> = slots
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        let asked: Vec<Option<String>> =
            memory.turns.iter().map(|t| t.asked_slot.clone()).collect();
        // This message's keyword signals are already in its new evidence.
        let wants_next_step = new_evidence.iter().any(|e| {
            e.kind == EvidenceKind::Signal && matches!(e.key.as_str(), "asked_price" | "asked_call")
        });
        let plan = plan::plan(
            config,
            framework,
            &assessment,
            &known,
            &asked,
            message_no,
            wants_next_step,
        );

        lap(&mut times.decide);

        // 4. Reply, then guard it. A small model answers a Spanish lead in
        // English unless the prompt names the language, so code names it.
        let lead_language = lead_language(config, &memory);
        let ctx = context::reply(config, &known, &plan, lead_language.map(|l| l.eng_name()));
        let (guarded, speed) = match recorded_reply {
            Some(text) => (guard::Guarded { text, fired: None }, None),
            None => {
                // Stable instructions first, the conversation, then this
                // turn's task: only the tail changes between turns, so a
                // local model re-evaluates little more than the new messages.
                let system = ChatMessage::system(self.prompts.render("system.j2", &ctx)?);
                let task = ChatMessage::system(self.prompts.render("turn.j2", &ctx)?);
                let mut history = conversation(&memory);
                let budget = config
                    .llm
                    .context_tokens
                    .saturating_sub(REPLY_MAX_TOKENS as usize)
                    .saturating_sub(tokens::count_messages(std::slice::from_ref(&task)));
                tokens::trim_to_budget(&system, &mut history, budget);
                let mut messages = vec![system];
                messages.extend(history);
                messages.push(task);
                let request = ChatRequest {
                    messages,
                    schema: None,
                    temperature: config.llm.temperature,
                    max_tokens: REPLY_MAX_TOKENS,
                };
                let reply = self.model.chat(&request).await?;
                usage += reply.usage;
                let text = if reply.usage.completion_tokens >= REPLY_MAX_TOKENS {
                    guard::finished(&reply.text)
                } else {
                    reply.text.clone()
                };
                let fallback = self.prompts.render("fallback.j2", &ctx)?;
                let guarded = guard::check(
                    &text,
                    &inbound.text,
                    &plan,
                    // The literal questions are English: only for English leads.
                    plan.slot
                        .as_deref()
                        .and_then(|id| framework.slot(id))
                        .filter(|_| lead_language.is_none()),
                    &config.offer.description,
                    &fallback,
                );
                if let Some(fired) = &guarded.fired {
                    tracing::info!(guards = %fired, "reply guard fired");
                }
                (guarded, reply.speed)
            }
        };

        lap(&mut times.reply);

        // 5. Persist everything at once.
        let reasons = reasons(
            memory.scores.last(),
            &assessment,
            &new_evidence,
            &memory,
            message_id,
        );
        let stage_change = (stage != memory.lead.stage).then_some(StageChange {
            from: memory.lead.stage,
            to: stage,
            reason: stage_why,
            at: inbound.at,
        });
        let cost_usd = tokens::cost(&config.llm, usage);
        let latency_ms = started.elapsed().as_millis() as i64;
        let commit = TurnCommit {
            lead_id: lead.id.clone(),
            turn,
            inbound_id: message_id,
            reply: guarded.text.clone(),
            slots: changed,
            evidence: new_evidence,
            score: ScoreRow {
                message_id: Some(message_id),
                fit: assessment.fit,
                intent: assessment.intent,
                tier: assessment.tier,
                score: assessment.score,
                stage,
                next_action: assessment.next_action.clone(),
                reason: reasons.join("; "),
                at: inbound.at,
            },
            stage_change,
            asked_slot: plan.slot.clone(),
            action: plan.action.as_str().into(),
            guard: guarded.fired.clone(),
            usage,
            cost_usd,
            latency_ms,
            at: inbound.at,
        };
        self.store.commit_turn(&commit).await?;
        lap(&mut times.persist);
        tracing::info!(tier = %assessment.tier, action = plan.action.as_str(), latency_ms, "turn done");
        Ok(Outcome::Replied(Box::new(TurnReport {
            lead_id: lead.id.clone(),
            turn,
            reply: guarded.text,
            slots: known,
            fit: assessment.fit,
            intent: assessment.intent,
            tier: assessment.tier,
            score: assessment.score,
            stage,
            next_action: assessment.next_action.clone(),
            action: plan.action,
            asked_slot: plan.slot,
            reasons,
            guard: guarded.fired,
            extraction_problem: extracted.problem,
            tokens: TokenReport {
                prompt: usage.prompt_tokens,
                completion: usage.completion_tokens,
            },
            cost_usd,
            latency_ms,
            stage_us: times,
            speed,
            assessment,
        })))
    }

    /// Evidence from one message: keyword matches decided in code, plus model
    /// reports — a model's disqualifier counts only with a quote that really is
    /// in the message, so a hallucination cannot disqualify a lead.
    fn evidence(
        &self,
        inbound: &Inbound,
        message_id: i64,
        x: &extract::Extraction,
        known: &[EvidenceRow],
    ) -> Vec<EvidenceRow> {
        let icp = &self.loaded.config.icp;
        let row = |kind, key: &str, matched, quote: &str| EvidenceRow {
            kind,
            key: key.to_string(),
            matched,
            quote: quote.to_string(),
            message_id,
            at: inbound.at,
        };
        let mut out = Vec::new();
        for t in &icp.traits {
            if let Some(k) = signals::first_match(&inbound.text, &t.keywords) {
                out.push(row(EvidenceKind::Trait, &t.id, true, k));
            } else if let Some(&matched) = x.traits.get(&t.id) {
                // Only news is evidence: skip a claim that repeats what is known.
                let same = known.iter().any(|e| {
                    e.kind == EvidenceKind::Trait && e.key == t.id && (e.matched || !matched)
                });
                if same {
                    continue;
                }
                out.push(row(
                    EvidenceKind::Trait,
                    &t.id,
                    matched,
                    &excerpt(&inbound.text),
                ));
            }
        }
        for d in &icp.disqualifiers {
            if let Some(k) = signals::first_match(&inbound.text, &d.keywords) {
                out.push(row(EvidenceKind::Disqualifier, &d.id, true, k));
            } else if let Some(quote) = x.disqualifiers.get(&d.id) {
                if quote.trim().len() >= 3 && signals::contains_phrase(&inbound.text, quote) {
                    out.push(row(EvidenceKind::Disqualifier, &d.id, true, quote));
                } else {
                    tracing::info!(disqualifier = %d.id, "model quote not found in the message; ignored");
                }
            }
        }
        for (signal, phrase) in signals::keyword_signals(&inbound.text) {
            out.push(row(EvidenceKind::Signal, signal, true, phrase));
        }
        out
    }
}

fn excerpt(text: &str) -> String {
    let mut s: String = text.chars().take(80).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

/// The language of the lead's recent messages when it is not English and the
/// persona matches the lead's language (`None` otherwise).
fn lead_language(config: &crate::config::Config, memory: &Memory) -> Option<whatlang::Lang> {
    if config.persona.language != "match_lead" {
        return None;
    }
    let recent: Vec<&str> = memory
        .messages
        .iter()
        .rev()
        .filter(|m| m.direction == Direction::In)
        .take(3)
        .map(|m| m.text.as_str())
        .collect();
    language::detect(&recent.join(" ")).filter(|l| *l != whatlang::Lang::Eng)
}

/// The conversation as chat messages (lead = user, Setter = assistant).
fn conversation(memory: &Memory) -> Vec<ChatMessage> {
    memory
        .messages
        .iter()
        .map(|m| match m.direction {
            Direction::In => ChatMessage::user(m.text.clone()),
            Direction::Out => ChatMessage::assistant(m.text.clone()),
        })
        .collect()
}

/// Recent context plus the newest lead message, as one user message.
fn extraction_transcript(memory: &Memory) -> String {
    let Some((newest, earlier)) = memory.messages.split_last() else {
        return String::new();
    };
    let start = earlier.len().saturating_sub(EXTRACT_CONTEXT_MESSAGES);
    let mut out = String::new();
    if start < earlier.len() {
        out.push_str("Earlier messages:\n");
        for m in &earlier[start..] {
            let who = if m.direction == Direction::In {
                "LEAD"
            } else {
                "YOU"
            };
            out.push_str(&format!("{who}: {}\n", m.text));
        }
        out.push('\n');
    }
    out.push_str(&format!("Newest LEAD message:\n{}", newest.text));
    out
}

/// Human-readable reasons for this score, naming evidence by message number.
fn reasons(
    prev: Option<&ScoreRow>,
    a: &score::Assessment,
    new_evidence: &[EvidenceRow],
    memory: &Memory,
    message_id: i64,
) -> Vec<String> {
    let position = |id: i64| memory.message_number(id).unwrap_or(0);
    let mut out = Vec::new();
    match prev {
        None => out.push(format!(
            "first score: fit {}, intent {} → {}",
            a.fit, a.intent, a.tier
        )),
        Some(p) => {
            for (name, before, after) in [
                ("fit", p.fit.to_string(), a.fit.to_string()),
                ("intent", p.intent.to_string(), a.intent.to_string()),
                ("tier", p.tier.to_string(), a.tier.to_string()),
            ] {
                if before != after {
                    out.push(format!("{name} {before} → {after}"));
                }
            }
        }
    }
    for e in new_evidence {
        let what = match (e.kind, e.matched) {
            (EvidenceKind::Signal, _) => e.key.replace('_', " "),
            (kind, true) => format!("{kind} {} matched", e.key),
            (kind, false) => format!("{kind} {} not matched", e.key),
        };
        out.push(format!(
            "{what}: \"{}\" in message {}",
            e.quote,
            position(e.message_id)
        ));
    }
    for s in a
        .signals
        .iter()
        .filter(|s| s.message_id == Some(message_id))
    {
        if !new_evidence.iter().any(|e| e.key == s.signal) {
            out.push(format!(
                "{}: \"{}\" in message {}",
                s.signal.replace('_', " "),
                s.quote,
                position(message_id)
            ));
        }
    }
    if a.fit_share.is_none() && a.disqualified.is_none() {
        out.push("fit not known yet (no ICP trait known): counted as medium".into());
    }
    out
}
