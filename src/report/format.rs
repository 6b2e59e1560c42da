//! Fixed text formats shared by the plot and both reports: durations,
//! virtual times, escaping. Integer arithmetic only, so every machine
//! prints the same bytes.

use std::fmt::Write;
use std::time::Duration;

/// A length of time for people: `850 ms`, `4.5 s`, `3 min 07 s`, `2 h 05 min`.
pub fn duration(d: Duration) -> String {
    let ms = crate::util::ms(d);
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        let tenths = ms / 100;
        if tenths.is_multiple_of(10) {
            format!("{} s", tenths / 10)
        } else {
            format!("{}.{} s", tenths / 10, tenths % 10)
        }
    } else if ms < 3_600_000 {
        let s = ms / 1_000;
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        let m = ms / 60_000;
        format!("{} h {:02} min", m / 60, m % 60)
    }
}

/// A point in virtual time, to the millisecond: `0:01:23.456`.
pub fn instant(at: Duration) -> String {
    let ms = crate::util::ms(at);
    let s = ms / 1_000;
    format!(
        "{}:{:02}:{:02}.{:03}",
        s / 3_600,
        (s / 60) % 60,
        s % 60,
        ms % 1_000
    )
}

/// A percentage with one decimal: `97.3%`.
pub fn percent(p: f64) -> String {
    format!("{p:.1}%")
}

/// Text for HTML content and attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text for a Markdown table cell or inline run (never at the start of a
/// line): inline Markdown punctuation is backslash-escaped, HTML is
/// neutralised and line breaks flattened, so a scenario's text shows as
/// written and never as markup.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            // ESC, BEL and the rest would act on a terminal that shows the
            // file (`cat report.md`): shown as visible escapes instead.
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                out.push_str(&crate::output::escape_control(c.encode_utf8(&mut buf)));
            }
            c => out.push(c),
        }
    }
    out
}

/// One path segment of a relative link (a run folder name), percent-encoded
/// outside RFC 3986's unreserved characters.
pub fn url_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_every_scale() {
        assert_eq!(duration(Duration::from_millis(850)), "850 ms");
        assert_eq!(duration(Duration::from_millis(4_500)), "4.5 s");
        assert_eq!(duration(Duration::from_secs(12)), "12 s");
        assert_eq!(duration(Duration::from_secs(187)), "3 min 07 s");
        assert_eq!(duration(Duration::from_secs(7_500)), "2 h 05 min");
        assert_eq!(instant(Duration::from_millis(83_456)), "0:01:23.456");
        assert_eq!(instant(Duration::from_secs(86_400)), "24:00:00.000");
    }

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(
            html("<script>alert('x')</script>&"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"
        );
        assert_eq!(markdown("a|b <i>"), "a\\|b &lt;i&gt;");
        assert_eq!(url_segment("a b/<c>.stable"), "a%20b%2F%3Cc%3E.stable");
    }
}
