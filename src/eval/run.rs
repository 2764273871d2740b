//! Running a suite's cases through the real agent, in a scratch SQLite store.
//!
//! - **offline**: each lead turn goes through `Agent::answer_with` with the
//!   recorded setter reply, so only extraction calls the model.
//! - **replay**: each lead turn goes through `Agent::answer`, so the reply is
//!   regenerated with the current prompts and config; every reply is traced
//!   and the case's per-turn assertions are checked against it.
//!
//! The prediction is read off the final turn. Model calls go through a
//! cassette when one is given, so a run is deterministic and offline.

use super::assertion::{Assertion, Check};
use super::cadence::{CheckResult, CheckStatus, TurnTrace};
use super::case::{Case, Expect, Role, Turn};
use super::followups::{self, Offset};
use super::simulate;
use super::{CaseUsage, Error, Mode, Outcome};
use crate::agent::{topics, Agent, Answer, Inbound, TurnReport};
use crate::clock::ManualClock;
use crate::config::{Framework, Loaded};
use crate::lead::{Channel, Stage};
use crate::llm::{cassette, ChatMessage, ChatModel, ChatRequest, JsonSchema};
use crate::prompts::Prompts;
use crate::store::{NewLead, Store};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Cases start at 2026-01-05 09:00 UTC and turns are a minute apart unless a
/// turn has `at`: fixed times keep prompts (and cassette keys) stable.
pub const START_MS: i64 = 1_767_603_600_000;
const TURN_GAP_MS: i64 = 60_000;
/// How long follow-up cases run after the last lead message by default:
/// past the longest default ladder (+3 d) with room to spare.
const FOLLOWUP_HORIZON_MS: i64 = 14 * 86_400_000;

/// A scratch SQLite file, removed (with its WAL files) on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// How to run a suite.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub mode: Mode,
    pub cassette: Option<cassette::Settings>,
    /// A prompts directory to use instead of the config's (`--diff-against`).
    pub prompts_dir: Option<PathBuf>,
    /// Decide `llm_judge` assertions with the model; off, they are skipped.
    pub judge: bool,
    /// A progress bar on stderr.
    pub progress: bool,
}

/// What a run shares across cases.
struct Runner {
    /// The agent with the suite config.
    agent: Agent,
    /// Agents with a case's framework or offer override, by override.
    variants: HashMap<String, Agent>,
    prompts: Arc<Prompts>,
    mode: Mode,
    /// Plays simulated leads and judges replies.
    model: Arc<dyn ChatModel>,
    /// The virtual clock every agent reads: set to each message's time, so
    /// runs are deterministic and follow-ups are due on it, not on the wall.
    clock: Arc<ManualClock>,
    judge: bool,
}

/// Runs every case; a case that fails to run becomes an errored outcome.
pub async fn run(
    loaded: Loaded,
    cases: &[(Case, String)],
    opts: Options,
) -> Result<Vec<Outcome>, Error> {
    let dir = opts
        .prompts_dir
        .clone()
        .unwrap_or_else(|| loaded.resolve(&loaded.config.prompts_dir));
    let prompts = Prompts::load(Some(&dir))?;
    let model = crate::llm::from_config(&loaded, opts.cassette.clone())?;
    // Evals measure qualification: a lead handed off would stop being
    // answered mid-case, so hand-offs stay off here.
    let mut loaded = loaded;
    loaded.config.handoff.auto = false;
    let scratch =
        Scratch(std::env::temp_dir().join(format!("setter-eval-{}.db", uuid::Uuid::now_v7())));
    let store = Store::open(&format!("sqlite://{}", scratch.0.display())).await?;
    let prompts = Arc::new(prompts);
    let clock = ManualClock::new(START_MS);
    let mut runner = Runner {
        mode: opts.mode,
        judge: opts.judge,
        model: model.clone(),
        agent: Agent::new(Arc::new(loaded), model, store.clone(), prompts.clone())?
            .with_clock(clock.clone()),
        clock,
        variants: HashMap::new(),
        prompts,
    };

    let bar = if opts.progress {
        let bar = indicatif::ProgressBar::new(cases.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} eval [{bar:30}] {pos}/{len} {elapsed_precise} {msg}",
            )
            .expect("valid progress template")
            .progress_chars("=> "),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut out = Vec::new();
    for (case, location) in cases {
        bar.set_message(case.id.clone());
        let mut outcome = Outcome::errored(case.id.clone(), Some(location.clone()), "");
        outcome.gold = Some(case.expect.clone());
        let ran = if case.turns.iter().any(|t| t.role == Role::Lead) {
            runner.case(case).await
        } else {
            Err(format!(
                "{location}: case \"{}\" has no lead turn (a turn with \"role\": \"lead\")",
                case.id
            ))
        };
        match ran {
            Ok(run) => {
                outcome.pred = Ok(run.pred);
                outcome.usage = Some(run.usage);
                outcome.trace = run.trace;
                outcome.checks = run.checks;
            }
            Err(e) => outcome.pred = Err(e),
        }
        out.push(outcome);
        bar.inc(1);
    }
    bar.finish_and_clear();
    drop(runner);
    store.close().await;
    drop(scratch);
    Ok(out)
}

/// One case's results.
struct CaseRun {
    pred: Expect,
    usage: CaseUsage,
    trace: Vec<TurnTrace>,
    checks: Vec<CheckResult>,
}

impl Runner {
    /// The agent for `case`: the suite's, or one built for its overrides.
    fn agent_for(&mut self, case: &Case) -> Result<Agent, String> {
        if case.uses_suite_config() {
            return Ok(self.agent.clone());
        }
        let key = serde_json::to_string(&(&case.framework, &case.offer, &case.config))
            .unwrap_or_default();
        if let Some(agent) = self.variants.get(&key) {
            return Ok(agent.clone());
        }
        let loaded = case.config(self.agent.loaded())?;
        let agent = Agent::new(
            Arc::new(loaded),
            self.model.clone(),
            self.agent.store().clone(),
            self.prompts.clone(),
        )
        .map_err(|e| e.to_string())?
        .with_clock(self.clock.clone());
        self.variants.insert(key, agent.clone());
        Ok(agent)
    }

    /// One case through the agent, or why it could not run.
    async fn case(&mut self, case: &Case) -> Result<CaseRun, String> {
        let agent = self.agent_for(case)?;
        let loaded = agent.loaded();
        // Cases that list follow-ups run their ladders on the virtual clock.
        let timed = case.expect.followups.is_some();
        let scheduler = agent.followups();
        let new = NewLead {
            channel: case.channel.unwrap_or(Channel::Webchat),
            external_id: format!("eval-{}", case.id),
            name: None,
            source: Some("setter eval".into()),
            account_id: None,
        };
        let lead = agent
            .store()
            .lead_for(&new, START_MS)
            .await
            .map_err(|e| e.to_string())?;
        let mut usage = CaseUsage::default();
        let mut trace = Vec::new();
        let mut last: Option<TurnReport> = None;
        let scripted: Vec<(usize, &Turn)> = case
            .turns
            .iter()
            .enumerate()
            .filter(|(_, t)| t.role == Role::Lead)
            .collect();
        let mut at = START_MS;
        for message in 1.. {
            let (text, recorded, label) = match scripted.get(message as usize - 1) {
                Some(&(i, turn)) => {
                    at = match (turn.offset, turn.at) {
                        (Some(Offset(o)), _) => START_MS + o,
                        (None, Some(at)) => at,
                        (None, None) => START_MS + i as i64 * TURN_GAP_MS,
                    };
                    // Offline keeps the setter turn that answered this message
                    // (empty when the lead wrote again first): no reply call.
                    let recorded =
                        (self.mode == Mode::Offline).then(|| match case.turns.get(i + 1) {
                            Some(next) if next.role == Role::Setter => next.text.clone(),
                            _ => String::new(),
                        });
                    (turn.text.clone(), recorded, format!("turn {}", i + 1))
                }
                None => {
                    let label = format!("simulated lead message {message}");
                    match self.simulated(loaded, case, message, &trace).await {
                        Ok(Some(text)) => {
                            at += 2 * TURN_GAP_MS;
                            (text, None, label)
                        }
                        Ok(None) => break,
                        Err(e) => return Err(format!("{label}: {e}")),
                    }
                }
            };
            if timed {
                followups::advance(&scheduler, agent.store(), at)
                    .await
                    .map_err(|e| format!("{label}: follow-ups: {e}"))?;
            }
            self.clock.set(at);
            let inbound = Inbound {
                text: text.clone(),
                external_id: None,
                at,
            };
            let report = match agent.converse(&lead, inbound, recorded).await {
                Ok(Answer::Replied(report) | Answer::Scored(report)) => *report,
                Ok(other) => return Err(format!("{label}: not answered ({other:?})")),
                Err(e) => return Err(format!("{label}: {e}")),
            };
            usage.prompt_tokens += report.tokens.prompt as u64;
            usage.completion_tokens += report.tokens.completion as u64;
            usage.cost_usd += report.cost_usd;
            usage.latency_ms.push(report.latency_ms);
            if self.mode.regenerates() {
                trace.push(trace_of(loaded, message, &text, &report));
            }
            last = Some(report);
        }
        let r = last.ok_or("the case has no lead turn")?;
        let mut pred = prediction(&r);
        if timed {
            let until = case
                .until
                .map_or(at + FOLLOWUP_HORIZON_MS, |o| START_MS + o.0);
            followups::advance(&scheduler, agent.store(), until)
                .await
                .map_err(|e| format!("follow-ups after the last message: {e}"))?;
            let jobs = agent
                .store()
                .jobs(Some(&lead.id))
                .await
                .map_err(|e| e.to_string())?;
            pred.followups = Some(followups::observed(&jobs, START_MS));
        }
        let checks = if self.mode.regenerates() {
            self.checks(&loaded.framework, &case.expect.assertions, &trace)
                .await?
        } else {
            Vec::new()
        };
        Ok(CaseRun {
            pred,
            usage,
            trace,
            checks,
        })
    }

    /// The simulated lead's message number `message`, or `None` when the
    /// conversation is over (not simulating, persona silent or out of turns).
    async fn simulated(
        &self,
        loaded: &Loaded,
        case: &Case,
        message: u32,
        trace: &[TurnTrace],
    ) -> Result<Option<String>, crate::llm::Error> {
        let Some(persona) = case
            .persona
            .as_ref()
            .filter(|_| self.mode == Mode::Simulate)
        else {
            return Ok(None);
        };
        if message > persona.max_turns || persona.silent_after.is_some_and(|s| message > s) {
            return Ok(None);
        }
        simulate::next_message(
            self.model.as_ref(),
            &loaded.config.offer.name,
            persona,
            trace,
            loaded.config.llm.temperature,
        )
        .await
    }

    /// Applies every assertion to the reply (or replies) it names.
    async fn checks(
        &self,
        framework: &Framework,
        assertions: &[Assertion],
        trace: &[TurnTrace],
    ) -> Result<Vec<CheckResult>, String> {
        let mut out = Vec::new();
        for a in assertions {
            let targets: Vec<&TurnTrace> = match a.turn {
                Some(n) => trace.iter().filter(|t| t.message == n).collect(),
                None => trace.iter().collect(),
            };
            if targets.is_empty() {
                out.push(CheckResult {
                    message: a.turn.unwrap_or(0),
                    assertion: a.describe(),
                    status: CheckStatus::Fail,
                    detail: format!(
                        "there is no reply {}: the case has {} lead messages",
                        a.turn.unwrap_or(0),
                        trace.len()
                    ),
                });
            }
            for t in targets {
                // None: skipped; Some((ok, why)).
                let verdict = match &a.check {
                    Check::Judge(_) if !self.judge => None,
                    Check::Judge(rubric) => {
                        Some(judge(self.model.as_ref(), rubric, trace, t.message).await?)
                    }
                    _ => Some(match a.check(framework, &t.reply) {
                        Ok(()) => (true, String::new()),
                        Err(why) => (false, why),
                    }),
                };
                let (status, detail) = match verdict {
                    None => (
                        CheckStatus::Skipped,
                        "llm_judge runs only with --judge".into(),
                    ),
                    Some((true, why)) => (CheckStatus::Pass, why),
                    Some((false, why)) => (CheckStatus::Fail, why),
                };
                out.push(CheckResult {
                    message: t.message,
                    assertion: a.describe(),
                    status,
                    detail,
                });
            }
        }
        Ok(out)
    }
}

/// What one regenerated reply did, for the report and the cadence metrics.
fn trace_of(loaded: &Loaded, message: u32, lead: &str, r: &TurnReport) -> TurnTrace {
    let questions = topics::questions(&r.reply);
    let asks_budget = questions.iter().any(|q| topics::is_about_budget(q));
    TurnTrace {
        message,
        lead: lead.to_string(),
        reply: r.reply.clone(),
        action: r.action.as_str().to_string(),
        planned: r.asked_slot.clone(),
        asked: topics::asked(&loaded.framework, &r.reply)
            .into_iter()
            .map(|(slot, _)| slot.to_string())
            .collect(),
        questions: questions.len() as u32,
        asks_budget,
        budget_early: asks_budget
            && message < loaded.config.qualification.budget_not_before_message,
        stage: r.stage,
        guard: r.guard.clone(),
    }
}

/// The final turn's slots, fit, intent, tier and disqualification.
fn prediction(r: &TurnReport) -> Expect {
    Expect {
        slots: Some(r.slots.clone()),
        fit: Some(r.fit),
        intent: Some(r.intent),
        tier: Some(r.tier),
        disqualified: Some(r.stage == Stage::Disqualified),
        assertions: Vec::new(),
        followups: None,
    }
}

/// Asks the model whether reply `message` meets `rubric`: (pass, reason).
/// An unusable answer is a case error, not a verdict.
async fn judge(
    model: &dyn ChatModel,
    rubric: &str,
    trace: &[TurnTrace],
    message: u32,
) -> Result<(bool, String), String> {
    let mut conversation = String::new();
    for t in trace.iter().take_while(|t| t.message <= message) {
        conversation.push_str(&format!("Lead: {}\nSetter: {}\n", t.lead, t.reply));
    }
    let request = ChatRequest {
        messages: vec![
            ChatMessage::system(
                "You grade the last Setter reply of a DM conversation against a rubric. \
                 Answer only with JSON: {\"pass\": true or false, \"reason\": \"one short sentence\"}.",
            ),
            ChatMessage::user(format!("Rubric: {rubric}\n\nConversation:\n{conversation}")),
        ],
        schema: Some(JsonSchema {
            name: "verdict".into(),
            schema: serde_json::json!({
                "type": "object",
                "properties": {"pass": {"type": "boolean"}, "reason": {"type": "string"}},
                "required": ["pass", "reason"],
                "additionalProperties": false
            }),
        }),
        temperature: 0.0,
        max_tokens: 120,
        conversation: None,
    };
    let answer = model
        .chat(&request)
        .await
        .map_err(|e| format!("reply {message}: llm_judge: {e}"))?;
    #[derive(serde::Deserialize)]
    struct Verdict {
        pass: bool,
        reason: String,
    }
    let v: Verdict = serde_json::from_str(answer.text.trim()).map_err(|e| {
        format!(
            "reply {message}: llm_judge answer is not a verdict ({e}): {}",
            answer.text
        )
    })?;
    Ok((v.pass, format!("judge: {}", v.reason)))
}
