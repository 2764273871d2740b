//! The HTTP server of `setter serve` (axum): Meta webhooks, the web chat,
//! the operator API, health and metrics.
//!
//! Handlers do nothing slow: a webhook is verified, parsed and stored in one
//! transaction, then answered; turns and sends run in the [`Pipeline`]. A
//! slow model therefore never delays an ack.

mod api;
mod meta;
mod outcome;
mod webchat;

use crate::config::Loaded;
use crate::pipeline::Pipeline;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use secrecy::SecretString;
use std::future::Future;
use std::sync::Arc;

/// A secret named in the config is not set in the environment.
#[derive(Debug, thiserror::Error)]
#[error("{key} names the environment variable {var}, which is not set")]
pub struct MissingSecret {
    pub key: String,
    pub var: String,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pipeline: Arc<Pipeline>,
    loaded: Arc<Loaded>,
    /// Meta app secrets that may sign webhooks (one per configured channel).
    app_secrets: Arc<Vec<SecretString>>,
    verify_tokens: Arc<Vec<SecretString>>,
    /// `None`: `/api` answers 503 until `[serve] api_token_env` is set.
    api_token: Option<Arc<SecretString>>,
}

impl AppState {
    /// Reads the secrets named in the config from the environment; a Meta
    /// channel without its app secret or verify token cannot start.
    pub fn new(pipeline: Arc<Pipeline>, loaded: Arc<Loaded>) -> Result<AppState, MissingSecret> {
        let mut app_secrets = Vec::new();
        let mut verify_tokens = Vec::new();
        for (channel, m) in loaded.config.channels.meta() {
            for (key, var, into) in [
                ("app_secret_env", &m.app_secret_env, &mut app_secrets),
                ("verify_token_env", &m.verify_token_env, &mut verify_tokens),
            ] {
                let value = std::env::var(var).map_err(|_| MissingSecret {
                    key: format!("channels.{channel}.{key}"),
                    var: var.clone(),
                })?;
                into.push(SecretString::from(value));
            }
        }
        let api_token = std::env::var(&loaded.config.serve.api_token_env)
            .ok()
            .filter(|t| !t.is_empty())
            .map(|t| Arc::new(SecretString::from(t)));
        Ok(AppState {
            pipeline,
            loaded,
            app_secrets: Arc::new(app_secrets),
            verify_tokens: Arc::new(verify_tokens),
            api_token,
        })
    }
}

/// Every route, with the body limit from `[serve] max_body_bytes`.
pub fn router(state: AppState) -> Router {
    let limit = state.loaded.config.serve.max_body_bytes;
    let api = Router::new()
        .route("/api/leads/{id}/takeover", post(api::takeover))
        .route("/api/leads/{id}/resume", post(api::resume))
        .route("/api/leads/{id}/handoff", post(api::handoff))
        .route("/api/leads/{id}/outcome", post(outcome::record))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api::require_token,
        ));
    Router::new()
        .route("/webhooks/meta", get(meta::handshake).post(meta::receive))
        .route("/webchat/messages", post(webchat::message))
        .merge(api)
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.pipeline.agent().store().ping().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::error!(error = %e, "health check: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.pipeline.metrics().render(),
    )
}
