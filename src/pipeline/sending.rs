//! The send loop: claims due outbox rows and delivers each through its
//! channel's sender; one row per lead at a time, so a lead's messages leave
//! in order. Woken when a turn queues a reply; otherwise it sleeps until the
//! next row is due.

use crate::channels::send::Senders;
use crate::clock::SharedClock;
use crate::metrics::Metrics;
use crate::store::{OutboxRow, SendFailure, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// Rows claimed per round; senders' rate limits pace the rest.
const CLAIM_BATCH: i64 = 64;
/// The longest the loop sleeps without being woken.
const IDLE: Duration = Duration::from_secs(1);

pub(super) struct Loop {
    pub store: Store,
    pub clock: SharedClock,
    pub senders: Arc<Senders>,
    pub wake: Arc<Notify>,
    pub metrics: Metrics,
    pub cancel: CancellationToken,
    pub tracker: TaskTracker,
}

impl Loop {
    pub(super) async fn run(self) {
        let channels = self.senders.channels();
        let lease = self.senders.lease().as_millis() as i64;
        let this = Arc::new(self);
        loop {
            if this.cancel.is_cancelled() {
                return;
            }
            let now = this.clock.now_ms();
            match this
                .store
                .claim_due(&channels, now, lease, CLAIM_BATCH)
                .await
            {
                Ok(rows) => {
                    for row in rows {
                        let span = tracing::info_span!("send", lead_id = %row.lead_id,
                            channel = %row.channel, outbox_id = row.id);
                        let this = this.clone();
                        this.tracker
                            .clone()
                            .spawn(async move { this.deliver(row).await }.instrument(span));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming outbox rows failed"),
            }
            tokio::select! {
                _ = this.wake.notified() => {}
                _ = tokio::time::sleep(IDLE) => {}
                _ = this.cancel.cancelled() => return,
            }
        }
    }

    async fn deliver(&self, row: OutboxRow) {
        let result = self.senders.send(&row).await;
        let now = self.clock.now_ms();
        let stored = match &result {
            Ok(platform_id) => {
                self.metrics.send(row.channel, "ok");
                self.store
                    .mark_sent(row.id, platform_id.as_deref(), now)
                    .await
            }
            Err(e) => {
                let code = e.failure.code.map_or("none".into(), |c| c.to_string());
                self.metrics.send(row.channel, &code);
                let failure = SendFailure {
                    code: e.failure.code,
                    text: if e.transient {
                        format!("gave up after retries: {}", e.failure.text)
                    } else {
                        e.failure.text.clone()
                    },
                };
                tracing::warn!(code = ?failure.code, error = %failure.text, "send failed; recorded on the message");
                self.store.mark_failed(row.id, &failure, now).await
            }
        };
        if let Err(e) = stored {
            // The row's lease runs out and it is sent again: at least once.
            tracing::error!(error = %e, "could not record the send's result");
        }
        // The lead's next row (if any) is claimable now.
        self.wake.notify_one();
    }
}
