//! `Database::listen`: PostgreSQL `LISTEN` on one channel for as long as the caller keeps the
//! receiver, reconnecting with backoff. Each (re)connection is announced before any payload: whatever was
//! sent while nobody listened is lost, so a listener re-reads the table then. On SQLite there
//! is one process and nothing to hear: there is no receiver.

use std::time::Duration;

use tokio::sync::mpsc;

use super::Database;

/// What a listener hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Listening: for the first time (`again: false`) or after a dropped connection, when
    /// notifications may have been missed.
    Listening { again: bool },
    /// One notification's payload.
    Payload(String),
}

const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl Database {
    /// Every notice on `channel`, in order, for as long as the receiver is kept (a task holds
    /// the connection); `None` on SQLite. `who` names the listener in the logs.
    pub fn listen(&self, channel: &'static str, who: &'static str) -> Option<mpsc::Receiver<Notice>> {
        let Database::Postgres(pool) = self else {
            return None;
        };
        let (tx, rx) = mpsc::channel(256);
        let pool = pool.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = relay(&pool, channel, who, &tx) => {}
                () = tx.closed() => {}
            }
        });
        Some(rx)
    }
}

/// LISTEN, relay, and on any failure reconnect after a growing pause; returns when nobody
/// receives any more.
async fn relay(pool: &sqlx::PgPool, channel: &str, who: &str, tx: &mpsc::Sender<Notice>) {
    let mut backoff = FIRST_BACKOFF;
    let mut again = false;
    loop {
        match sqlx::postgres::PgListener::connect_with(pool).await {
            Ok(mut listener) => match listener.listen(channel).await {
                Ok(()) => {
                    backoff = FIRST_BACKOFF;
                    let listening = Notice::Listening {
                        again: std::mem::replace(&mut again, true),
                    };
                    if tx.send(listening).await.is_err() {
                        return;
                    }
                    loop {
                        match listener.recv().await {
                            Ok(note) => {
                                if tx.send(Notice::Payload(note.payload().to_owned())).await.is_err() {
                                    return;
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "{who}: the LISTEN connection dropped; reconnecting");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "{who}: LISTEN failed; retrying"),
            },
            Err(e) => tracing::warn!(error = %e, "{who}: cannot LISTEN; retrying"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
