//! Opening and migrating a database, safe when several processes open a new
//! database at once.
//!
//! sqlx applies each migration in its own transaction, but two processes that
//! both find the database empty both try `CREATE TABLE leads`, and one fails
//! with "table leads already exists". Opening itself races too: the first
//! connection switches a new file to WAL, and another process connecting in
//! that moment can get "database is locked" without SQLite's busy handler
//! being asked (seen under load: 1 of 7 runs of six processes). An
//! exclusive lock on a file next to the database serialises both: the next
//! process opens a database already in WAL and finds the migrations applied.
//! (PostgreSQL will use sqlx's advisory lock instead.)

use super::{Error, Result};
use sqlx::SqlitePool;
use std::future::Future;
use std::path::PathBuf;

/// Runs `open` (connect) and then the embedded migrations on its pool, both
/// under the lock.
pub(super) async fn open_locked<F>(url: &str, open: F) -> Result<SqlitePool>
where
    F: Future<Output = Result<SqlitePool>>,
{
    let lock = match lock_path(url) {
        Some(path) => tokio::task::spawn_blocking(move || lock(path))
            .await
            .map_err(|e| Error::MigrationLock {
                path: PathBuf::from(url),
                source: std::io::Error::other(e),
            })??,
        None => None,
    };
    let pool = open.await?;
    let result = sqlx::migrate!("./migrations").run(&pool).await;
    drop(lock); // Dropping the file releases the lock.
    result?;
    Ok(pool)
}

/// Opens and exclusively locks `path`, waiting for another process to finish.
/// `None` when the directory does not exist: connecting then fails with
/// SQLite's own "unable to open database file", which names the database,
/// not the lock file.
fn lock(path: PathBuf) -> Result<Option<std::fs::File>> {
    let err = |source| Error::MigrationLock {
        path: path.clone(),
        source,
    };
    let file = match std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(e)),
    };
    file.lock().map_err(err)?;
    Ok(Some(file))
}

/// `setter.db` → `setter.db.migrate-lock`; none for in-memory databases.
fn lock_path(url: &str) -> Option<PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    let mut lock = PathBuf::from(path).into_os_string();
    lock.push(".migrate-lock");
    Some(PathBuf::from(lock))
}

#[cfg(test)]
mod tests {
    use super::lock_path;
    use std::path::PathBuf;

    #[test]
    fn the_lock_file_sits_next_to_the_database() {
        assert_eq!(
            lock_path("sqlite:///tmp/a/setter.db?mode=rwc"),
            Some(PathBuf::from("/tmp/a/setter.db.migrate-lock"))
        );
        assert_eq!(
            lock_path("sqlite://setter.db"),
            Some(PathBuf::from("setter.db.migrate-lock"))
        );
        assert_eq!(lock_path("sqlite::memory:"), None);
    }
}

#[cfg(test)]
mod race {
    use crate::store::Store;

    /// Several processes creating one new database at once (here: tasks,
    /// each with its own pool and lock file handle) all succeed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_opens_of_a_new_database_all_migrate() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("new.db").display());
        let opens: Vec<_> = (0..8)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { Store::open(&url).await.map(|_| ()) })
            })
            .collect();
        for open in opens {
            open.await.unwrap().unwrap();
        }
    }
}
