//! `import --check`'s page: the log's timeline drawn above the simulated
//! one, on the same time axis, and the minute-by-minute table beneath.
//!
//! Each lane shows the sockets open for the user (a step line; two or more is
//! a conflict, drawn red) and every close as a tick coloured by its code. The
//! page is one self-contained HTML file (inline SVG, no script), so it opens
//! from `file://` anywhere.

use std::fmt::Write as _;
use std::time::Duration;

use super::fidelity::{self, Fidelity};
use super::infer::Mark;

const WIDTH: f64 = 960.0;
const LANE: f64 = 70.0;
const LEFT: f64 = 150.0;

fn code_colour(code: u16) -> &'static str {
    match code {
        440 => "#c0392b",
        401 | 403 | 411 => "#8e44ad",
        408 | 428 => "#d68910",
        515 => "#2e86c1",
        _ => "#555555",
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn lane(out: &mut String, top: f64, label: &str, marks: &[Mark], span: Duration) {
    let x = |at: Duration| {
        LEFT + (WIDTH - LEFT - 10.0) * at.as_secs_f64() / span.as_secs_f64().max(1.0)
    };
    let _ = writeln!(
        out,
        r##"<text x="4" y="{:.1}" font-size="12">{}</text>"##,
        top + LANE / 2.0,
        escape(label)
    );
    let _ = writeln!(
        out,
        r##"<line x1="{LEFT}" y1="{:.1}" x2="{WIDTH}" y2="{:.1}" stroke="#ccc"/>"##,
        top + LANE,
        top + LANE
    );
    let y = |open: u32| top + LANE - 10.0 - f64::from(open.min(4)) * 12.0;
    let mut last = (LEFT, 0u32);
    for m in marks {
        match *m {
            Mark::Sockets { at, open } => {
                let nx = x(at);
                let colour = if last.1 >= 2 { "#c0392b" } else { "#1e8449" };
                let _ = writeln!(
                    out,
                    r##"<line x1="{:.1}" y1="{:.1}" x2="{nx:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2"/>"##,
                    last.0,
                    y(last.1),
                    y(last.1)
                );
                let _ = writeln!(
                    out,
                    r##"<line x1="{nx:.1}" y1="{:.1}" x2="{nx:.1}" y2="{:.1}" stroke="#1e8449" stroke-width="1"/>"##,
                    y(last.1),
                    y(open)
                );
                last = (nx, open);
            }
            Mark::Close { at, code } => {
                let cx = x(at);
                let _ = writeln!(
                    out,
                    r##"<line x1="{cx:.1}" y1="{:.1}" x2="{cx:.1}" y2="{:.1}" stroke="{}" stroke-width="1"><title>{} close {code}</title></line>"##,
                    top + 2.0,
                    top + 14.0,
                    code_colour(code),
                    crate::scenario::format_duration(at)
                );
            }
        }
    }
    let _ = writeln!(
        out,
        r##"<line x1="{:.1}" y1="{:.1}" x2="{WIDTH}" y2="{:.1}" stroke="#1e8449" stroke-width="2"/>"##,
        last.0,
        y(last.1),
        y(last.1)
    );
}

/// The two lanes, the log's above the simulation's, as an inline SVG.
fn timelines(preset: &str, log: &[Mark], sim: &[Mark], span: Duration) -> String {
    let mut svg = String::new();
    let height = 2.0 * LANE + 40.0;
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif">"##
    );
    lane(&mut svg, 0.0, "log", log, span);
    lane(
        &mut svg,
        LANE + 10.0,
        &format!("simulation ({preset})"),
        sim,
        span,
    );
    let minutes = span.as_secs() / 60;
    let step = (minutes / 10).max(1);
    for m in (0..=minutes).step_by(usize::try_from(step).unwrap_or(1)) {
        let x = LEFT + (WIDTH - LEFT - 10.0) * (m * 60) as f64 / span.as_secs_f64().max(1.0);
        let _ = writeln!(
            svg,
            r##"<text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{m}m</text>"##,
            2.0 * LANE + 30.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn verdict(f: &Fidelity) -> String {
    if f.reproduced() {
        format!(
            "reproduced: attempts (in all and in each minute) and closes by code within {} % (or {}) of the log, as many sockets open at once",
            fidelity::TOLERANCE_PERCENT,
            fidelity::TOLERANCE_ABSOLUTE
        )
    } else {
        format!("not reproduced: {}", escape(&f.misses.join("; ")))
    }
}

const LEGEND: &str = "Green: sockets open for the user (red where two or more are open at once). Ticks: closes, coloured by code (440 red, 401/403/411 purple, 408/428 amber, 515 blue).";

/// The page's HTML.
pub fn html(
    title: &str,
    preset: &str,
    log: &[Mark],
    sim: &[Mark],
    f: &Fidelity,
    span: Duration,
) -> String {
    let svg = timelines(preset, log, sim, span);
    let verdict = verdict(f);
    let mut rows = String::new();
    for line in fidelity::table(f).lines().skip(2) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let _ = writeln!(
            rows,
            "<tr>{}</tr>",
            cells
                .iter()
                .map(|c| format!("<td>{}</td>", escape(c)))
                .collect::<String>()
        );
    }
    format!(
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}: log and simulation</title>
<style>body{{font-family:sans-serif;margin:1.5em;max-width:1000px}}table{{border-collapse:collapse}}td,th{{border:1px solid #ddd;padding:2px 8px;text-align:right}}</style>
</head><body>
<h1>{title}</h1>
<p>Above: what the log shows. Below: the imported scenario simulated with <code>{preset}</code>. {LEGEND}</p>
{svg}<p><strong>{verdict}</strong></p>
<table><tr><th>minute</th><th>attempts (log / sim)</th><th>closes by code (log / sim)</th><th>sockets open (log / sim)</th></tr>
{rows}</table>
</body></html>
"##,
        title = escape(title),
        preset = escape(preset),
    )
}

/// The log's timeline above the simulated one, as a section for the run's
/// own `index.html` and the batch's: what a user opens first shows the log
/// beside the simulation, linking to `page` (the run's `import.html`, with
/// the minute-by-minute table).
pub fn section(
    preset: &str,
    log: &[Mark],
    sim: &[Mark],
    f: &Fidelity,
    span: Duration,
    page: &str,
) -> String {
    format!(
        r##"<section class="import-check" id="log-and-simulation">
<h2>The log and its simulation</h2>
<p>Above: what the log shows. Below: the imported scenario simulated with <code>{preset}</code>. {LEGEND} <a href="{page}">Minute by minute: log and simulation</a>.</p>
{svg}<p><strong>{verdict}</strong></p>
</section>
"##,
        preset = escape(preset),
        page = escape(page),
        svg = timelines(preset, log, sim, span),
        verdict = verdict(f),
    )
}

/// `page` (a report page) with `section` at the top of its `<main>`, after
/// the page's opening line or banner: the first thing a user sees.
pub fn embed(page: &str, section: &str) -> String {
    let Some(main) = page.find("<main>\n").map(|i| i + "<main>\n".len()) else {
        return page.to_owned();
    };
    let rest = &page[main..];
    // After the back link of a run's page, or the banner of a batch's.
    let after = [
        ("<p class=\"small\">", "</p>\n"),
        ("<div class=\"banner", "</div>\n"),
    ]
    .iter()
    .find(|(open, _)| rest.starts_with(open))
    .and_then(|(_, close)| rest.find(close).map(|i| main + i + close.len()))
    .unwrap_or(main);
    let mut out = String::with_capacity(page.len() + section.len());
    out.push_str(&page[..after]);
    out.push_str(section);
    out.push_str(&page[after..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_goes_after_the_run_pages_back_link() {
        let page =
            "<body>\n<main>\n<p class=\"small\"><a>back</a></p>\n<section>run</section>\n</main>";
        let out = embed(page, "<section>log</section>\n");
        assert_eq!(
            out,
            "<body>\n<main>\n<p class=\"small\"><a>back</a></p>\n<section>log</section>\n<section>run</section>\n</main>"
        );
    }

    #[test]
    fn a_section_goes_after_the_batch_pages_banner() {
        let page = "<main>\n<div class=\"banner pass\">\n<h1>r</h1>\n</div>\n<h2>runs</h2>";
        let out = embed(page, "<s/>");
        assert_eq!(
            out,
            "<main>\n<div class=\"banner pass\">\n<h1>r</h1>\n</div>\n<s/><h2>runs</h2>"
        );
    }
}
