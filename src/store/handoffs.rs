//! Handoffs and their deliveries. Creating a handoff is one transaction:
//! the record (once per lead — a second is a typed `AlreadyHandedOff`, not a
//! SQL error), a pending delivery per target, the lead's stage moved to
//! `handed_off`, and its follow-ups cancelled. Deliveries are claimed with a
//! lease like outbox rows, so a receiver down for an hour loses nothing and
//! a crash never delivers under two ids.

use super::{Result, Store};
use crate::lead::Stage;
use serde::Serialize;
use sqlx::Row;

/// What to record.
#[derive(Debug, Clone)]
pub struct NewHandoff<'a> {
    pub lead_id: &'a str,
    pub trigger: &'a str,
    pub reason: &'a str,
    pub packet: &'a serde_json::Value,
    pub markdown: &'a str,
    /// `webhook` and/or `file`.
    pub targets: &'a [&'a str],
}

/// The result of asking for a handoff.
#[derive(Debug, Clone, PartialEq)]
pub enum Handoff {
    Created(String),
    /// The lead was handed off before (and not reset): nothing new.
    AlreadyHandedOff(String),
}

/// A lead's handoff as it was frozen: what its receivers get.
#[derive(Debug, Clone, PartialEq)]
pub struct FrozenHandoff {
    pub id: String,
    /// The packet's JSON.
    pub packet: String,
    pub markdown: String,
}

/// A handoff with its deliveries, for `setter handoff list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandoffRow {
    pub id: String,
    pub lead_id: String,
    pub trigger: String,
    pub reason: String,
    pub created_at: i64,
    pub deliveries: Vec<DeliveryRow>,
}

/// One target's delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub handoff_id: String,
    pub target: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// Filled when claimed: what to deliver.
    #[serde(skip)]
    pub packet: String,
    #[serde(skip)]
    pub markdown: String,
}

fn delivery_from(r: &sqlx::sqlite::SqliteRow) -> Result<DeliveryRow> {
    Ok(DeliveryRow {
        id: r.try_get("id")?,
        handoff_id: r.try_get("handoff_id")?,
        target: r.try_get("target")?,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        packet: r.try_get("packet")?,
        markdown: r.try_get("markdown")?,
    })
}

const DELIVERY_COLUMNS: &str = "d.id, d.handoff_id, d.target, d.state, d.attempts, d.last_error,
    h.packet, h.markdown";

impl Store {
    /// Records a handoff (see the module docs).
    pub async fn create_handoff(&self, h: &NewHandoff<'_>, now: i64) -> Result<Handoff> {
        let mut tx = self.write_tx().await?;
        let existing: Option<String> =
            sqlx::query_scalar("SELECT id FROM handoffs WHERE lead_id = ? AND reset_at IS NULL")
                .bind(h.lead_id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(id) = existing {
            return Ok(Handoff::AlreadyHandedOff(id));
        }
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO handoffs (id, lead_id, trigger, reason, packet, markdown, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(h.lead_id)
        .bind(h.trigger)
        .bind(h.reason)
        .bind(h.packet.to_string())
        .bind(h.markdown)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for target in h.targets {
            sqlx::query(
                "INSERT INTO deliveries (handoff_id, target, state, next_attempt_at) VALUES (?, ?, 'pending', ?)",
            )
            .bind(&id)
            .bind(target)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let from: String = sqlx::query_scalar("SELECT stage FROM leads WHERE id = ?")
            .bind(h.lead_id)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO stage_changes (lead_id, from_stage, to_stage, reason, at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(h.lead_id)
        .bind(&from)
        .bind(Stage::HandedOff.as_str())
        .bind(format!("handed off: {}", h.reason))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE leads SET stage = ?, updated_at = ? WHERE id = ?")
            .bind(Stage::HandedOff.as_str())
            .bind(now)
            .bind(h.lead_id)
            .execute(&mut *tx)
            .await?;
        super::jobs::cancel_pending_jobs(
            &mut tx,
            h.lead_id,
            crate::lead::JobReason::HandedOff,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Handoff::Created(id))
    }

    /// The lead's handoff (not reset), if any: checked before the packet is
    /// built, so a second trigger costs no model call, and printed by
    /// `setter handoff ID` as it was delivered.
    pub async fn current_handoff(&self, lead_id: &str) -> Result<Option<FrozenHandoff>> {
        let row = sqlx::query(
            "SELECT id, packet, markdown FROM handoffs WHERE lead_id = ? AND reset_at IS NULL",
        )
        .bind(lead_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(FrozenHandoff {
                id: r.try_get("id")?,
                packet: r.try_get("packet")?,
                markdown: r.try_get("markdown")?,
            })
        })
        .transpose()
    }

    /// Claims due deliveries (or ones whose claim lapsed) for `lease_ms`.
    pub async fn claim_deliveries(
        &self,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>> {
        let mut tx = self.write_tx().await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM deliveries WHERE state IN ('pending', 'sending') AND next_attempt_at <= ?
             ORDER BY next_attempt_at LIMIT ?",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, next_attempt_at = ?
             WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind(now + lease_ms)
        .bind(super::id_list(&ids))
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN handoffs h ON h.id = d.handoff_id
             WHERE d.id IN (SELECT value FROM json_each(?))"
        )))
        .bind(super::id_list(&ids))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(delivery_from)
        .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(super::in_claim_order(&ids, rows, |r| r.id))
    }

    /// Records a delivery's result: delivered, retry at `retry_at`, or dead.
    pub async fn finish_delivery(
        &self,
        id: i64,
        outcome: Result<(), (Option<i64>, String)>,
        now: i64,
    ) -> Result<()> {
        let (state, next, error) = match outcome {
            Ok(()) => ("delivered", now, None),
            Err((Some(retry_at), e)) => ("pending", retry_at, Some(e)),
            Err((None, e)) => ("dead", now, Some(e)),
        };
        sqlx::query(
            "UPDATE deliveries SET state = ?, next_attempt_at = ?, last_error = ?,
               delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END
             WHERE id = ?",
        )
        .bind(state)
        .bind(next)
        .bind(error)
        .bind(state)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Makes a handoff's dead deliveries pending again (`setter handoff retry`).
    pub async fn retry_handoff(&self, id_or_prefix: &str, now: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = ?, attempts = 0
             WHERE state = 'dead' AND handoff_id IN (SELECT id FROM handoffs WHERE id LIKE ? || '%')",
        )
        .bind(now)
        .bind(id_or_prefix.replace(['%', '_'], ""))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Every handoff, newest first, with its deliveries.
    pub async fn handoffs(&self) -> Result<Vec<HandoffRow>> {
        let rows = sqlx::query(
            "SELECT id, lead_id, trigger, reason, created_at FROM handoffs ORDER BY created_at DESC, id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get("id")?;
            let deliveries = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN handoffs h ON h.id = d.handoff_id
                 WHERE d.handoff_id = ? ORDER BY d.id"
            )))
            .bind(&id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(delivery_from)
            .collect::<Result<Vec<_>>>()?;
            out.push(HandoffRow {
                id,
                lead_id: r.try_get("lead_id")?,
                trigger: r.try_get("trigger")?,
                reason: r.try_get("reason")?,
                created_at: r.try_get("created_at")?,
                deliveries,
            });
        }
        Ok(out)
    }
}
