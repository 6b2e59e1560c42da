use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::trace::Clock;

/// Virtual time of a turmoil run: exact inside a host (turmoil's own
/// simulation clock), the driver's tick time outside any host.
#[derive(Default)]
pub struct TurmoilClock {
    driver_ms: Arc<AtomicU64>,
}

impl TurmoilClock {
    /// Called by the driver before it acts between steps.
    pub fn set_driver_time(&self, at: Duration) {
        self.driver_ms.store(crate::util::ms(at), Ordering::Relaxed);
    }
}

impl Clock for TurmoilClock {
    fn now(&self) -> Duration {
        turmoil::sim_elapsed()
            .unwrap_or_else(|| Duration::from_millis(self.driver_ms.load(Ordering::Relaxed)))
    }
}
