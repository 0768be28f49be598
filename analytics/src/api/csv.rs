//! CSV answers (`Accept: text/csv`): one header line, then one line per row,
//! quoted as RFC 4180 says.

use crate::store::{JokerStat, RoundDetail, RunSummary};

/// A value in a CSV cell.
pub enum Cell<'a> {
    /// Free text from the game (quoted when needed; a leading `= + - @` is
    /// prefixed with `'` so spreadsheets do not run it as a formula).
    Text(&'a str),
    /// A number or other value printed as is.
    Plain(String),
}

/// Something listed as CSV rows.
pub trait CsvRow {
    /// The column names.
    const HEADER: &'static [&'static str];
    /// One row's cells, in header order.
    fn cells(&self) -> Vec<Cell<'_>>;
}

/// Renders rows with their header.
pub fn render<T: CsvRow>(rows: &[T]) -> String {
    let mut out = T::HEADER.join(",");
    out.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = row.cells().into_iter().map(cell).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

fn cell(value: Cell<'_>) -> String {
    match value {
        Cell::Plain(text) => text,
        Cell::Text(text) => {
            let guarded = if text.starts_with(['=', '+', '-', '@']) {
                format!("'{text}")
            } else {
                text.to_owned()
            };
            if guarded.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", guarded.replace('"', "\"\""))
            } else {
                guarded
            }
        }
    }
}

fn num(value: f64) -> String {
    if value.is_finite() {
        value.to_string()
    } else {
        "inf".to_owned()
    }
}

fn opt(value: Option<f64>) -> String {
    value.map(num).unwrap_or_default()
}

impl CsvRow for RunSummary {
    const HEADER: &'static [&'static str] = &[
        "id",
        "session",
        "outcome",
        "started_at",
        "ended_at",
        "first_seq",
        "last_seq",
        "final_ante",
        "final_round",
        "max_ante",
        "best_score",
        "total_score",
        "hands_used",
        "discards_used",
        "final_money",
        "jokers",
        "events",
    ];

    fn cells(&self) -> Vec<Cell<'_>> {
        vec![
            Cell::Plain(self.id.to_string()),
            Cell::Text(&self.session),
            Cell::Text(&self.outcome),
            Cell::Plain(self.started_at.clone()),
            Cell::Plain(self.ended_at.clone()),
            Cell::Plain(self.first_seq.to_string()),
            Cell::Plain(self.last_seq.to_string()),
            Cell::Plain(self.final_ante.to_string()),
            Cell::Plain(self.final_round.to_string()),
            Cell::Plain(self.max_ante.to_string()),
            Cell::Plain(num(self.best_score)),
            Cell::Plain(num(self.total_score)),
            Cell::Plain(self.hands_used.to_string()),
            Cell::Plain(self.discards_used.to_string()),
            Cell::Plain(opt(self.final_money)),
            // Joined with `|`: one cell, readable in a spreadsheet.
            Cell::Plain(cell(Cell::Text(&self.jokers.join("|")))),
            Cell::Plain(self.events.to_string()),
        ]
    }
}

impl CsvRow for RoundDetail {
    const HEADER: &'static [&'static str] = &[
        "round",
        "ante",
        "blind",
        "blind_chips",
        "boss",
        "score",
        "beaten",
        "hands_used",
        "discards_used",
        "money",
        "first_seq",
        "last_seq",
    ];

    fn cells(&self) -> Vec<Cell<'_>> {
        vec![
            Cell::Plain(self.round.to_string()),
            Cell::Plain(self.ante.to_string()),
            Cell::Text(&self.blind),
            Cell::Plain(num(self.blind_chips)),
            Cell::Plain(self.boss.to_string()),
            Cell::Plain(num(self.score)),
            Cell::Plain(self.beaten.to_string()),
            Cell::Plain(self.hands_used.to_string()),
            Cell::Plain(self.discards_used.to_string()),
            Cell::Plain(opt(self.money)),
            Cell::Plain(self.first_seq.to_string()),
            Cell::Plain(self.last_seq.to_string()),
        ]
    }
}

impl CsvRow for JokerStat {
    const HEADER: &'static [&'static str] =
        &["joker", "runs", "won", "win_rate", "mean_final_ante"];

    fn cells(&self) -> Vec<Cell<'_>> {
        vec![
            Cell::Text(&self.joker),
            Cell::Plain(self.runs.to_string()),
            Cell::Plain(self.won.to_string()),
            Cell::Plain(num(self.win_rate)),
            Cell::Plain(num(self.mean_final_ante)),
        ]
    }
}

/// A single key-value table (the summary).
pub struct Field {
    /// The name.
    pub name: String,
    /// The value.
    pub value: String,
}

impl CsvRow for Field {
    const HEADER: &'static [&'static str] = &["field", "value"];

    fn cells(&self) -> Vec<Cell<'_>> {
        vec![Cell::Text(&self.name), Cell::Text(&self.value)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_quoted_and_formulas_are_defused() {
        assert_eq!(cell(Cell::Text("plain")), "plain");
        assert_eq!(cell(Cell::Text("a,b")), "\"a,b\"");
        assert_eq!(cell(Cell::Text("say \"hi\"\n")), "\"say \"\"hi\"\"\n\"");
        assert_eq!(
            cell(Cell::Text("=HYPERLINK(\"x\")")),
            "\"'=HYPERLINK(\"\"x\"\")\""
        );
        assert_eq!(cell(Cell::Plain("-3".to_owned())), "-3");
    }
}
