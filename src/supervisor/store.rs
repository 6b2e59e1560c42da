//! The supervisor's SQLite database, shared by every app instance: users,
//! one status row per user (what the dashboard shows), and per-user leases.
//!
//! A lease row (owner, expiry, fencing token) lets one instance at a time own
//! a user; status writes may carry the token so that an instance that lost
//! its lease can no longer overwrite the row.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use crate::trace::{ConnectionState, EventKind, Recorder};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id          TEXT PRIMARY KEY,
    enabled     INTEGER NOT NULL,
    credentials TEXT,
    logged_out  INTEGER NOT NULL DEFAULT 0,
    held        INTEGER NOT NULL DEFAULT 0,
    -- The current episode, shared by instances that hand a user over.
    attempts           INTEGER NOT NULL DEFAULT 0,
    last_disconnect_ms INTEGER
);
CREATE TABLE IF NOT EXISTS connection_status (
    user_id       TEXT PRIMARY KEY,
    status        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    instance      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    user_id       TEXT PRIMARY KEY,
    owner         TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    token         INTEGER NOT NULL
);
";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("store: bad status `{0}` in connection_status")]
    BadStatus(String),
}

/// A user row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: String,
    pub enabled: bool,
    /// `None` until the user pairs a device.
    pub credentials: Option<String>,
    /// Set on 401: the device was unlinked.
    pub logged_out: bool,
    /// A person pressed disconnect (on any instance) and has not pressed
    /// connect since: no instance connects the user on its own.
    pub held: bool,
}

/// A user's status row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRow {
    pub status: ConnectionState,
    pub reason: String,
    pub updated_at_ms: u64,
    pub instance: String,
}

/// A user's current episode of failures, as instances share it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EpisodeRow {
    /// Backoff attempts so far.
    pub attempts: u32,
    /// Virtual time of the last disconnect, in ms.
    pub last_disconnect_ms: Option<u64>,
}

/// What an attempt to take a user's lease found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseOutcome {
    /// The caller owns the lease until it expires; writes carry `token`.
    Acquired { token: u64 },
    /// Another instance holds an unexpired lease.
    Held { owner: String, expires_at_ms: u64 },
}

/// Handle to the shared database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Arc<Mutex<Connection>>,
    recorder: Recorder,
}

impl Store {
    /// A fresh private in-memory database (the simulation's store).
    pub fn open_in_memory(recorder: Recorder) -> Result<Store, StoreError> {
        Store::from_connection(Connection::open_in_memory()?, recorder)
    }

    /// Uses an open connection (a file database for real use).
    pub fn from_connection(conn: Connection, recorder: Recorder) -> Result<Store, StoreError> {
        conn.execute_batch(SCHEMA)?;
        Ok(Store {
            db: Arc::new(Mutex::new(conn)),
            recorder,
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut db = self.db.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(f(&mut db)?)
    }

    fn now_ms(&self) -> u64 {
        crate::util::ms(self.recorder.now())
    }

    pub fn add_user(
        &self,
        id: &str,
        enabled: bool,
        credentials: Option<&str>,
    ) -> Result<(), StoreError> {
        self.with(|db| {
            db.prepare_cached("INSERT OR REPLACE INTO users (id, enabled, credentials, logged_out) VALUES (?1, ?2, ?3, 0)")?.execute(
                params![id, enabled, credentials],
            )
            .map(drop)
        })
    }

    /// Every user, in id order.
    pub fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        self.with(|db| {
            let mut stmt = db.prepare_cached(
                "SELECT id, enabled, credentials, logged_out, held FROM users ORDER BY id",
            )?;
            let rows = stmt.query_map([], user_row)?;
            rows.collect()
        })
    }

    pub fn user(&self, id: &str) -> Result<Option<UserRow>, StoreError> {
        self.with(|db| {
            db.prepare_cached(
                "SELECT id, enabled, credentials, logged_out, held FROM users WHERE id = ?1",
            )?
            .query_row([id], user_row)
            .optional()
        })
    }

    /// Stores the credentials a pairing produced; clears a logout.
    /// Deletes the user's credentials: it must pair again. Recorded as
    /// ground truth for `credentials_kept`.
    pub fn delete_credentials(&self, instance: &str, id: &str) -> Result<(), StoreError> {
        self.with(|db| {
            db.prepare_cached("UPDATE users SET credentials = NULL WHERE id = ?1")?
                .execute(params![id])
                .map(drop)
        })?;
        self.recorder
            .record(instance, Some(id), EventKind::CredentialsDeleted {});
        Ok(())
    }

    pub fn set_credentials(&self, id: &str, credentials: &str) -> Result<(), StoreError> {
        self.with(|db| {
            db.prepare_cached("UPDATE users SET credentials = ?2, logged_out = 0 WHERE id = ?1")?
                .execute(params![id, credentials])
                .map(drop)
        })
    }

    /// The user's episode as last saved (zero for an unknown user).
    pub fn episode(&self, id: &str) -> Result<EpisodeRow, StoreError> {
        self.with(|db| {
            db.prepare_cached("SELECT attempts, last_disconnect_ms FROM users WHERE id = ?1")?
                .query_row([id], |r| {
                    Ok(EpisodeRow {
                        attempts: r.get(0)?,
                        last_disconnect_ms: r.get(1)?,
                    })
                })
                .optional()
                .map(Option::unwrap_or_default)
        })
    }

    /// Saves the user's episode, for whichever instance owns the user next.
    pub fn save_episode(&self, id: &str, episode: EpisodeRow) -> Result<(), StoreError> {
        self.with(|db| {
            db.prepare_cached(
                "UPDATE users SET attempts = ?2, last_disconnect_ms = ?3 WHERE id = ?1",
            )?
            .execute(params![id, episode.attempts, episode.last_disconnect_ms])
            .map(drop)
        })
    }

    /// Records whether a person's disconnect holds the user.
    pub fn set_held(&self, id: &str, held: bool) -> Result<(), StoreError> {
        self.with(|db| {
            db.prepare_cached("UPDATE users SET held = ?2 WHERE id = ?1")?
                .execute(params![id, held])
                .map(drop)
        })
    }

    /// Marks a user logged out (401): its credentials are gone.
    pub fn set_logged_out(&self, id: &str) -> Result<(), StoreError> {
        self.with(|db| {
            db.prepare_cached("UPDATE users SET logged_out = 1, credentials = NULL WHERE id = ?1")?
                .execute([id])
                .map(drop)
        })
    }

    /// Marks a user as waiting for a person (after 403 or 411: no retry can
    /// succeed) or ends that wait (a person pressed connect). Unlike
    /// [`Store::set_logged_out`] the credentials stay.
    pub fn set_waits_for_person(&self, id: &str, waits: bool) -> Result<(), StoreError> {
        self.with(|db| {
            db.prepare_cached("UPDATE users SET logged_out = ?2 WHERE id = ?1")?
                .execute(params![id, waits])
                .map(drop)
        })
    }

    /// Writes a user's status row. With `fence`, the write happens only while
    /// `fence` is still the user's lease token; returns whether it was written.
    pub fn write_status(
        &self,
        instance: &str,
        user: &str,
        status: ConnectionState,
        reason: &str,
        fence: Option<u64>,
    ) -> Result<bool, StoreError> {
        let now = self.now_ms();
        let written = self.with(|db| {
            if let Some(token) = fence {
                let current: Option<u64> = db.prepare_cached("SELECT token FROM leases WHERE user_id = ?1")?.query_row( [user], |r| r.get(0))
                    .optional()?;
                if current != Some(token) {
                    return Ok(false);
                }
            }
            db.prepare_cached("INSERT INTO connection_status (user_id, status, reason, updated_at_ms, instance)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(user_id) DO UPDATE SET status = ?2, reason = ?3, updated_at_ms = ?4, instance = ?5")?.execute(
                params![user, status.as_str(), reason, now, instance],
            )?;
            Ok(true)
        })?;
        if written {
            self.recorder.record(
                instance,
                Some(user),
                EventKind::StoreWritten {
                    status,
                    reason: reason.to_string(),
                },
            );
        }
        Ok(written)
    }

    pub fn status(&self, user: &str) -> Result<Option<StatusRow>, StoreError> {
        let row = self.with(|db| {
            db.prepare_cached("SELECT status, reason, updated_at_ms, instance FROM connection_status WHERE user_id = ?1")?.query_row(
                [user],
                |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
        })?;
        row.map(|(status, reason, updated_at_ms, instance)| {
            let status = ConnectionState::parse(&status).ok_or(StoreError::BadStatus(status))?;
            Ok(StatusRow {
                status,
                reason,
                updated_at_ms,
                instance,
            })
        })
        .transpose()
    }

    /// The instance holding `user`'s unexpired lease, if any.
    pub fn lease_holder(&self, user: &str) -> Result<Option<String>, StoreError> {
        let now = self.now_ms();
        self.with(|db| {
            db.prepare_cached("SELECT owner FROM leases WHERE user_id = ?1 AND expires_at_ms > ?2")?
                .query_row(params![user, now], |r| r.get(0))
                .optional()
        })
    }

    /// Takes `user`'s lease for `owner` if it is free, expired or already
    /// `owner`'s; a new owner gets a new fencing token.
    pub fn acquire_lease(
        &self,
        user: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<LeaseOutcome, StoreError> {
        let now = self.now_ms();
        let expires = now.saturating_add(crate::util::ms(ttl));
        self.with(|db| {
            let tx = db.transaction()?;
            let current: Option<(String, u64, u64)> = tx.prepare_cached("SELECT owner, expires_at_ms, token FROM leases WHERE user_id = ?1")?.query_row(
                    [user],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let outcome = match current {
                Some((holder, until, _)) if holder != owner && until > now => {
                    LeaseOutcome::Held { owner: holder, expires_at_ms: until }
                }
                Some((holder, _, token)) => {
                    let token = if holder == owner { token } else { token + 1 };
                    tx.prepare_cached("UPDATE leases SET owner = ?2, expires_at_ms = ?3, token = ?4 WHERE user_id = ?1")?.execute(
                        params![user, owner, expires, token],
                    )?;
                    LeaseOutcome::Acquired { token }
                }
                None => {
                    tx.prepare_cached("INSERT INTO leases (user_id, owner, expires_at_ms, token) VALUES (?1, ?2, ?3, 1)")?.execute(
                        params![user, owner, expires],
                    )?;
                    LeaseOutcome::Acquired { token: 1 }
                }
            };
            tx.commit()?;
            Ok(outcome)
        })
    }

    /// Extends a lease still held with `token`; false if it was lost.
    pub fn renew_lease(
        &self,
        user: &str,
        owner: &str,
        token: u64,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = self.now_ms();
        let expires = now.saturating_add(crate::util::ms(ttl));
        self.with(|db| {
            db.prepare_cached("UPDATE leases SET expires_at_ms = ?4 WHERE user_id = ?1 AND owner = ?2 AND token = ?3")?.execute(
                params![user, owner, token, expires],
            )
            .map(|n| n == 1)
        })
    }

    /// Gives a lease up at once (manual disconnect).
    pub fn release_lease(&self, user: &str, owner: &str, token: u64) -> Result<(), StoreError> {
        self.with(|db| {
            db.prepare_cached("UPDATE leases SET expires_at_ms = 0 WHERE user_id = ?1 AND owner = ?2 AND token = ?3")?.execute(
                params![user, owner, token],
            )
            .map(drop)
        })
    }

    /// The reference's clean-up script: every status row to DISCONNECTED.
    pub fn reset_all_statuses(&self, instance: &str) -> Result<(), StoreError> {
        let users: Vec<String> = self.with(|db| {
            let mut stmt = db.prepare("SELECT user_id FROM connection_status ORDER BY user_id")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })?;
        for user in users {
            self.write_status(
                instance,
                &user,
                ConnectionState::Disconnected,
                "cleanup",
                None,
            )?;
        }
        Ok(())
    }
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: r.get(0)?,
        enabled: r.get(1)?,
        credentials: r.get(2)?,
        logged_out: r.get(3)?,
        held: r.get(4)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TokioClock;

    fn store() -> Store {
        Store::open_in_memory(Recorder::new(Arc::new(TokioClock::start()))).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_held_by_another_instance_is_refused_until_it_expires() {
        let s = store();
        let ttl = Duration::from_secs(75);
        assert_eq!(
            s.acquire_lease("alice", "app-1", ttl).unwrap(),
            LeaseOutcome::Acquired { token: 1 }
        );
        tokio::time::advance(Duration::from_secs(74)).await;
        assert!(matches!(
            s.acquire_lease("alice", "app-2", ttl).unwrap(),
            LeaseOutcome::Held { .. }
        ));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            s.acquire_lease("alice", "app-2", ttl).unwrap(),
            LeaseOutcome::Acquired { token: 2 }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_fenced_write_with_a_stale_token_is_dropped() {
        let s = store();
        let ttl = Duration::from_secs(75);
        s.acquire_lease("alice", "app-1", ttl).unwrap();
        tokio::time::advance(ttl).await;
        s.acquire_lease("alice", "app-2", ttl).unwrap();
        assert!(!s
            .write_status("app-1", "alice", ConnectionState::Connected, "x", Some(1))
            .unwrap());
        assert!(s
            .write_status("app-2", "alice", ConnectionState::Connected, "x", Some(2))
            .unwrap());
        assert_eq!(s.status("alice").unwrap().unwrap().instance, "app-2");
    }
}
