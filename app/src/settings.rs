//! What every domain's settings section shares: serde helpers for the ways the seeds wrote a
//! value (a list as JSON or comma-separated text; a secret written back as `***`). Each
//! domain's section lives in its `<domain>/settings.rs`; the server's configuration root
//! combines them.

use serde::{Deserialize, Deserializer};

/// Accepts a string or a number for a string setting (`HEIMDALL_APP_VERSION=2` is a version).
pub fn lenient_string<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient {
        S(String),
        I(i64),
        F(f64),
    }
    Ok(Option::<Lenient>::deserialize(de)?.map(|v| match v {
        Lenient::S(s) => s,
        Lenient::I(i) => i.to_string(),
        Lenient::F(f) => f.to_string(),
    }))
}

/// A list given as a real list, a JSON list in a string (`["a@x.com"]`, as the seed documents),
/// or comma-separated text.
pub fn lenient_list<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Lenient::deserialize(de)? {
        Lenient::List(items) => items,
        Lenient::Text(text) => {
            let text = text.trim();
            let inner = text
                .strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .unwrap_or(text);
            inner
                .split(',')
                .map(|item| item.trim().trim_matches('"').trim().to_owned())
                .filter(|item| !item.is_empty())
                .collect()
        }
    })
}

/// An optional secret: read as text, written back as `***` (so `config check` never prints it).
pub mod secret {
    use secrecy::SecretString;
    use serde::{Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Option<SecretString>, D::Error> {
        Ok(super::lenient_string(de)?
            .filter(|s| !s.is_empty())
            .map(SecretString::from))
    }

    pub fn serialize<S: Serializer>(value: &Option<SecretString>, ser: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(_) => ser.serialize_str("***"),
            None => ser.serialize_none(),
        }
    }
}
