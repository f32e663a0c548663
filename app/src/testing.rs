//! Test support (feature `test-support`): the peers the README's test command starts, as it
//! describes them in `HEIMDALL_TEST_*` variables. A missing variable fails the test loudly; a
//! test never skips itself. Fresh databases are in `db::testing`.

/// A variable the test command sets.
pub fn peer_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is unset: run the README's test command (scripts/heimdall test), which starts the test peers")
    })
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
