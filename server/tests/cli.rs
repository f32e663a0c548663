//! The `heimdall` binary as an operator meets it: exit codes and one-line errors.

use std::process::{Command, Output};

fn heimdall(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_heimdall"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run heimdall")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_unreachable_database_is_one_line_naming_it_with_the_password_redacted() {
    let out = heimdall(
        &["serve"],
        // Port 0: `scripts/heimdall run` may be serving on the default 3000 meanwhile.
        &[
            ("HEIMDALL_DATABASE_URL", "postgres://u:secret@127.0.0.1:1/x"),
            ("HEIMDALL_SERVER__PORT", "0"),
        ],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(
            "heimdall: cannot connect to the postgresql database postgres://u:***@127.0.0.1:1/x"
        ),
        "{err}"
    );
    assert!(!err.contains("secret"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_non_numeric_port_names_the_key_and_exits_2() {
    let out = heimdall(&["serve"], &[("HEIMDALL_SERVER__PORT", "abc")]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("server.port (from HEIMDALL_SERVER__PORT)"), "{err}");
}

#[test]
fn config_check_prints_the_effective_configuration_redacted() {
    let out = heimdall(
        &["config", "check"],
        &[
            ("HEIMDALL_DATABASE_URL", "postgres://u:secret@db/h"),
            ("HEIMDALL_SERVER__PORT", "8088"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("port = 8088"), "{stdout}");
    assert!(stdout.contains("postgres://u:***@db/h"), "{stdout}");
    assert!(!stdout.contains(":secret@"), "{stdout}");
}

#[test]
fn migrate_creates_the_sqlite_file_and_logs_json_when_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("migrated.db");
    let url = format!("sqlite:{}", db.display());
    let out = heimdall(
        &["migrate"],
        &[
            ("HEIMDALL_DATABASE_URL", url.as_str()),
            ("HEIMDALL_LOG__FORMAT", "json"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(db.is_file());
    let err = stderr(&out);
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["message"] == "migrations applied"),
        "{err}"
    );
}

#[test]
fn binding_beyond_loopback_without_the_opt_in_is_refused() {
    let out = heimdall(&["serve"], &[("HEIMDALL_SERVER__HOST", "0.0.0.0")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("allow_external_bind"), "{}", stderr(&out));
}

#[test]
fn vault_rotate_without_a_keyring_says_the_vault_is_off() {
    let dir = std::env::temp_dir().join(format!("heimdall-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite:{}", dir.join("rotate.db").display());
    let out = heimdall(&["vault", "rotate"], &[("HEIMDALL_DATABASE_URL", &url)]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(
        err.lines().last(),
        Some("heimdall: the vault is off: no vault.keys configured"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn vault_keys_without_keycloak_stop_start_up_naming_both() {
    let out = heimdall(
        &["config", "check"],
        &[(
            "HEIMDALL_VAULT__KEYS__A",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        )],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("vault.keys is set but Keycloak is not"), "{err}");
    assert!(!err.contains("0001020304"), "the key is never shown: {err}");
}
