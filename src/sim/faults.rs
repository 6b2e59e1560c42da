//! Deliberate breakage of one run, for the tests of run isolation (see
//! `crate::test_faults`). Each switch may name the scenario it breaks
//! (`run_panics_in_supervisor@flap`), so a test can break one run of a batch
//! and watch the others finish.
//!
//! - `run_panics_in_supervisor`: every app host panics right after its
//!   supervisor starts;
//! - `run_never_yields`: every app host spins forever without yielding, so
//!   the simulation never takes another step (what a supervisor stuck in a
//!   busy loop does to a run).

use crate::test_faults;

/// The switches that are on for one run, read once before it starts.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RunFaults {
    panics_in_supervisor: bool,
    never_yields: bool,
}

impl RunFaults {
    pub(crate) fn for_scenario(scenario: &str) -> Self {
        RunFaults {
            panics_in_supervisor: test_faults::active_for("run_panics_in_supervisor", scenario),
            never_yields: test_faults::active_for("run_never_yields", scenario),
        }
    }

    /// Called inside an app host, once its supervisor has started.
    pub(crate) fn inside_supervisor_host(&self) {
        if self.panics_in_supervisor {
            panic!("test fault run_panics_in_supervisor: the supervisor panicked");
        }
        if self.never_yields {
            loop {
                std::hint::spin_loop();
            }
        }
    }
}
