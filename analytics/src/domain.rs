//! The analytics vocabulary: stream positions, run ids, sessions, outcomes
//! and game phases, each parsed once at the edge.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A message's sequence in `GAME_EVENTS`: the unit of exactly-once progress.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct StreamSeq(pub u64);

impl StreamSeq {
    /// As stored in SQLite (whose integers are signed); stream sequences
    /// stay far below `i64::MAX`.
    pub fn as_i64(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }
}

/// A run's id: assigned in stream order, so a replay of the same stream into
/// an empty database gives the same ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RunId(pub i64);

impl RunId {
    /// Parses an id from a URL: a positive decimal integer.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.is_empty() || raw.len() > 18 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse().ok().filter(|id| *id > 0).map(RunId)
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A game instance's session: the `<session>` token of its subjects
/// (already restricted to `[a-z0-9_-]` by the gateway).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SessionName(String);

impl SessionName {
    /// The session of a `jimbot.game.<session>.<event_type>` subject, if it
    /// is one with a well-formed session token.
    pub fn from_subject(subject: &str) -> Option<Self> {
        let mut tokens = subject.split('.');
        let (Some("jimbot"), Some("game"), Some(session), Some(event_type), None) = (
            tokens.next(),
            tokens.next(),
            tokens.next(),
            tokens.next(),
            tokens.next(),
        ) else {
            return None;
        };
        let well_formed = |token: &str| {
            !token.is_empty()
                && token.len() <= jimbot_nats::subject::MAX_TOKEN_LEN
                && token
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        };
        (well_formed(session) && well_formed(event_type)).then(|| Self(session.to_owned()))
    }

    /// The session a person typed, mapped exactly as the gateway maps it.
    pub fn from_user(raw: &str) -> Self {
        Self(jimbot_nats::Token::new(raw).as_str().to_owned())
    }

    /// The token.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Still being played (or the stream has not shown its end yet).
    InProgress,
    /// The winning ante's boss blind was beaten.
    Won,
    /// The game reached GAME_OVER before winning.
    Lost,
    /// The next run started without a win or a game over.
    Abandoned,
}

impl Outcome {
    /// Every outcome, in a fixed order.
    pub const ALL: [Outcome; 4] = [
        Outcome::InProgress,
        Outcome::Won,
        Outcome::Lost,
        Outcome::Abandoned,
    ];

    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::InProgress => "in_progress",
            Outcome::Won => "won",
            Outcome::Lost => "lost",
            Outcome::Abandoned => "abandoned",
        }
    }

    /// Parses a stored or requested name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == raw)
    }
}

/// The game's phase as far as cutting runs is concerned (spec 6.2: phase
/// names, or `UNKNOWN_STATE_<n>` with vanilla's `G.STATES` numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The main menu, or the not-in-run shape.
    Menu,
    /// `GAME_OVER` (vanilla state 4).
    GameOver,
    /// Anything else inside a run (blind select, playing, shop, packs).
    InRun,
}

impl Phase {
    /// The phase named by a GAME_STATE's `game_state` (or, in the menu shape,
    /// `phase`) string.
    pub fn from_name(name: &str) -> Self {
        match name {
            "MENU" | "UNKNOWN_STATE_11" => Phase::Menu,
            "GAME_OVER" | "UNKNOWN_STATE_4" => Phase::GameOver,
            _ => Phase::InRun,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_positive_decimal_integers() {
        assert_eq!(RunId::parse("42"), Some(RunId(42)));
        for bad in [
            "",
            "0",
            "-1",
            "+1",
            "1.0",
            "1e3",
            " 1",
            "abc",
            "1;DROP TABLE runs",
            "99999999999999999999",
        ] {
            assert_eq!(RunId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn sessions_come_from_well_formed_game_subjects_only() {
        assert_eq!(
            SessionName::from_subject("jimbot.game.bot-1.game_state").map(|s| s.0),
            Some("bot-1".to_owned())
        );
        for bad in [
            "jimbot.game.bot-1",
            "jimbot.game.bot-1.game_state.extra",
            "jimbot.commands.bot-1.x",
            "jimbot.game.Bot.game_state",
            "jimbot.game..game_state",
        ] {
            assert_eq!(SessionName::from_subject(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn sessions_typed_by_people_map_like_the_gateway() {
        assert_eq!(SessionName::from_user("Bot-1").as_str(), "bot-1");
        let hostile = SessionName::from_user("x' OR '1'='1");
        assert!(
            hostile
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        );
    }

    #[test]
    fn phases_accept_names_and_vanilla_state_numbers() {
        assert_eq!(Phase::from_name("GAME_OVER"), Phase::GameOver);
        assert_eq!(Phase::from_name("UNKNOWN_STATE_4"), Phase::GameOver);
        assert_eq!(Phase::from_name("MENU"), Phase::Menu);
        assert_eq!(Phase::from_name("UNKNOWN_STATE_1"), Phase::InRun);
        assert_eq!(Phase::from_name("SHOP"), Phase::InRun);
    }
}
