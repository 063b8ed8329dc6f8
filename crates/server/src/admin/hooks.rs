//! What the gateways call on every request: the fault rules, then the metrics.

use std::sync::Arc;
use std::time::Duration;

use cloudtwin_core::{CallHooks, FaultDecision, Faults};

use super::metrics::Metrics;

pub struct Hooks {
    pub faults: Arc<Faults>,
    pub metrics: Arc<Metrics>,
}

impl CallHooks for Hooks {
    fn before(&self, product: &'static str, operation: &'static str) -> FaultDecision {
        self.faults
            .decide(product, operation, &mut || rand::random::<f64>())
    }

    fn answered(
        &self,
        product: &'static str,
        operation: &'static str,
        code: &str,
        elapsed: Duration,
    ) {
        self.metrics.record(product, operation, code, elapsed);
    }
}
