//! Test support (feature `test-support`): the peers the README's test command starts, as it
//! describes them in `HEIMDALL_TEST_*` variables. A missing variable fails the test loudly; a
//! test never skips itself. Fresh databases are in `db::testing`.

/// A variable the test command sets. When it is missing the test fails with one line naming
/// the variable, the peer behind it and the command that starts that peer.
pub fn peer_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{}", missing_peer_message(name)))
}

/// The one line a test fails with when run without its peer (plain `cargo test`).
pub fn missing_peer_message(name: &str) -> String {
    let peer = if name.starts_with("HEIMDALL_TEST_GOOGLE") {
        "the Google stand-in (oidc-provider)"
    } else if name.starts_with("HEIMDALL_TEST_KEYCLOAK") {
        "Keycloak"
    } else if name.contains("KUBECONFIG") {
        "the Kubernetes API server"
    } else if name.starts_with("HEIMDALL_TEST_POSTGRES") {
        "PostgreSQL"
    } else if name == "HEIMDALL_TEST_NGINX" {
        "nginx (Debian's build)"
    } else {
        "a test peer"
    };
    format!(
        "{name} is unset: this test needs {peer}; run it through the test command, which starts it: \
         `scripts/heimdall test <filter>` (e.g. `scripts/heimdall test identity`) or `scripts/heimdall test`"
    )
}

/// The Google stand-in (npm oidc-provider at Google's paths) and its static client.
pub struct GoogleStandIn {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
}

impl GoogleStandIn {
    pub fn from_env() -> Self {
        Self {
            issuer: peer_env("HEIMDALL_TEST_GOOGLE_ISSUER"),
            client_id: peer_env("HEIMDALL_TEST_GOOGLE_CLIENT_ID"),
            client_secret: peer_env("HEIMDALL_TEST_GOOGLE_CLIENT_SECRET"),
            redirect_uri: peer_env("HEIMDALL_TEST_GOOGLE_REDIRECT_URI"),
        }
    }
}

/// The Keycloak realm imported from `end2end/peers/keycloak/heimdall-realm.json`.
pub struct KeycloakRealm {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

impl KeycloakRealm {
    pub fn from_env() -> Self {
        Self {
            issuer: peer_env("HEIMDALL_TEST_KEYCLOAK_ISSUER"),
            client_id: peer_env("HEIMDALL_TEST_KEYCLOAK_CLIENT_ID"),
            client_secret: peer_env("HEIMDALL_TEST_KEYCLOAK_CLIENT_SECRET"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::missing_peer_message;

    #[test]
    fn a_missing_peer_variable_is_named_with_its_peer_and_the_command() {
        let line = missing_peer_message("HEIMDALL_TEST_KEYCLOAK_ISSUER");
        assert!(line.starts_with("HEIMDALL_TEST_KEYCLOAK_ISSUER is unset: this test needs Keycloak"));
        assert!(line.contains("scripts/heimdall test"));
        assert!(!line.contains('\n'), "one line");
        assert!(missing_peer_message("HEIMDALL_TEST_KUBECONFIG").contains("Kubernetes API server"));
    }
}
