//! Untrusted text in logs: bounded, with control characters escaped.
//!
//! Session names, event types, paths, header values and error messages that
//! quote a body come from clients. Logged raw, a `\n` forges a log line, an
//! `ESC [` recolours the reader's terminal and a 16 MiB value floods the log.
//! Wrap such values in [`untrusted`] (or [`untrusted_bytes`]) at the call
//! site: `tracing::warn!(session = %untrusted(&raw), "...")`.

use std::fmt::{self, Write as _};

/// Characters of one value kept in a log line; the rest is counted, not shown.
pub const MAX_CHARS: usize = 200;

/// A value from outside, printed at most [`MAX_CHARS`] characters long with
/// control characters (and `\`) escaped as Rust escapes them (`\n`,
/// `\u{1b}`). `Display` prints it bare, `Debug` in double quotes.
#[derive(Clone, Copy)]
pub struct Untrusted<'a> {
    text: Text<'a>,
    max_chars: usize,
}

#[derive(Clone, Copy)]
enum Text<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
    Display(&'a dyn fmt::Display),
}

/// `text` made safe to log.
pub fn untrusted(text: &str) -> Untrusted<'_> {
    Untrusted {
        text: Text::Str(text),
        max_chars: MAX_CHARS,
    }
}

/// `bytes` made safe to log: UTF-8 where it is, `\x..` for every other byte.
pub fn untrusted_bytes(bytes: &[u8]) -> Untrusted<'_> {
    Untrusted {
        text: Text::Bytes(bytes),
        max_chars: MAX_CHARS,
    }
}

/// `value`'s `Display` made safe to log, without formatting it into a
/// `String` first (for a request's URI, say).
pub fn untrusted_display(value: &dyn fmt::Display) -> Untrusted<'_> {
    Untrusted {
        text: Text::Display(value),
        max_chars: MAX_CHARS,
    }
}

impl Untrusted<'_> {
    /// Keeps at most `max_chars` characters instead of [`MAX_CHARS`].
    #[must_use]
    pub fn max_chars(mut self, max_chars: usize) -> Self {
        self.max_chars = max_chars;
        self
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut budget = self.max_chars;
        let rest = match self.text {
            Text::Str(text) => write_str(f, text, &mut budget)?,
            Text::Display(value) => {
                let mut escaping = Escaping {
                    f: &mut *f,
                    budget,
                    left_out: 0,
                };
                write!(escaping, "{value}")?;
                escaping.left_out
            }
            Text::Bytes(mut bytes) => loop {
                let (valid, invalid) = match std::str::from_utf8(bytes) {
                    Ok(text) => (text, None),
                    Err(e) => {
                        let (valid, after) = bytes.split_at(e.valid_up_to());
                        let bad = e.error_len().unwrap_or(after.len());
                        // Checked by `from_utf8` above.
                        let valid = std::str::from_utf8(valid).unwrap_or_default();
                        (valid, Some((&after[..bad], &after[bad..])))
                    }
                };
                let left = write_str(f, valid, &mut budget)?;
                if left > 0 {
                    let after = invalid.map_or(0, |(bad, rest)| bad.len() + rest.len());
                    break left + after;
                }
                let Some((bad, after)) = invalid else {
                    break 0;
                };
                let shown = bad.len().min(budget);
                for byte in &bad[..shown] {
                    write!(f, "\\x{byte:02x}")?;
                }
                budget -= shown;
                if budget == 0 {
                    break bad.len() - shown + after.len();
                }
                bytes = after;
            },
        };
        if rest > 0 {
            write!(f, "... ({rest} more bytes)")?;
        }
        Ok(())
    }
}

/// Writes up to `budget` characters of `text`, escaped; returns how many
/// bytes were left out.
fn write_str(
    f: &mut fmt::Formatter<'_>,
    text: &str,
    budget: &mut usize,
) -> Result<usize, fmt::Error> {
    for (at, ch) in text.char_indices() {
        if *budget == 0 {
            return Ok(text.len() - at);
        }
        if ch.is_control() || ch == '\\' || is_bidi_control(ch) {
            for escaped in ch.escape_default() {
                f.write_char(escaped)?;
            }
        } else {
            f.write_char(ch)?;
        }
        *budget -= 1;
    }
    Ok(0)
}

/// Escapes what a `Display` writes, and counts what goes over the budget.
struct Escaping<'a, 'f> {
    f: &'a mut fmt::Formatter<'f>,
    budget: usize,
    left_out: usize,
}

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.left_out += write_str(self.f, text, &mut self.budget)?;
        Ok(())
    }
}

/// Unicode's bidirectional overrides and isolates: not control characters,
/// but they reorder what a terminal shows after them.
fn is_bidi_control(ch: char) -> bool {
    matches!(ch, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f)
    }
}

impl fmt::Debug for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        self.write(f)?;
        f.write_char('"')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        let shown = untrusted("a\nb\r\x1b[31mc\\d\u{202e}e\u{85}").to_string();
        assert_eq!(shown, "a\\nb\\r\\u{1b}[31mc\\\\d\\u{202e}e\\u{85}");
        assert!(!shown.chars().any(char::is_control));
    }

    #[test]
    fn long_values_are_cut_and_counted() {
        let long = "x".repeat(100_000);
        let shown = untrusted(&long).to_string();
        assert_eq!(shown, format!("{}... (99800 more bytes)", "x".repeat(200)));
        assert_eq!(untrusted("short").to_string(), "short");
        assert_eq!(
            untrusted("abcdef").max_chars(3).to_string(),
            "abc... (3 more bytes)"
        );
        assert_eq!(format!("{:?}", untrusted("a\tb")), "\"a\\tb\"");
    }

    #[test]
    fn invalid_utf8_is_shown_as_hex() {
        assert_eq!(
            untrusted_bytes(b"ok\xff\xfe\n").to_string(),
            "ok\\xff\\xfe\\n"
        );
        assert_eq!(
            untrusted_bytes(b"\xff\xff\xff\xffabc")
                .max_chars(2)
                .to_string(),
            "\\xff\\xff... (5 more bytes)"
        );
        assert_eq!(
            untrusted_bytes(b"ab\xffcd").max_chars(2).to_string(),
            "ab... (3 more bytes)"
        );
        assert_eq!(untrusted_bytes(b"").to_string(), "");
    }

    #[test]
    fn display_values_are_escaped_and_cut_as_they_are_written() {
        struct Pieces;
        impl fmt::Display for Pieces {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("ab\n")?;
                f.write_str("cdef")?;
                write!(f, "{}", "g".repeat(10))
            }
        }
        assert_eq!(
            untrusted_display(&Pieces).to_string(),
            "ab\\ncdefgggggggggg"
        );
        assert_eq!(
            untrusted_display(&Pieces).max_chars(4).to_string(),
            "ab\\nc... (13 more bytes)"
        );
    }
}
