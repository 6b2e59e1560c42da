//! Durations as people write them: `"90s"`, `"5m"`, `"2h"`, `"250ms"`,
//! `"1h 30m"` (humantime's syntax, the same as the policy presets use).

use std::time::Duration;

/// Parses a duration; the error says what is wrong in words.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration (write one like \"90s\", \"5m\" or \"250ms\")".into());
    }
    if t.starts_with('-') {
        return Err(format!(
            "negative duration \"{text}\": durations cannot be negative"
        ));
    }
    if t.starts_with('+') {
        return Err(format!(
            "\"{text}\": write durations without a sign, like \"90s\""
        ));
    }
    humantime::parse_duration(t).map_err(|e| match e {
        humantime::DurationError::UnknownUnit { unit, value, .. } if unit.is_empty() => {
            format!("\"{text}\" has no unit (write e.g. \"{value}s\" or \"{value}m\")")
        }
        humantime::DurationError::UnknownUnit { unit, .. } => format!(
            "unknown unit `{unit}` in \"{text}\" (use ms, s, m, h or d, e.g. \"90s\", \"1h 30m\")"
        ),
        other => format!("invalid duration \"{text}\": {other} (write one like \"90s\" or \"5m\")"),
    })
}

/// A duration as a person reads it: `1h 30m`, `250ms`, `0s`.
pub fn format_duration(d: Duration) -> String {
    if d.is_zero() {
        "0s".into()
    } else {
        humantime::format_duration(d).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_durations_parse() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn a_leading_minus_is_called_negative() {
        let e = parse_duration("-5s").unwrap_err();
        assert!(e.contains("negative"), "{e}");
    }

    #[test]
    fn a_bare_number_asks_for_a_unit() {
        let e = parse_duration("90").unwrap_err();
        assert!(e.contains("no unit"), "{e}");
        let e = parse_duration("5 parsecs").unwrap_err();
        assert!(e.contains("unknown unit `parsecs`"), "{e}");
    }

    #[test]
    fn formatting_reads_back() {
        for s in ["90s", "5m", "1h 30m", "250ms", "0s"] {
            let d = parse_duration(s).unwrap();
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
    }
}
