//! Huawei DMS for RocketMQ (`huaweicloudsdkrocketmq` 3.1.219, `RocketMQClient` v2, REST under
//! `/v2/...`, errors `{"error_code": "DMS.<8 digits>", "error_msg"}`).
//!
//! Served: the three creates (`CreatePostPaidInstance` on the seed path, the newer
//! `CreatePostPaidInstanceForRocketMq` and `CreateInstanceByEngine`), `ShowInstance`,
//! `ListInstances`, `UpdateInstance`, `DeleteInstance`, `BatchDeleteInstances`, the resizes
//! (`ResizeInstance`, `ResizeInstanceForRocketMq`) and their options
//! (`ShowEngineInstanceExtendProductInfo[ForRocketMq]`), `ListBackgroundTasks`,
//! `ShowBackgroundTask`, `ListAvailableZones` and `ListEngineProducts`. Every other operation of
//! the SDK is routed and answers 501.
//!
//! Status strings (Huawei's "instance status" page and the Terraform provider): a create is
//! `CREATING` until its engine job lands it on `RUNNING`; a resize shows `EXTENDING` until
//! `RUNNING`; a delete shows `DELETING` until its job removes the instance, which then reads
//! as 404 `DMS.00404022` (Terraform's `DELETED`). Instances live in the region of the project
//! they were created in; another project's or account's instance reads as missing.

mod catalog;
mod create;
mod errors;
mod model;
mod routes;

use async_trait::async_trait;
use cloudtwin_core::billing::{OrderKind, Subscription};
use cloudtwin_core::{
    Body, Document, FailedOutcome, Instance, JobOutcome, Product, TransitionKind,
};
use cloudtwin_huawei::{Call, HuaweiApi, HwError, Reply, Route};
use cloudtwin_store::{InstanceQuery, Mutation, NameClaim};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

pub use catalog::Catalog;

/// The billed items of a stored RocketMQ document (for the ledger's generic calls, on
/// every create and transition). Only the four members they depend on are read, in one
/// walk (the document keeps them first): parsing the whole document was 7 % of a create's
/// instructions (bench finding 88).
pub(crate) fn billed_items(doc: &Document) -> Result<Vec<(String, i64)>, String> {
    const KEYS: [&str; 4] = [
        "product_id",
        "broker_num",
        "storage_spec_code",
        "storage_space",
    ];
    let raw = doc.raw_fields(KEYS);
    fn read<T: serde::de::DeserializeOwned>(raw: Option<&str>, key: &str) -> Result<T, String> {
        raw.and_then(|text| serde_json::from_str(text).ok())
            .ok_or_else(|| format!("the document has no readable {key}"))
    }
    Ok(model::items(
        &read::<String>(raw[0], KEYS[0])?,
        read(raw[1], KEYS[1])?,
        &read::<String>(raw[2], KEYS[2])?,
        read(raw[3], KEYS[3])?,
    ))
}
use create::{body_of, CreateBody, NewSize, ResizeBody, UpdateBody};
use errors::bad_body;
use model::{instance_view, task_view, Doc, Members};

use crate::parsed::ParsedDocs;
use crate::{Context, Transition, WRITE_RETRIES};

const CREATING: &str = "CREATING";
const RUNNING: &str = "RUNNING";
const EXTENDING: &str = "EXTENDING";
const DELETING: &str = "DELETING";
/// The API's status for a failed create (what `include_failure` and `all_failure` select).
const CREATEFAILED: &str = "CREATEFAILED";
/// The API's status for a failed resize; the old size stays.
const EXTENDEDFAILED: &str = "EXTENDEDFAILED";
/// The API's status for an abnormal instance: what a failed delete leaves.
const ERROR: &str = "ERROR";
/// A prePaid instance whose order is not paid: invisible (404 `DMS.00404022`) until it is.
const UNPAID: &str = "UNPAID";

/// ListInstances' `status` values (the API definition's enum).
const STATUSES: &[&str] = &[
    "CREATING",
    "RUNNING",
    "RESTARTING",
    "DELETING",
    ERROR,
    CREATEFAILED,
    "FREEZING",
    "FROZEN",
    "EXTENDING",
    "SHRINKING",
    EXTENDEDFAILED,
    "CONFIGURING",
    "ROLLBACK",
    "ROLLBACKFAILED",
    "VOLUMETYPECHANGING",
];

pub struct RocketMq {
    ctx: Context,
    catalog: Catalog,
    docs: ParsedDocs<Doc>,
}

/// A query parameter: absent or empty → `None`.
fn q<'a>(call: &'a Call<'_>, name: &str) -> Option<&'a str> {
    call.query(name).filter(|s| !s.is_empty())
}

fn int_param(call: &Call<'_>, name: &str, min: i64, max: i64) -> Result<Option<i64>, HwError> {
    q(call, name)
        .map(|s| match s.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(bad_body(format!(
                "{name} {s:?} is invalid: an integer from {min} to {max} is expected."
            ))),
        })
        .transpose()
}

fn bool_param(call: &Call<'_>, name: &str) -> Result<Option<bool>, HwError> {
    q(call, name)
        .map(|s| match s {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(bad_body(format!(
                "{name} {s:?} is invalid: use true or false."
            ))),
        })
        .transpose()
}

impl RocketMq {
    pub fn new(ctx: Context, catalog: Catalog) -> Self {
        Self {
            ctx,
            catalog,
            docs: ParsedDocs::default(),
        }
    }

    /// An id shaped like DMS's: a lowercase UUID.
    fn new_id(&self) -> String {
        let h = self.ctx.ids.sortable_hex(32);
        [&h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]].join("-")
    }

    fn body<'a>(call: &'a Call<'_>) -> Result<&'a Value, HwError> {
        call.body().map_err(|_| {
            bad_body("The message body is not in JSON format or contains invalid characters.")
        })
    }

    /// The body as a `T` ([`body_of`]). A JSON object is decoded straight from its bytes,
    /// without the tree: a RocketMQ create's body went through both, ~7 % of its
    /// instructions (bench finding 84). Anything that does not decode so takes the tree's
    /// way, which gives the exact error.
    fn typed_body<T: DeserializeOwned>(call: &Call<'_>) -> Result<T, HwError> {
        let object = call.raw_body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if object {
            if let Ok(decoded) = cloudtwin_core::body::from_json_bytes(call.raw_body) {
                return Ok(decoded);
            }
        }
        body_of(Self::body(call)?)
    }

    fn instance_id<'a>(call: &'a Call<'_>) -> Result<&'a str, HwError> {
        call.path_param("instance_id").ok_or_else(errors::not_found)
    }

    fn path_engine(&self, call: &Call<'_>) -> Result<(), HwError> {
        match call.path_param("engine") {
            Some(e) => create::validate_engine(&self.catalog, Some(e)),
            None => Ok(()),
        }
    }

    /// A live instance of the caller's in the call's project (region), with its doc.
    async fn load(&self, call: &Call<'_>, id: &str) -> Result<(Instance, Doc), HwError> {
        let instance = self.find(call, id).await?;
        let doc = Doc::from_instance(&instance).map_err(HwError::internal)?;
        Ok((instance, doc))
    }

    /// The caller's live instance `id` in the project's region.
    async fn find(&self, call: &Call<'_>, id: &str) -> Result<Instance, HwError> {
        let region = &call.project()?.region;
        self.ctx
            .live_instance(&call.caller()?.account_id, Product::RocketMq, id)
            .await
            .map_err(errors::store)?
            .filter(|i| &i.region == region && i.status != UNPAID)
            .ok_or_else(errors::not_found)
    }

    /// The query for the caller's RocketMQ instances in the project's region; callers add
    /// their filters.
    fn query_in(call: &Call<'_>) -> Result<InstanceQuery, HwError> {
        Ok(InstanceQuery {
            account_id: call.caller()?.account_id.clone(),
            product: Some(Product::RocketMq),
            region: Some(call.project()?.region.clone()),
            ..InstanceQuery::default()
        })
    }

    /// The condition that the instance's name is free in the call's project (region),
    /// checked by the commit that takes it.
    fn name_free(
        call: &Call<'_>,
        name: &str,
        except_id: Option<&str>,
    ) -> Result<Mutation, HwError> {
        Ok(Mutation::RequireNameFree(NameClaim {
            account_id: call.caller()?.account_id.clone(),
            product: Product::RocketMq,
            region: Some(call.project()?.region.clone()),
            name: name.to_owned(),
            except_id: except_id.map(str::to_owned),
        }))
    }

    async fn create(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        self.path_engine(call)?;
        let region = call.project()?.region.clone();
        let caller = call.caller()?;
        let body: CreateBody = Self::typed_body(call)?;
        let valid = create::validate_create(&self.catalog, &region, body)?;
        let name_free = Self::name_free(call, &valid.name, None)?;
        let sealed = valid.password.as_deref().map(|p| self.ctx.seal(p));
        let mut doc = Doc::new(&valid, &caller.account_id, sealed);
        let now = self.ctx.clock.now_ms();
        let id = self.new_id();
        let prepaid = valid.prepaid;
        doc.subscription = prepaid
            .map(|p| Subscription::start(p.period, now, p.auto_renew, self.ctx.billing.scale));
        let amount = match prepaid {
            Some(p) => {
                let monthly = self
                    .ctx
                    .monthly_cents(Product::RocketMq, &doc.billed_items())
                    .map_err(|e| bad_body(e.to_string()))?;
                p.period.price_cents(monthly)
            }
            None => 0,
        };
        let mut instance = Instance {
            id: id.clone(),
            account_id: caller.account_id.clone(),
            product: Product::RocketMq,
            region,
            name: valid.name,
            status: CREATING.into(),
            resource_group_id: valid.enterprise_project_id,
            tags: Vec::new(),
            doc: Document::null(),
            created_ms: now,
            updated_ms: now,
            deleted: false,
            version: 1,
        };
        let mut job = self.ctx.engine.job(
            self.new_id(),
            &instance,
            "CreateInstance",
            TransitionKind::Create,
            JobOutcome::new(RUNNING, None, FailedOutcome::new(CREATEFAILED, None)),
        );
        let mut extra = Vec::new();
        let mut answer = json!({"instance_id": id});
        if let Some(p) = prepaid {
            let mut order = self.ctx.order(
                &instance,
                OrderKind::New,
                amount,
                Some(p.period),
                p.auto_pay,
            );
            doc.order_id = Some(order.id.clone());
            answer["order_id"] = json!(order.id);
            if p.auto_pay {
                extra.extend(
                    self.ctx
                        .first_expiry_job(&instance, doc.subscription.as_ref())
                        .map(Mutation::PutJob),
                );
            } else {
                Context::park(&mut job);
                instance.status = UNPAID.into();
                order.job_id = Some(job.id.clone());
                order.status_on_pay = Some(CREATING.into());
            }
            extra.push(Mutation::PutOrder(order));
        }
        instance.doc = doc.document();
        let mut batch = vec![
            name_free,
            Mutation::InsertInstance(instance),
            Mutation::PutJob(job),
        ];
        batch.extend(extra);
        self.ctx.engine.commit(batch).await.map_err(errors::store)?;
        Ok(Reply::ok(answer))
    }

    async fn show(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let instance = self.find(call, Self::instance_id(call)?).await?;
        let doc = self.docs.of(&instance).map_err(HwError::internal)?;
        Ok(Reply::ok(Body::print(&instance_view(
            &instance,
            &doc,
            &self.catalog,
            false,
        ))))
    }

    async fn list(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        if let Some(e) = q(call, "engine") {
            create::validate_engine(&self.catalog, Some(e))?;
        }
        let status = q(call, "status");
        if let Some(s) = status.filter(|s| !STATUSES.contains(s)) {
            return Err(bad_body(format!(
                "status {s:?} is invalid: use one of [{}].",
                STATUSES.join(", ")
            )));
        }
        let include_failure = bool_param(call, "include_failure")?.unwrap_or(false);
        let exact = bool_param(call, "exact_match_name")?.unwrap_or(false);
        let limit = int_param(call, "limit", 1, 50)?.unwrap_or(10) as usize;
        let offset = int_param(call, "offset", 0, i64::MAX)?.unwrap_or(0) as usize;
        let name = q(call, "name");
        let id = q(call, "instance_id");
        let project = q(call, "enterprise_project_id");
        // Filtered and paged by the store: a page costs the same with many instances.
        let mut hidden = vec![UNPAID.to_owned()];
        if !include_failure {
            hidden.push(CREATEFAILED.to_owned());
        }
        let (name_equals, name_contains) = match name {
            Some(n) if exact => (Some(n.to_owned()), None),
            n => (None, n.map(str::to_owned)),
        };
        let query = InstanceQuery {
            status: status.map(str::to_owned),
            status_not_in: hidden,
            id: id.map(str::to_owned),
            name_equals,
            name_contains,
            resource_group_id: project.map(str::to_owned),
            ..Self::query_in(call)?
        };
        let page = self
            .ctx
            .store
            .instances_page(&query, offset, limit)
            .await
            .map_err(errors::store)?;
        #[derive(Serialize)]
        struct Listed {
            instance_num: usize,
            instances: Vec<Members>,
        }
        let instances = page
            .items
            .iter()
            .map(|i| {
                let doc = self.docs.of(i).map_err(HwError::internal)?;
                Ok(instance_view(i, &doc, &self.catalog, true))
            })
            .collect::<Result<_, HwError>>()?;
        Ok(Reply::ok(Body::print(&Listed {
            instance_num: page.total,
            instances,
        })))
    }

    async fn update(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let id = Self::instance_id(call)?;
        let body: UpdateBody = Self::typed_body(call)?;
        if let Some(n) = &body.name {
            create::validate_name(n)?;
        }
        if let Some(d) = &body.description {
            create::validate_description(d)?;
        }
        if body
            .security_group_id
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            return Err(errors::no_security_group());
        }
        self.load(call, id).await?;
        let name_free = match &body.name {
            Some(n) => vec![Self::name_free(call, n, Some(id))?],
            None => Vec::new(),
        };
        let account = call.caller()?.account_id.clone();
        self.ctx
            .mutate_with(
                &account,
                Product::RocketMq,
                id,
                &errors::mutate_errors(),
                |instance| {
                    if instance.status == DELETING {
                        return Err(errors::wrong_status(&instance.status));
                    }
                    let mut doc = Doc::from_instance(instance).map_err(HwError::internal)?;
                    let public = body.enable_publicip.unwrap_or(doc.enable_publicip);
                    let ids = body.publicip_id.as_deref().or(if public {
                        Some(doc.publicip_id.as_str())
                    } else {
                        None
                    });
                    let eips = create::public_ip_ids(public, ids)?;
                    doc.enable_publicip = public;
                    doc.publicip_id = eips.join(",");
                    if let Some(n) = &body.name {
                        instance.name = n.clone();
                    }
                    if let Some(d) = &body.description {
                        doc.description = d.clone();
                    }
                    if let Some(s) = &body.security_group_id {
                        doc.security_group_id = s.trim().to_owned();
                    }
                    if let Some(a) = body.enable_acl {
                        doc.enable_acl = a;
                    }
                    if let Some(p) = body
                        .enterprise_project_id
                        .as_deref()
                        .filter(|p| !p.is_empty())
                    {
                        doc.enterprise_project_id = p.to_owned();
                        instance.resource_group_id = p.to_owned();
                    }
                    instance.doc = doc.document();
                    Ok(((), None, name_free.clone()))
                },
            )
            .await?;
        Ok(Reply::no_content())
    }

    /// Starts deleting one instance of the caller's: `DELETING`, then gone.
    async fn delete_one(&self, call: &Call<'_>, id: &str) -> Result<(), HwError> {
        self.load(call, id).await?;
        let account = call.caller()?.account_id.clone();
        self.ctx
            .mutate(
                &account,
                Product::RocketMq,
                id,
                &errors::mutate_errors(),
                |instance| {
                    if [CREATING, EXTENDING, DELETING].contains(&instance.status.as_str()) {
                        return Err(errors::wrong_status(&instance.status));
                    }
                    Ok((
                        (),
                        Some(Transition {
                            operation: "DeleteInstance",
                            kind: TransitionKind::Delete,
                            status: DELETING.into(),
                            doc_during: instance.doc.clone(),
                            outcome: JobOutcome::new(
                                "DELETED",
                                None,
                                FailedOutcome::new(ERROR, Some(instance.doc.clone())),
                            )
                            .releasing(),
                        }),
                    ))
                },
            )
            .await
    }

    async fn batch_delete(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        #[derive(serde::Deserialize)]
        struct Body {
            instances: Option<Vec<String>>,
            action: Option<String>,
            all_failure: Option<String>,
            #[allow(dead_code)]
            force_delete: Option<bool>,
        }
        let body: Body = Self::typed_body(call)?;
        if body.action.as_deref() != Some("delete") {
            return Err(bad_body(format!(
                "action {:?} is invalid: use delete.",
                body.action.unwrap_or_default()
            )));
        }
        let ids: Vec<String> = match (body.instances, body.all_failure.as_deref()) {
            (Some(ids), None) if !ids.is_empty() => ids,
            (None, Some(engine)) => {
                if engine != "reliability" {
                    return Err(bad_body(format!(
                        "all_failure {engine:?} is invalid: use reliability."
                    )));
                }
                let failed = InstanceQuery {
                    status: Some(CREATEFAILED.to_owned()),
                    ..Self::query_in(call)?
                };
                self.ctx
                    .store
                    .instances(&failed)
                    .await
                    .map_err(errors::store)?
                    .into_iter()
                    .map(|i| i.id)
                    .collect()
            }
            _ => {
                return Err(bad_body(
                    "Give either a non-empty instances list or all_failure.",
                ))
            }
        };
        let mut results = Vec::new();
        for id in ids {
            let result = match self.delete_one(call, &id).await {
                Ok(()) => "success",
                Err(e) if e.status < 500 => "failed",
                Err(e) => return Err(e),
            };
            results.push(json!({"result": result, "instance": id}));
        }
        Ok(Reply::ok(json!({"results": results})))
    }

    async fn resize(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        self.path_engine(call)?;
        let id = Self::instance_id(call)?;
        let body: ResizeBody = Self::typed_body(call)?;
        let account = call.caller()?.account_id.clone();
        for _ in 0..WRITE_RETRIES {
            let (mut instance, mut doc) = self.load(call, id).await?;
            if instance.status != RUNNING {
                return Err(errors::wrong_status(&instance.status));
            }
            let current = NewSize {
                product_id: doc.product_id.clone(),
                broker_num: doc.broker_num,
                storage_space: doc.storage_space,
                publicip_id: None,
            };
            let next = create::validate_resize(
                &self.catalog,
                &current,
                &doc.engine_version,
                doc.enable_publicip,
                &body,
            )?;
            let before = instance.doc.clone();
            doc.last_resize = create::resize_params(&body);
            let during = doc.document();
            doc.product_id = next.product_id;
            doc.broker_num = next.broker_num;
            doc.storage_space = next.storage_space;
            if let Some(p) = next.publicip_id {
                doc.publicip_id = p;
            }
            doc.extend_times += 1;
            instance.status = EXTENDING.into();
            instance.doc = during;
            instance.updated_ms = self.ctx.clock.now_ms();
            let job_id = self.new_id();
            let job = self.ctx.engine.job(
                job_id.clone(),
                &instance,
                "ResizeInstance",
                TransitionKind::Change,
                JobOutcome::new(
                    RUNNING,
                    Some(doc.document()),
                    FailedOutcome::new(EXTENDEDFAILED, Some(before)),
                ),
            );
            let batch = vec![Mutation::UpdateInstance(instance), Mutation::PutJob(job)];
            match self.ctx.engine.commit_unless_changed(batch).await {
                Ok(true) => return Ok(Reply::ok(json!({"job_id": job_id}))),
                Ok(false) => continue,
                Err(e) => return Err(errors::store(e)),
            }
        }
        let _ = account;
        Err(HwError::internal(
            "the instance kept changing under concurrent requests",
        ))
    }

    fn product_entity(&self, f: &catalog::Flavor, region: &str, extend: bool) -> Value {
        let codes: Vec<&str> = self
            .catalog
            .zones(region)
            .iter()
            .map(|z| z.code.as_str())
            .collect();
        let ios: Vec<Value> = f
            .ios
            .iter()
            .map(|io| {
                json!({"available_zones": codes, "unavailable_zones": [], "io_spec": io.io_spec, "type": io.kind})
            })
            .collect();
        let mut v = json!({
            "type": f.kind,
            "product_id": f.product_id,
            "ecs_flavor_id": f.ecs_flavor_id,
            "billing_code": f.billing_code,
            "arch_types": f.arch_types,
            "charging_mode": f.charging_mode,
            "ios": ios,
            "support_features": f.support_features,
            "properties": f.properties,
            "qingtian_incompatible": false,
        });
        if extend {
            v["available_zones"] = json!(codes);
            v["unavailable_zones"] = json!([]);
        }
        v
    }

    /// `ListEngineProducts` and the resize options share one shape.
    fn products_page(
        &self,
        call: &Call<'_>,
        flavors: Vec<&catalog::Flavor>,
        region: &str,
        extend: bool,
    ) -> Result<Value, HwError> {
        let offset = int_param(call, "offset", 0, i64::MAX)?.unwrap_or(0) as usize;
        let limit = int_param(call, "limit", 1, 1000)?.map(|l| l as usize);
        let total = flavors.len();
        let mut versions: Vec<&str> = flavors.iter().map(|f| f.engine_version.as_str()).collect();
        versions.dedup();
        let page: Vec<Value> = flavors
            .into_iter()
            .skip(offset)
            .take(limit.unwrap_or(usize::MAX))
            .map(|f| self.product_entity(f, region, extend))
            .collect();
        let end = offset + page.len();
        Ok(json!({
            "total": total,
            "next_offset": if end < total { end as i64 } else { -1 },
            "previous_offset": if offset > 0 { offset.saturating_sub(limit.unwrap_or(offset)) as i64 } else { -1 },
            "engine": "rocketmq",
            "versions": versions,
            "products": page,
        }))
    }

    fn list_products(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        self.path_engine(call)?;
        let region = call.project()?.region.clone();
        let service_type = q(call, "type");
        let product_id = q(call, "product_id");
        let flavors: Vec<&catalog::Flavor> = self
            .catalog
            .products
            .iter()
            .filter(|_| service_type.is_none_or(|t| t == "advanced"))
            .filter(|f| product_id.is_none_or(|p| f.product_id == p))
            .collect();
        Ok(Reply::ok(
            self.products_page(call, flavors, &region, false)?,
        ))
    }

    async fn extend_options(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        self.path_engine(call)?;
        let (instance, doc) = self.load(call, Self::instance_id(call)?).await?;
        if q(call, "type").is_some_and(|t| t != "advanced") {
            return Err(bad_body("type is invalid: use advanced."));
        }
        let flavors: Vec<&catalog::Flavor> = self
            .catalog
            .products
            .iter()
            .filter(|f| f.engine_version == doc.engine_version)
            .collect();
        Ok(Reply::ok(self.products_page(
            call,
            flavors,
            &instance.region,
            true,
        )?))
    }

    fn zones(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let region = call.project()?.region.clone();
        let zones: Vec<Value> = self
            .catalog
            .zones(&region)
            .iter()
            .map(|z| {
                json!({
                    "soldOut": false,
                    "id": z.id,
                    "code": z.code,
                    "name": z.name,
                    "port": z.port,
                    "resource_availability": "true",
                    "default_az": z.default_az,
                    "remain_time": i64::MAX,
                    "ipv6_enable": false,
                    "mode": "shared",
                    "scope": "",
                })
            })
            .collect();
        Ok(Reply::ok(
            json!({"region_id": region, "available_zones": zones}),
        ))
    }

    async fn tasks(&self, call: &Call<'_>, one: Option<&str>) -> Result<Reply, HwError> {
        let (instance, doc) = self.load(call, Self::instance_id(call)?).await?;
        let start = int_param(call, "start", 1, i64::MAX)?.unwrap_or(1) as usize;
        let limit = int_param(call, "limit", 1, 1000)?.unwrap_or(10) as usize;
        let time = |name: &str| -> Result<Option<i64>, HwError> {
            q(call, name)
                .map(|s| {
                    model::parse_compact_time(s).ok_or_else(|| {
                        bad_body(format!(
                            "{name} {s:?} is invalid: the format is YYYYMMDDHHmmss."
                        ))
                    })
                })
                .transpose()
        };
        let (begin, end) = (time("begin_time")?, time("end_time")?);
        let mut jobs = self
            .ctx
            .store
            .instance_jobs(&instance.account_id, &instance.id)
            .await
            .map_err(errors::store)?;
        // A term's expiry is the ledger's, not a task of the instance.
        jobs.retain(|j| j.operation != crate::billing::EXPIRE_OPERATION);
        jobs.reverse();
        let params = |op: &str| match op {
            "ResizeInstance" => doc.last_resize.clone(),
            "CreateInstance" => json!({"name": instance.name}),
            _ => Value::Null,
        };
        let view = |j: &cloudtwin_core::Job| task_view(j, &doc.user_name, &params(&j.operation));
        let tasks: Vec<Value> = match one {
            Some(task_id) => jobs.iter().filter(|j| j.id == task_id).map(view).collect(),
            None => {
                let filtered: Vec<_> = jobs
                    .iter()
                    .filter(|j| begin.is_none_or(|b| j.created_ms >= b))
                    .filter(|j| end.is_none_or(|e| j.created_ms <= e))
                    .collect();
                let total = filtered.len();
                let page = filtered
                    .into_iter()
                    .skip(start - 1)
                    .take(limit)
                    .map(view)
                    .collect();
                return Ok(Reply::ok(
                    json!({"task_count": total.to_string(), "tasks": Value::Array(page)}),
                ));
            }
        };
        Ok(Reply::ok(
            json!({"task_count": tasks.len().to_string(), "tasks": tasks}),
        ))
    }
}

#[async_trait]
impl HuaweiApi for RocketMq {
    fn service(&self) -> &'static str {
        "rocketmq"
    }

    fn routes(&self) -> &'static [Route] {
        routes::ROUTES
    }

    async fn call(&self, call: Call<'_>) -> Result<Reply, HwError> {
        match call.route.operation {
            "CreatePostPaidInstance"
            | "CreatePostPaidInstanceForRocketMq"
            | "CreateInstanceByEngine" => self.create(&call).await,
            "ShowInstance" => self.show(&call).await,
            "ListInstances" => self.list(&call).await,
            "UpdateInstance" => self.update(&call).await,
            "DeleteInstance" => {
                let id = Self::instance_id(&call)?;
                self.delete_one(&call, id).await?;
                Ok(Reply::no_content())
            }
            "BatchDeleteInstances" => self.batch_delete(&call).await,
            "ResizeInstance" | "ResizeInstanceForRocketMq" => self.resize(&call).await,
            "ShowEngineInstanceExtendProductInfo"
            | "ShowEngineInstanceExtendProductInfoForRocketMq" => self.extend_options(&call).await,
            "ListBackgroundTasks" => self.tasks(&call, None).await,
            "ShowBackgroundTask" => {
                let task = call.path_param("task_id").unwrap_or_default().to_owned();
                self.tasks(&call, Some(&task)).await
            }
            "ListAvailableZones" => self.zones(&call),
            "ListEngineProducts" => self.list_products(&call),
            other => Err(HwError::not_implemented(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document stored before the billed members moved first bills as its typed form.
    #[test]
    fn the_ledger_bills_a_stored_document_as_its_typed_form() {
        let stored = serde_json::json!({
            "description": "", "engine_version": "4.8.0", "storage_space": 600,
            "vpc_id": "v", "subnet_id": "s", "security_group_id": "g",
            "available_zones": ["az1"], "product_id": "c6.4u8g.cluster", "ssl_enable": false,
            "storage_spec_code": "dms.physical.storage.ultra.v2",
            "enterprise_project_id": "0", "enable_acl": false, "ipv6_enable": false,
            "proxy_enable": false, "enable_publicip": false, "publicip_id": "",
            "broker_num": 3, "arch_type": "X86", "tls_mode": "PLAINTEXT",
            "disk_encrypted": false, "disk_encrypted_key": "", "charging_mode": 1,
            "extend_times": 0, "user_name": "ak",
        });
        let doc = Document::from_stored(stored.to_string());
        let typed: Doc = doc.parse().unwrap();
        let items = billed_items(&doc).unwrap();
        assert_eq!(items, typed.billed_items());
        assert_eq!(items[0], ("flavor.c6.4u8g.cluster".to_owned(), 3));
        assert_eq!(billed_items(&typed.document()).unwrap(), items);
        let broken = Document::from_stored("{\"product_id\": 7}".into());
        assert!(billed_items(&broken).is_err());
    }

    #[test]
    fn routes_cover_the_sdk_and_do_not_collide() {
        assert_eq!(routes::ROUTES.len(), 90);
        for (i, a) in routes::ROUTES.iter().enumerate() {
            for b in &routes::ROUTES[..i] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} and {} share {} {}",
                    a.operation,
                    b.operation,
                    a.method,
                    a.path
                );
            }
            assert!(a.path.starts_with("/v2/"), "{}", a.path);
        }
    }

    #[test]
    fn list_statuses_include_the_lifecycle() {
        for s in [CREATING, RUNNING, EXTENDING, DELETING, CREATEFAILED] {
            assert!(STATUSES.contains(&s));
        }
    }
}
