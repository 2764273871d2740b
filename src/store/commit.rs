//! The one transaction that persists a whole turn, and its reply's outbox row.
//!
//! Everything the turn produced (reply, slots, evidence, score, stage, usage)
//! lands at once, or nothing does. The transaction first re-checks what the
//! turn read: if another turn already answered these messages (a second
//! process, a redelivered job) or the lead wrote again meanwhile, the turn is
//! *superseded* — nothing is stored, and the lead's pending messages are
//! answered afresh by the next turn. If a human took the conversation during
//! the turn, the turn is stored without its reply: scored, never sent.

use super::turns::{EvidenceRow, ScoreRow, StageChange};
use super::{Result, Store};
use crate::llm::Usage;
use sqlx::{Sqlite, Transaction};

/// What one turn produced, persisted together.
#[derive(Debug, Clone)]
pub struct TurnCommit {
    pub lead_id: String,
    pub turn: i64,
    /// The newest lead message this turn answered.
    pub inbound_id: i64,
    /// The newest lead message stored when the turn read its memory.
    pub seen_latest_inbound: i64,
    /// `None`: the turn only scored (e.g. the lead is paused).
    pub reply: Option<String>,
    /// Whether a sender delivers the reply (WhatsApp, Instagram, Messenger);
    /// the terminal and web chat hand it back to the caller instead.
    pub via_outbox: bool,
    pub channel: crate::lead::Channel,
    pub slots: Vec<(String, serde_json::Value)>,
    /// New evidence; each row names its message.
    pub evidence: Vec<EvidenceRow>,
    /// `None` for an instant opener: its reply is stored first and its
    /// messages are scored afterwards ([`Store::commit_scoring`]).
    pub score: Option<ScoreRow>,
    pub stage_change: Option<StageChange>,
    pub asked_slot: Option<String>,
    pub action: String,
    pub guard: Option<String>,
    pub usage: Usage,
    pub cost_usd: f64,
    pub latency_ms: i64,
    /// The turn's time (the newest message's), stored on its rows.
    pub at: i64,
    /// The wall clock at commit: a pause is checked against it.
    pub now: i64,
    /// The follow-up ladder to (re)start if the reply is stored.
    pub followups: Vec<super::PlannedStep>,
    /// The lead asked to stop: record it and cancel follow-ups for good.
    pub opt_out: bool,
    /// The reply carries the payment link (close in the DM): the lead's
    /// `payment_link_sent_at` is set, if the reply is stored.
    pub payment_link_sent: bool,
}

/// Whether a turn was stored.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnSaved {
    Saved {
        /// `None` when a human had taken over by commit time.
        reply_id: Option<i64>,
        outbox_id: Option<i64>,
    },
    /// Nothing stored; see [`Stale`].
    Superseded(Stale),
}

/// Why a turn was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    /// The lead wrote again while the turn ran: answer the newer state.
    NewerMessage,
    /// Another turn answered these messages first.
    AlreadyAnswered,
}

impl Store {
    /// Persists a whole turn atomically (see the module docs).
    pub async fn commit_turn(&self, c: &TurnCommit) -> Result<TurnSaved> {
        let mut tx = self.write_tx().await?;
        if let Some(stale) = stale(&mut tx, c).await? {
            return Ok(TurnSaved::Superseded(stale));
        }
        let paused: Option<i64> =
            sqlx::query_scalar("SELECT paused_until FROM leads WHERE id = ? AND paused_until > ?")
                .bind(&c.lead_id)
                .bind(c.now)
                .fetch_optional(&mut *tx)
                .await?
                .flatten();
        let reply = c.reply.as_deref().filter(|_| paused.is_none());
        let reply_id = match reply {
            Some(text) => Some(insert_reply(&mut tx, c, text).await?),
            None => None,
        };
        let outbox_id = match reply_id {
            Some(id) if c.via_outbox => Some(insert_outbox(&mut tx, c, id).await?),
            _ => None,
        };
        insert_results(&mut tx, c).await?;
        if c.opt_out {
            sqlx::query("UPDATE leads SET opted_out_at = COALESCE(opted_out_at, ?) WHERE id = ?")
                .bind(c.now)
                .bind(&c.lead_id)
                .execute(&mut *tx)
                .await?;
            super::jobs::cancel_pending_jobs(
                &mut tx,
                &c.lead_id,
                crate::lead::JobReason::OptedOut,
                c.now,
            )
            .await?;
        } else if reply_id.is_some() && !c.followups.is_empty() {
            super::jobs::schedule(&mut tx, &c.lead_id, c.turn, &c.followups, c.now).await?;
        }
        if reply_id.is_some() && c.payment_link_sent {
            // The first time counts: "the lead has had the link since …".
            sqlx::query(
                "UPDATE leads SET payment_link_sent_at = COALESCE(payment_link_sent_at, ?) WHERE id = ?",
            )
            .bind(c.now)
            .bind(&c.lead_id)
            .execute(&mut *tx)
            .await?;
        }
        let inserted = insert_turn(&mut tx, c, reply_id).await;
        if let Err(super::Error::Sql(sqlx::Error::Database(e))) = &inserted {
            if e.is_unique_violation() {
                return Ok(TurnSaved::Superseded(Stale::AlreadyAnswered));
            }
        }
        inserted?;
        tx.commit().await?;
        Ok(TurnSaved::Saved {
            reply_id,
            outbox_id,
        })
    }
}

/// Re-checks, under the write lock, that the turn still answers the newest state.
async fn stale(tx: &mut Transaction<'_, Sqlite>, c: &TurnCommit) -> Result<Option<Stale>> {
    let row: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COALESCE(MAX(inbound_id), 0) FROM turns WHERE lead_id = ?1),
                (SELECT COALESCE(MAX(id), 0) FROM messages WHERE lead_id = ?1 AND direction = 'in'
                 AND kind NOT IN ('reaction', 'system'))",
    )
    .bind(&c.lead_id)
    .fetch_one(&mut **tx)
    .await?;
    let (answered, latest) = row;
    Ok(if answered >= c.inbound_id {
        Some(Stale::AlreadyAnswered)
    } else if latest > c.seen_latest_inbound {
        Some(Stale::NewerMessage)
    } else {
        None
    })
}

async fn insert_reply(tx: &mut Transaction<'_, Sqlite>, c: &TurnCommit, text: &str) -> Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO messages (lead_id, direction, author, text, at) VALUES (?, 'out', 'bot', ?, ?) RETURNING id",
    )
    .bind(&c.lead_id)
    .bind(text)
    .bind(c.at)
    .fetch_one(&mut **tx)
    .await?;
    super::leads::wrote_to(tx, &c.lead_id, c.now).await?;
    Ok(id)
}

/// The reply's outbox row; its key makes the same turn's reply one row.
async fn insert_outbox(
    tx: &mut Transaction<'_, Sqlite>,
    c: &TurnCommit,
    message_id: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO outbox (lead_id, message_id, channel, idempotency_key, state, next_attempt_at,
                             created_at, updated_at)
         VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING id",
    )
    .bind(&c.lead_id)
    .bind(message_id)
    .bind(c.channel.as_str())
    .bind(format!("reply:{}:{}", c.lead_id, c.turn))
    .bind(c.now)
    .bind(c.now)
    .bind(c.now)
    .fetch_one(&mut **tx)
    .await?)
}

/// Slots, evidence, the score and the stage change.
pub(super) async fn insert_results(tx: &mut Transaction<'_, Sqlite>, c: &TurnCommit) -> Result<()> {
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
        .execute(&mut **tx)
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
        .execute(&mut **tx)
        .await?;
    }
    if let Some(s) = &c.score {
        insert_score(tx, &c.lead_id, s).await?;
    }
    if let Some(change) = &c.stage_change {
        sqlx::query(
            "INSERT INTO stage_changes (lead_id, from_stage, to_stage, reason, at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&c.lead_id)
        .bind(change.from.as_str())
        .bind(change.to.as_str())
        .bind(&change.reason)
        .bind(change.at)
        .execute(&mut **tx)
        .await?;
        sqlx::query("UPDATE leads SET stage = ? WHERE id = ?")
            .bind(change.to.as_str())
            .bind(&c.lead_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// One row of score history.
async fn insert_score(tx: &mut Transaction<'_, Sqlite>, lead_id: &str, s: &ScoreRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO scores (lead_id, message_id, fit, intent, tier, score, stage, next_action, reason,
                             signals, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(lead_id)
    .bind(s.message_id)
    .bind(s.fit.as_str())
    .bind(s.intent.as_str())
    .bind(s.tier.as_str())
    .bind(s.score)
    .bind(s.stage.as_str())
    .bind(&s.next_action)
    .bind(&s.reason)
    .bind(serde_json::to_string(&s.signals).unwrap_or_else(|_| "[]".into()))
    .bind(s.at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_turn(
    tx: &mut Transaction<'_, Sqlite>,
    c: &TurnCommit,
    reply_id: Option<i64>,
) -> Result<()> {
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
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE leads SET updated_at = ? WHERE id = ?")
        .bind(c.now)
        .bind(&c.lead_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
#[path = "commit_tests.rs"]
mod tests;
