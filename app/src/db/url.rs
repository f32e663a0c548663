//! Parsing and redacting database URLs: `sqlite:` / plain paths and `postgres://`.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};

use super::Backend;

/// A database URL whose backend is known and whose password never reaches a log or an error.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    backend: Backend,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("expected sqlite:<path>, a file path, or postgres://user:password@host:port/database; got {0}")]
pub struct UrlError(pub String);

impl DatabaseUrl {
    /// Accepts `sqlite:`, `postgres://` and `postgresql://`, the seeds' SQLAlchemy spellings
    /// (`sqlite+aiosqlite:///./heimdall.db`, `postgresql+asyncpg://…`) and a bare file path.
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(UrlError("an empty value".into()));
        }
        let (scheme, rest) = match input.split_once(':') {
            Some((scheme, rest)) if !scheme.contains('/') && scheme.len() > 1 => (scheme, rest),
            _ => {
                return Ok(Self {
                    raw: format!("sqlite:{input}"),
                    backend: Backend::Sqlite,
                });
            }
        };
        let driver = scheme.split('+').next().unwrap_or(scheme).to_ascii_lowercase();
        match driver.as_str() {
            "sqlite" => {
                // SQLAlchemy's `sqlite:///./x.db` means the relative path `./x.db`.
                let path = rest
                    .strip_prefix("///")
                    .or_else(|| rest.strip_prefix("//"))
                    .unwrap_or(rest);
                if path.is_empty() {
                    return Err(UrlError(format!("{scheme}: with no file path")));
                }
                Ok(Self {
                    raw: format!("sqlite:{path}"),
                    backend: Backend::Sqlite,
                })
            }
            "postgres" | "postgresql" => {
                let raw = format!("postgres:{rest}");
                let parsed =
                    url::Url::parse(&raw).map_err(|e| UrlError(format!("{} ({e})", redact(&raw))))?;
                if parsed.host_str().is_none_or(str::is_empty) {
                    return Err(UrlError(format!("{} (no host)", redact(&raw))));
                }
                Ok(Self {
                    raw,
                    backend: Backend::Postgres,
                })
            }
            other => Err(UrlError(format!(
                "the unsupported scheme {other:?} in {}",
                redact(input)
            ))),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL with any password replaced by `***`, safe for logs and error messages.
    pub fn redacted(&self) -> String {
        redact(&self.raw)
    }

    /// The full URL, password included. Only for handing to the driver.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    pub(super) fn sqlite_options(&self) -> Result<SqliteConnectOptions, sqlx::Error> {
        Ok(SqliteConnectOptions::from_str(&self.raw)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5)))
    }

    pub(super) fn postgres_options(&self) -> Result<PgConnectOptions, sqlx::Error> {
        PgConnectOptions::from_str(&self.raw).map(|o| o.application_name("heimdall"))
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Replaces the password of `scheme://user:password@host` with `***`; other strings pass through.
pub fn redact(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_path_is_a_sqlite_file() {
        let url = DatabaseUrl::parse("data/heimdall.db").expect("valid");
        assert_eq!(url.backend(), Backend::Sqlite);
        assert_eq!(url.expose(), "sqlite:data/heimdall.db");
    }

    #[test]
    fn the_seeds_sqlalchemy_urls_are_understood() {
        let sqlite = DatabaseUrl::parse("sqlite+aiosqlite:///./heimdall.db").expect("valid");
        assert_eq!(sqlite.expose(), "sqlite:./heimdall.db");
        let pg = DatabaseUrl::parse("postgresql+asyncpg://u:p@db:5432/heimdall").expect("valid");
        assert_eq!(pg.backend(), Backend::Postgres);
        assert_eq!(pg.expose(), "postgres://u:p@db:5432/heimdall");
    }

    #[test]
    fn passwords_never_appear_in_the_redacted_form() {
        let url = DatabaseUrl::parse("postgres://u:secret@127.0.0.1:1/x").expect("valid");
        assert_eq!(url.redacted(), "postgres://u:***@127.0.0.1:1/x");
        assert!(!format!("{url:?} {url}").contains("secret"));
    }

    #[test]
    fn unknown_schemes_are_rejected_without_leaking_the_password() {
        let err = DatabaseUrl::parse("mysql://root:hunter2@db/x").expect_err("unsupported");
        assert!(err.to_string().contains("\"mysql\""), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn a_postgres_url_needs_a_host() {
        assert!(DatabaseUrl::parse("postgres:///x").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }
}
