//! The endpoint's handshake time, as the log shows it.
//!
//! A log's "connected to WA" (or the console's "Inicializando conexión") is
//! the socket reaching WhatsApp; its "opened connection to WA" ("Conexión
//! establecida") is WhatsApp's answer: the noise handshake and the login
//! between them are the outside world's time, not the supervisor's. A rival
//! or churn that acts `after` each authentication, and any supervisor's
//! reconnect period, run that much slower than a simulation whose endpoint
//! answers at once, so the importer replays it as a `slow_handshake`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::record::{InstanceKey, Record, RecordKind};

/// What the simulated handshake takes by itself at the default network
/// latencies (1–20 ms a message): the dial, the WebSocket upgrade and the
/// hello, about 40 ms from `attempt_started` to `endpoint_authenticated`.
pub const SIMULATED_HANDSHAKE: Duration = Duration::from_millis(40);

/// A log handshake at most this much longer than the simulated one is left
/// as the simulation's: a few round trips of jitter.
pub const NEGLIGIBLE: Duration = Duration::from_millis(50);

/// The log's handshakes: the median time from an attempt to the next open of
/// the same process and user (with no close between), and the records of the
/// first opens measured (for quotes). `None` when the log shows none.
pub fn measured(records: &[Record], users: &[String]) -> Option<(Duration, Vec<usize>, usize)> {
    let mut started: BTreeMap<(&InstanceKey, &str), i64> = BTreeMap::new();
    let mut gaps: Vec<i64> = Vec::new();
    let mut opens: Vec<usize> = Vec::new();
    for (i, (r, user)) in records.iter().zip(users).enumerate() {
        let key = (&r.instance, user.as_str());
        match r.kind {
            RecordKind::AttemptStarted => {
                started.insert(key, r.at_ms);
            }
            RecordKind::Opened => {
                if let Some(at) = started.remove(&key) {
                    gaps.push(r.at_ms - at);
                    opens.push(i);
                }
            }
            RecordKind::Closed { .. } | RecordKind::StreamError { .. } => {
                started.remove(&key);
            }
            _ => {}
        }
    }
    let count = gaps.len();
    gaps.sort_unstable();
    let median = *gaps.get(count / 2)?;
    let median = Duration::from_millis(u64::try_from(median.max(0)).unwrap_or(0));
    opens.truncate(3);
    Some((median, opens, count))
}

/// The `slow_handshake` delay that makes the simulated handshake as long as
/// the log's `median` (whole tens of milliseconds), or `None` when the
/// difference is negligible.
pub fn extra_delay(median: Duration) -> Option<Duration> {
    let extra = median.checked_sub(SIMULATED_HANDSHAKE)?;
    if median <= SIMULATED_HANDSHAKE + NEGLIGIBLE {
        return None;
    }
    let tens = (extra.as_millis() + 5) / 10 * 10;
    Some(Duration::from_millis(
        u64::try_from(tens).unwrap_or(u64::MAX),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handshake_near_the_simulated_one_needs_no_delay() {
        assert_eq!(extra_delay(Duration::from_millis(90)), None);
        assert_eq!(extra_delay(Duration::from_millis(10)), None);
    }

    #[test]
    fn a_longer_handshake_adds_the_difference_in_whole_ticks() {
        assert_eq!(
            extra_delay(Duration::from_millis(150)),
            Some(Duration::from_millis(110))
        );
        assert_eq!(
            extra_delay(Duration::from_millis(196)),
            Some(Duration::from_millis(160))
        );
    }
}
