//! Colours and names of what the timeline draws; the legend reads them too.

use plotters::style::RGBColor;

use crate::trace::{AttemptCause, ConnectionState, FaultKind};

pub const INK: RGBColor = RGBColor(0x1F, 0x23, 0x28);
pub const MUTED: RGBColor = RGBColor(0x5F, 0x67, 0x73);
pub const FAINT: RGBColor = RGBColor(0xE3, 0xE6, 0xEA);
pub const ZEBRA: RGBColor = RGBColor(0xF6, 0xF7, 0xF9);
pub const WHITE: RGBColor = RGBColor(0xFF, 0xFF, 0xFF);
pub const VIOLATION: RGBColor = RGBColor(0xD6, 0x1F, 0x26);
pub const PASS: RGBColor = RGBColor(0x2E, 0x7D, 0x32);
pub const FAIL: RGBColor = RGBColor(0xC6, 0x28, 0x28);
pub const CLOSE: RGBColor = RGBColor(0x2B, 0x2F, 0x36);
pub const CLOSE_NO_CODE: RGBColor = RGBColor(0x9A, 0xA0, 0xA6);
pub const REPLACED: RGBColor = RGBColor(0x11, 0x11, 0x11);
pub const REPLACED_CHIP: RGBColor = RGBColor(0xFF, 0xD2, 0x3F);
pub const SOCKETS: RGBColor = RGBColor(0x4E, 0x79, 0xA7);
/// True connection, as uptime counts it.
pub const UP: RGBColor = RGBColor(0x2E, 0x7D, 0x32);
pub const DOWN: RGBColor = RGBColor(0x5B, 0x62, 0x70);

pub fn state_color(s: ConnectionState) -> RGBColor {
    match s {
        ConnectionState::Connected => RGBColor(0x3B, 0xA5, 0x5C),
        ConnectionState::Connecting => RGBColor(0xF2, 0xB2, 0x33),
        ConnectionState::QrPending => RGBColor(0x8E, 0x6B, 0xD8),
        ConnectionState::Disconnected => RGBColor(0xA9, 0xB2, 0xBD),
    }
}

pub const CAUSES: [AttemptCause; 6] = [
    AttemptCause::Backoff,
    AttemptCause::Auto,
    AttemptCause::Status,
    AttemptCause::Manual,
    AttemptCause::Restart,
    AttemptCause::Startup,
];

pub fn cause_color(c: AttemptCause) -> RGBColor {
    match c {
        AttemptCause::Backoff => RGBColor(0xE8, 0x7B, 0x13),
        AttemptCause::Auto => RGBColor(0x2F, 0x6D, 0xB5),
        AttemptCause::Status => RGBColor(0xC8, 0x2E, 0xB8),
        AttemptCause::Manual => RGBColor(0x1B, 0x8A, 0x5A),
        AttemptCause::Restart => RGBColor(0x17, 0xA2, 0xB8),
        AttemptCause::Startup => RGBColor(0x55, 0x55, 0x55),
    }
}

/// Faults in the order their rows stack.
pub const FAULTS: [FaultKind; 17] = [
    FaultKind::Partition,
    FaultKind::Flap,
    FaultKind::Unavailable,
    FaultKind::PingSilence,
    FaultKind::Latency,
    FaultKind::Loss,
    FaultKind::SlowHandshake,
    FaultKind::RefuseConnects,
    FaultKind::Takeover,
    FaultKind::Logout,
    FaultKind::Crash,
    FaultKind::RivalDevice,
    FaultKind::Stall,
    FaultKind::Churn,
    FaultKind::StaleClose,
    FaultKind::StreamError,
    FaultKind::Messages,
];

pub fn fault_color(f: FaultKind) -> RGBColor {
    match f {
        FaultKind::Partition => RGBColor(0x4E, 0x79, 0xA7),
        FaultKind::Flap => RGBColor(0xF2, 0x8E, 0x2B),
        FaultKind::Unavailable => RGBColor(0xB0, 0x7A, 0xA1),
        FaultKind::PingSilence => RGBColor(0x9C, 0x75, 0x5F),
        FaultKind::Latency => RGBColor(0x76, 0xB7, 0xB2),
        FaultKind::Loss => RGBColor(0x8C, 0x8C, 0x8C),
        FaultKind::SlowHandshake => RGBColor(0xC9, 0xA9, 0x2E),
        FaultKind::RefuseConnects => RGBColor(0xFF, 0x9D, 0xA7),
        FaultKind::Takeover => RGBColor(0x11, 0x11, 0x11),
        FaultKind::Logout => RGBColor(0xE1, 0x57, 0x59),
        FaultKind::Crash => RGBColor(0x44, 0x44, 0x44),
        FaultKind::RivalDevice => RGBColor(0x59, 0xA1, 0x4F),
        FaultKind::Stall => RGBColor(0xED, 0xC9, 0x48),
        FaultKind::Churn => RGBColor(0xAF, 0x7A, 0xA1),
        FaultKind::StaleClose => RGBColor(0x7F, 0x3C, 0x8D),
        FaultKind::StreamError => RGBColor(0xD3, 0x72, 0x95),
        FaultKind::Messages => RGBColor(0xBA, 0xB0, 0xAC),
    }
}

pub fn fault_label(f: FaultKind) -> &'static str {
    match f {
        FaultKind::Partition => "partition",
        FaultKind::Flap => "flapping",
        FaultKind::Unavailable => "unavailable (503)",
        FaultKind::PingSilence => "ping silence",
        FaultKind::Latency => "latency",
        FaultKind::Loss => "loss",
        FaultKind::SlowHandshake => "slow handshake",
        FaultKind::RefuseConnects => "refused connects",
        FaultKind::Takeover => "takeover (440)",
        FaultKind::Logout => "logged out (401)",
        FaultKind::Crash => "instance crash",
        FaultKind::RivalDevice => "rival device (440)",
        FaultKind::Stall => "instance stall",
        FaultKind::Churn => "churn",
        FaultKind::StaleClose => "stale close",
        FaultKind::StreamError => "stream error",
        FaultKind::Messages => "incoming messages",
    }
}

/// One colour per invariant, so that marks of different promises read apart
/// on a dense lane; the legend names each. The oracle's eight take these in
/// [`crate::invariants::INVARIANT_IDS`] order; any other id picks one by a
/// stable hash of its name.
const INVARIANT_PALETTE: [RGBColor; 8] = [
    RGBColor(0xD6, 0x1F, 0x26), // single_socket: red
    RGBColor(0x7B, 0x2F, 0xBE), // reconnect_cooldown: purple
    RGBColor(0xE0, 0x6C, 0x00), // max_attempts: orange
    RGBColor(0x00, 0x7A, 0x87), // backoff_schedule: teal
    RGBColor(0xC2, 0x18, 0x7A), // status_read_only: magenta
    RGBColor(0x1F, 0x4E, 0xA8), // eventually_connected: blue
    RGBColor(0x6B, 0x4E, 0x16), // store_matches_truth: brown
    RGBColor(0x3D, 0x7A, 0x1F), // no_zombie_work: green
];

pub fn invariant_color(id: &str) -> RGBColor {
    let known = crate::invariants::INVARIANT_IDS
        .iter()
        .position(|k| *k == id);
    let i = known.unwrap_or_else(|| {
        id.bytes().fold(0usize, |h, b| {
            h.wrapping_mul(31).wrapping_add(usize::from(b))
        })
    });
    INVARIANT_PALETTE[i % INVARIANT_PALETTE.len()]
}

/// The colour as CSS `#rrggbb`, for the HTML report and the interactive view.
pub fn css(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}
