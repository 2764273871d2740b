//! The pipeline of `setter serve`: accept → queue per lead → turn → outbox →
//! send → status.
//!
//! [`Pipeline::accept`] stores a batch durably and only then wakes the
//! lead's queue; a turn's reply lands in the outbox in the turn's own
//! transaction; the send loop claims due rows and hands them to the channel
//! senders. Every step re-reads the store, so on restart
//! [`Pipeline::start`] simply answers what is pending and sends what is due.

mod accept;
mod queue;
mod sending;

pub use accept::AcceptError;

use crate::agent::{Agent, Answer};
use crate::channels::send::Senders;
use crate::metrics::Metrics;
use crate::store::{self, Accepted, Batch};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, Notify};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often leads whose turns gave up (model down for minutes) are retried.
const SWEEP_EVERY: Duration = Duration::from_secs(300);

/// A turn's result, broadcast to whoever waits on the lead (the web chat).
#[derive(Debug, Clone)]
pub struct Replied {
    pub lead_id: String,
    /// The newest lead message the turn answered.
    pub answered_up_to: i64,
    /// The reply; `None` when a human has the lead.
    pub reply: Option<String>,
}

/// What the queue tells the rest of the pipeline after each turn.
#[derive(Clone)]
struct Hooks {
    metrics: Metrics,
    wake_sender: Arc<Notify>,
    replies: broadcast::Sender<Arc<Replied>>,
}

impl Hooks {
    fn answered(&self, lead_id: &str, answer: &Answer) {
        let (report, reply) = match answer {
            Answer::Replied(r) => (r, Some(r.reply.clone())),
            Answer::Scored(r) => (r, None),
            Answer::NothingPending | Answer::Superseded(_) => return,
        };
        if report.outbox_id.is_some() {
            self.wake_sender.notify_one();
        }
        // Nobody listening is fine.
        let _ = self.replies.send(Arc::new(Replied {
            lead_id: lead_id.to_string(),
            answered_up_to: report.inbound_id,
            reply,
        }));
    }
}

/// Delivers handoff packets as they fall due, until `cancel`.
async fn deliver_handoffs(agent: Agent, cancel: CancellationToken) {
    let http = reqwest::Client::new();
    loop {
        let now = agent.clock().now_ms();
        if let Err(e) = crate::handoff::deliver_due(agent.store(), agent.loaded(), &http, now).await
        {
            tracing::warn!(error = %e, "handoff delivery round failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

/// Tuning for [`Pipeline::start`].
#[derive(Debug, Clone)]
pub struct Settings {
    pub max_concurrent_turns: usize,
    pub debounce: Duration,
    /// After a crash, how long a reply caught mid-send waits for a status
    /// confirming it went out before it is sent again.
    pub resend_unconfirmed_after: Duration,
}

/// The running pipeline; drop-safe, but call [`Pipeline::shutdown`] to
/// finish in-flight turns and sends.
pub struct Pipeline {
    agent: Agent,
    writer: accept::Writer,
    queue: queue::Queue,
    hooks: Hooks,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Pipeline {
    /// Starts the queue and the send loop, then answers every lead left
    /// pending and re-sends every unsent reply from an earlier run.
    pub async fn start(
        agent: Agent,
        senders: Option<Arc<Senders>>,
        settings: Settings,
        metrics: Metrics,
    ) -> Result<Pipeline, crate::agent::Error> {
        agent.warm()?;
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let hooks = Hooks {
            metrics,
            wake_sender: Arc::new(Notify::new()),
            replies: broadcast::channel(1024).0,
        };
        let queue = queue::Queue::new(
            agent.clone(),
            settings.max_concurrent_turns,
            settings.debounce,
            hooks.clone(),
            cancel.clone(),
            tracker.clone(),
        );
        let now = agent.clock().now_ms();
        // One `setter serve` per SQLite database: a claim still marked
        // `sending` belongs to a process that is gone.
        let grace = settings.resend_unconfirmed_after.as_millis() as i64;
        let released = agent.store().release_claims(now + grace, now).await?;
        if released > 0 {
            tracing::warn!(released, grace_ms = grace,
                "replies whose sender stopped mid-send: re-sent unless the platform confirms them first");
        }
        if let Some(senders) = senders {
            let sender = sending::Loop {
                store: agent.store().clone(),
                clock: agent.clock().clone(),
                senders,
                wake: hooks.wake_sender.clone(),
                metrics: hooks.metrics.clone(),
                cancel: cancel.clone(),
                tracker: tracker.clone(),
            };
            tracker.spawn(sender.run());
        }
        let scheduler = agent.followups();
        tracker.spawn(scheduler.run(
            agent.clock().clone(),
            cancel.clone(),
            hooks.wake_sender.clone(),
            hooks.metrics.clone(),
        ));
        tracker.spawn(deliver_handoffs(agent.clone(), cancel.clone()));
        let pipeline = Pipeline {
            writer: accept::Writer::start(agent.store().clone(), agent.clock().clone()),
            agent,
            queue,
            hooks,
            cancel,
            tracker,
        };
        pipeline.sweep().await?;
        pipeline.spawn_sweeper();
        Ok(pipeline)
    }

    /// Stores a batch durably (group-committed with concurrent ones), then
    /// queues its leads.
    pub async fn accept(&self, batch: Batch) -> Result<Accepted, AcceptError> {
        let accepted = self.writer.accept(batch).await?;
        for lead in &accepted.leads {
            self.queue.notify(lead);
        }
        Ok(accepted)
    }

    /// Turn results as they happen (subscribe before accepting to miss none).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Replied>> {
        self.hooks.replies.subscribe()
    }

    pub fn agent(&self) -> &Agent {
        &self.agent
    }

    pub fn metrics(&self) -> &Metrics {
        &self.hooks.metrics
    }

    /// Queues every lead with unanswered messages.
    async fn sweep(&self) -> Result<(), store::Error> {
        let pending = self.agent.store().leads_with_pending().await?;
        if !pending.is_empty() {
            tracing::info!(leads = pending.len(), "answering leads left pending");
        }
        for lead in pending {
            self.queue.notify(&lead);
        }
        self.hooks.wake_sender.notify_one();
        Ok(())
    }

    fn spawn_sweeper(&self) {
        let queue = self.queue.clone();
        let store = self.agent.store().clone();
        let cancel = self.cancel.clone();
        self.tracker.spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(SWEEP_EVERY) => {}
                    _ = cancel.cancelled() => return,
                }
                match store.leads_with_pending().await {
                    Ok(leads) => leads.iter().for_each(|l| queue.notify(l)),
                    Err(e) => tracing::warn!(error = %e, "sweep for pending leads failed"),
                }
            }
        });
    }

    /// Stops starting new turns and sends, and waits up to `grace` for the
    /// ones in flight. Whatever is cut off stays pending in the store.
    pub async fn shutdown(self, grace: Duration) {
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("shutdown grace period over; unfinished turns stay pending");
        }
    }
}
