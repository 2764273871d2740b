//! The instant opener in `serve`: the first reply is sent before extraction
//! has read the message, so a slow model does not slow it down; extraction
//! then scores the message against the same turn.

use crate::harness::{fixture, Serve};
use serde_json::json;
use std::time::{Duration, Instant};

/// The model takes 2 s per call; the web chat's first reply comes back long
/// before that, and the message is scored afterwards.
#[tokio::test]
async fn the_first_web_chat_reply_does_not_wait_for_the_model() {
    let s = Serve::start(|c| c.persona.instant_opener = true).await;
    s.stub.script.lock().unwrap().delay_ms = 2_000;
    let started = Instant::now();
    let r = s
        .http
        .post(format!("{}/webchat/messages", s.url))
        .json(&json!({"sender": "visitor-9", "message": "Hola! Tengo una clínica dental"}))
        .send()
        .await
        .unwrap();
    let waited = started.elapsed();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body[0]["text"],
        "¡Hola! Gracias por escribirnos. ¿Qué te hizo escribirnos hoy?"
    );
    assert!(waited < Duration::from_millis(1_500), "{waited:?}");
    assert_eq!(s.count("SELECT COUNT(*) FROM scores").await, 0, "not yet");
    s.eventually("the message scored", async |s| {
        s.count("SELECT COUNT(*) FROM scores").await == 1
    })
    .await;
    assert_eq!(s.stub.requests().len(), 1, "one call: the extraction");
    assert_eq!(s.count("SELECT COUNT(*) FROM turns").await, 1);
}

/// On WhatsApp the opener is in the outbox and sent while the extraction
/// runs.
#[tokio::test]
async fn the_opener_is_sent_while_the_message_is_extracted() {
    let s = Serve::start(|c| c.persona.instant_opener = true).await;
    s.stub.script.lock().unwrap().delay_ms = 2_000;
    assert_eq!(
        s.webhook(&fixture("whatsapp_text.json", "op1"))
            .await
            .status(),
        200
    );
    s.eventually("the opener sent", async |s| !s.graph.calls().is_empty())
        .await;
    assert_eq!(s.count("SELECT COUNT(*) FROM scores").await, 0);
    s.eventually("the message scored", async |s| {
        s.count("SELECT COUNT(*) FROM scores").await == 1
    })
    .await;
    assert_eq!(s.graph.calls().len(), 1);
}
