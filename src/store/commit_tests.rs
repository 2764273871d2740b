//! The turn commit: superseded turns, pauses, outbox claims and confirmations.

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

#[tokio::test]
async fn the_payment_link_is_recorded_once_and_only_when_the_reply_is_stored() {
    let (_dir, store, lead) = setup(Channel::Whatsapp).await;
    let sent_at = |store: Store, id: String| async move {
        store.lead_by_id(&id).await.unwrap().payment_link_sent_at
    };
    // A human has the conversation: the reply (and its link) is not stored.
    let m = accept_text(&store, &lead, "how much?", None, 10).await;
    store.pause(&lead.id, 1_000, "human", 10).await.unwrap();
    let mut commit = sample_commit(&lead, 1, m, 10);
    commit.payment_link_sent = true;
    store.commit_turn(&commit).await.unwrap();
    assert_eq!(sent_at(store.clone(), lead.id.clone()).await, None);
    // Sent: recorded at commit time; a second send keeps the first time.
    for (turn, now) in [(2, 2_000), (3, 3_000)] {
        let m = accept_text(&store, &lead, "link?", None, now).await;
        let mut commit = sample_commit(&lead, turn, m, now);
        commit.payment_link_sent = true;
        store.commit_turn(&commit).await.unwrap();
    }
    assert_eq!(sent_at(store.clone(), lead.id.clone()).await, Some(2_000));
}
