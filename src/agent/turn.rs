//! One turn, as a list of named steps: load → extract → decide → reply →
//! persist. Each step is a function below; `run` only sequences them.

use super::directives::Directives;
use super::steer::Steering;
use super::{
    budget, evidence, extract, grounding, guard, language, plan, plausible, reasons, revenue,
    score, transcript, Agent, Answer, Result, StageTimes, TokenReport, TurnReport,
};
use crate::lead::{EvidenceKind, Stage};
use crate::llm::{tokens, Speed, Usage};
use crate::store::{
    EvidenceRow, Memory, PlannedStep, ScoreRow, SlotValue, StageChange, TurnCommit, TurnSaved,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Instant;
use tracing::Instrument;

/// Messages a turn loads: the newest 20 (ten exchanges). The extractor sees
/// the newest 7 to 10 of them, grounding checks slot values against the lead's
/// words among them, and the reply sees them trimmed to the token budget;
/// facts from older messages reach the reply through the known slots. Counts
/// (message number, turn number) come from the store, not from this window,
/// so a turn costs the same at 20 or 2,000 stored messages.
pub(super) const HISTORY_MESSAGES: usize = 20;
const _: () = assert!(
    HISTORY_MESSAGES > transcript::EXTRACT_CONTEXT_MESSAGES + transcript::EXTRACT_CONTEXT_STEP
);

/// What the decide step settled, in code.
pub(super) struct Decision {
    new_evidence: Vec<EvidenceRow>,
    /// Slots whose value changed in this turn.
    changed: Vec<(String, Value)>,
    pub(super) known: BTreeMap<String, Value>,
    pub(super) assessment: score::Assessment,
    pub(super) stage: Stage,
    stage_why: String,
    pub(super) plan: plan::Plan,
    /// Silence, opt-out, a request for a human: decided from the lead's
    /// state and words before any reply is written.
    pub(super) steer: Steering,
}

/// The reply step's result.
pub(super) struct Reply {
    pub(super) guarded: guard::Guarded,
    pub(super) usage: Usage,
    pub(super) speed: Option<Speed>,
}

/// Per-stage stopwatch for [`StageTimes`].
pub(super) struct Laps(Instant);

impl Laps {
    pub(super) fn lap(&mut self, slot: &mut u64) {
        *slot = self.0.elapsed().as_micros() as u64;
        self.0 = Instant::now();
    }
}

/// What a turn produced, before it is stored.
pub(super) struct Produced {
    pub(super) decision: Decision,
    pub(super) reply: Option<Reply>,
    pub(super) extraction_problem: Option<String>,
    pub(super) usage: Usage,
    /// An instant opener: the reply is stored now, the messages are scored
    /// right after (see `deferred`).
    pub(super) scoring_deferred: bool,
}

impl Agent {
    /// One turn for `lead_id`'s pending messages, traced in the lead's span.
    /// An earlier opener whose messages were never scored (the process
    /// stopped in between) is scored first.
    pub(super) async fn turn(&self, lead_id: &str, recorded: Option<String>) -> Result<Answer> {
        let started = Instant::now();
        let mut memory = self.store.turn_memory(lead_id, HISTORY_MESSAGES).await?;
        if memory.unscored_turn().is_some() {
            self.score_deferred(lead_id).await?;
            memory = self.store.turn_memory(lead_id, HISTORY_MESSAGES).await?;
        }
        if memory.pending.is_empty() {
            return Ok(Answer::NothingPending);
        }
        let turn = memory.turn_count() as i64 + 1;
        let span =
            tracing::info_span!("turn", lead_id = %lead_id, channel = %memory.lead.channel, turn);
        self.run(memory, recorded, started).instrument(span).await
    }

    async fn run(
        &self,
        memory: Memory,
        recorded: Option<String>,
        started: Instant,
    ) -> Result<Answer> {
        let mut times = StageTimes {
            load: started.elapsed().as_micros() as u64,
            ..StageTimes::default()
        };
        let mut laps = Laps(Instant::now());
        if recorded.is_none() {
            if let Some(produced) = self.open(&memory)? {
                laps.lap(&mut times.reply);
                return self.persist(&memory, produced, times, laps, started).await;
            }
        }
        let extracted = self.extract(&memory).await?;
        laps.lap(&mut times.extract);
        let decision = self.decide(&memory, &extracted.extraction);
        laps.lap(&mut times.decide);
        let reply = self.choose_reply(&memory, &decision, recorded).await?;
        laps.lap(&mut times.reply);
        let mut usage = extracted.usage;
        if let Some(r) = &reply {
            usage += r.usage;
        }
        let produced = Produced {
            decision,
            reply,
            extraction_problem: extracted.problem,
            usage,
            scoring_deferred: false,
        };
        self.persist(&memory, produced, times, laps, started).await
    }

    /// Step 4: store the turn, hand the lead off when due, report.
    async fn persist(
        &self,
        memory: &Memory,
        p: Produced,
        mut times: StageTimes,
        mut laps: Laps,
        started: Instant,
    ) -> Result<Answer> {
        let Produced {
            decision,
            reply,
            extraction_problem,
            usage,
            scoring_deferred,
        } = p;
        let reasons = self.reasons(memory, &decision);
        let mut commit = self.commit(memory, &decision, reply.as_ref(), &reasons, usage, started);
        if scoring_deferred {
            // Only the reply now; what the messages say is stored once
            // extraction has read them.
            commit.score = None;
            commit.slots.clear();
            commit.evidence.clear();
            commit.stage_change = None;
        }
        let saved = self.store.commit_turn(&commit).await?;
        laps.lap(&mut times.persist);
        let (reply_id, outbox_id) = match saved {
            TurnSaved::Superseded(stale) => return Ok(Answer::Superseded(stale)),
            TurnSaved::Saved {
                reply_id,
                outbox_id,
            } => (reply_id, outbox_id),
        };
        if reply_id.is_some() && !decision.steer.opt_out && !scoring_deferred {
            self.hand_off_if_due(memory, &decision, decision.steer.wants_human)
                .await?;
        }
        tracing::info!(tier = %decision.assessment.tier, action = decision.plan.action.as_str(),
            latency_ms = commit.latency_ms, sent = reply_id.is_some(), "turn done");
        let report = Box::new(TurnReport {
            lead_id: memory.lead.id.clone(),
            turn: commit.turn,
            reply: reply_id.and(commit.reply).unwrap_or_default(),
            slots: decision.known,
            fit: decision.assessment.fit,
            intent: decision.assessment.intent,
            tier: decision.assessment.tier,
            score: decision.assessment.score,
            stage: decision.stage,
            next_action: decision.assessment.next_action.clone(),
            action: decision.plan.action,
            asked_slot: decision.plan.slot,
            reasons,
            guard: reply.as_ref().and_then(|r| r.guarded.fired.clone()),
            extraction_problem,
            tokens: TokenReport {
                prompt: usage.prompt_tokens,
                completion: usage.completion_tokens,
            },
            cost_usd: commit.cost_usd,
            latency_ms: commit.latency_ms,
            stage_us: times,
            speed: reply.and_then(|r| r.speed),
            messages: memory.pending.len(),
            outbox_id,
            inbound_id: commit.inbound_id,
            scoring_deferred,
            assessment: decision.assessment,
        });
        Ok(match reply_id {
            Some(_) => Answer::Replied(report),
            None => Answer::Scored(report),
        })
    }

    /// Step 3's choice: silence, a reply decided in code, or the model's.
    async fn choose_reply(
        &self,
        memory: &Memory,
        d: &Decision,
        recorded: Option<String>,
    ) -> Result<Option<Reply>> {
        let steer = &d.steer;
        Ok(match (steer.silent, steer.opt_out, steer.wants_human) {
            (true, _, _) => None,
            (false, true, _) => Some(self.opt_out_reply(memory)),
            (false, false, true) => Some(self.next_steps_reply(memory)),
            (false, false, false) => Some(self.reply(memory, d, recorded).await?),
        })
    }

    /// Step 1: the model reports slots, traits and disqualifiers; code drops
    /// slot values that are not in the lead's words.
    pub(super) async fn extract(&self, memory: &Memory) -> Result<extract::Extracted> {
        let framework = &self.loaded.framework;
        // Values must be spans of the lead's messages. Earlier ones count
        // too: a model that restates a known fact copies it from where the
        // lead said it, instead of being held to the newest message's words.
        let read = transcript::lead_messages(memory);
        let mut extracted = extract::run(
            self.model.as_ref(),
            self.extract_system.as_str().to_owned(),
            transcript::extraction(memory),
            extract::spans_of(&self.schema, framework, &read),
            framework,
            &self.loaded.config.icp,
            &memory.lead.id,
        )
        .await?;
        let lead_text = read.join("\n");
        // Held to the lead's words against its own choice, the model meant
        // other words: mostly an invention when the lead writes English
        // (the prompt's language) unless it was very sure a fact is there;
        // in another language it is mostly a translation, and the verbatim
        // words the grammar kept are what the lead said, so only the
        // confidence judges them.
        let english = language::detect(&lead_text).is_none_or(|l| l == whatlang::Lang::Eng);
        let q = &self.loaded.config.qualification;
        let unsure = extract::abstain(
            &mut extracted,
            q.min_confidence,
            english.then_some(q.min_confidence_forced),
        );
        let slots = &mut extracted.extraction.slots;
        let mut dropped = unsure;
        dropped.extend(budget::settle(
            framework,
            slots,
            &memory.messages,
            &memory.pending,
        ));
        dropped.extend(grounding::drop_ungrounded(framework, slots, &lead_text));
        let known = memory
            .slots
            .iter()
            .map(|(id, s)| (id.clone(), s.value.clone()))
            .collect();
        dropped.extend(plausible::drop_implausible(
            framework, slots, &known, &lead_text,
        ));
        if !dropped.is_empty() {
            tracing::info!(slots = ?dropped, "dropped slot values not found in the lead's words");
            let note = format!("unsure or ungrounded, dropped: {}", dropped.join(", "));
            extracted.problem = Some(match extracted.problem.take() {
                Some(p) => format!("{p}; {note}"),
                None => note,
            });
        }
        let checked = self
            .check_disqualifiers(memory, &extracted.extraction)
            .await?;
        extracted.usage += checked.usage;
        extracted.extraction.checks = checked.shares;
        Ok(extracted)
    }

    /// Step 2 (code only): evidence and slots, the score, the stage, the plan.
    pub(super) fn decide(&self, memory: &Memory, x: &extract::Extraction) -> Decision {
        let config = &self.loaded.config;
        let framework = &self.loaded.framework;
        let newest = memory.pending.last().expect("a turn has pending messages");
        let mut new_evidence =
            evidence::collect(&config.icp, framework, &memory.pending, x, &memory.evidence);
        let (msgs, pending) = (&memory.messages, &memory.pending);
        new_evidence.extend(revenue::evidence(&config.icp, msgs, pending, &new_evidence));
        let mut all_evidence = memory.evidence.clone();
        all_evidence.extend(new_evidence.iter().cloned());
        let mut slots = memory.slots.clone();
        let mut changed = Vec::new();
        // A disqualified lead is not qualified further: a job seeker's
        // "pain" or a pre-launch's "timeline" would only mislead. What the
        // business is (fit) is still recorded.
        let disqualified = score::disqualifier(&all_evidence).is_some();
        let recorded = |id: &String| {
            !disqualified
                || framework
                    .slot(id)
                    .is_some_and(|s| s.role == crate::config::SlotRole::Fit)
        };
        for (id, value) in x.slots.iter().filter(|(id, _)| recorded(id)) {
            if slots.get(id).map(|s| &s.value) != Some(value) {
                changed.push((id.clone(), value.clone()));
                let slot = SlotValue {
                    value: value.clone(),
                    evidence_message_id: Some(newest.id),
                    updated_at: newest.at,
                };
                slots.insert(id.clone(), slot);
            }
        }
        let assessment = score::assess(config, framework, &all_evidence, &slots, newest.at);
        let all_known = framework.slots.iter().all(|s| slots.contains_key(&s.id));
        let message_no = memory.inbound_count();
        let (stage, stage_why) =
            score::stage(memory.lead.stage, &assessment, message_no, all_known);
        let known: BTreeMap<String, Value> = slots
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        let asked: Vec<Option<String>> =
            memory.turns.iter().map(|t| t.asked_slot.clone()).collect();
        // These messages' keyword signals are already in their new evidence.
        let wants_next_step = new_evidence.iter().any(|e| {
            e.kind == EvidenceKind::Signal && matches!(e.key.as_str(), "asked_price" | "asked_call")
        });
        let mut plan = plan::plan(
            config,
            framework,
            &assessment,
            &known,
            &asked,
            message_no,
            wants_next_step,
        );
        plan.directives = Directives::for_messages(&transcript::pending_text(memory));
        // A decline names no price: there is nothing to buy.
        plan.directives.answer_price &= plan.action != plan::Action::Decline;
        Decision {
            new_evidence,
            changed,
            known,
            assessment,
            stage,
            stage_why,
            plan,
            steer: self.steering(memory),
        }
    }

    pub(super) fn reasons(&self, memory: &Memory, d: &Decision) -> Vec<String> {
        let newest = memory.pending.last().map_or(0, |m| m.id);
        reasons::reasons(
            memory.last_score(),
            &d.assessment,
            &d.new_evidence,
            memory,
            newest,
        )
    }

    /// Step 4's input: everything the turn produced, for one transaction.
    pub(super) fn commit(
        &self,
        memory: &Memory,
        d: &Decision,
        reply: Option<&Reply>,
        reasons: &[String],
        usage: Usage,
        started: Instant,
    ) -> TurnCommit {
        let newest = memory.pending.last().expect("a turn has pending messages");
        let stage_change = (d.stage != memory.lead.stage).then(|| StageChange {
            from: memory.lead.stage,
            to: d.stage,
            reason: d.stage_why.clone(),
            at: newest.at,
        });
        TurnCommit {
            lead_id: memory.lead.id.clone(),
            turn: memory.turn_count() as i64 + 1,
            inbound_id: newest.id,
            seen_latest_inbound: memory.latest_inbound_id(),
            reply: reply.map(|r| r.guarded.text.clone()),
            via_outbox: memory.lead.channel.has_sender(),
            channel: memory.lead.channel,
            slots: d.changed.clone(),
            evidence: d.new_evidence.clone(),
            score: Some(ScoreRow {
                message_id: Some(newest.id),
                fit: d.assessment.fit,
                intent: d.assessment.intent,
                tier: d.assessment.tier,
                score: d.assessment.score,
                stage: d.stage,
                next_action: d.assessment.next_action.clone(),
                reason: reasons.join("; "),
                signals: d
                    .assessment
                    .signals
                    .iter()
                    .map(|s| s.signal.clone())
                    .collect(),
                at: newest.at,
            }),
            stage_change,
            asked_slot: d.plan.slot.clone(),
            action: d.plan.action.as_str().into(),
            guard: reply.and_then(|r| r.guarded.fired.clone()),
            usage,
            cost_usd: tokens::cost(&self.loaded.config.llm, usage),
            latency_ms: started.elapsed().as_millis() as i64,
            at: newest.at,
            now: self.clock.now_ms(),
            // Never again after an opt-out, even after a later reply.
            followups: match d.steer.no_followups {
                true => Vec::new(),
                false => self.ladder(memory.lead.channel, d, newest.at),
            },
            opt_out: d.steer.opt_out,
            payment_link_sent: reply.is_some_and(|r| d.plan.payment_link_in(&r.guarded.text)),
        }
    }

    /// The follow-up ladder this reply starts, counted from the lead's newest
    /// message. None for a declined (disqualified) lead.
    fn ladder(
        &self,
        channel: crate::lead::Channel,
        d: &Decision,
        last_inbound: i64,
    ) -> Vec<PlannedStep> {
        let followups = &self.loaded.config.followups;
        if !followups.enabled || d.plan.action == plan::Action::Decline {
            return Vec::new();
        }
        followups
            .ladder(channel)
            .steps
            .iter()
            .zip(1..)
            .map(|(s, step)| PlannedStep {
                step,
                kind: s.kind.as_str().into(),
                due_at: crate::scheduler::fit_window(
                    channel,
                    last_inbound,
                    last_inbound + s.after.as_millis() as i64,
                ),
            })
            .collect()
    }
}
