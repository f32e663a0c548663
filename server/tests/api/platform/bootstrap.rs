use argon2::PasswordVerifier;
use secrecy::ExposeSecret;

use app::db::testing::TempDbFile;

use crate::helpers::{spawn_app_with, test_config};

#[tokio::test]
async fn the_first_start_creates_one_admin_whose_printed_password_works() {
    let (config, file) = test_config().await;
    // The first app owns the SQLite file; it is removed when `first` goes at the end.
    let mut first = spawn_app_with(config.clone(), file).await;
    let admin = first
        .bootstrap_admin
        .take()
        .expect("first start creates the admin");
    assert_eq!(admin.username, "admin");
    assert!(admin.password.expose_secret().len() >= 20);

    let row = first
        .state
        .identity
        .store()
        .find_user_by_username("admin")
        .await
        .expect("admin row");
    assert_eq!(row.role, app::identity::Role::Admin);
    let phc = row.password_hash.expect("admin has a password");
    assert!(phc.as_phc().starts_with("$argon2id$"), "argon2id");
    let parsed = argon2::PasswordHash::new(phc.as_phc()).expect("PHC string");
    assert!(
        argon2::Argon2::default()
            .verify_password(admin.password.expose_secret().as_bytes(), &parsed)
            .is_ok()
    );
    first.stop().await.expect("stop");

    // A second start on the same database creates nobody and prints nothing.
    let second = spawn_app_with(config, TempDbFile::default()).await;
    assert!(second.bootstrap_admin.is_none());
    assert_eq!(second.state.identity.count_users().await.expect("count"), 1);
}
