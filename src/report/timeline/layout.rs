//! Where each part of the timeline goes, in pixels.

use crate::trace::FaultKind;

use super::model::Timeline;
use super::scale::Scale;
use super::style::FAULTS;

pub const WIDTH: u32 = 1600;
/// Label column on the left.
pub const LEFT: i32 = 196;
pub const RIGHT: i32 = 40;
pub const HEADER_H: i32 = 96;
/// Centre of the caption naming what the lanes show.
pub const CAPTION_Y: i32 = 78;
pub const FAULT_ROW_H: i32 = 18;
pub const RUN_ROW_H: i32 = 22;
pub const LANE_H: i32 = 84;
pub const AXIS_H: i32 = 34;
pub const SOCKET_TITLE_H: i32 = 30;
pub const SOCKET_ROW_H: i32 = 40;
pub const SOCKET_STRIP_H: i32 = 28;
pub const LEGEND_ROW_H: i32 = 24;
pub const LEGEND_ROWS: i32 = 5;

// Rows inside a lane, from its top.
/// Centre of the violation markers.
pub const VIOLATION_Y: i32 = 9;
/// Top of the attempt triangles.
pub const ATTEMPT_Y: i32 = 17;
pub const BAR_Y: i32 = 27;
pub const BAR_H: i32 = 16;
/// Centre of the close-code labels.
pub const CLOSE_LABEL_Y: i32 = 55;
/// Top of the ground-truth strip: the sockets the harness saw.
pub const TRUTH_Y: i32 = 66;
pub const TRUTH_H: i32 = 12;

#[derive(Debug, Clone)]
pub struct Layout {
    pub width: u32,
    pub height: u32,
    pub scale: Scale,
    /// Fault kinds present, one row each, in [`FAULTS`] order.
    pub fault_kinds: Vec<FaultKind>,
    pub faults_top: i32,
    /// A row for violations that name no user, when there are any.
    pub run_row_top: Option<i32>,
    pub lanes_top: i32,
    pub lanes_bottom: i32,
    pub sockets_title_top: i32,
    pub sockets_top: i32,
    pub sockets_bottom: i32,
    pub legend_top: i32,
}

impl Layout {
    pub fn new(t: &Timeline) -> Layout {
        let width = WIDTH;
        let plot_w = i64::from(width as i32 - LEFT - RIGHT);
        let scale = Scale::new(LEFT, plot_w, t.run_length);
        let fault_kinds: Vec<FaultKind> = FAULTS
            .into_iter()
            .filter(|k| t.faults.iter().any(|f| f.fault == *k))
            .collect();
        let faults_top = HEADER_H;
        let mut y = faults_top + FAULT_ROW_H * fault_kinds.len() as i32;
        if !fault_kinds.is_empty() {
            y += 6;
        }
        let run_row_top = t.violations.iter().any(|v| v.user.is_none()).then(|| {
            let top = y;
            y += RUN_ROW_H;
            top
        });
        let lanes_top = y;
        let lanes_bottom = lanes_top + LANE_H * t.lanes.len() as i32;
        let sockets_title_top = lanes_bottom + AXIS_H;
        let sockets_top = sockets_title_top + SOCKET_TITLE_H;
        let sockets_bottom = sockets_top + SOCKET_ROW_H * t.sockets.len() as i32;
        let legend_top = sockets_bottom + AXIS_H + 8;
        let height = legend_top + LEGEND_ROW_H * LEGEND_ROWS + 12;
        Layout {
            width,
            height: height as u32,
            scale,
            fault_kinds,
            faults_top,
            run_row_top,
            lanes_top,
            lanes_bottom,
            sockets_title_top,
            sockets_top,
            sockets_bottom,
            legend_top,
        }
    }

    pub fn plot_left(&self) -> i32 {
        LEFT
    }

    pub fn plot_right(&self) -> i32 {
        self.width as i32 - RIGHT
    }
}
