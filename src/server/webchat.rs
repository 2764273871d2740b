//! `POST /webchat/messages`: the REST shape chat widgets already speak
//! (`{sender, message}` → `[{recipient_id, text}]`), through the same pipeline
//! as every channel. The request waits up to `[serve] webchat_wait_ms` for the
//! turn; after that it answers `[]` and the reply stays stored.

use super::AppState;
use crate::lead::Channel;
use crate::store::{Batch, NewLead};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Longest message accepted from a widget, in characters.
const MAX_MESSAGE_CHARS: usize = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WebchatMessage {
    /// The conversation's id (one lead per sender).
    sender: String,
    message: String,
    /// A client-generated id: a retried POST is not answered twice.
    #[serde(default)]
    message_id: Option<String>,
    /// Page URL, UTM fields…: kept as the lead's source on first contact.
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub(super) struct BotMessage {
    recipient_id: String,
    text: String,
}

fn bad_request(why: &str) -> Response {
    let body = serde_json::json!({ "error": why });
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

pub(super) async fn message(
    State(state): State<AppState>,
    body: Result<Json<WebchatMessage>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(msg) = match body {
        Ok(json) => json,
        Err(e) => {
            return bad_request(&format!(
                "expected {{\"sender\", \"message\"}}: {}",
                e.body_text()
            ))
        }
    };
    let config = &state.loaded.config;
    if !config.channels.webchat.enabled {
        return (
            StatusCode::NOT_FOUND,
            "web chat is off ([channels.webchat] enabled = false)\n",
        )
            .into_response();
    }
    if let Err(why) = check(&msg) {
        return bad_request(&why);
    }
    let clock = state.pipeline.agent().clock().clone();
    let lead = NewLead {
        channel: Channel::Webchat,
        external_id: msg.sender.clone(),
        name: None,
        source: msg.metadata.as_ref().map(|m| format!("web chat {m}")),
        account_id: None,
    };
    let key = msg
        .message_id
        .map(|id| format!("webchat:{}:{id}", msg.sender));
    let batch = Batch::message(lead, key, msg.message, clock.now_ms());
    // Subscribe first: the turn may finish before `accept` returns.
    let mut replies = state.pipeline.subscribe();
    let accepted = match state.pipeline.accept(batch).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "could not store a web chat message");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let (Some(lead_id), Some(&message_id)) = (accepted.leads.first(), accepted.message_ids.first())
    else {
        return Json(Vec::<BotMessage>::new()).into_response(); // a retried message_id
    };
    let wait = Duration::from_millis(config.serve.webchat_wait_ms);
    let reply = reply_to(&mut replies, lead_id, message_id, wait).await;
    let out: Vec<BotMessage> = reply
        .into_iter()
        .map(|text| BotMessage {
            recipient_id: msg.sender.clone(),
            text,
        })
        .collect();
    Json(out).into_response()
}

/// What is wrong with a web chat message, in words the caller can act on.
fn check(msg: &WebchatMessage) -> Result<(), String> {
    if msg.sender.trim().is_empty() || msg.sender.len() > 200 {
        return Err("\"sender\" must be 1–200 characters".into());
    }
    if msg.message.trim().is_empty() {
        return Err("\"message\" must not be empty".into());
    }
    if msg.message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(format!(
            "\"message\" is over {MAX_MESSAGE_CHARS} characters"
        ));
    }
    Ok(())
}

/// The reply to `message_id`, if its turn answers within `wait`. A burst is
/// answered once, on the request of its newest message: the others get none.
async fn reply_to(
    replies: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<crate::pipeline::Replied>>,
    lead_id: &str,
    message_id: i64,
    wait: Duration,
) -> Option<String> {
    use tokio::sync::broadcast::error::RecvError;
    let answered = async {
        loop {
            match replies.recv().await {
                Ok(r) if r.lead_id == lead_id && r.answered_up_to >= message_id => {
                    return r.reply.clone().filter(|_| r.answered_up_to == message_id)
                }
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    };
    tokio::time::timeout(wait, answered).await.ok().flatten()
}
