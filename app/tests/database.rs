//! The repository conformance suite: the same assertions against whichever backend
//! `HEIMDALL_TEST_DATABASE` selects. The README's test command runs it for SQLite and for a
//! real PostgreSQL.

use app::db::testing::{fresh_database, test_backend};
use app::db::{DbError, NewUser};
use app::identity::{Role, hash_password};
use secrecy::SecretString;

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
    t.db.migrate().await.expect("second migrate is a no-op");
    assert_eq!(t.db.count_users().await.expect("count"), 0);
}

#[tokio::test]
async fn inserted_users_read_back_field_for_field() {
    let t = fresh_database().await;
    let hash = hash_password(SecretString::from("s3cret-password"))
        .await
        .expect("hash");
    let mut new = viewer("ada");
    new.password_hash = Some(hash.clone());
    new.role = Role::Developer;
    let inserted = t.db.insert_user(&new).await.expect("insert");
    let found = t.db.find_user_by_username("ada").await.expect("find");
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
    t.db.insert_user(&viewer("grace")).await.expect("first insert");
    let mut again = viewer("grace");
    again.email = Some("other@example.test".into());
    let err = t.db.insert_user(&again).await.expect_err("duplicate username");
    assert!(matches!(err, DbError::Conflict(_)), "{err:?}");
    assert_eq!(t.db.count_users().await.expect("count"), 1);
}

#[tokio::test]
async fn a_missing_user_is_not_found() {
    let t = fresh_database().await;
    let err = t.db.find_user_by_username("nobody").await.expect_err("missing");
    assert!(matches!(err, DbError::NotFound), "{err:?}");
}

#[tokio::test]
async fn settings_insert_then_replace() {
    let t = fresh_database().await;
    assert_eq!(t.db.get_setting("theme").await.expect("get"), None);
    t.db.put_setting("theme", "dark").await.expect("put");
    t.db.put_setting("theme", "light").await.expect("replace");
    assert_eq!(
        t.db.get_setting("theme").await.expect("get").as_deref(),
        Some("light")
    );
}

#[tokio::test]
async fn concurrent_bootstraps_create_exactly_one_admin() {
    let t = fresh_database().await;
    let admin = NewUser {
        role: Role::Admin,
        ..viewer("admin")
    };
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let db = t.db.clone();
            let admin = admin.clone();
            tokio::spawn(async move { db.bootstrap_admin(&admin).await })
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
    assert_eq!(t.db.count_users().await.expect("count"), 1);
    let again = t.db.bootstrap_admin(&admin).await.expect("later start");
    assert!(again.is_none(), "a later start must not create another admin");
}
