//! Durations on the console, compact and unambiguous: `0.4s`, `36.1s`,
//! `20m36.1s`, `2h00m00.0s`. Tenths of a second, rounded down, so a virtual
//! length always prints the same.

use std::time::Duration;

/// `d` as `[Hh][MMm]S.Ts`: minutes and hours appear only when needed, and
/// a shorter unit is zero-padded after a longer one (`1h02m03.0s`).
pub fn compact(d: Duration) -> String {
    let tenths = d.as_millis() / 100;
    let (secs, tenth) = (tenths / 10, tenths % 10);
    let (h, m, s) = (secs / 3_600, (secs / 60) % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m:02}m{s:02}.{tenth}s")
    } else if m > 0 {
        format!("{m}m{s:02}.{tenth}s")
    } else {
        format!("{s}.{tenth}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_a_minute_is_seconds_with_one_decimal() {
        assert_eq!(compact(Duration::from_millis(0)), "0.0s");
        assert_eq!(compact(Duration::from_millis(449)), "0.4s");
        assert_eq!(compact(Duration::from_millis(36_180)), "36.1s");
    }

    #[test]
    fn minutes_come_with_zero_padded_seconds() {
        assert_eq!(compact(Duration::from_millis(1_236_100)), "20m36.1s");
        assert_eq!(compact(Duration::from_secs(65)), "1m05.0s");
    }

    #[test]
    fn hours_come_with_zero_padded_minutes_and_seconds() {
        assert_eq!(compact(Duration::from_secs(7_200)), "2h00m00.0s");
        assert_eq!(compact(Duration::from_secs(86_400 + 123)), "24h02m03.0s");
    }
}
