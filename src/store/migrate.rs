//! Schema migrations, safe when several processes open a new database at once.
//!
//! sqlx applies each migration in its own transaction, but two processes that
//! both find the database empty both try `CREATE TABLE leads`, and one fails
//! with "table leads already exists". An exclusive lock on a file next to the
//! database serialises them: the second finds the migrations applied and has
//! nothing to do. (PostgreSQL will use sqlx's advisory lock instead.)

use super::{Error, Result};
use sqlx::SqlitePool;
use std::path::PathBuf;

/// Applies the embedded migrations under the lock.
pub(super) async fn run(pool: &SqlitePool, url: &str) -> Result<()> {
    let lock = match lock_path(url) {
        Some(path) => Some(
            tokio::task::spawn_blocking(move || lock(path))
                .await
                .map_err(|e| Error::MigrationLock {
                    path: PathBuf::from(url),
                    source: std::io::Error::other(e),
                })??,
        ),
        None => None,
    };
    let result = sqlx::migrate!("./migrations").run(pool).await;
    drop(lock); // Dropping the file releases the lock.
    Ok(result?)
}

/// Opens and exclusively locks `path`, waiting for another process to finish.
fn lock(path: PathBuf) -> Result<std::fs::File> {
    let err = |source| Error::MigrationLock {
        path: path.clone(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(err)?;
    file.lock().map_err(err)?;
    Ok(file)
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
