//! Virtual time onto pixel columns, in integer arithmetic so that the same
//! run lands on the same pixels everywhere; and the thinning that keeps a
//! 24-hour run legible: per-column shares of state, per-column maxima,
//! markers grouped per few pixels.

use std::collections::BTreeMap;
use std::time::Duration;

/// Maps `[0, run_length]` onto `width` pixel columns starting at `x0`.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub x0: i32,
    pub width: i64,
    len_ms: i64,
}

/// Markers of one kind closer than this many pixels are drawn once.
pub const BIN_PX: i64 = 3;

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

impl Scale {
    pub fn new(x0: i32, width: i64, run_length: Duration) -> Self {
        Scale {
            x0,
            width: width.max(1),
            len_ms: ms(run_length).max(1),
        }
    }

    /// The column holding `t`, clamped to the plot.
    pub fn col(&self, t: Duration) -> i64 {
        (i128::from(ms(t)) * i128::from(self.width) / i128::from(self.len_ms))
            .clamp(0, i128::from(self.width - 1)) as i64
    }

    /// Left edge of `t` in pixels (the right edge of the plot for the run's end).
    pub fn x(&self, t: Duration) -> i32 {
        let c = (i128::from(ms(t)) * i128::from(self.width) / i128::from(self.len_ms))
            .clamp(0, i128::from(self.width)) as i64;
        self.x0 + c as i32
    }

    pub fn x_of_col(&self, col: i64) -> i32 {
        self.x0 + col as i32
    }

    /// Virtual time one marker group covers.
    pub fn bin_time(&self) -> Duration {
        Duration::from_millis(u64::try_from(BIN_PX * self.len_ms / self.width).unwrap_or(0))
    }

    /// For spans of categories back to back, each column's time per
    /// category (in units of ms × width; a full column sums to run length).
    pub fn shares<const N: usize>(
        &self,
        spans: impl Iterator<Item = (Duration, Duration, usize)>,
    ) -> Vec<[i64; N]> {
        let mut cols = vec![[0i64; N]; self.width as usize];
        let len = self.len_ms;
        for (start, end, cat) in spans {
            let a = ms(start).clamp(0, len) * self.width;
            let b = ms(end).clamp(0, len) * self.width;
            if b <= a || cat >= N {
                continue;
            }
            let first = a / len;
            let last = ((b - 1) / len).min(self.width - 1);
            for c in first..=last {
                let lo = a.max(c * len);
                let hi = b.min((c + 1) * len);
                cols[c as usize][cat] += hi - lo;
            }
        }
        cols
    }

    /// For a step function (value after each change, starting at 0), the
    /// largest value each column sees.
    pub fn column_max(&self, steps: &[(Duration, u32)]) -> Vec<u32> {
        let mut out = vec![0u32; self.width as usize];
        let mut value = 0u32;
        let mut from = 0usize;
        for &(t, v) in steps {
            let c = self.col(t) as usize;
            for m in &mut out[from..=c] {
                *m = (*m).max(value);
            }
            out[c] = out[c].max(v);
            value = v;
            from = c;
        }
        for m in &mut out[from..] {
            *m = (*m).max(value);
        }
        out
    }

    /// Groups timed items by (marker group, key): the first item's time of
    /// each group and the group's count, in column order.
    pub fn group<K: Ord + Clone>(
        &self,
        items: impl Iterator<Item = (Duration, K)>,
    ) -> Vec<(Duration, K, u32)> {
        let mut groups: BTreeMap<(i64, K), (Duration, u32)> = BTreeMap::new();
        for (t, k) in items {
            let g = groups.entry((self.col(t) / BIN_PX, k)).or_insert((t, 0));
            g.0 = g.0.min(t);
            g.1 += 1;
        }
        let mut out: Vec<(Duration, K, u32)> = groups
            .into_iter()
            .map(|((_, k), (t, n))| (t, k, n))
            .collect();
        out.sort_by(|a, b| (self.col(a.0), &a.1).cmp(&(self.col(b.0), &b.1)));
        out
    }
}

/// Runs of items of one key, each item within `gap_px` pixels of the
/// previous: (first time, last time, key, count), in column order.
pub fn clusters<K: Ord + Clone>(
    scale: &Scale,
    items: impl Iterator<Item = (Duration, K)>,
    gap_px: i64,
) -> Vec<(Duration, Duration, K, u32)> {
    let mut by_key: BTreeMap<K, Vec<Duration>> = BTreeMap::new();
    for (t, k) in items {
        by_key.entry(k).or_default().push(t);
    }
    let mut out = Vec::new();
    for (k, mut times) in by_key {
        times.sort();
        let mut run: Option<(Duration, Duration, u32)> = None;
        for t in times {
            run = match run {
                Some((first, last, n)) if scale.col(t) - scale.col(last) <= gap_px => {
                    Some((first, t, n + 1))
                }
                Some((first, last, n)) => {
                    out.push((first, last, k.clone(), n));
                    Some((t, t, 1))
                }
                None => Some((t, t, 1)),
            };
        }
        if let Some((first, last, n)) = run {
            out.push((first, last, k.clone(), n));
        }
    }
    out.sort_by(|a, b| (scale.col(a.0), &a.2).cmp(&(scale.col(b.0), &b.2)));
    out
}

/// Time-axis ticks: a round step giving at most a dozen ticks, and the
/// label of each.
pub fn ticks(run_length: Duration) -> Vec<(Duration, String)> {
    const STEPS_MS: [u64; 22] = [
        100,
        200,
        500,
        1_000,
        2_000,
        5_000,
        10_000,
        15_000,
        30_000,
        60_000,
        120_000,
        300_000,
        600_000,
        900_000,
        1_800_000,
        3_600_000,
        7_200_000,
        10_800_000,
        21_600_000,
        43_200_000,
        86_400_000,
        604_800_000,
    ];
    let len = crate::util::ms(run_length);
    let step = STEPS_MS
        .iter()
        .copied()
        .find(|s| len / s <= 12)
        .unwrap_or(604_800_000);
    (0..=len / step)
        .map(|i| {
            let t = i * step;
            (Duration::from_millis(t), tick_label(t, len, step))
        })
        .collect()
}

/// What the tick labels read, for the axis caption.
pub fn tick_unit(run_length: Duration) -> &'static str {
    if run_length >= Duration::from_secs(3_600) {
        "h:mm"
    } else {
        "m:ss"
    }
}

fn tick_label(t: u64, len: u64, step: u64) -> String {
    let s = t / 1_000;
    if len >= 3_600_000 {
        format!("{}:{:02}", s / 3_600, (s / 60) % 60)
    } else if step < 1_000 {
        format!("{}:{:02}.{}", s / 60, s % 60, (t % 1_000) / 100)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_split_time_exactly() {
        let s = Scale::new(0, 4, Duration::from_secs(4));
        let sh: Vec<[i64; 2]> = s.shares(
            [
                (Duration::ZERO, Duration::from_millis(1_500), 0),
                (Duration::from_millis(1_500), Duration::from_secs(4), 1),
            ]
            .into_iter(),
        );
        assert_eq!(sh, vec![[4_000, 0], [2_000, 2_000], [0, 4_000], [0, 4_000]]);
        let m = s.column_max(&[
            (Duration::from_millis(500), 1),
            (Duration::from_millis(2_100), 2),
            (Duration::from_millis(2_200), 1),
        ]);
        assert_eq!(m, vec![1, 1, 2, 1]);
    }

    #[test]
    fn ticks_are_round_at_a_minute_and_a_day() {
        let t = ticks(Duration::from_secs(60));
        assert_eq!(t.len(), 13);
        assert_eq!(t[1].1, "0:05");
        let t = ticks(Duration::from_secs(86_400));
        assert_eq!(t.len(), 13);
        assert_eq!(t[1].1, "2:00");
        assert_eq!(t[12].1, "24:00");
    }
}
