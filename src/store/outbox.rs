//! The outbox: messages waiting to leave, and what became of them.
//!
//! A reply's row is written in the same transaction as its turn (see
//! `commit.rs`), so a crash can neither lose a reply nor write one twice.
//! Senders *claim* due rows: a claim moves the row to `sending` with a lease
//! (`next_attempt_at`), and a row whose lease ran out — its sender died — is
//! claimable again. Only the oldest unfinished row of a lead is claimable, so
//! a lead's messages leave in order; a paused lead's rows are never claimed.
//! A PostgreSQL backend claims the same rows with `FOR UPDATE SKIP LOCKED`.

use super::inbox::{Delivery, StatusEvent};
use super::{parse, Result, Store};
use crate::lead::Channel;
use serde::Serialize;
use sqlx::Row;

/// A claimed row, with what a sender needs to deliver it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub lead_id: String,
    pub channel: Channel,
    /// The lead's id on the channel (wa_id, PSID, IGSID).
    pub recipient: String,
    /// The business account to send from, if the lead named one.
    pub account_id: Option<String>,
    pub text: String,
    pub idempotency_key: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
    pub state: String,
    pub platform_id: Option<String>,
    pub error_code: Option<i64>,
    pub error_text: Option<String>,
    /// Not plain text: the send body's type-specific part (a WhatsApp template).
    pub payload: Option<serde_json::Value>,
}

/// Why a send did not succeed, as recorded on the row.
#[derive(Debug, Clone, PartialEq)]
pub struct SendFailure {
    /// The platform's error code (`131047`, `190`, …), or the HTTP status.
    pub code: Option<i64>,
    pub text: String,
}

const ROW_COLUMNS: &str = "o.id, o.lead_id, o.channel, l.external_id AS recipient, l.account_id,
    m.text, o.idempotency_key, o.attempts, o.state, o.platform_id, o.error_code, o.error_text, o.payload";

fn row_from(r: &sqlx::sqlite::SqliteRow) -> Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.try_get("id")?,
        lead_id: r.try_get("lead_id")?,
        channel: parse(r.try_get("channel")?)?,
        recipient: r.try_get("recipient")?,
        account_id: r.try_get("account_id")?,
        text: r.try_get("text")?,
        idempotency_key: r.try_get("idempotency_key")?,
        attempts: r.try_get("attempts")?,
        state: r.try_get("state")?,
        platform_id: r.try_get("platform_id")?,
        error_code: r.try_get("error_code")?,
        error_text: r.try_get("error_text")?,
        payload: r
            .try_get::<Option<String>, _>("payload")?
            .map(|p| {
                serde_json::from_str(&p)
                    .map_err(|e| super::Error::Corrupt(format!("outbox payload: {e}")))
            })
            .transpose()?,
    })
}

impl Store {
    /// Claims up to `limit` due rows on `channels` for `lease_ms`: at most one
    /// per lead (its oldest unfinished row), never for a paused lead.
    pub async fn claim_due(
        &self,
        channels: &[Channel],
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxRow>> {
        let mut tx = self.write_tx().await?;
        let names: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT o.id FROM outbox o JOIN leads l ON l.id = o.lead_id
             WHERE o.state IN ('pending', 'sending') AND o.next_attempt_at <= ?1
               AND EXISTS (SELECT 1 FROM json_each(?2) WHERE value = o.channel)
               AND COALESCE(l.paused_until, 0) <= ?1
               AND o.id = (SELECT MIN(id) FROM outbox p
                           WHERE p.lead_id = o.lead_id AND p.state IN ('pending', 'sending'))
             ORDER BY o.next_attempt_at, o.id LIMIT ?3",
        )
        .bind(now)
        .bind(serde_json::to_string(&names).unwrap_or_default())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1,
               next_attempt_at = ?, updated_at = ? WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind(now + lease_ms)
        .bind(now)
        .bind(super::id_list(&ids))
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ROW_COLUMNS} FROM outbox o JOIN leads l ON l.id = o.lead_id
             JOIN messages m ON m.id = o.message_id WHERE o.id IN (SELECT value FROM json_each(?))"
        )))
        .bind(super::id_list(&ids))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(row_from)
        .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(super::in_claim_order(&ids, rows, |r| r.id))
    }

    /// The platform accepted the message. Its id goes on the bot's message
    /// too, so the platform's echo of it is recognised as Setter's own.
    pub async fn mark_sent(&self, id: i64, platform_id: Option<&str>, now: i64) -> Result<()> {
        let mut tx = self.write_tx().await?;
        // A status webhook may have got here first: never move a row back.
        let message_id: i64 = sqlx::query_scalar(
            "UPDATE outbox SET state = CASE WHEN state IN ('pending', 'sending') THEN 'sent' ELSE state END,
               platform_id = COALESCE(platform_id, ?), error_code = NULL, error_text = NULL,
               updated_at = ? WHERE id = ? RETURNING message_id",
        )
        .bind(platform_id)
        .bind(now)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(pid) = platform_id {
            sqlx::query("UPDATE OR IGNORE messages SET external_id = ? WHERE id = ?")
                .bind(pid)
                .bind(message_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A transient failure: try again at `at`, keeping the error for the operator.
    pub async fn retry_later(&self, id: i64, at: i64, why: &SendFailure, now: i64) -> Result<()> {
        self.set_state(id, "pending", at, why, now).await
    }

    /// A permanent failure (window closed, bad token, unknown user): recorded,
    /// never retried. A 131047 also marks the lead's window closed.
    pub async fn mark_failed(&self, id: i64, why: &SendFailure, now: i64) -> Result<()> {
        self.set_state(id, "failed", now, why, now).await?;
        if why.code == Some(WINDOW_CLOSED) {
            sqlx::query(
                "UPDATE leads SET window_closed_at = ? WHERE id = (SELECT lead_id FROM outbox WHERE id = ?)",
            )
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    async fn set_state(
        &self,
        id: i64,
        state: &str,
        next: i64,
        why: &SendFailure,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = ?, next_attempt_at = ?, error_code = ?, error_text = ?, updated_at = ?
             WHERE id = ?",
        )
        .bind(state)
        .bind(next)
        .bind(why.code)
        .bind(&why.text)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// At start-up, the process that claimed `sending` rows is gone (one
    /// `setter serve` per SQLite database): they become claimable at `at`,
    /// which leaves the platform time to confirm a send that did go out (a
    /// status carrying the row's key, see `apply_status`).
    pub async fn release_claims(&self, at: i64, now: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'pending', next_attempt_at = ?, updated_at = ? WHERE state = 'sending'",
        )
        .bind(at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// A lead's outbox rows, oldest first (for `leads show` and tests).
    pub async fn outbox(&self, lead_id: &str) -> Result<Vec<OutboxRow>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ROW_COLUMNS} FROM outbox o JOIN leads l ON l.id = o.lead_id
             JOIN messages m ON m.id = o.message_id WHERE o.lead_id = ? ORDER BY o.id"
        )))
        .bind(lead_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(row_from)
        .collect()
    }

    /// The earliest time a row becomes due (pending, or a lapsed lease).
    pub async fn next_due(&self, channels: &[Channel]) -> Result<Option<i64>> {
        let names: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
        Ok(sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM outbox
             WHERE state IN ('pending', 'sending')
               AND EXISTS (SELECT 1 FROM json_each(?1) WHERE value = outbox.channel)",
        )
        .bind(serde_json::to_string(&names).unwrap_or_default())
        .fetch_one(&self.pool)
        .await?)
    }
}

/// WhatsApp's "re-engagement message" error: the 24 h window is closed.
const WINDOW_CLOSED: i64 = 131_047;

/// Cancels a lead's unsent rows (a human took over).
pub(super) async fn cancel_pending(
    conn: &mut sqlx::SqliteConnection,
    lead_id: &str,
    why: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'cancelled', error_text = ?, updated_at = ?
         WHERE lead_id = ? AND state = 'pending'",
    )
    .bind(why)
    .bind(now)
    .bind(lead_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Applies a delivery report monotonically: sent < delivered < read; a
/// failure counts only before delivery (statuses arrive in any order). A
/// report carrying Setter's key also confirms a row whose send a crash cut
/// off (still `pending` or `sending`), so it is not sent again.
pub(super) async fn apply_status(conn: &mut sqlx::SqliteConnection, s: &StatusEvent) -> Result<()> {
    const RANK: &str = "CASE state WHEN 'pending' THEN 0 WHEN 'sending' THEN 0 WHEN 'sent' THEN 1
                        WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE 9 END";
    let rank = match s.status {
        Delivery::Sent => 1,
        Delivery::Delivered => 2,
        Delivery::Read => 3,
        Delivery::Failed => 2, // only over sending or sent
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE outbox SET state = ?1, error_code = COALESCE(?2, error_code),
           error_text = COALESCE(?3, error_text), updated_at = ?4,
           platform_id = COALESCE(platform_id, ?5)
         WHERE (platform_id = ?5 OR (?6 IS NOT NULL AND idempotency_key = ?6)) AND {RANK} < ?7"
    )))
    .bind(s.status.as_str())
    .bind(s.error_code)
    .bind(&s.error_text)
    .bind(s.at)
    .bind(&s.platform_id)
    .bind(&s.key)
    .bind(rank)
    .execute(&mut *conn)
    .await?;
    if s.error_code == Some(WINDOW_CLOSED) {
        sqlx::query(
            "UPDATE leads SET window_closed_at = ?
             WHERE id = (SELECT lead_id FROM outbox WHERE platform_id = ? LIMIT 1)",
        )
        .bind(s.at)
        .bind(&s.platform_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
