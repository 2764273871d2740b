//! After a reply is sent: hand the model the next turn's prompts as far as
//! they are known, so a local model evaluates them while the lead reads
//! (see [`crate::llm::ChatModel::prefill`]).
//!
//! Both of a turn's prompts end with what the lead writes next; everything
//! before it — the instructions, the transcript, the reply just sent — is
//! known once this turn is stored. The requests are built by the same code
//! as the next turn's (the memory it will load, the same transcript and
//! template context), with [`NEXT_MESSAGE_MARK`] as the lead's message, so
//! the model's cache holds exactly the prefix the next prompts start with.
//! Models that keep no state between calls skip all of this.

use super::extract::{self, Extraction};
use super::turn::HISTORY_MESSAGES;
use super::{transcript, Agent, Result};
use crate::llm::NEXT_MESSAGE_MARK;
use tracing::Instrument;

impl Agent {
    /// Prefills the next turn's prompts for `lead_id` when the model keeps
    /// state: call it once a reply is delivered (the server after a send,
    /// the terminal while the user types). Failures only cost the next turn
    /// the time saved: logged, not returned. Evals do not call it: they
    /// answer the next message at once, so nothing would be saved.
    pub async fn prefill_next(&self, lead_id: &str) {
        if !self.model.prefills() {
            return;
        }
        let span = tracing::debug_span!("prefill", lead_id = %lead_id);
        if let Err(e) = self.prefill_requests(lead_id).instrument(span).await {
            tracing::debug!(lead_id, error = %e, "prefill skipped");
        }
    }

    async fn prefill_requests(&self, lead_id: &str) -> Result<()> {
        // The next turn loads the newest HISTORY_MESSAGES, its new message
        // among them.
        let memory = self
            .store
            .turn_memory(lead_id, HISTORY_MESSAGES - 1)
            .await?;
        if !memory.pending.is_empty() {
            // The lead already wrote again: that turn runs now, unprefilled.
            return Ok(());
        }
        let next = memory.with_next_message(NEXT_MESSAGE_MARK, self.clock.now_ms());
        let extraction = extract::request(
            self.extract_system.as_str().to_owned(),
            transcript::extraction(&next),
            self.schema.clone(),
            lead_id,
        );
        self.model.prefill(&extraction).await?;
        // The reply's instructions come from the plan, which needs the new
        // message's facts; what precedes them in the prompt does not.
        let decision = self.decide(&next, &Extraction::default());
        if decision.steer.silent {
            return Ok(());
        }
        let (ctx, _, _) = self.reply_context(&next, &decision);
        let reply = self.reply_request(&next, &ctx)?;
        self.model.prefill(&reply).await?;
        Ok(())
    }
}
