//! Loading `auth.*` (the section itself is `app::identity::AuthConfig`): the seeds' variable
//! names and secrets that never show.

#[cfg(test)]
#[allow(
    clippy::result_large_err,
    reason = "figment::Jail's closures return figment::Error"
)]
mod tests {
    use figment::Jail;
    use secrecy::ExposeSecret;

    use crate::config::Config;

    #[test]
    fn the_seeds_auth_variables_are_read() {
        Jail::expect_with(|jail| {
            jail.set_env("HEIMDALL_AUTH__ENABLED", "false");
            jail.set_env("HEIMDALL_AUTH__ALLOWED_EMAILS", r#"["a@x.com", "b@y.com"]"#);
            jail.set_env("HEIMDALL_AUTH__ALLOWED_DOMAINS", "example.com, example.org");
            jail.set_env("HEIMDALL_AUTH__GOOGLE_CLIENT_ID", "id.apps.googleusercontent.com");
            jail.set_env("HEIMDALL_AUTH__GOOGLE_CLIENT_SECRET", "google-secret");
            jail.set_env("HEIMDALL_AUTH__SESSION_SECRET_KEY", "k".repeat(40));
            jail.set_env("ADMIN_TOKEN", "operator-console-token");
            jail.set_env("HEIMDALL_AUTH__KEYCLOAK__DEFAULT_ROLE", "none");
            let config = Config::load(None).expect("loads");
            let auth = &config.auth;
            assert!(!auth.enabled);
            assert_eq!(auth.allowed_emails, ["a@x.com", "b@y.com"]);
            assert_eq!(auth.allowed_domains, ["example.com", "example.org"]);
            assert_eq!(
                auth.google_client_id.as_deref(),
                Some("id.apps.googleusercontent.com")
            );
            assert_eq!(
                auth.admin_token
                    .as_ref()
                    .map(|t| t.expose_secret().to_owned())
                    .as_deref(),
                Some("operator-console-token")
            );
            assert_eq!(auth.keycloak.default_role, None);
            // Secrets never reach `config check`.
            let shown = config.to_redacted_toml();
            for secret in ["google-secret", "operator-console-token", "kkkkkkkk"] {
                assert!(!shown.contains(secret), "{secret} in\n{shown}");
            }
            assert!(shown.contains("admin_token = \"***\""), "{shown}");
            Ok(())
        });
    }

    #[test]
    fn auth_is_on_with_no_static_token_by_default() {
        Jail::expect_with(|_| {
            let auth = Config::load(None).expect("defaults").auth;
            assert!(auth.enabled);
            assert!(auth.admin_token.is_none());
            assert!(auth.google_client_id.is_none() && auth.keycloak.issuer.is_none());
            assert_eq!(auth.password_min_length, 8);
            Ok(())
        });
    }

    #[test]
    fn half_configured_providers_and_weak_keys_are_refused_with_their_keys_named() {
        Jail::expect_with(|jail| {
            jail.set_env("HEIMDALL_AUTH__GOOGLE_CLIENT_ID", "only-the-id");
            jail.set_env("HEIMDALL_AUTH__KEYCLOAK__ISSUER", "not a url");
            jail.set_env("HEIMDALL_AUTH__SESSION_SECRET_KEY", "short");
            jail.set_env("HEIMDALL_AUTH__PASSWORD_MIN_LENGTH", "4");
            let message = Config::load(None).expect_err("invalid").to_string();
            for expected in [
                "auth.google_client_id and auth.google_client_secret must be set together",
                "auth.keycloak.issuer is set but auth.keycloak.client_secret is not",
                "auth.keycloak.issuer = \"not a url\": expected an http(s) URL",
                "auth.session_secret_key is shorter than 32 bytes",
                "auth.password_min_length = 4: expected 8 to 128",
            ] {
                assert!(message.contains(expected), "{expected} in {message}");
            }
            assert!(
                !message.contains("short\""),
                "the key itself is not echoed: {message}"
            );
            Ok(())
        });
    }
}
