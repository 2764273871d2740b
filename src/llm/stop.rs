//! When a model call must stop: its deadline (`[llm] timeout_secs`) passed, or
//! the caller gave up (the request's future was dropped — a superseded turn,
//! a shutdown, an outer timeout).
//!
//! The limit counts from when the engine starts the call's work, not
//! while it waits for the engine. The embedded model runs on a blocking thread that an async timeout cannot
//! interrupt, so it checks a [`Stop`] between decode calls and gives the
//! engine back within one batch, instead of finishing work nobody will read
//! while the next lead's turn waits for the lock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A call's deadline and cancellation flag; cheap to check.
#[derive(Debug, Clone)]
pub(crate) struct Stop {
    deadline: Instant,
    limit: Duration,
    cancelled: Arc<AtomicBool>,
}

/// Sets the flag when dropped: hold it in the future that awaits the call.
pub(crate) struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Stop {
    /// A stop `limit` from now, and the guard that cancels it when dropped.
    pub(crate) fn after(limit: Duration) -> (Stop, CancelOnDrop) {
        let cancelled = Arc::new(AtomicBool::new(false));
        let stop = Stop {
            deadline: Instant::now() + limit,
            limit,
            cancelled: cancelled.clone(),
        };
        (stop, CancelOnDrop(cancelled))
    }

    /// Starts the clock again: the limit is for the call's own work, so a
    /// call that waited for the engine behind other leads' calls (the serve
    /// queue bounds how many) is not failed for having waited.
    pub(crate) fn start(&mut self) {
        self.deadline = Instant::now() + self.limit;
    }

    /// `Err` with the reason once the call should stop.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err("cancelled: the caller stopped waiting".into());
        }
        if Instant::now() >= self.deadline {
            return Err(format!(
                "timed out after {} s ([llm] timeout_secs)",
                self.limit.as_secs_f64()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Stop;
    use std::time::Duration;

    #[test]
    fn a_stop_fires_on_its_deadline_or_when_its_guard_is_dropped() {
        let (stop, guard) = Stop::after(Duration::from_secs(60));
        assert!(stop.check().is_ok());
        drop(guard);
        assert!(stop.check().unwrap_err().contains("cancelled"));
        let (mut stop, _guard) = Stop::after(Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(30));
        assert!(stop.check().unwrap_err().contains("timed out after 0.02 s"));
        stop.start();
        assert!(
            stop.check().is_ok(),
            "the limit counts from the start of the work"
        );
    }
}
