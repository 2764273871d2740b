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
    "id, channel, external_id, name, source, first_message, stage, created_at";

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
    })
}

impl Store {
    /// The lead for this channel identity, created on first contact.
    pub async fn lead_for(&self, new: &NewLead, now: i64) -> Result<Lead> {
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO leads (id, channel, external_id, name, source, stage, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, 'new', ?, ?)
             ON CONFLICT (channel, external_id) DO NOTHING",
        )
        .bind(&id)
        .bind(new.channel.as_str())
        .bind(&new.external_id)
        .bind(&new.name)
        .bind(&new.source)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE channel = ? AND external_id = ?"
        )))
        .bind(new.channel.as_str())
        .bind(&new.external_id)
        .fetch_one(&self.pool)
        .await?;
        lead_from_row(&row)
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
