//! Group commit for accepts: concurrent webhooks wait on one writer task,
//! which stores whatever has queued up in one transaction — one fsync for
//! many acks instead of one each. A webhook is still answered only after
//! its own batch is durable; a group that fails is retried one batch at a
//! time, so one bad batch fails alone.

use crate::clock::SharedClock;
use crate::store::{self, Accepted, Batch, Store};
use tokio::sync::{mpsc, oneshot};

/// Batches stored per transaction at most.
const MAX_GROUP: usize = 256;

type Reply = oneshot::Sender<Result<Accepted, store::Error>>;

/// The handle webhook handlers send batches to.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<(Batch, Reply)>,
}

/// Why an accept did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("the server is shutting down; the platform will redeliver")]
    Closed,
}

impl Writer {
    /// Starts the writer task; it ends when every handle is dropped.
    pub(super) fn start(store: Store, clock: SharedClock) -> Writer {
        let (jobs, rx) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(run(store, clock, rx));
        Writer { jobs }
    }

    /// Stores `batch` (grouped with others in flight) and returns its result.
    pub(super) async fn accept(&self, batch: Batch) -> Result<Accepted, AcceptError> {
        let (reply, done) = oneshot::channel();
        self.jobs
            .send((batch, reply))
            .await
            .map_err(|_| AcceptError::Closed)?;
        Ok(done.await.map_err(|_| AcceptError::Closed)??)
    }
}

async fn run(store: Store, clock: SharedClock, mut rx: mpsc::Receiver<(Batch, Reply)>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        let now = clock.now_ms();
        let batches: Vec<&Batch> = group.iter().map(|(b, _)| b).collect();
        match store.accept_group(&batches, now).await {
            Ok(results) => {
                for ((_, reply), result) in group.drain(..).zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, batches = group.len(), "group commit failed; storing one by one");
                for (batch, reply) in group.drain(..) {
                    let _ = reply.send(store.accept(&batch, now).await);
                }
            }
        }
    }
}
