//! Timestamps as logs write them: ISO 8601 / RFC 3339 (with `T` or a space,
//! optional fraction, `Z`, an offset or none: then UTC), epoch milliseconds
//! (pino's default `time`), or a bare time of day.
//!
//! Parsed by hand because the importer needs only these forms and must never
//! panic or allocate on hostile input; the calendar arithmetic is Howard
//! Hinnant's `days_from_civil`.

/// A parsed timestamp: milliseconds since the Unix epoch, or since midnight
/// when the log gives only a time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    Epoch(i64),
    TimeOfDay(i64),
}

/// Reads a timestamp at the start of `text`; returns it and the bytes it used.
pub fn parse_prefix(text: &str) -> Option<(Stamp, usize)> {
    let b = text.as_bytes();
    if let Some((ms, used)) = date_time(b) {
        return Some((Stamp::Epoch(ms), used));
    }
    let (ms, used) = time_of_day(b)?;
    Some((Stamp::TimeOfDay(ms), used))
}

/// Reads a whole string as a timestamp (pino's `time` when it is a string).
pub fn parse_whole(text: &str) -> Option<Stamp> {
    let (stamp, used) = parse_prefix(text.trim())?;
    (used == text.trim().len()).then_some(stamp)
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let part = b.get(at..at + n)?;
    if !part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        part.iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')),
    )
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn date_time(b: &[u8]) -> Option<(i64, usize)> {
    let year = digits(b, 0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if !matches!(b.get(10), Some(b'T') | Some(b' ')) {
        return None;
    }
    let (tod, used) = time_of_day(&b[11..])?;
    let mut at = 11 + used;
    let mut offset_ms = 0i64;
    match b.get(at) {
        Some(b'Z') => at += 1,
        Some(sign @ (b'+' | b'-')) => {
            let h = digits(b, at + 1, 2)?;
            let colon = usize::from(b.get(at + 3) == Some(&b':'));
            let m = digits(b, at + 3 + colon, 2)?;
            let off = (h * 60 + m) * 60_000;
            offset_ms = if *sign == b'+' { off } else { -off };
            at += 5 + colon;
        }
        _ => {}
    }
    let days = days_from_civil(year, month, day);
    Some((days * 86_400_000 + tod - offset_ms, at))
}

fn time_of_day(b: &[u8]) -> Option<(i64, usize)> {
    let h = digits(b, 0, 2)?;
    if b.get(2) != Some(&b':') || b.get(5) != Some(&b':') {
        return None;
    }
    let m = digits(b, 3, 2)?;
    let s = digits(b, 6, 2)?;
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let mut ms = ((h * 60 + m) * 60 + s) * 1000;
    let mut at = 8;
    if matches!(b.get(8), Some(b'.') | Some(b',')) {
        let start = 9;
        let mut end = start;
        while b.get(end).is_some_and(u8::is_ascii_digit) && end - start < 9 {
            end += 1;
        }
        if end == start {
            return None;
        }
        let frac = &b[start..end];
        let mut millis = 0i64;
        for i in 0..3 {
            millis = millis * 10 + frac.get(i).map_or(0, |d| i64::from(d - b'0'));
        }
        ms += millis;
        at = end;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
    }
    Some((ms, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_with_zulu_and_millis_is_epoch_milliseconds() {
        assert_eq!(
            parse_whole("2024-05-01T10:00:00.123Z"),
            Some(Stamp::Epoch(1_714_557_600_123))
        );
    }

    #[test]
    fn an_offset_is_taken_off_to_give_utc() {
        assert_eq!(
            parse_whole("2024-05-01T12:00:00+02:00"),
            parse_whole("2024-05-01T10:00:00Z")
        );
    }

    #[test]
    fn a_bare_time_of_day_is_relative_to_midnight() {
        assert_eq!(
            parse_prefix("10:00:01.5 x"),
            Some((Stamp::TimeOfDay(36_001_500), 10))
        );
    }

    #[test]
    fn nonsense_is_no_timestamp() {
        for text in [
            "",
            "2024-13-01T00:00:00Z",
            "99:00:00",
            "abc",
            "2024-05-01",
            "1:2:3",
        ] {
            assert_eq!(parse_whole(text), None, "{text}");
        }
    }
}
