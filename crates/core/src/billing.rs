//! Billing: price tables, orders and subscriptions. Pure: amounts are integer cents,
//! times are milliseconds since the epoch, and the clock is the caller's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::instance::Product;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// The job operation that ends a prePaid term.
pub const EXPIRE_OPERATION: &str = "Expire";

/// Hours in a billing month, as the clouds' hourly list prices assume (8,760 / 12).
pub const HOURS_PER_MONTH: i64 = 730;

/// The unit of a subscription period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PeriodUnit {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl PeriodUnit {
    /// Reads the unit in any of the clouds' spellings (`Month`, `month`, `2` for Huawei's
    /// month, `3` for its year).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "hour" => PeriodUnit::Hour,
            "day" => PeriodUnit::Day,
            "week" => PeriodUnit::Week,
            "month" | "2" => PeriodUnit::Month,
            "year" | "3" => PeriodUnit::Year,
            _ => return None,
        })
    }

    /// Hours in one unit, for pricing the units shorter than a month by the hour.
    fn price_hours(self) -> i64 {
        match self {
            PeriodUnit::Hour => 1,
            PeriodUnit::Day => 24,
            PeriodUnit::Week => 7 * 24,
            PeriodUnit::Month => HOURS_PER_MONTH,
            PeriodUnit::Year => 12 * HOURS_PER_MONTH,
        }
    }
}

/// A period: `count` units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub unit: PeriodUnit,
    pub count: i64,
}

impl Period {
    /// When a period that starts at `start_ms` ends, in calendar terms (a month from
    /// 31 January ends on the last day of February), compressed by `scale`.
    pub fn end_ms(self, start_ms: i64, scale: TimeScale) -> i64 {
        let nominal = match self.unit {
            PeriodUnit::Hour => start_ms + self.count * HOUR_MS,
            PeriodUnit::Day => start_ms + self.count * DAY_MS,
            PeriodUnit::Week => start_ms + self.count * 7 * DAY_MS,
            PeriodUnit::Month => add_months(start_ms, self.count),
            PeriodUnit::Year => add_months(start_ms, self.count * 12),
        };
        start_ms + scale.compress(nominal - start_ms)
    }

    /// List price of the period for a configuration whose monthly price is `monthly_cents`.
    pub fn price_cents(self, monthly_cents: i64) -> i64 {
        let hours = self.unit.price_hours() * self.count;
        if self.unit == PeriodUnit::Year {
            monthly_cents * 12 * self.count
        } else if self.unit == PeriodUnit::Month {
            monthly_cents * self.count
        } else {
            (monthly_cents * hours + HOURS_PER_MONTH / 2) / HOURS_PER_MONTH
        }
    }
}

/// How much faster than the wall clock subscriptions run out: 1 is real time; 2,592,000
/// makes a 30-day month last one second. Only subscription lengths are compressed, so
/// tests can watch an instance expire (`--billing-time-scale`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeScale(f64);

impl TimeScale {
    pub const REAL: TimeScale = TimeScale(1.0);

    pub fn new(factor: f64) -> Option<Self> {
        (factor.is_finite() && factor >= 1.0).then_some(TimeScale(factor))
    }

    pub fn factor(self) -> f64 {
        self.0
    }

    fn compress(self, span_ms: i64) -> i64 {
        ((span_ms as f64) / self.0).round().max(1.0) as i64
    }
}

impl Default for TimeScale {
    fn default() -> Self {
        TimeScale::REAL
    }
}

/// `months` calendar months after `ms` (UTC), the day clamped to the target month.
fn add_months(ms: i64, months: i64) -> i64 {
    let days = ms.div_euclid(DAY_MS);
    let in_day = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    let total = y * 12 + (m - 1) + months;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let nd = d.min(days_in_month(ny, nm));
    days_from_civil(ny, nm, nd) * DAY_MS + in_day
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Howard Hinnant's `days_from_civil`: days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse: (year, month, day) of a count of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// One product's list prices: a monthly price in cents per unit of each billed item
/// (`cu`, `storage.pl1`, a flavor code, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceTable {
    pub currency: String,
    pub monthly_cents: BTreeMap<String, i64>,
}

/// One priced line of a configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceLine {
    pub item: String,
    pub quantity: i64,
    pub monthly_cents: i64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PriceError {
    /// The table has no price for an item of the configuration.
    #[error("no list price for {0:?}")]
    Unpriced(String),
}

impl PriceTable {
    /// Prices each `(item, quantity)`; the monthly total is the sum of the lines.
    pub fn lines(&self, items: &[(String, i64)]) -> Result<Vec<PriceLine>, PriceError> {
        items
            .iter()
            .map(|(item, quantity)| {
                let unit = self
                    .monthly_cents
                    .get(item)
                    .ok_or_else(|| PriceError::Unpriced(item.clone()))?;
                Ok(PriceLine {
                    item: item.clone(),
                    quantity: *quantity,
                    monthly_cents: unit * quantity,
                })
            })
            .collect()
    }

    pub fn monthly_total(&self, items: &[(String, i64)]) -> Result<i64, PriceError> {
        Ok(self.lines(items)?.iter().map(|l| l.monthly_cents).sum())
    }
}

/// Every product's price table, as `catalog/prices.json` holds them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceBook {
    pub products: BTreeMap<String, PriceTable>,
}

impl PriceBook {
    pub fn table(&self, product: Product) -> Option<&PriceTable> {
        self.products.get(product.as_str())
    }
}

/// Formats cents as the clouds print amounts: `1234.50`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderKind {
    /// A new subscription (a prePaid create, or a switch to prePaid).
    New,
    /// More time on an existing subscription.
    Renew,
    /// A change of configuration or of charge type.
    Change,
    /// Giving a subscription back.
    Unsubscribe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderStatus {
    /// Waiting for payment; the resource it buys waits too.
    Unpaid,
    /// Paid: the resource it buys is being delivered or was delivered.
    Paid,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Unpaid => "unpaid",
            OrderStatus::Paid => "paid",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "unpaid" => OrderStatus::Unpaid,
            "paid" => OrderStatus::Paid,
            "cancelled" => OrderStatus::Cancelled,
            _ => return None,
        })
    }
}

/// One order of the ledger: what was bought, for which instance, and whether it is paid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    pub account_id: String,
    pub product: Product,
    /// The instance the order buys or changes (the "resource" of Huawei's BSS).
    pub instance_id: String,
    pub kind: OrderKind,
    pub status: OrderStatus,
    pub amount_cents: i64,
    pub currency: String,
    /// The period bought; `None` for a change without one.
    pub period: Option<Period>,
    pub created_ms: i64,
    pub paid_ms: Option<i64>,
    /// The job that delivers the order once it is paid (parked until then).
    pub job_id: Option<String>,
    /// What the instance shows while that job runs.
    pub status_on_pay: Option<String>,
}

impl Order {
    /// Marks the order paid at `now_ms`; paying twice is refused.
    pub fn pay(&mut self, now_ms: i64) -> Result<(), OrderError> {
        match self.status {
            OrderStatus::Unpaid => {
                self.status = OrderStatus::Paid;
                self.paid_ms = Some(now_ms);
                Ok(())
            }
            other => Err(OrderError::NotUnpaid(other)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// Only an unpaid order can be paid or cancelled.
    #[error("the order is {}, not unpaid", .0.as_str())]
    NotUnpaid(OrderStatus),
}

/// A prePaid instance's term: when it started, when it ends, and whether it renews itself.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub period: Period,
    pub start_ms: i64,
    pub end_ms: i64,
    pub auto_renew: bool,
}

impl Subscription {
    pub fn start(period: Period, start_ms: i64, auto_renew: bool, scale: TimeScale) -> Self {
        Subscription {
            period,
            start_ms,
            end_ms: period.end_ms(start_ms, scale),
            auto_renew,
        }
    }

    /// Adds `more` after the current end (renewing early keeps the time already paid for).
    pub fn renew(&mut self, more: Period, scale: TimeScale) {
        self.end_ms = more.end_ms(self.end_ms, scale);
    }

    /// The end as a client sees it at `now_ms`: an auto-renewing term rolls over by its own
    /// period each time it runs out, so it never lapses.
    pub fn visible_end_ms(&self, now_ms: i64, scale: TimeScale) -> i64 {
        let mut end = self.end_ms;
        if self.auto_renew {
            // Bounded: terms are at least a millisecond long.
            for _ in 0..10_000 {
                if end > now_ms {
                    break;
                }
                end = self.period.end_ms(end, scale);
            }
        }
        end
    }

    /// Whether the term has run out at `now_ms` without renewal.
    pub fn lapsed(&self, now_ms: i64) -> bool {
        !self.auto_renew && now_ms >= self.end_ms
    }
}

/// One stretch of a pay-per-use (postPaid) instance's life: from `start_ms` it accrues its
/// configuration's list price, `monthly_cents` / 730 per hour; 0 means it does not accrue
/// (prePaid, being created, being released, gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageSegment {
    pub start_ms: i64,
    pub monthly_cents: i64,
}

/// The rate history of an instance, oldest first. Boundaries are whole seconds: usage is
/// charged by the second, so a record's amount follows from the times it shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UsageLedger {
    pub segments: Vec<UsageSegment>,
}

/// One accruing stretch inside a window: `[start_ms, end_ms)` at one rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageSpan {
    pub start_ms: i64,
    pub end_ms: i64,
    pub monthly_cents: i64,
}

/// Millionths of the currency unit (0.000001 yuan) per cent.
const MICROS_PER_CENT: i128 = 10_000;

impl UsageSpan {
    pub fn seconds(&self) -> i64 {
        (self.end_ms - self.start_ms) / 1000
    }

    /// The amount in millionths of the currency unit: seconds × the hourly price / 3600,
    /// rounded half up.
    pub fn amount_micros(&self) -> i64 {
        let num = i128::from(self.monthly_cents) * MICROS_PER_CENT * i128::from(self.seconds());
        let den = i128::from(HOURS_PER_MONTH) * 3600;
        ((num + den / 2) / den) as i64
    }
}

impl UsageLedger {
    /// From `at_ms` (floored to the second) the instance accrues `monthly_cents`. A rate
    /// equal to the current one changes nothing; a time before the last boundary is taken
    /// as that boundary (the history never goes back). Returns whether it changed.
    pub fn record(&mut self, at_ms: i64, monthly_cents: i64) -> bool {
        let current = self.segments.last().map_or(0, |s| s.monthly_cents);
        if current == monthly_cents {
            return false;
        }
        let mut at = at_ms.div_euclid(1000) * 1000;
        if let Some(last) = self.segments.last() {
            at = at.max(last.start_ms);
            if last.start_ms == at {
                // Two changes in one second: the later one holds for that second.
                self.segments.pop();
                if self.segments.last().map_or(0, |s| s.monthly_cents) == monthly_cents {
                    return true;
                }
            }
        }
        self.segments.push(UsageSegment {
            start_ms: at,
            monthly_cents,
        });
        true
    }

    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Whether the instance accrues now.
    pub fn accruing(&self) -> bool {
        self.segments.last().is_some_and(|s| s.monthly_cents > 0)
    }

    /// The accruing stretches within `[from_ms, to_ms)`, `to_ms` floored to the second
    /// (the open stretch ends there).
    pub fn spans(&self, from_ms: i64, to_ms: i64) -> Vec<UsageSpan> {
        let to = to_ms.div_euclid(1000) * 1000;
        let mut out = Vec::new();
        for (i, seg) in self.segments.iter().enumerate() {
            let end = self.segments.get(i + 1).map_or(to, |n| n.start_ms).min(to);
            let start = seg.start_ms.max(from_ms.div_euclid(1000) * 1000);
            if seg.monthly_cents > 0 && end > start {
                out.push(UsageSpan {
                    start_ms: start,
                    end_ms: end,
                    monthly_cents: seg.monthly_cents,
                });
            }
        }
        out
    }

    /// The total accrued within `[from_ms, to_ms)`, in millionths of the currency unit.
    pub fn accrued_micros(&self, from_ms: i64, to_ms: i64) -> i64 {
        self.spans(from_ms, to_ms)
            .iter()
            .map(UsageSpan::amount_micros)
            .sum()
    }
}

/// Formats millionths of the currency unit: `12.345678`.
pub fn format_micros(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:06}",
        micros.abs() / 1_000_000,
        micros.abs() % 1_000_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_31_2026: i64 = 1_769_817_600_000; // 2026-01-31T00:00:00Z

    fn month(n: i64) -> Period {
        Period {
            unit: PeriodUnit::Month,
            count: n,
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 1, 19_000, 20_484, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(JAN_31_2026 / DAY_MS), (2026, 1, 31));
    }

    #[test]
    fn months_are_calendar_months_clamped_to_the_last_day() {
        let feb = month(1).end_ms(JAN_31_2026, TimeScale::REAL);
        assert_eq!(civil_from_days(feb / DAY_MS), (2026, 2, 28));
        let year = Period {
            unit: PeriodUnit::Year,
            count: 2,
        }
        .end_ms(JAN_31_2026, TimeScale::REAL);
        assert_eq!(civil_from_days(year / DAY_MS), (2028, 1, 31));
        let thirteen = month(13).end_ms(JAN_31_2026 + 5 * HOUR_MS, TimeScale::REAL);
        assert_eq!(civil_from_days(thirteen / DAY_MS), (2027, 2, 28));
        assert_eq!(thirteen % DAY_MS, 5 * HOUR_MS, "time of day is kept");
    }

    #[test]
    fn short_units_are_fixed_lengths() {
        let p = |unit, count| Period { unit, count };
        assert_eq!(
            p(PeriodUnit::Hour, 3).end_ms(0, TimeScale::REAL),
            3 * HOUR_MS
        );
        assert_eq!(p(PeriodUnit::Day, 2).end_ms(0, TimeScale::REAL), 2 * DAY_MS);
        assert_eq!(
            p(PeriodUnit::Week, 1).end_ms(0, TimeScale::REAL),
            7 * DAY_MS
        );
    }

    #[test]
    fn time_scale_compresses_the_term() {
        let scale = TimeScale::new(2_592_000.0).unwrap();
        // A 30-day month (April) lasts one second.
        let april_1_2026 = days_from_civil(2026, 4, 1) * DAY_MS;
        assert_eq!(month(1).end_ms(april_1_2026, scale), april_1_2026 + 1_000);
        assert!(TimeScale::new(0.5).is_none());
        assert!(TimeScale::new(f64::NAN).is_none());
    }

    #[test]
    fn prices_follow_the_table_and_period() {
        let table = PriceTable {
            currency: "CNY".into(),
            monthly_cents: [("cu".to_string(), 10_000), ("storage.pl1".to_string(), 50)]
                .into_iter()
                .collect(),
        };
        let monthly = table
            .monthly_total(&[("cu".into(), 16), ("storage.pl1".into(), 300)])
            .unwrap();
        assert_eq!(monthly, 16 * 10_000 + 300 * 50);
        assert_eq!(month(3).price_cents(monthly), 3 * monthly);
        let year = Period {
            unit: PeriodUnit::Year,
            count: 1,
        };
        assert_eq!(year.price_cents(monthly), 12 * monthly);
        let hour = Period {
            unit: PeriodUnit::Hour,
            count: 1,
        };
        assert_eq!(hour.price_cents(73_000), 100);
        assert_eq!(
            table.monthly_total(&[("flavor.x".into(), 1)]),
            Err(PriceError::Unpriced("flavor.x".into()))
        );
        assert_eq!(format_cents(123_450), "1234.50");
        assert_eq!(format_cents(5), "0.05");
    }

    #[test]
    fn renewal_extends_from_the_current_end() {
        let mut s = Subscription::start(month(1), JAN_31_2026, false, TimeScale::REAL);
        let first_end = s.end_ms;
        s.renew(month(1), TimeScale::REAL);
        assert_eq!(s.end_ms, month(1).end_ms(first_end, TimeScale::REAL));
        assert!(!s.lapsed(first_end));
        assert!(s.lapsed(s.end_ms));
    }

    #[test]
    fn auto_renew_never_lapses_and_rolls_the_visible_end() {
        let hour = Period {
            unit: PeriodUnit::Hour,
            count: 1,
        };
        let s = Subscription::start(hour, 0, true, TimeScale::REAL);
        assert!(!s.lapsed(10 * HOUR_MS));
        assert_eq!(
            s.visible_end_ms(10 * HOUR_MS + 1, TimeScale::REAL),
            11 * HOUR_MS
        );
    }

    #[test]
    fn an_order_is_paid_once() {
        let mut o = Order {
            id: "o".into(),
            account_id: "a".into(),
            product: Product::StarRocks,
            instance_id: "c".into(),
            kind: OrderKind::New,
            status: OrderStatus::Unpaid,
            amount_cents: 1,
            currency: "CNY".into(),
            period: Some(month(1)),
            created_ms: 1,
            paid_ms: None,
            job_id: None,
            status_on_pay: None,
        };
        o.pay(5).unwrap();
        assert_eq!((o.status, o.paid_ms), (OrderStatus::Paid, Some(5)));
        assert_eq!(o.pay(6), Err(OrderError::NotUnpaid(OrderStatus::Paid)));
        for s in [
            OrderStatus::Unpaid,
            OrderStatus::Paid,
            OrderStatus::Cancelled,
        ] {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn units_parse_in_each_spelling() {
        assert_eq!(PeriodUnit::parse("Month"), Some(PeriodUnit::Month));
        assert_eq!(PeriodUnit::parse("year"), Some(PeriodUnit::Year));
        assert_eq!(PeriodUnit::parse("2"), Some(PeriodUnit::Month));
        assert_eq!(PeriodUnit::parse("fortnight"), None);
    }
    fn ledger(points: &[(i64, i64)]) -> UsageLedger {
        let mut l = UsageLedger::default();
        for &(at, rate) in points {
            l.record(at, rate);
        }
        l
    }

    #[test]
    fn an_hour_at_the_monthly_price_accrues_a_730th() {
        let l = ledger(&[(0, 73_000)]);
        // 73,000 cents a month = 100 cents an hour = 1.000000 yuan.
        assert_eq!(l.accrued_micros(0, HOUR_MS), 1_000_000);
        assert_eq!(format_micros(l.accrued_micros(0, HOUR_MS / 2)), "0.500000");
        // Charged by the second: 1.999 s is one second.
        assert_eq!(l.accrued_micros(0, 1_999), 278);
    }

    #[test]
    fn rates_follow_changes_and_a_stop_ends_accrual() {
        let l = ledger(&[(1_500, 73_000), (HOUR_MS, 146_000), (2 * HOUR_MS, 0)]);
        assert_eq!(
            l.segments[0].start_ms, 1_000,
            "boundaries are whole seconds"
        );
        let spans = l.spans(0, 10 * HOUR_MS);
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[1].monthly_cents, 146_000);
        assert_eq!(
            l.accrued_micros(0, 10 * HOUR_MS),
            spans[0].amount_micros() + 2_000_000
        );
        assert!(!l.accruing());
        // Restarted later (prePaid back to postPaid).
        let mut l = l;
        assert!(l.record(5 * HOUR_MS, 73_000));
        assert!(!l.record(6 * HOUR_MS, 73_000), "the same rate is no change");
        assert_eq!(l.accrued_micros(5 * HOUR_MS, 6 * HOUR_MS), 1_000_000);
    }

    #[test]
    fn changes_within_a_second_keep_the_last_and_time_never_goes_back() {
        let l = ledger(&[(1_000, 100), (1_400, 200), (1_900, 100)]);
        assert_eq!(
            l.segments,
            vec![UsageSegment {
                start_ms: 1_000,
                monthly_cents: 100
            }]
        );
        let l = ledger(&[(5_000, 100), (2_000, 0)]);
        assert!(
            l.segments.is_empty(),
            "a stop in the same second as the start"
        );
        assert_eq!(l.accrued_micros(0, HOUR_MS), 0);
    }

    proptest::proptest! {
        /// The accrual over a window equals the sum over any split of it, within the
        /// rounding of each piece, and never decreases as the window grows.
        #[test]
        fn accrual_is_additive_and_monotone(
            points in proptest::collection::vec((0i64..100_000_000, 0i64..1_000_000), 0..12),
            split in 0i64..100_000_000,
        ) {
            let mut sorted = points.clone();
            sorted.sort();
            let l = ledger(&sorted);
            let end = 100_000_000;
            let whole = l.accrued_micros(0, end);
            let split = split.div_euclid(1000) * 1000;
            let parts = l.accrued_micros(0, split) + l.accrued_micros(split, end);
            let pieces = l.spans(0, end).len() as i64 + 1;
            proptest::prop_assert!((whole - parts).abs() <= pieces, "{whole} vs {parts}");
            proptest::prop_assert!(l.accrued_micros(0, split) <= whole);
            for w in l.segments.windows(2) {
                proptest::prop_assert!(w[0].start_ms < w[1].start_ms);
                proptest::prop_assert!(w[0].monthly_cents != w[1].monthly_cents);
            }
        }
    }
}
