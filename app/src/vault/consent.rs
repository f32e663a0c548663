//! The offline-token consent's `state`: an HS256 JWT (subject, Keycloak session, random id,
//! ten-minute expiry) signed with a key derived from Heimdall's JWT key for this purpose only,
//! so it can never pass as a bearer token and a bearer token never passes as a state. Its hash
//! keys the pending row, which the callback deletes: signed, expiring, single-use.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a consent link works.
pub const CONSENT_TTL_SECS: i64 = 600;
const AUDIENCE: &str = "heimdall-vault-consent";

#[derive(Debug, Serialize, Deserialize)]
struct StateClaims {
    sub: String,
    sid: String,
    jti: String,
    exp: i64,
    aud: String,
}

/// The key that signs states, derived from (never equal to) the bearer-JWT key.
#[derive(Clone)]
pub struct StateKey([u8; 32]);

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(***)")
    }
}

impl StateKey {
    pub fn derive(jwt_key: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"heimdall/vault/consent-state/v1\0");
        hasher.update(jwt_key);
        Self(hasher.finalize().into())
    }

    /// A state for `subject`'s consent, valid for `CONSENT_TTL_SECS`.
    pub fn issue(&self, subject: &str, session_state: &str, jti: &str) -> String {
        let claims = StateClaims {
            sub: subject.to_owned(),
            sid: session_state.to_owned(),
            jti: jti.to_owned(),
            exp: chrono::Utc::now().timestamp() + CONSENT_TTL_SECS,
            aud: AUDIENCE.to_owned(),
        };
        // HS256 over a fixed-size key and plain claims cannot fail.
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.0),
        )
        .unwrap_or_default()
    }

    /// The subject a state was issued for, if it is this key's, unexpired and unaltered.
    pub fn verify(&self, state: &str) -> Result<String, &'static str> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.leeway = 0;
        jsonwebtoken::decode::<StateClaims>(state, &DecodingKey::from_secret(&self.0), &validation)
            .map(|data| data.claims.sub)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    "the consent link has expired; start again"
                }
                _ => "the consent state was tampered with",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_verifies_once_signed_and_fails_when_altered_or_foreign() {
        let key = StateKey::derive(b"jwt key");
        let state = key.issue("subject-1", "sid", "jti");
        assert_eq!(key.verify(&state).as_deref(), Ok("subject-1"));
        let mut altered = state.clone();
        altered.pop();
        altered.push(if state.ends_with('A') { 'B' } else { 'A' });
        assert!(key.verify(&altered).is_err());
        assert!(StateKey::derive(b"another key").verify(&state).is_err());
        // The derived key is not the JWT key: a state signed with the raw key is refused.
        let raw = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &StateClaims {
                sub: "x".into(),
                sid: String::new(),
                jti: "j".into(),
                exp: chrono::Utc::now().timestamp() + 60,
                aud: AUDIENCE.into(),
            },
            &EncodingKey::from_secret(b"jwt key"),
        )
        .expect("encode");
        assert!(key.verify(&raw).is_err());
    }

    #[test]
    fn an_expired_state_is_refused_with_its_reason() {
        let key = StateKey::derive(b"k");
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &StateClaims {
                sub: "x".into(),
                sid: String::new(),
                jti: "j".into(),
                exp: chrono::Utc::now().timestamp() - 5,
                aud: AUDIENCE.into(),
            },
            &EncodingKey::from_secret(&key.0),
        )
        .expect("encode");
        assert_eq!(
            key.verify(&expired),
            Err("the consent link has expired; start again")
        );
    }
}
