//! `/api/*`: what an operator's tools call. Bearer token from the variable
//! named by `[serve] api_token_env`; without it set, the API is off.

use super::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use secrecy::ExposeSecret;
use serde_json::json;
use subtle::ConstantTimeEq;

pub(super) fn error(status: StatusCode, why: &str) -> Response {
    (status, Json(json!({ "error": why }))).into_response()
}

/// Every `/api` route goes through here: without the bearer token, the
/// request never reaches its handler.
pub(super) async fn require_token(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match denied(&state, request.headers()) {
        Some(response) => response,
        None => next.run(request).await,
    }
}

/// The response to send when the caller may not use the API (`None`: go on).
fn denied(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    let Some(token) = &state.api_token else {
        let var = &state.loaded.config.serve.api_token_env;
        return Some(error(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("the API is off: set the environment variable {var} ([serve] api_token_env)"),
        ));
    };
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let ok = bool::from(token.expose_secret().as_bytes().ct_eq(given.as_bytes()));
    (!ok).then(|| error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token"))
}

/// A human takes the lead: the bot is silent until `[takeover] resume_after`
/// passes or `/resume` is called.
pub(super) async fn takeover(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let agent = state.pipeline.agent();
    let now = agent.clock().now_ms();
    let until = now + state.loaded.config.takeover.resume_after.as_millis() as i64;
    let paused = agent
        .store()
        .pause(&id, until, "taken over through the API", now);
    lead_state(paused.await, &id, Some(until))
}

/// The lead's new pause state, or why it could not be set.
fn lead_state(result: crate::store::Result<()>, id: &str, paused_until: Option<i64>) -> Response {
    match result {
        Ok(()) => Json(json!({ "lead_id": id, "paused_until": paused_until })).into_response(),
        Err(crate::store::Error::LeadNotFound(_)) => error(StatusCode::NOT_FOUND, "no such lead"),
        Err(e) => {
            tracing::error!(error = %e, lead_id = id, "changing the pause failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "database error")
        }
    }
}

/// The operator hands the lead to a closer (once; see `setter handoff send`).
pub(super) async fn handoff(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let agent = state.pipeline.agent();
    let now = agent.clock().now_ms();
    let reason = "handed off through the API";
    let result = crate::handoff::hand_off(agent.handoff_desk(), &id, "operator", reason, now).await;
    match result {
        Ok(crate::store::Handoff::Created(h)) => {
            Json(json!({ "lead_id": id, "handoff_id": h, "created": true })).into_response()
        }
        Ok(crate::store::Handoff::AlreadyHandedOff(h)) => {
            Json(json!({ "lead_id": id, "handoff_id": h, "created": false })).into_response()
        }
        Err(crate::handoff::deliver::Error::Store(crate::store::Error::LeadNotFound(_))) => {
            error(StatusCode::NOT_FOUND, "no such lead")
        }
        Err(e) => {
            tracing::error!(error = %e, lead_id = %id, "handoff failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "handoff failed")
        }
    }
}

/// The bot answers this lead again from its next message.
pub(super) async fn resume(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let agent = state.pipeline.agent();
    let resumed = agent.store().resume(&id, agent.clock().now_ms()).await;
    lead_state(resumed, &id, None)
}
