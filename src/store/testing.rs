//! Helpers for the store's own tests: a message in, a plausible turn out.

use super::{Batch, Lead, NewLead, ScoreRow, Store, TurnCommit};
use crate::lead::{Level, Stage, Tier};
use crate::llm::Usage;

/// Accepts one text message for `lead`; returns its id (panics on a duplicate).
pub(crate) async fn accept_text(
    store: &Store,
    lead: &Lead,
    text: &str,
    external_id: Option<&str>,
    at: i64,
) -> i64 {
    let batch = Batch::message(
        NewLead::of(lead),
        external_id.map(str::to_string),
        text.into(),
        at,
    );
    let accepted = store.accept(&batch, at).await.unwrap();
    assert_eq!(accepted.messages, 1, "{text:?} was a duplicate");
    sqlx::query_scalar("SELECT MAX(id) FROM messages WHERE lead_id = ?")
        .bind(&lead.id)
        .fetch_one(&store.pool)
        .await
        .unwrap()
}

/// A turn answering `inbound` with "bot reply {turn}", having seen nothing newer.
pub(crate) fn sample_commit(lead: &Lead, turn: i64, inbound: i64, at: i64) -> TurnCommit {
    TurnCommit {
        lead_id: lead.id.clone(),
        turn,
        inbound_id: inbound,
        seen_latest_inbound: inbound,
        reply: Some(format!("bot reply {turn}")),
        via_outbox: lead.channel.has_sender(),
        channel: lead.channel,
        slots: vec![],
        evidence: vec![],
        score: Some(ScoreRow {
            message_id: Some(inbound),
            fit: Level::Medium,
            intent: Level::Low,
            tier: Tier::Cold,
            score: turn,
            stage: Stage::Engaged,
            next_action: "nurture".into(),
            reason: format!("score {turn}"),
            signals: vec![],
            at,
        }),
        stage_change: None,
        asked_slot: None,
        action: "ask".into(),
        guard: None,
        usage: Usage::default(),
        cost_usd: 0.0,
        latency_ms: 1,
        at,
        now: at,
        followups: vec![],
        opt_out: false,
        payment_link_sent: false,
    }
}
