//! The fault layer both engines share: what each scenario [`Action`] means.
//!
//! The [`Director`] decides, for every action and every step it schedules,
//! which fault rows are recorded, which endpoint call is made, which steps
//! come later and in what order; it owns the schedule, the seeded flap
//! periods, the list of app instances and which links are down. What differs
//! between the engines (how a link is cut, how a host crashes and comes
//! back) is behind the small [`Stage`] trait: `sim::world` implements it on
//! turmoil, `sim::fast` on its in-memory network and tokio tasks. So an
//! action means the same on both by construction, and a new action is given
//! its meaning once, here.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::mpsc;

use super::browser::{BrowserCommand, ForeignTab};
use crate::endpoint::protocol::StreamErrorChild;
use crate::endpoint::Endpoint;
use crate::scenario::{Action, Link, Scenario};
use crate::trace::{EventKind, FaultKind, Recorder};

/// Who the director's own rows are recorded as.
const SIM: &str = "sim";
/// The endpoint's host on both engines.
pub(crate) const WA_HOST: &str = "wa";
/// The browser's host on both engines.
pub(crate) const BROWSER_HOST: &str = "browser";

/// What an engine does when the director asks. Hosts are named as in the
/// trace (`wa`, `browser`, `app-N`); a link is one pair of hosts.
pub(crate) trait Stage {
    /// Cuts the link between `a` and `b` (what is in flight is lost).
    fn partition(&mut self, a: &str, b: &str);
    /// Mends a link [`Stage::partition`] cut.
    fn repair(&mut self, a: &str, b: &str);
    /// Holds everything sent between `a` and `b` (a `stall`).
    fn hold(&mut self, a: &str, b: &str);
    /// Delivers what [`Stage::hold`] held, and lets traffic flow again.
    fn release(&mut self, a: &str, b: &str);
    /// Sets the link's per-message latency range.
    fn set_latency(&mut self, a: &str, b: &str, min: Duration, max: Duration);
    /// Sets the link's message loss rate (0 for none).
    fn set_loss(&mut self, a: &str, b: &str, rate: f64);
    /// Starts app host `app-n` for the first time.
    fn start_host(&mut self, n: u32);
    /// Whether app host `app-n` (started before) is up right now.
    fn is_running(&mut self, n: u32) -> bool;
    /// Crashes app host `app-n` at `now`: its tasks stop, its sockets drop.
    fn crash_host(&mut self, n: u32, now: Duration);
    /// Brings `app-n` back after a scripted `crash` (its `restart_after`).
    fn restart_host(&mut self, n: u32, now: Duration);
    /// Brings `app-n` back after it exited on its own (`exit_on_codes`).
    fn respawn_host(&mut self, n: u32);
}

/// Something the director does at a virtual time.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Fire(Action),
    LinkDown {
        link: Link,
        flap: bool,
    },
    LinkUp {
        link: Link,
        flap: bool,
    },
    End(FaultKind, Link),
    EndEndpoint(FaultKind),
    Restart(u32),
    /// Restart an app that exited on its own (`exit_on_codes`).
    Respawn(u32),
    /// A fault of one user's ends (`messages`, `rival_device`'s `until`).
    EndUser(FaultKind, String),
    /// A stalled app instance's links are released.
    Release(u32),
}

/// Fires a scenario's events and the steps they schedule, on a [`Stage`].
pub(crate) struct Director<'a> {
    scenario: &'a Scenario,
    recorder: Recorder,
    endpoint: Endpoint,
    browser: mpsc::UnboundedSender<BrowserCommand>,
    schedule: BTreeMap<(Duration, u64), Step>,
    seq: u64,
    rng: ChaCha8Rng,
    instances: Vec<String>,
    /// How many app instances were started: the browser's tabs read it.
    started: Arc<AtomicU32>,
    links_down: BTreeMap<Link, u32>,
}

/// What a director is made of.
pub(crate) struct Cast {
    pub recorder: Recorder,
    pub endpoint: Endpoint,
    pub browser: mpsc::UnboundedSender<BrowserCommand>,
    pub started: Arc<AtomicU32>,
    pub seed: u64,
}

fn link_name(link: Link) -> &'static str {
    match link {
        Link::AppWa => "app-wa",
        Link::BrowserApp => "browser-app",
    }
}

impl<'a> Director<'a> {
    pub(crate) fn new(scenario: &'a Scenario, cast: Cast) -> Self {
        Director {
            scenario,
            recorder: cast.recorder,
            endpoint: cast.endpoint,
            browser: cast.browser,
            schedule: BTreeMap::new(),
            seq: 0,
            rng: ChaCha8Rng::seed_from_u64(cast.seed ^ 0x5ced_f1a9),
            instances: Vec::new(),
            started: cast.started,
            links_down: BTreeMap::new(),
        }
    }

    /// The run's start: the scenario's instances, its tabs, and every event
    /// of its timeline scheduled.
    pub(crate) fn begin(&mut self, stage: &mut dyn Stage) {
        for _ in 0..self.scenario.instances {
            self.start_instance(stage);
        }
        if self.scenario.tabs.count > 0 {
            let _ = self
                .browser
                .send(BrowserCommand::OpenTabs(self.scenario.tabs.count));
        }
        for (at, e) in self.scenario.timeline() {
            self.push(at, Step::Fire(e.action.clone()));
        }
    }

    /// When the next step is due, if any is scheduled.
    pub(crate) fn next_at(&self) -> Option<Duration> {
        self.schedule.first_key_value().map(|((at, _), _)| *at)
    }

    /// The next step due at or before `now`, taken off the schedule.
    pub(crate) fn due(&mut self, now: Duration) -> Option<Step> {
        let entry = self.schedule.first_entry()?;
        if entry.key().0 > now {
            return None;
        }
        Some(entry.remove())
    }

    /// App hosts that ran, in start order.
    pub(crate) fn into_instances(self) -> Vec<String> {
        self.instances
    }

    fn push(&mut self, at: Duration, step: Step) {
        self.seq += 1;
        self.schedule.insert((at, self.seq), step);
    }

    fn record(&self, user: Option<&str>, kind: EventKind) {
        self.recorder.record(SIM, user, kind);
    }

    fn fault(&self, fault: FaultKind, target: &str, started: bool) {
        let target = target.to_string();
        self.record(
            None,
            if started {
                EventKind::FaultStarted { fault, target }
            } else {
                EventKind::FaultEnded { fault, target }
            },
        );
    }

    fn start_instance(&mut self, stage: &mut dyn Stage) {
        let n = u32::try_from(self.instances.len()).unwrap_or(u32::MAX - 1) + 1;
        stage.start_host(n);
        let host = format!("app-{n}");
        self.instances.push(host.clone());
        self.started.store(n, Ordering::Relaxed);
        self.record(
            None,
            EventKind::InstanceStarted {
                instance: host.clone(),
            },
        );
        // A new host joins the links that are down right now.
        self.cut_down_links(stage, &host);
    }

    /// Cuts `host`'s share of every link that is down right now.
    fn cut_down_links(&self, stage: &mut dyn Stage, host: &str) {
        for (&link, &down) in &self.links_down {
            if down > 0 {
                cut(&self.instances, stage, link, Some(host));
            }
        }
    }

    /// Whether `app-n` was started and is up.
    fn running(&self, stage: &mut dyn Stage, n: u32) -> bool {
        self.instances.contains(&format!("app-{n}")) && stage.is_running(n)
    }

    /// Holds (`true`) or releases every link to and from `host` (a
    /// `stall`). A released link that a partition still cuts is cut again.
    fn hold(&mut self, stage: &mut dyn Stage, host: &str, on: bool) {
        let mut links = pairs(&self.instances, Link::AppWa, Some(host));
        links.extend(pairs(&self.instances, Link::BrowserApp, Some(host)));
        for (a, b) in &links {
            if on {
                stage.hold(a, b);
            } else {
                stage.release(a, b);
            }
        }
        if !on {
            self.cut_down_links(stage, host);
        }
    }

    fn link_down(&mut self, stage: &mut dyn Stage, link: Link) {
        let down = self.links_down.entry(link).or_insert(0);
        *down += 1;
        if *down == 1 {
            cut(&self.instances, stage, link, None);
        }
    }

    fn link_up(&mut self, stage: &mut dyn Stage, link: Link) {
        let down = self.links_down.entry(link).or_insert(0);
        *down = down.saturating_sub(1);
        if *down == 0 {
            for (a, b) in pairs(&self.instances, link, None) {
                stage.repair(&a, &b);
            }
        }
    }

    fn set_latency(&self, stage: &mut dyn Stage, link: Link, min: Duration, max: Duration) {
        for (a, b) in pairs(&self.instances, link, None) {
            stage.set_latency(&a, &b, min, max);
        }
    }

    fn set_loss(&self, stage: &mut dyn Stage, link: Link, rate: f64) {
        for (a, b) in pairs(&self.instances, link, None) {
            stage.set_loss(&a, &b, rate);
        }
    }

    /// Does `step`, due at `now`.
    pub(crate) fn apply(&mut self, stage: &mut dyn Stage, now: Duration, step: Step) {
        match step {
            Step::Fire(action) => self.fire(stage, now, action),
            Step::LinkDown { link, flap } => {
                if flap {
                    self.fault(
                        FaultKind::Partition,
                        &format!("{} (flap)", link_name(link)),
                        true,
                    );
                }
                self.link_down(stage, link);
            }
            Step::LinkUp { link, flap } => {
                if flap {
                    self.fault(
                        FaultKind::Partition,
                        &format!("{} (flap)", link_name(link)),
                        false,
                    );
                } else {
                    self.fault(FaultKind::Partition, link_name(link), false);
                }
                self.link_up(stage, link);
            }
            Step::End(fault, link) => {
                match fault {
                    FaultKind::Latency => {
                        let net = &self.scenario.network;
                        self.set_latency(stage, link, net.min_latency, net.max_latency);
                    }
                    FaultKind::Loss => self.set_loss(stage, link, 0.0),
                    _ => {}
                }
                self.fault(fault, link_name(link), false);
            }
            Step::EndEndpoint(fault) => {
                match fault {
                    FaultKind::Unavailable => self.endpoint.set_unavailable(false),
                    FaultKind::PingSilence => self.endpoint.set_ping_silence(false),
                    FaultKind::SlowHandshake => self.endpoint.set_handshake_delay(Duration::ZERO),
                    FaultKind::Churn => self.endpoint.set_churn(None),
                    _ => {}
                }
                self.fault(fault, WA_HOST, false);
            }
            Step::EndUser(fault, user) => {
                let ended = match fault {
                    FaultKind::Messages => {
                        self.endpoint.set_messages(&user, None);
                        true
                    }
                    // Ended already by the rival's last login, or not.
                    FaultKind::RivalDevice => self.endpoint.rival_stop(&user),
                    _ => true,
                };
                if ended {
                    self.fault(fault, &user, false);
                }
            }
            Step::Release(n) => {
                let host = format!("app-{n}");
                self.hold(stage, &host, false);
                self.fault(FaultKind::Stall, &host, false);
            }
            Step::Respawn(n) => {
                stage.respawn_host(n);
                self.record(
                    None,
                    EventKind::InstanceStarted {
                        instance: format!("app-{n}"),
                    },
                );
            }
            Step::Restart(n) => {
                let host = format!("app-{n}");
                stage.restart_host(n, now);
                self.fault(FaultKind::Crash, &host, false);
                self.record(None, EventKind::InstanceStarted { instance: host });
            }
        }
    }

    /// App `n` exited on its own at `now` (`exit_on_codes`): its host goes
    /// down now and comes back after the scenario's `restart_delay`. No
    /// fault row: nothing scripted did it.
    pub(crate) fn exited(&mut self, stage: &mut dyn Stage, n: u32, now: Duration) {
        if self.running(stage, n) {
            stage.crash_host(n, now);
            self.record(
                None,
                EventKind::InstanceCrashed {
                    instance: format!("app-{n}"),
                },
            );
            self.push(now + self.scenario.restart_delay, Step::Respawn(n));
        }
    }

    fn fire(&mut self, stage: &mut dyn Stage, now: Duration, action: Action) {
        match action {
            Action::Close { user, code } => {
                if code == 440 {
                    self.fault(FaultKind::Takeover, &user, true);
                    self.fault(FaultKind::Takeover, &user, false);
                }
                self.endpoint.close_user(&user, code);
            }
            Action::Refuse { user, count, code } => {
                // The endpoint records the fault's end when the last refusal is used.
                self.record(
                    Some(&user),
                    EventKind::FaultStarted {
                        fault: FaultKind::RefuseConnects,
                        target: user.clone(),
                    },
                );
                self.endpoint.refuse_next(&user, count, code);
            }
            Action::Unavailable { duration } => {
                self.fault(FaultKind::Unavailable, WA_HOST, true);
                self.endpoint.set_unavailable(true);
                self.push(now + duration, Step::EndEndpoint(FaultKind::Unavailable));
            }
            Action::Logout { user } => {
                self.record(
                    Some(&user),
                    EventKind::FaultStarted {
                        fault: FaultKind::Logout,
                        target: user.clone(),
                    },
                );
                self.endpoint.logout(&user);
            }
            Action::Pair { user } => {
                self.record(Some(&user), EventKind::UserPaired {});
                self.endpoint.pair(&user);
            }
            Action::PingSilence { duration } => {
                self.fault(FaultKind::PingSilence, WA_HOST, true);
                self.endpoint.set_ping_silence(true);
                self.push(now + duration, Step::EndEndpoint(FaultKind::PingSilence));
            }
            Action::SlowHandshake { delay, duration } => {
                self.fault(FaultKind::SlowHandshake, WA_HOST, true);
                self.endpoint.set_handshake_delay(delay);
                self.push(now + duration, Step::EndEndpoint(FaultKind::SlowHandshake));
            }
            Action::Partition { link, duration } => {
                self.fault(FaultKind::Partition, link_name(link), true);
                self.link_down(stage, link);
                self.push(now + duration, Step::LinkUp { link, flap: false });
            }
            Action::Flap {
                link,
                duration,
                down,
                up,
                jitter,
            } => {
                self.fault(FaultKind::Flap, link_name(link), true);
                let end = now + duration;
                let jitter_ms = crate::util::ms(jitter);
                let mut t = now;
                while t < end {
                    let stretch = |rng: &mut ChaCha8Rng| {
                        Duration::from_millis(if jitter_ms > 0 {
                            rng.random_range(0..=jitter_ms)
                        } else {
                            0
                        })
                    };
                    let down_for = down + stretch(&mut self.rng);
                    self.push(t, Step::LinkDown { link, flap: true });
                    self.push((t + down_for).min(end), Step::LinkUp { link, flap: true });
                    t += down_for + up + stretch(&mut self.rng);
                }
                self.push(end, Step::End(FaultKind::Flap, link));
            }
            Action::Latency {
                link,
                min,
                max,
                duration,
            } => {
                self.fault(FaultKind::Latency, link_name(link), true);
                self.set_latency(stage, link, min, max);
                self.push(now + duration, Step::End(FaultKind::Latency, link));
            }
            Action::Loss {
                link,
                rate,
                duration,
            } => {
                self.fault(FaultKind::Loss, link_name(link), true);
                self.set_loss(stage, link, rate);
                self.push(now + duration, Step::End(FaultKind::Loss, link));
            }
            Action::Crash {
                instance,
                restart_after,
            } => {
                // A host that is down already cannot crash again.
                if self.running(stage, instance) {
                    let host = format!("app-{instance}");
                    stage.crash_host(instance, now);
                    self.fault(FaultKind::Crash, &host, true);
                    self.record(None, EventKind::InstanceCrashed { instance: host });
                    if let Some(after) = restart_after {
                        self.push(now + after, Step::Restart(instance));
                    }
                }
            }
            Action::RivalDevice {
                user,
                after,
                times,
                until,
            } => {
                self.fault(FaultKind::RivalDevice, &user, true);
                if !self.endpoint.rival_login(&user, after, times) {
                    self.fault(FaultKind::RivalDevice, &user, false);
                } else if let Some(until) = until {
                    self.push(until, Step::EndUser(FaultKind::RivalDevice, user));
                }
            }
            Action::Stall { instance, duration } => {
                if self.running(stage, instance) {
                    let host = format!("app-{instance}");
                    self.fault(FaultKind::Stall, &host, true);
                    self.hold(stage, &host, true);
                    self.push(now + duration, Step::Release(instance));
                }
            }
            Action::Churn {
                after,
                code,
                duration,
            } => {
                self.fault(FaultKind::Churn, WA_HOST, true);
                self.endpoint.set_churn(Some((after, code)));
                self.push(now + duration, Step::EndEndpoint(FaultKind::Churn));
            }
            Action::StaleClose { user, code, after } => {
                // The endpoint records the end when the late close goes out.
                self.fault(FaultKind::StaleClose, &user, true);
                self.endpoint.arm_stale_close(&user, code, after);
            }
            Action::StreamError {
                user,
                code,
                child,
                child_type,
            } => {
                self.fault(FaultKind::StreamError, &user, true);
                self.fault(FaultKind::StreamError, &user, false);
                let child = child.map(|tag| StreamErrorChild {
                    tag,
                    kind: child_type,
                });
                self.endpoint.stream_error(&user, code, child);
            }
            Action::Messages {
                user,
                every,
                duration,
            } => {
                self.fault(FaultKind::Messages, &user, true);
                self.endpoint.set_messages(&user, Some(every));
                self.push(now + duration, Step::EndUser(FaultKind::Messages, user));
            }
            Action::StartInstance => self.start_instance(stage),
            Action::OpenTabs { count } => {
                let _ = self.browser.send(BrowserCommand::OpenTabs(count));
            }
            Action::CloseTabs { count } => {
                let _ = self.browser.send(BrowserCommand::CloseTabs(count));
            }
            Action::Connect { user, instance } => {
                self.record(Some(&user), EventKind::ManualConnect {});
                let _ = self.browser.send(BrowserCommand::Press {
                    instance,
                    user,
                    connect: true,
                });
            }
            Action::Disconnect { user, instance } => {
                self.record(Some(&user), EventKind::ManualDisconnect {});
                let _ = self.browser.send(BrowserCommand::Press {
                    instance,
                    user,
                    connect: false,
                });
            }
            Action::ForeignTab {
                user,
                target,
                poll_interval,
                button,
                duration,
            } => {
                let _ = self
                    .browser
                    .send(BrowserCommand::OpenForeignTab(ForeignTab {
                        user,
                        target,
                        poll_interval,
                        button: button.connects(),
                        duration,
                    }));
            }
        }
    }
}

/// The host pairs a link stands for, limited to `only` if given.
fn pairs(instances: &[String], link: Link, only: Option<&str>) -> Vec<(String, String)> {
    instances
        .iter()
        .filter(|h| only.is_none_or(|o| o == h.as_str()))
        .map(|h| match link {
            Link::AppWa => (h.clone(), WA_HOST.to_string()),
            Link::BrowserApp => (BROWSER_HOST.to_string(), h.clone()),
        })
        .collect()
}

fn cut(instances: &[String], stage: &mut dyn Stage, link: Link, only: Option<&str>) {
    for (a, b) in pairs(instances, link, only) {
        stage.partition(&a, &b);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;
    use crate::sim::TurmoilClock;

    /// A stage that only writes down what it was asked, and which hosts
    /// are up.
    #[derive(Default)]
    struct Log {
        calls: Vec<String>,
        up: BTreeSet<u32>,
    }

    impl Stage for Log {
        fn partition(&mut self, a: &str, b: &str) {
            self.calls.push(format!("partition {a} {b}"));
        }
        fn repair(&mut self, a: &str, b: &str) {
            self.calls.push(format!("repair {a} {b}"));
        }
        fn hold(&mut self, a: &str, b: &str) {
            self.calls.push(format!("hold {a} {b}"));
        }
        fn release(&mut self, a: &str, b: &str) {
            self.calls.push(format!("release {a} {b}"));
        }
        fn set_latency(&mut self, a: &str, b: &str, _min: Duration, _max: Duration) {
            self.calls.push(format!("latency {a} {b}"));
        }
        fn set_loss(&mut self, a: &str, b: &str, rate: f64) {
            self.calls.push(format!("loss {a} {b} {rate}"));
        }
        fn start_host(&mut self, n: u32) {
            self.up.insert(n);
            self.calls.push(format!("start app-{n}"));
        }
        fn is_running(&mut self, n: u32) -> bool {
            self.up.contains(&n)
        }
        fn crash_host(&mut self, n: u32, now: Duration) {
            self.up.remove(&n);
            self.calls
                .push(format!("crash app-{n} at {}", now.as_millis()));
        }
        fn restart_host(&mut self, n: u32, now: Duration) {
            self.up.insert(n);
            self.calls
                .push(format!("restart app-{n} at {}", now.as_millis()));
        }
        fn respawn_host(&mut self, n: u32) {
            self.up.insert(n);
            self.calls.push(format!("respawn app-{n}"));
        }
    }

    /// Runs `toml`'s events on a [`Log`] until `until`, calling `exits` at
    /// its times first; returns the stage's calls and the recorded rows.
    fn direct(
        toml: &str,
        exits: &[(Duration, u32)],
        until: Duration,
    ) -> (Vec<String>, Vec<String>) {
        let scenario = crate::scenario::parse(Path::new("t.toml"), toml).expect("parses");
        let clock = Arc::new(TurmoilClock::default());
        let recorder = Recorder::new(clock.clone());
        let (browser, _commands) = mpsc::unbounded_channel();
        let cast = Cast {
            recorder: recorder.clone(),
            endpoint: Endpoint::new(recorder.clone(), [("alice".to_string(), true)]),
            browser,
            started: Arc::new(AtomicU32::new(0)),
            seed: 1,
        };
        let mut d = Director::new(&scenario, cast);
        let mut stage = Log::default();
        d.begin(&mut stage);
        let mut exits = exits.iter().peekable();
        let mut now = Duration::ZERO;
        while now <= until {
            clock.set_driver_time(now);
            while let Some((_, n)) = exits.next_if(|(at, _)| *at == now) {
                d.exited(&mut stage, *n, now);
            }
            while let Some(step) = d.due(now) {
                d.apply(&mut stage, now, step);
            }
            now += Duration::from_millis(500);
        }
        let rows = recorder
            .take()
            .iter()
            .map(|e| format!("{} {}", e.at.as_millis(), e.kind.name()))
            .collect();
        (stage.calls, rows)
    }

    #[test]
    fn an_instance_started_during_a_partition_is_cut_too_and_mended_with_the_others() {
        let (calls, _) = direct(
            r#"
            duration = "2m"
            [[events]]
            at = "0s"
            action = "partition"
            link = "app-wa"
            duration = "60s"
            [[events]]
            at = "10s"
            action = "start_instance"
            "#,
            &[],
            Duration::from_secs(61),
        );
        assert_eq!(
            calls,
            [
                "start app-1",
                "partition app-1 wa",
                "start app-2",
                "partition app-2 wa",
                "repair app-1 wa",
                "repair app-2 wa",
            ]
        );
    }

    #[test]
    fn an_exited_app_is_down_for_the_restart_delay_and_a_crash_meanwhile_does_nothing() {
        let (calls, rows) = direct(
            r#"
            duration = "2m"
            restart_delay = "2s"
            [[events]]
            at = "1s"
            action = "crash"
            instance = 1
            restart_after = "5s"
            "#,
            &[(Duration::from_millis(500), 1)],
            Duration::from_secs(10),
        );
        assert_eq!(
            calls,
            ["start app-1", "crash app-1 at 500", "respawn app-1"]
        );
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        assert_eq!(
            rows,
            [
                "0 instance_started",
                "500 instance_crashed",
                "2500 instance_started"
            ]
        );
    }
}
