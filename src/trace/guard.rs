//! The runaway guard: caps on how much trace one run may write.
//!
//! A broken supervisor can emit events without end (one took a single
//! `check` to 6.7 GB). The recorder counts every event against two caps and,
//! once either is passed, records nothing more and tells the driver, which
//! stops the run; the run's verdict is then `runaway`, naming the cap.
//!
//! The defaults leave room for every legitimate run shipped: the day-long
//! `soak_24h` on `legacy` writes 793,617 rows in all (its busiest minute
//! 1,490), and the busiest minute of any shipped run holds 6,532 rows
//! (`many_tabs_polling` on `legacy`). So:
//! - [`DEFAULT_MAX_EVENTS`]: 4,000,000 events in all (five times the
//!   largest shipped run; at roughly 100 bytes a row in memory and on disk,
//!   about 400 MB of trace at most);
//! - [`DEFAULT_MAX_EVENTS_PER_MINUTE`]: 200,000 events in one virtual
//!   minute (over 3,000 a virtual second: no supervisor that works writes
//!   that, and a tight loop reaches it within a virtual minute).

use std::fmt;
use std::io::Write;
use std::time::Duration;

/// Events in all one run may record.
pub const DEFAULT_MAX_EVENTS: u64 = 4_000_000;
/// Events one virtual minute of a run may record.
pub const DEFAULT_MAX_EVENTS_PER_MINUTE: u64 = 200_000;

/// How much trace a run may write before it is stopped as `runaway`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceCaps {
    pub max_events: u64,
    pub max_events_per_minute: u64,
}

impl Default for TraceCaps {
    fn default() -> Self {
        TraceCaps {
            max_events: DEFAULT_MAX_EVENTS,
            max_events_per_minute: DEFAULT_MAX_EVENTS_PER_MINUTE,
        }
    }
}

/// Which cap a runaway run passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapKind {
    /// Events in all.
    Total,
    /// Events in one virtual minute (the minute's index from the start).
    PerMinute { minute: u64 },
}

/// A run stopped by the guard: which cap, its value, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runaway {
    pub cap: CapKind,
    pub limit: u64,
    /// Virtual time of the event that passed the cap.
    pub at: Duration,
}

impl fmt::Display for Runaway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cap {
            CapKind::Total => write!(
                f,
                "the trace passed its cap of {} events in all at {:.1} s; the run was stopped",
                self.limit,
                self.at.as_secs_f64()
            ),
            CapKind::PerMinute { minute } => write!(
                f,
                "the trace passed its cap of {} events per virtual minute in minute {minute} \
                 (at {:.1} s); the run was stopped",
                self.limit,
                self.at.as_secs_f64()
            ),
        }
    }
}

/// What the recorder of one run is given: its caps, and where its trace
/// streams to as the run goes (nowhere: kept in memory only).
#[derive(Default)]
pub struct TraceGuard {
    pub caps: TraceCaps,
    pub sink: Option<Box<dyn Write + Send>>,
}

/// Counts events against [`TraceCaps`].
#[derive(Debug, Clone)]
pub(crate) struct CapCounter {
    caps: TraceCaps,
    total: u64,
    minute: u64,
    in_minute: u64,
    tripped: Option<Runaway>,
}

impl CapCounter {
    pub(crate) fn new(caps: TraceCaps) -> Self {
        CapCounter {
            caps,
            total: 0,
            minute: 0,
            in_minute: 0,
            tripped: None,
        }
    }

    /// Counts one event at `at`; false once a cap is passed (the event and
    /// every later one are not kept).
    pub(crate) fn admit(&mut self, at: Duration) -> bool {
        if self.tripped.is_some() {
            return false;
        }
        let minute = at.as_secs() / 60;
        if minute > self.minute {
            self.minute = minute;
            self.in_minute = 0;
        }
        self.total += 1;
        self.in_minute += 1;
        if self.total > self.caps.max_events {
            self.tripped = Some(Runaway {
                cap: CapKind::Total,
                limit: self.caps.max_events,
                at,
            });
        } else if self.in_minute > self.caps.max_events_per_minute {
            self.tripped = Some(Runaway {
                cap: CapKind::PerMinute {
                    minute: self.minute,
                },
                limit: self.caps.max_events_per_minute,
                at,
            });
        }
        self.tripped.is_none()
    }

    pub(crate) fn tripped(&self) -> Option<Runaway> {
        self.tripped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_past_the_total_cap_trips_it_and_is_not_kept() {
        let mut c = CapCounter::new(TraceCaps {
            max_events: 3,
            max_events_per_minute: 100,
        });
        let t = Duration::from_secs(1);
        assert!(c.admit(t) && c.admit(t) && c.admit(t));
        assert!(!c.admit(Duration::from_secs(2)));
        assert_eq!(
            c.tripped(),
            Some(Runaway {
                cap: CapKind::Total,
                limit: 3,
                at: Duration::from_secs(2)
            })
        );
        assert!(!c.admit(t));
    }

    #[test]
    fn the_per_minute_cap_counts_each_virtual_minute_afresh() {
        let mut c = CapCounter::new(TraceCaps {
            max_events: 100,
            max_events_per_minute: 2,
        });
        assert!(c.admit(Duration::from_secs(10)) && c.admit(Duration::from_secs(50)));
        assert!(c.admit(Duration::from_secs(61)) && c.admit(Duration::from_secs(119)));
        assert!(!c.admit(Duration::from_secs(119)));
        assert_eq!(
            c.tripped().map(|r| r.cap),
            Some(CapKind::PerMinute { minute: 1 })
        );
    }
}
