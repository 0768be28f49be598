//! Reading what command producers send: the mod's producer JSON
//! (`{type, payload: {position} | {index} | {}}`) or text lines
//! `name[:params]`, checked against the commands the mod knows.

use axum::http::{HeaderMap, header};
use jimbot_schemas::v1;
use jimbot_service::log_text::untrusted;
use serde::Deserialize;

use crate::error::ApiError;

/// The commands the mod understands (spec section 7.4).
pub const COMMAND_NAMES: &[&str] = &[
    "start_new_run",
    "select_deck",
    "select_stake",
    "navigate_menu",
    "play_hand",
    "discard",
    "sort_hand",
    "select_card",
    "buy_joker",
    "buy_booster",
    "buy_voucher",
    "sell_joker",
    "reroll_shop",
    "skip_shop",
    "select_small_blind",
    "select_big_blind",
    "select_boss_blind",
    "skip_blind",
    "go_to_shop",
];

/// Most commands one request may queue.
pub const MAX_PER_REQUEST: usize = 100;

/// Longest command line accepted, in bytes. The longest real one is a name
/// and a small index (`select_boss_blind`, `select_card:7`); the mod ignores
/// other parameters, so a long line is only a way to bloat the queue and the
/// poll answer.
pub const MAX_LINE_LEN: usize = 128;

#[derive(Debug, Deserialize)]
struct CommandRequest {
    r#type: String,
    #[serde(default)]
    payload: Option<CommandPayload>,
}

#[derive(Debug, Default, Deserialize)]
struct CommandPayload {
    position: Option<f64>,
    index: Option<f64>,
}

/// The commands in a producer's body, in order; a 400 for anything unusable.
pub fn parse_commands(body: &[u8], headers: &HeaderMap) -> Result<Vec<v1::Command>, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"))
        || body.trim_ascii_start().starts_with(b"{");
    if is_json {
        let request: CommandRequest =
            serde_json::from_slice(body).map_err(|e| bad(format!("invalid command JSON: {e}")))?;
        return Ok(vec![json_command(request)?]);
    }
    let text =
        std::str::from_utf8(body).map_err(|_| bad("command text is not UTF-8".to_owned()))?;
    let commands: Vec<v1::Command> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(line_command)
        .collect::<Result<_, _>>()?;
    if commands.is_empty() {
        return Err(bad(
            "no command given: send {\"type\": ..., \"payload\": {...}} or lines `name[:params]`"
                .to_owned(),
        ));
    }
    if commands.len() > MAX_PER_REQUEST {
        return Err(bad(format!(
            "{} commands in one request; at most {MAX_PER_REQUEST}",
            commands.len()
        )));
    }
    Ok(commands)
}

fn json_command(request: CommandRequest) -> Result<v1::Command, ApiError> {
    let name = known_name(&request.r#type)?;
    let payload = request.payload.unwrap_or_default();
    let position = payload
        .position
        .map(|n| whole_number("payload.position", n))
        .transpose()?;
    let index = payload
        .index
        .map(|n| whole_number("payload.index", n))
        .transpose()?;
    // The mod's producer API gives `position` precedence over `index`.
    let line = match position.or(index) {
        Some(n) => format!("{name}:{n}"),
        None => name.to_owned(),
    };
    Ok(v1::Command {
        r#type: name.to_owned(),
        position,
        index,
        line,
        ..Default::default()
    })
}

fn line_command(line: &str) -> Result<v1::Command, ApiError> {
    if line.len() > MAX_LINE_LEN {
        return Err(bad(format!(
            "command line of {} bytes; at most {MAX_LINE_LEN}",
            line.len()
        )));
    }
    // The mod splits its poll answer on CR and LF: a stray control byte
    // would cut a command in two.
    if line.chars().any(char::is_control) {
        return Err(bad(format!(
            "command line {line:?} holds a control character"
        )));
    }
    let (name, params) = match line.split_once(':') {
        Some((name, params)) => (name, Some(params)),
        None => (line, None),
    };
    let name = known_name(name)?;
    let index = match (name, params) {
        ("select_card", Some(params)) => Some(
            params
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    bad(format!(
                        "select_card needs a 0-based hand index, got {params:?}"
                    ))
                })?,
        ),
        _ => None,
    };
    Ok(v1::Command {
        r#type: name.to_owned(),
        index,
        line: line.to_owned(),
        ..Default::default()
    })
}

fn known_name(name: &str) -> Result<&'static str, ApiError> {
    COMMAND_NAMES
        .iter()
        .find(|known| **known == name)
        .copied()
        .ok_or_else(|| ApiError::BadRequest {
            // Bounded: the name may be a megabyte of JSON string.
            message: format!("unknown command {:?}", untrusted(name)),
            valid: Some(COMMAND_NAMES),
        })
}

fn whole_number(field: &str, n: f64) -> Result<i64, ApiError> {
    if n.is_finite() && n.fract() == 0.0 && (0.0..=1e9).contains(&n) {
        Ok(n as i64)
    } else {
        Err(bad(format!(
            "{field} must be a whole number from 0, got {n}"
        )))
    }
}

fn bad(message: String) -> ApiError {
    ApiError::BadRequest {
        message,
        valid: None,
    }
}
