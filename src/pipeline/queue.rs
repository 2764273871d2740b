//! The per-lead queue: one turn at a time per lead, in order; leads in
//! parallel up to `max_concurrent_turns`.
//!
//! `notify(lead)` after a message is accepted starts the lead's worker, or
//! marks a running worker dirty. The worker waits until the lead has been
//! quiet for the debounce (a burst becomes one turn), takes a permit, and
//! answers every pending message. A message that lands during the turn makes
//! the turn's commit stale, and `Agent::answer` re-runs it on the newer state;
//! one that lands after the commit sets the dirty flag and the worker goes
//! round again. A failed turn (model down) is retried with back-off; its
//! messages stay pending in the store whatever happens to this process.

use super::Hooks;
use crate::agent::{Agent, Answer};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// Retries of a failing turn before the lead waits for the next sweep.
const MAX_TURN_RETRIES: u32 = 6;

/// A lead with a worker: when its newest message arrived, and whether one
/// arrived after the worker last looked.
struct LeadState {
    last_arrival: Instant,
    dirty: bool,
}

/// Cheap to clone; every clone feeds the same workers.
#[derive(Clone)]
pub(super) struct Queue {
    inner: Arc<Inner>,
}

struct Inner {
    agent: Agent,
    leads: Mutex<HashMap<String, LeadState>>,
    permits: Semaphore,
    debounce: Duration,
    hooks: Hooks,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Queue {
    pub(super) fn new(
        agent: Agent,
        max_concurrent: usize,
        debounce: Duration,
        hooks: Hooks,
        cancel: CancellationToken,
        tracker: TaskTracker,
    ) -> Queue {
        Queue {
            inner: Arc::new(Inner {
                agent,
                leads: Mutex::new(HashMap::new()),
                permits: Semaphore::new(max_concurrent.max(1)),
                debounce,
                hooks,
                cancel,
                tracker,
            }),
        }
    }

    /// `lead_id` has a new message: start its worker, or tell the running one.
    pub(super) fn notify(&self, lead_id: &str) {
        let mut leads = self.inner.leads.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(state) = leads.get_mut(lead_id) {
            state.dirty = true;
            state.last_arrival = Instant::now();
            return;
        }
        leads.insert(
            lead_id.to_string(),
            LeadState {
                last_arrival: Instant::now(),
                dirty: false,
            },
        );
        self.inner.hooks.metrics.queue_depth.set(leads.len() as i64);
        drop(leads);
        let inner = self.inner.clone();
        let span = tracing::info_span!("lead", lead_id = %lead_id);
        let lead_id = lead_id.to_string();
        self.inner
            .tracker
            .spawn(async move { inner.work(lead_id).await }.instrument(span));
    }
}

impl Inner {
    async fn work(self: Arc<Self>, lead_id: String) {
        loop {
            self.settle(&lead_id).await;
            if self.cancel.is_cancelled() {
                break; // Its messages stay pending; the next start answers them.
            }
            self.answer_with_retries(&lead_id).await;
            let mut leads = self.leads.lock().unwrap_or_else(|p| p.into_inner());
            let again = leads.get(&lead_id).is_some_and(|s| s.dirty);
            if !again || self.cancel.is_cancelled() {
                leads.remove(&lead_id);
                self.hooks.metrics.queue_depth.set(leads.len() as i64);
                break;
            }
        }
    }

    /// Waits until the lead has been quiet for the debounce, then clears dirty.
    async fn settle(&self, lead_id: &str) {
        loop {
            let deadline = {
                let mut leads = self.leads.lock().unwrap_or_else(|p| p.into_inner());
                let Some(state) = leads.get_mut(lead_id) else {
                    return;
                };
                let deadline = state.last_arrival + self.debounce;
                if Instant::now() >= deadline {
                    state.dirty = false;
                    return;
                }
                deadline
            };
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {}
                _ = self.cancel.cancelled() => return,
            }
        }
    }

    async fn answer_with_retries(&self, lead_id: &str) {
        for attempt in 0..=MAX_TURN_RETRIES {
            let Ok(permit) = self.permits.acquire().await else {
                return;
            };
            self.hooks.metrics.turns_running.inc();
            let started = std::time::Instant::now();
            // The reply goes to the sender as soon as it is stored; with the
            // instant opener, extraction of the first message runs after.
            let hooks = &self.hooks;
            let result = self
                .agent
                .answer_then(lead_id, None, |a| hooks.answered(lead_id, a))
                .await;
            self.hooks.metrics.turns_running.dec();
            let seconds = started.elapsed().as_secs_f64();
            match result {
                Ok(answer) => {
                    let label = match &answer {
                        Answer::Replied(_) => "replied",
                        Answer::Scored(_) => "scored",
                        Answer::NothingPending => "nothing_pending",
                        Answer::Superseded(_) => "superseded",
                    };
                    self.hooks.metrics.turn(label, seconds);
                    // The reply is on its way: the model reads ahead while
                    // the lead reads it, without holding a turn's permit
                    // (and giving the model up to any turn that wants it).
                    drop(permit);
                    if let Answer::Replied(_) = answer {
                        tokio::select! {
                            _ = self.agent.prefill_next(lead_id) => {}
                            _ = self.cancel.cancelled() => {}
                        }
                    }
                    return;
                }
                Err(e) => {
                    self.hooks.metrics.turn("failed", seconds);
                    let wait = Duration::from_secs(2u64.pow(attempt).min(300));
                    tracing::warn!(error = %e, attempt, retry_in_s = wait.as_secs(),
                        "turn failed; the lead's messages stay pending");
                    if attempt == MAX_TURN_RETRIES {
                        return; // The periodic sweep picks the lead up again.
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = self.cancel.cancelled() => return,
                    }
                }
            }
        }
    }
}
