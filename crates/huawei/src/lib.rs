//! The Huawei Cloud dialect: everything on the wire for Huawei's REST APIs. SDK-HMAC-SHA256
//! signatures and IAM tokens, projects and regions, routing on path templates, request ids
//! (`X-Request-Id`) and the `{"error_code","error_msg"}` envelope. Products implement
//! [`HuaweiApi`] and never see a raw request.

mod api;
mod error;
mod gateway;
pub mod password;
pub mod projects;
pub mod signature;
pub mod tokens;

pub use api::{AuthMethod, Call, HuaweiApi, Project, Reply, Route};
pub use error::HwError;
pub use gateway::{Gateway, RawRequest, RawResponse, DATE_WINDOW_MS};
pub use projects::{project_id_for, user_id_for, Region, Regions};
pub use tokens::{TokenClaims, TokenError, TokenKey, TOKEN_TTL_MS};
