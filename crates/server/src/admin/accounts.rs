//! `GET /accounts` lists accounts and key ids; `POST /accounts` creates one and shows its
//! key pair once.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::{error, parse_json, store_error, AdminState};
use crate::keys::KeyError;

pub async fn list(State(state): State<Arc<AdminState>>) -> Response {
    let accounts = match state.store.accounts().await {
        Ok(a) => a,
        Err(e) => return store_error(e),
    };
    let mut out = Vec::with_capacity(accounts.len());
    for account in accounts {
        let keys = match state.store.access_keys(&account.id).await {
            Ok(k) => k,
            Err(e) => return store_error(e),
        };
        out.push(json!({
            "account": account.name,
            "account_id": account.id,
            "domain_id": account.domain_id,
            "created_ms": account.created_ms,
            "access_key_ids": keys.into_iter().map(|k| k.id).collect::<Vec<_>>(),
        }));
    }
    Json(json!({ "accounts": out })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateAccount {
    name: String,
}

pub async fn create(State(state): State<Arc<AdminState>>, body: Bytes) -> Response {
    let request: CreateAccount = match parse_json(&body) {
        Ok(r) => r,
        Err(refusal) => return refusal.into_response(),
    };
    match state.keyring.create_account(&request.name, None).await {
        Ok(issued) => {
            tracing::info!(account = %issued.account, account_id = %issued.account_id, "account created over the admin API");
            (StatusCode::CREATED, Json(issued)).into_response()
        }
        Err(e @ KeyError::BadName(_)) => error(StatusCode::BAD_REQUEST, "InvalidName", e),
        Err(e @ KeyError::AccountExists(_)) => error(StatusCode::CONFLICT, "AccountExists", e),
        Err(KeyError::Store(e)) => store_error(e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", e),
    }
}
