//! Prometheus metrics: requests and latency recorded by the gateways (atomics behind a
//! read-mostly family map), jobs and instances counted from the store at scrape time.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use cloudtwin_core::JobState;
use cloudtwin_store::StateCounts;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::{store_error, AdminState};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    product: &'static str,
    operation: &'static str,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProductLabels {
    product: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InstanceLabels {
    product: &'static str,
    status: String,
}

type LatencyFamily = Family<ProductLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms .. ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The request metrics the gateways feed.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("cloudtwin");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "requests",
            "Cloud API requests by product, operation and answer code (OK or the error code)",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time to answer a cloud API request, by product",
            latency.clone(),
        );
        Self {
            registry,
            requests,
            latency,
        }
    }

    pub fn record(
        &self,
        product: &'static str,
        operation: &'static str,
        code: &str,
        elapsed: Duration,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                product,
                operation,
                code: code.to_owned(),
            })
            .inc();
        self.latency
            .get_or_create(&ProductLabels { product })
            .observe(elapsed.as_secs_f64());
    }

    /// The text exposition: the request metrics and the store's counts.
    pub fn render(&self, counts: &StateCounts) -> Result<String, std::fmt::Error> {
        let mut state = Registry::with_prefix("cloudtwin");
        let jobs = Family::<JobLabels, Gauge>::default();
        // Every state shows, zero included, so a dashboard's series never vanish.
        for s in JobState::ALL {
            jobs.get_or_create(&JobLabels { state: s.as_str() }).set(0);
        }
        for (s, n) in &counts.jobs {
            jobs.get_or_create(&JobLabels { state: s.as_str() })
                .set(*n as i64);
        }
        let instances = Family::<InstanceLabels, Gauge>::default();
        for (p, status, n) in &counts.instances {
            instances
                .get_or_create(&InstanceLabels {
                    product: p.as_str(),
                    status: status.clone(),
                })
                .set(*n as i64);
        }
        state.register("jobs", "Jobs in the store by state", jobs);
        state.register(
            "instances",
            "Live instances in the store by product and status",
            instances,
        );
        let mut out = String::new();
        encode_registry(&mut out, &self.registry)?;
        encode_registry(&mut out, &state)?;
        encode_eof(&mut out)?;
        Ok(out)
    }
}

pub async fn scrape(State(state): State<Arc<AdminState>>) -> Response {
    let counts = match state.store.state_counts().await {
        Ok(c) => c,
        Err(e) => return store_error(e),
    };
    match state.metrics.render(&counts) {
        Ok(text) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => super::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "the metrics could not be encoded",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudtwin_core::Product;

    #[test]
    fn renders_requests_latency_and_counts() {
        let metrics = Metrics::new();
        metrics.record(
            "starrocks",
            "CreateInstanceV1",
            "OK",
            Duration::from_millis(3),
        );
        metrics.record(
            "starrocks",
            "CreateInstanceV1",
            "OK",
            Duration::from_millis(5),
        );
        metrics.record(
            "rocketmq",
            "ShowInstance",
            "DMS.00400004",
            Duration::from_millis(1),
        );
        let text = metrics
            .render(&StateCounts {
                jobs: vec![(JobState::Pending, 2)],
                instances: vec![(Product::StarRocks, "running".into(), 3)],
            })
            .unwrap();
        assert!(text.contains(
            "cloudtwin_requests_total{product=\"starrocks\",operation=\"CreateInstanceV1\",code=\"OK\"} 2"
        ), "{text}");
        assert!(text.contains(
            "cloudtwin_requests_total{product=\"rocketmq\",operation=\"ShowInstance\",code=\"DMS.00400004\"} 1"
        ));
        assert!(text.contains("cloudtwin_request_duration_seconds_count{product=\"starrocks\"} 2"));
        assert!(text.contains("cloudtwin_jobs{state=\"pending\"} 2"));
        assert!(text.contains("cloudtwin_jobs{state=\"failed\"} 0"));
        assert!(text.contains("cloudtwin_instances{product=\"starrocks\",status=\"running\"} 3"));
        assert_eq!(text.matches("# EOF").count(), 1);
        assert!(text.ends_with("# EOF\n"));
    }
}
