//! The state-control part of the admin API, under [`ADMIN_PREFIX`]:
//!
//! - `GET    /_cloudtwin/state-control/rules`: the rules in force.
//! - `POST   /_cloudtwin/state-control/rules` `{"rule": "starrocks:CreateInstance=manual"}`:
//!   adds a rule, replacing one for the same product and operation.
//! - `DELETE /_cloudtwin/state-control/rules`: removes every rule.
//! - `GET    /_cloudtwin/jobs?product=&instance=&state=&limit=`: jobs of every account,
//!   oldest first (`state=parked` lists what waits for a step).
//! - `POST   /_cloudtwin/jobs/{id}/step`: releases a parked job.
//! - `POST   /_cloudtwin/instances/{id}/step`: releases the instance's oldest parked job.
//!
//! Rules are kept in memory by the engine, per process: they govern jobs created after
//! they are set, and what they decided is stored with each job. Errors answer
//! `{"error": {"code", "message"}}` with a 4xx status.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cloudtwin_core::{Job, JobState, Product, Rule};
use cloudtwin_engine::{Engine, StepError};
use cloudtwin_store::{JobQuery, StoreError};
use serde_json::{json, Value};

use crate::ADMIN_PREFIX;

const DEFAULT_JOB_LIMIT: usize = 100;
const MAX_JOB_LIMIT: usize = 1000;

/// The routes, with their full paths, ready to merge into the server's router.
pub fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route(
            &format!("{ADMIN_PREFIX}/state-control/rules"),
            get(list_rules).post(set_rule).delete(clear_rules),
        )
        .route(&format!("{ADMIN_PREFIX}/jobs"), get(list_jobs))
        .route(&format!("{ADMIN_PREFIX}/jobs/{{id}}/step"), post(step_job))
        .route(
            &format!("{ADMIN_PREFIX}/instances/{{id}}/step"),
            post(step_instance),
        )
        .with_state(engine)
}

/// An admin error: a status and a JSON body naming what was wrong.
#[derive(Debug)]
struct AdminError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl AdminError {
    fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        let status = match e {
            StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self {
            status,
            code: "StoreError",
            message: e.to_string(),
        }
    }
}

impl From<StepError> for AdminError {
    fn from(e: StepError) -> Self {
        let (status, code) = match &e {
            StepError::NoSuchJob(_) => (StatusCode::NOT_FOUND, "JobNotFound"),
            StepError::NotParked { .. } => (StatusCode::CONFLICT, "JobNotParked"),
            StepError::NothingParked(_) => (StatusCode::CONFLICT, "NothingParked"),
            StepError::Store(e) => return e.clone().into(),
        };
        Self {
            status,
            code,
            message: e.to_string(),
        }
    }
}

fn rule_json(rule: &Rule) -> Value {
    json!({
        "rule": rule.to_string(),
        "product": rule.product.map_or("*", Product::as_str),
        "operation": rule.operation.as_deref().unwrap_or("*"),
        "mode": rule.mode.to_string(),
    })
}

fn job_json(job: &Job) -> Value {
    json!({
        "id": job.id,
        "account_id": job.account_id,
        "product": job.product.as_str(),
        "instance_id": job.instance_id,
        "operation": job.operation,
        "state": job.state.as_str(),
        "created_ms": job.created_ms,
        "due_ms": job.due_ms,
        "finished_ms": job.finished_ms,
        "attempts": job.attempts,
        "status_on_success": job.outcome.status,
        "status_on_failure": job.outcome.on_failure.as_ref().map(|f| f.status.as_str()),
        "error": job.outcome.error.as_ref().map(|e| json!({"code": e.code, "message": e.message})),
    })
}

async fn list_rules(State(engine): State<Arc<Engine>>) -> Json<Value> {
    let rules: Vec<Value> = engine.rules().iter().map(rule_json).collect();
    Json(json!({"rules": rules}))
}

async fn set_rule(
    State(engine): State<Arc<Engine>>,
    body: Bytes,
) -> Result<Json<Value>, AdminError> {
    let value: Value = serde_json::from_slice(&body).map_err(|e| {
        AdminError::bad_request(
            "InvalidBody",
            format!("the body must be JSON such as {{\"rule\": \"starrocks:CreateInstance=manual\"}}: {e}"),
        )
    })?;
    let text = match value.as_object().map(|o| (o.get("rule"), o.len())) {
        Some((Some(Value::String(s)), 1)) => s.clone(),
        _ => {
            return Err(AdminError::bad_request(
                "InvalidBody",
                "the body must be an object with one string field, rule, such as {\"rule\": \"starrocks:CreateInstance=manual\"}",
            ))
        }
    };
    let rule: Rule = text
        .parse()
        .map_err(|e: String| AdminError::bad_request("InvalidRule", e))?;
    engine.set_rule(rule.clone()).map_err(|e| {
        AdminError::bad_request(
            "InvalidRule",
            format!("invalid state-control rule {text:?}: {e}"),
        )
    })?;
    tracing::info!(rule = %rule, "state-control rule set");
    Ok(Json(json!({"rule": rule_json(&rule)})))
}

async fn clear_rules(State(engine): State<Arc<Engine>>) -> Json<Value> {
    let cleared = engine.clear_rules();
    tracing::info!(cleared, "state-control rules cleared");
    Json(json!({"cleared": cleared}))
}

/// The job filters of a query string; unknown or malformed parameters are refused.
fn job_query(params: &HashMap<String, String>) -> Result<JobQuery, AdminError> {
    let mut query = JobQuery {
        limit: DEFAULT_JOB_LIMIT,
        ..JobQuery::default()
    };
    for (name, value) in params {
        match name.as_str() {
            "product" => {
                query.product = Some(Product::parse(value).ok_or_else(|| {
                    AdminError::bad_request(
                        "InvalidParameter",
                        format!("product {value:?} is unknown; known: starrocks, havenask, openanalytics, taurusdb, htap-starrocks, rocketmq"),
                    )
                })?)
            }
            "instance" => query.instance_id = Some(value.clone()),
            "state" => {
                query.state = Some(JobState::parse(value).ok_or_else(|| {
                    AdminError::bad_request(
                        "InvalidParameter",
                        format!("state {value:?} is unknown; known: pending, parked, running, succeeded, failed"),
                    )
                })?)
            }
            "limit" => {
                query.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_JOB_LIMIT).contains(n))
                    .ok_or_else(|| {
                        AdminError::bad_request(
                            "InvalidParameter",
                            format!("limit {value:?} must be a number from 1 to {MAX_JOB_LIMIT}"),
                        )
                    })?
            }
            other => {
                return Err(AdminError::bad_request(
                    "InvalidParameter",
                    format!("unknown parameter {other:?}; known: product, instance, state, limit"),
                ))
            }
        }
    }
    Ok(query)
}

async fn list_jobs(
    State(engine): State<Arc<Engine>>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, AdminError> {
    let query = job_query(&params)?;
    let jobs: Vec<Value> = engine.jobs(&query).await?.iter().map(job_json).collect();
    Ok(Json(json!({"jobs": jobs})))
}

async fn step_job(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let job = engine.step_job(&id).await?;
    Ok(Json(json!({"stepped": job_json(&job)})))
}

async fn step_instance(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let job = engine.step_instance(&id).await?;
    Ok(Json(json!({"stepped": job_json(&job)})))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn job_queries_take_known_filters_only() {
        let q = job_query(&params(&[
            ("product", "rocketmq"),
            ("state", "parked"),
            ("instance", "i-1"),
            ("limit", "5"),
        ]))
        .unwrap();
        assert_eq!(q.product, Some(Product::RocketMq));
        assert_eq!(q.state, Some(JobState::Parked));
        assert_eq!(q.instance_id.as_deref(), Some("i-1"));
        assert_eq!(q.limit, 5);
        assert_eq!(job_query(&params(&[])).unwrap().limit, DEFAULT_JOB_LIMIT);
        for bad in [
            ("product", "redis"),
            ("state", "stuck"),
            ("limit", "0"),
            ("limit", "1001"),
            ("stat", "parked"),
        ] {
            let err = job_query(&params(&[bad])).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }
}
