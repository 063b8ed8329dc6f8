//! Counting what a run did: an HDR histogram of latencies (µs) per operation, answers by
//! status, and a sample of each kind of error; then the summary that is printed.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::request::Op;

/// Highest latency recorded without saturating: 10 minutes, in µs.
const MAX_US: u64 = 600_000_000;
const SAMPLE_CHARS: usize = 300;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds")
}

/// What one worker (or, merged, the whole run) saw.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Latency of successful (2xx) answers, per operation.
    pub ok: BTreeMap<Op, Histogram<u64>>,
    /// Every answer that was not 2xx, by status (`"404"`) or failure (`"io"`, `"timeout"`).
    pub errors: BTreeMap<String, u64>,
    /// The first body (or message) seen for each error kind, clipped.
    pub samples: BTreeMap<String, String>,
}

impl Default for Tally {
    fn default() -> Self {
        Self::new()
    }
}

impl Tally {
    pub fn new() -> Self {
        Tally {
            ok: BTreeMap::new(),
            errors: BTreeMap::new(),
            samples: BTreeMap::new(),
        }
    }

    pub fn record_ok(&mut self, op: Op, micros: u64) {
        self.ok
            .entry(op)
            .or_insert_with(histogram)
            .saturating_record(micros.max(1));
    }

    pub fn record_error(&mut self, kind: &str, sample: impl FnOnce() -> String) {
        *self.errors.entry(kind.to_owned()).or_default() += 1;
        if !self.samples.contains_key(kind) {
            let mut s = sample();
            if s.len() > SAMPLE_CHARS {
                let mut cut = SAMPLE_CHARS;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
                s.push('…');
            }
            self.samples.insert(kind.to_owned(), s);
        }
    }

    pub fn merge(&mut self, other: Tally) {
        for (op, h) in other.ok {
            self.ok
                .entry(op)
                .or_insert_with(histogram)
                .add(&h)
                .expect("same bounds");
        }
        for (k, n) in other.errors {
            *self.errors.entry(k).or_default() += n;
        }
        for (k, s) in other.samples {
            self.samples.entry(k).or_insert(s);
        }
    }

    pub fn ok_count(&self) -> u64 {
        self.ok.values().map(Histogram::len).sum()
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// All successful latencies together.
    pub fn all(&self) -> Histogram<u64> {
        let mut h = histogram();
        for one in self.ok.values() {
            h.add(one).expect("same bounds");
        }
        h
    }
}

/// Throughput and latency percentiles of one set of answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub rps: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Summary {
    /// `seconds` is the measured window (requests completed inside it are in `h`).
    pub fn of(h: &Histogram<u64>, seconds: f64) -> Self {
        if h.is_empty() {
            return Summary {
                count: 0,
                rps: 0.0,
                mean_ms: 0.0,
                p50_ms: 0.0,
                p90_ms: 0.0,
                p99_ms: 0.0,
                p999_ms: 0.0,
                max_ms: 0.0,
            };
        }
        Summary {
            count: h.len(),
            rps: if seconds > 0.0 {
                h.len() as f64 / seconds
            } else {
                0.0
            },
            mean_ms: h.mean() / 1000.0,
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }

    pub fn to_json(&self) -> Value {
        let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
        json!({
            "count": self.count,
            "rps": (self.rps * 10.0).round() / 10.0,
            "mean_ms": r3(self.mean_ms),
            "p50_ms": r3(self.p50_ms),
            "p90_ms": r3(self.p90_ms),
            "p99_ms": r3(self.p99_ms),
            "p999_ms": r3(self.p999_ms),
            "max_ms": r3(self.max_ms),
        })
    }
}

/// The median of some numbers (mean of the middle two for an even count); `None` if empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut t = Tally::new();
        // 1..=1000 ms, one each.
        for i in 1..=1000u64 {
            t.record_ok(Op::Create, i * 1000);
        }
        let s = Summary::of(&t.all(), 2.0);
        assert_eq!(s.count, 1000);
        assert_eq!(s.rps, 500.0);
        // HDR with 3 significant digits: within 0.1 %.
        let close = |a: f64, b: f64| (a - b).abs() <= b * 0.001 + 1e-9;
        assert!(close(s.p50_ms, 500.0), "{s:?}");
        assert!(close(s.p90_ms, 900.0), "{s:?}");
        assert!(close(s.p99_ms, 990.0), "{s:?}");
        assert!(close(s.max_ms, 1000.0), "{s:?}");
        assert!(close(s.mean_ms, 500.5), "{s:?}");
    }

    #[test]
    fn merge_adds_histograms_errors_and_keeps_first_sample() {
        let mut a = Tally::new();
        a.record_ok(Op::Create, 100);
        a.record_error("503", || "first".into());
        let mut b = Tally::new();
        b.record_ok(Op::Create, 300);
        b.record_ok(Op::Describe, 200);
        b.record_error("503", || "second".into());
        b.record_error("io", || "x".repeat(1000));
        a.merge(b);
        assert_eq!(a.ok_count(), 3);
        assert_eq!(a.ok[&Op::Create].len(), 2);
        assert_eq!(a.errors["503"], 2);
        assert_eq!(a.error_count(), 3);
        assert_eq!(a.samples["503"], "first");
        assert!(a.samples["io"].chars().count() <= SAMPLE_CHARS + 1);
    }

    #[test]
    fn empty_and_zero_latency_are_safe() {
        let s = Summary::of(&Tally::new().all(), 1.0);
        assert_eq!(s.count, 0);
        assert_eq!(s.p99_ms, 0.0);
        let mut t = Tally::new();
        t.record_ok(Op::List, 0);
        t.record_ok(Op::List, u64::MAX);
        let s = Summary::of(&t.all(), 0.0);
        assert_eq!(s.count, 2);
        assert_eq!(s.rps, 0.0);
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
