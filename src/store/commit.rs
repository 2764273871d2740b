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
            super::jobs::cancel_pending_jobs(&mut tx, &c.lead_id, "the lead opted out", c.now)
                .await?;
        } else if reply_id.is_some() && !c.followups.is_empty() {
            super::jobs::schedule(&mut tx, &c.lead_id, c.turn, &c.followups, c.now).await?;
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
    Ok(sqlx::query_scalar(
        "INSERT INTO messages (lead_id, direction, author, text, at) VALUES (?, 'out', 'bot', ?, ?) RETURNING id",
    )
    .bind(&c.lead_id)
    .bind(text)
    .bind(c.at)
    .fetch_one(&mut **tx)
    .await?)
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
        "INSERT INTO scores (lead_id, message_id, fit, intent, tier, score, stage, next_action, reason, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
mod tests {
    use super::*;
    use crate::lead::Channel;
    use crate::store::testing::{accept_text, sample_commit};
    use crate::store::{Lead, NewLead};

    async fn setup(channel: Channel) -> (tempfile::TempDir, Store, Lead) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.unwrap();
        let new = NewLead {
            channel,
            external_id: "15550001".into(),
            name: None,
            source: None,
            account_id: Some("acct".into()),
        };
        let lead = store.lead_for(&new, 0).await.unwrap();
        (dir, store, lead)
    }

    #[tokio::test]
    async fn a_turn_that_missed_a_newer_message_is_superseded_and_stores_nothing() {
        let (_dir, store, lead) = setup(Channel::Whatsapp).await;
        let first = accept_text(&store, &lead, "hi", Some("wamid.1"), 10).await;
        let commit = sample_commit(&lead, 1, first, 10);
        accept_text(&store, &lead, "also…", Some("wamid.2"), 11).await;
        assert_eq!(
            store.commit_turn(&commit).await.unwrap(),
            TurnSaved::Superseded(Stale::NewerMessage)
        );
        let memory = store.memory(&lead.id).await.unwrap();
        assert_eq!(memory.turn_count(), 0);
        assert_eq!(
            memory.pending.len(),
            2,
            "both messages still wait for a turn"
        );
        assert!(store.outbox(&lead.id).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_second_turn_on_the_same_messages_is_superseded_not_an_error() {
        let (_dir, store, lead) = setup(Channel::Whatsapp).await;
        let m = accept_text(&store, &lead, "hi", Some("wamid.1"), 10).await;
        let commit = sample_commit(&lead, 1, m, 10);
        let saved = store.commit_turn(&commit).await.unwrap();
        let TurnSaved::Saved {
            reply_id: Some(_),
            outbox_id: Some(outbox),
        } = saved
        else {
            panic!("{saved:?}");
        };
        assert_eq!(
            store.commit_turn(&commit).await.unwrap(),
            TurnSaved::Superseded(Stale::AlreadyAnswered)
        );
        let rows = store.outbox(&lead.id).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].id, outbox);
        assert_eq!(rows[0].idempotency_key, format!("reply:{}:1", lead.id));
        assert_eq!(rows[0].text, "bot reply 1");
        assert!(store.memory(&lead.id).await.unwrap().pending.is_empty());
    }

    #[tokio::test]
    async fn a_lead_paused_during_the_turn_is_scored_but_not_answered() {
        let (_dir, store, lead) = setup(Channel::Whatsapp).await;
        let m = accept_text(&store, &lead, "hi", None, 10).await;
        store.pause(&lead.id, 1_000, "test", 10).await.unwrap();
        let saved = store
            .commit_turn(&sample_commit(&lead, 1, m, 10))
            .await
            .unwrap();
        assert_eq!(
            saved,
            TurnSaved::Saved {
                reply_id: None,
                outbox_id: None
            }
        );
        let memory = store.memory(&lead.id).await.unwrap();
        assert_eq!(memory.scores.len(), 1);
        assert_eq!(memory.turns[0].reply_id, None);
        assert!(memory.pending.is_empty());
        // After the pause, a turn answers again.
        let m2 = accept_text(&store, &lead, "back", None, 2_000).await;
        let mut commit = sample_commit(&lead, 2, m2, 2_000);
        commit.now = 2_000;
        assert!(matches!(
            store.commit_turn(&commit).await.unwrap(),
            TurnSaved::Saved {
                reply_id: Some(_),
                ..
            }
        ));
    }

    #[tokio::test]
    async fn web_chat_replies_do_not_go_through_the_outbox() {
        let (_dir, store, lead) = setup(Channel::Webchat).await;
        let m = accept_text(&store, &lead, "hi", None, 10).await;
        let saved = store
            .commit_turn(&sample_commit(&lead, 1, m, 10))
            .await
            .unwrap();
        assert!(matches!(
            saved,
            TurnSaved::Saved {
                reply_id: Some(_),
                outbox_id: None
            }
        ));
    }

    #[tokio::test]
    async fn claims_keep_a_leads_order_and_skip_paused_leads() {
        let (_dir, store, lead) = setup(Channel::Whatsapp).await;
        for turn in 1..=2 {
            let m = accept_text(&store, &lead, "hi", None, turn * 10).await;
            store
                .commit_turn(&sample_commit(&lead, turn, m, turn * 10))
                .await
                .unwrap();
        }
        let wa = [Channel::Whatsapp];
        let first = store.claim_due(&wa, 100, 1_000, 10).await.unwrap();
        assert_eq!(first.len(), 1, "one row per lead at a time");
        assert_eq!(first[0].text, "bot reply 1");
        assert_eq!(first[0].recipient, "15550001");
        assert!(store
            .claim_due(&wa, 100, 1_000, 10)
            .await
            .unwrap()
            .is_empty());
        store
            .mark_sent(first[0].id, Some("wamid.out"), 101)
            .await
            .unwrap();
        store.pause(&lead.id, 10_000, "human", 102).await.unwrap();
        assert!(store
            .claim_due(&wa, 200, 1_000, 10)
            .await
            .unwrap()
            .is_empty());
        // The pause cancelled the second reply.
        let rows = store.outbox(&lead.id).await.unwrap();
        assert_eq!(rows[1].state, "cancelled");
        // A lapsed lease makes a `sending` row claimable again.
        store.resume(&lead.id, 300).await.unwrap();
        let m = accept_text(&store, &lead, "again", None, 400).await;
        store
            .commit_turn(&sample_commit(&lead, 3, m, 400))
            .await
            .unwrap();
        let claimed = store.claim_due(&wa, 400, 50, 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert!(store.claim_due(&wa, 420, 50, 10).await.unwrap().is_empty());
        let again = store.claim_due(&wa, 460, 50, 10).await.unwrap();
        assert_eq!(again[0].id, claimed[0].id);
        assert_eq!(again[0].attempts, 2);
    }

    #[tokio::test]
    async fn a_status_with_setters_key_confirms_a_send_a_crash_cut_off() {
        use crate::store::{Batch, Delivery, Event, StatusEvent};
        let (_dir, store, lead) = setup(Channel::Whatsapp).await;
        let m = accept_text(&store, &lead, "hi", None, 10).await;
        store
            .commit_turn(&sample_commit(&lead, 1, m, 10))
            .await
            .unwrap();
        let wa = [Channel::Whatsapp];
        let claimed = store.claim_due(&wa, 20, 1_000, 10).await.unwrap();
        // The process dies mid-send; the next start holds the row back…
        assert_eq!(store.release_claims(5_000, 30).await.unwrap(), 1);
        assert!(store
            .claim_due(&wa, 40, 1_000, 10)
            .await
            .unwrap()
            .is_empty());
        // …and WhatsApp's status, carrying the key, confirms it went out.
        let status = StatusEvent {
            platform_id: "wamid.confirmed".into(),
            key: Some(claimed[0].idempotency_key.clone()),
            status: Delivery::Sent,
            at: 50,
            error_code: None,
            error_text: None,
        };
        let batch = Batch {
            raw: None,
            events: vec![Event::Status(status)],
        };
        store.accept(&batch, 50).await.unwrap();
        assert!(
            store
                .claim_due(&wa, 6_000, 1_000, 10)
                .await
                .unwrap()
                .is_empty(),
            "not sent twice"
        );
        let row = &store.outbox(&lead.id).await.unwrap()[0];
        assert_eq!(
            (row.state.as_str(), row.platform_id.as_deref()),
            ("sent", Some("wamid.confirmed"))
        );
    }
}
