//! The QR refs an unpaired device is shown while it waits to be scanned.
//!
//! As WhatsApp does: 6 refs, the first lives 60 s and each other 20 s; when
//! the last one expires the socket is closed with 408 "QR refs attempts
//! ended". So refs go out at 0, 60, 80, 100, 120 and 140 s and the close
//! comes at 160 s.

use std::time::Duration;

use tokio::time::Instant;

/// How many refs a socket gets before the endpoint gives up on it.
pub const QR_REFS: u32 = 6;
/// Lifetime of the first ref.
pub const FIRST_REF_TTL: Duration = Duration::from_secs(60);
/// Lifetime of each later ref.
pub const LATER_REF_TTL: Duration = Duration::from_secs(20);

/// Lifetime of ref `index` (1-based).
pub fn ref_ttl(index: u32) -> Duration {
    if index <= 1 {
        FIRST_REF_TTL
    } else {
        LATER_REF_TTL
    }
}

/// The ref a socket is showing now and when it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QrRefs {
    /// The current ref, 1..=QR_REFS.
    pub(crate) index: u32,
    pub(crate) expires_at: Instant,
}

impl QrRefs {
    /// The first ref, issued at `now`.
    pub(crate) fn first(now: Instant) -> Self {
        QrRefs {
            index: 1,
            expires_at: now + ref_ttl(1),
        }
    }

    /// The current ref's lifetime, as sent to the client.
    pub(crate) fn ttl(&self) -> Duration {
        ref_ttl(self.index)
    }

    /// The ref after the current one expired, or None when the current one
    /// was the last (the socket is then closed with 408).
    pub(crate) fn next(&self) -> Option<Self> {
        if self.index >= QR_REFS {
            return None;
        }
        let index = self.index + 1;
        Some(QrRefs {
            index,
            expires_at: self.expires_at + ref_ttl(index),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_refs_span_160_seconds() {
        let start = Instant::now();
        let mut refs = QrRefs::first(start);
        let mut issued = vec![(refs.index, Duration::ZERO, refs.ttl())];
        while let Some(next) = refs.next() {
            issued.push((next.index, refs.expires_at - start, next.ttl()));
            refs = next;
        }
        let s = Duration::from_secs;
        assert_eq!(
            issued,
            vec![
                (1, s(0), s(60)),
                (2, s(60), s(20)),
                (3, s(80), s(20)),
                (4, s(100), s(20)),
                (5, s(120), s(20)),
                (6, s(140), s(20)),
            ]
        );
        assert_eq!(refs.expires_at - start, s(160));
    }
}
