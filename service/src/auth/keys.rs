//! API keys, kept only as SHA-256 hashes and compared in constant time.
//!
//! An entry is `<64 hex digits>` or `<name>:<64 hex digits>`: the hash of a
//! key, and optionally a name that logs and metrics show in place of the key.
//! A key file holds one entry per line (blank lines and `#` comments are
//! skipped); the environment form separates entries with commas.

use std::{fmt, path::Path, sync::Arc};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AuthConfigError;

/// The longest key name; names become metric labels.
const MAX_NAME_LEN: usize = 64;

/// The SHA-256 hash of a key, as lower-case hex (what a key file holds).
pub fn hash_key(key: &[u8]) -> String {
    hex(&Sha256::digest(key))
}

/// Whether `a` and `b` are equal, in time that depends only on their
/// lengths, so that timing cannot reveal how much of a guess was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // `ct_eq` on slices is false, at once, for different lengths; the
    // lengths here are public (always 32 bytes for hashes).
    a.ct_eq(b).into()
}

/// One accepted key: its name and the hash of its value.
#[derive(Clone)]
struct Entry {
    name: Arc<str>,
    hash: [u8; 32],
}

/// The accepted API keys. Empty means authentication is off.
#[derive(Clone, Default)]
pub struct ApiKeys(Arc<[Entry]>);

impl fmt::Debug for ApiKeys {
    // Names only: hashes of weak keys can be brute-forced.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ApiKeys")
            .field(&self.0.iter().map(|e| &*e.name).collect::<Vec<_>>())
            .finish()
    }
}

impl ApiKeys {
    /// No keys: authentication off.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether any key is configured, i.e. whether requests must present one.
    pub fn is_enabled(&self) -> bool {
        !self.0.is_empty()
    }

    /// How many keys are accepted.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no key is accepted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names of the accepted keys, in the order given.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|e| &*e.name)
    }

    /// The name of the key `presented` is, if it is one of them.
    ///
    /// The presented key is hashed and compared with every entry in constant
    /// time, without stopping at a match.
    pub fn verify(&self, presented: &[u8]) -> Option<Arc<str>> {
        let hash = Sha256::digest(presented);
        let mut found = None;
        for entry in self.0.iter() {
            if constant_time_eq(&entry.hash, &hash) {
                found = Some(entry.name.clone());
            }
        }
        found
    }

    /// Reads a key file: one entry per line, at least one entry.
    pub fn from_file(path: &Path) -> Result<Self, AuthConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse_lines(&text).map_err(|e| e.in_file(path))
    }

    /// Parses a key file's text: one entry per line, at least one entry.
    pub fn parse_lines(text: &str) -> Result<Self, AuthConfigError> {
        let entries = text
            .lines()
            .enumerate()
            .map(|(index, line)| (index + 1, line.trim()))
            .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
        Self::collect(entries, "line")
    }

    /// Parses the environment form: entries separated by commas, at least one.
    pub fn parse_list(text: &str) -> Result<Self, AuthConfigError> {
        let entries = text
            .split(',')
            .enumerate()
            .map(|(index, entry)| (index + 1, entry.trim()))
            .filter(|(_, entry)| !entry.is_empty());
        Self::collect(entries, "entry")
    }

    fn collect<'a>(
        entries: impl Iterator<Item = (usize, &'a str)>,
        unit: &'static str,
    ) -> Result<Self, AuthConfigError> {
        let mut parsed: Vec<(usize, Entry)> = Vec::new();
        for (at, raw) in entries {
            let entry = parse_entry(raw, at).map_err(|reason| AuthConfigError::Entry {
                unit,
                at,
                reason,
            })?;
            if let Some((first, _)) = parsed.iter().find(|(_, e)| e.hash == entry.hash) {
                return Err(AuthConfigError::Entry {
                    unit,
                    at,
                    reason: format!("the same key hash as {unit} {first}"),
                });
            }
            if let Some((first, _)) = parsed.iter().find(|(_, e)| e.name == entry.name) {
                return Err(AuthConfigError::Entry {
                    unit,
                    at,
                    reason: format!("the same name as {unit} {first}"),
                });
            }
            parsed.push((at, entry));
        }
        if parsed.is_empty() {
            // Fail closed: an empty list is a mistake, not "auth off".
            return Err(AuthConfigError::NoKeys);
        }
        Ok(Self(parsed.into_iter().map(|(_, e)| e).collect()))
    }
}

/// One entry; the error never repeats the entry's text, which may be a key
/// put there by mistake.
fn parse_entry(raw: &str, at: usize) -> Result<Entry, String> {
    let (name, hash) = match raw.rsplit_once(':') {
        Some((name, hash)) => (name.trim(), hash.trim()),
        None => ("", raw),
    };
    let hash = parse_hash(hash).ok_or_else(|| {
        format!(
            "expected a SHA-256 hash as 64 hex digits, found {} characters \
             (a key must be hashed first: `jimbot-gateway hash-key`)",
            hash.chars().count()
        )
    })?;
    let name: Arc<str> = if name.is_empty() {
        format!("key-{at}").into()
    } else if name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
    {
        name.into()
    } else {
        return Err(format!(
            "a key name is 1-{MAX_NAME_LEN} characters of [A-Za-z0-9._/-]"
        ));
    };
    Ok(Entry { name, hash })
}

fn parse_hash(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut hash = [0u8; 32];
    for (out, pair) in hash.iter_mut().zip(bytes.chunks_exact(2)) {
        let digit = |b: u8| (b as char).to_digit(16);
        *out = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(hash)
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET_HASH: &str = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";

    #[test]
    fn hash_is_sha256_hex() {
        // `printf %s secret | sha256sum`
        assert_eq!(hash_key(b"secret"), SECRET_HASH);
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"same bytes", b"same bytes"));
        assert!(!constant_time_eq(b"same bytes", b"same bytez"));
        assert!(!constant_time_eq(b"short", b"shorter"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn verify_finds_the_key_by_name() {
        let keys = ApiKeys::parse_lines(&format!(
            "# trainers\n\ntrainer:{SECRET_HASH}\n{}\n",
            hash_key(b"other")
        ))
        .expect("valid");
        assert_eq!(keys.len(), 2);
        assert_eq!(keys.verify(b"secret").as_deref(), Some("trainer"));
        assert_eq!(keys.verify(b"other").as_deref(), Some("key-4"));
        assert_eq!(keys.verify(b"secreT"), None);
        assert_eq!(
            keys.verify(SECRET_HASH.as_bytes()),
            None,
            "the hash is not the key"
        );
    }

    #[test]
    fn upper_case_hex_is_accepted() {
        let keys = ApiKeys::parse_list(&SECRET_HASH.to_uppercase()).expect("valid");
        assert!(keys.verify(b"secret").is_some());
    }

    #[test]
    fn hostile_lists_are_refused_without_echoing_them() {
        let cases = [
            ("", "no API key"),
            ("# only a comment\n\n", "no API key"),
            ("secret\n", "line 1: expected a SHA-256 hash"),
            (&format!("{}\n", &SECRET_HASH[..63]), "found 63 characters"),
            (&format!("{}g\n", &SECRET_HASH[..63]), "64 hex digits"),
            (
                &format!("a:{SECRET_HASH}\nb:{SECRET_HASH}\n"),
                "line 2: the same key hash as line 1",
            ),
            (
                &format!("a:{SECRET_HASH}\na:{}\n", hash_key(b"x")),
                "line 2: the same name as line 1",
            ),
            (&format!("bad name:{SECRET_HASH}\n"), "a key name is"),
        ];
        for (text, expected) in cases {
            let error = ApiKeys::parse_lines(text).expect_err(text).to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
            assert!(!error.contains("secret"), "{error}");
        }
        let error = ApiKeys::parse_list(&format!("{SECRET_HASH},nothex"))
            .expect_err("bad")
            .to_string();
        assert!(error.contains("entry 2"), "{error}");
    }

    #[test]
    fn debug_shows_names_only() {
        let keys = ApiKeys::parse_list(&format!("ops:{SECRET_HASH}")).expect("valid");
        let shown = format!("{keys:?}");
        assert!(
            shown.contains("ops") && !shown.contains(&SECRET_HASH[..8]),
            "{shown}"
        );
    }
}
