//! The timeline of one run, as `timeline.svg` and `timeline.png`.
//!
//! x is virtual time. Upper panel: a lane per user (per user and instance
//! when several instances ran) coloured by the supervisor's state, with a
//! mark per attempt (coloured by cause), per endpoint close (its code below;
//! 440 in a yellow chip) and per violation (red, labelled with the invariant
//! id); fault windows shaded across the lanes, one row per kind on top.
//! Lower panel: client-side open sockets per user against the limit of 1.

mod draw;
mod font;
mod font_subset;
pub mod interactive;
mod layout;
mod model;
mod scale;
mod style;

use std::path::Path;

use plotters::prelude::*;

pub use model::{CloseMark, FaultSpan, Lane, SocketSeries, StateSpan, Timeline, ViolationMark};

use super::error::{write_file, ReportError};
use super::RunSummary;
use crate::trace::TraceEvent;

/// The viewer data of a run's timeline, in its folder; the run's page
/// inlines it (see [`interactive`]).
pub const DATA_FILE: &str = "timeline.json";

/// The same data with only the first [`interactive::INDEX_EVENT_CAP`] trace
/// rows, which the stability report inlines for each run: written beside
/// [`DATA_FILE`] so the report never parses a day-long run's rows.
pub const INDEX_DATA_FILE: &str = "timeline.index.json";

/// Where the run's page holds its data while the page is assembled.
const DATA_MARK: &str = "\u{0}loopguard-timeline-data\u{0}";

/// Writes a run's timeline into `dir`: `timeline.svg`, `timeline.png`, the
/// viewer's data [`DATA_FILE`], and the run's page `index.html` (its
/// report section with the interactive timeline).
pub fn write_timeline(
    dir: &Path,
    summary: &RunSummary,
    trace: &[TraceEvent],
) -> Result<(), ReportError> {
    let model = Timeline::from_run(summary, trace);
    let svg_path = dir.join("timeline.svg");
    let svg = render_svg(&model).map_err(|m| ReportError::plot(&svg_path, m))?;
    write_file(&svg_path, svg.as_bytes())?;
    let png_path = dir.join("timeline.png");
    // Drawn under a temporary name (still ending in `.png`: the backend picks
    // the format from it), then renamed into place.
    let png_temp = dir.join(".timeline.tmp.png");
    render_png(&model, &png_temp)?;
    std::fs::rename(&png_temp, &png_path).map_err(|e| ReportError::io(&png_path, e))?;
    let data_path = dir.join(DATA_FILE);
    write_streamed(&data_path, |out| {
        interactive::write_data(&model, trace, usize::MAX, out)
    })?;
    write_streamed(&dir.join(INDEX_DATA_FILE), |out| {
        interactive::write_data(&model, trace, interactive::INDEX_EVENT_CAP, out)
    })?;
    // The page is written around the data file's bytes, copied as they are:
    // a long run's data (tens of MB) is never held in memory.
    let metrics = super::run_metrics(summary, trace);
    let page = super::html::run_page(summary, &metrics, DATA_MARK);
    let (before, after) = page.split_once(DATA_MARK).unwrap_or((page.as_str(), ""));
    write_streamed(&dir.join("index.html"), |out| {
        out.write_all(before.as_bytes())?;
        let mut data = std::fs::File::open(&data_path)?;
        std::io::copy(&mut data, out)?;
        out.write_all(after.as_bytes())
    })
}

/// Writes `path` atomically from what `fill` writes into it.
fn write_streamed(
    path: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), ReportError> {
    let io = |e| ReportError::io(path, e);
    let mut file = crate::output::AtomicFile::create(path).map_err(io)?;
    fill(&mut file).map_err(io)?;
    file.commit().map_err(io)
}

/// The timeline as an SVG document.
pub fn render_svg(model: &Timeline) -> Result<String, String> {
    font::ensure_registered()?;
    let layout = layout::Layout::new(model);
    let mut out = String::new();
    {
        let backend = SVGBackend::with_string(&mut out, (layout.width, layout.height));
        let area = backend.into_drawing_area();
        draw::paint(&area, model, &layout).map_err(|e| e.to_string())?;
        area.present().map_err(|e| e.to_string())?;
    }
    Ok(font::embed_in_svg(&out))
}

/// Draws the timeline into a PNG file.
pub fn render_png(model: &Timeline, path: &Path) -> Result<(), ReportError> {
    font::ensure_registered().map_err(|m| ReportError::plot(path, m))?;
    let layout = layout::Layout::new(model);
    let backend = BitMapBackend::new(path, (layout.width, layout.height));
    let area = backend.into_drawing_area();
    draw::paint(&area, model, &layout).map_err(|e| ReportError::plot(path, e))?;
    area.present().map_err(|e| ReportError::plot(path, e))
}
