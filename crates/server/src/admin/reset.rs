//! `POST /reset`: forget all state, or one product's.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cloudtwin_core::Product;
use cloudtwin_store::ResetScope;
use serde::Deserialize;
use serde_json::json;

use super::{error, parse_json, store_error, AdminState};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    #[serde(default)]
    all: bool,
    #[serde(default)]
    product: Option<String>,
}

/// The product names an admin request may give, for messages.
pub(super) fn product_names() -> String {
    [
        Product::StarRocks,
        Product::Havenask,
        Product::Openanalytics,
        Product::TaurusDb,
        Product::HtapStarRocks,
        Product::RocketMq,
    ]
    .iter()
    .map(|p| p.as_str())
    .collect::<Vec<_>>()
    .join(", ")
}

pub async fn reset(State(state): State<Arc<AdminState>>, body: Bytes) -> Response {
    let request: ResetRequest = match parse_json(&body) {
        Ok(r) => r,
        Err(refusal) => return refusal.into_response(),
    };
    let scope = match (request.all, request.product.as_deref()) {
        (true, None) => ResetScope::All,
        (false, Some(name)) => match Product::parse(name) {
            Some(p) => ResetScope::Product(p),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "InvalidProduct",
                    format!("unknown product {name:?}; one of {}", product_names()),
                )
            }
        },
        (true, Some(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidBody",
                "give either {\"all\": true} or {\"product\": \"<name>\"}, not both",
            )
        }
        (false, None) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidBody",
                "say what to reset: {\"all\": true} or {\"product\": \"<name>\"}",
            )
        }
    };
    if let Err(e) = state.store.reset(scope).await {
        return store_error(e);
    }
    if scope == ResetScope::All {
        state.keyring.forget_resolved_keys();
    }
    let reset = match scope {
        ResetScope::All => json!({"reset": "all"}),
        ResetScope::Product(p) => json!({"reset": p.as_str()}),
    };
    tracing::info!(scope = ?scope, "state reset over the admin API");
    (StatusCode::OK, Json(reset)).into_response()
}
