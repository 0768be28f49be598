//! What a reader of `GAME_EVENTS` asks for: which subjects, from where, until
//! when. Built from untrusted input (HTTP query strings, gRPC requests, CLI
//! flags), so every constructor validates and says what was wrong.

use jimbot_nats::{Token, subject};
use jimbot_schemas::balatro::{canonical_name, event_type_from_name, known_type_names};
use jimbot_schemas::v1::EventType;
use time::OffsetDateTime;

/// Most subjects one query may filter on (sessions × types).
pub const MAX_FILTER_SUBJECTS: usize = 256;

/// A query that cannot be run as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct QueryError {
    /// The parameter at fault (`from_seq`, `types`, `subject_pattern`, ...).
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl QueryError {
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Where reading starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The oldest stored event.
    All,
    /// Only events stored after the reader opened.
    New,
    /// From this stream sequence (inclusive).
    Sequence(u64),
    /// From the first event stored at or after this time.
    Time(OffsetDateTime),
}

/// Where reading ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// At the last matching event stored when the reader opened.
    CaughtUp,
    /// Never: keep delivering new events until the reader is dropped.
    Follow,
}

/// A validated read of `GAME_EVENTS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Subjects to read (non-overlapping, within `jimbot.game.>`).
    pub subjects: Vec<String>,
    /// Where to start.
    pub start: Start,
    /// Where to end, unless a bound below comes first.
    pub end: End,
    /// Last stream sequence to deliver (inclusive).
    pub to_sequence: Option<u64>,
    /// Skip events stored before this time.
    pub since: Option<OffsetDateTime>,
    /// Stop at the first event stored after this time.
    pub until: Option<OffsetDateTime>,
}

impl Query {
    /// Reads `subjects` from `start` until caught up, with no other bound.
    pub fn new(subjects: Vec<String>, start: Start) -> Self {
        Self {
            subjects,
            start,
            end: End::CaughtUp,
            to_sequence: None,
            since: None,
            until: None,
        }
    }

    /// One session's events, all of them or only `types`, with optional
    /// sequence and time bounds; checks that the bounds make sense.
    pub fn session(
        session: &Token,
        types: &[TypeFilter],
        range: Range,
    ) -> Result<Self, QueryError> {
        let subjects = if types.is_empty() {
            vec![subject::game_session(session)]
        } else {
            types
                .iter()
                .map(|t| subject::game_event(session, &t.0))
                .collect()
        };
        range.check()?;
        let start = match (range.from_sequence, range.since) {
            (Some(sequence), _) => Start::Sequence(sequence),
            (None, Some(since)) => Start::Time(since),
            (None, None) => Start::All,
        };
        Ok(Self {
            subjects,
            start,
            end: End::CaughtUp,
            to_sequence: range.to_sequence,
            since: range.since,
            until: range.until,
        })
    }

    /// Keeps delivering new events once caught up.
    pub fn follow(mut self) -> Self {
        self.end = End::Follow;
        self
    }
}

/// Optional bounds on a read; any combination, each inclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range {
    /// First stream sequence.
    pub from_sequence: Option<u64>,
    /// Last stream sequence.
    pub to_sequence: Option<u64>,
    /// Earliest storage time.
    pub since: Option<OffsetDateTime>,
    /// Latest storage time.
    pub until: Option<OffsetDateTime>,
}

impl Range {
    fn check(&self) -> Result<(), QueryError> {
        if self.from_sequence == Some(0) {
            return Err(QueryError::new("from_seq", "stream sequences start at 1"));
        }
        if let (Some(from), Some(to)) = (self.from_sequence, self.to_sequence)
            && from > to
        {
            return Err(QueryError::new(
                "to_seq",
                format!("{to} is before from_seq {from}"),
            ));
        }
        if let (Some(since), Some(until)) = (self.since, self.until)
            && since > until
        {
            return Err(QueryError::new("until", "is before since"));
        }
        Ok(())
    }
}

/// One event type to read, by the mod's name (`GAME_STATE`, `hand_played`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeFilter(Token);

impl TypeFilter {
    /// A known type, by name, ignoring case.
    pub fn parse(name: &str) -> Result<Self, QueryError> {
        match canonical_name(event_type_from_name(name.trim())) {
            Some(canonical) => Ok(Self(Token::new(canonical))),
            None => Err(unknown_type(name)),
        }
    }

    /// A known type, by its protobuf enum value.
    pub fn from_event_type(event_type: EventType) -> Result<Self, QueryError> {
        canonical_name(event_type)
            .map(|canonical| Self(Token::new(canonical)))
            .ok_or_else(|| unknown_type(event_type.as_str_name()))
    }

    /// A comma-separated list (`GAME_STATE,HAND_PLAYED`); duplicates folded.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, QueryError> {
        let mut types: Vec<Self> = Vec::new();
        for name in list.split(',').filter(|name| !name.trim().is_empty()) {
            let parsed = Self::parse(name)?;
            if !types.contains(&parsed) {
                types.push(parsed);
            }
        }
        Ok(types)
    }

    /// The subject token.
    pub fn token(&self) -> &Token {
        &self.0
    }
}

fn unknown_type(name: &str) -> QueryError {
    let shown: String = name.chars().take(64).collect();
    QueryError::new(
        "types",
        format!(
            "unknown event type {shown:?}; known: {}",
            known_type_names().collect::<Vec<_>>().join(", ")
        ),
    )
}

/// Checks a NATS subject pattern a client gave: inside `jimbot.game.>`,
/// tokens of `[A-Za-z0-9_-]`, `*` or a final `>`.
pub fn subject_pattern(pattern: &str) -> Result<String, QueryError> {
    const FIELD: &str = "subject_pattern";
    if pattern.len() > 512 {
        return Err(QueryError::new(FIELD, "longer than 512 bytes"));
    }
    let tokens: Vec<&str> = pattern.split('.').collect();
    for (i, token) in tokens.iter().enumerate() {
        let valid = match *token {
            "*" => true,
            ">" => i == tokens.len() - 1,
            token => {
                !token.is_empty()
                    && token
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            }
        };
        if !valid {
            return Err(QueryError::new(
                FIELD,
                format!(
                    "invalid token {:?} at position {}: tokens are [A-Za-z0-9_-], `*`, or a final `>`",
                    token.chars().take(64).collect::<String>(),
                    i + 1
                ),
            ));
        }
    }
    let pattern = pattern.to_ascii_lowercase();
    if !subject::matches(&subject::game_all(), &pattern) {
        return Err(QueryError::new(
            FIELD,
            format!("must be within {}", subject::game_all()),
        ));
    }
    Ok(pattern)
}

/// The subjects for sessions × types; all of `jimbot.game.>` when both are
/// empty. Refuses more than [`MAX_FILTER_SUBJECTS`].
pub fn sessions_and_types(
    sessions: &[Token],
    types: &[TypeFilter],
) -> Result<Vec<String>, QueryError> {
    if sessions.len().max(1) * types.len().max(1) > MAX_FILTER_SUBJECTS {
        return Err(QueryError::new(
            "filter",
            format!("more than {MAX_FILTER_SUBJECTS} session and type combinations"),
        ));
    }
    let mut sessions: Vec<&Token> = sessions.iter().collect();
    sessions.sort();
    sessions.dedup();
    let subjects = match (sessions.as_slice(), types) {
        ([], []) => vec![subject::game_all()],
        ([], types) => types.iter().map(|t| subject::game_type_all(&t.0)).collect(),
        (sessions, []) => sessions.iter().map(|s| subject::game_session(s)).collect(),
        (sessions, types) => sessions
            .iter()
            .flat_map(|s| types.iter().map(move |t| subject::game_event(s, &t.0)))
            .collect(),
    };
    Ok(subjects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_outside_game_events_or_malformed_are_refused() {
        for bad in [
            "jimbot.commands.>",
            "jimbot.game.>.x",
            "jimbot.game.a b",
            "jimbot..game",
            "",
            ">",
            "jimbot.game",
            "jimbot.game.\u{0}.x",
        ] {
            assert!(subject_pattern(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(
            subject_pattern("jimbot.game.*.GAME_STATE").unwrap(),
            "jimbot.game.*.game_state"
        );
        assert_eq!(subject_pattern("jimbot.game.>").unwrap(), "jimbot.game.>");
    }

    #[test]
    fn type_lists_accept_known_names_in_any_case_and_refuse_others() {
        let types = TypeFilter::parse_list("GAME_STATE, hand_played,GAME_STATE").unwrap();
        let tokens: Vec<&str> = types.iter().map(|t| t.token().as_str()).collect();
        assert_eq!(tokens, ["game_state", "hand_played"]);
        let error = TypeFilter::parse_list("GAME_STATE,NOPE").unwrap_err();
        assert_eq!(error.field, "types");
        assert!(error.message.contains("\"NOPE\""), "{error}");
        assert!(error.message.contains("HEARTBEAT"), "{error}");
    }

    #[test]
    fn ranges_must_be_ordered() {
        let session = Token::new("s");
        let inverted = Range {
            from_sequence: Some(10),
            to_sequence: Some(9),
            ..Range::default()
        };
        assert_eq!(
            Query::session(&session, &[], inverted).unwrap_err().field,
            "to_seq"
        );
        let zero = Range {
            from_sequence: Some(0),
            ..Range::default()
        };
        assert_eq!(
            Query::session(&session, &[], zero).unwrap_err().field,
            "from_seq"
        );
        let times = Range {
            since: Some(OffsetDateTime::UNIX_EPOCH + time::Duration::hours(2)),
            until: Some(OffsetDateTime::UNIX_EPOCH),
            ..Range::default()
        };
        assert_eq!(
            Query::session(&session, &[], times).unwrap_err().field,
            "until"
        );
    }

    #[test]
    fn filters_are_sessions_times_types_and_bounded() {
        let s = [Token::new("a"), Token::new("b")];
        let t = TypeFilter::parse_list("GAME_STATE,HEARTBEAT").unwrap();
        assert_eq!(sessions_and_types(&[], &[]).unwrap(), ["jimbot.game.>"]);
        assert_eq!(
            sessions_and_types(&[], &t).unwrap(),
            ["jimbot.game.*.game_state", "jimbot.game.*.heartbeat"]
        );
        assert_eq!(
            sessions_and_types(&s, &t).unwrap().len(),
            4,
            "every session with every type"
        );
        let many: Vec<Token> = (0..300).map(|i| Token::new(&i.to_string())).collect();
        assert!(sessions_and_types(&many, &[]).is_err());
    }
}
