//! `vault.*`: the token vault's keyring, as read from the configuration, and what the service
//! holds once it is built. Keys are secrets: read from the file or the
//! environment, written back as `***`. No keys, no vault (and start-up says so); a malformed key
//! or a missing active key stops start-up, naming the key id — never the key.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::crypto::{CryptoError, Keyring};
use crate::identity::ProviderSettings;

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
    /// The keyring built and Keycloak's client (`auth.keycloak.*`) beside it; `Err` says why the
    /// vault is off.
    pub fn settings(&self, keycloak: Option<ProviderSettings>) -> Result<VaultSettings, String> {
        let active = match self.active() {
            Some(active) if !self.keys.is_empty() => active,
            _ => return Err("no vault.keys configured".into()),
        };
        let keyring = Keyring::new(&self.keys, active).map_err(|errors| {
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        let keycloak = keycloak.ok_or_else(|| "Keycloak is not configured (auth.keycloak.*)".to_owned())?;
        Ok(VaultSettings {
            keyring,
            keycloak,
            consent_redirect_url: self.consent_redirect_url.clone(),
        })
    }

    /// One line per problem; the vault keeps Keycloak tokens, so it needs Keycloak configured.
    pub fn problems(&self, keycloak_configured: bool) -> Vec<String> {
        let vault = self;
        let mut problems = Vec::new();
        if vault.keys.is_empty() {
            if let Some(active) = &vault.active_key {
                problems.push(format!("vault.active_key = {active:?} but vault.keys is empty"));
            }
            return problems;
        }
        let Some(active) = vault.active() else {
            problems.push(format!(
                "vault.keys has {} keys: set vault.active_key to the one new tokens are sealed with",
                vault.keys.len()
            ));
            return problems;
        };
        if !keycloak_configured {
            problems.push(
                "vault.keys is set but Keycloak is not (auth.keycloak.issuer and client_secret): the vault keeps Keycloak tokens".into(),
            );
        }
        if let Err(errors) = Keyring::new(&vault.keys, active) {
            problems.extend(errors.into_iter().map(|e| match e {
                CryptoError::BadKey { id, reason } => format!("vault.keys.{id}: {reason}"),
                other => format!("vault.active_key: {other}"),
            }));
        }
        problems
    }

    /// The active key id: the configured one, else the only key.
    pub fn active(&self) -> Option<&str> {
        match (&self.active_key, self.keys.len()) {
            (Some(id), _) => Some(id.as_str()),
            (None, 1) => self.keys.keys().next().map(String::as_str),
            (None, _) => None,
        }
    }
}

/// What the vault needs when it is on.
#[derive(Clone)]
pub struct VaultSettings {
    pub keyring: Keyring,
    /// The realm and confidential client (Heimdall's Keycloak sign-in).
    pub keycloak: ProviderSettings,
    /// Overrides `<public url>/v1/offline-token/callback` as the consent's redirect URI.
    pub consent_redirect_url: Option<String>,
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
