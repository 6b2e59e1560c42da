//! Text that leaves loopguard for a terminal, a shell or `report.md`.

use std::borrow::Cow;

/// `word` quoted for a POSIX shell when it needs it (`scenarios/my run.toml`
/// becomes `'scenarios/my run.toml'`), so a pasted command gets back the same
/// words. A word holding a NUL byte (no shell can take one) is shown escaped.
pub fn shell_quote(word: &str) -> Cow<'_, str> {
    match shlex::try_quote(word) {
        Ok(q) => q,
        Err(_) => Cow::Owned(
            shlex::try_quote(&word.replace('\0', "\\0"))
                .map_or_else(|_| String::from("''"), Cow::into_owned),
        ),
    }
}

/// The words joined into one pasteable shell command line.
pub fn shell_command<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    words
        .into_iter()
        .map(shell_quote)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` with every control character (C0, DEL and C1, including ESC, which
/// starts the sequences that set a window title or clear the screen) shown
/// as a visible escape (`\e`, `\x07`, `\u{9b}`…), so text from a scenario
/// file cannot act on the terminal that prints it or the viewer of a report.
/// Newlines and tabs are escaped too: scenario text is one line wherever it
/// is shown.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_with_a_space_is_quoted_so_the_shell_reads_one_word() {
        let cmd = shell_command(["loopguard", "run", "my scenarios/a b.toml"]);
        assert_eq!(cmd, "loopguard run 'my scenarios/a b.toml'");
        assert_eq!(
            shlex::split(&cmd).unwrap(),
            vec!["loopguard", "run", "my scenarios/a b.toml"]
        );
    }

    #[test]
    fn a_plain_word_is_left_as_it_is() {
        assert_eq!(shell_quote("scenarios/flap.toml"), "scenarios/flap.toml");
    }

    #[test]
    fn a_title_setting_escape_is_shown_not_sent() {
        let hostile = "ok\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}";
        assert_eq!(escape_control(hostile), "ok\\e]0;pwned\\x07\\e[2J\\u{9b}");
    }
}
