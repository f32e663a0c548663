//! `vault.*`: the token vault's keyring. Keys are secrets: read from the file or the
//! environment, written back as `***`. No keys, no vault (and start-up says so); a malformed key
//! or a missing active key stops start-up, naming the key id — never the key.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct VaultConfig {
    /// Key id → 32 bytes as 64 hex characters or base64. Keep old keys while `heimdall vault
    /// rotate` re-seals their rows under the active one.
    #[serde(with = "secret_map")]
    pub keys: BTreeMap<String, SecretString>,
    /// The key new tokens are sealed with; may be left out when there is exactly one key.
    pub active_key: Option<String>,
    /// The consent's redirect URI; default `<server.public_url>/v1/offline-token/callback`
    /// (else the address the request reached). Keycloak's client must allow it.
    pub consent_redirect_url: Option<String>,
}

impl VaultConfig {
    /// The active key id: the configured one, else the only key.
    pub fn active(&self) -> Option<&str> {
        match (&self.active_key, self.keys.len()) {
            (Some(id), _) => Some(id.as_str()),
            (None, 1) => self.keys.keys().next().map(String::as_str),
            (None, _) => None,
        }
    }
}

/// A map of secrets: read as text, written back as `***`.
mod secret_map {
    use std::collections::BTreeMap;

    use secrecy::SecretString;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<BTreeMap<String, SecretString>, D::Error> {
        Ok(BTreeMap::<String, String>::deserialize(de)?
            .into_iter()
            .map(|(id, key)| (id, SecretString::from(key)))
            .collect())
    }

    pub fn serialize<S: Serializer>(
        keys: &BTreeMap<String, SecretString>,
        ser: S,
    ) -> Result<S::Ok, S::Error> {
        keys.keys()
            .map(|id| (id.as_str(), "***"))
            .collect::<BTreeMap<_, _>>()
            .serialize(ser)
    }
}
