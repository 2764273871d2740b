//! The conversation: inbound messages, a lead's memory, and the one
//! transaction that persists a whole bot turn.
//!
//! An inbound message is stored on its own first — once accepted it is never
//! lost, even if the model call fails. Everything the turn produced (reply,
//! slots, evidence, score, stage, usage) then lands atomically in
//! [`Store::commit_turn`]: a crash leaves either all of it or none.

use super::{parse, Lead, Message, Result, Store};
use crate::lead::{Direction, EvidenceKind, Level, Stage, Tier};
use crate::llm::Usage;
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
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
    pub inbound_id: i64,
    pub reply_id: i64,
    pub asked_slot: Option<String>,
    pub action: String,
    pub guard: Option<String>,
    pub usage: Usage,
    pub cost_usd: f64,
    pub latency_ms: i64,
}

/// Everything the agent needs to know about a lead before a turn.
#[derive(Debug, Clone)]
pub struct Memory {
    pub lead: Lead,
    pub messages: Vec<Message>,
    pub slots: BTreeMap<String, SlotValue>,
    pub evidence: Vec<EvidenceRow>,
    pub scores: Vec<ScoreRow>,
    pub stages: Vec<StageChange>,
    pub turns: Vec<TurnRow>,
}

impl Memory {
    pub fn last_score(&self) -> Option<&ScoreRow> {
        self.scores.last()
    }
    /// Lead messages so far (the 1-based number of the newest one).
    pub fn inbound_count(&self) -> usize {
        self.messages
            .iter()
            .filter(|m| m.direction == Direction::In)
            .count()
    }
}

/// What one turn produced, persisted together.
#[derive(Debug, Clone)]
pub struct TurnCommit {
    pub lead_id: String,
    pub turn: i64,
    pub inbound_id: i64,
    pub reply: String,
    pub slots: Vec<(String, serde_json::Value)>,
    /// New evidence; its `message_id` is the inbound message.
    pub evidence: Vec<EvidenceRow>,
    pub score: ScoreRow,
    pub stage_change: Option<StageChange>,
    pub asked_slot: Option<String>,
    pub action: String,
    pub guard: Option<String>,
    pub usage: Usage,
    pub cost_usd: f64,
    pub latency_ms: i64,
    pub at: i64,
}

impl Store {
    /// Stores a lead message. Returns `None` when `external_id` was seen before
    /// (a platform redelivery), so it is processed once.
    pub async fn add_inbound(
        &self,
        lead: &Lead,
        text: &str,
        external_id: Option<&str>,
        at: i64,
    ) -> Result<Option<i64>> {
        let mut tx = self.pool.begin().await?;
        let id = sqlx::query(
            "INSERT INTO messages (lead_id, direction, text, external_id, at) VALUES (?, 'in', ?, ?, ?)
             ON CONFLICT (external_id) DO NOTHING RETURNING id",
        )
        .bind(&lead.id)
        .bind(text)
        .bind(external_id)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| row.get::<i64, _>(0));
        if id.is_some() {
            sqlx::query(
                "UPDATE leads SET first_message = COALESCE(first_message, ?), updated_at = ? WHERE id = ?",
            )
            .bind(text)
            .bind(at)
            .bind(&lead.id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Rows of one lead from `sql` (whose only parameter is the lead id), mapped.
    async fn rows<T>(
        &self,
        sql: &'static str,
        lead_id: &str,
        map: impl Fn(&SqliteRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        let rows = sqlx::query(sql).bind(lead_id).fetch_all(&self.pool).await?;
        rows.iter().map(map).collect()
    }

    /// Everything known about a lead, oldest first.
    pub async fn memory(&self, lead_id: &str) -> Result<Memory> {
        let lead = self.lead(lead_id).await?;
        let id = lead.id.as_str();
        let messages = self
            .rows(
                "SELECT id, direction, text, at FROM messages WHERE lead_id = ? ORDER BY id",
                id,
                |r| {
                    Ok(Message {
                        id: r.try_get("id")?,
                        direction: parse(r.try_get("direction")?)?,
                        text: r.try_get("text")?,
                        at: r.try_get("at")?,
                    })
                },
            )
            .await?;
        let slots = self
            .rows(
                "SELECT slot, value, evidence_message_id, updated_at FROM slots WHERE lead_id = ?",
                id,
                |r| {
                    let raw: String = r.try_get("value")?;
                    let value = serde_json::from_str(&raw)
                        .map_err(|e| super::Error::Corrupt(format!("slot value {raw:?}: {e}")))?;
                    let slot = SlotValue {
                        value,
                        evidence_message_id: r.try_get("evidence_message_id")?,
                        updated_at: r.try_get("updated_at")?,
                    };
                    Ok((r.try_get("slot")?, slot))
                },
            )
            .await?
            .into_iter()
            .collect::<BTreeMap<String, SlotValue>>();
        let evidence = self
            .rows(
                "SELECT kind, key, matched, quote, message_id, at FROM evidence WHERE lead_id = ? ORDER BY id",
                id,
                |r| {
                    Ok(EvidenceRow {
                        kind: parse(r.try_get("kind")?)?,
                        key: r.try_get("key")?,
                        matched: r.try_get("matched")?,
                        quote: r.try_get("quote")?,
                        message_id: r.try_get("message_id")?,
                        at: r.try_get("at")?,
                    })
                },
            )
            .await?;
        let scores = self
            .rows(
                "SELECT message_id, fit, intent, tier, score, stage, next_action, reason, at
                 FROM scores WHERE lead_id = ? ORDER BY id",
                id,
                |r| {
                    Ok(ScoreRow {
                        message_id: r.try_get("message_id")?,
                        fit: parse(r.try_get("fit")?)?,
                        intent: parse(r.try_get("intent")?)?,
                        tier: parse(r.try_get("tier")?)?,
                        score: r.try_get("score")?,
                        stage: parse(r.try_get("stage")?)?,
                        next_action: r.try_get("next_action")?,
                        reason: r.try_get("reason")?,
                        at: r.try_get("at")?,
                    })
                },
            )
            .await?;
        let stages = self
            .rows(
                "SELECT from_stage, to_stage, reason, at FROM stage_changes WHERE lead_id = ? ORDER BY id",
                id,
                |r| {
                    Ok(StageChange {
                        from: parse(r.try_get("from_stage")?)?,
                        to: parse(r.try_get("to_stage")?)?,
                        reason: r.try_get("reason")?,
                        at: r.try_get("at")?,
                    })
                },
            )
            .await?;
        let turns = self
            .rows(
                "SELECT turn, inbound_id, reply_id, asked_slot, action, guard, prompt_tokens,
                        completion_tokens, cost_usd, latency_ms
                 FROM turns WHERE lead_id = ? ORDER BY turn",
                id,
                |r| {
                    Ok(TurnRow {
                        turn: r.try_get("turn")?,
                        inbound_id: r.try_get("inbound_id")?,
                        reply_id: r.try_get("reply_id")?,
                        asked_slot: r.try_get("asked_slot")?,
                        action: r.try_get("action")?,
                        guard: r.try_get("guard")?,
                        usage: Usage {
                            prompt_tokens: r.try_get::<i64, _>("prompt_tokens")? as u32,
                            completion_tokens: r.try_get::<i64, _>("completion_tokens")? as u32,
                        },
                        cost_usd: r.try_get("cost_usd")?,
                        latency_ms: r.try_get("latency_ms")?,
                    })
                },
            )
            .await?;
        Ok(Memory {
            lead,
            messages,
            slots,
            evidence,
            scores,
            stages,
            turns,
        })
    }

    /// Persists a whole turn atomically; returns the reply's message id.
    pub async fn commit_turn(&self, c: &TurnCommit) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let reply_id: i64 = sqlx::query(
            "INSERT INTO messages (lead_id, direction, text, at) VALUES (?, 'out', ?, ?) RETURNING id",
        )
        .bind(&c.lead_id)
        .bind(&c.reply)
        .bind(c.at)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        for (slot, value) in &c.slots {
            sqlx::query(
                "INSERT INTO slots (lead_id, slot, value, evidence_message_id, updated_at) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (lead_id, slot) DO UPDATE SET value = excluded.value,
                   evidence_message_id = excluded.evidence_message_id, updated_at = excluded.updated_at",
            )
            .bind(&c.lead_id)
            .bind(slot)
            .bind(value.to_string())
            .bind(c.inbound_id)
            .bind(c.at)
            .execute(&mut *tx)
            .await?;
        }
        for e in &c.evidence {
            sqlx::query(
                "INSERT INTO evidence (lead_id, kind, key, matched, quote, message_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&c.lead_id)
            .bind(e.kind.as_str())
            .bind(&e.key)
            .bind(e.matched)
            .bind(&e.quote)
            .bind(e.message_id)
            .bind(e.at)
            .execute(&mut *tx)
            .await?;
        }
        let s = &c.score;
        sqlx::query(
            "INSERT INTO scores (lead_id, message_id, fit, intent, tier, score, stage, next_action, reason, at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.lead_id)
        .bind(s.message_id)
        .bind(s.fit.as_str())
        .bind(s.intent.as_str())
        .bind(s.tier.as_str())
        .bind(s.score)
        .bind(s.stage.as_str())
        .bind(&s.next_action)
        .bind(&s.reason)
        .bind(s.at)
        .execute(&mut *tx)
        .await?;
        if let Some(change) = &c.stage_change {
            sqlx::query(
                "INSERT INTO stage_changes (lead_id, from_stage, to_stage, reason, at) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&c.lead_id)
            .bind(change.from.as_str())
            .bind(change.to.as_str())
            .bind(&change.reason)
            .bind(change.at)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE leads SET stage = ? WHERE id = ?")
                .bind(change.to.as_str())
                .bind(&c.lead_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO turns (lead_id, turn, inbound_id, reply_id, asked_slot, action, guard,
                                prompt_tokens, completion_tokens, cost_usd, latency_ms, at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.lead_id)
        .bind(c.turn)
        .bind(c.inbound_id)
        .bind(reply_id)
        .bind(&c.asked_slot)
        .bind(&c.action)
        .bind(&c.guard)
        .bind(c.usage.prompt_tokens as i64)
        .bind(c.usage.completion_tokens as i64)
        .bind(c.cost_usd)
        .bind(c.latency_ms)
        .bind(c.at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE leads SET updated_at = ? WHERE id = ?")
            .bind(c.at)
            .bind(&c.lead_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(reply_id)
    }
}
