//! Alibaba OpenSearch Havenask (`searchengine` 2021-10-25, ROA with camelCase JSON bodies
//! and the `{requestId, result[, totalCount]}` envelope).
//!
//! Status strings are the SDK's own (`GetInstanceResponseBodyResult.status`): a create is
//! `INIT` until its engine job lands it on `READY`; an UpdateInstance that changes components
//! shows `CONFIG_UPDATING` until its job brings it back to `READY`. `WAIT_CONFIG` is what the
//! cloud shows a Retrieval Engine instance whose clusters and tables are not configured yet;
//! cloudtwin serves none of the table/cluster operations, so an instance never waits on that
//! and goes `INIT` → `READY` straight (shared/DESIGN.md, "Status, errors and time"). A create
//! whose job fails shows `CREATE_FAILED` (cloudtwin's own: the SDK lists no failed status); an
//! update whose job fails goes back to `READY` with its old components.
//!
//! The region is not in any request: it comes from the Host header
//! `searchengine.<region>.aliyuncs.com`, else from `CLOUDTWIN_DEFAULT_REGION` (default
//! `cn-hangzhou`). Instances live in their region: another region's endpoint does not see them.

mod catalog;
mod create;
mod model;
pub use model::iso_time;

/// The billed items of a stored Havenask document (for the ledger's generic calls).
pub(crate) fn billed_items(doc: &Document) -> Result<Vec<(String, i64)>, String> {
    doc.parse::<model::Doc>()
        .map(|d| d.billed_items())
        .map_err(|e| e.to_string())
}
mod operations;

use async_trait::async_trait;
use cloudtwin_aliyun::{AliError, AliyunApi, Body, Call, Operation};
use cloudtwin_core::{
    Caller, Document, FailedOutcome, Instance, JobOutcome, Product, Tag, TransitionKind,
};
use cloudtwin_store::{InstanceQuery, Mutation, StoreError};
use serde_json::{json, Value};

pub use catalog::Catalog;
use create::{CreateRequest, TagSpec, UpdateRequest};
use model::{instance_view, list_view, update_view, Doc};

use crate::billing;
use crate::params::{self, text, Page};
use crate::{Context, Errors, Transition};
use cloudtwin_core::billing::{OrderKind, Subscription};

pub const VERSION: &str = "2021-10-25";
/// Where the default region comes from when the Host header names none.
pub const DEFAULT_REGION_ENV: &str = "CLOUDTWIN_DEFAULT_REGION";
pub const DEFAULT_REGION: &str = "cn-hangzhou";

/// Statuses (the SDK's enum) this service writes.
const INIT: &str = "INIT";
const CONFIG_UPDATING: &str = "CONFIG_UPDATING";
const READY: &str = "READY";
/// A failed create. The SDK's status list (INIT, WAIT_CONFIG, CONFIG_UPDATING, READY) has
/// no failed value, so this one is cloudtwin's own, in the SDK's style.
const CREATE_FAILED: &str = "CREATE_FAILED";

/// The product's "bad value" error: the code the SDK contract observed (sdk-contract §7.4)
/// and OpenSearch's common client error.
pub(crate) fn invalid(detail: String) -> AliError {
    AliError::new(
        400,
        "InvalidParameter",
        format!("The specified parameter is invalid: {detail}"),
    )
}

/// The documented not-found answer ("Response structure" page of the Retrieval Engine
/// Edition: `{"code": "instance.NotFound", "message": "Instance not found"}`), with 404.
fn not_found(id: &str) -> AliError {
    AliError::new(
        404,
        "instance.NotFound",
        format!("Instance not found: {id}"),
    )
}

fn wrong_status(id: &str, status: &str) -> AliError {
    AliError::new(
        400,
        "IncorrectInstanceStatus",
        format!("Instance {id} is {status}; its components can change only when it is READY."),
    )
}

fn unknown_region(region: &str) -> AliError {
    AliError::new(
        400,
        "InvalidRegionId",
        format!("The specified region {region:?} does not exist or does not sell Havenask."),
    )
}

fn store_error(e: StoreError) -> AliError {
    crate::ali_store_error(e)
}

/// The success envelope every Havenask operation answers with.
fn envelope(request_id: &str, result: Value, total: Option<usize>) -> Value {
    let mut body = json!({"requestId": request_id, "result": result});
    if let Some(total) = total {
        body["totalCount"] = json!(total);
    }
    body
}

/// The region a Host header names: `searchengine.<region>.aliyuncs.com`, with or without a
/// scheme or port (the SDK sends `Config.endpoint` verbatim). `None` for any other host.
pub fn region_of_host(host: &str) -> Option<&str> {
    let host = host
        .trim()
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    let host = host.split(['/', ':']).next().unwrap_or_default();
    let region = host
        .strip_prefix("searchengine.")?
        .strip_suffix(".aliyuncs.com")?;
    (!region.is_empty() && !region.contains('.')).then_some(region)
}

/// `CreateInstance`'s body (and `UpdateInstance`'s) as JSON: an absent body reads as `{}`.
fn body_of<T: serde::de::DeserializeOwned>(body: &Value) -> Result<T, AliError> {
    let body = match body {
        Value::Null => json!({}),
        other => other.clone(),
    };
    serde_path_to_error::deserialize(body)
        .map_err(|e| invalid(format!("{} has the wrong type: {}", e.path(), e.inner())))
}

pub struct Havenask {
    ctx: Context,
    catalog: Catalog,
    default_region: String,
}

impl Havenask {
    /// The service, with its default region from `CLOUDTWIN_DEFAULT_REGION`.
    pub fn new(ctx: Context, catalog: Catalog) -> Self {
        let region = std::env::var(DEFAULT_REGION_ENV)
            .ok()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        Self::with_default_region(ctx, catalog, region)
    }

    pub fn with_default_region(ctx: Context, catalog: Catalog, region: String) -> Self {
        Self {
            ctx,
            catalog,
            default_region: region.trim().to_owned(),
        }
    }

    /// The call's region: the Host header's, else the default; it must be in the catalog.
    fn region(&self, call: &Call<'_>) -> Result<String, AliError> {
        let region = region_of_host(call.host).unwrap_or(&self.default_region);
        self.catalog
            .region(region)
            .map(|r| r.region_id.clone())
            .ok_or_else(|| unknown_region(region))
    }

    fn instance_id<'a>(call: &'a Call<'_>) -> Result<&'a str, AliError> {
        call.path_param("instanceId")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| AliError::missing("instanceId"))
    }

    /// A live instance of the caller's in the call's region, with its document.
    async fn load(&self, call: &Call<'_>, id: &str) -> Result<(Instance, Doc), AliError> {
        let region = self.region(call)?;
        let instance = self
            .ctx
            .live_instance(&call.caller.account_id, Product::Havenask, id)
            .await
            .map_err(store_error)?
            .filter(|i| i.region == region)
            .ok_or_else(|| not_found(id))?;
        let doc = Doc::from_instance(&instance).map_err(AliError::internal)?;
        Ok((instance, doc))
    }

    async fn create(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let req: CreateRequest = body_of(&call.input.body)?;
        let valid = req.validate(&self.catalog)?;
        let region = self.region(call)?;
        let caller: &Caller = call.caller;
        let now = self.ctx.clock.now_ms();
        let period =
            billing::period(Some(&valid.pricing_cycle), Some(valid.duration)).ok_or_else(|| {
                invalid(format!(
                    "order.pricingCycle {:?} is not a period",
                    valid.pricing_cycle
                ))
            })?;
        let subscription =
            Subscription::start(period, now, valid.auto_renew, self.ctx.billing.scale);
        let mut doc = Doc::new(
            &self.catalog,
            valid.charge_type,
            valid.components,
            (valid.pricing_cycle, valid.duration, valid.auto_renew),
            subscription.end_ms,
        );
        doc.subscription = Some(subscription);
        let monthly = self
            .ctx
            .monthly_cents(Product::Havenask, &doc.billed_items())
            .map_err(|e| invalid(e.to_string()))?;
        let instance_id = format!("ha-cn-{}", self.ctx.ids.hex(11));
        let instance = Instance {
            id: instance_id.clone(),
            account_id: caller.account_id.clone(),
            product: Product::Havenask,
            region,
            name: String::new(),
            status: INIT.into(),
            resource_group_id: valid.resource_group_id,
            tags: valid.tags,
            doc: doc.document(),
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
            JobOutcome::new(READY, None, FailedOutcome::new(CREATE_FAILED, None)),
        );
        // PREPAY only (the page): the order is paid at once, as the console's auto-pay does.
        let order = self.ctx.order(
            &instance,
            OrderKind::New,
            period.price_cents(monthly),
            Some(period),
            true,
        );
        self.ctx
            .engine
            .commit(vec![
                Mutation::InsertInstance(instance),
                Mutation::PutJob(job),
                Mutation::PutOrder(order),
            ])
            .await
            .map_err(store_error)?;
        Ok(json!({"instanceId": instance_id}))
    }

    async fn get(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let id = Self::instance_id(call)?;
        let (instance, doc) = self.load(call, id).await?;
        let doc = doc.at(self.ctx.clock.now_ms(), self.ctx.billing.scale);
        Ok(instance_view(&instance, &doc, &self.catalog))
    }

    async fn list(&self, call: &Call<'_>) -> Result<(Value, usize), AliError> {
        let input = &call.input;
        let page = Page::read(input, ("pageNumber", "pageSize"), 10, 50, invalid)?;
        let tags: Vec<TagSpec> = params::json_list(input, "tags", invalid)?.unwrap_or_default();
        let wanted: Vec<Tag> = tags
            .into_iter()
            .map(|t| Tag {
                key: t.key.unwrap_or_default(),
                value: t.value.unwrap_or_default(),
            })
            .collect();
        let edition = text(input, "edition");
        let description = text(input, "description");
        // cloudtwin instances carry no data sources, so a data-source filter matches none.
        let by_data_source = ["catalog", "dataSourceType", "database", "table"]
            .iter()
            .any(|k| text(input, k).is_some());
        let query = InstanceQuery {
            account_id: call.caller.account_id.clone(),
            product: Some(Product::Havenask),
            region: Some(self.region(call)?),
            status: None,
            id: text(input, "instanceId").map(str::to_owned),
            resource_group_id: text(input, "resourceGroupId").map(str::to_owned),
            ..Default::default()
        };
        let mut matching = Vec::new();
        for instance in self
            .ctx
            .store
            .instances(&query)
            .await
            .map_err(store_error)?
        {
            let doc = Doc::from_instance(&instance).map_err(AliError::internal)?;
            let keep = !by_data_source
                && instance.has_tags(&wanted)
                && edition.is_none_or(|e| e == doc.edition)
                && description.is_none_or(|d| instance.name.contains(d));
            if keep {
                let doc = doc.at(self.ctx.clock.now_ms(), self.ctx.billing.scale);
                matching.push((instance, doc));
            }
        }
        let total = matching.len();
        let result = page
            .slice(matching)
            .iter()
            .map(|(i, d)| list_view(i, d, &self.catalog))
            .collect();
        Ok((Value::Array(result), total))
    }

    async fn update(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let id = Self::instance_id(call)?;
        let req: UpdateRequest = body_of(&call.input.body)?;
        if let Some(d) = &req.description {
            create::validate_description(d)?;
        }
        if let Some(t) = req.order_type.as_deref().filter(|t| !t.is_empty()) {
            create::validate_order_type(&self.catalog, t)?;
        }
        // Region and existence first: an unknown id is not found whatever the body says.
        self.load(call, id).await?;
        let given = req.components.as_deref().unwrap_or_default();
        let catalog = &self.catalog;
        let errors = Errors {
            not_found,
            store: store_error,
        };
        self.ctx
            .mutate(
                &call.caller.account_id,
                Product::Havenask,
                id,
                &errors,
                |instance| {
                    let doc = Doc::from_instance(instance).map_err(AliError::internal)?;
                    let mut transition = None;
                    if !given.is_empty() {
                        let merged =
                            create::merge_components(catalog, given, Some(&doc.components))?;
                        if merged != doc.components {
                            if instance.status != READY {
                                return Err(wrong_status(id, &instance.status));
                            }
                            let mut after = doc.clone();
                            after.set_components(catalog, merged);
                            transition = Some(Transition {
                                operation: "UpdateInstance",
                                kind: TransitionKind::Change,
                                status: CONFIG_UPDATING.into(),
                                doc_during: doc.document(),
                                // No failed value for a change: it is undone.
                                outcome: JobOutcome::new(
                                    READY,
                                    Some(after.document()),
                                    FailedOutcome::new(READY, Some(doc.document())),
                                ),
                            });
                        }
                    }
                    if let Some(d) = &req.description {
                        instance.name = d.clone();
                    }
                    Ok(((), transition))
                },
            )
            .await?;
        let (instance, doc) = self.load(call, id).await?;
        let doc = doc.at(self.ctx.clock.now_ms(), self.ctx.billing.scale);
        Ok(update_view(&instance, &doc, &self.catalog))
    }

    /// Deleting is immediate (the SDK's status enum has no deleting state). Deleting an
    /// instance the caller already deleted answers the same success; an id the caller never
    /// had is not found.
    async fn delete(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let id = Self::instance_id(call)?;
        let region = self.region(call)?;
        let account = &call.caller.account_id;
        let stored = self
            .ctx
            .store
            .instance(account, id)
            .await
            .map_err(store_error)?
            .filter(|i| i.product == Product::Havenask && i.region == region)
            .ok_or_else(|| not_found(id))?;
        if stored.deleted {
            return Ok(json!({}));
        }
        let errors = Errors {
            not_found,
            store: store_error,
        };
        let deleted = self
            .ctx
            .mutate(account, Product::Havenask, id, &errors, |instance| {
                instance.deleted = true;
                Ok(((), None))
            })
            .await;
        match deleted {
            // Another request deleted it meanwhile: that is the same success.
            Ok(()) | Err(AliError { status: 404, .. }) => Ok(json!({})),
            Err(e) => Err(e),
        }
    }

    async fn list_specs(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let id = Self::instance_id(call)?;
        let spec_type = params::required(&call.input, "type")?;
        if !self.catalog.specs.contains_key(spec_type) {
            return Err(invalid(format!(
                "type should be one of [{}], got {spec_type:?}",
                self.catalog
                    .specs
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        self.load(call, id).await?;
        Ok(Value::Array(
            self.catalog
                .specs_of(spec_type)
                .iter()
                .map(|s| {
                    json!({
                        "cpu": s.cpu,
                        "mem": s.mem,
                        "minDisk": s.min_disk,
                        "maxDisk": s.max_disk,
                    })
                })
                .collect(),
        ))
    }

    /// Every region of the catalog; names in Chinese unless `acceptLanguage` asks for English.
    fn describe_regions(&self, call: &Call<'_>) -> Value {
        let english = text(&call.input, "acceptLanguage")
            .is_some_and(|l| l.to_ascii_lowercase().starts_with("en"));
        Value::Array(
            self.catalog
                .regions
                .iter()
                .map(|r| {
                    json!({
                        "regionId": r.region_id,
                        "localName": if english { &r.local_name_en } else { &r.local_name },
                        "endpoint": format!("searchengine.{}.aliyuncs.com", r.region_id),
                    })
                })
                .collect(),
        )
    }
}

#[async_trait]
impl AliyunApi for Havenask {
    fn product(&self) -> &'static str {
        "havenask"
    }

    fn version(&self) -> &'static str {
        VERSION
    }

    fn operations(&self) -> &'static [Operation] {
        operations::OPERATIONS
    }

    async fn call(&self, call: Call<'_>) -> Result<Body, AliError> {
        let (result, total) = match call.operation.action {
            "CreateInstance" => (self.create(&call).await?, None),
            "GetInstance" => (self.get(&call).await?, None),
            "ListInstances" => {
                let (result, total) = self.list(&call).await?;
                (result, Some(total))
            }
            "UpdateInstance" => (self.update(&call).await?, None),
            "DeleteInstance" => (self.delete(&call).await?, None),
            "ListInstanceSpecs" => (self.list_specs(&call).await?, None),
            "DescribeRegions" => (self.describe_regions(&call), None),
            other => return Err(AliError::not_implemented(other)),
        };
        Ok(envelope(call.request_id, result, total).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_come_from_the_host_header() {
        assert_eq!(
            region_of_host("searchengine.cn-shanghai.aliyuncs.com"),
            Some("cn-shanghai")
        );
        assert_eq!(
            region_of_host("http://searchengine.ap-southeast-1.aliyuncs.com:443"),
            Some("ap-southeast-1")
        );
        assert_eq!(region_of_host("127.0.0.1:9700"), None);
        assert_eq!(region_of_host("http://127.0.0.1:9700"), None);
        assert_eq!(region_of_host("starrocks.cn-shanghai.aliyuncs.com"), None);
        assert_eq!(region_of_host("searchengine..aliyuncs.com"), None);
        assert_eq!(region_of_host("searchengine.a.b.aliyuncs.com"), None);
        assert_eq!(region_of_host(""), None);
    }

    #[test]
    fn envelopes_are_camel_case() {
        assert_eq!(
            envelope("R", json!({"instanceId": "ha-cn-1"}), None),
            json!({"requestId": "R", "result": {"instanceId": "ha-cn-1"}})
        );
        assert_eq!(
            envelope("R", json!([]), Some(0)),
            json!({"requestId": "R", "result": [], "totalCount": 0})
        );
    }

    #[test]
    fn errors_have_the_documented_codes() {
        let e = not_found("ha-cn-x");
        assert_eq!((e.status, e.code.as_str()), (404, "instance.NotFound"));
        let e = invalid("x".into());
        assert_eq!((e.status, e.code.as_str()), (400, "InvalidParameter"));
    }
}
