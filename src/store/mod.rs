//! Durable state: leads, messages, slots, evidence, scores, stages and turns.
//!
//! All SQL lives in this module; callers see only [`Store`] methods and plain
//! Rust types, so a PostgreSQL backend can be added behind the same methods
//! without touching them. SQLite runs in WAL mode with foreign keys on, and
//! migrations are embedded in the binary and applied at open.

mod leads;
mod turns;

pub use leads::{LeadFilter, LeadSummary};
pub use turns::{EvidenceRow, Memory, ScoreRow, SlotValue, StageChange, TurnCommit, TurnRow};

use crate::lead::{Channel, Stage};
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::SqlitePool;
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open database {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("no lead matches \"{0}\"; `setter leads list` shows the ids")]
    LeadNotFound(String),
    #[error("\"{prefix}\" matches {count} leads; type more of the id")]
    AmbiguousLead { prefix: String, count: usize },
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A lead as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lead {
    pub id: String,
    pub channel: Channel,
    pub external_id: String,
    pub name: Option<String>,
    pub source: Option<String>,
    pub first_message: Option<String>,
    pub stage: Stage,
    pub created_at: i64,
}

/// What a new conversation starts with (step 2 of the playbook: the minimum).
#[derive(Debug, Clone)]
pub struct NewLead {
    pub channel: Channel,
    pub external_id: String,
    pub name: Option<String>,
    pub source: Option<String>,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub id: i64,
    pub direction: crate::lead::Direction,
    pub text: String,
    pub at: i64,
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if missing) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Store> {
        let open_err = |source| Error::Open {
            url: url.to_string(),
            source,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(open_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    /// Closes the pool, checkpointing the WAL.
    pub async fn close(self) {
        self.pool.close().await;
    }
}

fn parse<T: FromStr<Err = String>>(s: &str) -> Result<T> {
    s.parse().map_err(Error::Corrupt)
}
