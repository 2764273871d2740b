//! Follow-ups on silence: the worker that turns due ladder steps into
//! messages, or skips them with a reason.
//!
//! The ladder is scheduled with each reply (see `agent::turn`) and cancelled
//! by the lead's next message or a takeover (see `store::jobs`). A tick
//! claims what is due at `now` — read through an index on `due_at`, so its
//! cost does not grow with future jobs — and for each step decides, in code:
//! skip (the lead is closed, disqualified, handed off or paused; the
//! platform's 24 h window has closed) or send the step's template. Time is
//! always passed in: `setter tick --now`, tests and evals move it by hand.

mod personal;
mod quiet;

use crate::config::{Loaded, StepKind};
use crate::lead::{Channel, JobReason, Stage};
use crate::llm::ChatModel;
use crate::prompts::Prompts;
use crate::store::{self, JobRow, Store};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Meta's standard messaging window: free-form messages only within 24 h of
/// the lead's last message (docs/channels.md §7).
const WINDOW_MS: i64 = 24 * 3600 * 1000;
/// Free-form text must land inside the window with room to spare: the
/// outbox, a retry or the platform's own clock can add minutes, and a message
/// that arrives a second late fails with 131047.
const WINDOW_MARGIN_MS: i64 = 10 * 60 * 1000;
/// A claim's lease: a worker that dies mid-step frees the job after this.
const LEASE_MS: i64 = 60_000;
/// The longest the worker sleeps: new ladders are scheduled by turns
/// without waking it, and an idle tick is one indexed query.
const IDLE_MS: i64 = 1_000;
/// Jobs handled per tick round.
const BATCH: i64 = 256;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Prompt(#[from] crate::prompts::Error),
}

/// What one tick did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TickReport {
    /// Steps that came due (claimed) in this tick.
    pub due: usize,
    pub sent: usize,
    /// Steps moved out of quiet hours.
    pub deferred: usize,
    /// (job id, why as a code, why in words) for each skipped step.
    pub skipped: Vec<(i64, JobReason, String)>,
}

/// What to do with a due step.
#[derive(Debug, Clone, PartialEq)]
enum Decision {
    /// The words for the transcript, and the send body's part when the
    /// message is not plain text (a WhatsApp template).
    Send(String, Option<serde_json::Value>),
    /// Why, as a code and in words.
    Skip(JobReason, String),
    /// Quiet hours: due again at this time.
    Defer(i64),
}

/// The follow-up worker; cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    store: Store,
    prompts: Arc<Prompts>,
    loaded: Arc<Loaded>,
    /// Rewords steps when `[followups] personalise` is on.
    model: Option<Arc<dyn ChatModel>>,
}

impl Scheduler {
    pub fn new(store: Store, prompts: Arc<Prompts>, loaded: Arc<Loaded>) -> Scheduler {
        Scheduler {
            store,
            prompts,
            loaded,
            model: None,
        }
    }

    /// The same worker, letting `model` personalise steps (when configured).
    pub fn with_model(mut self, model: Arc<dyn ChatModel>) -> Scheduler {
        self.model = Some(model);
        self
    }

    /// Handles every step due at `now`, once.
    pub async fn tick(&self, now: i64) -> Result<TickReport, Error> {
        let mut report = TickReport::default();
        loop {
            let jobs = self.store.claim_due_jobs(now, LEASE_MS, BATCH).await?;
            if jobs.is_empty() {
                return Ok(report);
            }
            report.due += jobs.len();
            for job in &jobs {
                // Several steps of one lead due at once (Setter was down):
                // only the latest goes out.
                let later = jobs
                    .iter()
                    .any(|j| j.lead_id == job.lead_id && j.epoch == job.epoch && j.step > job.step);
                let decision = match later {
                    true => skip(JobReason::Superseded),
                    false => self.decide(job, now)?,
                };
                match decision {
                    Decision::Send(text, payload) => {
                        let text = match payload {
                            None => self.worded(job, text).await,
                            Some(_) => text,
                        };
                        let payload = payload.as_ref();
                        if self.store.finish_job_sent(job, &text, payload, now).await? {
                            report.sent += 1;
                        }
                    }
                    Decision::Defer(at) => {
                        self.store.defer_job(job.id, at, now).await?;
                        report.deferred += 1;
                    }
                    Decision::Skip(code, why) => {
                        tracing::info!(lead_id = %job.lead_id, step = job.step, reason = %code, "follow-up skipped");
                        self.store
                            .finish_job_skipped(job.id, code, &why, now)
                            .await?;
                        report.skipped.push((job.id, code, why));
                    }
                }
            }
        }
    }

    /// `text`, or the model's personalised version of it when that is on
    /// and the rewrite passes the checks (see `personal`).
    async fn worded(&self, job: &JobRow, text: String) -> String {
        let Some(model) = self.model.as_deref() else {
            return text;
        };
        if !self.loaded.config.followups.personalise {
            return text;
        }
        let memory = match self.store.memory(&job.lead_id).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(lead_id = %job.lead_id, error = %e, "follow-up sent unpersonalised");
                return text;
            }
        };
        let draft = personal::Draft {
            text: &text,
            kind: &job.kind,
            lead_name: memory
                .lead
                .name
                .as_deref()
                .and_then(|n| n.split_whitespace().next()),
        };
        match personal::personalise(model, &self.prompts, &self.loaded, &memory, &draft).await {
            Ok(rewrite) => rewrite,
            Err(why) => {
                tracing::info!(lead_id = %job.lead_id, step = job.step, reason = %why, "follow-up sent unpersonalised");
                text
            }
        }
    }

    /// Runs ticks until `cancel`, waking `sent` when messages were queued.
    pub async fn run(
        self,
        clock: crate::clock::SharedClock,
        cancel: tokio_util::sync::CancellationToken,
        sent: Arc<tokio::sync::Notify>,
        metrics: crate::metrics::Metrics,
    ) {
        loop {
            let now = clock.now_ms();
            match self.tick(now).await {
                Ok(r) => {
                    metrics.followups_due(r.due);
                    (0..r.sent).for_each(|_| metrics.followup("sent"));
                    (0..r.deferred).for_each(|_| metrics.followup("deferred"));
                    for (_, code, _) in &r.skipped {
                        metrics.followup(&format!("skipped_{code}"));
                    }
                    if r.sent > 0 {
                        sent.notify_one();
                    }
                }
                Err(e) => tracing::warn!(error = %e, "follow-up tick failed"),
            }
            let next = self.store.next_job_due().await.ok().flatten();
            let wait = next.map_or(IDLE_MS, |due| (due - clock.now_ms()).clamp(50, IDLE_MS));
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
                _ = cancel.cancelled() => return,
            }
        }
    }

    /// Skip or send, decided in code; see the module docs.
    fn decide(&self, job: &JobRow, now: i64) -> Result<Decision, Error> {
        if matches!(
            job.stage,
            Stage::Disqualified | Stage::HandedOff | Stage::Closed
        ) {
            return Ok(Decision::Skip(
                JobReason::Stage,
                format!("the lead is {}", job.stage),
            ));
        }
        if job.paused_until.is_some_and(|until| until > now) {
            return Ok(skip(JobReason::Human));
        }
        let last = job.last_inbound_at.unwrap_or(job.due_at);
        let first_name = job
            .lead_name
            .as_deref()
            .and_then(|n| n.split_whitespace().next());
        // The platform's word beats our clock: a 131047 after the lead's last
        // message closes the window until they write again.
        let closed_by_platform = job.window_closed_at.is_some_and(|at| at >= last);
        if job.channel.has_sender() && (now > window_end(last) || closed_by_platform) {
            let template = self
                .loaded
                .config
                .followups
                .ladder(job.channel)
                .template
                .as_ref();
            return Ok(match (job.channel, template) {
                (Channel::Whatsapp, Some(t)) => template_message(t, first_name),
                _ => Decision::Skip(JobReason::Window, window_closed(job.channel)),
            });
        }
        if let Some(later) = self.after_min_gap(job, now, last) {
            return Ok(later);
        }
        if let Some(later) = self.after_quiet_hours(job, now, last) {
            return Ok(later);
        }
        let kind = match job.kind.as_str() {
            "soft" => StepKind::Soft,
            "value" => StepKind::Value,
            _ => StepKind::Exit,
        };
        let ctx = context(&self.loaded.config, first_name, job.step, kind);
        let text = self.prompts.render(kind.template(), ctx)?;
        let text = text.trim();
        if asks_if_still_interested(text) {
            return Ok(Decision::Skip(JobReason::Guard, format!(
                "{} asks \"are you still interested?\", the follow-up that makes leads disengage; reword it",
                kind.template()
            )));
        }
        Ok(Decision::Send(text.to_string(), None))
    }
}

/// An approved WhatsApp template, the only message allowed outside the window.
fn template_message(t: &crate::config::Template, first_name: Option<&str>) -> Decision {
    let name = first_name.unwrap_or("there");
    let params: Vec<serde_json::Value> = t
        .params
        .iter()
        .map(|p| json!({"type": "text", "text": p.replace("{lead_name}", name)}))
        .collect();
    let mut template = json!({"name": t.name, "language": {"code": t.language}});
    if !params.is_empty() {
        template["components"] = json!([{"type": "body", "parameters": params}]);
    }
    Decision::Send(
        format!("[WhatsApp template {}]", t.name),
        Some(json!({"type": "template", "template": template})),
    )
}

impl Scheduler {
    /// `None` when the bot's last message is at least `min_gap` old; else
    /// wait until it is, or skip when that is past the platform's window.
    fn after_min_gap(&self, job: &JobRow, now: i64, last: i64) -> Option<Decision> {
        let gap = self.loaded.config.followups.min_gap.as_millis() as i64;
        let earliest = job.last_bot_at? + gap;
        if earliest <= now {
            return None;
        }
        if job.channel.has_sender() && earliest > window_end(last) {
            return Some(skip(JobReason::MinGap));
        }
        Some(Decision::Defer(earliest))
    }

    /// `None` outside quiet hours; else wait for the morning, or skip when
    /// the morning falls outside the platform's window.
    fn after_quiet_hours(&self, job: &JobRow, now: i64, last: i64) -> Option<Decision> {
        let followups = &self.loaded.config.followups;
        let (start, end) = followups.quiet()?;
        let phone = (job.channel == Channel::Whatsapp).then_some(job.recipient.as_str());
        let zone = quiet::zone_for(phone, followups.zone());
        let next = quiet::next_allowed(now, zone, start, end);
        if next <= now {
            return None;
        }
        if job.channel.has_sender() && next > window_end(last) {
            return Some(Decision::Skip(
                JobReason::QuietHours,
                format!(
                    "quiet hours ({}) in {zone} last past the 24 h window",
                    followups.quiet_hours
                ),
            ));
        }
        Some(Decision::Defer(next))
    }
}

/// The last moment free-form text may go out after the lead's message at `last`.
fn window_end(last: i64) -> i64 {
    last + WINDOW_MS - WINDOW_MARGIN_MS
}

/// When a step due at `due` should be scheduled: a step that falls in the
/// window's closing margin (the seed's WhatsApp "+24 h") moves back to the
/// window's last safe minute, so it goes out as text instead of failing or
/// needing a template; anything else stays where the ladder put it.
pub fn fit_window(channel: Channel, last_inbound: i64, due: i64) -> i64 {
    let end = window_end(last_inbound);
    let closing = end < due && due <= last_inbound + WINDOW_MS;
    match channel.has_sender() && closing {
        true => end,
        false => due,
    }
}

/// What `followup_<kind>.j2` sees (also rendered by `setter check`).
pub fn context(
    config: &crate::config::Config,
    lead_name: Option<&str>,
    step: i64,
    kind: StepKind,
) -> serde_json::Value {
    json!({
        "lead_name": lead_name,
        "offer": config.offer,
        "persona": config.persona,
        "step": step,
        "kind": kind.as_str(),
    })
}

/// A skip whose code says it all.
fn skip(code: JobReason) -> Decision {
    Decision::Skip(code, code.describe().to_string())
}

fn window_closed(channel: Channel) -> String {
    match channel {
        Channel::Whatsapp => "outside WhatsApp's 24 h window: free-form text would fail with 131047, \
                             and no approved template is configured"
            .into(),
        _ => format!(
            "outside {channel}'s 24 h messaging window: only a human may answer now (HUMAN_AGENT tag)"
        ),
    }
}

/// "Are you still interested?" and its kin in en/es/pt/fr/de: the seed's
/// worst follow-up, refused in code whatever a template says.
pub fn asks_if_still_interested(text: &str) -> bool {
    let t = text.to_lowercase();
    [
        "still interested",
        "sigues interesad",
        "sigue interesad",
        "ainda está interessad",
        "ainda tem interesse",
        "toujours intéressé",
        "encore intéressé",
        "noch interessiert",
    ]
    .iter()
    .any(|p| t.contains(p))
}

#[cfg(test)]
mod tests {
    use super::{asks_if_still_interested, fit_window};
    use crate::lead::Channel;

    #[test]
    fn a_step_due_as_the_window_closes_moves_to_its_last_safe_minute() {
        let h = 3_600_000;
        let safe = 24 * h - 10 * 60_000;
        assert_eq!(fit_window(Channel::Whatsapp, 0, 24 * h), safe);
        assert_eq!(fit_window(Channel::Instagram, 0, 24 * h - 60_000), safe);
        // Inside the window, past it, or on a channel without a window: unchanged.
        assert_eq!(fit_window(Channel::Whatsapp, 0, h), h);
        assert_eq!(fit_window(Channel::Whatsapp, 0, safe), safe);
        assert_eq!(fit_window(Channel::Whatsapp, 0, 24 * h + 1), 24 * h + 1);
        assert_eq!(fit_window(Channel::Webchat, 0, 24 * h), 24 * h);
    }

    #[test]
    fn the_worst_follow_up_is_caught_in_five_languages() {
        for text in [
            "Hey, are you still interested?",
            "¿Sigues interesado en el programa?",
            "Você ainda está interessada?",
            "Êtes-vous toujours intéressé ?",
            "Sind Sie noch interessiert?",
        ] {
            assert!(asks_if_still_interested(text), "{text}");
        }
        assert!(!asks_if_still_interested(
            "Didn't want this to slip through the cracks."
        ));
    }
}
