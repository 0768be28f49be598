//! The command parser (`POST /api/v1/commands`): the mod's producer JSON or
//! text lines `name[:params]`.
//!
//! Properties: every accepted command is a known name on one short line
//! without control characters (the mod splits its poll answer on CR and
//! LF), and the lines, sent again as text, parse to the same commands.

#![no_main]

use axum::http::{HeaderMap, HeaderValue, header};
use jimbot_gateway::commands::parse::{
    COMMAND_NAMES, MAX_LINE_LEN, MAX_PER_REQUEST, parse_commands,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut json = HeaderMap::new();
    json.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for headers in [HeaderMap::new(), json] {
        let Ok(commands) = parse_commands(data, &headers) else {
            continue;
        };
        assert!(!commands.is_empty() && commands.len() <= MAX_PER_REQUEST);
        for command in &commands {
            assert!(COMMAND_NAMES.contains(&command.r#type.as_str()));
            assert!(!command.line.is_empty() && command.line.len() <= MAX_LINE_LEN);
            assert!(
                !command.line.chars().any(char::is_control),
                "control character in {:?}",
                command.line
            );
        }
        let text = commands
            .iter()
            .map(|c| c.line.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let again = parse_commands(text.as_bytes(), &HeaderMap::new())
            .unwrap_or_else(|e| panic!("rendered lines {text:?} do not parse: {e:?}"));
        assert_eq!(again.len(), commands.len());
        for (first, second) in commands.iter().zip(&again) {
            assert_eq!(first.r#type, second.r#type);
            assert_eq!(first.line, second.line);
            if first.r#type == "select_card" && first.line.contains(':') {
                assert_eq!(first.position.or(first.index), second.index);
            }
        }
    }
});
