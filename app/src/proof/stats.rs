//! The statistics of an experiment: relative lift with a 95% interval, the sample-ratio
//! check, and the sentence a merchant reads.
//!
//! Lift is the ratio of two arms' means less one. Its interval comes from the delta method on
//! the log of the ratio: var(ln(mt/mc)) ≈ st²/(nt·mt²) + sc²/(nc·mc²), with each arm's
//! sample variance taken over every visitor (visitors who bought nothing count as zero), and
//! the interval exp(ln(mt/mc) ± 1.96·√var) − 1, which stays above −100%. Each visitor is one
//! observation, so a shopper's several orders are not counted as independent.

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

/// The normal quantile of a two-sided 95% interval.
const Z_95: f64 = 1.959_963_984_540_054;
/// Below this p-value the arms' sizes are too far from their weights to be chance.
pub const SAMPLE_RATIO_ALPHA: f64 = 0.001;
/// An arm needs this many visitors, and this many who bought, before a lift is estimated.
pub const MIN_VISITORS: u64 = 30;
pub const MIN_CONVERTED: u64 = 5;

pub const METHOD: &str = "Each visitor counts once, with all their orders in the period (zero when they bought nothing); \
the lift is the ratio of the arms' means less one, and its 95% interval comes from the delta method on the log of that ratio \
(normal approximation, each arm's own variance). The sample-ratio check is a chi-square test of the arms' visitor counts against their weights.";

/// Mean and variance of one arm's per-visitor values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub n: u64,
    pub mean: f64,
    pub variance: f64,
}

impl Sample {
    /// From the sum and the sum of squares of `n` values (Welford is not needed at these
    /// magnitudes: revenues in one currency, a few million visitors at most).
    pub fn from_sums(n: u64, sum: f64, sum_of_squares: f64) -> Self {
        if n == 0 {
            return Self {
                n,
                mean: 0.0,
                variance: 0.0,
            };
        }
        let count = n as f64;
        let mean = sum / count;
        let variance = if n > 1 {
            ((sum_of_squares - count * mean * mean) / (count - 1.0)).max(0.0)
        } else {
            0.0
        };
        Self { n, mean, variance }
    }

    /// A share: `hits` of `n` (each visitor 1 or 0).
    pub fn proportion(hits: u64, n: u64) -> Self {
        Self::from_sums(n, hits as f64, hits as f64)
    }
}

/// An estimate and its 95% interval, as fractions (0.041 is +4.1%).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

impl Interval {
    pub fn excludes_zero(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }

    pub fn contains(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }
}

/// How much higher `treated`'s mean is than `control`'s, with its interval; none when either
/// mean is zero or an arm has a single visitor.
pub fn relative_lift(treated: &Sample, control: &Sample) -> Option<Interval> {
    if treated.n < 2 || control.n < 2 || treated.mean <= 0.0 || control.mean <= 0.0 {
        return None;
    }
    let log_ratio = (treated.mean / control.mean).ln();
    let variance = treated.variance / (treated.n as f64 * treated.mean.powi(2))
        + control.variance / (control.n as f64 * control.mean.powi(2));
    let half = Z_95 * variance.sqrt();
    Some(Interval {
        estimate: log_ratio.exp() - 1.0,
        low: (log_ratio - half).exp() - 1.0,
        high: (log_ratio + half).exp() - 1.0,
    })
}

/// The p-value of the arms' visitor counts given their weights (chi-square, one degree of
/// freedom fewer than arms). 1 when there is nothing to test.
pub fn sample_ratio_p_value(visitors: &[u64], weights: &[u32]) -> f64 {
    let total: u64 = visitors.iter().sum();
    let weight_total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
    if visitors.len() < 2 || total == 0 || weight_total == 0 || visitors.len() != weights.len() {
        return 1.0;
    }
    let mut statistic = 0.0;
    for (seen, weight) in visitors.iter().zip(weights) {
        let expected = total as f64 * f64::from(*weight) / weight_total as f64;
        if expected > 0.0 {
            statistic += (*seen as f64 - expected).powi(2) / expected;
        }
    }
    match ChiSquared::new((visitors.len() - 1) as f64) {
        Ok(distribution) => distribution.sf(statistic),
        Err(_) => 1.0,
    }
}

/// The merchant's sentence for one comparison: `who` against `against`.
pub fn verdict(who: &str, against: &str, lift: Option<&Interval>, mismatch: bool) -> String {
    if mismatch {
        return format!(
            "The arms' sizes are far from their weights (sample ratio mismatch): something other than chance splits the shoppers, so the comparison of {who} with {against} is not to be trusted."
        );
    }
    let Some(lift) = lift else {
        return format!(
            "Not enough data yet to compare {who} with {against}: each arm needs {MIN_VISITORS} visitors and {MIN_CONVERTED} who bought."
        );
    };
    let interval = format!("95% interval {}–{}", percent(lift.low), percent(lift.high));
    if lift.low > 0.0 {
        format!(
            "{who} added {} revenue per visitor over {against}, {interval}.",
            percent(lift.estimate)
        )
    } else if lift.high < 0.0 {
        format!(
            "{who} lost {} revenue per visitor against {against}, {interval}.",
            percent(-lift.estimate)
        )
    } else {
        format!(
            "No clear difference yet between {who} and {against}: {} revenue per visitor, {interval}.",
            signed_percent(lift.estimate)
        )
    }
}

fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

fn signed_percent(fraction: f64) -> String {
    format!("{:+.1}%", fraction * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lift_interval_and_sample_ratio_check() {
        // Same means: lift 0, interval around it.
        let a = Sample::from_sums(1_000, 2_000.0, 2_000.0 * 30.0);
        let lift = relative_lift(&a, &a).unwrap();
        assert!(lift.estimate.abs() < 1e-12 && lift.contains(0.0) && lift.low > -0.3);
        // Ten percent higher on large arms: the interval excludes zero.
        let control = Sample::proportion(20_000, 100_000);
        let treated = Sample::proportion(22_000, 100_000);
        let lift = relative_lift(&treated, &control).unwrap();
        assert!(
            (lift.estimate - 0.1).abs() < 1e-9 && lift.excludes_zero(),
            "{lift:?}"
        );
        assert!(relative_lift(&Sample::proportion(0, 10), &control).is_none());
        // 5,000 / 5,000 is fine; 5,300 / 4,700 on 50/50 is no chance split.
        assert!(sample_ratio_p_value(&[5_000, 5_000], &[50, 50]) > 0.99);
        assert!(sample_ratio_p_value(&[5_300, 4_700], &[50, 50]) < SAMPLE_RATIO_ALPHA);
        assert!(sample_ratio_p_value(&[950, 50], &[95, 5]) > 0.9);
        let said = verdict(
            "Kindred",
            "the holdout",
            Some(&Interval {
                estimate: 0.041,
                low: 0.012,
                high: 0.07,
            }),
            false,
        );
        assert_eq!(
            said,
            "Kindred added 4.1% revenue per visitor over the holdout, 95% interval 1.2%–7.0%."
        );
        assert!(verdict("b", "a", None, true).contains("sample ratio mismatch"));
    }
}
