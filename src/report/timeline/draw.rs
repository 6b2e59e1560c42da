//! Paints a [`Timeline`] on any plotters backend, in pixel coordinates.
//!
//! Everything is placed by integer arithmetic and thinned per pixel
//! column, so a 24-hour run costs about what a 1-minute run does.

use std::collections::BTreeMap;
use std::time::Duration;

use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, DrawingAreaErrorKind};
use plotters::element::{Circle, DashedPathElement, PathElement, Polygon, Rectangle, Text};
use plotters::prelude::DrawingBackend;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontDesc, FontFamily, FontStyle, RGBColor, TextStyle};

use crate::report::format;
use crate::trace::{ConnectionState, FaultKind};

use super::font::FAMILY;
use super::layout::*;
use super::model::{Lane, Timeline};
use super::scale;
use super::style::*;

/// A span of pixel columns, both ends included.
type PxRange = (i32, i32);

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// States in the order they stack inside a mixed column, top to bottom;
/// index 4 is "instance not running".
const STACK: [ConnectionState; 4] = [
    ConnectionState::Connected,
    ConnectionState::QrPending,
    ConnectionState::Connecting,
    ConnectionState::Disconnected,
];
const NOT_RUNNING: usize = 4;

pub fn paint<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    t: &Timeline,
    l: &Layout,
) -> DrawResult<DB> {
    let p = Painter { area, t, l };
    area.fill(&WHITE)?;
    p.header()?;
    p.backgrounds()?;
    p.faults()?;
    p.grid()?;
    for (i, lane) in t.lanes.iter().enumerate() {
        p.lane(i, lane)?;
    }
    p.violations()?;
    p.axis(l.lanes_bottom)?;
    p.sockets()?;
    p.axis(l.sockets_bottom)?;
    p.legend()?;
    Ok(())
}

struct Painter<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
    t: &'a Timeline,
    l: &'a Layout,
}

impl<DB: DrawingBackend> Painter<'_, DB> {
    // ---- primitives ----

    fn rect(&self, x0: i32, y0: i32, x1: i32, y1: i32, c: impl Color) -> DrawResult<DB> {
        self.area
            .draw(&Rectangle::new([(x0, y0), (x1, y1)], c.filled()))
    }

    fn line(&self, pts: Vec<(i32, i32)>, c: impl Color, w: u32) -> DrawResult<DB> {
        self.area.draw(&PathElement::new(pts, c.stroke_width(w)))
    }

    fn font(size: u32) -> FontDesc<'static> {
        FontDesc::new(FontFamily::Name(FAMILY), f64::from(size), FontStyle::Normal)
    }

    #[allow(clippy::too_many_arguments)]
    fn text(
        &self,
        s: &str,
        x: i32,
        y: i32,
        size: u32,
        c: &RGBColor,
        h: HPos,
        v: VPos,
    ) -> DrawResult<DB> {
        let style = TextStyle::from(Self::font(size))
            .color(c)
            .pos(Pos::new(h, v));
        self.area.draw(&Text::new(s.to_string(), (x, y), style))
    }

    fn text_width(&self, s: &str, size: u32) -> i32 {
        self.area
            .estimate_text_size(s, &TextStyle::from(Self::font(size)))
            .map(|(w, _)| w as i32)
            .unwrap_or(s.chars().count() as i32 * size as i32 / 2)
    }

    /// `s`, shortened with an ellipsis to fit `max` pixels.
    fn fit(&self, s: &str, size: u32, max: i32) -> String {
        if self.text_width(s, size) <= max {
            return s.to_string();
        }
        let chars: Vec<char> = s.chars().collect();
        let mut n = chars.len();
        while n > 0 {
            n -= 1;
            let cut: String = chars[..n].iter().collect::<String>() + "…";
            if self.text_width(&cut, size) <= max {
                return cut;
            }
        }
        "…".to_string()
    }

    fn lane_top(&self, i: usize) -> i32 {
        self.l.lanes_top + LANE_H * i as i32
    }

    // ---- parts ----

    fn header(&self) -> DrawResult<DB> {
        let title = self.fit(&self.t.title, 22, self.l.width as i32 - 220);
        self.text(&title, 20, 24, 22, &INK, HPos::Left, VPos::Center)?;
        let x = 20 + self.text_width(&title, 22) + 14;
        let (label, colour) = if self.t.passed {
            ("PASS", PASS)
        } else {
            ("FAIL", FAIL)
        };
        let w = self.text_width(label, 14) + 16;
        self.rect(x, 13, x + w, 35, colour)?;
        self.text(label, x + w / 2, 24, 14, &WHITE, HPos::Center, VPos::Center)?;
        let mut sub = self.t.subtitle.clone();
        let bin = self.l.scale.bin_time();
        if bin >= Duration::from_secs(1) {
            sub.push_str(&format!(
                " · marks of a kind within {} drawn once",
                format::duration(bin)
            ));
        }
        let sub = self.fit(&sub, 13, self.l.width as i32 - 40);
        self.text(&sub, 20, 54, 13, &MUTED, HPos::Left, VPos::Center)?;
        let caption = "Each lane: the bar is the supervisor's own view of its state; \
                       the strip beneath is ground truth, the sockets the harness saw.";
        let caption = self.fit(caption, 12, self.l.width as i32 - 40);
        self.text(&caption, 20, CAPTION_Y, 12, &INK, HPos::Left, VPos::Center)
    }

    fn backgrounds(&self) -> DrawResult<DB> {
        let (x0, x1) = (8, self.l.plot_right());
        let mut user_index = 0;
        let mut prev: Option<&str> = None;
        for (i, lane) in self.t.lanes.iter().enumerate() {
            if prev.is_some_and(|p| p != lane.user) {
                user_index += 1;
            }
            prev = Some(&lane.user);
            let top = self.lane_top(i);
            if user_index % 2 == 1 {
                self.rect(x0, top, x1, top + LANE_H, ZEBRA)?;
            }
        }
        for (i, s) in self.t.sockets.iter().enumerate() {
            let _ = s;
            let top = self.l.sockets_top + SOCKET_ROW_H * i as i32;
            if i % 2 == 1 {
                self.rect(x0, top, x1, top + SOCKET_ROW_H, ZEBRA)?;
            }
        }
        Ok(())
    }

    /// Fault rows on top, and their windows shaded across the lanes they
    /// touch: a user's lanes when the fault targets that user, else all.
    fn faults(&self) -> DrawResult<DB> {
        let sc = &self.l.scale;
        // Pixel ranges per (kind, shaded lanes), merged where they touch.
        let mut ranges: BTreeMap<(FaultKind, Option<&str>), Vec<PxRange>> = BTreeMap::new();
        let mut labels: BTreeMap<FaultKind, Vec<(i32, i32, &str)>> = BTreeMap::new();
        for f in &self.t.faults {
            let x0 = sc.x(f.start);
            let x1 = sc.x(f.end).max(x0 + 2);
            let user = self
                .t
                .users
                .iter()
                .find(|u| **u == f.target)
                .map(String::as_str);
            merge_push(ranges.entry((f.fault, user)).or_default(), (x0, x1));
            labels.entry(f.fault).or_default().push((x0, x1, &f.target));
        }
        for ((kind, user), spans) in &ranges {
            let colour = fault_color(*kind);
            let row = self
                .l
                .fault_kinds
                .iter()
                .position(|k| k == kind)
                .unwrap_or(0);
            let row_top = self.l.faults_top + FAULT_ROW_H * row as i32;
            let lanes: Vec<usize> = self
                .t
                .lanes
                .iter()
                .enumerate()
                .filter(|(_, l)| user.is_none_or(|u| u == l.user))
                .map(|(i, _)| i)
                .collect();
            for &(x0, x1) in spans {
                self.rect(
                    x0,
                    row_top + 2,
                    x1,
                    row_top + FAULT_ROW_H - 2,
                    colour.mix(0.85),
                )?;
                // Shade contiguous blocks of lanes in one rectangle.
                let mut k = 0;
                while k < lanes.len() {
                    let mut m = k;
                    while m + 1 < lanes.len() && lanes[m + 1] == lanes[m] + 1 {
                        m += 1;
                    }
                    let top = self.lane_top(lanes[k]);
                    let bottom = self.lane_top(lanes[m]) + LANE_H;
                    self.rect(x0, top, x1, bottom, colour.mix(0.16))?;
                    k = m + 1;
                }
            }
        }
        for (row, kind) in self.l.fault_kinds.iter().enumerate() {
            let mid = self.l.faults_top + FAULT_ROW_H * row as i32 + FAULT_ROW_H / 2;
            self.text(
                fault_label(*kind),
                LEFT - 10,
                mid,
                12,
                &MUTED,
                HPos::Right,
                VPos::Center,
            )?;
            // Target names inside the bars that have room.
            let mut free_from = i32::MIN;
            for &(x0, x1, target) in labels.get(kind).map(Vec::as_slice).unwrap_or(&[]) {
                let w = self.text_width(target, 11);
                if x1 - x0 >= w + 8 && x0 >= free_from {
                    let ink = if matches!(
                        kind,
                        FaultKind::Latency | FaultKind::RefuseConnects | FaultKind::SlowHandshake
                    ) {
                        INK
                    } else {
                        WHITE
                    };
                    self.text(target, x0 + 4, mid, 11, &ink, HPos::Left, VPos::Center)?;
                    free_from = x0 + w + 12;
                }
            }
        }
        Ok(())
    }

    fn grid(&self) -> DrawResult<DB> {
        for (at, _) in scale::ticks(self.t.run_length) {
            let x = self.l.scale.x(at);
            self.line(
                vec![(x, self.l.lanes_top), (x, self.l.lanes_bottom)],
                FAINT,
                1,
            )?;
            self.line(
                vec![(x, self.l.sockets_top), (x, self.l.sockets_bottom)],
                FAINT,
                1,
            )?;
        }
        Ok(())
    }

    fn axis(&self, y: i32) -> DrawResult<DB> {
        let (x0, x1) = (self.l.plot_left(), self.l.plot_right());
        self.line(vec![(x0, y), (x1, y)], MUTED, 1)?;
        let ticks = scale::ticks(self.t.run_length);
        for (at, label) in &ticks {
            let x = self.l.scale.x(*at);
            self.line(vec![(x, y), (x, y + 5)], MUTED, 1)?;
            self.text(label, x, y + 8, 12, &MUTED, HPos::Center, VPos::Top)?;
        }
        self.text(
            &format!("virtual time ({})", scale::tick_unit(self.t.run_length)),
            LEFT - 24,
            y + 8,
            12,
            &MUTED,
            HPos::Right,
            VPos::Top,
        )
    }

    fn lane(&self, i: usize, lane: &Lane) -> DrawResult<DB> {
        let top = self.lane_top(i);
        let sc = &self.l.scale;
        // Label.
        let first_of_user = i == 0 || self.t.lanes[i - 1].user != lane.user;
        if self.t.multi_instance() {
            if first_of_user {
                let name = self.fit(&lane.user, 14, LEFT - 90);
                self.text(
                    &name,
                    16,
                    top + BAR_Y + BAR_H / 2,
                    14,
                    &INK,
                    HPos::Left,
                    VPos::Center,
                )?;
            }
            self.text(
                &lane.instance,
                LEFT - 10,
                top + BAR_Y + BAR_H / 2,
                12,
                &MUTED,
                HPos::Right,
                VPos::Center,
            )?;
        } else {
            let name = self.fit(&lane.user, 14, LEFT - 26);
            self.text(
                &name,
                LEFT - 10,
                top + BAR_Y + BAR_H / 2,
                14,
                &INK,
                HPos::Right,
                VPos::Center,
            )?;
        }
        if !first_of_user {
            self.line(vec![(LEFT - 60, top), (self.l.plot_right(), top)], FAINT, 1)?;
        }
        self.text(
            "supervisor's view",
            LEFT - 10,
            top + BAR_Y + BAR_H + 8,
            10,
            &MUTED,
            HPos::Right,
            VPos::Center,
        )?;
        self.text(
            "sockets (truth)",
            LEFT - 10,
            top + TRUTH_Y + TRUTH_H / 2,
            10,
            &MUTED,
            HPos::Right,
            VPos::Center,
        )?;

        self.state_bar(top, lane)?;
        self.truth_strip(top, lane)?;

        // Attempts: a triangle pointing at the bar, coloured by cause.
        for (at, cause, _) in sc.group(lane.attempts.iter().copied()) {
            let x = sc.x(at);
            let y = top + ATTEMPT_Y;
            self.area.draw(&Polygon::new(
                vec![(x - 4, y), (x + 4, y), (x, y + 7)],
                cause_color(cause).filled(),
            ))?;
        }

        // Closes: a tick under the bar, its code below; 440 in a chip.
        let closes = sc.group(lane.closes.iter().map(|c| (c.at, c.code)));
        let bar_bottom = top + BAR_Y + BAR_H;
        for &(at, code, _) in &closes {
            let x = sc.x(at);
            match code {
                None => self.line(vec![(x, bar_bottom), (x, bar_bottom + 4)], CLOSE_NO_CODE, 1)?,
                Some(440) => self.line(vec![(x, bar_bottom), (x, bar_bottom + 6)], REPLACED, 2)?,
                Some(_) => self.line(vec![(x, bar_bottom), (x, bar_bottom + 5)], CLOSE, 1)?,
            }
        }
        let mut taken = Occupancy::new(sc.x0, sc.width);
        let mut order: Vec<&(Duration, Option<u16>, u32)> = closes.iter().collect();
        order.sort_by_key(|(at, code, _)| (*code != Some(440), sc.col(*at)));
        for &&(at, code, n) in &order {
            let Some(code) = code else { continue };
            let x = sc.x(at);
            // A bucket of several closes says how many it stands for.
            let label = if n > 1 {
                format!("{code}×{n}")
            } else {
                code.to_string()
            };
            let w = self.text_width(&label, 11);
            let (lo, hi) = (x - w / 2 - 3, x + w / 2 + 3);
            let y = top + CLOSE_LABEL_Y;
            if !taken.claim(lo, hi) {
                continue;
            }
            if code == 440 {
                self.rect(lo, y - 7, hi, y + 7, REPLACED_CHIP)?;
                self.area.draw(&Rectangle::new(
                    [(lo, y - 7), (hi, y + 7)],
                    REPLACED.stroke_width(1),
                ))?;
                self.text(&label, x, y, 11, &REPLACED, HPos::Center, VPos::Center)?;
            } else {
                self.text(&label, x, y, 11, &CLOSE, HPos::Center, VPos::Center)?;
            }
        }
        Ok(())
    }

    /// Ground truth under the supervisor's bar: per pixel column, the most
    /// client sockets this instance held for the user (1 in blue, more in
    /// red, with the count when there is room).
    fn truth_strip(&self, top: i32, lane: &Lane) -> DrawResult<DB> {
        let sc = &self.l.scale;
        let (y0, y1) = (top + TRUTH_Y, top + TRUTH_Y + TRUTH_H);
        self.line(vec![(sc.x0, y1), (self.l.plot_right(), y1)], FAINT, 1)?;
        let cols = sc.column_max(&lane.sockets);
        let mut taken = Occupancy::new(sc.x0, sc.width);
        let mut c = 0;
        while c < cols.len() {
            let v = cols[c];
            let mut e = c + 1;
            while e < cols.len() && cols[e] == v {
                e += 1;
            }
            let (xa, xb) = (sc.x_of_col(c as i64), sc.x_of_col(e as i64));
            if v == 1 {
                self.rect(xa, y0 + 3, xb, y1, SOCKETS.mix(0.7))?;
            } else if v > 1 {
                self.rect(xa, y0, xb.max(xa + 2), y1, VIOLATION)?;
                let label = v.to_string();
                let w = self.text_width(&label, 9);
                if taken.claim(xb + 1, xb + 3 + w) {
                    self.text(
                        &label,
                        xb + 2,
                        y0 + TRUTH_H / 2,
                        9,
                        &VIOLATION,
                        HPos::Left,
                        VPos::Center,
                    )?;
                }
            }
            c = e;
        }
        Ok(())
    }

    /// The state bar, one column per pixel: a column the lane spent in one
    /// state is that state's colour; a column with several is split in
    /// proportion to their time, so a loop shows its mix at any zoom.
    fn state_bar(&self, top: i32, lane: &Lane) -> DrawResult<DB> {
        let sc = &self.l.scale;
        let shares: Vec<[i64; 5]> = sc.shares(lane.spans.iter().map(|s| {
            let cat = s
                .state
                .and_then(|st| STACK.iter().position(|x| *x == st))
                .unwrap_or(NOT_RUNNING);
            (s.start, s.end, cat)
        }));
        // Per column, the pixel boundaries of the stacked states.
        let bounds: Vec<[i32; 5]> = shares
            .iter()
            .map(|col| {
                let total: i64 = col.iter().sum();
                let mut out = [0i32; 5];
                let mut cum = 0i64;
                for k in 0..5 {
                    cum += col[k];
                    out[k] = if total == 0 {
                        0
                    } else {
                        ((cum * i64::from(BAR_H) + total / 2) / total) as i32
                    };
                }
                out
            })
            .collect();
        let y0 = top + BAR_Y;
        let mut c = 0;
        while c < bounds.len() {
            let mut e = c + 1;
            while e < bounds.len() && bounds[e] == bounds[c] {
                e += 1;
            }
            let (xa, xb) = (sc.x_of_col(c as i64), sc.x_of_col(e as i64));
            let b = bounds[c];
            let mut prev = 0;
            for (k, st) in STACK.iter().enumerate() {
                if b[k] > prev {
                    self.rect(xa, y0 + prev, xb, y0 + b[k], state_color(*st))?;
                }
                prev = b[k];
            }
            if b[3] == 0 && b[4] > 0 {
                // Only "not running": a thin rule where the bar would be.
                let mid = y0 + BAR_H / 2;
                self.rect(xa, mid - 1, xb, mid + 1, DOWN)?;
            }
            c = e;
        }
        Ok(())
    }

    /// Red marks labelled with the invariant id, on the user's first lane,
    /// with a hairline down through the user's other lanes.
    fn violations(&self) -> DrawResult<DB> {
        let sc = &self.l.scale;
        let mut by_row: BTreeMap<Option<&str>, Vec<(Duration, &str)>> = BTreeMap::new();
        for v in &self.t.violations {
            by_row
                .entry(v.user.as_deref())
                .or_default()
                .push((v.at, v.invariant.as_str()));
        }
        for (user, marks) in by_row {
            let (row_y, line_to) = match user {
                Some(u) => {
                    let Some(first) = self.t.lanes.iter().position(|l| l.user == u) else {
                        continue;
                    };
                    let last = self
                        .t
                        .lanes
                        .iter()
                        .rposition(|l| l.user == u)
                        .unwrap_or(first);
                    (
                        self.lane_top(first) + VIOLATION_Y,
                        self.lane_top(last) + LANE_H - 2,
                    )
                }
                None => {
                    let Some(top) = self.l.run_row_top else {
                        continue;
                    };
                    self.text(
                        "run-wide",
                        LEFT - 10,
                        top + RUN_ROW_H / 2,
                        12,
                        &MUTED,
                        HPos::Right,
                        VPos::Center,
                    )?;
                    (top + RUN_ROW_H / 2, top + RUN_ROW_H / 2)
                }
            };
            // Marks of one invariant closer than a marker's width merge
            // into one, drawn across their extent and counted.
            let groups = scale::clusters(sc, marks.into_iter(), 12);
            for &(first, last, invariant, _) in &groups {
                let colour = invariant_color(invariant);
                let (xa, xb) = (sc.x(first), sc.x(last));
                if line_to > row_y && xb > xa + 1 {
                    self.rect(xa, row_y, xb, line_to, colour.mix(0.08))?;
                } else if line_to > row_y {
                    self.line(vec![(xa, row_y), (xa, line_to)], colour.mix(0.45), 1)?;
                }
                if xb > xa {
                    self.rect(xa, row_y - 2, xb, row_y + 2, colour)?;
                }
            }
            // Markers first, so that labels go where no marker is.
            let mut taken = Occupancy::new(sc.x0, sc.width + RIGHT as i64);
            for &(first, last, invariant, _) in &groups {
                let colour = invariant_color(invariant);
                let (xa, xb) = (sc.x(first), sc.x(last));
                for x in if xb > xa { vec![xa, xb] } else { vec![xa] } {
                    self.area
                        .draw(&Circle::new((x, row_y), 5, colour.filled()))?;
                    self.area
                        .draw(&Circle::new((x, row_y), 5, WHITE.stroke_width(1)))?;
                    taken.claim(x - 6, x + 6);
                }
            }
            // Labels: each invariant's first group before any second one,
            // so that a dense row still names every invariant it shows; one
            // with no room by its marks goes to the nearest free place.
            let mut order: Vec<(usize, usize)> = Vec::with_capacity(groups.len());
            let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
            for (g, &(_, _, invariant, _)) in groups.iter().enumerate() {
                let k = seen.entry(invariant).or_insert(0);
                order.push((*k, g));
                *k += 1;
            }
            order.sort();
            let mut labelled: BTreeMap<&str, bool> = BTreeMap::new();
            for (rank, g) in order {
                let (first, last, invariant, n) = groups[g];
                let colour = invariant_color(invariant);
                let (xa, xb) = (sc.x(first), sc.x(last));
                let label = if n > 1 {
                    format!("{invariant} ×{n}")
                } else {
                    invariant.to_string()
                };
                let w = self.text_width(&label, 11);
                let at = if taken.claim(xb + 7, xb + 10 + w) {
                    Some((xb + 8, HPos::Left))
                } else if taken.claim(xa - 10 - w, xa - 7) {
                    Some((xa - 8, HPos::Right))
                } else if rank == 0 && !labelled.contains_key(invariant) {
                    taken
                        .claim_nearest(xa, w + 6)
                        .map(|lo| (lo + 3, HPos::Left))
                } else {
                    None
                };
                if let Some((x, h)) = at {
                    self.text(&label, x, row_y, 11, &colour, h, VPos::Center)?;
                    labelled.insert(invariant, true);
                }
            }
        }
        Ok(())
    }

    fn sockets(&self) -> DrawResult<DB> {
        let sc = &self.l.scale;
        let (x0, x1) = (self.l.plot_left(), self.l.plot_right());
        let top = self.l.sockets_title_top;
        self.text(
            "Ground truth: client-side open sockets per user",
            16,
            top + 16,
            14,
            &INK,
            HPos::Left,
            VPos::Center,
        )?;
        let lx = 16 + self.text_width("Ground truth: client-side open sockets per user", 14) + 16;
        self.area.draw(&DashedPathElement::new(
            vec![(lx, top + 16), (lx + 24, top + 16)],
            5,
            3,
            VIOLATION.stroke_width(2),
        ))?;
        self.text(
            "limit 1",
            lx + 30,
            top + 16,
            12,
            &MUTED,
            HPos::Left,
            VPos::Center,
        )?;

        for (i, s) in self.t.sockets.iter().enumerate() {
            let row = self.l.sockets_top + SOCKET_ROW_H * i as i32;
            let strip_top = row + (SOCKET_ROW_H - SOCKET_STRIP_H) / 2;
            let bottom = strip_top + SOCKET_STRIP_H;
            let max_level = s.peak.max(2) as i32;
            let y = |v: u32| bottom - (v as i32).min(max_level) * SOCKET_STRIP_H / max_level;

            let name = self.fit(&s.user, 13, LEFT - 90);
            self.text(
                &name,
                16,
                row + SOCKET_ROW_H / 2,
                13,
                &INK,
                HPos::Left,
                VPos::Center,
            )?;
            let peak = format!("peak {}", s.peak);
            let colour = if s.peak > 1 { VIOLATION } else { MUTED };
            self.text(
                &peak,
                LEFT - 10,
                row + SOCKET_ROW_H / 2,
                12,
                &colour,
                HPos::Right,
                VPos::Center,
            )?;

            self.line(vec![(x0, bottom), (x1, bottom)], FAINT, 1)?;
            let cols = sc.column_max(&s.steps);
            let mut c = 0;
            while c < cols.len() {
                let v = cols[c];
                let mut e = c + 1;
                while e < cols.len() && cols[e] == v {
                    e += 1;
                }
                let (xa, xb) = (sc.x_of_col(c as i64), sc.x_of_col(e as i64));
                if v >= 1 {
                    self.rect(xa, y(1), xb, bottom, SOCKETS.mix(0.55))?;
                }
                if v > 1 {
                    // Over the limit: at least 2 px wide so a blip shows at 24 h.
                    self.rect(xa, y(v), xb.max(xa + 2), y(1), VIOLATION)?;
                }
                c = e;
            }
            // Up, as uptime counts it: a green rule under the strip.
            for &(a, b) in &s.up {
                let (xa, xb) = (sc.x(a), sc.x(b));
                self.rect(xa, bottom + 1, xb.max(xa + 1), bottom + 4, UP)?;
            }
            self.area.draw(&DashedPathElement::new(
                vec![(x0, y(1)), (x1, y(1))],
                5,
                3,
                VIOLATION.mix(0.8).stroke_width(1),
            ))?;
            if s.peak > 1 {
                let label = s.peak.to_string();
                self.text(
                    &label,
                    x1 + 6,
                    y(s.peak),
                    10,
                    &VIOLATION,
                    HPos::Left,
                    VPos::Center,
                )?;
            }
        }
        Ok(())
    }

    fn legend(&self) -> DrawResult<DB> {
        let top = self.l.legend_top;
        self.line(
            vec![(16, top - 6), (self.l.plot_right(), top - 6)],
            FAINT,
            1,
        )?;
        let row_y = |r: i32| top + LEGEND_ROW_H * r + LEGEND_ROW_H / 2;
        let mut items = Legend::new(self, row_y(0), "state");
        for st in [
            ConnectionState::Connected,
            ConnectionState::Connecting,
            ConnectionState::QrPending,
            ConnectionState::Disconnected,
        ] {
            items.item(st.as_str(), |p, x, y| {
                p.rect(x, y - 6, x + 18, y + 6, state_color(st))
            })?;
        }
        items.item("instance not running", |p, x, y| {
            p.rect(x, y - 1, x + 18, y + 1, DOWN)
        })?;

        let mut items = Legend::new(self, row_y(1), "attempt");
        for cause in CAUSES {
            items.item(cause.as_str(), |p, x, y| {
                p.area.draw(&Polygon::new(
                    vec![(x + 5, y - 4), (x + 13, y - 4), (x + 9, y + 3)],
                    cause_color(cause).filled(),
                ))
            })?;
        }

        let mut items = Legend::new(self, row_y(2), "mark");
        items.item("close, with its code", |p, x, y| {
            p.rect(
                x,
                y - 7,
                x + 18,
                y - 1,
                state_color(ConnectionState::Connected),
            )?;
            p.line(vec![(x + 9, y - 1), (x + 9, y + 4)], CLOSE, 1)
        })?;
        items.item("440 replaced (conflict)", |p, x, y| {
            p.line(vec![(x + 3, y - 7), (x + 3, y + 5)], REPLACED, 2)?;
            p.rect(x + 8, y - 7, x + 32, y + 7, REPLACED_CHIP)?;
            p.text("440", x + 20, y, 10, &REPLACED, HPos::Center, VPos::Center)
        })?;
        items.item("close without code", |p, x, y| {
            p.rect(
                x,
                y - 7,
                x + 18,
                y - 1,
                state_color(ConnectionState::Connecting),
            )?;
            p.line(vec![(x + 9, y - 1), (x + 9, y + 3)], CLOSE_NO_CODE, 1)
        })?;
        items.item("440×n: n closes in one bucket", |p, x, y| {
            p.rect(x + 2, y - 7, x + 16, y + 7, REPLACED_CHIP)
        })?;
        items.item("sockets open", |p, x, y| {
            p.rect(x, y - 6, x + 18, y + 6, SOCKETS.mix(0.55))
        })?;
        items.item("over the limit", |p, x, y| {
            p.rect(x, y - 6, x + 18, y + 6, VIOLATION)
        })?;
        items.item("up (counted as uptime)", |p, x, y| {
            p.rect(x, y - 2, x + 18, y + 2, UP)
        })?;

        // Every invariant the run shows a mark of, in its own colour.
        let mut items = Legend::new(self, row_y(3), "violation");
        let mut ids: Vec<&str> = Vec::new();
        for v in &self.t.violations {
            if !ids.contains(&v.invariant.as_str()) {
                ids.push(&v.invariant);
            }
        }
        ids.sort_by_key(|id| {
            crate::invariants::INVARIANT_IDS
                .iter()
                .position(|k| k == id)
                .unwrap_or(usize::MAX)
        });
        if ids.is_empty() {
            self.text(
                "none in this run",
                LEFT,
                row_y(3),
                12,
                &MUTED,
                HPos::Left,
                VPos::Center,
            )?;
        }
        for id in ids {
            items.item(id, |p, x, y| {
                p.area
                    .draw(&Circle::new((x + 9, y), 5, invariant_color(id).filled()))
            })?;
        }

        let mut items = Legend::new(self, row_y(4), "fault");
        let kinds: Vec<FaultKind> = if self.l.fault_kinds.is_empty() {
            vec![]
        } else {
            self.l.fault_kinds.clone()
        };
        if kinds.is_empty() {
            self.text(
                "none in this run",
                LEFT,
                row_y(4),
                12,
                &MUTED,
                HPos::Left,
                VPos::Center,
            )?;
        }
        for kind in kinds {
            items.item(fault_label(kind), |p, x, y| {
                p.rect(x, y - 6, x + 18, y + 6, fault_color(kind).mix(0.35))?;
                p.rect(x, y - 6, x + 18, y - 3, fault_color(kind).mix(0.85))
            })?;
        }
        Ok(())
    }
}

/// Lays legend items left to right on one row.
struct Legend<'p, 'a, DB: DrawingBackend> {
    p: &'p Painter<'a, DB>,
    y: i32,
    x: i32,
}

impl<'p, 'a, DB: DrawingBackend> Legend<'p, 'a, DB> {
    fn new(p: &'p Painter<'a, DB>, y: i32, title: &str) -> Self {
        let _ = p.text(title, LEFT - 10, y, 12, &MUTED, HPos::Right, VPos::Center);
        Legend { p, y, x: LEFT }
    }

    fn item(
        &mut self,
        label: &str,
        swatch: impl FnOnce(&Painter<'a, DB>, i32, i32) -> DrawResult<DB>,
    ) -> DrawResult<DB> {
        let sw = if label.starts_with("440") { 34 } else { 18 };
        swatch(self.p, self.x, self.y)?;
        self.p.text(
            label,
            self.x + sw + 6,
            self.y,
            12,
            &INK,
            HPos::Left,
            VPos::Center,
        )?;
        self.x += sw + 6 + self.p.text_width(label, 12) + 22;
        Ok(())
    }
}

/// Pixel ranges already taken by labels on one row.
struct Occupancy {
    x0: i32,
    used: Vec<bool>,
}

impl Occupancy {
    fn new(x0: i32, width: i64) -> Self {
        Occupancy {
            x0,
            used: vec![false; usize::try_from(width).unwrap_or(0) + 64],
        }
    }

    /// Takes `[lo, hi]` if it is free and inside the row.
    fn claim(&mut self, lo: i32, hi: i32) -> bool {
        let a = lo - self.x0 + 32;
        let b = hi - self.x0 + 32;
        if a < 0 || b as usize >= self.used.len() || a > b {
            return false;
        }
        let (a, b) = (a as usize, b as usize);
        if self.used[a..=b].iter().any(|u| *u) {
            return false;
        }
        self.used[a..=b].iter_mut().for_each(|u| *u = true);
        true
    }

    /// Takes the free range of `width` pixels whose start is nearest to
    /// `x`, and returns that start.
    fn claim_nearest(&mut self, x: i32, width: i32) -> Option<i32> {
        let span = self.used.len() as i32;
        for d in 0..span {
            for lo in [x + d, x - d] {
                if self.claim(lo, lo + width) {
                    return Some(lo);
                }
            }
        }
        None
    }
}

/// Appends a pixel range, merging it into the last one when they touch.
fn merge_push(v: &mut Vec<(i32, i32)>, r: (i32, i32)) {
    match v.last_mut() {
        Some(last) if r.0 <= last.1 + 1 && r.0 >= last.0 => last.1 = last.1.max(r.1),
        _ => v.push(r),
    }
}
