//! Heimdall's OIDC code against a real OpenID provider mounted at Google's paths (npm
//! oidc-provider, started by the README's test command): discovery, JWKS, and validation of an
//! ID token the provider issued through a real authorization-code + PKCE login.

use app::identity::oidc::{OidcClient, ProviderMetadata, verify_id_token};
use app::testing::GoogleStandIn;
use base64::Engine as _;
use sha2::Digest as _;

fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The provider's `<form action="...">` on an interaction page.
fn form_action(html: &str) -> String {
    let start = html.find("action=\"").expect("a form on the interaction page") + "action=\"".len();
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].replace("&amp;", "&")
}

/// Logs `user` in through the provider's own pages and returns the ID token.
async fn log_in(p: &GoogleStandIn, meta: &ProviderMetadata, user: &str, nonce: &str) -> String {
    let redirect = p.redirect_uri.clone();
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            // Stop where the provider hands the code back to Heimdall.
            if attempt.url().as_str().starts_with(&redirect) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
        .expect("client");
    let verifier = random_token();
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let state = random_token();
    let auth = url::Url::parse_with_params(
        &meta.authorization_endpoint,
        &[
            ("client_id", p.client_id.as_str()),
            ("redirect_uri", p.redirect_uri.as_str()),
            ("response_type", "code"),
            ("scope", "openid email profile"),
            ("state", state.as_str()),
            ("nonce", nonce),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .expect("authorization URL");
    let mut response = http.get(auth).send().await.expect("authorization request");
    let mut form = vec![("prompt", "login"), ("login", user), ("password", "any")];
    // Login page, then consent page, then the redirect back with the code.
    for _ in 0..4 {
        if response.status().is_redirection() {
            break;
        }
        let base = response.url().clone();
        let html = response.text().await.expect("page");
        let action = base.join(&form_action(&html)).expect("form URL");
        response = http.post(action).form(&form).send().await.expect("form post");
        form = vec![("prompt", "consent")];
    }
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let back = url::Url::parse(&location).expect("redirect URL");
    let param = |name: &str| {
        back.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(
        param("state").as_deref(),
        Some(state.as_str()),
        "state comes back unchanged"
    );
    let code = param("code").unwrap_or_else(|| panic!("no code in {location}"));
    let tokens: serde_json::Value = http
        .post(&meta.token_endpoint)
        .basic_auth(&p.client_id, Some(&p.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", p.redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token JSON");
    tokens["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no id_token in {tokens}"))
        .to_owned()
}

#[tokio::test]
async fn the_google_stand_in_is_discovered_at_googles_paths() {
    let p = GoogleStandIn::from_env();
    let meta = OidcClient::default()
        .discover(&p.issuer)
        .await
        .expect("discovery");
    assert!(
        meta.authorization_endpoint.ends_with("/o/oauth2/v2/auth"),
        "{}",
        meta.authorization_endpoint
    );
    assert!(meta.token_endpoint.ends_with("/token"), "{}", meta.token_endpoint);
    assert!(meta.jwks_uri.ends_with("/oauth2/v3/certs"), "{}", meta.jwks_uri);
    assert!(
        meta.userinfo_endpoint
            .as_deref()
            .is_some_and(|u| u.ends_with("/v1/userinfo"))
    );
}

#[tokio::test]
async fn its_jwks_validates_an_id_token_it_issued_and_refuses_tampering() {
    let p = GoogleStandIn::from_env();
    let oidc = OidcClient::default();
    let meta = oidc.discover(&p.issuer).await.expect("discovery");
    let jwks = oidc.jwks(&meta).await.expect("jwks");
    let nonce = random_token();
    let id_token = log_in(&p, &meta, "ada", &nonce).await;

    let claims =
        verify_id_token(&id_token, &jwks, &p.issuer, &p.client_id, &nonce).expect("a valid ID token");
    assert_eq!(claims.sub, "ada");
    assert_eq!(claims.email.as_deref(), Some("ada@gmail.test"));
    assert_eq!(claims.email_verified, Some(true));

    let refused = |token: &str, issuer: &str, audience: &str, nonce: &str| {
        verify_id_token(token, &jwks, issuer, audience, nonce)
            .expect_err("must be refused")
            .to_string()
    };
    assert!(refused(&id_token, &p.issuer, "someone-else", &nonce).contains("invalid ID token"));
    assert!(
        refused(&id_token, "https://accounts.google.com", &p.client_id, &nonce).contains("invalid ID token")
    );
    assert!(refused(&id_token, &p.issuer, &p.client_id, "another-login").contains("nonce"));
    let mut tampered = id_token;
    let last = tampered.pop().expect("non-empty");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert!(refused(&tampered, &p.issuer, &p.client_id, &nonce).contains("invalid ID token"));
}
