//! `POST /api/leads/{id}/outcome`: what really happened to a lead, from the
//! closer's CRM or a payment provider's hook. Body:
//! `{"outcome": "won", "value": 4000, "note": "..."}` (value and note
//! optional). 404 for an unknown lead; 422 naming what to fix otherwise.

use super::api::error;
use super::AppState;
use crate::lead::{LeadOutcome, OutcomeSource};
use crate::store::{self, NewOutcome};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

/// The request body; the outcome is parsed by hand so a bad one gets the
/// list of valid outcomes, not a serde message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    outcome: String,
    value: Option<f64>,
    note: Option<String>,
}

pub(super) async fn record(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body: Body = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            let why = format!("the body must be JSON like {{\"outcome\": \"won\", \"value\": 4000, \"note\": \"...\"}}: {e}");
            return error(StatusCode::UNPROCESSABLE_ENTITY, &why);
        }
    };
    let outcome: LeadOutcome = match body.outcome.parse() {
        Ok(o) => o,
        Err(why) => return error(StatusCode::UNPROCESSABLE_ENTITY, &why),
    };
    let agent = state.pipeline.agent();
    let new = NewOutcome {
        lead_id: &id,
        outcome,
        value: body.value,
        currency: &state.loaded.config.offer.currency,
        note: body.note.as_deref(),
        source: OutcomeSource::Api,
    };
    match agent
        .store()
        .record_outcome(&new, agent.clock().now_ms())
        .await
    {
        Ok(recorded) => {
            tracing::info!(lead_id = %id, outcome = %outcome, "outcome recorded");
            Json(json!({ "lead_id": id, "outcome": outcome, "recorded": recorded })).into_response()
        }
        Err(store::Error::LeadNotFound(_)) => error(StatusCode::NOT_FOUND, "no such lead"),
        Err(e @ store::Error::BadOutcomeValue(_)) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string())
        }
        Err(e) => {
            tracing::error!(error = %e, lead_id = %id, "recording an outcome failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "database error")
        }
    }
}
