//! The qualification agent: accept a lead's message, then answer every
//! pending message of that lead in one turn.
//!
//! A turn is extract → score → plan → reply → guard → persist. Only
//! extraction and wording come from the model. Scoring, disqualifiers,
//! cadence, the next action and the guards on the outgoing reply are decided
//! here in code, so every decision is testable and explainable.
//!
//! Accepting and answering are separate steps so that every path — webhooks,
//! web chat, the terminal and evals — stores a message first (it is never
//! lost) and answers through the same turn. A turn answers *all* of the
//! lead's unanswered messages (a burst is one turn), and its commit re-checks
//! that nothing newer arrived, so a stale reply is never stored or sent.

mod budget;
pub mod context;
mod copies;
mod deferred;
pub mod directives;
mod dq_check;
mod evidence;
pub mod extract;
mod filler;
pub mod grounding;
pub mod guard;
mod human;
pub mod language;
mod localized;
mod money;
mod opener;
mod optout;
pub mod plan;
mod plausible;
mod prefill;
mod reasons;
mod reply;
mod revenue;
mod rules;
pub mod score;
pub mod signals;
mod steer;
mod time_words;
mod timing;
pub mod topics;
mod transcript;
mod turn;
mod voice;

use crate::clock::SharedClock;
use crate::config::Loaded;
use crate::lead::{Level, Stage, Tier};
use crate::llm::{ChatModel, JsonSchema, Speed};
use crate::prompts::Prompts;
use crate::store::{self, Accepted, Batch, Lead, NewLead, Stale, Store};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Model(#[from] crate::llm::Error),
    #[error(transparent)]
    Prompt(#[from] crate::prompts::Error),
    #[error("the lead's messages kept changing during {0} turns in a row; they stay pending")]
    KeptSuperseded(usize),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A lead message to accept (from the terminal, an eval or the web chat).
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
    /// Empty when the turn only scored (a human has the conversation).
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
    /// How many lead messages this turn answered (a burst is one turn).
    pub messages: usize,
    /// The reply's outbox row, when a channel sender delivers it.
    #[serde(skip)]
    pub outbox_id: Option<i64>,
    /// The newest lead message this turn answered.
    #[serde(skip)]
    pub inbound_id: i64,
    /// An instant opener whose messages are not scored yet (slots, fit and
    /// tier here are from keywords only); [`Agent::answer_then`] scores them.
    #[serde(skip)]
    pub scoring_deferred: bool,
    #[serde(skip)]
    pub assessment: score::Assessment,
}

/// Wall time per stage of a turn (µs): what `setter chat --debug` and the
/// benchmarks report, so Setter's own overhead is visible next to the model's.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct StageTimes {
    /// Loading the lead's memory.
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

/// What answering a lead came to.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A reply was stored (and, on a Meta channel, queued in the outbox).
    Replied(Box<TurnReport>),
    /// The messages were scored but nothing is sent: a human has the lead.
    Scored(Box<TurnReport>),
    /// No message of this lead is waiting for an answer.
    NothingPending,
    /// The turn's result was not stored; its messages are still pending.
    Superseded(Stale),
}

/// How many times in a row [`Agent::answer`] re-runs a superseded turn.
const MAX_SUPERSEDED: usize = 5;

/// The qualification agent; cheap to clone and share.
#[derive(Clone)]
pub struct Agent {
    loaded: Arc<Loaded>,
    model: Arc<dyn ChatModel>,
    store: Store,
    prompts: Arc<Prompts>,
    schema: JsonSchema,
    extract_system: Arc<String>,
    /// The disqualifiers' checks, prompts rendered (see `dq_check`).
    dq_checks: Arc<Vec<dq_check::Prepared>>,
    /// The configuration's text, which no reply may copy.
    config_text: Arc<copies::ConfigText>,
    clock: SharedClock,
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
        let dq_checks = dq_check::prepare(&config.icp, &prompts)?;
        let config_text = copies::ConfigText::new(
            config,
            &loaded.framework,
            &context::instructions(config, &loaded.framework, &prompts)?,
        );
        Ok(Agent {
            loaded,
            model,
            store,
            prompts,
            schema,
            extract_system: Arc::new(extract_system),
            dq_checks: Arc::new(dq_checks),
            config_text: Arc::new(config_text),
            clock: crate::clock::system(),
        })
    }

    /// The same agent reading time from `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Agent {
        self.clock = clock;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The templates this agent renders (follow-ups use the same set).
    pub fn prompts(&self) -> &Arc<Prompts> {
        &self.prompts
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The configuration this agent runs with.
    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// The follow-up worker for this agent's store, templates and config:
    /// the ladders its replies schedule are sent by this.
    pub fn followups(&self) -> crate::scheduler::Scheduler {
        crate::scheduler::Scheduler::new(
            self.store.clone(),
            self.prompts.clone(),
            self.loaded.clone(),
        )
        .with_model(self.model.clone())
    }

    /// Pays the lazy start-up costs now instead of on the first lead's turn:
    /// the tokenizer's vocabulary (~150 ms) and the reply templates'
    /// compilation. A server calls this before it accepts traffic.
    pub fn warm(&self) -> Result<()> {
        let started = std::time::Instant::now();
        crate::llm::tokens::count("warm up");
        let plan = plan::Plan {
            action: plan::Action::Nurture,
            slot: None,
            question: None,
            question_text: None,
            budget_allowed: false,
            link: None,
            link_kind: None,
            reason: "warm-up".into(),
            directives: Default::default(),
        };
        let lead = context::Addressee::default();
        let ctx = context::reply(&self.loaded.config, &BTreeMap::new(), &plan, None, &lead);
        for name in ["system.j2", "turn.j2", "fallback.j2"] {
            self.prompts.render(name, &ctx)?;
        }
        for ctx in context::opener_samples(&self.loaded.config, &self.loaded.framework) {
            self.prompts.render("opener.j2", ctx)?;
        }
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            "tokenizer and templates warmed"
        );
        Ok(())
    }

    /// Stores one lead message (the first step of every path); it stays
    /// pending until a turn answers it.
    pub async fn accept(&self, lead: &Lead, inbound: Inbound) -> Result<Accepted> {
        let batch = Batch::message(
            NewLead::of(lead),
            inbound.external_id,
            inbound.text,
            inbound.at,
        );
        Ok(self.store.accept(&batch, self.clock.now_ms()).await?)
    }

    /// Accepts one message and answers the lead at once: the terminal's and
    /// evals' path (a server answers from its per-lead queue instead).
    /// A redelivered message (same `external_id`) is not answered again.
    pub async fn converse(
        &self,
        lead: &Lead,
        inbound: Inbound,
        recorded_reply: Option<String>,
    ) -> Result<Answer> {
        self.accept(lead, inbound).await?;
        self.answer_with(&lead.id, recorded_reply).await
    }

    /// Answers every pending message of the lead in one turn, re-running the
    /// turn when it was superseded (the lead wrote again meanwhile, or another
    /// process answered first) until nothing is pending.
    pub async fn answer(&self, lead_id: &str) -> Result<Answer> {
        self.answer_with(lead_id, None).await
    }

    /// Like [`Agent::answer`], but with `recorded_reply` the reply model is not
    /// called: the recorded text is stored as the bot's reply (unguarded). Eval
    /// `offline` mode uses this to re-extract and re-score a real transcript.
    pub async fn answer_with(
        &self,
        lead_id: &str,
        recorded_reply: Option<String>,
    ) -> Result<Answer> {
        self.answer_then(lead_id, recorded_reply, |_| {}).await
    }

    /// Like [`Agent::answer_with`], handing the answer to `stored` as soon
    /// as its reply is stored: with the instant opener that is before
    /// extraction has read the lead's first message, so a server sends the
    /// reply at once. The returned answer also holds that extraction's
    /// result (slots, fit, tier).
    pub async fn answer_then(
        &self,
        lead_id: &str,
        recorded_reply: Option<String>,
        stored: impl FnOnce(&Answer),
    ) -> Result<Answer> {
        let mut answer = self.answer_current(lead_id, recorded_reply).await?;
        stored(&answer);
        if let Answer::Replied(report) = &mut answer {
            if report.scoring_deferred {
                self.score_into(report).await?;
            }
        }
        Ok(answer)
    }

    /// One turn, re-run while it is superseded.
    async fn answer_current(
        &self,
        lead_id: &str,
        recorded_reply: Option<String>,
    ) -> Result<Answer> {
        for _ in 0..MAX_SUPERSEDED {
            match self.turn(lead_id, recorded_reply.clone()).await? {
                Answer::Superseded(stale) => {
                    tracing::info!(
                        lead_id,
                        ?stale,
                        "turn superseded; answering the newer state"
                    );
                }
                done => return Ok(done),
            }
        }
        Err(Error::KeptSuperseded(MAX_SUPERSEDED))
    }
}
