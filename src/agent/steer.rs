//! Turns whose reply or action is decided wholly in code: an opt-out's
//! acknowledgment, what a lead who asked for a human is told, and the
//! handoff that follows a stored reply. No model call for the reply, nothing
//! to guard (the handoff asks the model for the packet's recommended approach).

use super::turn::{Decision, Reply};
use super::{guard, human, language, optout, transcript, Agent, Result};
use crate::lead::Stage;
use crate::llm::Usage;
use crate::store::Memory;

/// What code decided about this turn before any reply is written.
pub(super) struct Steering {
    /// Score what the lead said, say nothing: a human has the conversation
    /// (paused or handed off), the sale is closed (won or paid: no second
    /// payment link to a customer), or an opted-out lead said stop again.
    pub(super) silent: bool,
    /// The lead asks to stop: acknowledged once, follow-ups ended for good.
    pub(super) opt_out: bool,
    /// The lead asks for a human (and hand-offs are automatic).
    pub(super) wants_human: bool,
    /// No follow-up ladder after this reply (opted out now or before).
    pub(super) no_followups: bool,
}

impl Agent {
    /// The code-only decisions about this turn, from the lead's state and words.
    pub(super) fn steering(&self, memory: &Memory) -> Steering {
        let said = |test: fn(&str) -> bool| memory.pending.iter().any(|m| test(&m.text));
        let opt_out = said(optout::asks_to_stop);
        let opted_out = memory.lead.opted_out_at.is_some();
        Steering {
            silent: memory.lead.paused_at(self.clock.now_ms())
                || matches!(memory.lead.stage, Stage::HandedOff | Stage::Closed)
                || (opt_out && opted_out),
            opt_out,
            wants_human: self.loaded.config.handoff.auto && said(human::asks_for_human),
            no_followups: opt_out || opted_out,
        }
    }

    /// What a lead who asked for a human is told: no model call.
    pub(super) fn next_steps_reply(&self, memory: &Memory) -> Reply {
        let language = language::detect(&transcript::pending_text(memory));
        let booking = &self.loaded.config.offer.booking_url;
        Reply {
            guarded: guard::Guarded {
                text: human::next_steps(language, booking),
                fired: Some("asked_for_human".into()),
            },
            usage: Usage::default(),
            speed: None,
        }
    }

    /// Step 5: hand the lead to a closer when code says so — the lead asked
    /// for a human, or is Hot, or reached SQL — once (the store refuses a
    /// second). The reply already told the lead the next step.
    pub(super) async fn hand_off_if_due(
        &self,
        memory: &Memory,
        d: &Decision,
        wants_human: bool,
    ) -> Result<()> {
        if !self.loaded.config.handoff.auto || memory.lead.stage == Stage::HandedOff {
            return Ok(());
        }
        let (trigger, reason) = if wants_human {
            ("asked_for_human", "the lead asked for a human".to_string())
        } else if d.assessment.tier == crate::lead::Tier::Hot {
            ("hot", format!("tier hot (score {})", d.assessment.score))
        } else if d.stage == Stage::Sql {
            (
                "sql",
                "stage SQL: every slot known and qualified".to_string(),
            )
        } else {
            return Ok(());
        };
        let now = self.clock.now_ms();
        let desk = self.handoff_desk();
        let result = crate::handoff::hand_off(desk, &memory.lead.id, trigger, &reason, now).await;
        match result {
            Ok(_) => Ok(()),
            Err(crate::handoff::deliver::Error::Store(e)) => Err(e.into()),
            Err(crate::handoff::deliver::Error::Prompt(e)) => Err(e.into()),
        }
    }

    /// What a handoff needs, from this agent: its store, templates, config,
    /// and its model to write the recommended approach (turns and the API).
    pub fn handoff_desk(&self) -> crate::handoff::Desk<'_> {
        crate::handoff::Desk {
            store: &self.store,
            prompts: &self.prompts,
            loaded: &self.loaded,
            model: Some(&*self.model),
        }
    }

    /// The one acknowledgment of an opt-out: no model call, no question.
    pub(super) fn opt_out_reply(&self, memory: &Memory) -> Reply {
        let language = language::detect(&transcript::pending_text(memory));
        Reply {
            guarded: guard::Guarded {
                text: optout::acknowledgment(language).to_string(),
                fired: Some("opt_out".into()),
            },
            usage: Usage::default(),
            speed: None,
        }
    }
}
