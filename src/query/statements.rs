//! SQL text cut into statements at each `;` that ends one, for the shell
//! and scripts of `posture sql`: DataFusion plans one statement at a time,
//! and a `;` inside a string or a comment ends nothing, so the text is cut
//! by DataFusion's own SQL tokenizer, not by searching for `;`.

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

/// One statement of a script: its text (without the `;`) and the line it
/// starts on, counted from 1 in the text given to [`split`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub text: String,
    pub line: usize,
}

/// Text cut into the statements it completes and what is left after the
/// last `;`: the start of a statement still being typed, or nothing but
/// blanks and comments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub complete: Vec<Statement>,
    pub rest: String,
    /// The line `rest` starts on.
    pub rest_line: usize,
}

impl Split {
    /// Whether what is left holds some SQL (not only blanks and comments).
    pub fn rest_has_sql(&self) -> bool {
        first_token_line(&self.rest).is_some()
    }
}

/// Cuts `text` at each `;` outside strings, quoted names and comments.
/// Text that cannot be tokenized yet (a string or comment left open) is all
/// left over: more lines may close it.
pub fn split(text: &str) -> Split {
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, text).tokenize_with_location() else {
        return Split {
            complete: Vec::new(),
            rest: text.to_owned(),
            rest_line: 1,
        };
    };
    let offsets = LineOffsets::new(text);
    let mut complete = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    for token in &tokens {
        if token.token != Token::SemiColon {
            continue;
        }
        let end = offsets.byte(token.span.start.line, token.span.start.column);
        let piece = &text[start..end];
        if let Some(line) = first_token_line(piece) {
            complete.push(Statement {
                text: piece.trim().to_owned(),
                line: start_line + line - 1,
            });
        }
        start = end + 1;
        start_line = token.span.start.line as usize;
    }
    Split {
        complete,
        rest: text[start..].to_owned(),
        rest_line: start_line,
    }
}

/// The line (from 1) of the first token of `text` that is not a blank or a
/// comment, if any. Text that does not tokenize (a string or a comment left
/// open) counts as SQL on its first line: it is a statement being typed.
fn first_token_line(text: &str) -> Option<usize> {
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, text).tokenize_with_location() else {
        return Some(1);
    };
    tokens
        .iter()
        .find(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
        .map(|t| t.span.start.line as usize)
}

/// Byte offsets of the tokenizer's (line, column) positions, both counted
/// from 1, columns in characters.
struct LineOffsets<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineOffsets<'a> {
    fn new(text: &'a str) -> LineOffsets<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineOffsets { text, starts }
    }

    fn byte(&self, line: u64, column: u64) -> usize {
        let start = self.starts[(line as usize).saturating_sub(1)];
        self.text[start..]
            .char_indices()
            .nth((column as usize).saturating_sub(1))
            .map_or(self.text.len(), |(i, _)| start + i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(split: &Split) -> Vec<(&str, usize)> {
        split
            .complete
            .iter()
            .map(|s| (s.text.as_str(), s.line))
            .collect()
    }

    #[test]
    fn cuts_at_each_semicolon_with_the_line_each_statement_starts_on() {
        let s = split("SELECT 1;\n\n  SELECT\n  2 ;SELECT 3");
        assert_eq!(texts(&s), [("SELECT 1", 1), ("SELECT\n  2", 3)]);
        assert_eq!(s.rest, "SELECT 3");
        assert!(s.rest_has_sql());
    }

    #[test]
    fn a_semicolon_in_a_string_a_name_or_a_comment_ends_nothing() {
        let s = split("SELECT 'a;b', \"c;d\" -- e;f\n/* g; */ FROM t;");
        assert_eq!(
            texts(&s),
            [("SELECT 'a;b', \"c;d\" -- e;f\n/* g; */ FROM t", 1)]
        );
        assert!(!s.rest_has_sql());
        let s = split("SELECT 'it''s; fine', 'é;' ;");
        assert_eq!(texts(&s), [("SELECT 'it''s; fine', 'é;'", 1)]);
    }

    #[test]
    fn an_open_string_or_comment_waits_for_more_lines() {
        let s = split("SELECT 'a;\n");
        assert!(s.complete.is_empty());
        assert_eq!(s.rest, "SELECT 'a;\n");
        assert!(s.rest_has_sql());
        let s = split("SELECT 'a;\nb';");
        assert_eq!(texts(&s), [("SELECT 'a;\nb'", 1)]);
    }

    #[test]
    fn blanks_comments_and_empty_statements_are_not_statements() {
        let s = split(" ;; -- nothing\n;\n");
        assert!(s.complete.is_empty());
        assert!(!s.rest_has_sql());
        assert!(split("/* still open; ").rest_has_sql());
    }
}
