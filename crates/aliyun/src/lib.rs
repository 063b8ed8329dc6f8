//! The Alibaba Cloud dialect: everything on the wire for Alibaba's APIs. Signatures
//! (ACS3-HMAC-SHA256 and the legacy HMAC-SHA1 ROA/RPC forms), routing on
//! `x-acs-version` and `x-acs-action`, replay protection, request ids and the error
//! envelope. Products implement [`AliyunApi`] and never see a raw request.

mod api;
mod error;
mod gateway;
mod replay;
pub mod signature;
mod xml;

pub use api::{AliyunApi, Body, Call, Input, Operation};
pub use error::AliError;
pub use gateway::{Gateway, RawRequest, RawResponse};
pub use replay::NonceCache;
