//! The second half of an instant-opener turn: its reply was stored (and
//! sent) first, by [`Store::commit_turn`](super::Store::commit_turn) with no
//! score; the extraction that follows stores what the lead's messages said
//! here, in one transaction, once.

use super::commit::{insert_results, TurnCommit};
use super::turns::Counts;
use super::{Memory, Message, Result, Store, TurnRow};

impl Memory {
    /// The newest turn when its messages are not scored yet: an instant
    /// opener, whose reply is stored before extraction runs (see
    /// [`Store::commit_scoring`]).
    pub fn unscored_turn(&self) -> Option<&TurnRow> {
        let newest = self.turns.last()?;
        let scored = self
            .last_score()
            .is_some_and(|s| s.message_id == Some(newest.inbound_id));
        (!scored).then_some(newest)
    }
    /// This memory as `turn` read it: the messages it answered pending
    /// again, later messages and turns left out. Scoring an opener's
    /// messages reads this, so extraction sees what it would have seen.
    pub fn as_of(&self, turn: &TurnRow) -> Memory {
        let before = |t: &&TurnRow| t.turn < turn.turn;
        let answered_before = self.turns.iter().filter(before).map(|t| t.inbound_id).max();
        let (messages, later): (Vec<Message>, Vec<Message>) = self
            .messages
            .iter()
            .cloned()
            .partition(|m| m.id <= turn.inbound_id);
        let is_in = |m: &&Message| m.direction == crate::lead::Direction::In;
        let pending = messages
            .iter()
            .filter(is_in)
            .filter(|m| m.id > answered_before.unwrap_or(0))
            .cloned()
            .collect();
        let counts = Counts {
            messages: self.counts.messages.saturating_sub(later.len()),
            inbound: self
                .counts
                .inbound
                .saturating_sub(later.iter().filter(is_in).count()),
            turns: usize::try_from(turn.turn - 1).unwrap_or(0),
            latest_inbound: turn.inbound_id,
        };
        Memory {
            lead: self.lead.clone(),
            messages,
            slots: self.slots.clone(),
            evidence: self.evidence.clone(),
            scores: self.scores.clone(),
            stages: self.stages.clone(),
            turns: self.turns.iter().filter(before).cloned().collect(),
            pending,
            counts,
        }
    }
}

impl Store {
    /// Stores the slots, evidence, score and stage of turn `c.turn`, whose
    /// reply went out before its messages were scored, and adds the
    /// extraction's tokens and cost to the turn. With `cancel_followups`
    /// (the lead turned out disqualified) the follow-up ladder the reply
    /// started is cancelled. Returns `false`, storing nothing, when that turn
    /// is already scored (another process, or a retry, got there first).
    pub async fn commit_scoring(&self, c: &TurnCommit, cancel_followups: bool) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let turn_id: Option<i64> = sqlx::query_scalar(
            "SELECT t.id FROM turns t WHERE t.lead_id = ?1 AND t.turn = ?2 AND t.inbound_id = ?3
               AND NOT EXISTS (SELECT 1 FROM scores s WHERE s.lead_id = ?1 AND s.message_id = ?3)",
        )
        .bind(&c.lead_id)
        .bind(c.turn)
        .bind(c.inbound_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(turn_id) = turn_id else {
            return Ok(false);
        };
        insert_results(&mut tx, c).await?;
        sqlx::query(
            "UPDATE turns SET prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ?,
                              cost_usd = cost_usd + ? WHERE id = ?",
        )
        .bind(c.usage.prompt_tokens as i64)
        .bind(c.usage.completion_tokens as i64)
        .bind(c.cost_usd)
        .bind(turn_id)
        .execute(&mut *tx)
        .await?;
        if cancel_followups {
            super::jobs::cancel_pending_jobs(
                &mut tx,
                &c.lead_id,
                // Disqualified: a stage that ends follow-ups.
                crate::lead::JobReason::Stage,
                c.now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use crate::lead::Channel;
    use crate::store::testing::{accept_text, sample_commit};
    use crate::store::{NewLead, Store, TurnSaved};

    #[tokio::test]
    async fn an_opener_is_stored_unscored_then_scored_once() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.unwrap();
        let new = NewLead {
            channel: Channel::Webchat,
            external_id: "w1".into(),
            name: None,
            source: None,
            account_id: None,
        };
        let lead = store.lead_for(&new, 0).await.unwrap();
        let first = accept_text(&store, &lead, "hi, I run a gym", None, 10).await;
        let mut opener = sample_commit(&lead, 1, first, 10);
        let score = opener.score.take();
        let saved = store.commit_turn(&opener).await.unwrap();
        assert!(matches!(
            saved,
            TurnSaved::Saved {
                reply_id: Some(_),
                ..
            }
        ));
        let memory = store.turn_memory(&lead.id, 20).await.unwrap();
        assert!(memory.pending.is_empty(), "the opener answered the message");
        let unscored = memory.unscored_turn().expect("scored later").clone();
        let seen = memory.as_of(&unscored);
        assert_eq!(seen.pending.len(), 1);
        assert_eq!(
            seen.messages.len(),
            1,
            "the opener's reply is not in its view"
        );
        assert_eq!((seen.turn_count(), seen.inbound_count()), (0, 1));

        let mut scoring = sample_commit(&lead, 1, first, 10);
        scoring.score = score;
        scoring.usage.prompt_tokens = 300;
        assert!(store.commit_scoring(&scoring, false).await.unwrap());
        assert!(
            !store.commit_scoring(&scoring, false).await.unwrap(),
            "once"
        );
        let memory = store.turn_memory(&lead.id, 20).await.unwrap();
        assert!(memory.unscored_turn().is_none());
        assert_eq!(memory.turns.last().unwrap().usage.prompt_tokens, 300);
    }
}
