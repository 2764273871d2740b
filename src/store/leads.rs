//! Lead rows: create on first contact, look up by id or id prefix, list.

use super::{parse, Error, Lead, NewLead, Result, Store};
use crate::lead::{Stage, Tier};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

/// Filters for `setter leads list`.
#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    pub tier: Option<Tier>,
    pub stage: Option<Stage>,
}

/// One line of `setter leads list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadSummary {
    #[serde(flatten)]
    pub lead: Lead,
    pub messages: i64,
    pub tier: Option<Tier>,
    pub score: Option<i64>,
    pub last_at: Option<i64>,
}

const LEAD_COLUMNS: &str =
    "id, channel, external_id, name, source, first_message, stage, created_at, \
     account_id, paused_until, paused_reason, last_inbound_at, opted_out_at, payment_link_sent_at";

fn lead_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Lead> {
    Ok(Lead {
        id: row.try_get("id")?,
        channel: parse(row.try_get("channel")?)?,
        external_id: row.try_get("external_id")?,
        name: row.try_get("name")?,
        source: row.try_get("source")?,
        first_message: row.try_get("first_message")?,
        stage: parse(row.try_get("stage")?)?,
        created_at: row.try_get("created_at")?,
        account_id: row.try_get("account_id")?,
        paused_until: row.try_get("paused_until")?,
        paused_reason: row.try_get("paused_reason")?,
        last_inbound_at: row.try_get("last_inbound_at")?,
        opted_out_at: row.try_get("opted_out_at")?,
        payment_link_sent_at: row.try_get("payment_link_sent_at")?,
    })
}

impl Store {
    /// The lead for this channel identity, created on first contact.
    pub async fn lead_for(&self, new: &NewLead, now: i64) -> Result<Lead> {
        let mut conn = self.pool.acquire().await?;
        upsert_lead(&mut conn, new, now).await
    }

    /// A lead by its exact id: one index lookup (turns and the API use this;
    /// people typing prefixes use [`Store::lead`]).
    pub async fn lead_by_id(&self, id: &str) -> Result<Lead> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| Error::LeadNotFound(id.into()))?;
        lead_from_row(&row)
    }

    /// A human takes the conversation until `until`: the bot sends nothing,
    /// and replies already waiting in the outbox are cancelled.
    pub async fn pause(&self, lead_id: &str, until: i64, reason: &str, now: i64) -> Result<()> {
        let mut tx = self.write_tx().await?;
        pause_in(&mut tx, lead_id, until, reason, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The bot may answer again.
    pub async fn resume(&self, lead_id: &str, now: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE leads SET paused_until = NULL, paused_reason = NULL, updated_at = ? WHERE id = ?",
        )
        .bind(now)
        .bind(lead_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::LeadNotFound(lead_id.into()));
        }
        Ok(())
    }

    /// A lead by full id or unique id prefix (ids are long; people type prefixes).
    pub async fn lead(&self, id_or_prefix: &str) -> Result<Lead> {
        let pattern = format!("{}%", id_or_prefix.replace(['%', '_'], ""));
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE id = ? OR id LIKE ? ORDER BY id = ? DESC LIMIT 2"
        )))
        .bind(id_or_prefix)
        .bind(&pattern)
        .bind(id_or_prefix)
        .fetch_all(&self.pool)
        .await?;
        match rows.as_slice() {
            [] => Err(Error::LeadNotFound(id_or_prefix.into())),
            [one] => lead_from_row(one),
            [first, _] if first.try_get::<String, _>("id")? == id_or_prefix => lead_from_row(first),
            _ => {
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM leads WHERE id LIKE ?")
                    .bind(&pattern)
                    .fetch_one(&self.pool)
                    .await?;
                Err(Error::AmbiguousLead {
                    prefix: id_or_prefix.into(),
                    count: count as usize,
                })
            }
        }
    }

    /// Leads with messages no turn has answered yet, oldest first: what a
    /// restarted server answers before anything else.
    pub async fn leads_with_pending(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT l.id FROM leads l
             WHERE EXISTS (SELECT 1 FROM messages m WHERE m.lead_id = l.id AND m.direction = 'in'
                           AND m.kind NOT IN ('reaction', 'system')
                           AND m.id > COALESCE((SELECT MAX(inbound_id) FROM turns t WHERE t.lead_id = l.id), 0))
             ORDER BY l.last_inbound_at",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Leads, most recently active first, with their latest tier and score.
    pub async fn leads(&self, filter: &LeadFilter) -> Result<Vec<LeadSummary>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT l.{}, s.tier AS tier, s.score AS score,
                    (SELECT COUNT(*) FROM messages m WHERE m.lead_id = l.id) AS n_messages,
                    (SELECT MAX(at) FROM messages m WHERE m.lead_id = l.id) AS last_at
             FROM leads l
             LEFT JOIN scores s ON s.id = (SELECT MAX(id) FROM scores WHERE lead_id = l.id)
             WHERE (?1 IS NULL OR s.tier = ?1) AND (?2 IS NULL OR l.stage = ?2)
             ORDER BY COALESCE(last_at, l.created_at) DESC, l.id DESC",
            LEAD_COLUMNS.replace(", ", ", l.")
        )))
        .bind(filter.tier.map(Tier::as_str))
        .bind(filter.stage.map(Stage::as_str))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let tier: Option<String> = row.try_get("tier")?;
                Ok(LeadSummary {
                    lead: lead_from_row(row)?,
                    messages: row.try_get("n_messages")?,
                    tier: tier.as_deref().map(parse).transpose()?,
                    score: row.try_get("score")?,
                    last_at: row.try_get("last_at")?,
                })
            })
            .collect()
    }
}

/// Creates the lead on first contact (or returns it), on any connection, so
/// a webhook batch can do it inside its transaction. A later contact fills a
/// name, source or account that the first one lacked.
pub(super) async fn upsert_lead(
    conn: &mut sqlx::SqliteConnection,
    new: &NewLead,
    now: i64,
) -> Result<Lead> {
    let id = uuid::Uuid::now_v7().to_string();
    let row = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO leads (id, channel, external_id, name, source, account_id, stage, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'new', ?, ?)
         ON CONFLICT (channel, external_id) DO UPDATE SET
           name = COALESCE(leads.name, excluded.name),
           source = COALESCE(leads.source, excluded.source),
           account_id = COALESCE(leads.account_id, excluded.account_id)
         RETURNING {LEAD_COLUMNS}"
    )))
    .bind(&id)
    .bind(new.channel.as_str())
    .bind(&new.external_id)
    .bind(&new.name)
    .bind(&new.source)
    .bind(&new.account_id)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    lead_from_row(&row)
}

/// Pauses a lead inside a transaction (an echo in a webhook batch, the API).
pub(super) async fn pause_in(
    conn: &mut sqlx::SqliteConnection,
    lead_id: &str,
    until: i64,
    reason: &str,
    now: i64,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE leads SET paused_until = MAX(COALESCE(paused_until, 0), ?), paused_reason = ?, updated_at = ?
         WHERE id = ?",
    )
    .bind(until)
    .bind(reason)
    .bind(now)
    .bind(lead_id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::LeadNotFound(lead_id.into()));
    }
    super::jobs::cancel_pending_jobs(conn, lead_id, crate::lead::JobReason::Takeover, now).await?;
    super::outbox::cancel_pending(conn, lead_id, "a human took over the conversation", now).await
}

/// Records that the bot wrote to the lead at `now` (the minimum gap between
/// bot messages counts from here).
pub(super) async fn wrote_to(
    conn: &mut sqlx::SqliteConnection,
    lead_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE leads SET last_bot_at = MAX(COALESCE(last_bot_at, 0), ?) WHERE id = ?")
        .bind(now)
        .bind(lead_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Moves a lead to `to` inside a transaction, with the change and its reason
/// in the lead's stage history.
pub(super) async fn stage_change_in(
    conn: &mut sqlx::SqliteConnection,
    lead_id: &str,
    from: Stage,
    to: Stage,
    reason: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO stage_changes (lead_id, from_stage, to_stage, reason, at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(lead_id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(reason)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE leads SET stage = ?, updated_at = ? WHERE id = ?")
        .bind(to.as_str())
        .bind(now)
        .bind(lead_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
