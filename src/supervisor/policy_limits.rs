//! The limits a policy (a preset file, or a preset after a scenario's
//! overrides) must keep, so no knob can overflow a timer or spin one: every
//! duration at most [`MAX_DURATION`](crate::scenario::limits::MAX_DURATION), timer periods longer than zero, the
//! name safe as a folder name, stop codes that exist.

use std::time::Duration;

use super::policy::Policy;
use crate::close_code::CloseCode;
use crate::scenario::limits;

/// Knobs that are timer periods: zero would spin forever.
const PERIODS: [&str; 2] = ["check_interval", "keepalive_interval"];

impl Policy {
    /// The first knob (in declaration order) outside its limits, and why.
    pub fn check_limits(&self) -> Result<(), (&'static str, String)> {
        if let Err(r) = limits::folder_name(&self.name) {
            return Err(("name", format!("{} ({})", r.message, r.help)));
        }
        let durations: [(&'static str, Duration); 11] = [
            ("check_interval", self.check_interval),
            ("cooldown", self.cooldown),
            ("backoff_base", self.backoff_base),
            ("backoff_cap", self.backoff_cap),
            ("backoff_jitter", self.backoff_jitter),
            ("keepalive_interval", self.keepalive_interval),
            ("dead_link_grace", self.dead_link_grace),
            ("connect_timeout", self.connect_timeout),
            ("episode_min_uptime", self.episode_min_uptime),
            ("lease_ttl", self.lease_ttl),
            ("idle_watchdog", self.idle_watchdog),
        ];
        for (knob, d) in durations {
            if let Err(r) = limits::duration(d) {
                return Err((knob, format!("{} ({})", r.message, r.help)));
            }
            if d.is_zero() && PERIODS.contains(&knob) {
                return Err((knob, "is a timer period and must not be zero".into()));
            }
        }
        if let Some(c) = self
            .stop_codes
            .iter()
            .find(|c| CloseCode::from_code(**c).is_none())
        {
            let known: Vec<String> = CloseCode::ALL
                .iter()
                .map(|k| k.code().to_string())
                .collect();
            return Err((
                "stop_codes",
                format!("unknown close code {c} (known: {})", known.join(", ")),
            ));
        }
        Ok(())
    }
}

/// 1-based line where `knob` is set in `source` (`knob = ...` at the start of
/// a line), else 1.
pub fn knob_line(source: &str, knob: &str) -> usize {
    source
        .lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(knob)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(1, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::format_duration;

    #[test]
    fn every_shipped_preset_is_within_the_limits() {
        for name in super::super::policy::PRESET_NAMES {
            assert_eq!(Policy::preset(name).unwrap().check_limits(), Ok(()));
        }
    }

    #[test]
    fn a_knob_is_found_at_its_line() {
        assert_eq!(knob_line("a = 1\n  cooldown = \"1s\"\n", "cooldown"), 2);
        assert_eq!(knob_line("cooldown_x = 1\n", "cooldown"), 1);
    }

    #[test]
    fn a_huge_duration_names_its_knob() {
        let mut p = Policy::preset("stable").unwrap();
        p.dead_link_grace = format_duration_back("8d");
        let (knob, why) = p.check_limits().unwrap_err();
        assert_eq!(knob, "dead_link_grace");
        assert!(
            why.contains("8days is longer than the 7days limit"),
            "{why}"
        );
    }

    #[test]
    fn an_empty_preset_file_is_refused_at_line_1() {
        let e = Policy::from_toml("p.toml", "").unwrap_err().to_string();
        assert!(e.starts_with("p.toml:1: missing field"), "{e}");
    }

    #[test]
    fn a_preset_file_past_a_limit_is_refused_at_the_knob_line() {
        let text = crate::supervisor::policy::preset_source("stable")
            .unwrap()
            .replace(
                "dead_link_grace = \"5s\"",
                "dead_link_grace = \"500000000000y\"",
            )
            .replace("check_interval = \"30s\"", "check_interval = \"0s\"");
        let line = knob_line(&text, "check_interval");
        let e = Policy::from_toml("p.toml", &text).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("p.toml:{line}: check_interval: is a timer period and must not be zero")
        );
        let text = text.replace("check_interval = \"0s\"", "check_interval = \"30s\"");
        let e = Policy::from_toml("p.toml", &text).unwrap_err().to_string();
        let line = knob_line(&text, "dead_link_grace");
        assert!(
            e.starts_with(&format!("p.toml:{line}: dead_link_grace: "))
                && e.contains("7days limit"),
            "{e}"
        );
    }

    #[test]
    fn an_override_past_a_limit_is_refused() {
        let p = Policy::preset("stable").unwrap();
        let o = toml::Table::from_iter([(
            "stop_codes".to_string(),
            toml::Value::Array(vec![toml::Value::Integer(999)]),
        )]);
        let e = p.with_overrides(&o).unwrap_err().to_string();
        assert!(e.contains("stop_codes: unknown close code 999"), "{e}");
    }

    fn format_duration_back(s: &str) -> Duration {
        let d = crate::scenario::parse_duration(s).unwrap();
        assert_eq!(format_duration(d), "8days");
        d
    }
}
