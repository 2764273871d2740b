//! A lead's memory: what a turn reads, and what reports show.
//!
//! Messages get in through [`Store::accept`](super::Store::accept) and a
//! turn's results through [`Store::commit_turn`](super::Store::commit_turn);
//! this file only reads.

use super::memory as read;
use super::{parse, Author, Lead, Message, Result, Store};
use crate::lead::{EvidenceKind, Level, Stage, Tier};
use crate::llm::Usage;
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;

/// A slot's current value and the message it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotValue {
    pub value: serde_json::Value,
    pub evidence_message_id: Option<i64>,
    pub updated_at: i64,
}

/// One observation behind the score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceRow {
    pub kind: EvidenceKind,
    pub key: String,
    pub matched: bool,
    pub quote: String,
    pub message_id: i64,
    pub at: i64,
}

/// One row of score history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreRow {
    pub message_id: Option<i64>,
    pub fit: Level,
    pub intent: Level,
    pub tier: Tier,
    pub score: i64,
    pub stage: Stage,
    pub next_action: String,
    pub reason: String,
    /// The intent signals that counted in this score (keyword and slot
    /// signals alike); empty on scores stored before they were recorded.
    pub signals: Vec<String>,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageChange {
    pub from: Stage,
    pub to: Stage,
    pub reason: String,
    pub at: i64,
}

/// One stored bot turn (for reports and cadence).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnRow {
    pub turn: i64,
    /// The newest lead message the turn answered.
    pub inbound_id: i64,
    /// `None` when the turn only scored (a human had the conversation).
    pub reply_id: Option<i64>,
    pub asked_slot: Option<String>,
    pub action: String,
    pub guard: Option<String>,
    pub usage: Usage,
    pub cost_usd: f64,
    pub latency_ms: i64,
}

/// What is known about a lead: the whole record from [`Store::memory`]
/// (reports, exports), or only what a turn reads from [`Store::turn_memory`],
/// whose cost does not grow with the length of the conversation.
#[derive(Debug, Clone)]
pub struct Memory {
    pub lead: Lead,
    /// Messages, oldest first: all of them, or the newest `window` in a turn's memory.
    pub messages: Vec<Message>,
    pub slots: BTreeMap<String, SlotValue>,
    /// All evidence, oldest first (scoring weighs all of it, with decay).
    pub evidence: Vec<EvidenceRow>,
    /// Score history, oldest first; a turn's memory holds only the newest.
    pub scores: Vec<ScoreRow>,
    pub stages: Vec<StageChange>,
    /// Bot turns, oldest first. A turn's memory holds what cadence needs:
    /// every turn that asked about a slot, plus the newest turn.
    pub turns: Vec<TurnRow>,
    /// Lead messages no turn has answered yet, oldest first: what the next
    /// turn answers (all of them at once: a burst is one turn).
    pub pending: Vec<Message>,
    /// Counted in SQL, so they are right whatever was loaded.
    pub(super) counts: Counts,
}

/// Totals for one lead, from `COUNT(*)`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Counts {
    pub(super) messages: usize,
    pub(super) inbound: usize,
    pub(super) turns: usize,
    /// The id of the lead's newest message (0 before any).
    pub(super) latest_inbound: i64,
}

impl Memory {
    pub fn last_score(&self) -> Option<&ScoreRow> {
        self.scores.last()
    }
    /// Lead messages so far (the 1-based number of the newest one).
    pub fn inbound_count(&self) -> usize {
        self.counts.inbound
    }
    /// Messages stored so far, both directions.
    pub fn message_count(&self) -> usize {
        self.counts.messages
    }
    /// The id of the newest lead message when this memory was read: a turn
    /// whose commit finds a newer one is stale and superseded.
    pub fn latest_inbound_id(&self) -> i64 {
        self.counts.latest_inbound
    }
    /// Bot turns stored so far.
    pub fn turn_count(&self) -> usize {
        self.counts.turns
    }
    /// This memory as it would be once the lead wrote `text` at `at`: one
    /// more pending message, counted like a stored one. What the next
    /// turn's prompts will start with is built from it (see
    /// `ChatModel::prefill`).
    pub fn with_next_message(mut self, text: &str, at: i64) -> Memory {
        let id = self
            .counts
            .latest_inbound
            .max(self.messages.last().map_or(0, |m| m.id))
            + 1;
        let message = Message {
            id,
            direction: crate::lead::Direction::In,
            text: text.to_string(),
            at,
            author: Author::Lead,
        };
        self.messages.push(message.clone());
        self.pending.push(message);
        self.counts.messages += 1;
        self.counts.inbound += 1;
        self.counts.latest_inbound = id;
        self
    }

    /// The 1-based position of a loaded message in the whole conversation
    /// (both directions), as reasons and reports number them.
    pub fn message_number(&self, id: i64) -> Option<usize> {
        let skipped = self.counts.messages.saturating_sub(self.messages.len());
        self.messages
            .iter()
            .position(|m| m.id == id)
            .map(|p| skipped + p + 1)
    }
}

impl Store {
    /// Everything known about a lead (by id or unique id prefix), oldest
    /// first: the whole conversation and every score and turn (for reports
    /// and exports).
    pub async fn memory(&self, lead_id: &str) -> Result<Memory> {
        self.load_memory(lead_id, None).await
    }

    /// What a turn needs, at a cost bounded by `window` rather than by the
    /// conversation's length: the newest `window` messages, all slots,
    /// evidence and stage changes, the newest score, the turns cadence needs
    /// (see [`Memory::turns`]), and the counts from SQL.
    pub async fn turn_memory(&self, lead_id: &str, window: usize) -> Result<Memory> {
        self.load_memory(lead_id, Some(window)).await
    }

    async fn load_memory(&self, lead_id: &str, window: Option<usize>) -> Result<Memory> {
        // Reports take what people type (an id prefix); a turn has the exact id.
        let lead = match window {
            Some(_) => self.lead_by_id(lead_id).await?,
            None => self.lead(lead_id).await?,
        };
        let id = lead.id.as_str();
        // One connection for every read: no pool hand-off per query.
        let mut conn = self.pool.acquire().await?;
        let c = &mut *conn;
        Ok(Memory {
            counts: read::counts(c, id).await?,
            messages: read::messages(c, id, window).await?,
            pending: read::pending(c, id, MAX_PENDING).await?,
            slots: read::slots(c, id).await?,
            evidence: read::evidence(c, id).await?,
            scores: read::scores(c, id, window.map(|_| 1)).await?,
            stages: read::stages(c, id).await?,
            turns: read::turns(c, id, window.is_some()).await?,
            lead,
        })
    }
}

/// At most this many unanswered messages go into one turn; a longer burst
/// (a flood, or a backlog replayed after an outage) is answered in parts.
const MAX_PENDING: i64 = 20;

pub(super) fn message_from(r: &sqlx::sqlite::SqliteRow) -> Result<Message> {
    Ok(Message {
        id: r.try_get("id")?,
        direction: parse(r.try_get("direction")?)?,
        author: parse(r.try_get("author")?)?,
        text: r.try_get("text")?,
        at: r.try_get("at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::{Channel, Direction};
    use crate::store::NewLead;

    use crate::store::testing::{accept_text, sample_commit};

    /// A lead with `turns` answered lead messages (2 × `turns` stored
    /// messages); the bot asks about a slot on turns 1–3 only.
    async fn long_conversation(dir: &std::path::Path, turns: i64) -> (Store, Lead) {
        let url = format!("sqlite://{}", dir.join("memory.db").display());
        let store = Store::open(&url).await.unwrap();
        let new = NewLead {
            channel: Channel::Webchat,
            external_id: "long".into(),
            name: None,
            source: None,
            account_id: None,
        };
        let lead = store.lead_for(&new, 0).await.unwrap();
        for turn in 1..=turns {
            let at = turn * 10;
            let inbound =
                accept_text(&store, &lead, &format!("lead message {turn}"), None, at).await;
            let mut commit = sample_commit(&lead, turn, inbound, at);
            commit.evidence = (turn == 2)
                .then(|| EvidenceRow {
                    kind: EvidenceKind::Signal,
                    key: "asked_price".into(),
                    matched: true,
                    quote: "how much".into(),
                    message_id: inbound,
                    at,
                })
                .into_iter()
                .collect();
            if turn == 1 {
                commit.slots = vec![("pain".into(), serde_json::json!("no leads"))];
                commit.stage_change = Some(StageChange {
                    from: Stage::New,
                    to: Stage::Engaged,
                    reason: "first message".into(),
                    at,
                });
            }
            commit.asked_slot = ["pain", "business", "desired_outcome"]
                .get(turn as usize - 1)
                .map(|s| s.to_string());
            store.commit_turn(&commit).await.unwrap();
        }
        (store, lead)
    }

    #[tokio::test]
    async fn a_turns_memory_loads_the_window_and_counts_everything() {
        let dir = tempfile::tempdir().unwrap();
        let (store, lead) = long_conversation(dir.path(), 30).await;
        let full = store.memory(&lead.id).await.unwrap();
        let window = store.turn_memory(&lead.id, 20).await.unwrap();

        // Only the newest 20 of 60 messages are loaded, oldest first…
        assert_eq!(full.messages.len(), 60);
        assert_eq!(window.messages, full.messages[40..]);
        assert_eq!(window.messages[0].text, "lead message 21");
        // …but the counts are the whole conversation's, for both loads.
        for m in [&full, &window] {
            assert_eq!(m.inbound_count(), 30);
            assert_eq!(m.message_count(), 60);
            assert_eq!(m.turn_count(), 30);
        }
        let in_window = window
            .messages
            .iter()
            .filter(|m| m.direction == Direction::In)
            .count();
        assert_eq!(in_window, 10);
        // Message numbers are positions in the whole conversation.
        let newest = window.messages.last().unwrap().id;
        assert_eq!(window.message_number(newest), Some(60));
        assert_eq!(full.message_number(newest), Some(60));
        assert_eq!(window.message_number(full.messages[0].id), None);
        assert_eq!(full.message_number(full.messages[0].id), Some(1));

        // Aggregates are complete: slots, evidence (from message 3), stages.
        assert_eq!(window.slots, full.slots);
        assert_eq!(window.evidence, full.evidence);
        assert_eq!(window.evidence.len(), 1);
        assert_eq!(window.stages, full.stages);
        // The newest score only.
        assert_eq!(full.scores.len(), 30);
        assert_eq!(window.scores.len(), 1);
        assert_eq!(window.last_score(), full.last_score());
        // Cadence sees the same questions and the same newest turn.
        let asked = |m: &Memory| -> Vec<String> {
            m.turns
                .iter()
                .filter_map(|t| t.asked_slot.clone())
                .collect()
        };
        assert_eq!(asked(&window), ["pain", "business", "desired_outcome"]);
        assert_eq!(asked(&window), asked(&full));
        assert_eq!(window.turns.len(), 4);
        assert_eq!(window.turns.last(), full.turns.last());
    }

    #[tokio::test]
    async fn a_short_conversation_fits_the_window_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (store, lead) = long_conversation(dir.path(), 2).await;
        let full = store.memory(&lead.id).await.unwrap();
        let window = store.turn_memory(&lead.id, 20).await.unwrap();
        assert_eq!(window.messages, full.messages);
        assert_eq!(window.turns, full.turns);
        assert_eq!(window.inbound_count(), 2);
        let newest = window.messages.last().unwrap().id;
        assert_eq!(window.message_number(newest), Some(4));
    }
}
