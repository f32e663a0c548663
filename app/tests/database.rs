//! The repository conformance suite: the same assertions against whichever backend
//! `HEIMDALL_TEST_DATABASE` selects. The README's test command runs it for SQLite and for a
//! real PostgreSQL.

use app::audit::{Audit, AuditAction, AuditEvent, AuditFilter, Outcome};
use app::db::DbError;
use app::db::testing::{TestDatabase, fresh_database, test_backend};
use app::identity::store::{IdentityStore, NewUser, UserPatch};
use app::identity::{Role, hash_password};
use secrecy::SecretString;

fn store(t: &TestDatabase) -> IdentityStore {
    IdentityStore::new(t.db.clone())
}

fn viewer(username: &str) -> NewUser {
    NewUser {
        username: username.to_owned(),
        email: Some(format!("{username}@example.test")),
        display_name: username.to_uppercase(),
        password_hash: None,
        role: Role::Viewer,
    }
}

#[tokio::test]
async fn the_database_reports_the_backend_the_run_asked_for() {
    let t = fresh_database().await;
    assert_eq!(t.db.backend(), test_backend());
    t.db.ping().await.expect("ping");
    let version = t.db.server_version().await.expect("version");
    assert!(
        version.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "{version}"
    );
}

#[tokio::test]
async fn a_new_database_has_no_users_and_migrating_twice_is_harmless() {
    let t = fresh_database().await;
    let s = store(&t);
    t.db.migrate().await.expect("second migrate is a no-op");
    assert_eq!(s.count_users().await.expect("count"), 0);
}

#[tokio::test]
async fn inserted_users_read_back_field_for_field() {
    let t = fresh_database().await;
    let s = store(&t);
    let hash = hash_password(SecretString::from("s3cret-password"))
        .await
        .expect("hash");
    let mut new = viewer("ada");
    new.password_hash = Some(hash.clone());
    new.role = Role::Developer;
    let inserted = s.insert_user(&new).await.expect("insert");
    let found = s.find_user_by_username("ada").await.expect("find");
    assert_eq!(found.id, inserted.id);
    assert_eq!(found.email.as_deref(), Some("ada@example.test"));
    assert_eq!(found.display_name, "ADA");
    assert_eq!(found.role, Role::Developer);
    assert_eq!(found.password_hash, Some(hash));
    assert!(found.active);
    assert!(found.last_login_at.is_none());
    assert_eq!(found.created_at, found.updated_at);
}

#[tokio::test]
async fn a_taken_username_is_a_conflict_and_writes_nothing() {
    let t = fresh_database().await;
    let s = store(&t);
    s.insert_user(&viewer("grace")).await.expect("first insert");
    let mut again = viewer("grace");
    again.email = Some("other@example.test".into());
    let err = s.insert_user(&again).await.expect_err("duplicate username");
    assert!(matches!(err, DbError::Conflict { .. }), "{err:?}");
    assert_eq!(s.count_users().await.expect("count"), 1);
}

#[tokio::test]
async fn a_missing_user_is_not_found() {
    let t = fresh_database().await;
    let s = store(&t);
    let err = s.find_user_by_username("nobody").await.expect_err("missing");
    assert!(matches!(err, DbError::NotFound), "{err:?}");
}

#[tokio::test]
async fn settings_insert_then_replace() {
    let t = fresh_database().await;
    let s = store(&t);
    assert_eq!(s.get_setting("theme").await.expect("get"), None);
    s.put_setting("theme", "dark").await.expect("put");
    s.put_setting("theme", "light").await.expect("replace");
    assert_eq!(
        s.get_setting("theme").await.expect("get").as_deref(),
        Some("light")
    );
}

#[tokio::test]
async fn concurrent_bootstraps_create_exactly_one_admin() {
    let t = fresh_database().await;
    let s = store(&t);
    let admin = NewUser {
        role: Role::Admin,
        ..viewer("admin")
    };
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            let admin = admin.clone();
            tokio::spawn(async move { s.bootstrap_admin(&admin).await })
        })
        .collect();
    let mut created = 0;
    for attempt in attempts {
        match attempt.await.expect("task") {
            Ok(Some(row)) => {
                assert_eq!(row.role, Role::Admin);
                created += 1;
            }
            Ok(None) => {}
            Err(e) => panic!("bootstrap failed: {e:?}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(s.count_users().await.expect("count"), 1);
    let again = s.bootstrap_admin(&admin).await.expect("later start");
    assert!(again.is_none(), "a later start must not create another admin");
}

#[tokio::test]
async fn a_transaction_dropped_before_commit_changes_nothing() {
    let t = fresh_database().await;
    let s = store(&t);
    let user = s.insert_user(&viewer("ada")).await.expect("insert");
    let audit = Audit::new(t.db.clone());
    {
        let mut tx = t.db.begin().await.expect("begin");
        let patch = UserPatch {
            active: Some(false),
            ..UserPatch::default()
        };
        s.update_user_in(&mut tx, user.id, &patch).await.expect("update");
        let event = AuditEvent::success(AuditAction::UserDeactivated).target("ada");
        audit.record_in(&mut tx, &event).await.expect("audit");
        // Dropped here without commit: the error path of every multi-row change.
    }
    assert!(
        s.find_user(user.id).await.expect("find").active,
        "the update rolled back"
    );
    let entries = audit.list(&AuditFilter::default()).await.expect("list");
    assert!(
        entries.is_empty(),
        "the audit entry rolled back with it: {entries:?}"
    );
}

#[tokio::test]
async fn audit_rows_read_back_and_older_action_strings_stay_readable() {
    let t = fresh_database().await;
    let audit = Audit::new(t.db.clone());
    audit
        .record(
            AuditEvent::denied(AuditAction::LoginPassword)
                .by(None, "mallory")
                .target("ada")
                .detail("wrong username or password"),
        )
        .await;
    // A row written by another version, with an action this one has no variant for.
    let sql = "INSERT INTO audit_log (actor_id, actor, action, target, outcome, ip, detail, created_at, updated_at) \
               VALUES (NULL, 'old', 'legacy.thing', '', 'success', '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)";
    match &t.db {
        app::db::Database::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(drop),
        app::db::Database::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(drop),
    }
    .expect("insert a legacy row");
    let all = audit.list(&AuditFilter::default()).await.expect("list");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].action, "legacy.thing");
    let logins = audit
        .list(&AuditFilter {
            action: "login".into(),
            ..AuditFilter::default()
        })
        .await
        .expect("list logins");
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].action, "login.password");
    assert_eq!(logins[0].outcome, Outcome::Denied);
    assert_eq!(logins[0].actor, "mallory");
}
