//! `GET /webhooks/meta` (the verification handshake) and `POST /webhooks/meta`
//! (every WhatsApp, Instagram and Messenger event).
//!
//! POST: the signature is checked on the raw bytes before anything else (bad
//! or missing → 401, nothing stored); then the body and every event parsed
//! from it are stored in one transaction, and only then is 200 returned. A
//! body that is not JSON, or has parts Setter does not know, is stored and
//! logged and still answered 200: Meta would resend the same bytes forever.

use super::AppState;
use crate::channels::{self, signature, Context};
use crate::store::{Batch, RawWebhook};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

/// Echoes `hub.challenge` as plain text when the verify token matches.
pub(super) async fn handshake(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let param = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let ok = param("hub.mode") == "subscribe"
        && signature::token_matches(&state.verify_tokens, param("hub.verify_token"));
    if !ok {
        tracing::warn!("webhook verification refused: wrong hub.mode or hub.verify_token");
        return (StatusCode::FORBIDDEN, "verify token does not match\n").into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain")],
        param("hub.challenge").to_string(),
    )
        .into_response()
}

pub(super) async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let metrics = state.pipeline.metrics();
    let header = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if let Err(e) = signature::verify(&state.app_secrets, header, &body) {
        metrics.webhook("bad_signature");
        tracing::warn!(error = %e, bytes = body.len(), "webhook refused");
        return (StatusCode::UNAUTHORIZED, format!("{e}\n")).into_response();
    }
    let clock = state.pipeline.agent().clock().clone();
    let config = &state.loaded.config;
    let ctx = Context {
        channels: &config.channels,
        now: clock.now_ms(),
        pause_ms: config.takeover.resume_after.as_millis() as i64,
    };
    let batch = match channels::parse(&body, &ctx) {
        Ok(parsed) => Batch {
            raw: Some(RawWebhook {
                object: parsed.object,
                body: body.to_vec(),
                unparsed: parsed.unparsed,
            }),
            events: parsed.events,
        },
        Err(e) => Batch {
            raw: Some(RawWebhook {
                object: String::new(),
                body: body.to_vec(),
                unparsed: vec![e.to_string()],
            }),
            events: Vec::new(),
        },
    };
    if let Some(raw) = &batch.raw {
        for part in &raw.unparsed {
            tracing::info!(object = %raw.object, part = %part, "webhook part not used");
        }
    }
    match state.pipeline.accept(batch).await {
        Ok(accepted) => {
            metrics.webhook("accepted");
            tracing::debug!(
                messages = accepted.messages,
                duplicates = accepted.duplicates,
                statuses = accepted.statuses,
                takeovers = accepted.takeovers.len(),
                "webhook stored"
            );
            StatusCode::OK.into_response()
        }
        Err(e) => {
            // Nothing was stored: a 500 makes Meta deliver it again.
            metrics.webhook("store_failed");
            tracing::error!(error = %e, "could not store a webhook");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
