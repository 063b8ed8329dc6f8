//! Fault injection: rules that make a product's operation answer an error or answer late,
//! with a probability and an optional count. Pure: the dice are passed in, so tests can
//! load them. The dialect gateways consult the rules through [`CallHooks`] once a call is
//! routed and authenticated, so product and operation are known.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A throttling answer without an explicit wait asks the SDK to wait this long.
pub const DEFAULT_RETRY_AFTER_MS: u64 = 1000;

/// The error a fault answers with; the dialect wraps it in its own envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultError {
    pub code: String,
    pub status: u16,
    #[serde(default)]
    pub message: String,
    /// How long the client should wait before retrying. Defaults to
    /// [`DEFAULT_RETRY_AFTER_MS`] for throttling errors (HTTP 429 or a `Throttling*` code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl FaultError {
    pub fn is_throttling(&self) -> bool {
        self.status == 429 || self.code.starts_with("Throttling")
    }

    /// The wait to advertise, if any.
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.retry_after_ms
            .or_else(|| self.is_throttling().then_some(DEFAULT_RETRY_AFTER_MS))
    }

    pub fn message_or_default(&self) -> String {
        if self.message.is_empty() {
            format!("Injected fault {}.", self.code)
        } else {
            self.message.clone()
        }
    }
}

/// A rule as the admin API and `--fault` take it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// A product name (`starrocks`, `rocketmq`, ...) or `*`.
    pub product: String,
    /// An operation as the SDK names it (`CreateInstanceV1`, `ShowInstance`) or `*`.
    #[serde(default = "any")]
    pub operation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<FaultError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// The chance that a matching call is hit, 0..=1.
    #[serde(default = "always")]
    pub probability: f64,
    /// How many calls the rule hits before it is dropped; unlimited when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

fn any() -> String {
    "*".into()
}

fn always() -> f64 {
    1.0
}

/// The longest latency a rule may add: beyond it the SDKs' own timeouts make the
/// rule mean "hang", which is not what latency injection is for.
pub const MAX_LATENCY_MS: u64 = 120_000;

impl FaultSpec {
    /// Checks the rule, with a message that says what to change.
    pub fn validate(&self) -> Result<(), String> {
        if self.product.trim().is_empty() {
            return Err("product must be a product name or \"*\"".into());
        }
        if self.operation.trim().is_empty() {
            return Err("operation must be an operation name or \"*\"".into());
        }
        match (&self.error, self.latency_ms) {
            (Some(_), Some(_)) => {
                return Err("give either error or latency_ms, not both (add two rules)".into())
            }
            (None, None) => return Err("give either error or latency_ms".into()),
            (Some(e), None) => {
                if e.code.trim().is_empty() {
                    return Err("error.code must not be empty".into());
                }
                if !(400..=599).contains(&e.status) {
                    return Err(format!(
                        "error.status must be an HTTP error status 400..=599, not {}",
                        e.status
                    ));
                }
            }
            (None, Some(ms)) => {
                if ms == 0 || ms > MAX_LATENCY_MS {
                    return Err(format!("latency_ms must be 1..={MAX_LATENCY_MS}, not {ms}"));
                }
            }
        }
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(format!(
                "probability must be between 0 and 1, not {}",
                self.probability
            ));
        }
        if self.count == Some(0) {
            return Err("count must be at least 1 (leave it out for no limit)".into());
        }
        Ok(())
    }

    fn matches(&self, product: &str, operation: &str) -> bool {
        (self.product == "*" || self.product == product)
            && (self.operation == "*" || self.operation == operation)
    }
}

/// A rule in force, with the id it is listed and cleared by and what is left of its count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultRule {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// Calls hit so far.
    pub hits: u64,
}

/// What the rules decided for one call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultDecision {
    /// Added before answering (every latency rule that hit, summed).
    pub delay: Duration,
    /// Answered instead of calling the product (the first error rule that hit).
    pub error: Option<FaultError>,
}

impl FaultDecision {
    pub fn is_none(&self) -> bool {
        self.delay.is_zero() && self.error.is_none()
    }
}

/// The rules in force. Calls take the lock only while rules exist; it is never held
/// across an await.
#[derive(Debug, Default)]
pub struct Faults {
    any: AtomicBool,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    rules: Vec<FaultRule>,
}

impl Faults {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a valid rule and answers it as listed.
    pub fn add(&self, spec: FaultSpec) -> Result<FaultRule, String> {
        spec.validate()?;
        let mut inner = self.inner.lock().expect("faults lock");
        inner.next_id += 1;
        let rule = FaultRule {
            id: inner.next_id,
            spec,
            hits: 0,
        };
        inner.rules.push(rule.clone());
        self.any.store(true, Ordering::Release);
        Ok(rule)
    }

    pub fn list(&self) -> Vec<FaultRule> {
        self.inner.lock().expect("faults lock").rules.clone()
    }

    /// Drops one rule; false when there is none with that id.
    pub fn remove(&self, id: u64) -> bool {
        let mut inner = self.inner.lock().expect("faults lock");
        let before = inner.rules.len();
        inner.rules.retain(|r| r.id != id);
        self.any.store(!inner.rules.is_empty(), Ordering::Release);
        inner.rules.len() != before
    }

    /// Drops every rule; answers how many there were.
    pub fn clear(&self) -> usize {
        let mut inner = self.inner.lock().expect("faults lock");
        let n = inner.rules.len();
        inner.rules.clear();
        self.any.store(false, Ordering::Release);
        n
    }

    /// Decides one call. `roll` answers a uniform number in `[0, 1)`; it is asked once per
    /// matching rule. A rule whose count runs out is dropped.
    pub fn decide(
        &self,
        product: &str,
        operation: &str,
        roll: &mut dyn FnMut() -> f64,
    ) -> FaultDecision {
        let mut decision = FaultDecision::default();
        if !self.any.load(Ordering::Acquire) {
            return decision;
        }
        let mut inner = self.inner.lock().expect("faults lock");
        let mut spent = false;
        for rule in inner.rules.iter_mut() {
            if !rule.spec.matches(product, operation) {
                continue;
            }
            // Once an error is chosen, later error rules are not consulted (nor spent).
            if rule.spec.error.is_some() && decision.error.is_some() {
                continue;
            }
            if roll() >= rule.spec.probability {
                continue;
            }
            rule.hits += 1;
            if let Some(count) = rule.spec.count.as_mut() {
                *count -= 1;
                spent |= *count == 0;
            }
            match (&rule.spec.error, rule.spec.latency_ms) {
                (Some(e), _) => decision.error = Some(e.clone()),
                (None, Some(ms)) => decision.delay += Duration::from_millis(ms),
                (None, None) => {}
            }
        }
        if spent {
            inner.rules.retain(|r| r.spec.count != Some(0));
            self.any.store(!inner.rules.is_empty(), Ordering::Release);
        }
        decision
    }
}

/// What the dialect gateways call around each request: the fault rules before the product
/// runs, and the outcome after, for metrics. Product and operation are the names the
/// rules and metrics use (`starrocks`, `CreateInstanceV1`).
pub trait CallHooks: Send + Sync + 'static {
    /// Once the call is routed and authenticated.
    fn before(&self, product: &'static str, operation: &'static str) -> FaultDecision;
    /// Once the answer is known: `code` is the error code, or `OK`. Unrouted calls report
    /// product and operation `unknown`.
    fn answered(
        &self,
        product: &'static str,
        operation: &'static str,
        code: &str,
        elapsed: Duration,
    );

    /// What both gateways do with every answer: the request's one log line (its fields are
    /// formatted only when the level is on), then `answered`.
    fn report(&self, answer: Answer<'_>) {
        tracing::info!(
            status = answer.status,
            code = answer.code,
            elapsed_us = answer.elapsed.as_micros() as u64,
            request_id = answer.request_id,
            call = answer.call,
            "answered"
        );
        self.answered(
            answer.product.unwrap_or("unknown"),
            answer.operation.unwrap_or("unknown"),
            if answer.status < 400 {
                "OK"
            } else {
                answer.code
            },
            answer.elapsed,
        );
    }
}

/// One answered call, as a gateway reports it.
pub struct Answer<'a> {
    /// The names the rules and metrics use, once the call was routed.
    pub product: Option<&'static str>,
    pub operation: Option<&'static str>,
    /// The call as the request named it (an Alibaba action, known or not), for the log.
    pub call: Option<&'a str>,
    pub status: u16,
    /// The error code of the answer's body; unused below 400.
    pub code: &'a str,
    pub request_id: &'a str,
    pub elapsed: Duration,
}

/// No faults, no metrics.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHooks;

impl CallHooks for NoHooks {
    fn before(&self, _: &'static str, _: &'static str) -> FaultDecision {
        FaultDecision::default()
    }
    fn answered(&self, _: &'static str, _: &'static str, _: &str, _: Duration) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_rule(product: &str, operation: &str, count: Option<u64>) -> FaultSpec {
        FaultSpec {
            product: product.into(),
            operation: operation.into(),
            error: Some(FaultError {
                code: "InternalError".into(),
                status: 500,
                message: String::new(),
                retry_after_ms: None,
            }),
            latency_ms: None,
            probability: 1.0,
            count,
        }
    }

    fn latency_rule(ms: u64) -> FaultSpec {
        FaultSpec {
            product: "*".into(),
            operation: "*".into(),
            error: None,
            latency_ms: Some(ms),
            probability: 1.0,
            count: None,
        }
    }

    fn zero() -> impl FnMut() -> f64 {
        || 0.0
    }

    #[test]
    fn no_rules_decide_nothing() {
        let faults = Faults::new();
        assert!(faults.decide("starrocks", "X", &mut zero()).is_none());
    }

    #[test]
    fn matches_product_and_operation_or_wildcards() {
        let faults = Faults::new();
        faults
            .add(error_rule("starrocks", "CreateInstanceV1", None))
            .unwrap();
        assert!(faults
            .decide("starrocks", "CreateInstanceV1", &mut zero())
            .error
            .is_some());
        assert!(faults
            .decide("starrocks", "DescribeInstances", &mut zero())
            .is_none());
        assert!(faults
            .decide("havenask", "CreateInstanceV1", &mut zero())
            .is_none());
        faults.add(error_rule("havenask", "*", None)).unwrap();
        assert!(faults
            .decide("havenask", "Any", &mut zero())
            .error
            .is_some());
    }

    #[test]
    fn count_runs_out_and_the_rule_is_dropped() {
        let faults = Faults::new();
        faults.add(error_rule("*", "*", Some(2))).unwrap();
        assert!(faults.decide("p", "o", &mut zero()).error.is_some());
        assert_eq!(faults.list()[0].spec.count, Some(1));
        assert_eq!(faults.list()[0].hits, 1);
        assert!(faults.decide("p", "o", &mut zero()).error.is_some());
        assert!(faults.list().is_empty());
        assert!(faults.decide("p", "o", &mut zero()).is_none());
    }

    #[test]
    fn probability_is_compared_with_the_roll_and_misses_do_not_spend_count() {
        let faults = Faults::new();
        let mut spec = error_rule("*", "*", Some(1));
        spec.probability = 0.25;
        faults.add(spec).unwrap();
        assert!(faults.decide("p", "o", &mut || 0.25).is_none());
        assert!(faults.decide("p", "o", &mut || 0.9).is_none());
        assert_eq!(faults.list()[0].spec.count, Some(1));
        assert!(faults.decide("p", "o", &mut || 0.1).error.is_some());
        assert!(faults.list().is_empty());
    }

    #[test]
    fn probability_zero_never_hits() {
        let faults = Faults::new();
        let mut spec = error_rule("*", "*", None);
        spec.probability = 0.0;
        faults.add(spec).unwrap();
        assert!(faults.decide("p", "o", &mut zero()).is_none());
    }

    #[test]
    fn latencies_add_up_and_the_first_error_wins() {
        let faults = Faults::new();
        faults.add(latency_rule(30)).unwrap();
        faults.add(error_rule("*", "*", Some(1))).unwrap();
        let mut second = error_rule("*", "*", Some(1));
        second.error.as_mut().unwrap().code = "Second".into();
        faults.add(second).unwrap();
        faults.add(latency_rule(20)).unwrap();
        let d = faults.decide("p", "o", &mut zero());
        assert_eq!(d.delay, Duration::from_millis(50));
        assert_eq!(d.error.unwrap().code, "InternalError");
        // The second error rule was not spent; it answers next.
        let d = faults.decide("p", "o", &mut zero());
        assert_eq!(d.error.unwrap().code, "Second");
    }

    #[test]
    fn remove_and_clear() {
        let faults = Faults::new();
        let a = faults.add(latency_rule(5)).unwrap();
        faults.add(latency_rule(6)).unwrap();
        assert!(faults.remove(a.id));
        assert!(!faults.remove(a.id));
        assert_eq!(faults.clear(), 1);
        assert!(faults.decide("p", "o", &mut zero()).is_none());
    }

    #[test]
    fn validation_says_what_is_wrong() {
        let mut both = error_rule("*", "*", None);
        both.latency_ms = Some(5);
        assert!(both.validate().unwrap_err().contains("not both"));
        let mut neither = error_rule("*", "*", None);
        neither.error = None;
        assert!(neither.validate().is_err());
        let mut status = error_rule("*", "*", None);
        status.error.as_mut().unwrap().status = 200;
        assert!(status.validate().unwrap_err().contains("400..=599"));
        let mut p = error_rule("*", "*", None);
        p.probability = 1.5;
        assert!(p.validate().unwrap_err().contains("probability"));
        assert!(error_rule("*", "*", Some(0))
            .validate()
            .unwrap_err()
            .contains("count"));
        assert!(latency_rule(0).validate().is_err());
        assert!(latency_rule(MAX_LATENCY_MS + 1).validate().is_err());
        assert!(error_rule("", "*", None).validate().is_err());
    }

    #[test]
    fn throttling_advertises_a_wait() {
        let mut e = FaultError {
            code: "Throttling.User".into(),
            status: 400,
            message: String::new(),
            retry_after_ms: None,
        };
        assert_eq!(e.retry_after_ms(), Some(DEFAULT_RETRY_AFTER_MS));
        e.retry_after_ms = Some(250);
        assert_eq!(e.retry_after_ms(), Some(250));
        e.code = "InternalError".into();
        e.status = 500;
        e.retry_after_ms = None;
        assert_eq!(e.retry_after_ms(), None);
    }

    #[test]
    fn spec_parses_with_defaults() {
        let spec: FaultSpec = serde_json::from_str(
            r#"{"product":"starrocks","error":{"code":"Throttling.User","status":400}}"#,
        )
        .unwrap();
        assert_eq!(spec.operation, "*");
        assert_eq!(spec.probability, 1.0);
        assert!(spec.validate().is_ok());
        assert!(serde_json::from_str::<FaultSpec>(r#"{"product":"x","latency":5}"#).is_err());
    }
}
