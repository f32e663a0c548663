//! Argon2id password hashing, always off the async runtime (`spawn_blocking`).

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};

/// A PHC-format argon2id hash. Deliberately not `Serialize`: it cannot end up in a response.
#[derive(Clone, PartialEq, Eq, sqlx::Type)]
#[sqlx(transparent)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

/// OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` with argon2id and a fresh salt, on a blocking thread.
pub async fn hash_password(password: SecretString) -> Result<PasswordHash, String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|hash| PasswordHash(hash.to_string()))
            .map_err(|e| format!("hashing failed: {e}"))
    })
    .await
    .map_err(|e| format!("hashing task failed: {e}"))?
}

/// Checks `password` against `hash` on a blocking thread. Any failure (bad hash, wrong
/// password, task panic) is `false`.
pub async fn verify_password(password: SecretString, hash: PasswordHash) -> bool {
    tokio::task::spawn_blocking(move || {
        argon2::PasswordHash::new(hash.as_phc())
            .map(|parsed| {
                argon2()
                    .verify_password(password.expose_secret().as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A random password of `len` characters from an alphabet without look-alikes (0/O, 1/l/I).
pub fn generate_password(len: usize) -> SecretString {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    let password: String = (0..len)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    SecretString::from(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hash = hash_password(SecretString::from("correct horse"))
            .await
            .expect("hash");
        assert!(
            hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_phc()
        );
        let parsed = argon2::PasswordHash::new(hash.as_phc()).expect("phc");
        assert!(argon2().verify_password(b"correct horse", &parsed).is_ok());
        assert!(argon2().verify_password(b"wrong horse", &parsed).is_err());
        assert!(verify_password(SecretString::from("correct horse"), hash.clone()).await);
        assert!(!verify_password(SecretString::from("wrong horse"), hash).await);
    }

    #[test]
    fn generated_passwords_differ_and_have_the_asked_length() {
        let a = generate_password(20);
        let b = generate_password(20);
        assert_eq!(a.expose_secret().len(), 20);
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn debug_never_shows_the_hash() {
        assert_eq!(
            format!("{:?}", PasswordHash("$argon2id$secret".into())),
            "PasswordHash(***)"
        );
    }
}
