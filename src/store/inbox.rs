//! Accept: the first step of the pipeline, and the only way a message gets in.
//!
//! One transaction stores the raw webhook body and every event parsed from it
//! (lead messages, echoes of what the business sent, delivery statuses),
//! each deduplicated on the platform's id. The webhook is answered 200 only
//! after it commits, so a crash before that makes the platform redeliver, and
//! a crash after it loses nothing: the stored messages stay *pending* until a
//! turn answers them. `setter chat` and `setter eval` enter here too, with a
//! batch of one message.

use super::leads::{pause_in, upsert_lead};
use super::{Author, NewLead, Result, Store};
use serde::Serialize;
use sqlx::Row;

/// Everything one delivery carries, accepted all-or-nothing.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// The body as received; `None` for the terminal and evals.
    pub raw: Option<RawWebhook>,
    pub events: Vec<Event>,
}

/// A webhook body before parsing.
#[derive(Debug, Clone)]
pub struct RawWebhook {
    /// The envelope's `object` (`whatsapp_business_account`, `page`, …).
    pub object: String,
    pub body: Vec<u8>,
    /// Parts of the body the parser did not recognise, described for the logs.
    pub unparsed: Vec<String>,
}

/// One thing that happened on a channel.
#[derive(Debug, Clone)]
pub enum Event {
    Inbound(InboundEvent),
    /// A lead seen without a message (re-entered the thread from an ad or a
    /// link): created or updated, e.g. with its source.
    Contact(NewLead),
    Echo(EchoEvent),
    Status(StatusEvent),
}

impl Batch {
    /// One lead message and nothing else (the terminal, evals, web chat).
    pub fn message(lead: NewLead, external_id: Option<String>, text: String, at: i64) -> Batch {
        let event = InboundEvent {
            lead,
            external_id,
            kind: "text".into(),
            text,
            at,
        };
        Batch {
            raw: None,
            events: vec![Event::Inbound(event)],
        }
    }
}

/// A message from a lead.
#[derive(Debug, Clone)]
pub struct InboundEvent {
    pub lead: NewLead,
    /// The platform's message id (`wamid…`, `mid…`): a redelivery is a duplicate.
    pub external_id: Option<String>,
    /// `text`, `image`, `audio`, `location`, … (see `channels::Kind`).
    pub kind: String,
    /// What the turn reads: the text, a button's title, a caption, or a
    /// bracketed description of non-text content.
    pub text: String,
    pub at: i64,
}

/// A message the business sent to a lead that Setter did not send: a human
/// answered from the inbox, so the bot pauses for that lead.
#[derive(Debug, Clone)]
pub struct EchoEvent {
    pub lead: NewLead,
    pub platform_id: String,
    pub text: String,
    pub at: i64,
    /// Until when the bot stays silent if this echo is a human's.
    pub pause_until: i64,
}

/// A delivery report for a message Setter sent.
#[derive(Debug, Clone)]
pub struct StatusEvent {
    pub platform_id: String,
    /// Setter's idempotency key echoed back (WhatsApp
    /// `biz_opaque_callback_data`): it confirms a send whose result a crash
    /// lost, so the reply is not sent twice.
    pub key: Option<String>,
    pub status: Delivery,
    pub at: i64,
    pub error_code: Option<i64>,
    pub error_text: Option<String>,
}

/// How far a sent message got. Ordered: a status never moves backwards
/// (Meta does not guarantee the order of status webhooks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Sent => "sent",
            Delivery::Delivered => "delivered",
            Delivery::Read => "read",
            Delivery::Failed => "failed",
        }
    }
}

/// What a batch changed, for the queue and the metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accepted {
    pub webhook_id: Option<i64>,
    /// Leads with a new message to answer, in batch order, each once.
    pub leads: Vec<String>,
    /// New lead messages stored.
    pub messages: usize,
    /// Their ids, in batch order.
    pub message_ids: Vec<i64>,
    /// Events seen before (platform redeliveries).
    pub duplicates: usize,
    /// Leads a human took over in this batch.
    pub takeovers: Vec<String>,
    pub statuses: usize,
}

impl Store {
    /// Stores a batch in one transaction; see the module docs.
    pub async fn accept(&self, batch: &Batch, now: i64) -> Result<Accepted> {
        let mut accepted = self.accept_group(&[batch], now).await?;
        Ok(accepted.pop().unwrap_or_default())
    }

    /// Stores several batches in one transaction (group commit: one fsync
    /// for many webhooks under load), each with its own result. All or none.
    pub async fn accept_group(&self, batches: &[&Batch], now: i64) -> Result<Vec<Accepted>> {
        let mut tx = self.write_tx().await?;
        let mut results = Vec::with_capacity(batches.len());
        for batch in batches {
            results.push(accept_in(&mut tx, batch, now).await?);
        }
        tx.commit().await?;
        Ok(results)
    }
}

async fn accept_in(tx: &mut sqlx::SqliteConnection, batch: &Batch, now: i64) -> Result<Accepted> {
    let mut out = Accepted::default();
    if let Some(raw) = &batch.raw {
        let unparsed = (!raw.unparsed.is_empty()).then(|| raw.unparsed.join("; "));
        let id = sqlx::query(
            "INSERT INTO webhooks (object, body, received_at, unparsed) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(&raw.object)
        .bind(&raw.body)
        .bind(now)
        .bind(unparsed)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        out.webhook_id = Some(id);
    }
    for event in &batch.events {
        match event {
            Event::Inbound(m) => inbound(tx, m, now, &mut out).await?,
            Event::Echo(e) => echo(tx, e, now, &mut out).await?,
            Event::Contact(lead) => {
                upsert_lead(tx, lead, now).await?;
            }
            Event::Status(s) => status(tx, s, out.webhook_id, &mut out).await?,
        }
    }
    Ok(out)
}

async fn inbound(
    tx: &mut sqlx::SqliteConnection,
    m: &InboundEvent,
    now: i64,
    out: &mut Accepted,
) -> Result<()> {
    let lead = upsert_lead(tx, &m.lead, now).await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO messages (lead_id, direction, author, kind, text, external_id, at)
         VALUES (?, 'in', 'lead', ?, ?, ?, ?)
         ON CONFLICT (external_id) DO NOTHING RETURNING id",
    )
    .bind(&lead.id)
    .bind(&m.kind)
    .bind(&m.text)
    .bind(&m.external_id)
    .bind(m.at)
    .fetch_optional(&mut *tx)
    .await?;
    if id.is_none() {
        out.duplicates += 1;
        return Ok(());
    }
    sqlx::query(
        "UPDATE leads SET first_message = COALESCE(first_message, ?),
           last_inbound_at = MAX(COALESCE(last_inbound_at, 0), ?), updated_at = ?
         WHERE id = ?",
    )
    .bind(&m.text)
    .bind(m.at)
    .bind(now)
    .bind(&lead.id)
    .execute(&mut *tx)
    .await?;
    // The lead answered: the rest of the ladder is moot until the next reply.
    super::jobs::cancel_pending_jobs(tx, &lead.id, crate::lead::JobReason::LeadWrote, now).await?;
    out.messages += 1;
    out.message_ids.extend(id);
    if !out.leads.contains(&lead.id) {
        out.leads.push(lead.id);
    }
    Ok(())
}

async fn echo(
    tx: &mut sqlx::SqliteConnection,
    e: &EchoEvent,
    now: i64,
    out: &mut Accepted,
) -> Result<()> {
    // Setter's own sends carry their platform id on the bot's message, so
    // their echoes conflict here and change nothing.
    let lead = upsert_lead(tx, &e.lead, now).await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO messages (lead_id, direction, author, kind, text, external_id, at)
         VALUES (?, 'out', ?, 'text', ?, ?, ?)
         ON CONFLICT (external_id) DO NOTHING RETURNING id",
    )
    .bind(&lead.id)
    .bind(Author::Human.as_str())
    .bind(&e.text)
    .bind(&e.platform_id)
    .bind(e.at)
    .fetch_optional(&mut *tx)
    .await?;
    if id.is_none() {
        out.duplicates += 1;
        return Ok(());
    }
    pause_in(
        tx,
        &lead.id,
        e.pause_until,
        "a human replied from the business inbox",
        now,
    )
    .await?;
    out.takeovers.push(lead.id);
    Ok(())
}

async fn status(
    tx: &mut sqlx::SqliteConnection,
    s: &StatusEvent,
    webhook_id: Option<i64>,
    out: &mut Accepted,
) -> Result<()> {
    let new = sqlx::query(
        "INSERT INTO statuses (platform_id, status, at, error_code, error_text, webhook_id)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(&s.platform_id)
    .bind(s.status.as_str())
    .bind(s.at)
    .bind(s.error_code)
    .bind(&s.error_text)
    .bind(webhook_id)
    .execute(&mut *tx)
    .await?;
    if new.rows_affected() == 0 {
        out.duplicates += 1;
        return Ok(());
    }
    out.statuses += 1;
    super::outbox::apply_status(tx, s).await
}
