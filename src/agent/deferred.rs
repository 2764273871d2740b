//! A new lead's first turn with the instant opener, in two steps: the
//! templated reply is stored (and, in `serve`, sent) at once — no model call
//! — and then extraction reads the lead's message and stores its slots,
//! evidence, score and stage against the same turn. A server hands the
//! reply to its sender between the two steps (`Agent::answer_then`), so the
//! lead never waits for extraction; the terminal and evals run both before
//! they report. If the process stops in between, the lead's next turn scores
//! the opener's messages first.

use super::guard::Guarded;
use super::plan::Action;
use super::turn::{Decision, Produced, Reply, HISTORY_MESSAGES};
use super::{extract, opener, reply, Agent, Result, TurnReport};
use crate::llm::Usage;
use crate::store::Memory;
use std::time::Instant;

/// What scoring an opener's messages found.
pub(super) struct Scored {
    decision: Decision,
    reasons: Vec<String>,
    extraction_problem: Option<String>,
    usage: Usage,
    cost_usd: f64,
    extract_us: u64,
}

impl Agent {
    /// The opener for this turn, when it applies: the feature is on, this is
    /// the lead's first turn, and code alone (keywords, no extraction) plans
    /// a question — not a decline, a close, an opt-out or a human.
    pub(super) fn open(&self, memory: &Memory) -> Result<Option<Produced>> {
        let config = &self.loaded.config;
        if !config.persona.instant_opener || memory.turn_count() > 0 {
            return Ok(None);
        }
        let decision = self.decide(memory, &extract::Extraction::default());
        let steer = &decision.steer;
        let slot = decision
            .plan
            .slot
            .as_deref()
            .and_then(|id| self.loaded.framework.slot(id));
        let (Some(slot), false) = (slot, steer.silent || steer.opt_out || steer.wants_human) else {
            return Ok(None);
        };
        if !opener::fits(&decision.plan) {
            return Ok(None);
        }
        let lang = reply::reply_language(config, memory);
        let name = memory.lead.name.as_deref();
        let ctx = opener::context(config, slot, decision.plan.directives, lang, name);
        let text = self.prompts.render("opener.j2", ctx)?;
        let guarded = Guarded {
            text,
            fired: Some("instant_opener".into()),
        };
        Ok(Some(Produced {
            decision,
            reply: Some(Reply {
                guarded,
                usage: Usage::default(),
                speed: None,
            }),
            extraction_problem: None,
            usage: Usage::default(),
            scoring_deferred: true,
        }))
    }

    /// Scores the messages of the lead's newest turn when its reply went out
    /// unscored (an instant opener): extraction, evidence, score and stage,
    /// stored once against that turn. `None` when there was nothing to score
    /// (or another process scored it first).
    pub(super) async fn score_deferred(&self, lead_id: &str) -> Result<Option<Scored>> {
        let started = Instant::now();
        let memory = self.store.turn_memory(lead_id, HISTORY_MESSAGES).await?;
        let Some(turn) = memory.unscored_turn().cloned() else {
            return Ok(None);
        };
        let seen = memory.as_of(&turn);
        if seen.pending.is_empty() {
            return Ok(None);
        }
        let extracted = self.extract(&seen).await?;
        let extract_us = started.elapsed().as_micros() as u64;
        let decision = self.decide(&seen, &extracted.extraction);
        let reasons = self.reasons(&seen, &decision);
        let usage = extracted.usage;
        let commit = self.commit(&seen, &decision, None, &reasons, usage, started);
        let decline = decision.plan.action == Action::Decline;
        if !self.store.commit_scoring(&commit, decline).await? {
            return Ok(None);
        }
        tracing::info!(lead_id, turn = turn.turn, tier = %decision.assessment.tier,
            extract_ms = extract_us / 1000, "opener's messages scored");
        if !decision.steer.opt_out {
            self.hand_off_if_due(&seen, &decision, false).await?;
        }
        Ok(Some(Scored {
            decision,
            reasons,
            extraction_problem: extracted.problem,
            usage,
            cost_usd: commit.cost_usd,
            extract_us,
        }))
    }

    /// `report` (an opener's) completed with the scoring of its messages.
    pub(super) async fn score_into(&self, report: &mut TurnReport) -> Result<()> {
        let Some(scored) = self.score_deferred(&report.lead_id).await? else {
            return Ok(());
        };
        let d = scored.decision;
        report.slots = d.known;
        report.fit = d.assessment.fit;
        report.intent = d.assessment.intent;
        report.tier = d.assessment.tier;
        report.score = d.assessment.score;
        report.stage = d.stage;
        report.next_action = d.assessment.next_action.clone();
        report.assessment = d.assessment;
        report.reasons = scored.reasons;
        report.extraction_problem = scored.extraction_problem;
        report.tokens.prompt += scored.usage.prompt_tokens;
        report.tokens.completion += scored.usage.completion_tokens;
        report.cost_usd += scored.cost_usd;
        report.stage_us.extract = scored.extract_us;
        report.scoring_deferred = false;
        Ok(())
    }
}
