//! `GET /metrics`: what an operator graphs and alerts on, in the Prometheus
//! text format (via `prometheus-client`, the official Rust client).
//!
//! A rising `setter_webhooks_total{result="bad_signature"}` is a wrong app
//! secret (Meta then retries for days); `setter_queue_depth` and
//! `setter_model_waiting` show a burst waiting on a slow model; sends by
//! error code show a closed window (131047) or an expired token (190).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Arc;

type Labels = Vec<(&'static str, String)>;

/// Every metric Setter exports; cheap to clone and share.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    webhooks: Family<Labels, Counter>,
    turns: Family<Labels, Counter>,
    turn_seconds: Histogram,
    model_seconds: Histogram,
    sends: Family<Labels, Counter>,
    followups: Family<Labels, Counter>,
    /// Follow-up steps that came due (each is then sent, skipped or deferred).
    followups_due: Counter,
    /// Leads with a turn queued or running.
    pub queue_depth: Gauge,
    /// Turns holding a permit, waiting for the model or running.
    pub turns_running: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("setter");
        let webhooks = Family::<Labels, Counter>::default();
        let turns = Family::<Labels, Counter>::default();
        let sends = Family::<Labels, Counter>::default();
        let followups = Family::<Labels, Counter>::default();
        let followups_due = Counter::default();
        // 1 ms … ~30 s for turns; model calls share the scale.
        let turn_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        let model_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        let queue_depth = Gauge::default();
        let turns_running = Gauge::default();
        registry.register("webhooks", "Webhook requests by result", webhooks.clone());
        registry.register("turns", "Turns by result", turns.clone());
        registry.register("turn_seconds", "Turn latency", turn_seconds.clone());
        registry.register(
            "model_call_seconds",
            "Model call latency",
            model_seconds.clone(),
        );
        registry.register(
            "sends",
            "Send attempts by channel and error code",
            sends.clone(),
        );
        registry.register(
            "followups",
            "Follow-up steps sent, or skipped by reason",
            followups.clone(),
        );
        registry.register(
            "followups_due",
            "Follow-up steps that came due (then sent, skipped or deferred)",
            followups_due.clone(),
        );
        registry.register(
            "queue_depth",
            "Leads with a turn queued or running",
            queue_depth.clone(),
        );
        registry.register(
            "turns_running",
            "Turns running or waiting for the model",
            turns_running.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            webhooks,
            turns,
            turn_seconds,
            model_seconds,
            sends,
            followups,
            followups_due,
            queue_depth,
            turns_running,
        }
    }

    /// A webhook request's result (`accepted`, `bad_signature`, `too_large`, …).
    pub fn webhook(&self, result: &str) {
        self.webhooks
            .get_or_create(&vec![("result", result.to_string())])
            .inc();
    }

    /// A finished turn: `replied`, `scored`, `superseded`, `failed`.
    pub fn turn(&self, result: &str, seconds: f64) {
        self.turns
            .get_or_create(&vec![("result", result.to_string())])
            .inc();
        self.turn_seconds.observe(seconds);
    }

    pub fn model_call(&self, seconds: f64) {
        self.model_seconds.observe(seconds);
    }

    /// A send's outcome: `code` is `ok` or the platform's error code.
    pub fn send(&self, channel: crate::lead::Channel, code: &str) {
        self.sends
            .get_or_create(&vec![
                ("channel", channel.to_string()),
                ("code", code.to_string()),
            ])
            .inc();
    }

    /// `n` follow-up steps came due in one tick.
    pub fn followups_due(&self, n: usize) {
        self.followups_due.inc_by(n as u64);
    }

    /// A follow-up step's fate: `sent`, `deferred`, or why it was skipped.
    pub fn followup(&self, result: &str) {
        self.followups
            .get_or_create(&vec![("result", result.to_string())])
            .inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// A model whose every call is timed into `setter_model_call_seconds`.
pub struct TimedModel {
    inner: std::sync::Arc<dyn crate::llm::ChatModel>,
    metrics: Metrics,
}

impl TimedModel {
    pub fn wrap(
        inner: std::sync::Arc<dyn crate::llm::ChatModel>,
        metrics: Metrics,
    ) -> std::sync::Arc<dyn crate::llm::ChatModel> {
        std::sync::Arc::new(TimedModel { inner, metrics })
    }
}

#[async_trait::async_trait]
impl crate::llm::ChatModel for TimedModel {
    async fn chat(
        &self,
        request: &crate::llm::ChatRequest,
    ) -> crate::llm::Result<crate::llm::ChatResponse> {
        let started = std::time::Instant::now();
        let result = self.inner.chat(request).await;
        self.metrics.model_call(started.elapsed().as_secs_f64());
        result
    }
    fn info(&self) -> crate::llm::ModelInfo {
        self.inner.info()
    }
}
