//! The lenient pre-pass: rewrites exactly what strict JSON rejects in the mod's
//! output, and nothing else, in one pass over the bytes.
//!
//! - bare `inf`, `-inf`, `nan`, `-nan` outside strings become the JSON strings
//!   [`POS_INF`], [`NEG_INF`], [`POS_NAN`], [`NEG_NAN`], which the typed number
//!   deserialisers map back to the float;
//! - raw control bytes (0x00-0x1F) inside strings become `\u00XX`;
//! - invalid UTF-8 anywhere becomes U+FFFD (like `String::from_utf8_lossy`).
//!
//! A body that needs none of this is borrowed, not copied. Because rewrites
//! change lengths, an offset map translates positions in the sanitised text
//! back to the original body, so callers can cut out each event's exact bytes.

use std::borrow::Cow;

/// What a bare `inf` becomes. The leading NUL cannot come from the mod in a
/// numeric field, so the sentinel is unambiguous.
pub const POS_INF: &str = "\u{0}inf";
/// What a bare `-inf` becomes.
pub const NEG_INF: &str = "\u{0}-inf";
/// What a bare `nan` becomes.
pub const POS_NAN: &str = "\u{0}nan";
/// What a bare `-nan` becomes.
pub const NEG_NAN: &str = "\u{0}-nan";

/// The deepest nesting the parsers accept (serde_json's own recursion limit;
/// the mod's deepest real nesting is about 9).
pub const MAX_DEPTH: usize = 128;

/// Maps a sentinel string back to its float, `None` for any other string.
pub fn sentinel_to_f64(text: &str) -> Option<f64> {
    match text {
        POS_INF => Some(f64::INFINITY),
        NEG_INF => Some(f64::NEG_INFINITY),
        POS_NAN => Some(f64::NAN),
        NEG_NAN => Some(-f64::NAN),
        _ => None,
    }
}

/// A body after the pre-pass: valid UTF-8 that strict JSON accepts wherever
/// the only problems were the mod's known quirks.
#[derive(Debug, Clone)]
pub struct Sanitized<'a> {
    text: Cow<'a, str>,
    /// `(sanitised offset, original offset)` at the start of each unchanged
    /// stretch after a rewrite; empty when nothing was rewritten.
    breaks: Vec<(usize, usize)>,
    max_depth: usize,
}

impl<'a> Sanitized<'a> {
    /// The deepest nesting of objects and arrays seen outside strings. The
    /// parsers reject bodies deeper than [`MAX_DEPTH`] up front, because
    /// serde_json skips raw values (untyped payloads) without a depth limit.
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// The sanitised text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the body needed no rewriting (and was borrowed).
    pub fn is_unchanged(&self) -> bool {
        matches!(self.text, Cow::Borrowed(_))
    }

    /// The original offset of sanitised offset `pos`. Exact for any position
    /// outside a rewritten stretch, which includes every structural byte
    /// (`{`, `}`, `[`, `]`, `,`, `:`), whitespace, the first byte of a
    /// rewrite (it maps to the first rewritten original byte), the position
    /// right after a rewrite (it maps to the original byte after it) and
    /// `as_str().len()` (it maps to the body's length).
    pub fn original_offset(&self, pos: usize) -> usize {
        let idx = self.breaks.partition_point(|&(san, _)| san <= pos);
        match idx.checked_sub(1) {
            None => pos,
            Some(i) => {
                let (san, orig) = self.breaks[i];
                orig + (pos - san)
            }
        }
    }

    /// The original byte range of the sanitised span `[start, end)` of one
    /// JSON value.
    ///
    /// Both ends are mapped as positions, not as bytes: a value may start or
    /// end with a rewritten stretch (a bare `inf` event, an object whose last
    /// value is `-nan`), and mapping its last byte would land inside the
    /// rewrite. `start` is the first byte of the value and `end` the byte after
    /// it (a structural byte, whitespace or the end of the text), neither of
    /// which is ever inside a rewrite, so both map exactly.
    pub fn original_range(&self, start: usize, end: usize) -> std::ops::Range<usize> {
        let orig_start = self.original_offset(start);
        let orig_end = self.original_offset(end).max(orig_start);
        orig_start..orig_end
    }
}

/// Runs the pre-pass over `body`.
pub fn sanitize(body: &[u8]) -> Sanitized<'_> {
    let mut pass = Pass {
        body,
        out: None,
        copied_to: 0,
        breaks: Vec::new(),
        depth: 0,
        max_depth: 0,
    };
    pass.run();
    match pass.out {
        None => match std::str::from_utf8(body) {
            Ok(text) => Sanitized {
                text: Cow::Borrowed(text),
                breaks: Vec::new(),
                max_depth: pass.max_depth,
            },
            // Unreachable in practice (every invalid sequence is rewritten),
            // but never panic: fall back to a lossy copy without offsets.
            Err(_) => Sanitized {
                text: Cow::Owned(String::from_utf8_lossy(body).into_owned()),
                breaks: Vec::new(),
                max_depth: pass.max_depth,
            },
        },
        Some(mut out) => {
            out.extend_from_slice(&body[pass.copied_to..]);
            let text = match String::from_utf8(out) {
                Ok(text) => text,
                Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
            };
            Sanitized {
                text: Cow::Owned(text),
                breaks: pass.breaks,
                max_depth: pass.max_depth,
            }
        }
    }
}

/// Whether a byte inside a string may end it, escape, or need rewriting or
/// checking (control bytes, the start of a multi-byte sequence).
fn matters_in_string(byte: u8) -> bool {
    matches!(byte, b'"' | b'\\' | 0x00..=0x1f | 0x80..=0xff)
}

struct Pass<'a> {
    body: &'a [u8],
    /// Created at the first rewrite; holds the sanitised output up to `copied_to`.
    out: Option<Vec<u8>>,
    /// Original bytes before this offset are already in `out`.
    copied_to: usize,
    breaks: Vec<(usize, usize)>,
    depth: usize,
    max_depth: usize,
}

impl Pass<'_> {
    fn run(&mut self) {
        let body = self.body;
        let mut i = 0;
        let mut in_string = false;
        while i < body.len() {
            let byte = body[i];
            if byte >= 0x80 {
                i = self.utf8(i);
                continue;
            }
            if in_string {
                // Most of a body is string content, and in a string only
                // these bytes matter: skip straight to the next one.
                if !matters_in_string(byte) {
                    i += body[i..]
                        .iter()
                        .position(|&b| matters_in_string(b))
                        .unwrap_or(body.len() - i);
                    continue;
                }
                match byte {
                    b'\\' => {
                        // Skip the escaped byte unless it needs rewriting itself.
                        i += 1;
                        if i < body.len() && body[i] >= 0x20 && body[i] < 0x80 {
                            i += 1;
                        }
                    }
                    b'"' => {
                        in_string = false;
                        i += 1;
                    }
                    0x00..=0x1f => {
                        let escaped = format!("\\u{byte:04x}");
                        self.rewrite(i, 1, escaped.as_bytes());
                        i += 1;
                    }
                    _ => i += 1,
                }
                continue;
            }
            match byte {
                b'"' => {
                    in_string = true;
                    i += 1;
                }
                b'i' | b'n' | b'-' => i = self.non_finite(i),
                b'{' | b'[' => {
                    self.depth += 1;
                    self.max_depth = self.max_depth.max(self.depth);
                    i += 1;
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    i += 1;
                }
                _ => i += 1,
            }
        }
    }

    /// Rewrites a bare non-finite token at `i`, if there is one; returns the
    /// next position to scan.
    fn non_finite(&mut self, i: usize) -> usize {
        const TOKENS: [(&[u8], &str); 4] = [
            (b"-inf", NEG_INF),
            (b"-nan", NEG_NAN),
            (b"inf", POS_INF),
            (b"nan", POS_NAN),
        ];
        let rest = &self.body[i..];
        for (token, sentinel) in TOKENS {
            let ends_word = rest
                .get(token.len())
                .is_none_or(|next| !next.is_ascii_alphanumeric() && *next != b'_');
            if rest.starts_with(token) && ends_word {
                let quoted = format!("\"{}\"", sentinel.replace('\u{0}', "\\u0000"));
                self.rewrite(i, token.len(), quoted.as_bytes());
                return i + token.len();
            }
        }
        i + 1
    }

    /// Checks the UTF-8 sequence at `i`; replaces it with U+FFFD when invalid.
    fn utf8(&mut self, i: usize) -> usize {
        let end = (i + 4).min(self.body.len());
        match std::str::from_utf8(&self.body[i..end]) {
            Ok(text) => i + text.chars().next().map_or(1, char::len_utf8),
            Err(err) if err.valid_up_to() > 0 => {
                let valid = &self.body[i..i + err.valid_up_to()];
                let first = std::str::from_utf8(valid)
                    .ok()
                    .and_then(|t| t.chars().next())
                    .map_or(1, char::len_utf8);
                i + first
            }
            Err(err) => {
                let bad = err.error_len().unwrap_or(self.body.len() - i);
                self.rewrite(i, bad, "\u{fffd}".as_bytes());
                i + bad
            }
        }
    }

    /// Replaces `len` original bytes at `at` with `with`.
    fn rewrite(&mut self, at: usize, len: usize, with: &[u8]) {
        let out = self
            .out
            .get_or_insert_with(|| Vec::with_capacity(self.body.len() + 64));
        out.extend_from_slice(&self.body[self.copied_to..at]);
        out.extend_from_slice(with);
        self.copied_to = at + len;
        self.breaks.push((out.len(), self.copied_to));
    }
}
