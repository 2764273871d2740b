//! Follow-up jobs: scheduled in a turn's transaction, cancelled by the lead's
//! next message or a takeover, claimed when due, finished as sent (with the
//! message and its outbox row, in one transaction) or skipped with a reason.
//! Claims carry a lease, so a worker that dies between claim and send leaves
//! a job that is claimed again — and the outbox key keeps it sent once.
//! (PostgreSQL: the same claim with `FOR UPDATE SKIP LOCKED`.)

use super::{parse, Result, Store};
use crate::lead::{Channel, JobReason, JobState, Stage};
use serde::Serialize;
use sqlx::Row;

/// A ladder step to schedule with a turn's reply.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedStep {
    /// 1-based position in the ladder.
    pub step: i64,
    pub kind: String,
    pub due_at: i64,
}

/// A job as the scheduler and `setter followups list` see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRow {
    pub id: i64,
    pub lead_id: String,
    pub channel: Channel,
    pub epoch: i64,
    pub step: i64,
    pub kind: String,
    pub due_at: i64,
    pub state: JobState,
    /// Why the step was cancelled or skipped, in words and as a code.
    pub reason: Option<String>,
    pub reason_code: Option<JobReason>,
    pub idempotency_key: String,
    /// When the step's message was written (sent steps).
    pub sent_at: Option<i64>,
    /// Whether it went out as an approved WhatsApp template.
    pub as_template: bool,
    /// The lead's state when the job was read: what the step's decision needs.
    pub lead_name: Option<String>,
    pub stage: Stage,
    pub last_inbound_at: Option<i64>,
    pub paused_until: Option<i64>,
    /// When WhatsApp last answered 131047 (window closed) for this lead.
    pub window_closed_at: Option<i64>,
    /// When the bot last wrote to the lead (reply or follow-up).
    pub last_bot_at: Option<i64>,
    /// The lead's id on the channel (a WhatsApp number tells the time zone).
    pub recipient: String,
}

const JOB_COLUMNS: &str = "j.id, j.lead_id, l.channel, j.epoch, j.step, j.kind, j.due_at, j.state,
    j.reason, j.reason_code, j.idempotency_key, l.name AS lead_name, l.stage, l.last_inbound_at,
    l.paused_until, l.window_closed_at, l.last_bot_at, l.external_id AS recipient, m.at AS sent_at,
    EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = j.message_id AND o.payload IS NOT NULL)
        AS as_template";

/// Jobs with their lead and, once sent, their message.
const JOB_FROM: &str =
    "jobs j JOIN leads l ON l.id = j.lead_id LEFT JOIN messages m ON m.id = j.message_id";

fn job_from(r: &sqlx::sqlite::SqliteRow) -> Result<JobRow> {
    Ok(JobRow {
        id: r.try_get("id")?,
        lead_id: r.try_get("lead_id")?,
        channel: parse(r.try_get("channel")?)?,
        epoch: r.try_get("epoch")?,
        step: r.try_get("step")?,
        kind: r.try_get("kind")?,
        due_at: r.try_get("due_at")?,
        state: parse(r.try_get("state")?)?,
        reason: r.try_get("reason")?,
        reason_code: r
            .try_get::<Option<&str>, _>("reason_code")?
            .map(parse)
            .transpose()?,
        idempotency_key: r.try_get("idempotency_key")?,
        sent_at: r.try_get("sent_at")?,
        as_template: r.try_get("as_template")?,
        lead_name: r.try_get("lead_name")?,
        stage: parse(r.try_get("stage")?)?,
        last_inbound_at: r.try_get("last_inbound_at")?,
        paused_until: r.try_get("paused_until")?,
        window_closed_at: r.try_get("window_closed_at")?,
        last_bot_at: r.try_get("last_bot_at")?,
        recipient: r.try_get("recipient")?,
    })
}

impl Store {
    /// Claims up to `limit` due jobs (or jobs whose claim lapsed) for `lease_ms`.
    pub async fn claim_due_jobs(&self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<JobRow>> {
        let mut tx = self.write_tx().await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE state = 'pending' AND due_at <= ?1
             UNION ALL
             SELECT id FROM jobs WHERE state = 'claimed' AND lease_until <= ?1
             LIMIT ?2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE jobs SET state = 'claimed', attempts = attempts + 1, lease_until = ?, updated_at = ?
             WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind(now + lease_ms)
        .bind(now)
        .bind(super::id_list(&ids))
        .execute(&mut *tx)
        .await?;
        let jobs = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM {JOB_FROM}
             WHERE j.id IN (SELECT value FROM json_each(?))"
        )))
        .bind(super::id_list(&ids))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(job_from)
        .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(super::in_claim_order(&ids, jobs, |j| j.id))
    }

    /// Sends a claimed job's `text`: the bot's message, its outbox row (when a
    /// sender delivers it) and the job's state, in one transaction. `false`
    /// when the job is no longer claimed (the lead wrote meanwhile).
    pub async fn finish_job_sent(
        &self,
        job: &JobRow,
        text: &str,
        payload: Option<&serde_json::Value>,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM jobs WHERE id = ?")
            .bind(job.id)
            .fetch_optional(&mut *tx)
            .await?;
        if state.as_deref() != Some("claimed") {
            return Ok(false);
        }
        let message_id: i64 = sqlx::query_scalar(
            "INSERT INTO messages (lead_id, direction, author, kind, text, at)
             VALUES (?, 'out', 'bot', 'followup', ?, ?) RETURNING id",
        )
        .bind(&job.lead_id)
        .bind(text)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        if job.channel.has_sender() {
            sqlx::query(
                "INSERT INTO outbox (lead_id, message_id, channel, idempotency_key, state, next_attempt_at,
                                     created_at, updated_at, payload)
                 VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
            )
            .bind(&job.lead_id)
            .bind(message_id)
            .bind(job.channel.as_str())
            .bind(&job.idempotency_key)
            .bind(now)
            .bind(now)
            .bind(now)
            .bind(payload.map(|p| p.to_string()))
            .execute(&mut *tx)
            .await?;
        }
        super::leads::wrote_to(&mut tx, &job.lead_id, now).await?;
        sqlx::query("UPDATE jobs SET state = 'sent', message_id = ?, updated_at = ? WHERE id = ?")
            .bind(message_id)
            .bind(now)
            .bind(job.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A claimed job that must wait (quiet hours): due again at `due_at`.
    pub async fn defer_job(&self, id: i64, due_at: i64, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET state = 'pending', due_at = ?, lease_until = NULL, updated_at = ?
             WHERE id = ? AND state = 'claimed'",
        )
        .bind(due_at)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A claimed job that must not go out, with the reason as a code and in words.
    pub async fn finish_job_skipped(
        &self,
        id: i64,
        code: JobReason,
        reason: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET state = 'skipped', reason_code = ?, reason = ?, updated_at = ?
             WHERE id = ? AND state = 'claimed'",
        )
        .bind(code.as_str())
        .bind(reason)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Cancels a lead's pending steps (the operator's `followups cancel`).
    pub async fn cancel_jobs(&self, lead_id: &str, reason: JobReason, now: i64) -> Result<u64> {
        let mut conn = self.pool.acquire().await?;
        cancel_pending_jobs(&mut conn, lead_id, reason, now).await
    }

    /// Jobs, newest first, of one lead or all.
    pub async fn jobs(&self, lead_id: Option<&str>) -> Result<Vec<JobRow>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM {JOB_FROM}
             WHERE ?1 IS NULL OR j.lead_id = ?1 ORDER BY j.due_at DESC, j.id DESC"
        )))
        .bind(lead_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(job_from)
        .collect()
    }

    /// When the next pending job is due, if any.
    pub async fn next_job_due(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(due_at) FROM jobs WHERE state = 'pending'")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

/// Replaces the lead's pending steps with a new ladder (a turn's reply).
pub(super) async fn schedule(
    conn: &mut sqlx::SqliteConnection,
    lead_id: &str,
    epoch: i64,
    steps: &[PlannedStep],
    now: i64,
) -> Result<()> {
    cancel_pending_jobs(conn, lead_id, JobReason::Restarted, now).await?;
    for s in steps {
        sqlx::query(
            "INSERT INTO jobs (lead_id, epoch, step, kind, due_at, state, idempotency_key, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(lead_id)
        .bind(epoch)
        .bind(s.step)
        .bind(&s.kind)
        .bind(s.due_at)
        .bind(format!("followup:{lead_id}:{epoch}:{}", s.step))
        .bind(now)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Cancels a lead's pending and claimed steps with `reason`.
pub(super) async fn cancel_pending_jobs(
    conn: &mut sqlx::SqliteConnection,
    lead_id: &str,
    reason: JobReason,
    now: i64,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'cancelled', reason_code = ?, reason = ?, updated_at = ?
         WHERE lead_id = ? AND state IN ('pending', 'claimed')",
    )
    .bind(reason.as_str())
    .bind(reason.describe())
    .bind(now)
    .bind(lead_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}
