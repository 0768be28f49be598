//! Every NATS subject the backbone uses, built in one place.
//!
//! Nothing outside this module formats a subject string by hand: callers turn
//! free-form input (session names, event types, reasons) into a [`Token`] and
//! pass it to a builder here. That keeps the subject space in one table
//! (`docs/design.md`, "Subjects and streams") and makes injection of `.`, `*`
//! or `>` through user input impossible.

use std::fmt;

/// Root of every subject.
pub const ROOT: &str = "jimbot";

/// Longest token kept verbatim; longer ones are cut and suffixed with a hash.
pub const MAX_TOKEN_LEN: usize = 64;

/// Length of the disambiguating hash suffix (hex characters).
const HASH_LEN: usize = 8;

/// One subject token, restricted to `[a-z0-9_-]`.
///
/// Sanitising rules, chosen so that distinct inputs stay distinct subjects:
/// - ASCII upper case is folded to lower case (event types and sessions are
///   case-insensitive), with no other change;
/// - any other byte outside `[a-z0-9_-]` (`.`, `*`, `>`, spaces, Unicode, ...)
///   becomes `_`, and the token gets a `-<8 hex>` suffix hashed from the
///   original input, so `game.1` and `game_1` do not collide;
/// - the empty input becomes `_` plus the suffix;
/// - input longer than [`MAX_TOKEN_LEN`] is cut and suffixed the same way.
///
/// A token that needed no change is used as is, so subjects stay readable.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(String);

impl Token {
    /// Sanitises `raw` into a token (never fails).
    pub fn new(raw: &str) -> Self {
        let mut out = String::with_capacity(raw.len().min(MAX_TOKEN_LEN + 1));
        let mut altered = raw.is_empty();
        for ch in raw.chars() {
            if out.len() > MAX_TOKEN_LEN {
                break;
            }
            match ch {
                'a'..='z' | '0'..='9' | '_' | '-' => out.push(ch),
                'A'..='Z' => out.push(ch.to_ascii_lowercase()),
                _ => {
                    out.push('_');
                    altered = true;
                }
            }
        }
        altered |= out.len() > MAX_TOKEN_LEN;
        if altered {
            // `out` is ASCII, so truncating at any index is safe.
            out.truncate(MAX_TOKEN_LEN - 1 - HASH_LEN);
            if out.is_empty() {
                out.push('_');
            }
            // Hashed after case folding, so case stays insignificant.
            out.push_str(&format!(
                "-{:08x}",
                fnv1a32(raw.to_ascii_lowercase().as_bytes())
            ));
        }
        Token(out)
    }

    /// The sanitised token.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({:?})", self.0)
    }
}

impl From<&str> for Token {
    fn from(raw: &str) -> Self {
        Token::new(raw)
    }
}

/// FNV-1a, 32 bits: stable across processes, platforms and releases, which
/// `std`'s hasher is not. It only separates sanitised look-alikes, so it
/// need not be cryptographic.
fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in bytes {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// `jimbot.game.<session>.<event_type>`: one game event (stream `GAME_EVENTS`).
pub fn game_event(session: &Token, event_type: &Token) -> String {
    format!("{ROOT}.game.{session}.{event_type}")
}

/// `jimbot.game.<session>.>`: every event of one session (replay filter).
pub fn game_session(session: &Token) -> String {
    format!("{ROOT}.game.{session}.>")
}

/// `jimbot.game.*.<type>`: one event type of every session.
pub fn game_type_all(event_type: &Token) -> String {
    format!("{ROOT}.game.*.{event_type}")
}

/// `jimbot.game.>`: every game event (the `GAME_EVENTS` stream).
pub fn game_all() -> String {
    format!("{ROOT}.game.>")
}

/// `jimbot.commands.<session>`: commands for one game instance (stream `COMMANDS`).
pub fn command(session: &Token) -> String {
    format!("{ROOT}.commands.{session}")
}

/// `jimbot.commands.>`: every command queue.
pub fn command_all() -> String {
    format!("{ROOT}.commands.>")
}

/// `jimbot.deadletter.<reason>`: raw input that could not be used (stream `DEAD_LETTER`).
pub fn dead_letter(reason: &Token) -> String {
    format!("{ROOT}.deadletter.{reason}")
}

/// `jimbot.deadletter.>`.
pub fn dead_letter_all() -> String {
    format!("{ROOT}.deadletter.>")
}

/// `jimbot.coordinator.events.<kind>`: the coordinator's audit trail (stream `COORDINATOR`).
pub fn coordinator_event(kind: &Token) -> String {
    format!("{ROOT}.coordinator.events.{kind}")
}

/// `jimbot.coordinator.events.>`.
pub fn coordinator_event_all() -> String {
    format!("{ROOT}.coordinator.events.>")
}

/// `jimbot.coordinator`: the prefix of the coordinator's NATS service
/// endpoints (`jimbot.coordinator.<operation>`, request/reply, no stream).
pub fn coordinator_service() -> String {
    format!("{ROOT}.coordinator")
}

/// `jimbot.coordinator.<operation>`: one request/reply endpoint of the
/// coordinator's NATS service (`acquire`, `renew`, `release`, `status`).
pub fn coordinator_request(operation: &Token) -> String {
    format!("{ROOT}.coordinator.{operation}")
}

/// `jimbot.coordinator.queue.acquire`: acquire requests sent through the
/// work-queue stream `COORDINATOR_REQUESTS`, answered on the subject in
/// their `Jimbot-Reply-To` header.
pub fn coordinator_queue() -> String {
    format!("{ROOT}.coordinator.queue.acquire")
}

/// The AI components' traffic, each family with a stream of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AiTraffic {
    /// `jimbot.learning.>`: the RL trainer's decisions and experience.
    Learning,
    /// `jimbot.strategy.>`: the LLM strategist's requests and advice.
    Strategy,
    /// `jimbot.knowledge.>`: knowledge-graph updates.
    Knowledge,
    /// `jimbot.metrics.>`: metrics published by the Python components.
    Metrics,
}

impl AiTraffic {
    /// Every family, in a fixed order.
    pub const ALL: [AiTraffic; 4] = [
        AiTraffic::Learning,
        AiTraffic::Strategy,
        AiTraffic::Knowledge,
        AiTraffic::Metrics,
    ];

    /// The subject token after `jimbot.`.
    pub fn family(self) -> &'static str {
        match self {
            AiTraffic::Learning => "learning",
            AiTraffic::Strategy => "strategy",
            AiTraffic::Knowledge => "knowledge",
            AiTraffic::Metrics => "metrics",
        }
    }

    /// `jimbot.<family>.<topic>`.
    pub fn subject(self, topic: &Token) -> String {
        format!("{ROOT}.{}.{topic}", self.family())
    }

    /// `jimbot.<family>.>`.
    pub fn all(self) -> String {
        format!("{ROOT}.{}.>", self.family())
    }
}

/// `jimbot.rpc.<service>.<operation>`: request/reply endpoints.
///
/// Kept outside every stream's subjects on purpose: a stream capturing a
/// request subject would answer the request with a publish ack.
pub fn rpc(service: &Token, operation: &Token) -> String {
    format!("{ROOT}.rpc.{service}.{operation}")
}

/// `jimbot.rpc.>`.
pub fn rpc_all() -> String {
    format!("{ROOT}.rpc.>")
}

/// Whether `subject` is matched by the NATS filter `filter` (`*` matches one
/// token, a trailing `>` one or more).
pub fn matches(filter: &str, subject: &str) -> bool {
    let mut subject_tokens = subject.split('.');
    for f in filter.split('.') {
        match (f, subject_tokens.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (f, Some(s)) if f == s => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}

/// Whether two filters can match a common subject.
pub fn overlaps(a: &str, b: &str) -> bool {
    let (a, b): (Vec<_>, Vec<_>) = (a.split('.').collect(), b.split('.').collect());
    let mut i = 0;
    loop {
        match (a.get(i), b.get(i)) {
            (Some(&">"), Some(_)) | (Some(_), Some(&">")) => return true,
            (Some(x), Some(y)) if x == y || *x == "*" || *y == "*" => i += 1,
            (None, None) => return true,
            _ => return false,
        }
    }
}
