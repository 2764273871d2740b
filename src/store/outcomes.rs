//! Outcomes: what really happened to a lead after the bot (booked, showed,
//! won, lost, paid), and the rows the calibration report compares with what
//! the rubric predicted.
//!
//! Recording an outcome is one transaction: the row; for a closed sale (won,
//! paid) the lead's stage moved to `closed`; and the lead's pending follow-ups
//! cancelled — whatever the closer reports, the lead is in human hands now.

use super::{parse, Error, Result, Store};
use crate::lead::{LeadOutcome, OutcomeSource, Stage, Tier};
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeSet;

/// An outcome to record.
#[derive(Debug, Clone)]
pub struct NewOutcome<'a> {
    /// The lead's exact id.
    pub lead_id: &'a str,
    pub outcome: LeadOutcome,
    /// The deal's value in `currency`; must be a number ≥ 0.
    pub value: Option<f64>,
    /// The offer's currency when recorded (a later config change does not
    /// re-denominate old deals).
    pub currency: &'a str,
    pub note: Option<&'a str>,
    pub source: OutcomeSource,
}

/// A recorded outcome, as `setter leads show` lists them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeRow {
    pub outcome: LeadOutcome,
    pub value: Option<f64>,
    pub currency: Option<String>,
    pub note: Option<String>,
    pub source: OutcomeSource,
    pub at: i64,
}

/// What recording an outcome changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeRecorded {
    /// The lead's stage afterwards (`closed` after won or paid).
    pub stage: Stage,
    /// Whether this outcome moved the stage.
    pub stage_changed: bool,
    /// Pending follow-ups cancelled by it.
    pub cancelled_followups: u64,
}

/// One lead with outcomes, as the calibration report reads it: the score the
/// bot had given when the first outcome came in, the signals that counted
/// in it, and every outcome reported.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationSample {
    pub lead_id: String,
    pub tier: Tier,
    pub score: i64,
    pub signals: BTreeSet<String>,
    pub outcomes: Vec<LeadOutcome>,
}

impl Store {
    /// Records an outcome (see the module docs). A lead that does not exist
    /// is [`Error::LeadNotFound`]; a negative or non-finite value is
    /// [`Error::BadOutcomeValue`].
    pub async fn record_outcome(&self, o: &NewOutcome<'_>, now: i64) -> Result<OutcomeRecorded> {
        if let Some(v) = o.value.filter(|v| !v.is_finite() || *v < 0.0) {
            return Err(Error::BadOutcomeValue(v));
        }
        let mut tx = self.write_tx().await?;
        let from: String = sqlx::query_scalar("SELECT stage FROM leads WHERE id = ?")
            .bind(o.lead_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| Error::LeadNotFound(o.lead_id.into()))?;
        let from: Stage = parse(&from)?;
        sqlx::query(
            "INSERT INTO outcomes (lead_id, outcome, value, currency, note, source, at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(o.lead_id)
        .bind(o.outcome.as_str())
        .bind(o.value)
        .bind(o.value.map(|_| o.currency))
        .bind(o.note)
        .bind(o.source.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let closes = o.outcome.closes_the_sale() && from != Stage::Closed;
        if closes {
            let why = format!("outcome {} reported ({})", o.outcome, o.source);
            super::leads::stage_change_in(&mut tx, o.lead_id, from, Stage::Closed, &why, now)
                .await?;
        }
        let cancelled = super::jobs::cancel_pending_jobs(
            &mut tx,
            o.lead_id,
            crate::lead::JobReason::Outcome,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(OutcomeRecorded {
            stage: if closes { Stage::Closed } else { from },
            stage_changed: closes,
            cancelled_followups: cancelled,
        })
    }

    /// A lead's outcomes, oldest first.
    pub async fn outcomes(&self, lead_id: &str) -> Result<Vec<OutcomeRow>> {
        sqlx::query(
            "SELECT outcome, value, currency, note, source, at FROM outcomes
             WHERE lead_id = ? ORDER BY id",
        )
        .bind(lead_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(OutcomeRow {
                outcome: parse(r.try_get("outcome")?)?,
                value: r.try_get("value")?,
                currency: r.try_get("currency")?,
                note: r.try_get("note")?,
                source: parse(r.try_get("source")?)?,
                at: r.try_get("at")?,
            })
        })
        .collect()
    }

    /// Every lead with at least one outcome and one score, by id. The score
    /// is the newest one recorded at or before the lead's first outcome (what
    /// the bot predicted, not what it learned afterwards), else the lead's
    /// first. Its signals are the stored ones; a score from before they were
    /// stored falls back to the keyword signals in the lead's evidence so far.
    pub async fn calibration_samples(&self) -> Result<Vec<CalibrationSample>> {
        let rows = sqlx::query(
            "WITH firsts AS (SELECT lead_id, MIN(at) AS first_at FROM outcomes GROUP BY lead_id),
             picked AS (
               SELECT f.lead_id, COALESCE(
                 (SELECT id FROM scores s WHERE s.lead_id = f.lead_id AND s.at <= f.first_at
                  ORDER BY id DESC LIMIT 1),
                 (SELECT MIN(id) FROM scores s WHERE s.lead_id = f.lead_id)) AS score_id
               FROM firsts f)
             SELECT p.lead_id, s.tier, s.score,
               COALESCE(s.signals,
                 (SELECT json_group_array(e.key) FROM evidence e WHERE e.lead_id = p.lead_id
                    AND e.kind = 'signal' AND e.matched = 1 AND e.at <= s.at)) AS signals,
               (SELECT json_group_array(o.outcome) FROM outcomes o WHERE o.lead_id = p.lead_id) AS outcomes
             FROM picked p JOIN scores s ON s.id = p.score_id
             ORDER BY p.lead_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let outcomes: Vec<String> = json_list(r.try_get("outcomes")?)?;
                Ok(CalibrationSample {
                    lead_id: r.try_get("lead_id")?,
                    tier: parse(r.try_get("tier")?)?,
                    score: r.try_get("score")?,
                    signals: json_list(r.try_get("signals")?)?.into_iter().collect(),
                    outcomes: outcomes.iter().map(|o| parse(o)).collect::<Result<_>>()?,
                })
            })
            .collect()
    }
}

/// A JSON array of names, as stored or built by `json_group_array`.
pub(super) fn json_list(raw: &str) -> Result<Vec<String>> {
    serde_json::from_str(raw).map_err(|e| Error::Corrupt(format!("name list {raw:?}: {e}")))
}
