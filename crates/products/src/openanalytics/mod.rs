//! Alibaba Openanalytics (Data Lake Analytics) Spark/Presto virtual clusters
//! (`openanalytics-open` 2018-06-19, RPC: `POST /`, form parameters, PascalCase answers).
//!
//! # How an instance is found and used (a decision: the SDK has no describe call)
//!
//! The SDK's only instance calls are `CreateInstance` and `ReleaseInstance`; everything else
//! (`SubmitSparkJob`, `GetJobStatus`, `ListSparkJob`, ...) names a virtual cluster by its
//! name, `VcName`. The product docs call the component's `instance_name` that name, and the
//! `ReleaseInstance` page shows instance ids of the form `dla-3qntmdtbqklsbsmceu****`. So:
//!
//! - `CreateInstance` answers `{"RequestId","Success":true,"Result":"<instance id>"}`: `Result`
//!   (a string in the SDK) carries the new id, `dla-` and 22 hex characters, because no other
//!   call could tell it. The instance's virtual-cluster name is the component's
//!   `instance_name`, unique among the account's live instances (`VcName` has no region).
//! - The instance goes `creating` → `running` through the lifecycle engine and, on release,
//!   `deleting` → gone.
//! - `ValidateVirtualClusterName(VcName)` is how a client observes it: `Data.Legal` is `"true"`
//!   only for a name that follows the rule and is free; a name in use answers `"false"` with
//!   a `Message` naming the instance id, type, region and status (`Message` is `"null"` when
//!   legal, as on the page's sample).
//! - `ReleaseInstance(InstanceId, RegionId)` takes the id, or the virtual-cluster name while
//!   the instance is live (the SDK probe releases by name). Releasing a released or releasing
//!   instance succeeds again; an id the account never had answers
//!   `Openanalytics.NotFound.Exception` (404), as does an instance of another region or account.
//! - The Spark job calls and the other SDK operations answer 501 until they are built.
//!
//! Errors use the page's codes (`Openanalytics.NotFound.Exception` 404,
//! `Openanalytics.Internal.Exception` with HTTP 500, never the page's 600, which the SDKs read
//! as success) and one `Openanalytics.<Rule>.Exception` code per validation rule
//! ([`create::Code`]). `Openanalytics.Unauthorized.Exception` is never needed: another
//! account's instance reads as not found.

mod catalog;
mod create;
mod operations;

use async_trait::async_trait;
use cloudtwin_aliyun::{AliError, AliyunApi, Body, Call, Operation};
use cloudtwin_core::{Caller, FailedOutcome, Instance, JobOutcome, Product, TransitionKind};
use cloudtwin_store::{InstanceQuery, Mutation, NameClaim, StoreError};
use serde_json::{json, Value};

pub use catalog::Catalog;
use create::Code;

use crate::params::{required, text};
use crate::{Context, Errors, Transition};

pub const VERSION: &str = "2018-06-19";

fn not_found(id: &str) -> AliError {
    Code::NotFound.error(format!("The specified instance does not exist: {id}"))
}

fn store_error(e: StoreError) -> AliError {
    match e {
        StoreError::NameTaken { name, holder_id } => Code::InstanceNameExists.error(format!(
            "The virtual cluster name {name:?} is already used by instance {holder_id}."
        )),
        // The page's own code for internal errors, with HTTP 500 (never 600).
        StoreError::Unavailable(_) => crate::ali_store_error(e),
        other => Code::Internal.error(format!("An internal error occurred: {other}")),
    }
}

/// What the instance document keeps beside the core fields.
fn doc(valid: &create::Valid) -> Value {
    json!({
        "instanceType": valid.instance_type,
        "chargeType": valid.charge_type,
        "engine": valid.engine,
        "minCu": valid.min_cu,
        "maxCu": valid.max_cu,
        "operable": valid.operable,
        "appName": valid.app_name,
        "appVersionName": valid.app_version_name,
    })
}

/// The answer of `CreateInstance` and `ReleaseInstance`.
fn result(request_id: &str, result: &str) -> Value {
    json!({"RequestId": request_id, "Success": true, "Result": result})
}

pub struct Openanalytics {
    ctx: Context,
    catalog: Catalog,
}

impl Openanalytics {
    pub fn new(ctx: Context, catalog: Catalog) -> Self {
        Self { ctx, catalog }
    }

    /// The caller's live instance using a virtual-cluster name, if any.
    async fn by_name(&self, caller: &Caller, name: &str) -> Result<Option<Instance>, AliError> {
        let query = InstanceQuery {
            account_id: caller.account_id.clone(),
            product: Some(Product::Openanalytics),
            region: None,
            status: None,
            name_equals: Some(name.to_owned()),
            ..Default::default()
        };
        Ok(self
            .ctx
            .store
            .instances(&query)
            .await
            .map_err(store_error)?
            .into_iter()
            .find(|i| !i.deleted && i.name == name))
    }

    async fn create(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let valid = create::validate(&call.input, &self.catalog)?;
        let caller = call.caller;
        // Unique across the account's regions, as the release by name assumes.
        let name_free = Mutation::RequireNameFree(NameClaim {
            account_id: caller.account_id.clone(),
            product: Product::Openanalytics,
            region: None,
            name: valid.name.clone(),
            except_id: None,
        });
        let now = self.ctx.clock.now_ms();
        let id = format!("dla-{}", self.ctx.ids.sortable_hex(22));
        let instance = Instance {
            id: id.clone(),
            account_id: caller.account_id.clone(),
            product: Product::Openanalytics,
            region: valid.region_id.clone(),
            name: valid.name.clone(),
            status: "creating".into(),
            resource_group_id: String::new(),
            tags: Vec::new(),
            doc: doc(&valid).into(),
            created_ms: now,
            updated_ms: now,
            deleted: false,
            version: 1,
        };
        let job = self.ctx.engine.job(
            format!("op-{}", self.ctx.ids.sortable_hex(16)),
            &instance,
            "CreateInstance",
            TransitionKind::Create,
            // The SDK shows no statuses; the failed ones follow EMR StarRocks' words.
            JobOutcome::new("running", None, FailedOutcome::new("creating_failed", None)),
        );
        self.ctx
            .engine
            .commit(vec![
                name_free,
                Mutation::InsertInstance(instance),
                Mutation::PutJob(job),
            ])
            .await
            .map_err(store_error)?;
        Ok(result(call.request_id, &id))
    }

    async fn release(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let input = &call.input;
        let wanted = required(input, "InstanceId")?;
        let region = required(input, "RegionId")?;
        let region_id = self.catalog.region_id(region).ok_or_else(|| {
            Code::InvalidRegionId.error(format!(
                "RegionId {region:?} is not a region id or region name; valid region ids: [{}].",
                self.catalog.region_ids()
            ))
        })?;
        let caller = call.caller;
        let found = match self
            .ctx
            .store
            .instance(&caller.account_id, wanted)
            .await
            .map_err(store_error)?
            .filter(|i| i.product == Product::Openanalytics)
        {
            Some(instance) => Some(instance),
            None => self.by_name(caller, wanted).await?,
        };
        let instance = found
            .filter(|i| i.region == region_id)
            .ok_or_else(|| not_found(wanted))?;
        if instance.deleted {
            return Ok(result(call.request_id, "success"));
        }
        let errors = Errors {
            not_found,
            store: store_error,
        };
        let outcome = self
            .ctx
            .mutate(
                &caller.account_id,
                Product::Openanalytics,
                &instance.id,
                &errors,
                |current| {
                    if current.status == "deleting" {
                        return Ok(((), None));
                    }
                    // A release while the create job is pending is allowed: the delete job marks
                    // the instance released, which the create job's outcome never undoes.
                    Ok((
                        (),
                        Some(Transition {
                            operation: "ReleaseInstance",
                            kind: TransitionKind::Delete,
                            status: "deleting".into(),
                            doc_during: current.doc.clone(),
                            outcome: JobOutcome::new(
                                "released",
                                None,
                                FailedOutcome::new("deleting_failed", Some(current.doc.clone())),
                            )
                            .releasing(),
                        }),
                    ))
                },
            )
            .await;
        match outcome {
            Ok(()) => Ok(result(call.request_id, "success")),
            // Released by a concurrent request between the read and the write.
            Err(e) if e.code == Code::NotFound.as_str() => Ok(result(call.request_id, "success")),
            Err(e) => Err(e),
        }
    }

    async fn validate_name(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let name = text(&call.input, "VcName").unwrap_or("");
        let message = match create::validate_name(name, &self.catalog) {
            Err(why) => Some(why),
            Ok(()) => self.by_name(call.caller, name).await?.map(|i| {
                let instance_type = i.doc.field::<String>("instanceType").unwrap_or_default();
                format!(
                    "The virtual cluster name {name:?} is already used by instance {} ({instance_type}, {}, {}).",
                    i.id, i.region, i.status
                )
            }),
        };
        Ok(json!({
            "RequestId": call.request_id,
            "Data": {
                "Legal": if message.is_none() { "true" } else { "false" },
                "Message": message.unwrap_or_else(|| "null".into()),
            },
        }))
    }
}

#[async_trait]
impl AliyunApi for Openanalytics {
    fn product(&self) -> &'static str {
        "openanalytics"
    }

    fn version(&self) -> &'static str {
        VERSION
    }

    fn operations(&self) -> &'static [Operation] {
        operations::OPERATIONS
    }

    async fn call(&self, call: Call<'_>) -> Result<Body, AliError> {
        match call.operation.action {
            "CreateInstance" => self.create(&call).await,
            "ReleaseInstance" => self.release(&call).await,
            "ValidateVirtualClusterName" => self.validate_name(&call).await,
            other => Err(AliError::not_implemented(other)),
        }
        .map(Body::from)
    }
}
