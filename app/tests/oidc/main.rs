//! Heimdall's OIDC client against the real providers the test command starts: the Google
//! stand-in (`google::…`) and Keycloak (`keycloak::…`).

mod google;
mod keycloak;
