//! The products: each maps its API's typed requests onto the core domain and back
//! into that product's exact response shapes, status strings and error codes.

pub mod alibaba_rules;
pub mod billing;
pub mod bss;
pub mod havenask;
pub mod iam;
pub mod location;
pub mod openanalytics;
pub mod params;
pub mod parsed;
pub mod rocketmq;
pub mod starrocks;
pub mod sts;
pub mod taurusdb;

use std::sync::Arc;

use cloudtwin_aliyun::AliyunApi;
use cloudtwin_core::{
    Clock, Document, IdSource, Instance, JobOutcome, KnownOperations, MasterKey, Product,
    TransitionKind,
};
use cloudtwin_engine::Engine;
use cloudtwin_store::{Mutation, Store, StoreError};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What every product service works with.
#[derive(Clone)]
pub struct Context {
    pub store: Arc<dyn Store>,
    pub engine: Arc<Engine>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    pub master_key: Arc<MasterKey>,
    pub billing: Arc<billing::Billing>,
}

/// A change that puts an instance through a transitional status; its job brings the
/// instance to `outcome` when it succeeds.
pub struct Transition {
    /// The operation's name, as the product's history shows it.
    pub operation: &'static str,
    pub kind: TransitionKind,
    /// What the instance shows while the job runs.
    pub status: String,
    pub doc_during: Document,
    pub outcome: JobOutcome,
}

/// How a product words the failures [`Context::mutate`] can meet.
pub struct Errors<E> {
    pub not_found: fn(&str) -> E,
    pub store: fn(StoreError) -> E,
}

/// The operation names each product's jobs carry, which state-control rules name. The
/// engine checks (in debug builds, so every test run) that no job carries another.
pub const JOB_OPERATIONS: &KnownOperations = &[
    (
        Product::StarRocks,
        &[
            "CreateInstance",
            "ModifyCu",
            "ModifyNodeNumber",
            "ModifyDiskSize",
            "RestartInstance",
            "ReleaseInstance",
            "Unsubscribe",
        ],
    ),
    (
        Product::Havenask,
        &["CreateInstance", "UpdateInstance", "Unsubscribe"],
    ),
    (
        Product::Openanalytics,
        &["CreateInstance", "ReleaseInstance"],
    ),
    (
        Product::TaurusDb,
        &[
            "CreateGaussDBforMySQLInstance",
            "DeleteGaussDBforMySQLInstance",
        ],
    ),
    (
        Product::HtapStarRocks,
        &[
            "CreateStarRocksInstance",
            "DeleteStarRocksInstance",
            "ResizeStarRocksFlavor",
            "RestartStarRocksInstance",
            "Unsubscribe",
        ],
    ),
    (
        Product::RocketMq,
        &[
            "CreateInstance",
            "ResizeInstance",
            "DeleteInstance",
            "Unsubscribe",
        ],
    ),
];

/// How often a write is retried when another one got there first.
pub const WRITE_RETRIES: usize = 8;

impl Context {
    /// A live (not released) instance of the account and product.
    pub async fn live_instance(
        &self,
        account_id: &str,
        product: Product,
        id: &str,
    ) -> Result<Option<Instance>, StoreError> {
        Ok(self
            .store
            .instance(account_id, id)
            .await?
            .filter(|i| !i.deleted && i.product == product))
    }

    /// Reads, changes and writes an instance, again if someone else wrote meanwhile.
    /// `change` may answer a transition, whose job is committed with the change.
    pub async fn mutate<T, E>(
        &self,
        account_id: &str,
        product: Product,
        id: &str,
        errors: &Errors<E>,
        mut change: impl FnMut(&mut Instance) -> Result<(T, Option<Transition>), E>,
    ) -> Result<T, E> {
        self.mutate_with(account_id, product, id, errors, |instance| {
            change(instance).map(|(answer, transition)| (answer, transition, Vec::new()))
        })
        .await
    }

    /// [`Context::mutate`] whose change may also write other rows in the same commit
    /// (the order that pays for it).
    pub async fn mutate_with<T, E>(
        &self,
        account_id: &str,
        product: Product,
        id: &str,
        errors: &Errors<E>,
        mut change: impl FnMut(&mut Instance) -> Result<(T, Option<Transition>, Vec<Mutation>), E>,
    ) -> Result<T, E> {
        for _ in 0..WRITE_RETRIES {
            let mut instance = self
                .live_instance(account_id, product, id)
                .await
                .map_err(errors.store)?
                .ok_or_else(|| (errors.not_found)(id))?;
            let (answer, transition, extra) = change(&mut instance)?;
            instance.updated_ms = self.clock.now_ms();
            let job = transition.map(|t| {
                instance.status = t.status;
                instance.doc = t.doc_during;
                let job_id = format!("op-{}", self.ids.sortable_hex(16));
                self.engine
                    .job(job_id, &instance, t.operation, t.kind, t.outcome)
            });
            // A release stops accrual when it is asked for; a charge-type switch moves it.
            self.billing
                .stamp_usage(None, &mut instance, self.clock.now_ms());
            let mut batch = vec![Mutation::UpdateInstance(instance)];
            batch.extend(job.map(Mutation::PutJob));
            batch.extend(extra);
            if self
                .engine
                .commit_unless_changed(batch)
                .await
                .map_err(errors.store)?
            {
                return Ok(answer);
            }
        }
        Err((errors.store)(StoreError::Conflict(format!(
            "instance {id} kept changing under concurrent requests"
        ))))
    }

    /// Encrypts a secret (an admin password) for storage.
    pub fn seal(&self, secret: &str) -> String {
        let mut nonce = [0u8; 12];
        self.ids.fill(&mut nonce);
        cloudtwin_core::lower_hex(&self.master_key.seal(secret.as_bytes(), nonce))
    }
}

/// A store failure as Alibaba answers it: 503 while the store is unreachable (the SDKs
/// and Terraform retry that), an internal error otherwise.
pub fn ali_store_error(e: StoreError) -> cloudtwin_aliyun::AliError {
    match e {
        StoreError::Unavailable(m) => cloudtwin_aliyun::AliError::unavailable(m),
        other => cloudtwin_aliyun::AliError::internal(other),
    }
}

/// A store failure as Huawei answers it: 503 while the store is unreachable (the SDKs
/// and Terraform retry that), an internal error otherwise.
pub fn hw_store_error(e: StoreError) -> cloudtwin_huawei::HwError {
    match e {
        StoreError::Unavailable(m) => cloudtwin_huawei::HwError::unavailable(m),
        other => cloudtwin_huawei::HwError::internal(other),
    }
}

/// How long a client token is remembered.
pub const CLIENT_TOKEN_TTL_MS: i64 = 24 * 3600 * 1000;

/// A stable fingerprint of a request's parameters as the product decoded them, its client
/// token left out by the type: the SHA-256 of their compact binary encoding (postcard),
/// with [`TYPED_HASH_PREFIX`] in front. Printing them as JSON instead cost a StarRocks
/// create ~1.5 µs (bench finding 84); a type postcard cannot encode (a map of unknown
/// length) is printed as JSON, as releases of 2026-11-23 did.
pub fn typed_request_hash<T: serde::Serialize>(params: &T) -> String {
    // Sized once for a create's parameters, which an empty vector reaches in seven steps.
    match postcard::to_extend(params, Vec::with_capacity(512)) {
        Ok(encoded) => [
            TYPED_HASH_PREFIX,
            &cloudtwin_core::lower_hex(&Sha256::digest(&encoded)),
        ]
        .concat(),
        Err(_) => typed_json_request_hash(params),
    }
}

pub const TYPED_HASH_PREFIX: &str = "p:";
/// Fingerprints of the typed parameters printed as JSON (2026-11-23 to 2026-11-24).
const TYPED_JSON_HASH_PREFIX: &str = "t:";

fn typed_json_request_hash<T: serde::Serialize>(params: &T) -> String {
    format!("{TYPED_JSON_HASH_PREFIX}{}", json_sha256(params))
}

/// Whether a client-token record's fingerprint `recorded` is that of this request, in
/// whichever form the release that wrote it used: `params` as the product decoded them,
/// or, for records from before typed fingerprints, the request `body` without the keys in
/// `left_out` (read only then).
pub fn fingerprint_matches<T: serde::Serialize, E>(
    recorded: &str,
    params: &T,
    left_out: &[&str],
    body: impl FnOnce() -> Result<Value, E>,
) -> Result<bool, E> {
    Ok(if recorded.starts_with(TYPED_HASH_PREFIX) {
        recorded == typed_request_hash(params)
    } else if recorded.starts_with(TYPED_JSON_HASH_PREFIX) {
        recorded == typed_json_request_hash(params)
    } else {
        recorded == request_hash(&body()?, left_out)
    })
}

/// The fingerprint of request parameters without the top-level keys in `left_out` (the
/// client token): JSON objects serialize with sorted keys. Client-token records written
/// before [`typed_request_hash`] hold it.
pub fn request_hash(params: &Value, left_out: &[&str]) -> String {
    struct Without<'a>(&'a serde_json::Map<String, Value>, &'a [&'a str]);
    impl serde::Serialize for Without<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().filter(|(k, _)| !self.1.contains(&k.as_str())))
        }
    }
    match params {
        Value::Object(map) => json_sha256(&Without(map, left_out)),
        other => json_sha256(other),
    }
}

fn json_sha256<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // Printed whole, then hashed: serde_json writes in pieces of a byte or two, and a
    // hasher's update per piece cost more than printing the whole request.
    let printed = serde_json::to_vec(value).expect("printing JSON cannot fail");
    hex::encode(Sha256::digest(&printed))
}

/// Every API served over the Alibaba dialect.
pub fn aliyun_apis(ctx: &Context) -> Vec<Arc<dyn AliyunApi>> {
    vec![
        Arc::new(starrocks::StarRocks::new(
            ctx.clone(),
            starrocks::Catalog::embedded(),
        )),
        Arc::new(openanalytics::Openanalytics::new(
            ctx.clone(),
            openanalytics::Catalog::embedded(),
        )),
        Arc::new(location::Location::new()),
        Arc::new(sts::Sts::new()),
        Arc::new(havenask::Havenask::new(
            ctx.clone(),
            havenask::Catalog::embedded(),
        )),
    ]
}

/// Every API served over the Huawei dialect.
pub fn huawei_apis(ctx: &Context) -> Vec<Arc<dyn cloudtwin_huawei::HuaweiApi>> {
    vec![
        Arc::new(iam::Iam::new(ctx.clone())),
        Arc::new(bss::Bss::new(ctx.clone())),
        Arc::new(rocketmq::RocketMq::new(
            ctx.clone(),
            rocketmq::Catalog::embedded(),
        )),
        Arc::new(taurusdb::TaurusDb::new(
            ctx.clone(),
            taurusdb::Catalog::embedded(),
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_hash_is_the_hash_of_the_parameters_printed_without_the_left_out_keys() {
        let with_token = json!({"B": [1, {"z": null, "a": "x"}], "ClientToken": "t", "A": 2.5});
        let printed = json!({"A": 2.5, "B": [1, {"a": "x", "z": null}]}).to_string();
        let expected = hex::encode(Sha256::digest(printed.as_bytes()));
        assert_eq!(request_hash(&with_token, &["ClientToken"]), expected);
        assert_ne!(request_hash(&with_token, &[]), expected);
        assert_eq!(
            request_hash(&json!("plain"), &["ClientToken"]),
            hex::encode(Sha256::digest(b"\"plain\""))
        );
    }

    #[derive(serde::Serialize)]
    struct Params {
        a: i64,
        #[serde(skip_serializing)]
        #[allow(dead_code)] // only to be left out
        token: &'static str,
    }

    #[test]
    fn typed_request_hash_is_the_prefixed_hash_of_the_encoded_typed_parameters() {
        let one = typed_request_hash(&Params { a: 1, token: "x" });
        // postcard: an i64 is a zigzag varint, 1 -> 2.
        let expected = hex::encode(Sha256::digest([2u8]));
        assert_eq!(one, format!("{TYPED_HASH_PREFIX}{expected}"));
        assert_eq!(one, typed_request_hash(&Params { a: 1, token: "y" }));
        assert_ne!(one, typed_request_hash(&Params { a: 2, token: "x" }));
    }

    #[test]
    fn a_type_postcard_cannot_encode_is_fingerprinted_as_json() {
        let map = std::collections::BTreeMap::from([("a", 1)]);
        struct Unsized<'a>(&'a std::collections::BTreeMap<&'static str, i32>);
        impl serde::Serialize for Unsized<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                // An iterator of unknown length: postcard needs lengths up front.
                s.collect_map(self.0.iter().filter(|_| true))
            }
        }
        let expected = hex::encode(Sha256::digest(br#"{"a":1}"#));
        assert_eq!(
            typed_request_hash(&Unsized(&map)),
            format!("{TYPED_JSON_HASH_PREFIX}{expected}")
        );
    }

    #[test]
    fn a_fingerprint_matches_in_the_form_its_record_was_written() {
        let params = Params { a: 1, token: "x" };
        let other = Params { a: 2, token: "x" };
        let body = || Ok::<_, ()>(json!({"a": 1, "ClientToken": "x"}));
        let never = || -> Result<Value, ()> { panic!("the body is read only for old records") };
        let typed = typed_request_hash(&params);
        assert_eq!(fingerprint_matches(&typed, &params, &[], never), Ok(true));
        assert_eq!(fingerprint_matches(&typed, &other, &[], never), Ok(false));
        let printed = format!(
            "{TYPED_JSON_HASH_PREFIX}{}",
            hex::encode(Sha256::digest(br#"{"a":1}"#))
        );
        assert_eq!(fingerprint_matches(&printed, &params, &[], never), Ok(true));
        assert_eq!(fingerprint_matches(&printed, &other, &[], never), Ok(false));
        let legacy = request_hash(&json!({"a": 1}), &[]);
        assert_eq!(
            fingerprint_matches(&legacy, &other, &["ClientToken"], body),
            Ok(true)
        );
        assert_eq!(fingerprint_matches(&legacy, &params, &[], body), Ok(false));
    }
}
