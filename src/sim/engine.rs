//! Which engine moves bytes and time for a run (`--engine fast|turmoil`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::{RunOutput, SimError};
use crate::scenario::Scenario;
use crate::supervisor::Policy;
use crate::trace::TraceGuard;

/// The two engines of SPEC "Two engines". They run the same supervisor,
/// endpoint, tabs, store, trace and oracle; a scenario's verdicts agree on
/// both (`tests/engines_agree.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, clap::ValueEnum)]
pub enum Engine {
    /// Hosts on turmoil's simulated network, ticking every `tick`. The
    /// default of `run` and `check`.
    #[default]
    Turmoil,
    /// One tokio runtime with paused time and in-memory links; time jumps to
    /// the next timer. The default of `explore`.
    Fast,
}

impl Engine {
    /// The word used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Turmoil => "turmoil",
            Engine::Fast => "fast",
        }
    }

    /// Runs `scenario` with `policy` from `seed` on this engine.
    pub fn run(
        self,
        scenario: &Scenario,
        policy: &Policy,
        seed: u64,
        progress: &mut dyn FnMut(Duration),
    ) -> Result<RunOutput, SimError> {
        self.run_guarded(scenario, policy, seed, TraceGuard::default(), progress)
    }

    /// [`Engine::run`] under `guard`: the trace streams to its sink as the
    /// run goes, and the run stops once the trace passes a cap.
    pub fn run_guarded(
        self,
        scenario: &Scenario,
        policy: &Policy,
        seed: u64,
        guard: TraceGuard,
        progress: &mut dyn FnMut(Duration),
    ) -> Result<RunOutput, SimError> {
        match self {
            Engine::Turmoil => super::world::run_guarded(scenario, policy, seed, guard, progress),
            Engine::Fast => super::fast::run_guarded(scenario, policy, seed, guard, progress),
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Engine {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "turmoil" => Ok(Engine::Turmoil),
            "fast" => Ok(Engine::Fast),
            other => Err(format!("unknown engine `{other}` (known: fast, turmoil)")),
        }
    }
}
