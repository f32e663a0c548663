//! Tests of `validate.rs`.

use std::path::Path;

use figment::Jail;

use super::*;
use crate::config::LogFormat;

fn load_err(jail_setup: impl FnOnce(&mut Jail)) -> String {
    let mut message = String::new();
    Jail::expect_with(|jail| {
        jail_setup(jail);
        message = Config::load(None).expect_err("must fail").to_string();
        Ok(())
    });
    message
}

#[test]
fn defaults_are_loopback_port_3000_and_a_sqlite_file() {
    Jail::expect_with(|_| {
        let config = Config::load(None).expect("defaults load");
        assert_eq!(config.server.host.to_string(), "127.0.0.1");
        assert_eq!(config.server.port, 3000);
        assert_eq!(config.database.url.expose(), "sqlite:heimdall.db");
        assert_eq!(config.log.format, LogFormat::Human);
        Ok(())
    });
}

#[test]
fn a_non_numeric_port_names_the_key_and_the_variable() {
    let message = load_err(|jail| jail.set_env("HEIMDALL_SERVER__PORT", "abc"));
    assert!(message.contains("server.port"), "{message}");
    assert!(message.contains("HEIMDALL_SERVER__PORT"), "{message}");
    assert!(message.contains("abc"), "{message}");
}

#[test]
fn the_seeds_variable_names_are_accepted() {
    Jail::expect_with(|jail| {
        jail.set_env(
            "HEIMDALL_JOBLOCATOR_K8S_OPERATOR__NAMESPACE_TO_WATCH",
            "flink,streaming",
        );
        jail.set_env("HEIMDALL_AUTH__DATABASE_URL", "sqlite+aiosqlite:///./seed.db");
        jail.set_env("HEIMDALL_APP_VERSION", "2");
        let config = Config::load(None).expect("loads");
        assert_eq!(
            config.joblocator_k8s_operator.namespace_to_watch,
            "flink,streaming"
        );
        assert_eq!(config.database.url.expose(), "sqlite:./seed.db");
        assert_eq!(config.app_version.as_deref(), Some("2"));
        Ok(())
    });
}

#[test]
fn the_python_seeds_env_example_gives_patterns_as_json_objects() {
    Jail::expect_with(|jail| {
        jail.set_env(
            "HEIMDALL_PATTERNS",
            r#"{"display_name": "$metadata.team/$jobName"}"#,
        );
        jail.set_env(
            "HEIMDALL_ENDPOINT_PATH_PATTERNS",
            r#"{"flink_ui": "https://flink.example.com/$jobName/", "metrics": ""}"#,
        );
        let config = Config::load(None).expect("loads");
        assert_eq!(
            config.patterns.get("display_name").map(String::as_str),
            Some("$metadata.team/$jobName")
        );
        assert_eq!(
            config.endpoint_path_patterns.get("flink_ui").map(String::as_str),
            Some("https://flink.example.com/$jobName/")
        );
        assert_eq!(
            config.endpoint_path_patterns.get("metrics").map(String::as_str),
            Some("")
        );
        jail.set_env("HEIMDALL_PATTERNS", "{not json");
        let err = Config::load(None).expect_err("refused");
        assert!(err.to_string().contains("patterns"), "{err}");
        Ok(())
    });
}

#[test]
fn the_carta_sidecars_environment_names_are_read_and_heimdalls_win() {
    Jail::expect_with(|jail| {
        jail.set_env("TARGET_NAMESPACE", "science-sessions");
        jail.set_env("SESSION_LABEL_KEY", "example.org/session");
        jail.set_env("USER_LABEL_KEY", "example.org/user");
        let config = Config::load(None).expect("loads");
        let carta = &config.forward_auth.carta;
        assert_eq!(
            (
                carta.target_namespace.as_str(),
                carta.session_label_key.as_str(),
                carta.user_label_key.as_str()
            ),
            ("science-sessions", "example.org/session", "example.org/user")
        );
        jail.set_env("HEIMDALL_FORWARD_AUTH__CARTA__TARGET_NAMESPACE", "chosen");
        let config = Config::load(None).expect("loads");
        assert_eq!(config.forward_auth.carta.target_namespace, "chosen");
        Ok(())
    });
}

#[test]
fn both_heimdall_seeds_pattern_and_locator_names_are_understood() {
    Jail::expect_with(|jail| {
        // The Java seed's names.
        jail.set_env("HEIMDALL_PATTERNS_DISPLAY_NAME", "$metadata.team/$jobName");
        jail.set_env(
            "HEIMDALL_ENDPOINT_PATH_PATTERNS_FLINK_UI",
            "https://flink/$jobName/ui",
        );
        jail.set_env("HEIMDALL_JOBLOCATOR_K8S_OPERATOR_LABEL_SELECTOR", "team=payments");
        // The Python seed's names.
        jail.set_env("HEIMDALL_ENDPOINT_PATH_PATTERNS__LOGS", "https://logs/$jobName");
        jail.set_env(
            "HEIMDALL_PROXY_TARGET_MAP",
            r#"{"orders": "http://orders-rest.prod:8081"}"#,
        );
        let config = Config::load(None).expect("loads");
        assert_eq!(
            config.patterns.get("display_name").map(String::as_str),
            Some("$metadata.team/$jobName")
        );
        assert_eq!(
            config.endpoint_path_patterns.get("flink_ui").map(String::as_str),
            Some("https://flink/$jobName/ui")
        );
        assert_eq!(
            config.endpoint_path_patterns.get("logs").map(String::as_str),
            Some("https://logs/$jobName")
        );
        assert_eq!(
            config.joblocator_k8s_operator.label_selector.as_deref(),
            Some("team=payments")
        );
        assert_eq!(
            config.proxy_target_map.get("orders").map(String::as_str),
            Some("http://orders-rest.prod:8081")
        );
        Ok(())
    });
}

#[test]
fn a_proxy_target_that_is_not_a_url_is_refused_by_name() {
    Jail::expect_with(|jail| {
        jail.set_env("HEIMDALL_PROXY_TARGET_MAP", r#"{"orders": "orders-rest:8081"}"#);
        let err = Config::load(None).expect_err("refused").to_string();
        assert!(err.contains("proxy_target_map.orders"), "{err}");
        jail.set_env("HEIMDALL_PROXY_TARGET_MAP", "not json");
        let err = Config::load(None).expect_err("refused").to_string();
        assert!(err.contains("JSON object"), "{err}");
        Ok(())
    });
}

#[test]
fn heimdall_database_url_wins_over_the_seed_alias() {
    Jail::expect_with(|jail| {
        jail.set_env("HEIMDALL_AUTH__DATABASE_URL", "sqlite:alias.db");
        jail.set_env("HEIMDALL_DATABASE_URL", "postgres://u:p@db/heimdall");
        let config = Config::load(None).expect("loads");
        assert_eq!(config.database.url.expose(), "postgres://u:p@db/heimdall");
        Ok(())
    });
}

#[test]
fn a_file_is_layered_under_the_environment() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "heimdall.toml",
            "[server]\nport = 4000\n[log]\nformat = \"json\"\n",
        )?;
        jail.create_file("heimdall.yaml", "server:\n  port: 4001\n")?;
        jail.set_env("HEIMDALL_LOG__FORMAT", "human");
        let config = Config::load(Some(Path::new("heimdall.toml"))).expect("loads");
        assert_eq!(config.server.port, 4000);
        assert_eq!(config.log.format, LogFormat::Human);
        let yaml = Config::load(Some(Path::new("heimdall.yaml"))).expect("loads");
        assert_eq!(yaml.server.port, 4001);
        Ok(())
    });
}

#[test]
fn external_binding_must_be_allowed_explicitly() {
    let message = load_err(|jail| jail.set_env("HEIMDALL_SERVER__HOST", "0.0.0.0"));
    assert!(message.contains("server.host = 0.0.0.0"), "{message}");
    assert!(message.contains("allow_external_bind"), "{message}");
    Jail::expect_with(|jail| {
        jail.set_env("HEIMDALL_SERVER__HOST", "0.0.0.0");
        jail.set_env("HEIMDALL_SERVER__ALLOW_EXTERNAL_BIND", "true");
        Config::load(None).expect("allowed");
        Ok(())
    });
}

#[test]
fn a_bad_database_url_is_named_without_its_password() {
    let message = load_err(|jail| jail.set_env("HEIMDALL_DATABASE_URL", "mysql://root:hunter2@db/x"));
    assert!(message.contains("database.url"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn unknown_log_formats_and_filters_are_rejected() {
    let message = load_err(|jail| jail.set_env("HEIMDALL_LOG__FORMAT", "xml"));
    assert!(message.contains("log.format"), "{message}");
    let message = load_err(|jail| jail.set_env("HEIMDALL_LOG__LEVEL", "info,=[bogus"));
    assert!(message.contains("log.level"), "{message}");
}

#[test]
fn a_missing_or_unknown_file_is_a_clear_error() {
    Jail::expect_with(|jail| {
        let missing = Config::load(Some(Path::new("nope.toml"))).expect_err("missing");
        assert!(
            missing.to_string().contains("nope.toml: no such file"),
            "{missing}"
        );
        jail.create_file("heimdall.ini", "")?;
        let ini = Config::load(Some(Path::new("heimdall.ini"))).expect_err("ini");
        assert!(ini.to_string().contains("expected a .toml"), "{ini}");
        Ok(())
    });
}

#[test]
fn the_rendered_config_redacts_the_database_password() {
    Jail::expect_with(|jail| {
        jail.set_env("HEIMDALL_DATABASE_URL", "postgres://u:secret@db/heimdall");
        let rendered = Config::load(None).expect("loads").to_redacted_toml();
        assert!(rendered.contains("postgres://u:***@db/heimdall"), "{rendered}");
        assert!(!rendered.contains("secret"), "{rendered}");
        Ok(())
    });
}

#[test]
fn the_documented_example_file_loads() {
    let doc = include_str!("../../../../docs/configuration.md");
    let example = doc
        .split("## Example file")
        .nth(1)
        .and_then(|rest| rest.split("```toml").nth(1))
        .and_then(|rest| rest.split("```").next())
        .expect("docs/configuration.md has a TOML example");
    Jail::expect_with(|jail| {
        jail.create_file("heimdall.toml", example)?;
        let config = Config::load(Some(Path::new("heimdall.toml"))).expect("the example loads");
        assert_eq!(config.forward_auth.rules.len(), 2);
        assert_eq!(
            config.forward_auth.rules[0].role,
            Some(app::identity::Role::Admin)
        );
        assert_eq!(
            config.forward_auth.rules[1].path_prefix, "/",
            "the default prefix"
        );
        assert!(config.forward_auth.carta.enabled);
        assert_eq!(config.forward_auth.carta.listen.map(|a| a.port()), Some(8000));
        Ok(())
    });
}

#[test]
fn bad_forward_auth_values_name_their_keys() {
    let message = load_err(|jail| {
        jail.set_env(
            "HEIMDALL_AUTH__ALLOWED_RETURN_HOSTS",
            "app.example.com,https://x/",
        );
        jail.set_env("HEIMDALL_FORWARD_AUTH__CARTA__LISTEN", "0.0.0.0:8000");
        jail.set_env("HEIMDALL_FORWARD_AUTH__CARTA__PATH", "relative");
        jail.set_env("HEIMDALL_FORWARD_AUTH__CARTA__SESSION_LABEL_KEY", "a=b");
        jail.set_env(
            "HEIMDALL_FORWARD_AUTH__RULES",
            r#"[{host = "a b", path_prefix = "x"}]"#,
        );
    });
    for expected in [
        "auth.allowed_return_hosts has [\"https://x/\"]",
        "forward_auth.carta.listen = 0.0.0.0:8000: binding beyond loopback",
        "forward_auth.carta.path = \"relative\"",
        "forward_auth.carta.session_label_key = \"a=b\"",
        "forward_auth.rules[0].host = \"a b\"",
        "forward_auth.rules[0].path_prefix = \"x\"",
    ] {
        assert!(message.contains(expected), "{expected:?} in {message}");
    }
}

#[test]
fn a_malformed_vault_key_stops_start_up_without_showing_the_key() {
    let message = load_err(|jail| {
        jail.set_env("HEIMDALL_VAULT__KEYS__OLD", "00ff");
        jail.set_env("HEIMDALL_VAULT__KEYS__NEW", "not-base64-and-not-hex!!");
        jail.set_env("HEIMDALL_VAULT__ACTIVE_KEY", "gone");
    });
    assert!(message.contains("vault.keys.old: expected 32 bytes"), "{message}");
    assert!(
        message.contains("vault.keys.new: expected 32 bytes as 64 hex characters or base64"),
        "{message}"
    );
    assert!(message.contains("the active vault key \"gone\""), "{message}");
    assert!(
        !message.contains("not-base64-and-not-hex"),
        "no key material: {message}"
    );
}

#[test]
fn one_vault_key_is_the_active_one_and_is_never_printed() {
    let key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    Jail::expect_with(|jail| {
        jail.set_env("HEIMDALL_VAULT__KEYS__K2026", key);
        // The vault keeps Keycloak tokens: it needs Keycloak.
        jail.set_env(
            "HEIMDALL_AUTH__KEYCLOAK__ISSUER",
            "https://kc.example.com/realms/r",
        );
        jail.set_env("HEIMDALL_AUTH__KEYCLOAK__CLIENT_SECRET", "s");
        let config = Config::load(None).expect("loads");
        assert_eq!(config.vault.active(), Some("k2026"));
        let rendered = config.to_redacted_toml();
        assert!(rendered.contains("k2026 = \"***\""), "{rendered}");
        assert!(!rendered.contains(key), "{rendered}");
        Ok(())
    });
    let message = load_err(|jail| {
        jail.set_env("HEIMDALL_VAULT__KEYS__A", key);
        jail.set_env("HEIMDALL_VAULT__KEYS__B", key);
    });
    assert!(message.contains("set vault.active_key"), "{message}");
}

#[test]
fn pipeline_gates_load_from_a_file_and_a_gate_outside_the_stages_is_named() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "heimdall.toml",
            r#"
            [pipelines]
            stages = ["build", "deploy"]
            [pipelines.gates.deploy]
            approvals_needed = 2
            allowed_roles = ["admin"]
            timeout_action = "expire"
            "#,
        )?;
        let config = Config::load(Some(std::path::Path::new("heimdall.toml"))).expect("loads");
        let gate = &config.pipelines.gates["deploy"];
        assert_eq!(
            (gate.approvals_needed, gate.required),
            (2, true),
            "unset fields keep their defaults"
        );
        assert_eq!(gate.allowed_roles, [app::identity::Role::Admin]);
        Ok(())
    });
    let message = load_err(|jail| {
        jail.set_env("HEIMDALL_PIPELINES__STAGES", "[\"build\"]");
        jail.set_env("HEIMDALL_PIPELINES__GATES__DEPLOY__APPROVALS_NEEDED", "0");
    });
    assert!(
        message.contains("pipelines.gates.deploy: not one of pipelines.stages"),
        "{message}"
    );
    assert!(
        message.contains("pipelines.gates.deploy.approvals_needed = 0"),
        "{message}"
    );
}

#[test]
fn cors_names_real_origins() {
    let message = load_err(|jail| {
        jail.set_env("HEIMDALL_PIPELINES__CORS__ENABLED", "true");
        jail.set_env(
            "HEIMDALL_PIPELINES__CORS__ALLOW_ORIGINS",
            "[\"https://ui.example.com\", \"ui.example.com/path\"]",
        );
        jail.set_env("HEIMDALL_PIPELINES__CORS__ALLOW_METHODS", "[\"GET\", \"GE T\"]");
    });
    assert!(
        message.contains("\"ui.example.com/path\" is not an origin"),
        "{message}"
    );
    assert!(message.contains("\"GE T\" is not a method"), "{message}");
    assert!(!message.contains("https://ui.example.com\" is not"), "{message}");
    let message = load_err(|jail| {
        jail.set_env("HEIMDALL_SERVER__CORS__ALLOW_ORIGINS", "[]");
    });
    assert!(
        message.contains("server.cors.enabled with no allow_origins"),
        "{message}"
    );
}
