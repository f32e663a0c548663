//! The vault's envelope: AES-256-GCM under a keyring. Each stored token is sealed with the
//! active key and a fresh 96-bit nonce, with the row's identity (id, user, kind) as associated
//! data — so a ciphertext copied to another row, a flipped bit, or the wrong key fails to open
//! instead of yielding a token. The key id travels with the row, so keys can rotate: old rows
//! open with their key while `heimdall vault rotate` re-seals them under the active one.

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

/// A key is 32 bytes: AES-256.
const KEY_LEN: usize = 32;
/// GCM's standard nonce.
pub const NONCE_LEN: usize = 12;
/// Bumped if the associated-data layout ever changes (rows carry their key id, not this).
const AAD_VERSION: &str = "heimdall-vault/v1";

/// Why the keyring could not be built or a token could not be sealed or opened. Messages name
/// the key id, never key material or a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("vault key {id:?}: {reason}")]
    BadKey { id: String, reason: String },
    #[error("the active vault key {0:?} is not in the keyring")]
    NoActiveKey(String),
    #[error("the stored token was sealed with key {0:?}, which is not in the keyring")]
    UnknownKey(String),
    /// Authentication failed: tampered, moved to another row, or sealed with another key.
    #[error(
        "the stored token does not open: it was changed, moved from another row, or sealed with another key"
    )]
    DoesNotOpen,
    #[error("the stored nonce is {0} bytes, expected {NONCE_LEN}")]
    BadNonce(usize),
}

/// The identity a ciphertext is bound to: the row it lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowBinding<'a> {
    pub row_id: &'a str,
    /// The token's owner, as the row names them.
    pub user: &'a str,
    /// `offline` or `refresh`.
    pub kind: &'a str,
}

impl RowBinding<'_> {
    /// Unambiguous whatever the owner's name holds: each part is length-prefixed.
    fn associated_data(&self) -> Vec<u8> {
        let mut aad = Vec::new();
        for part in [AAD_VERSION, self.row_id, self.user, self.kind] {
            aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
        aad
    }
}

/// A sealed token as it is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("key_id", &self.key_id)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// Key id → key, and the one new tokens are sealed with.
#[derive(Clone)]
pub struct Keyring {
    keys: BTreeMap<String, Aes256Gcm>,
    active: String,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .field("active", &self.active)
            .finish()
    }
}

impl Keyring {
    /// From configuration: each key 32 bytes as hex (64 characters) or base64 (standard or
    /// URL-safe, padded or not). Every problem at once, each naming its key id.
    pub fn new(keys: &BTreeMap<String, SecretString>, active: &str) -> Result<Self, Vec<CryptoError>> {
        let mut ring = BTreeMap::new();
        let mut problems = Vec::new();
        for (id, encoded) in keys {
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                problems.push(CryptoError::BadKey {
                    id: id.clone(),
                    reason: "a key id is letters, digits, '-', '_' or '.'".into(),
                });
                continue;
            }
            match decode_key(encoded.expose_secret()) {
                Ok(bytes) => {
                    ring.insert(id.clone(), Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)));
                }
                Err(reason) => problems.push(CryptoError::BadKey {
                    id: id.clone(),
                    reason,
                }),
            }
        }
        if !ring.contains_key(active)
            && !problems
                .iter()
                .any(|p| matches!(p, CryptoError::BadKey { id, .. } if id == active))
        {
            problems.push(CryptoError::NoActiveKey(active.to_owned()));
        }
        if problems.is_empty() {
            Ok(Self {
                keys: ring,
                active: active.to_owned(),
            })
        } else {
            Err(problems)
        }
    }

    /// Whether rows sealed with `id` can be opened.
    pub fn has_key(&self, id: &str) -> bool {
        self.keys.contains_key(id)
    }

    pub fn active_key_id(&self) -> &str {
        &self.active
    }

    /// Seals `token` for `row` under the active key, with a fresh random nonce.
    pub fn seal(&self, token: &str, row: RowBinding<'_>) -> Sealed {
        let cipher = &self.keys[&self.active];
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = row.associated_data();
        // Encryption into a Vec cannot fail for inputs this size (GCM's limit is 64 GiB).
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: token.as_bytes(),
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        Sealed {
            key_id: self.active.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    /// Opens what `seal` made for the same row. Fails closed: an unknown key, a wrong nonce
    /// length, and every authentication failure are errors, never a partial token.
    pub fn open(&self, sealed: &Sealed, row: RowBinding<'_>) -> Result<SecretString, CryptoError> {
        let cipher = self
            .keys
            .get(&sealed.key_id)
            .ok_or_else(|| CryptoError::UnknownKey(sealed.key_id.clone()))?;
        if sealed.nonce.len() != NONCE_LEN {
            return Err(CryptoError::BadNonce(sealed.nonce.len()));
        }
        let aad = row.associated_data();
        let plain = cipher
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::DoesNotOpen)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| CryptoError::DoesNotOpen)
    }

    /// Re-seals under the active key (rotation); `None` when it already is.
    pub fn reseal(&self, sealed: &Sealed, row: RowBinding<'_>) -> Result<Option<Sealed>, CryptoError> {
        if sealed.key_id == self.active {
            return Ok(None);
        }
        let token = self.open(sealed, row)?;
        Ok(Some(self.seal(token.expose_secret(), row)))
    }
}

fn decode_key(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    let bytes = if text.len() == KEY_LEN * 2 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(text).map_err(|e| e.to_string())?
    } else {
        let engines = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        engines
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or_else(|| "expected 32 bytes as 64 hex characters or base64".to_owned())?
    };
    if bytes.len() == KEY_LEN {
        Ok(bytes)
    } else {
        Err(format!("expected 32 bytes, got {}", bytes.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const HEX_B: &str = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

    fn ring(keys: &[(&str, &str)], active: &str) -> Keyring {
        let keys = keys
            .iter()
            .map(|(id, k)| ((*id).to_owned(), SecretString::from((*k).to_owned())))
            .collect();
        Keyring::new(&keys, active).expect("keyring")
    }

    const ROW: RowBinding<'static> = RowBinding {
        row_id: "3f0c2a5e-0000-4000-8000-000000000001",
        user: "7",
        kind: "offline",
    };

    #[test]
    fn a_sealed_token_opens_for_its_row_only() {
        let keys = ring(&[("k1", HEX_A)], "k1");
        let sealed = keys.seal("eyJ.offline.token", ROW);
        assert_eq!(sealed.key_id, "k1");
        assert_eq!(sealed.nonce.len(), NONCE_LEN);
        assert!(
            !sealed.ciphertext.windows(7).any(|w| w == b"offline"),
            "no plaintext"
        );
        assert_eq!(
            keys.open(&sealed, ROW).expect("opens").expose_secret(),
            "eyJ.offline.token"
        );
        // The same ciphertext moved to another row, user or kind does not open.
        for other in [
            RowBinding {
                row_id: "3f0c2a5e-0000-4000-8000-000000000002",
                ..ROW
            },
            RowBinding { user: "8", ..ROW },
            RowBinding {
                kind: "refresh",
                ..ROW
            },
        ] {
            assert_eq!(
                keys.open(&sealed, other).err(),
                Some(CryptoError::DoesNotOpen),
                "{other:?}"
            );
        }
    }

    #[test]
    fn the_bound_parts_cannot_be_shifted_into_each_other() {
        let keys = ring(&[("k1", HEX_A)], "k1");
        let a = RowBinding {
            row_id: "x",
            user: "ab",
            kind: "offline",
        };
        let b = RowBinding {
            row_id: "xa",
            user: "b",
            kind: "offline",
        };
        let sealed = keys.seal("token", a);
        assert_eq!(keys.open(&sealed, b).err(), Some(CryptoError::DoesNotOpen));
    }

    #[test]
    fn a_tampered_ciphertext_or_nonce_does_not_open() {
        let keys = ring(&[("k1", HEX_A)], "k1");
        let sealed = keys.seal("token", ROW);
        for i in 0..sealed.ciphertext.len() {
            let mut bad = sealed.clone();
            bad.ciphertext[i] ^= 0x01;
            assert_eq!(
                keys.open(&bad, ROW).err(),
                Some(CryptoError::DoesNotOpen),
                "byte {i}"
            );
        }
        let mut bad = sealed.clone();
        bad.nonce[0] ^= 0x80;
        assert_eq!(keys.open(&bad, ROW).err(), Some(CryptoError::DoesNotOpen));
        let mut short = sealed;
        short.nonce.pop();
        assert_eq!(keys.open(&short, ROW).err(), Some(CryptoError::BadNonce(11)));
    }

    #[test]
    fn the_wrong_key_fails_closed_and_an_unknown_one_is_named() {
        let sealed = ring(&[("k1", HEX_A)], "k1").seal("token", ROW);
        let impostor = ring(&[("k1", HEX_B)], "k1");
        assert_eq!(impostor.open(&sealed, ROW).err(), Some(CryptoError::DoesNotOpen));
        let other = ring(&[("k2", HEX_B)], "k2");
        assert_eq!(
            other.open(&sealed, ROW).err(),
            Some(CryptoError::UnknownKey("k1".into()))
        );
    }

    #[test]
    fn rotation_reseals_under_the_active_key_and_old_rows_still_open() {
        let old = ring(&[("k1", HEX_A)], "k1");
        let sealed = old.seal("token", ROW);
        let both = ring(&[("k1", HEX_A), ("k2", HEX_B)], "k2");
        assert_eq!(
            both.open(&sealed, ROW)
                .expect("old key still opens")
                .expose_secret(),
            "token"
        );
        let resealed = both.reseal(&sealed, ROW).expect("reseal").expect("changed");
        assert_eq!(resealed.key_id, "k2");
        assert_eq!(both.open(&resealed, ROW).expect("opens").expose_secret(), "token");
        assert_eq!(
            both.reseal(&resealed, ROW).expect("reseal"),
            None,
            "already active"
        );
        // Two seals of one token differ (fresh nonces).
        assert_ne!(
            both.seal("token", ROW).ciphertext,
            both.seal("token", ROW).ciphertext
        );
    }

    #[test]
    fn keys_are_read_as_hex_or_base64_and_bad_ones_are_named() {
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xfbu8; 32]);
        let keys = ring(&[("hex", HEX_A), ("b64", &b64), ("url", &b64url)], "b64");
        assert_eq!(keys.active_key_id(), "b64");

        let bad: BTreeMap<String, SecretString> = [
            ("short", "00ff"),
            ("junk", "not a key at all!"),
            ("bad id!", HEX_A),
        ]
        .into_iter()
        .map(|(id, k)| (id.to_owned(), SecretString::from(k.to_owned())))
        .collect();
        let problems = Keyring::new(&bad, "missing").expect_err("refused");
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|t| t.contains("\"short\"") && t.contains("expected 32 bytes")),
            "{text:?}"
        );
        assert!(text.iter().any(|t| t.contains("\"junk\"")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("\"bad id!\"")), "{text:?}");
        assert!(
            text.iter().any(|t| t.contains("active vault key \"missing\"")),
            "{text:?}"
        );
        assert!(
            !text.iter().any(|t| t.contains(HEX_A)),
            "no key material in messages"
        );
    }
}
