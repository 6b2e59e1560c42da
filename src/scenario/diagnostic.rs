//! A refused file shown the way rustc shows a compile error: one `error:`
//! line, the file, line and column, the source line with a caret under the
//! offending key or value, and a `help:` line saying what to write instead.
//!
//! ```text
//! error: events[0].code: unknown close code 999
//!   --> scenarios/x.toml:4:8
//!   |
//! 4 | code = 999
//!   |        ^^^
//!   |
//!   = help: known: 401, 403, 408, 411, 428, 440, 500, 503, 515
//! ```
//!
//! Rendering is codespan-reporting's (its ASCII characters, no colour), so
//! wide characters and tabs line up; the library renders, the CLI prints.

use std::ops::Range;
use std::path::Path;

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Chars, Config};

use super::error::ScenarioError;

/// Said when an error has no more specific help.
const GENERIC_HELP: &str =
    "the scenario format is described in src/scenario/mod.rs; scenarios/*.toml are examples";

/// The error as a multi-line diagnostic ending in a newline.
pub fn render(e: &ScenarioError) -> String {
    match e {
        ScenarioError::Read { .. } => format!("error: {e}\n"),
        ScenarioError::Invalid { .. } => {
            // An explicit help leaves the message whole; else a trailing
            // parenthesised hint becomes the help.
            let (message, split_help) = match e.help() {
                Some(_) => (e.message(), None),
                None => split_help(e.message()),
            };
            let headline = match e.context() {
                Some(p) => format!("{p}: {message}"),
                None => message.to_string(),
            };
            let help = e
                .help()
                .map(str::to_string)
                .or(split_help)
                .unwrap_or_else(|| GENERIC_HELP.to_string());
            render_at(
                e.file(),
                e.source_text(),
                e.line().unwrap_or(1),
                e.span(),
                &headline,
                &help,
            )
        }
    }
}

/// A diagnostic for `file` at `line` (1-based) or, more precisely, at bytes
/// `span` of `text`. Without the text there is no snippet, only the place.
pub fn render_at(
    file: &Path,
    text: Option<&str>,
    line: usize,
    span: Option<Range<usize>>,
    headline: &str,
    help: &str,
) -> String {
    let name = file.display().to_string();
    let Some(text) = text else {
        return format!("error: {headline}\n  --> {name}:{line}\n  = help: {help}\n");
    };
    let span = span
        .map(|s| widen(text, s))
        .unwrap_or_else(|| line_span(text, line));
    let source = SimpleFile::new(name.as_str(), text);
    let diagnostic = Diagnostic::error()
        .with_message(headline)
        .with_labels(vec![Label::primary((), span)])
        .with_notes(vec![format!("help: {help}")]);
    let config = Config {
        chars: Chars::ascii(),
        ..Config::default()
    };
    term::emit_into_string(&config, &source, &diagnostic)
        .unwrap_or_else(|_| format!("error: {headline}\n  --> {name}:{line}\n  = help: {help}\n"))
}

/// The message without a trailing parenthesised hint, and the hint: the
/// parser's messages end in one (`unknown field `x` (did you mean `y`? ...)`).
pub fn split_help(message: &str) -> (&str, Option<String>) {
    let Some(body) = message.strip_suffix(')') else {
        return (message, None);
    };
    let mut depth = 0usize;
    for (i, c) in body.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' if depth > 0 => depth -= 1,
            '(' => {
                let head = body[..i].trim_end();
                if head.is_empty() || !body[..i].ends_with(' ') {
                    return (message, None);
                }
                return (head, Some(body[i + 1..].to_string()));
            }
            _ => {}
        }
    }
    (message, None)
}

/// `span` inside `text` and on character boundaries; an empty one covers the
/// character it stands before, so there is a caret to see.
fn widen(text: &str, span: Range<usize>) -> Range<usize> {
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let (start, mut end) = (floor(span.start), floor(span.end.max(span.start)));
    if start == end {
        if let Some(c) = text[start..].chars().next().filter(|c| *c != '\n') {
            end = start + c.len_utf8();
        }
    }
    start..end
}

/// The trimmed text of line `line` (1-based), for an error known only by its
/// line.
fn line_span(text: &str, line: usize) -> Range<usize> {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let content = &text[start..end];
    let lead = content.len() - content.trim_start().len();
    let trimmed = content.trim();
    if trimmed.is_empty() {
        return widen(text, start..start);
    }
    start + lead..start + lead + trimmed.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailing_hint_becomes_the_help() {
        assert_eq!(
            split_help("unknown preset `x` (known: a, b)"),
            ("unknown preset `x`", Some("known: a, b".to_string()))
        );
        assert_eq!(
            split_help("repeats (every 3m) then (stops (soon))"),
            ("repeats (every 3m) then", Some("stops (soon)".to_string()))
        );
        assert_eq!(split_help("f(x)"), ("f(x)", None));
        assert_eq!(split_help("no hint"), ("no hint", None));
    }

    #[test]
    fn an_empty_span_points_at_the_character_after_it() {
        assert_eq!(widen("ab", 1..1), 1..2);
        assert_eq!(widen("a\n", 1..1), 1..1);
        assert_eq!(widen("é", 1..1), 0..2);
        assert_eq!(widen("ab", 5..9), 2..2);
    }

    #[test]
    fn a_line_without_a_span_is_underlined_from_its_first_character() {
        assert_eq!(line_span("a = 1\n  b = 2  \n", 2), 8..13);
    }
}
