//! Liveness (the process answers) and readiness (the store answers too).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::AdminState;

/// How long readiness waits for the store before calling it unavailable.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

pub async fn health() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

pub async fn ready(State(state): State<Arc<AdminState>>) -> Response {
    let outcome = tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await;
    let problem = match outcome {
        Ok(Ok(())) => return Json(json!({"status": "ready"})).into_response(),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("the store did not answer within {READY_TIMEOUT:?}"),
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "unavailable", "reason": problem})),
    )
        .into_response()
}
