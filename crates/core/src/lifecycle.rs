//! How long transitions take: instant for tests, realistic by default, or a fixed delay.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionKind {
    Create,
    Change,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// A transition completes as soon as a worker takes it.
    Instant,
    /// Seconds per step, like the cloud: about 10 s to create, 5 s to change, 3 s to delete.
    Realistic,
    /// Every transition takes this many milliseconds.
    Fixed(i64),
}

impl Lifecycle {
    pub fn delay_ms(self, kind: TransitionKind) -> i64 {
        match self {
            Lifecycle::Instant => 0,
            Lifecycle::Fixed(ms) => ms,
            Lifecycle::Realistic => match kind {
                TransitionKind::Create => 10_000,
                TransitionKind::Change => 5_000,
                TransitionKind::Delete => 3_000,
            },
        }
    }
}

impl FromStr for Lifecycle {
    type Err = String;

    /// `instant`, `realistic`, or a duration such as `3s` or `500ms`.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad = || {
            format!("invalid lifecycle {s:?}: expected instant, realistic, or a delay such as 3s or 500ms")
        };
        match s {
            "instant" => Ok(Lifecycle::Instant),
            "realistic" => Ok(Lifecycle::Realistic),
            _ => parse_duration_ms(s).map(Lifecycle::Fixed).ok_or_else(bad),
        }
    }
}

/// The longest delay accepted anywhere: one day.
pub const MAX_DELAY_MS: i64 = 86_400_000;

/// A duration such as `3s` or `500ms`, in milliseconds, up to a day.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000)
    } else {
        return None;
    };
    let n: i64 = num.parse().ok()?;
    let ms = n.checked_mul(scale)?;
    (0..=MAX_DELAY_MS).contains(&ms).then_some(ms)
}

impl fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lifecycle::Instant => f.write_str("instant"),
            Lifecycle::Realistic => f.write_str("realistic"),
            Lifecycle::Fixed(ms) => write!(f, "{ms}ms"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_modes() {
        assert_eq!("instant".parse(), Ok(Lifecycle::Instant));
        assert_eq!("realistic".parse(), Ok(Lifecycle::Realistic));
        assert_eq!("3s".parse(), Ok(Lifecycle::Fixed(3000)));
        assert_eq!("250ms".parse(), Ok(Lifecycle::Fixed(250)));
        assert!("fast".parse::<Lifecycle>().is_err());
        assert!("-1s".parse::<Lifecycle>().is_err());
    }

    #[test]
    fn realistic_delays() {
        assert_eq!(
            Lifecycle::Realistic.delay_ms(TransitionKind::Create),
            10_000
        );
        assert_eq!(Lifecycle::Instant.delay_ms(TransitionKind::Create), 0);
        assert_eq!(Lifecycle::Fixed(7).delay_ms(TransitionKind::Delete), 7);
    }
}
