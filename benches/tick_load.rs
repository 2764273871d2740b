//! The follow-up worker's tick with 10 k, 100 k and 1 M pending future jobs
//! and 100 due: finding due jobs uses the (state, due_at) index, so the
//! tick's cost should not grow with the jobs that are not due.

use setter::config::{self, Config};
use setter::lead::Channel;
use setter::prompts::Prompts;
use setter::scheduler::Scheduler;
use setter::store::{NewLead, Store};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

const DUE: i64 = 100;

async fn setup(dir: &Path, future: i64) -> Scheduler {
    let url = format!(
        "sqlite://{}",
        dir.join(format!("tick-{future}.db")).display()
    );
    let store = Store::open(&url).await.unwrap();
    let new = NewLead {
        channel: Channel::Webchat,
        external_id: "tick".into(),
        name: Some("Bench".into()),
        source: None,
        account_id: None,
    };
    let lead = store.lead_for(&new, 0).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    // Future jobs (due far ahead), then the due ones, each its own epoch.
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 + ?2)
         INSERT INTO jobs (lead_id, epoch, step, kind, due_at, state, idempotency_key, created_at, updated_at)
         SELECT ?3, i, 1, 'soft', CASE WHEN i <= ?2 THEN 1000 ELSE 9000000000000 + i END,
                'pending', 'bench:' || i, 0, 0 FROM n",
    )
    .bind(future)
    .bind(DUE)
    .bind(&lead.id)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let mut c = Config::example();
    c.followups.quiet_hours = String::new();
    let loaded = config::finish(c, Path::new("bench"), dir.to_path_buf()).unwrap();
    let prompts = Prompts::load(None).unwrap();
    Scheduler::new(store, Arc::new(prompts), Arc::new(loaded))
}

/// The section's Markdown.
pub async fn run(dir: &Path) -> String {
    let mut out = String::from(
        "| pending future jobs | due jobs | tick ms | due jobs sent per s |\n|---|---|---|---|\n",
    );
    let mut ticks = Vec::new();
    for future in [10_000_i64, 100_000, 1_000_000] {
        let scheduler = setup(dir, future).await;
        let started = Instant::now();
        let report = scheduler.tick(2000).await.unwrap();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        // One epoch each: all 100 go out (none supersedes another).
        assert_eq!(report.sent as i64 + report.skipped.len() as i64, DUE);
        out.push_str(&format!(
            "| {future} | {DUE} | {ms:.1} | {:.0} |\n",
            report.sent as f64 / (ms / 1000.0)
        ));
        ticks.push(ms);
    }
    out.push_str(&format!(
        "\nTick cost at 1 M future jobs is **{:.2}×** the cost at 10 k (aim ≤ 1.5×).\n",
        ticks[2] / ticks[0]
    ));
    out
}
