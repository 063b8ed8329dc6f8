//! `/faults`: add, list and clear fault injection rules.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cloudtwin_core::FaultSpec;
use serde_json::json;

use super::{error, parse_json, AdminState};

pub async fn list(State(state): State<Arc<AdminState>>) -> Response {
    Json(json!({ "faults": state.faults.list() })).into_response()
}

/// Checks a rule against the products the gateways serve, then the rule's own shape.
pub fn check(spec: &FaultSpec, products: &[&'static str]) -> Result<(), String> {
    if spec.product != "*" && !products.contains(&spec.product.as_str()) {
        return Err(format!(
            "unknown product {:?}; one of *, {}",
            spec.product,
            products.join(", ")
        ));
    }
    spec.validate()
}

pub async fn add(State(state): State<Arc<AdminState>>, body: Bytes) -> Response {
    let spec: FaultSpec = match parse_json(&body) {
        Ok(s) => s,
        Err(refusal) => return refusal.into_response(),
    };
    if let Err(message) = check(&spec, &state.products) {
        return error(StatusCode::BAD_REQUEST, "InvalidFault", message);
    }
    match state.faults.add(spec) {
        Ok(rule) => {
            tracing::info!(id = rule.id, product = %rule.spec.product, operation = %rule.spec.operation, "fault rule added");
            (StatusCode::CREATED, Json(rule)).into_response()
        }
        Err(message) => error(StatusCode::BAD_REQUEST, "InvalidFault", message),
    }
}

pub async fn clear(State(state): State<Arc<AdminState>>) -> Response {
    let cleared = state.faults.clear();
    Json(json!({ "cleared": cleared })).into_response()
}

pub async fn remove(State(state): State<Arc<AdminState>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidFaultId",
            format!("fault ids are numbers, not {id:?}"),
        );
    };
    if state.faults.remove(id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(
            StatusCode::NOT_FOUND,
            "FaultNotFound",
            format!("no fault rule {id} (it may have run out of its count)"),
        )
    }
}
