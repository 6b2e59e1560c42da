//! Switches that deliberately break loopguard or the supervisor under test.
//!
//! A gate is only trusted once it has been seen to catch a broken supervisor
//! and to survive a broken run. The tests prove both by turning these switches
//! on. They exist only when the crate is built with the `test-faults` feature
//! (which `make test` enables); in every other build [`active`] is a constant
//! `false` that the optimiser removes, so no user can trip one by accident.
//!
//! A switch is a short name (for example `supervisor_relabels_status_attempt`).
//! Tests turn switches on in two ways:
//! - for a child process (the `loopguard` binary), the environment variable
//!   [`ENV_VAR`] holds a comma-separated list of names;
//! - inside the test's own process, [`with`] turns them on for the current
//!   thread only, so tests running in parallel do not see each other's faults
//!   (a simulation runs on the thread that starts it).

/// The environment variable a child process reads its switches from.
pub const ENV_VAR: &str = "LOOPGUARD_TEST_FAULTS";

#[cfg(feature = "test-faults")]
mod imp {
    use std::cell::RefCell;
    use std::collections::BTreeSet;
    use std::sync::OnceLock;

    thread_local! {
        static THREAD: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
    }

    fn from_env() -> &'static BTreeSet<String> {
        static ENV: OnceLock<BTreeSet<String>> = OnceLock::new();
        ENV.get_or_init(|| {
            std::env::var(super::ENV_VAR)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }

    pub fn active(name: &str) -> bool {
        THREAD.with(|set| set.borrow().contains(name)) || from_env().contains(name)
    }

    pub fn with<T>(names: &[&str], body: impl FnOnce() -> T) -> T {
        let before = THREAD.with(|set| set.borrow().clone());
        THREAD.with(|set| {
            set.borrow_mut()
                .extend(names.iter().map(|n| (*n).to_owned()))
        });
        struct Restore(Option<BTreeSet<String>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                if let Some(before) = self.0.take() {
                    THREAD.with(|set| *set.borrow_mut() = before);
                }
            }
        }
        let _restore = Restore(Some(before));
        body()
    }
}

/// Whether the named switch is on. Always `false` without the `test-faults`
/// feature.
#[cfg(feature = "test-faults")]
pub fn active(name: &str) -> bool {
    imp::active(name)
}

/// Whether the named switch is on. Always `false` without the `test-faults`
/// feature.
#[cfg(not(feature = "test-faults"))]
#[inline(always)]
pub fn active(_name: &str) -> bool {
    false
}

/// Runs `body` with the named switches on for the current thread, and turns
/// them off again afterwards (even if `body` panics).
#[cfg(feature = "test-faults")]
pub fn with<T>(names: &[&str], body: impl FnOnce() -> T) -> T {
    imp::with(names, body)
}

/// Whether the named switch is on for `subject` (a scenario's name): when
/// `name` is on, or `name@subject` is. Lets a test break one run of a batch
/// and leave the others alone.
pub fn active_for(name: &str, subject: &str) -> bool {
    active(name) || (cfg!(feature = "test-faults") && active(&format!("{name}@{subject}")))
}

#[cfg(all(test, feature = "test-faults"))]
mod tests {
    use super::*;

    #[test]
    fn a_switch_is_on_only_inside_with_and_only_on_its_thread() {
        assert!(!active("demo_switch"));
        with(&["demo_switch"], || {
            assert!(active("demo_switch"));
            let other = std::thread::spawn(|| active("demo_switch")).join();
            assert_eq!(other.ok(), Some(false));
        });
        assert!(!active("demo_switch"));
    }
}
