//! The interactive timeline: the data its script reads, and the HTML that
//! holds both. The static SVG stays in the page (readable without script);
//! the script, inline in the page, draws a zoomable view over it from the
//! data, with no server and no network, so it works from `file://`.
//!
//! The data is the same [`Timeline`] the SVG draws, at full resolution (no
//! thinning: the script thins per pixel at the zoom shown), plus the trace
//! rows for the hover list.

use std::io::{self, Write};
use std::time::Duration;

use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;

use crate::report::format;
use crate::trace::{ConnectionState, TraceEvent};

use super::model::Timeline;
use super::style::{self, css};

/// The viewer's script, run once per page over every timeline in it.
const SCRIPT: &str = include_str!("../../../assets/report/timeline.js");
/// The viewer's styles.
const STYLE: &str = include_str!("../../../assets/report/timeline.css");

/// Bump when the data's shape changes; the script refuses other versions.
pub const DATA_VERSION: u32 = 1;

/// How many trace rows the stability report's copy of a run's data keeps
/// for the hover list; the run's own page keeps them all.
pub const INDEX_EVENT_CAP: usize = 2_000;

fn ms(d: Duration) -> u64 {
    crate::util::ms(d)
}

#[derive(Serialize)]
struct Data<'a> {
    v: u32,
    len: u64,
    title: &'a str,
    states: Vec<(&'static str, String)>,
    causes: Vec<(&'static str, String)>,
    lanes: Vec<LaneData<'a>>,
    users: Vec<UserData<'a>>,
    /// (label, colour, target, start, end)
    faults: Vec<(&'static str, String, &'a str, u64, u64)>,
    /// (at, invariant, user)
    viol: Vec<(u64, &'a str, Option<&'a str>)>,
    inv_colors: Vec<(&'a str, String)>,
    hosts: Vec<&'a str>,
    kinds: Vec<String>,
    /// (at, host index, user, kind index, details)
    events: Rows<'a>,
    events_total: usize,
}

/// The trace rows for the hover list, serialized one by one as they are
/// written out: a day-long run's rows (hundreds of thousands, each with its
/// details as JSON text) never sit in memory a second time.
struct Rows<'a> {
    trace: &'a [TraceEvent],
    hosts: &'a [&'a str],
    kinds: &'a [String],
    /// At most this many rows (the first ones).
    cap: usize,
}

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let shown = self.trace.len().min(self.cap);
        let mut seq = serializer.serialize_seq(Some(shown))?;
        for e in &self.trace[..shown] {
            let h = self.hosts.iter().position(|x| *x == e.host).unwrap_or(0);
            let name = e.kind.name();
            let k = self.kinds.iter().position(|x| *x == name).unwrap_or(0);
            seq.serialize_element(&(ms(e.at), h, e.user(), k, e.kind.details()))?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct LaneData<'a> {
    user: &'a str,
    inst: &'a str,
    /// (start, end, state index or -1 while the instance was not running)
    spans: Vec<(u64, u64, i32)>,
    /// (at, cause index)
    att: Vec<(u64, usize)>,
    /// (at, code)
    closes: Vec<(u64, Option<u16>)>,
    /// (at, client sockets this instance held for the user)
    sock: Vec<(u64, u32)>,
}

#[derive(Serialize)]
struct UserData<'a> {
    user: &'a str,
    sock: Vec<(u64, u32)>,
    /// Up as uptime counts it: (start, end).
    up: Vec<(u64, u64)>,
}

const STATES: [ConnectionState; 4] = [
    ConnectionState::Connected,
    ConnectionState::Connecting,
    ConnectionState::QrPending,
    ConnectionState::Disconnected,
];

/// The viewer's data for one run, as JSON safe to put inside a
/// `<script type="application/json">` element (no `<` in it).
pub fn data_json(model: &Timeline, trace: &[TraceEvent]) -> String {
    let mut out = Vec::new();
    // Writing into memory cannot fail.
    let _ = write_data(model, trace, usize::MAX, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the viewer's data for one run into `out` as it is serialized
/// (script-safe, as [`data_json`]), with at most `cap` trace rows for the
/// hover list: nothing of the size of the trace is built in memory.
pub fn write_data(
    model: &Timeline,
    trace: &[TraceEvent],
    cap: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut hosts: Vec<&str> = Vec::new();
    let mut kinds: Vec<String> = Vec::new();
    for e in trace {
        index_of(&mut hosts, e.host.as_str());
        let name = e.kind.name();
        if !kinds.contains(&name) {
            kinds.push(name);
        }
    }
    let mut inv_colors: Vec<(&str, String)> = Vec::new();
    for v in &model.violations {
        if !inv_colors.iter().any(|(id, _)| *id == v.invariant) {
            inv_colors.push((
                v.invariant.as_str(),
                css(style::invariant_color(&v.invariant)),
            ));
        }
    }
    let data = Data {
        v: DATA_VERSION,
        len: ms(model.run_length),
        title: &model.title,
        states: STATES
            .iter()
            .map(|s| (s.as_str(), css(style::state_color(*s))))
            .collect(),
        causes: style::CAUSES
            .iter()
            .map(|c| (c.as_str(), css(style::cause_color(*c))))
            .collect(),
        lanes: model
            .lanes
            .iter()
            .map(|l| LaneData {
                user: &l.user,
                inst: &l.instance,
                spans: l
                    .spans
                    .iter()
                    .map(|s| {
                        let k = s
                            .state
                            .and_then(|st| STATES.iter().position(|x| *x == st))
                            .map_or(-1, |k| k as i32);
                        (ms(s.start), ms(s.end), k)
                    })
                    .collect(),
                att: l
                    .attempts
                    .iter()
                    .map(|(at, c)| {
                        let k = style::CAUSES.iter().position(|x| x == c).unwrap_or(0);
                        (ms(*at), k)
                    })
                    .collect(),
                closes: l.closes.iter().map(|c| (ms(c.at), c.code)).collect(),
                sock: l.sockets.iter().map(|(t, n)| (ms(*t), *n)).collect(),
            })
            .collect(),
        users: model
            .sockets
            .iter()
            .map(|s| UserData {
                user: &s.user,
                sock: s.steps.iter().map(|(t, n)| (ms(*t), *n)).collect(),
                up: s.up.iter().map(|(a, b)| (ms(*a), ms(*b))).collect(),
            })
            .collect(),
        faults: model
            .faults
            .iter()
            .map(|f| {
                (
                    style::fault_label(f.fault),
                    css(style::fault_color(f.fault)),
                    f.target.as_str(),
                    ms(f.start),
                    ms(f.end),
                )
            })
            .collect(),
        viol: model
            .violations
            .iter()
            .map(|v| (ms(v.at), v.invariant.as_str(), v.user.as_deref()))
            .collect(),
        inv_colors,
        hosts: hosts.clone(),
        kinds: kinds.clone(),
        events_total: trace.len(),
        events: Rows {
            trace,
            hosts: &hosts,
            kinds: &kinds,
            cap,
        },
    };
    let mut safe = ScriptSafe(io::BufWriter::with_capacity(1 << 16, out));
    serde_json::to_writer(&mut safe, &data).map_err(io::Error::from)?;
    safe.0.flush()
}

/// The same data with at most `cap` trace rows for the hover list (the
/// first ones), for a page that holds many runs. Other fields are kept.
pub fn capped(json: &str, cap: usize) -> String {
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(json) else {
        return String::new();
    };
    if let Some(events) = v.get_mut("events").and_then(|e| e.as_array_mut()) {
        events.truncate(cap);
    }
    script_safe(&serde_json::to_string(&v).unwrap_or_default())
}

fn index_of<'a>(v: &mut Vec<&'a str>, s: &'a str) -> usize {
    match v.iter().position(|x| *x == s) {
        Some(i) => i,
        None => {
            v.push(s);
            v.len() - 1
        }
    }
}

/// A writer of JSON that cannot end its `<script>` element early: `<`, `>`
/// and `&` (which JSON has only inside strings) go out as unicode escapes,
/// so the parsed data is unchanged; [`script_safe`] as the bytes stream.
struct ScriptSafe<W: Write>(W);

impl<W: Write> Write for ScriptSafe<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut start = 0;
        for (i, b) in buf.iter().enumerate() {
            let escaped: &[u8] = match b {
                b'<' => b"\\u003c",
                b'>' => b"\\u003e",
                b'&' => b"\\u0026",
                _ => continue,
            };
            self.0.write_all(&buf[start..i])?;
            self.0.write_all(escaped)?;
            start = i + 1;
        }
        self.0.write_all(&buf[start..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// JSON that cannot end its `<script>` element early: `<`, `>` and `&` as
/// unicode escapes (equal JSON, so the parsed data is unchanged).
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// One timeline in a page: the static image (a link to the SVG), and,
/// when `data` is given, the data the script turns into the interactive
/// view above it. `href` is the run folder's prefix (`""` inside it).
pub fn figure(prefix: &str, image: &str, alt: &str, data: Option<&str>) -> String {
    let svg = format::html(&format!("{prefix}timeline.svg"));
    let img = format::html(&format!("{prefix}{image}"));
    let mut out = String::new();
    out.push_str("<figure class=\"lg-timeline\">");
    if let Some(data) = data {
        out.push_str("<script type=\"application/json\" class=\"lg-data\">");
        out.push_str(data);
        out.push_str("</script>");
    }
    out.push_str(&format!(
        "<a class=\"timeline lg-static\" href=\"{svg}\"><img src=\"{img}\" alt=\"{alt}\" loading=\"lazy\"></a>",
        alt = format::html(alt)
    ));
    out.push_str("</figure>\n");
    out
}

/// The viewer's style and script, once per page, after every figure.
pub fn page_script() -> String {
    format!("<style>{STYLE}</style>\n<script>{SCRIPT}</script>\n")
}
