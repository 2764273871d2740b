//! `setter serve`: answer the configured inboxes over HTTP until SIGTERM.

use super::{checked_prompts, load_config};
use crate::channels::send::Senders;
use crate::metrics::{Metrics, TimedModel};
use crate::pipeline::{Pipeline, Settings};
use crate::server::{self, AppState};
use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// How long a stop waits for turns and sends in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Listen here instead of `[serve] addr`.
    #[arg(long)]
    addr: Option<std::net::SocketAddr>,
}

pub async fn run(config: Option<&Path>, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let loaded = load_config(config)?;
    let serve = loaded.config.serve.clone();
    let addr = match args.addr {
        Some(a) => a,
        None => serve.addr.parse().context("[serve] addr")?,
    };
    let prompts = checked_prompts(&loaded)?;
    let metrics = Metrics::new();
    let senders = Senders::from_config(&loaded.config.channels)?;
    let model = TimedModel::wrap(crate::app::model(&loaded).await?, metrics.clone());
    let agent = crate::app::agent(loaded.clone(), model, prompts).await?;
    let settings = Settings {
        max_concurrent_turns: serve.max_concurrent_turns,
        debounce: Duration::from_millis(serve.debounce_ms),
        resend_unconfirmed_after: Duration::from_millis(serve.resend_unconfirmed_after_ms),
    };
    let senders = (!senders.channels().is_empty()).then(|| Arc::new(senders));
    let pipeline = Arc::new(Pipeline::start(agent, senders, settings, metrics).await?);
    let state = AppState::new(pipeline.clone(), Arc::new(loaded))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    eprintln!(
        "setter serve: listening on http://{} (webhooks at /webhooks/meta, web chat at /webchat/messages)",
        listener.local_addr()?
    );
    server::run(listener, state, stop_signal()).await?;
    eprintln!(
        "stopping: finishing turns and sends in flight (up to {}s)",
        SHUTDOWN_GRACE.as_secs()
    );
    match Arc::try_unwrap(pipeline) {
        Ok(pipeline) => pipeline.shutdown(SHUTDOWN_GRACE).await,
        Err(_) => tracing::warn!("requests still hold the pipeline; unfinished turns stay pending"),
    }
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM (how service managers stop a process) or Ctrl-C.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
