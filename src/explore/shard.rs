//! `--shard I/N` and `--time`: which seeds one machine of a CI matrix runs.
//!
//! Shard I of N (1-based) takes every seed `s` with `s mod N = I − 1`, from
//! a `--seeds` range or, under a `--time` budget, from the endless sequence
//! 1, 2, 3, …; so N shards together run exactly the seeds one unsharded run
//! would, each exactly once, and their failures are the same.

use std::time::Duration;

/// One shard of N (`1/1` is the whole range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u64,
    pub count: u64,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 1, count: 1 }
    }
}

impl Shard {
    /// `I/N` with 1 ≤ I ≤ N.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("bad shard \"{text}\": write I/N with 1 <= I <= N, e.g. 2/3");
        let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether `seed` belongs to this shard.
    pub fn owns(self, seed: u64) -> bool {
        seed % self.count == self.index - 1
    }

    /// This shard's seeds of `seeds`, in order.
    pub fn seeds(self, seeds: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
        seeds.filter(move |s| self.owns(*s))
    }
}

/// A `--time` budget: `60s`, `10m`, `1h`.
pub fn parse_time(text: &str) -> Result<Duration, String> {
    crate::scenario::parse_duration(text.trim())
        .map_err(|e| format!("bad time \"{text}\": {e} (write e.g. 60s or 10m)"))
        .and_then(|d| {
            if d.is_zero() {
                Err(format!("bad time \"{text}\": it must be more than zero"))
            } else {
                Ok(d)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_shards_split_a_range_into_disjoint_parts_that_cover_it() {
        let shards: Vec<Shard> = (1..=3).map(|i| Shard { index: i, count: 3 }).collect();
        let mut all: Vec<u64> = shards.iter().flat_map(|s| s.seeds(1..=100)).collect();
        all.sort_unstable();
        assert_eq!(all, (1..=100).collect::<Vec<u64>>());
    }

    #[test]
    fn shard_text_is_i_of_n() {
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "1/0", "3", "a/b", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn time_budgets_read_as_durations() {
        assert_eq!(parse_time("60s"), Ok(Duration::from_secs(60)));
        assert!(parse_time("0s").is_err());
        assert!(parse_time("soon").is_err());
    }
}
