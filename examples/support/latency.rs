//! Latency percentiles as the load examples print them (checkin_load, commit_floor).

use std::time::Duration;

/// Percentiles of sorted latencies, in milliseconds.
pub struct Percentiles<'a>(pub &'a [Duration]);

impl Percentiles<'_> {
    /// The latency at quantile `q` (0..=1), nearest rank; NaN when there are none.
    pub fn ms(&self, q: f64) -> f64 {
        let v = self.0;
        if v.is_empty() {
            return f64::NAN;
        }
        let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
        v[i].as_secs_f64() * 1e3
    }

    /// The summary line: p50, p90, p99, p99.9 and max, from each request's intended start.
    pub fn line(&self) -> String {
        format!(
            "   latency from intended start: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
            self.ms(0.5),
            self.ms(0.9),
            self.ms(0.99),
            self.ms(0.999),
            self.ms(1.0)
        )
    }
}
