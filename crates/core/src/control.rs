//! State control: per product and operation, how its transitions run, overriding the
//! global lifecycle mode. A rule reads `PRODUCT:OPERATION=MODE`, where PRODUCT and
//! OPERATION may be `*`, and MODE is `instant`, `delay:DURATION` (`2s`, `500ms`, or bare
//! seconds), `manual` (the job waits, parked, until stepped) or
//! `fail[:CODE[:MESSAGE]]` (the job ends failed, showing the product's failure status).
//!
//! A rule is applied when a job is created: the job carries its due time, its parked
//! state or its failure, so what a rule decided survives a restart even though the
//! rules themselves live in the process.

use std::fmt;
use std::str::FromStr;

use crate::instance::Product;
use crate::job::{JobError, JobState};
use crate::lifecycle::{parse_duration_ms, Lifecycle, TransitionKind, MAX_DELAY_MS};

/// The failure a `fail` rule gives when it names no code or message.
pub const DEFAULT_FAIL_CODE: &str = "InternalError";
pub const DEFAULT_FAIL_MESSAGE: &str = "The operation failed.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Due as soon as it is created.
    Instant,
    /// Due this many milliseconds after it is created.
    Delay(i64),
    /// Parked until stepped.
    Manual,
    /// Runs after the global mode's delay and ends failed with this error.
    Fail(JobError),
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Instant => f.write_str("instant"),
            Mode::Delay(ms) if ms % 1000 == 0 => write!(f, "delay:{}s", ms / 1000),
            Mode::Delay(ms) => write!(f, "delay:{ms}ms"),
            Mode::Manual => f.write_str("manual"),
            Mode::Fail(e) => write!(f, "fail:{}:{}", e.code, e.message),
        }
    }
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (name, arg) = match s.split_once(':') {
            Some((name, arg)) => (name, Some(arg)),
            None => (s, None),
        };
        match (name, arg) {
            ("instant", None) => Ok(Mode::Instant),
            ("manual", None) => Ok(Mode::Manual),
            ("delay", Some(d)) => {
                let ms = match d.parse::<i64>() {
                    Ok(secs) => secs.checked_mul(1000).filter(|ms| (0..=MAX_DELAY_MS).contains(ms)),
                    Err(_) => parse_duration_ms(d),
                };
                ms.map(Mode::Delay).ok_or_else(|| {
                    format!("invalid delay {d:?}: expected seconds or a duration such as 2s or 500ms, up to a day")
                })
            }
            ("delay", None) => Err("delay needs a duration, such as delay:2s".into()),
            ("fail", None) => Ok(Mode::Fail(JobError {
                code: DEFAULT_FAIL_CODE.into(),
                message: DEFAULT_FAIL_MESSAGE.into(),
            })),
            ("fail", Some(rest)) => {
                let (code, message) = match rest.split_once(':') {
                    Some((code, message)) => (code, message),
                    None => (rest, DEFAULT_FAIL_MESSAGE),
                };
                let code_ok = !code.is_empty()
                    && code
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
                if !code_ok {
                    return Err(format!(
                        "invalid failure code {code:?}: expected letters, digits, '.', '_' or '-'"
                    ));
                }
                if message.is_empty() {
                    return Err("the failure message after the code is empty".into());
                }
                Ok(Mode::Fail(JobError {
                    code: code.into(),
                    message: message.into(),
                }))
            }
            ("instant" | "manual", Some(_)) => Err(format!("{name} takes no argument")),
            _ => Err(format!(
                "unknown mode {name:?}: expected instant, delay:DURATION, manual or fail[:CODE[:MESSAGE]]"
            )),
        }
    }
}

/// One rule: which transitions it governs and how they run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `None` is every product.
    pub product: Option<Product>,
    /// `None` is every operation; otherwise the name the product's job history shows.
    pub operation: Option<String>,
    pub mode: Mode,
}

impl Rule {
    /// Higher is more specific: an exact product and operation beat wildcards.
    fn specificity(&self) -> u8 {
        u8::from(self.product.is_some()) * 2 + u8::from(self.operation.is_some())
    }

    fn matches(&self, product: Product, operation: &str) -> bool {
        self.product.is_none_or(|p| p == product)
            && self.operation.as_deref().is_none_or(|o| o == operation)
    }

    fn same_selector(&self, other: &Rule) -> bool {
        self.product == other.product && self.operation == other.operation
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}={}",
            self.product.map_or("*", Product::as_str),
            self.operation.as_deref().unwrap_or("*"),
            self.mode
        )
    }
}

impl FromStr for Rule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let invalid = |why: String| {
            format!(
                "invalid state-control rule {s:?}: {why} (expected PRODUCT:OPERATION=MODE, such as starrocks:CreateInstance=manual)"
            )
        };
        let (selector, mode) = s
            .split_once('=')
            .ok_or_else(|| invalid("no '=' before the mode".into()))?;
        let (product, operation) = selector
            .split_once(':')
            .ok_or_else(|| invalid("no ':' between product and operation".into()))?;
        let product = match product.trim() {
            "*" => None,
            name => Some(Product::parse(name).ok_or_else(|| {
                invalid(format!(
                    "unknown product {name:?}; known: starrocks, havenask, openanalytics, taurusdb, htap-starrocks, rocketmq, or *"
                ))
            })?),
        };
        let operation = match operation.trim() {
            "*" => None,
            op if !op.is_empty() && op.chars().all(|c| c.is_ascii_alphanumeric()) => {
                Some(op.to_owned())
            }
            op => {
                return Err(invalid(format!(
                    "operation {op:?} must be a name such as CreateInstance, or *"
                )))
            }
        };
        let mode = mode.trim().parse::<Mode>().map_err(invalid)?;
        Ok(Rule {
            product,
            operation,
            mode,
        })
    }
}

/// The operations each product's jobs carry, as the products declare them.
pub type KnownOperations = [(Product, &'static [&'static str])];

impl Rule {
    /// Refuses a rule that could never match: an operation no job of its product (or, for
    /// `*`, of any product) carries. A misspelt name would otherwise be silently ignored.
    pub fn check_operation(&self, known: &KnownOperations) -> Result<(), String> {
        let Some(op) = &self.operation else {
            return Ok(());
        };
        let candidates = known
            .iter()
            .filter(|(p, _)| self.product.is_none_or(|want| want == *p));
        if candidates
            .clone()
            .any(|(_, ops)| ops.contains(&op.as_str()))
        {
            return Ok(());
        }
        let mut names: Vec<&str> = candidates
            .flat_map(|(_, ops)| ops.iter().copied())
            .collect();
        names.sort_unstable();
        names.dedup();
        let whose = self.product.map_or("any product", Product::as_str);
        Err(format!(
            "no job of {whose} is named {op:?}; the operations are: {}, or *",
            names.join(", ")
        ))
    }
}

/// How a new job starts, as the rules and the global mode decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPlan {
    pub state: JobState,
    pub due_ms: i64,
    /// The failure the job will end in.
    pub error: Option<JobError>,
}

/// The rules in force, in the order they were set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateControl {
    rules: Vec<Rule>,
}

impl StateControl {
    pub fn new(rules: impl IntoIterator<Item = Rule>) -> Self {
        let mut control = Self::default();
        for rule in rules {
            control.set(rule);
        }
        control
    }

    /// Adds a rule, replacing one with the same product and operation.
    pub fn set(&mut self, rule: Rule) {
        self.rules.retain(|r| !r.same_selector(&rule));
        self.rules.push(rule);
    }

    /// Removes every rule; answers how many there were.
    pub fn clear(&mut self) -> usize {
        std::mem::take(&mut self.rules).len()
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The mode of the most specific rule for this product and operation.
    pub fn mode_for(&self, product: Product, operation: &str) -> Option<&Mode> {
        self.rules
            .iter()
            .filter(|r| r.matches(product, operation))
            .max_by_key(|r| r.specificity())
            .map(|r| &r.mode)
    }

    /// How a job created now for this transition starts.
    pub fn plan(
        &self,
        product: Product,
        operation: &str,
        kind: TransitionKind,
        global: Lifecycle,
        now_ms: i64,
    ) -> JobPlan {
        let pending = |delay_ms: i64, error: Option<JobError>| JobPlan {
            state: JobState::Pending,
            due_ms: now_ms + delay_ms,
            error,
        };
        match self.mode_for(product, operation) {
            None => pending(global.delay_ms(kind), None),
            Some(Mode::Instant) => pending(0, None),
            Some(Mode::Delay(ms)) => pending(*ms, None),
            Some(Mode::Manual) => JobPlan {
                state: JobState::Parked,
                due_ms: now_ms,
                error: None,
            },
            Some(Mode::Fail(e)) => pending(global.delay_ms(kind), Some(e.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> Rule {
        s.parse().unwrap()
    }

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(
            rule("starrocks:CreateInstance=manual"),
            Rule {
                product: Some(Product::StarRocks),
                operation: Some("CreateInstance".into()),
                mode: Mode::Manual,
            }
        );
        assert_eq!(rule("rocketmq:*=delay:2s").mode, Mode::Delay(2000));
        assert_eq!(rule("rocketmq:*=delay:2s").operation, None);
        assert_eq!(rule("*:*=delay:3").mode, Mode::Delay(3000));
        assert_eq!(rule("*:*=delay:250ms").mode, Mode::Delay(250));
        assert_eq!(rule(" havenask:* = instant ").mode, Mode::Instant);
        assert_eq!(
            rule("taurusdb:CreateGaussDBforMySQLInstance=fail:DBS.280001:No resources: try later")
                .mode,
            Mode::Fail(JobError {
                code: "DBS.280001".into(),
                message: "No resources: try later".into(),
            })
        );
        assert_eq!(
            rule("htap-starrocks:*=fail").mode,
            Mode::Fail(JobError {
                code: DEFAULT_FAIL_CODE.into(),
                message: DEFAULT_FAIL_MESSAGE.into(),
            })
        );
        assert_eq!(
            rule("*:*=fail:Boom").mode,
            Mode::Fail(JobError {
                code: "Boom".into(),
                message: DEFAULT_FAIL_MESSAGE.into(),
            })
        );
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "starrocks:CreateInstance=manual",
            "rocketmq:*=delay:2s",
            "*:*=delay:1500ms",
            "*:ReleaseInstance=instant",
            "taurusdb:*=fail:DBS.280001:No resources: try later",
        ] {
            assert_eq!(rule(s).to_string(), s);
            assert_eq!(rule(&rule(s).to_string()), rule(s));
        }
    }

    #[test]
    fn refuses_bad_rules_with_the_reason() {
        for (input, why) in [
            ("starrocks:CreateInstance", "no '='"),
            ("starrocks=manual", "no ':'"),
            ("redis:*=manual", "unknown product \"redis\""),
            ("starrocks:=manual", "operation \"\""),
            (
                "starrocks:Create Instance=manual",
                "operation \"Create Instance\"",
            ),
            ("starrocks:*=slow", "unknown mode \"slow\""),
            ("starrocks:*=delay", "delay needs a duration"),
            ("starrocks:*=delay:soon", "invalid delay \"soon\""),
            ("starrocks:*=delay:-1s", "invalid delay"),
            ("starrocks:*=delay:2d", "invalid delay"),
            ("starrocks:*=manual:3", "manual takes no argument"),
            ("starrocks:*=fail:", "invalid failure code \"\""),
            ("starrocks:*=fail:a b:x", "invalid failure code"),
            ("starrocks:*=fail:Code:", "message after the code is empty"),
        ] {
            let err = input.parse::<Rule>().unwrap_err();
            assert!(err.contains(why), "{input}: {err}");
            assert!(err.contains("PRODUCT:OPERATION=MODE"), "{input}: {err}");
        }
    }

    #[test]
    fn a_rule_must_name_an_operation_its_product_has() {
        let known: &KnownOperations = &[
            (Product::StarRocks, &["CreateInstance", "ModifyCu"]),
            (Product::TaurusDb, &["CreateGaussDBforMySQLInstance"]),
        ];
        for ok in [
            "starrocks:CreateInstance=manual",
            "starrocks:*=manual",
            "*:ModifyCu=instant",
            "*:*=instant",
            "havenask:*=fail",
        ] {
            assert_eq!(rule(ok).check_operation(known), Ok(()), "{ok}");
        }
        let err = rule("taurusdb:CreateInstance=fail")
            .check_operation(known)
            .unwrap_err();
        assert_eq!(
            err,
            "no job of taurusdb is named \"CreateInstance\"; the operations are: CreateGaussDBforMySQLInstance, or *"
        );
        let err = rule("*:Reboot=manual").check_operation(known).unwrap_err();
        assert!(
            err.contains("no job of any product is named \"Reboot\""),
            "{err}"
        );
        assert!(
            err.contains("CreateGaussDBforMySQLInstance, CreateInstance, ModifyCu"),
            "{err}"
        );
    }

    #[test]
    fn the_most_specific_rule_wins_and_a_selector_is_replaced() {
        let mut control = StateControl::new([
            rule("*:*=delay:9s"),
            rule("*:ReleaseInstance=instant"),
            rule("starrocks:*=delay:1s"),
            rule("starrocks:CreateInstance=manual"),
        ]);
        let mode = |p, op| control.mode_for(p, op).cloned();
        assert_eq!(
            mode(Product::StarRocks, "CreateInstance"),
            Some(Mode::Manual)
        );
        assert_eq!(
            mode(Product::StarRocks, "ReleaseInstance"),
            Some(Mode::Delay(1000))
        );
        assert_eq!(
            mode(Product::Havenask, "ReleaseInstance"),
            Some(Mode::Instant)
        );
        assert_eq!(
            mode(Product::RocketMq, "CreateInstance"),
            Some(Mode::Delay(9000))
        );
        control.set(rule("starrocks:CreateInstance=instant"));
        assert_eq!(control.rules().len(), 4, "same selector replaced");
        assert_eq!(
            control.mode_for(Product::StarRocks, "CreateInstance"),
            Some(&Mode::Instant)
        );
        assert_eq!(control.clear(), 4);
        assert_eq!(control.mode_for(Product::StarRocks, "CreateInstance"), None);
    }

    #[test]
    fn plans_follow_the_rule_or_the_global_mode() {
        let global = Lifecycle::Fixed(5_000);
        let kind = TransitionKind::Create;
        let none = StateControl::default();
        assert_eq!(
            none.plan(Product::StarRocks, "CreateInstance", kind, global, 100),
            JobPlan {
                state: JobState::Pending,
                due_ms: 5_100,
                error: None
            }
        );
        let plan = |r: &str| {
            StateControl::new([rule(r)]).plan(
                Product::StarRocks,
                "CreateInstance",
                kind,
                global,
                100,
            )
        };
        assert_eq!(plan("starrocks:*=instant").due_ms, 100);
        assert_eq!(plan("starrocks:*=delay:2s").due_ms, 2_100);
        let manual = plan("starrocks:*=manual");
        assert_eq!(manual.state, JobState::Parked);
        let fail = plan("starrocks:*=fail:X.1:broken");
        assert_eq!(fail.state, JobState::Pending);
        assert_eq!(fail.due_ms, 5_100, "a failure takes the global mode's time");
        assert_eq!(
            fail.error,
            Some(JobError {
                code: "X.1".into(),
                message: "broken".into()
            })
        );
        assert_eq!(
            plan("rocketmq:*=manual").state,
            JobState::Pending,
            "another product's rule does not apply"
        );
    }
}
