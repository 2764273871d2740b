//! Durable state: leads, messages, slots, evidence, scores, stages and turns.
//!
//! All SQL lives in this module; callers see only [`Store`] methods and plain
//! Rust types, so a PostgreSQL backend can be added behind the same methods
//! without touching them. SQLite runs in WAL mode with foreign keys on, and
//! migrations are embedded in the binary and applied at open.

mod commit;
mod handoffs;
mod inbox;
mod jobs;
mod leads;
mod memory;
mod migrate;
mod outbox;
mod outcomes;
mod scoring;
mod turns;

#[cfg(test)]
pub(crate) mod testing;

pub use commit::{Stale, TurnCommit, TurnSaved};
pub use handoffs::{DeliveryRow, FrozenHandoff, Handoff, HandoffRow, NewHandoff};
pub use inbox::{
    Accepted, Batch, Delivery, EchoEvent, Event, InboundEvent, RawWebhook, StatusEvent,
};
pub use jobs::{JobRow, PlannedStep};
pub use leads::{LeadFilter, LeadSummary};
pub use outbox::{OutboxRow, SendFailure};
pub use outcomes::{CalibrationSample, NewOutcome, OutcomeRecorded, OutcomeRow};
pub use turns::{EvidenceRow, Memory, ScoreRow, SlotValue, StageChange, TurnRow};

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
    #[error("cannot lock {path} while migrating the database: {source}")]
    MigrationLock {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("no lead matches \"{0}\"; `setter leads list` shows the ids")]
    LeadNotFound(String),
    #[error("\"{prefix}\" matches {count} leads; type more of the id")]
    AmbiguousLead { prefix: String, count: usize },
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
    #[error("an outcome's value must be a number ≥ 0 in the offer currency (got {0})")]
    BadOutcomeValue(f64),
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
    /// The business account the lead wrote to (phone number id, Page id, IG id).
    pub account_id: Option<String>,
    /// While in the future, a human has the conversation and the bot is silent.
    pub paused_until: Option<i64>,
    pub paused_reason: Option<String>,
    /// The lead's newest message: messaging windows count from it.
    pub last_inbound_at: Option<i64>,
    /// When the lead asked to stop hearing from the business: no follow-up
    /// is ever scheduled for them again.
    pub opted_out_at: Option<i64>,
    /// When the bot first sent the payment link (close in the DM).
    pub payment_link_sent_at: Option<i64>,
}

impl Lead {
    /// Whether a human has the conversation at `now` (the bot must not send).
    pub fn paused_at(&self, now: i64) -> bool {
        self.paused_until.is_some_and(|until| until > now)
    }
}

/// What a new conversation starts with (step 2 of the playbook: the minimum).
#[derive(Debug, Clone)]
pub struct NewLead {
    pub channel: Channel,
    pub external_id: String,
    pub name: Option<String>,
    pub source: Option<String>,
    /// The business account written to, when the channel has several.
    pub account_id: Option<String>,
}

impl NewLead {
    /// The channel identity of an existing lead (what an accept keys on).
    pub fn of(lead: &Lead) -> NewLead {
        NewLead {
            channel: lead.channel,
            external_id: lead.external_id.clone(),
            name: None,
            source: None,
            account_id: None,
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub id: i64,
    pub direction: crate::lead::Direction,
    pub text: String,
    pub at: i64,
    /// Who wrote it: the lead, the bot, or a human from the business inbox.
    pub author: Author,
}

/// A message for unit tests: the lead's (`In`) or the bot's (`Out`), at `id` ms.
#[cfg(test)]
pub(crate) fn test_message(id: i64, direction: crate::lead::Direction, text: &str) -> Message {
    let author = match direction {
        crate::lead::Direction::In => Author::Lead,
        crate::lead::Direction::Out => Author::Bot,
    };
    Message {
        id,
        direction,
        text: text.into(),
        at: id,
        author,
    }
}

/// Who wrote a message. A human's message (an echo from the business inbox)
/// is an outgoing message the bot did not write, and pauses the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Lead,
    Bot,
    Human,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Lead => "lead",
            Author::Bot => "bot",
            Author::Human => "human",
        }
    }
}

impl FromStr for Author {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "lead" => Ok(Author::Lead),
            "bot" => Ok(Author::Bot),
            "human" => Ok(Author::Human),
            other => Err(format!("\"{other}\" is not an author (lead, bot, human)")),
        }
    }
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
        let connect = async {
            SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await
                .map_err(open_err)
        };
        let pool = migrate::open_locked(url, connect).await?;
        Ok(Store { pool })
    }

    /// A write transaction that takes SQLite's write lock at once: reads in it
    /// see the latest commit and cannot be invalidated by another writer
    /// (a deferred transaction that reads first fails with SQLITE_BUSY when
    /// another connection commits in between). PostgreSQL would use
    /// `SELECT … FOR UPDATE` on the lead row for the same effect.
    async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Whether the database answers (health checks).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool, checkpointing the WAL.
    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// Claimed rows in the order their ids were claimed (a claim query decides
/// the order; reading the rows back by id would lose it). `ids` go to SQL as
/// one JSON array, read with `json_each`: a claim of 64 rows is three
/// statements, not two per row.
fn in_claim_order<T>(ids: &[i64], mut rows: Vec<T>, id: impl Fn(&T) -> i64) -> Vec<T> {
    rows.sort_by_key(|r| ids.iter().position(|&i| i == id(r)));
    rows
}

/// `ids` as the JSON array `json_each` reads.
fn id_list(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_default()
}

fn parse<T: FromStr<Err = String>>(s: &str) -> Result<T> {
    s.parse().map_err(Error::Corrupt)
}
