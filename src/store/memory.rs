//! The reads behind a lead's [`Memory`](super::Memory), one function per
//! table, all on one connection (see `Store::memory` and
//! `Store::turn_memory`). A `limit` of `None` reads everything; a turn
//! bounds what grows with the conversation.

use super::turns::{message_from, Counts};
use super::{parse, EvidenceRow, Message, Result, ScoreRow, SlotValue, StageChange, TurnRow};
use crate::llm::Usage;
use sqlx::{Row, SqliteConnection};
use std::collections::BTreeMap;

/// SQLite reads a negative LIMIT as no limit.
fn limit(n: Option<usize>) -> i64 {
    n.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX))
}

/// Totals, counted in SQL so they are right whatever else was loaded.
pub(super) async fn counts(c: &mut SqliteConnection, id: &str) -> Result<Counts> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM messages WHERE lead_id = ?1),
                (SELECT COUNT(*) FROM messages WHERE lead_id = ?1 AND direction = 'in'
                   AND kind NOT IN ('reaction', 'system')),
                (SELECT COUNT(*) FROM turns WHERE lead_id = ?1),
                (SELECT COALESCE(MAX(id), 0) FROM messages WHERE lead_id = ?1 AND direction = 'in'
                   AND kind NOT IN ('reaction', 'system'))",
    )
    .bind(id)
    .fetch_one(&mut *c)
    .await?;
    let count = |i: usize| -> Result<usize> { Ok(row.try_get::<i64, _>(i)? as usize) };
    Ok(Counts {
        messages: count(0)?,
        inbound: count(1)?,
        turns: count(2)?,
        latest_inbound: row.try_get::<i64, _>(3)?,
    })
}

/// The newest `window` messages (all with `None`), oldest first.
pub(super) async fn messages(
    c: &mut SqliteConnection,
    id: &str,
    window: Option<usize>,
) -> Result<Vec<Message>> {
    sqlx::query(
        "SELECT id, direction, author, text, at FROM
           (SELECT id, direction, author, text, at FROM messages WHERE lead_id = ?1 ORDER BY id DESC LIMIT ?2)
         ORDER BY id",
    )
    .bind(id)
    .bind(limit(window))
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(message_from)
    .collect()
}

/// Lead messages above the newest one a turn answered, oldest first.
pub(super) async fn pending(c: &mut SqliteConnection, id: &str, most: i64) -> Result<Vec<Message>> {
    sqlx::query(
        "SELECT id, direction, author, text, at FROM messages
         WHERE lead_id = ?1 AND direction = 'in' AND kind NOT IN ('reaction', 'system')
           AND id > COALESCE((SELECT MAX(inbound_id) FROM turns WHERE lead_id = ?1), 0)
         ORDER BY id LIMIT ?2",
    )
    .bind(id)
    .bind(most)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(message_from)
    .collect()
}

pub(super) async fn slots(
    c: &mut SqliteConnection,
    id: &str,
) -> Result<BTreeMap<String, SlotValue>> {
    sqlx::query("SELECT slot, value, evidence_message_id, updated_at FROM slots WHERE lead_id = ?1")
        .bind(id)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| {
            let raw: String = r.try_get("value")?;
            let value = serde_json::from_str(&raw)
                .map_err(|e| super::Error::Corrupt(format!("slot value {raw:?}: {e}")))?;
            let slot = SlotValue {
                value,
                evidence_message_id: r.try_get("evidence_message_id")?,
                updated_at: r.try_get("updated_at")?,
            };
            Ok((r.try_get("slot")?, slot))
        })
        .collect()
}

/// All evidence, oldest first (scoring weighs all of it, with decay).
pub(super) async fn evidence(c: &mut SqliteConnection, id: &str) -> Result<Vec<EvidenceRow>> {
    sqlx::query(
        "SELECT kind, key, matched, quote, message_id, at FROM evidence WHERE lead_id = ?1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        Ok(EvidenceRow {
            kind: parse(r.try_get("kind")?)?,
            key: r.try_get("key")?,
            matched: r.try_get("matched")?,
            quote: r.try_get("quote")?,
            message_id: r.try_get("message_id")?,
            at: r.try_get("at")?,
        })
    })
    .collect()
}

/// The newest `newest` scores (all with `None`), oldest first.
pub(super) async fn scores(
    c: &mut SqliteConnection,
    id: &str,
    newest: Option<usize>,
) -> Result<Vec<ScoreRow>> {
    sqlx::query(
        "SELECT * FROM
           (SELECT id, message_id, fit, intent, tier, score, stage, next_action, reason, signals, at
            FROM scores WHERE lead_id = ?1 ORDER BY id DESC LIMIT ?2)
         ORDER BY id",
    )
    .bind(id)
    .bind(limit(newest))
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        Ok(ScoreRow {
            message_id: r.try_get("message_id")?,
            fit: parse(r.try_get("fit")?)?,
            intent: parse(r.try_get("intent")?)?,
            tier: parse(r.try_get("tier")?)?,
            score: r.try_get("score")?,
            stage: parse(r.try_get("stage")?)?,
            next_action: r.try_get("next_action")?,
            reason: r.try_get("reason")?,
            signals: match r.try_get::<Option<String>, _>("signals")? {
                Some(raw) => super::outcomes::json_list(&raw)?,
                None => Vec::new(),
            },
            at: r.try_get("at")?,
        })
    })
    .collect()
}

/// Stage changes are few (one per stage at most in practice): all of them.
pub(super) async fn stages(c: &mut SqliteConnection, id: &str) -> Result<Vec<StageChange>> {
    sqlx::query(
        "SELECT from_stage, to_stage, reason, at FROM stage_changes WHERE lead_id = ?1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        Ok(StageChange {
            from: parse(r.try_get("from_stage")?)?,
            to: parse(r.try_get("to_stage")?)?,
            reason: r.try_get("reason")?,
            at: r.try_get("at")?,
        })
    })
    .collect()
}

/// Every turn, or (`for_turn`) what cadence reads: the turns that asked a
/// slot and the newest — turns that asked nothing earlier change nothing.
pub(super) async fn turns(
    c: &mut SqliteConnection,
    id: &str,
    for_turn: bool,
) -> Result<Vec<TurnRow>> {
    sqlx::query(
        "SELECT turn, inbound_id, reply_id, asked_slot, action, guard, prompt_tokens,
                completion_tokens, cost_usd, latency_ms
         FROM turns
         WHERE lead_id = ?1
           AND (?2 = 0 OR asked_slot IS NOT NULL
                OR turn = (SELECT MAX(turn) FROM turns WHERE lead_id = ?1))
         ORDER BY turn",
    )
    .bind(id)
    .bind(for_turn)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
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
    })
    .collect()
}
