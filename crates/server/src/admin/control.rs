//! State control: the rules that decide how job-backed transitions run, the jobs, and
//! manual steps (`/state-control/rules`, `/jobs`, `/jobs/{id}/step`,
//! `/instances/{id}/step`; see `docs/admin.md`).
//!
//! Rules are kept in memory by the engine, per process: they govern jobs created after
//! they are set, and what they decided is stored with each job.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use cloudtwin_core::{Job, JobState, Product, Rule};
use cloudtwin_engine::StepError;
use cloudtwin_store::JobQuery;
use serde_json::{json, Value};

use super::{reset::product_names, AdminState, Refusal};

const DEFAULT_JOB_LIMIT: usize = 100;
const MAX_JOB_LIMIT: usize = 1000;

impl From<StepError> for Refusal {
    fn from(e: StepError) -> Self {
        let (status, code) = match &e {
            StepError::NoSuchJob(_) => (StatusCode::NOT_FOUND, "JobNotFound"),
            StepError::NotParked { .. } => (StatusCode::CONFLICT, "JobNotParked"),
            StepError::NothingParked(_) => (StatusCode::CONFLICT, "NothingParked"),
            StepError::Store(e) => return e.clone().into(),
        };
        Refusal::new(status, code, e)
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

pub async fn list_rules(State(state): State<Arc<AdminState>>) -> Json<Value> {
    let rules: Vec<Value> = state.engine.rules().iter().map(rule_json).collect();
    Json(json!({"rules": rules}))
}

pub async fn set_rule(
    State(state): State<Arc<AdminState>>,
    body: Bytes,
) -> Result<Json<Value>, Refusal> {
    let value: Value = serde_json::from_slice(&body).map_err(|e| {
        Refusal::bad_request(
            "InvalidBody",
            format!("the body must be JSON such as {{\"rule\": \"starrocks:CreateInstance=manual\"}}: {e}"),
        )
    })?;
    let text = match value.as_object().map(|o| (o.get("rule"), o.len())) {
        Some((Some(Value::String(s)), 1)) => s.clone(),
        _ => {
            return Err(Refusal::bad_request(
                "InvalidBody",
                "the body must be an object with one string field, rule, such as {\"rule\": \"starrocks:CreateInstance=manual\"}",
            ))
        }
    };
    let rule: Rule = text
        .parse()
        .map_err(|e: String| Refusal::bad_request("InvalidRule", e))?;
    state.engine.set_rule(rule.clone()).map_err(|e| {
        Refusal::bad_request(
            "InvalidRule",
            format!("invalid state-control rule {text:?}: {e}"),
        )
    })?;
    tracing::info!(rule = %rule, "state-control rule set");
    Ok(Json(json!({"rule": rule_json(&rule)})))
}

pub async fn clear_rules(State(state): State<Arc<AdminState>>) -> Json<Value> {
    let cleared = state.engine.clear_rules();
    tracing::info!(cleared, "state-control rules cleared");
    Json(json!({"cleared": cleared}))
}

/// The job filters of a query string; unknown or malformed parameters are refused.
fn job_query(params: &HashMap<String, String>) -> Result<JobQuery, Refusal> {
    let invalid = |message: String| Refusal::bad_request("InvalidParameter", message);
    let mut query = JobQuery {
        limit: DEFAULT_JOB_LIMIT,
        ..JobQuery::default()
    };
    for (name, value) in params {
        match name.as_str() {
            "product" => {
                query.product = Some(Product::parse(value).ok_or_else(|| {
                    invalid(format!(
                        "product {value:?} is unknown; known: {}",
                        product_names()
                    ))
                })?)
            }
            "instance" => query.instance_id = Some(value.clone()),
            "state" => {
                query.state = Some(JobState::parse(value).ok_or_else(|| {
                    let known: Vec<&str> = JobState::ALL.iter().map(|s| s.as_str()).collect();
                    invalid(format!(
                        "state {value:?} is unknown; known: {}",
                        known.join(", ")
                    ))
                })?)
            }
            "limit" => {
                query.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_JOB_LIMIT).contains(n))
                    .ok_or_else(|| {
                        invalid(format!(
                            "limit {value:?} must be a number from 1 to {MAX_JOB_LIMIT}"
                        ))
                    })?
            }
            other => {
                return Err(invalid(format!(
                    "unknown parameter {other:?}; known: product, instance, state, limit"
                )))
            }
        }
    }
    Ok(query)
}

pub async fn list_jobs(
    State(state): State<Arc<AdminState>>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, Refusal> {
    let query = job_query(&params)?;
    let jobs = state.engine.jobs(&query).await?;
    let jobs: Vec<Value> = jobs.iter().map(job_json).collect();
    Ok(Json(json!({"jobs": jobs})))
}

pub async fn step_job(
    State(state): State<Arc<AdminState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Refusal> {
    let job = state.engine.step_job(&id).await?;
    Ok(Json(json!({"stepped": job_json(&job)})))
}

pub async fn step_instance(
    State(state): State<Arc<AdminState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Refusal> {
    let job = state.engine.step_instance(&id).await?;
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
