//! Where a TOML syntax error really is. The TOML parser reports the token it
//! could not take, which for a bracket or string left open is lines later
//! than the mistake (an inline table left open on line 9 was reported at
//! line 11). This moves such an error back to the opener and says what to
//! close; it also recognises JSON given in place of TOML.

use std::ops::Range;

/// The span to report a syntax error found at `found` at, and a help line
/// when there is one to give.
pub fn locate(text: &str, found: Range<usize>) -> (Range<usize>, Option<String>) {
    if looks_like_json(text) {
        return (
            found,
            Some(
                "this looks like JSON: scenario files are TOML, `key = value` lines and \
                 [tables], as in scenarios/*.toml"
                    .into(),
            ),
        );
    }
    let at = found.start.min(text.len());
    let line_of = |offset: usize| {
        text.as_bytes()[..offset]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
    };
    let error_line = line_of(at);
    match open_at(text, at) {
        Open::String { start, quote } if line_of(start) < error_line => (
            start..start + 3,
            Some(format!(
                "the multi-line string opened here is never closed: end it with {quote}"
            )),
        ),
        Open::Bracket { start, kind: '{' } if line_of(start) < error_line => (
            start..start + 1,
            Some("this inline table is never closed: an inline table `{ ... }` ends with `}` on the line it starts on".into()),
        ),
        Open::Bracket { start, kind: '[' }
            if line_of(start) < error_line && starts_a_line(text, at) =>
        {
            (
                start..start + 1,
                Some("this array is never closed: end it with `]`".into()),
            )
        }
        _ => (found, None),
    }
}

/// JSON rather than TOML: the first thing in the file opens an object, or an
/// array whose first item is an object.
fn looks_like_json(text: &str) -> bool {
    let mut rest = text.trim_start();
    if let Some(r) = rest.strip_prefix('[') {
        rest = r.trim_start();
    }
    rest.starts_with('{')
}

/// The error is at a key-value pair or a table header that begins its own
/// line: inside an array, that means the array was left open above.
fn starts_a_line(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..];
    if !text[line_start..at].trim().is_empty() {
        return false;
    }
    let line = line.trim_start();
    if line.starts_with('[') {
        return true;
    }
    let key_len = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .unwrap_or(line.len());
    key_len > 0 && line[key_len..].trim_start().starts_with('=')
}

/// What is left open at a byte offset.
enum Open {
    None,
    /// A multi-line string starting at `start`, closed by `quote`.
    String {
        start: usize,
        quote: &'static str,
    },
    /// The innermost value bracket (`[` of an array, `{` of an inline table).
    Bracket {
        start: usize,
        kind: char,
    },
}

/// Scans TOML up to `end`, skipping comments and strings, and tells what is
/// open there. Table headers (`[x]` at the start of a line, outside any
/// bracket) are not values and are not counted.
fn open_at(text: &str, end: usize) -> Open {
    let b = text.as_bytes();
    let mut stack: Vec<(usize, char)> = Vec::new();
    let mut header_depth = 0usize;
    let mut line_start = true;
    let mut i = 0;
    while i < end {
        let c = b[i];
        if c == b'\n' {
            line_start = true;
            header_depth = 0;
            i += 1;
            continue;
        }
        let at_line_start = line_start && stack.is_empty();
        if !c.is_ascii_whitespace() {
            line_start = false;
        }
        match c {
            b'#' => {
                while i < end && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' => {
                let triple = b.get(i..i + 3) == Some(if c == b'"' { b"\"\"\"" } else { b"'''" });
                if triple {
                    let quote = if c == b'"' { "\"\"\"" } else { "'''" };
                    let start = i;
                    i += 3;
                    loop {
                        if i >= end {
                            return Open::String { start, quote };
                        }
                        if c == b'"' && b[i] == b'\\' {
                            i += 2;
                            continue;
                        }
                        if b.get(i..i + 3) == Some(quote.as_bytes()) {
                            i += 3;
                            break;
                        }
                        i += 1;
                    }
                } else {
                    i += 1;
                    while i < end && b[i] != c && b[i] != b'\n' {
                        if c == b'"' && b[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                    if i < end && b[i] == c {
                        i += 1;
                    }
                }
                continue;
            }
            b'[' if at_line_start || header_depth > 0 => header_depth += 1,
            b']' if header_depth > 0 => header_depth -= 1,
            b'[' | b'{' => stack.push((i, c as char)),
            b']' | b'}' => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    match stack.last() {
        Some(&(start, kind)) => Open::Bracket { start, kind },
        None => Open::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inline_table_left_open_is_reported_where_it_opens() {
        let text = "a = 1\nrepeat = { every = \"3m\", times = 5\n\n[[events]]\nat = \"1m\"\n";
        let found = text.find("[[events]]").unwrap();
        let (span, help) = locate(text, found..found + 1);
        assert_eq!(span, 15..16);
        assert!(help.unwrap().contains("inline table"));
    }

    #[test]
    fn an_array_left_open_is_reported_where_it_opens() {
        let text = "x = [1,\n\n[[events]]\nat = \"1m\"\n";
        let found = text.find("at =").unwrap();
        assert_eq!(locate(text, found..found + 2).0, 4..5);
    }

    #[test]
    fn a_bad_item_in_a_multi_line_array_stays_where_it_is() {
        let text = "violates = [\n  \"a\",\n  bad,\n]\n";
        let found = text.find("bad").unwrap();
        assert_eq!(locate(text, found..found + 3).0, found..found + 3);
    }

    #[test]
    fn a_table_header_is_not_an_open_array() {
        let text = "[tabs]\ncount = 2\n[network]\nmin = x\n";
        let found = text.find('x').unwrap();
        assert_eq!(locate(text, found..found + 1).0, found..found + 1);
    }

    #[test]
    fn json_gets_a_hint() {
        let (_, help) = locate("{\"duration\": \"5m\"}", 1..2);
        assert!(help.unwrap().contains("looks like JSON"));
    }
}
