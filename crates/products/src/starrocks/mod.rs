//! Alibaba EMR Serverless StarRocks (`starrocks` 2022-10-19, ROA with JSON bodies).
//! Status strings are the SDK's own: `creating` → `running`; `scaling_up`/`scaling_down`,
//! `scaling_out`/`scaling_in`, `updating` and `restarting` back to `running`; release goes
//! `deleting` → gone. Node groups read `RUNNING` when steady.

mod catalog;
mod create;
mod model;
mod operations;

use async_trait::async_trait;
use cloudtwin_aliyun::{AliError, AliyunApi, Body, Call, Input, Operation};
use cloudtwin_core::{
    Caller, Document, FailedOutcome, Instance, Job, JobOutcome, JobState, Product, Tag,
    TransitionKind,
};
use cloudtwin_store::{InstanceQuery, Mutation, StoreError};
use serde::Serialize;
use serde_json::{json, Value};

pub use catalog::Catalog;
use create::{check_cu, check_node_number, check_storage_size, Component, CreateRequest, TagSpec};
use model::{instance_view, node_group_view, Doc, NodeGroup, VSwitch};

use crate::billing::{self, BillingError};
use crate::params::{self, required, text, Page};
use crate::parsed::ParsedDocs;
use crate::{
    fingerprint_matches, typed_request_hash, Context, Errors, Transition, CLIENT_TOKEN_TTL_MS,
    WRITE_RETRIES,
};
use cloudtwin_core::billing::{OrderKind, OrderStatus, Period, PeriodUnit, Subscription};

pub const VERSION: &str = "2022-10-19";
const CREATE_ACTION: &str = "CreateInstanceV1";
/// Statuses in which a job is under way; no other change may start.
const TRANSITIONAL: &[&str] = &[
    "creating",
    "scaling_up",
    "scaling_down",
    "scaling_out",
    "scaling_in",
    "updating",
    "restarting",
    "deleting",
];

/// The product's "bad value" error, in the form its API uses.
pub(crate) fn invalid(detail: String) -> AliError {
    AliError::new(400, "InvalidParams", format!("Invalid params: [{detail}]"))
}

fn not_found(id: &str) -> AliError {
    AliError::new(
        404,
        "InstanceNotFound",
        format!("The specified instance is not found: {id}"),
    )
}

fn wrong_status(status: &str, action: &str) -> AliError {
    AliError::new(
        400,
        "IncorrectInstanceStatus",
        format!("The instance is {status}; {action} is allowed only when it is running."),
    )
}

fn store_error(e: StoreError) -> AliError {
    crate::ali_store_error(e)
}

/// The success envelope every StarRocks operation answers with: `Data`, and `Total` for a
/// listing.
fn envelope<T: Serialize>(request_id: &str, data: T, total: Option<usize>) -> Body {
    // The keys in byte order, as a JSON object tree prints them.
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Envelope<'a, T> {
        data: T,
        http_status_code: u16,
        request_id: &'a str,
        success: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        total: Option<usize>,
    }
    Body::print(&Envelope {
        data,
        http_status_code: 200,
        request_id,
        success: true,
        total,
    })
}

fn int(input: &Input, name: &str) -> Result<Option<i64>, AliError> {
    params::int(input, name, invalid)
}

fn flag(input: &Input, name: &str) -> Result<Option<bool>, AliError> {
    params::flag(input, name, invalid)
}

fn json_list<T: serde::de::DeserializeOwned>(
    input: &Input,
    name: &str,
) -> Result<Option<Vec<T>>, AliError> {
    params::json_list(input, name, invalid)
}

fn page(input: &Input) -> Result<Page, AliError> {
    Page::read(input, ("PageNumber", "PageSize"), 10, 100, invalid)
}

pub struct StarRocks {
    ctx: Context,
    catalog: Catalog,
    docs: ParsedDocs<Doc>,
}

impl StarRocks {
    pub fn new(ctx: Context, catalog: Catalog) -> Self {
        Self {
            ctx,
            catalog,
            docs: ParsedDocs::default(),
        }
    }

    fn new_id(&self, prefix: &str) -> String {
        [prefix, &self.ctx.ids.sortable_hex(16)].concat()
    }

    /// A live instance of the caller's, with its document.
    async fn load(&self, caller: &Caller, id: &str) -> Result<(Instance, Doc), AliError> {
        let instance = self
            .ctx
            .live_instance(&caller.account_id, Product::StarRocks, id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| not_found(id))?;
        let doc = Doc::from_instance(&instance).map_err(AliError::internal)?;
        Ok((instance, doc))
    }

    /// [`Context::mutate`] with StarRocks' errors and its document decoded.
    async fn mutate<T>(
        &self,
        caller: &Caller,
        id: &str,
        mut change: impl FnMut(&mut Instance, &Doc) -> Result<(T, Option<Transition>), AliError>,
    ) -> Result<T, AliError> {
        let errors = Errors {
            not_found,
            store: store_error,
        };
        self.ctx
            .mutate(
                &caller.account_id,
                Product::StarRocks,
                id,
                &errors,
                |instance| {
                    let doc = Doc::from_instance(instance).map_err(AliError::internal)?;
                    change(instance, &doc)
                },
            )
            .await
    }

    /// [`Context::mutate_with`] with StarRocks' errors and its document decoded.
    async fn mutate_billed<T>(
        &self,
        caller: &Caller,
        id: &str,
        mut change: impl FnMut(
            &mut Instance,
            &Doc,
        ) -> Result<(T, Option<Transition>, Vec<Mutation>), AliError>,
    ) -> Result<T, AliError> {
        let errors = Errors {
            not_found,
            store: store_error,
        };
        self.ctx
            .mutate_with(
                &caller.account_id,
                Product::StarRocks,
                id,
                &errors,
                |instance| {
                    let doc = Doc::from_instance(instance).map_err(AliError::internal)?;
                    change(instance, &doc)
                },
            )
            .await
    }

    /// The order a prePaid configuration change writes: the monthly difference for the
    /// rest of the term (a downgrade refunds nothing). postPaid changes have none (0).
    fn change_order(
        &self,
        instance: &Instance,
        before: &Doc,
        after: &Doc,
    ) -> Result<(i64, Vec<Mutation>), AliError> {
        let Some(subscription) = before.subscription.filter(|_| before.pay_type == "prePaid")
        else {
            return Ok((0, Vec::new()));
        };
        let extra = (self.instance_monthly(after)? - self.instance_monthly(before)?).max(0);
        let now = self.ctx.clock.now_ms();
        // The term is compressed by the time scale; the price is of the real time it covers.
        let remaining_hours = (subscription.end_ms - now).max(0) as f64
            * self.ctx.billing.scale.factor()
            / 3_600_000.0;
        let amount = (extra as f64 * remaining_hours
            / cloudtwin_core::billing::HOURS_PER_MONTH as f64)
            .round() as i64;
        let order = self
            .ctx
            .order(instance, OrderKind::Change, amount, None, true);
        let id = order.id.parse().map_err(AliError::internal)?;
        Ok((id, vec![Mutation::PutOrder(order)]))
    }

    async fn create(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let req: CreateRequest = call
            .input
            .decode_json(|path, e| invalid(format!("{path} has the wrong type: {e}")))?;
        let hash = typed_request_hash(&req);
        let caller = call.caller;
        let token = req.client_token.clone().filter(|t| !t.is_empty());
        // A retried token is found by the commit, whose token record then conflicts, and
        // answered from that record: no read before every create (validation depends only on
        // the request and the catalog, so a retry passes it as the first attempt did).
        if let Some(token) = &token {
            create::validate_client_token(token)?;
        }
        let valid = req.validate(&self.catalog)?;

        let now = self.ctx.clock.now_ms();
        let instance_id = self.new_id("c-");
        let mut node_groups = Vec::new();
        for (component, groups) in [
            (Component::Frontend, &valid.frontend),
            (Component::Backend, &valid.backend),
            (Component::Observer, &valid.observer),
        ] {
            for (n, g) in groups.iter().enumerate() {
                let code = component.code().to_ascii_lowercase();
                node_groups.push(NodeGroup {
                    id: ["ng-", &self.ctx.ids.hex(16)].concat(),
                    name: if n == 0 {
                        [&code, "_default"].concat()
                    } else {
                        format!("{code}_{n}")
                    },
                    component: component.code().to_owned(),
                    cu: g.cu,
                    resident_node_number: g.resident_node_number,
                    storage_size: g.storage_size,
                    storage_performance_level: g.storage_performance_level.clone(),
                    disk_number: g.disk_number,
                    spec_type: g.spec_type.clone(),
                    zone_id: g.zone_id.clone(),
                    local_storage_instance_type: g.local_storage_instance_type.clone(),
                    status: "RUNNING".into(),
                    created_ms: now,
                });
            }
        }
        let v_switches = valid
            .v_switches
            .iter()
            .map(|(vsw, zone)| VSwitch {
                vsw_id: vsw.clone(),
                zone_id: zone.clone(),
                primary: *zone == valid.zone_id,
            })
            .collect();
        let period = billing::period(valid.pricing_cycle.as_deref(), valid.duration);
        let auto_pay = req.auto_pay.unwrap_or(true);
        let subscription =
            period.map(|p| Subscription::start(p, now, valid.auto_renew, self.ctx.billing.scale));
        let doc = Doc {
            usage: Default::default(),
            version: valid.version.clone(),
            minor_version: self.catalog.versions[&valid.version].clone(),
            run_mode: valid.run_mode,
            package_type: valid.package_type,
            pay_type: valid.pay_type,
            pricing_cycle: valid.pricing_cycle,
            duration: valid.duration,
            auto_renew: valid.auto_renew,
            vpc_id: valid.vpc_id,
            zone_id: valid.zone_id,
            v_switches,
            encrypted: valid.encrypted,
            kms_key_id: valid.kms_key_id,
            oss_accessing_role_name: valid.oss_accessing_role_name,
            enable_multi_az: valid.enable_multi_az,
            admin_password: self.ctx.seal(&valid.admin_password),
            subscription,
            node_groups,
        };
        let amount = match period {
            Some(p) => p.price_cents(self.instance_monthly(&doc)?),
            None => 0,
        };
        let running_doc = doc.document();
        let instance = Instance {
            id: instance_id.clone(),
            account_id: caller.account_id.clone(),
            product: Product::StarRocks,
            region: valid.region_id,
            name: valid.instance_name,
            status: "creating".into(),
            resource_group_id: valid.resource_group_id,
            tags: valid.tags,
            // The document once created; the CREATING one below only if anyone can see it.
            doc: running_doc.clone(),
            created_ms: now,
            updated_ms: now,
            deleted: false,
            version: 1,
        };
        let outcome = JobOutcome::new(
            "running",
            Some(running_doc),
            FailedOutcome::new("creating_failed", None),
        );
        let mut job = self.ctx.engine.job(
            self.new_id("op-"),
            &instance,
            "CreateInstance",
            TransitionKind::Create,
            outcome,
        );
        let mut instance = instance;
        let mut extra = Vec::new();
        let mut order_id = 0i64;
        if subscription.is_some() {
            let mut order = self
                .ctx
                .order(&instance, OrderKind::New, amount, period, auto_pay);
            order_id = order.id.parse().map_err(AliError::internal)?;
            if auto_pay {
                extra.extend(
                    self.ctx
                        .first_expiry_job(&instance, subscription.as_ref())
                        .map(Mutation::PutJob),
                );
            } else {
                // Waits for its payment: the instance reads `unpaid`, its job is parked.
                Context::park(&mut job);
                instance.status = "unpaid".into();
                order.job_id = Some(job.id.clone());
                order.status_on_pay = Some("creating".into());
            }
            extra.push(Mutation::PutOrder(order));
        }
        if !self.ctx.engine.settles_inline(&job) {
            instance.doc = doc.with_group_status("CREATING").document();
        }
        let data = json!({"InstanceId": instance_id, "OrderId": order_id});
        let mut batch = vec![Mutation::InsertInstance(instance), Mutation::PutJob(job)];
        batch.extend(extra);
        if let Some(token) = &token {
            batch.push(Mutation::InsertIdempotency {
                record: cloudtwin_store::IdempotencyRecord {
                    account_id: caller.account_id.clone(),
                    product: Product::StarRocks,
                    action: CREATE_ACTION.into(),
                    token: token.clone(),
                    request_hash: hash.clone(),
                    response: data.to_string(),
                    created_ms: now,
                },
                expire_before_ms: now - CLIENT_TOKEN_TTL_MS,
            });
        }
        match self.ctx.engine.commit(batch).await {
            Ok(()) => Ok(data),
            // The token was used before (or by a concurrent request): answer as then.
            Err(StoreError::Conflict(_)) if token.is_some() => {
                let token = token.expect("checked above");
                self.replay(caller, &token, &req, &call.input)
                    .await?
                    .ok_or_else(|| AliError::internal("client token conflict without a record"))
            }
            Err(e) => Err(store_error(e)),
        }
    }

    /// The first answer given to this client token, if it is still remembered and the
    /// request (`req`, decoded from `input`) is the same.
    async fn replay(
        &self,
        caller: &Caller,
        token: &str,
        req: &CreateRequest,
        input: &Input,
    ) -> Result<Option<Value>, AliError> {
        let Some(record) = self
            .ctx
            .store
            .idempotency(&caller.account_id, Product::StarRocks, CREATE_ACTION, token)
            .await
            .map_err(store_error)?
        else {
            return Ok(None);
        };
        if record.created_ms < self.ctx.clock.now_ms() - CLIENT_TOKEN_TTL_MS {
            return Ok(None);
        }
        let same = fingerprint_matches(
            &record.request_hash,
            req,
            &["ClientToken", "clientToken"],
            || serde_json::from_slice(input.json_or_empty()).map_err(AliError::body_not_json),
        )?;
        if !same {
            return Err(AliError::new(
                400,
                "IdempotentParameterMismatch",
                "The request uses the same client token as a previous, but non-identical request.",
            ));
        }
        serde_json::from_str(&record.response)
            .map(Some)
            .map_err(AliError::internal)
    }

    async fn describe_instances(&self, call: &Call<'_>) -> Result<Body, AliError> {
        let input = &call.input;
        let page = page(input)?;
        let tags: Vec<TagSpec> = json_list(input, "Tag")?.unwrap_or_default();
        let wanted: Vec<Tag> = tags
            .into_iter()
            .map(|t| Tag {
                key: t.key.unwrap_or_default(),
                value: t.value.unwrap_or_default(),
            })
            .collect();
        let query = InstanceQuery {
            account_id: call.caller.account_id.clone(),
            product: Some(Product::StarRocks),
            region: text(input, "RegionId").map(str::to_owned),
            status: text(input, "InstanceStatus").map(str::to_owned),
            id: text(input, "InstanceId").map(str::to_owned),
            name_contains: text(input, "InstanceName").map(str::to_owned),
            resource_group_id: text(input, "ResourceGroupId").map(str::to_owned),
            tags: wanted,
            ..Default::default()
        };
        let found = self
            .ctx
            .store
            .instances_page(&query, page.offset(), page.size)
            .await
            .map_err(store_error)?;
        let now = self.ctx.clock.now_ms();
        let docs = found
            .items
            .iter()
            .map(|instance| self.docs.of(instance).map_err(AliError::internal))
            .collect::<Result<Vec<_>, _>>()?;
        let data: Vec<_> = found
            .items
            .iter()
            .zip(&docs)
            .map(|(instance, doc)| {
                instance_view(
                    instance,
                    doc,
                    now,
                    doc.expire_ms(now, self.ctx.billing.scale),
                )
            })
            .collect();
        Ok(envelope(call.request_id, data, Some(found.total)))
    }

    async fn describe_node_groups(&self, call: &Call<'_>) -> Result<(Value, usize), AliError> {
        let input = &call.input;
        let body = &input.body;
        let field = |name: &str| {
            body.get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let id = text(input, "ClusterId")
            .or_else(|| field("instanceId"))
            .ok_or_else(|| AliError::missing("ClusterId"))?;
        let page = page(input)?;
        let (instance, doc) = self.load(call.caller, id).await?;
        let ids: Vec<&str> = body
            .get("nodeGroupIds")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let component = field("componentType");
        let name = field("nodeGroupName");
        let status = field("status");
        let groups: Vec<&NodeGroup> = doc
            .node_groups
            .iter()
            .filter(|g| ids.is_empty() || ids.contains(&g.id.as_str()))
            .filter(|g| component.is_none_or(|c| c.eq_ignore_ascii_case(&g.component)))
            .filter(|g| name.is_none_or(|n| g.name.contains(n)))
            .filter(|g| status.is_none_or(|s| s.eq_ignore_ascii_case(&g.status)))
            .collect();
        let total = groups.len();
        let expire = doc.expire_ms(self.ctx.clock.now_ms(), self.ctx.billing.scale);
        let data = page
            .slice(groups)
            .into_iter()
            .map(|g| node_group_view(&instance, &doc, g, expire))
            .collect();
        Ok((Value::Array(data), total))
    }

    /// ModifyCu, ModifyNodeNumber, ModifyDiskSize: one node group, one new value.
    async fn modify_group(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let input = &call.input;
        let action = call.operation.action;
        let id = required(input, "InstanceId")?;
        let group_id = required(input, "NodeGroupId")?;
        let target = int(input, "Target")?.ok_or_else(|| AliError::missing("Target"))?;
        let catalog = &self.catalog;
        let order_id = self.mutate_billed(call.caller, id, |instance, doc| {
            if instance.status != "running" {
                return Err(wrong_status(&instance.status, action));
            }
            let index = doc
                .node_groups
                .iter()
                .position(|g| g.id == group_id)
                .ok_or_else(|| {
                    AliError::new(
                        404,
                        "NodeGroupNotFound",
                        format!("The specified node group is not found: {group_id}"),
                    )
                })?;
            let group = &doc.node_groups[index];
            let component = Component::from_code(&group.component).unwrap_or(Component::Backend);
            let (current, up, down, group_status) = match action {
                "ModifyCu" => {
                    check_cu(catalog, component, target)?;
                    (group.cu, "scaling_up", "scaling_down", "SCALING")
                }
                "ModifyNodeNumber" => {
                    check_node_number(catalog, component, target)?;
                    (group.resident_node_number, "scaling_out", "scaling_in", "SCALING")
                }
                _ => {
                    check_storage_size(catalog, component, target)?;
                    if target < group.storage_size {
                        return Err(invalid(format!(
                            "Target {target} is smaller than the current storage size {}; disks cannot shrink",
                            group.storage_size
                        )));
                    }
                    (group.storage_size, "updating", "updating", "UPDATING")
                }
            };
            if target == current {
                return Err(invalid(format!("Target {target} equals the current value")));
            }
            let mut after = doc.clone();
            let g = &mut after.node_groups[index];
            match action {
                "ModifyCu" => g.cu = target,
                "ModifyNodeNumber" => g.resident_node_number = target,
                _ => g.storage_size = target,
            }
            let mut during = doc.clone();
            during.node_groups[index].status = group_status.into();
            let transition = Transition {
                operation: action_name(action),
                kind: TransitionKind::Change,
                status: if target > current { up } else { down }.into(),
                doc_during: during.document(),
                // The SDK's InstanceStatus has no failed value for a change: it is undone.
                outcome: JobOutcome::new(
                    "running",
                    Some(after.document()),
                    FailedOutcome::new("running", Some(doc.document())),
                ),
            };
            let (order_id, order) = self.change_order(instance, doc, &after)?;
            Ok((order_id, Some(transition), order))
        })
        .await?;
        Ok(json!(order_id))
    }

    async fn restart(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let id = required(&call.input, "InstanceId")?;
        self.mutate(call.caller, id, |instance, doc| {
            if instance.status != "running" {
                return Err(wrong_status(&instance.status, "RestartInstance"));
            }
            Ok((
                (),
                Some(Transition {
                    operation: "RestartInstance",
                    kind: TransitionKind::Change,
                    status: "restarting".into(),
                    doc_during: doc.with_group_status("RESTARTING").document(),
                    outcome: JobOutcome::new(
                        "running",
                        Some(doc.document()),
                        FailedOutcome::new("running", Some(doc.document())),
                    ),
                }),
            ))
        })
        .await?;
        Ok(json!(true))
    }

    async fn release(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let id = required(&call.input, "InstanceId")?;
        self.mutate(call.caller, id, |instance, doc| {
            if instance.status == "deleting" {
                return Ok(((), None));
            }
            if TRANSITIONAL.contains(&instance.status.as_str()) {
                return Err(AliError::new(
                    400,
                    "IncorrectInstanceStatus",
                    format!(
                        "The instance is {}; it can be released once that operation ends.",
                        instance.status
                    ),
                ));
            }
            Ok((
                (),
                Some(Transition {
                    operation: "ReleaseInstance",
                    kind: TransitionKind::Delete,
                    status: "deleting".into(),
                    doc_during: doc.with_group_status("DELETING").document(),
                    outcome: JobOutcome::new(
                        "deleted",
                        Some(doc.with_group_status("DELETED").document()),
                        FailedOutcome::new("deleting_failed", Some(doc.document())),
                    )
                    .releasing(),
                }),
            ))
        })
        .await?;
        Ok(json!(true))
    }

    async fn update_name(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let id = required(&call.input, "InstanceId")?;
        let name = required(&call.input, "ClusterName")?;
        create::validate_name(name, "ClusterName")?;
        self.mutate(call.caller, id, |instance, _| {
            instance.name = name.to_owned();
            Ok(((), None))
        })
        .await?;
        Ok(json!(true))
    }

    async fn change_resource_group(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let input = &call.input;
        let id = text(input, "InstanceId")
            .or_else(|| text(input, "ResourceId"))
            .ok_or_else(|| AliError::missing("InstanceId"))?;
        let rg = required(input, "NewResourceGroupId")?;
        check_resource_type(text(input, "ResourceType"))?;
        create::validate_resource_group(rg)?;
        self.mutate(call.caller, id, |instance, _| {
            instance.resource_group_id = rg.to_owned();
            Ok(((), None))
        })
        .await?;
        Ok(json!(true))
    }

    async fn list_operations(&self, call: &Call<'_>) -> Result<(Value, usize), AliError> {
        let input = &call.input;
        let id = required(input, "InstanceId")?;
        let page = page(input)?;
        let exists = self
            .ctx
            .store
            .instance(&call.caller.account_id, id)
            .await
            .map_err(store_error)?
            .is_some_and(|i| i.product == Product::StarRocks);
        if !exists {
            return Err(not_found(id));
        }
        let op_id = text(input, "OperationId");
        let op_status = text(input, "OperationStatus");
        let op_type = text(input, "OperationType");
        let start = int(input, "StartTime")?;
        let end = int(input, "EndTime")?;
        let mut jobs: Vec<Job> = self
            .ctx
            .store
            .instance_jobs(&call.caller.account_id, id)
            .await
            .map_err(store_error)?
            .into_iter()
            .filter(|j| j.operation != billing::EXPIRE_OPERATION)
            .filter(|j| op_id.is_none_or(|o| o == j.id))
            .filter(|j| op_status.is_none_or(|s| s.eq_ignore_ascii_case(operation_status(j.state))))
            .filter(|j| op_type.is_none_or(|t| t == j.operation))
            .filter(|j| start.is_none_or(|s| j.created_ms >= s))
            .filter(|j| end.is_none_or(|e| j.created_ms <= e))
            .collect();
        jobs.reverse();
        let total = jobs.len();
        let now = self.ctx.clock.now_ms();
        let data = page
            .slice(jobs)
            .into_iter()
            .map(|j| {
                json!({
                    "OperationId": j.id,
                    "InstanceId": j.instance_id,
                    "OperationType": j.operation,
                    "OperationStatus": operation_status(j.state),
                    "Progress": j.progress(now),
                    "GmtCreate": j.created_ms,
                    "GmtEnd": j.finished_ms,
                    "OperationDetail": failure_detail(&j),
                })
            })
            .collect();
        Ok((Value::Array(data), total))
    }

    fn monthly(&self, items: &[(String, i64)]) -> Result<i64, AliError> {
        self.ctx
            .monthly_cents(Product::StarRocks, items)
            .map_err(|e| invalid(e.to_string()))
    }

    /// A prePaid period from `PricingCycle` and `Duration`, checked against the catalog.
    fn prepaid_period(
        &self,
        cycle: Option<&str>,
        duration: Option<i64>,
    ) -> Result<Period, AliError> {
        let cycle = cycle
            .filter(|c| !c.is_empty())
            .ok_or_else(|| AliError::missing("PricingCycle"))?;
        let Some(range) = self.catalog.pricing_cycles.get(cycle) else {
            let cycles: Vec<String> = self.catalog.pricing_cycles.keys().cloned().collect();
            return Err(invalid(format!(
                "PricingCycle should be select from set [{}], got {cycle:?}",
                cycles.join(", ")
            )));
        };
        let duration = duration.ok_or_else(|| AliError::missing("Duration"))?;
        if !range.contains(duration) {
            return Err(invalid(format!(
                "Duration must be between {} and {} for PricingCycle {cycle}, got {duration}",
                range.min, range.max
            )));
        }
        billing::period(Some(cycle), Some(duration))
            .ok_or_else(|| invalid(format!("PricingCycle {cycle:?} is not a period")))
    }

    /// QueryPriceV1: the list price of a configuration, from the price table. prePaid
    /// prices the whole period; postPaid prices one hour.
    fn query_price(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let body = match &call.input.body {
            Value::Null => json!({}),
            other => other.clone(),
        };
        let req: CreateRequest = serde_path_to_error::deserialize(body)
            .map_err(|e| invalid(format!("{} has the wrong type: {}", e.path(), e.inner())))?;
        let pay_type = req
            .pay_type
            .as_deref()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| AliError::missing("PayType"))?;
        let period = match pay_type {
            "prePaid" => self.prepaid_period(req.pricing_cycle.as_deref(), req.duration)?,
            "postPaid" => Period {
                unit: PeriodUnit::Hour,
                count: 1,
            },
            other => {
                return Err(invalid(format!(
                    "PayType should be select from set [{}], got {other:?}",
                    self.catalog.pay_types.join(", ")
                )))
            }
        };
        let table = self.ctx.billing.table(Product::StarRocks);
        let mut components = Vec::new();
        let mut total = 0;
        for (component, given, defaults, default_one) in [
            (
                Component::Frontend,
                &req.frontend_node_groups,
                &self.catalog.defaults.frontend,
                true,
            ),
            (
                Component::Backend,
                &req.backend_node_groups,
                &self.catalog.defaults.backend,
                true,
            ),
            (
                Component::Observer,
                &req.observer_node_groups,
                &self.catalog.defaults.frontend,
                false,
            ),
        ] {
            let specs = match given {
                Some(list) if !list.is_empty() => list.clone(),
                _ if default_one => vec![Default::default()],
                _ => continue,
            };
            let mut cents = 0;
            for spec in &specs {
                let cu = spec.cu.unwrap_or(defaults.cu);
                let nodes = spec
                    .resident_node_number
                    .unwrap_or(defaults.resident_node_number);
                let size = spec.storage_size.unwrap_or(defaults.storage_size);
                check_cu(&self.catalog, component, cu)?;
                check_node_number(&self.catalog, component, nodes)?;
                check_storage_size(&self.catalog, component, size)?;
                let spec_type = spec
                    .spec_type
                    .clone()
                    .unwrap_or_else(|| defaults.spec_type.clone());
                let level = spec
                    .storage_performance_level
                    .clone()
                    .unwrap_or_else(|| defaults.storage_performance_level.clone());
                let disks = spec.disk_number.unwrap_or(defaults.disk_number);
                let items = price_items(
                    [(cu, nodes, spec_type.as_str(), size, disks, level.as_str())].into_iter(),
                );
                cents += period.price_cents(self.monthly(&items)?);
            }
            total += cents;
            components.push(json!({
                "ComponentName": component.code(),
                "OriginalAmount": yuan(cents),
                "TradeAmount": yuan(cents),
                "DiscountAmount": 0.0,
            }));
        }
        Ok(json!({
            "Currency": table.currency,
            "OriginalAmount": yuan(total),
            "TradeAmount": yuan(total),
            "DiscountAmount": 0.0,
            "StandPrice": yuan(total),
            "StandDiscountPrice": 0.0,
            "ComponentPrices": components,
            "ModuleInstance": [],
            "OptionalPromotions": [],
            "Rules": [],
        }))
    }

    /// The monthly list price of an instance as it is configured now.
    fn instance_monthly(&self, doc: &Doc) -> Result<i64, AliError> {
        self.monthly(&group_items(&doc.node_groups))
    }

    /// QueryRenewPrice: what RenewInstance would charge for the period, at the instance's
    /// current configuration.
    async fn query_renew_price(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let input = &call.input;
        let id = required(input, "InstanceId")?;
        let period = self.prepaid_period(text(input, "PricingCycle"), int(input, "Duration")?)?;
        let (_, doc) = self.load(call.caller, id).await?;
        if doc.pay_type != "prePaid" {
            return Err(billing_error(BillingError::NotSubscribed(id.into())));
        }
        let cents = period.price_cents(self.instance_monthly(&doc)?);
        Ok(json!([{
            "BillingInstanceId": id,
            "Currency": self.ctx.billing.table(Product::StarRocks).currency,
            "OriginalAmount": yuan(cents),
            "TradeAmount": yuan(cents),
            "DiscountAmount": 0.0,
            "StandPrice": yuan(cents),
            "StandDiscountPrice": 0.0,
            "OptionalPromotions": [],
            "Rules": [],
        }]))
    }

    /// RenewInstance: more time on a prePaid instance, with a paid renewal order; an
    /// instance that expired (`disable`) runs again.
    async fn renew(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let input = &call.input;
        let id = required(input, "InstanceId")?;
        let period = self.prepaid_period(text(input, "PricingCycle"), int(input, "Duration")?)?;
        for _ in 0..WRITE_RETRIES {
            let (mut instance, doc) = self.load(call.caller, id).await?;
            if doc.pay_type != "prePaid" {
                return Err(billing_error(BillingError::NotSubscribed(id.into())));
            }
            match self.ctx.renew(&mut instance, period, true).await {
                Ok(order) => return Ok(json!({"OrderIds": [order.id]})),
                Err(BillingError::Store(StoreError::Conflict(_))) => continue,
                Err(e) => return Err(billing_error(e)),
            }
        }
        Err(store_error(StoreError::Conflict(format!(
            "instance {id} kept changing"
        ))))
    }

    /// ModifyChargeType: postPaid → prePaid (a paid new-subscription order for the period)
    /// or prePaid → postPaid (a change order; the term ends now).
    async fn modify_charge_type(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let input = &call.input;
        let id = required(input, "InstanceId")?;
        let auto_renew = flag(input, "AutoRenew")?.unwrap_or(false);
        let cycle = text(input, "PricingCycle");
        let duration = int(input, "Duration")?;
        for _ in 0..WRITE_RETRIES {
            let (mut instance, mut doc) = self.load(call.caller, id).await?;
            if instance.status != "running" {
                return Err(wrong_status(&instance.status, "ModifyChargeType"));
            }
            let now = self.ctx.clock.now_ms();
            let order = if doc.pay_type == "postPaid" {
                let period = self.prepaid_period(cycle, duration)?;
                let amount = period.price_cents(self.instance_monthly(&doc)?);
                doc.pay_type = "prePaid".into();
                doc.pricing_cycle = cycle.map(str::to_owned);
                doc.duration = duration;
                doc.auto_renew = auto_renew;
                doc.subscription = Some(Subscription::start(
                    period,
                    now,
                    auto_renew,
                    self.ctx.billing.scale,
                ));
                self.ctx
                    .order(&instance, OrderKind::New, amount, Some(period), true)
            } else {
                doc.pay_type = "postPaid".into();
                doc.pricing_cycle = None;
                doc.duration = None;
                doc.auto_renew = false;
                doc.subscription = None;
                self.ctx.order(&instance, OrderKind::Change, 0, None, true)
            };
            instance.doc = doc.document();
            instance.updated_ms = now;
            // postPaid → prePaid stops accrual now; prePaid → postPaid starts it.
            self.ctx.billing.stamp_usage(None, &mut instance, now);
            let expiry = self.ctx.expiry_job(&instance, doc.subscription.as_ref());
            let order_id: i64 = order.id.parse().map_err(AliError::internal)?;
            let batch = vec![
                Mutation::UpdateInstance(instance),
                Mutation::PutOrder(order),
                Mutation::PutJob(expiry),
            ];
            match self.ctx.engine.commit_unless_changed(batch).await {
                Ok(true) => return Ok(json!(order_id)),
                Ok(false) => continue,
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(store_error(StoreError::Conflict(format!(
            "instance {id} kept changing"
        ))))
    }

    /// QueryUnpaidOrder: the instance's order still waiting for payment, if any.
    async fn query_unpaid_order(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let id = required(&call.input, "InstanceId")?;
        let (instance, _) = self.load(call.caller, id).await?;
        let orders = self
            .ctx
            .store
            .instance_orders(&instance.account_id, &instance.id)
            .await
            .map_err(store_error)?;
        let unpaid = orders
            .iter()
            .rev()
            .find(|o| o.status == OrderStatus::Unpaid)
            .map(|o| o.id.parse::<i64>().map_err(AliError::internal))
            .transpose()?;
        Ok(json!(unpaid))
    }

    fn describe_regions(&self) -> Value {
        Value::Array(
            self.catalog
                .regions
                .iter()
                .map(|r| {
                    json!({
                        "RegionId": r.region_id,
                        "RegionName": r.region_name,
                        "Description": r.description,
                        "DescriptionEn": r.description_en,
                    })
                })
                .collect(),
        )
    }

    fn describe_zones(&self, input: &Input) -> Result<Value, AliError> {
        let region_id = required(input, "RegionId")?;
        let region = self.catalog.region(region_id).ok_or_else(|| {
            invalid(format!(
                "Region id should be select from set [{}]",
                self.catalog.region_ids()
            ))
        })?;
        Ok(json!({
            "OfficialAvailableZones": region.zones,
            "TrialAvailableZones": region.trial_zones,
        }))
    }

    /// TagResources and UnTagResources: all the named instances change, or none.
    async fn retag(&self, call: &Call<'_>, untag: bool) -> Result<Value, AliError> {
        let input = &call.input;
        let body = &input.body;
        let (ids, resource_type): (Vec<String>, Option<&str>) = if untag {
            (
                json_list(input, "ResourceId")?.unwrap_or_default(),
                text(input, "ResourceType"),
            )
        } else {
            let ids = match body.get("ResourceId") {
                Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
                    invalid(format!("ResourceId must be a list of instance ids: {e}"))
                })?,
                None => Vec::new(),
            };
            (ids, body.get("ResourceType").and_then(Value::as_str))
        };
        if ids.is_empty() {
            return Err(AliError::missing("ResourceId"));
        }
        if ids.len() > 50 {
            return Err(invalid("ResourceId can name at most 50 resources".into()));
        }
        check_resource_type(resource_type)?;
        enum Change {
            Put(Vec<Tag>),
            Remove(Vec<String>),
            RemoveAll,
        }
        let change = if untag {
            if flag(input, "All")?.unwrap_or(false) {
                Change::RemoveAll
            } else {
                let keys: Vec<String> = json_list(input, "TagKey")?.unwrap_or_default();
                if keys.is_empty() {
                    return Err(AliError::missing("TagKey"));
                }
                Change::Remove(keys)
            }
        } else {
            let tags: Vec<TagSpec> = match body.get("Tag") {
                Some(v) => serde_json::from_value(v.clone())
                    .map_err(|e| invalid(format!("Tag must be a list of {{Key, Value}}: {e}")))?,
                None => Vec::new(),
            };
            if tags.is_empty() {
                return Err(AliError::missing("Tag"));
            }
            Change::Put(create::validate_tags(&tags)?)
        };
        for _ in 0..WRITE_RETRIES {
            let mut batch = Vec::new();
            for id in &ids {
                let (mut instance, _) = self.load(call.caller, id).await?;
                match &change {
                    Change::Put(tags) => {
                        instance.put_tags(tags.iter().cloned());
                        if instance.tags.len() > 20 {
                            return Err(invalid(format!(
                                "instance {id} would carry more than 20 tags"
                            )));
                        }
                    }
                    Change::Remove(keys) => instance.tags.retain(|t| !keys.contains(&t.key)),
                    Change::RemoveAll => instance.tags.clear(),
                }
                instance.updated_ms = self.ctx.clock.now_ms();
                batch.push(Mutation::UpdateInstance(instance));
            }
            match self.ctx.store.commit(batch).await {
                Ok(()) => return Ok(json!(true)),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(AliError::new(
            409,
            "OperationConflict",
            "The instances are being changed by other requests; try again.",
        ))
    }
}

/// The billed items of node groups, each `(cu, nodes, specType, storageSize, diskNumber,
/// performance level)`: CU by spec type and disk GiB by performance level, for every node.
fn price_items<'a>(
    groups: impl Iterator<Item = (i64, i64, &'a str, i64, i64, &'a str)>,
) -> Vec<(String, i64)> {
    let mut items = Vec::new();
    for (cu, nodes, spec, size, disks, level) in groups {
        items.push((["cu.", spec].concat(), cu * nodes));
        items.push((["storage.", level].concat(), size * disks * nodes));
    }
    items
}

/// The billed items of a document's node groups.
fn group_items(groups: &[NodeGroup]) -> Vec<(String, i64)> {
    price_items(groups.iter().map(|g| {
        (
            g.cu,
            g.resident_node_number,
            g.spec_type.as_str(),
            g.storage_size,
            g.disk_number,
            g.storage_performance_level.as_str(),
        )
    }))
}

/// The billed items of a stored StarRocks document (for the ledger's generic calls, on
/// every create and transition). Only the node groups are read: parsing the whole
/// document was 2 % of a create's instructions.
pub(crate) fn billed_items(doc: &Document) -> Result<Vec<(String, i64)>, String> {
    let groups: Vec<NodeGroup> = doc
        .field("nodeGroups")
        .ok_or("the document has no readable nodeGroups")?;
    Ok(group_items(&groups))
}

/// Cents as the price API shows amounts: yuan with two decimals.
fn yuan(cents: i64) -> f64 {
    cents as f64 / 100.0
}

fn billing_error(e: BillingError) -> AliError {
    match e {
        BillingError::NotSubscribed(id) => AliError::new(
            400,
            "IncorrectInstanceStatus",
            format!("The instance {id} is postPaid; only a prePaid (subscription) instance can be renewed."),
        ),
        BillingError::Busy(_, status) => wrong_status(&status, "this billing operation"),
        BillingError::Store(e) => store_error(e),
        other => AliError::internal(other),
    }
}

fn check_resource_type(resource_type: Option<&str>) -> Result<(), AliError> {
    match resource_type {
        None => Err(AliError::missing("ResourceType")),
        Some(t) if t.eq_ignore_ascii_case("instance") => Ok(()),
        Some(t) => Err(invalid(format!(
            "ResourceType should be select from set [instance], got {t:?}"
        ))),
    }
}

/// Why a failed operation failed, as `code: message`; empty otherwise.
fn failure_detail(job: &Job) -> String {
    match (&job.outcome.error, job.state) {
        (Some(e), JobState::Failed) => format!("{}: {}", e.code, e.message),
        _ => String::new(),
    }
}

fn operation_status(state: JobState) -> &'static str {
    match state {
        JobState::Pending | JobState::Parked | JobState::Running => "RUNNING",
        JobState::Succeeded => "SUCCESS",
        JobState::Failed | JobState::Cancelled => "FAILED",
    }
}

fn action_name(action: &str) -> &'static str {
    match action {
        "ModifyCu" => "ModifyCu",
        "ModifyNodeNumber" => "ModifyNodeNumber",
        _ => "ModifyDiskSize",
    }
}

#[async_trait]
impl AliyunApi for StarRocks {
    fn product(&self) -> &'static str {
        "starrocks"
    }

    fn version(&self) -> &'static str {
        VERSION
    }

    fn operations(&self) -> &'static [Operation] {
        operations::OPERATIONS
    }

    fn decodes_own_body(&self, action: &str) -> bool {
        action == CREATE_ACTION
    }

    async fn call(&self, call: Call<'_>) -> Result<Body, AliError> {
        let (data, total) = match call.operation.action {
            CREATE_ACTION => (self.create(&call).await?, None),
            "DescribeInstances" => return self.describe_instances(&call).await,
            "DescribeNodeGroups" => {
                let (data, total) = self.describe_node_groups(&call).await?;
                (data, Some(total))
            }
            "ListOperationHistory" => {
                let (data, total) = self.list_operations(&call).await?;
                (data, Some(total))
            }
            "ReleaseInstance" => (self.release(&call).await?, None),
            "ModifyCu" | "ModifyNodeNumber" | "ModifyDiskSize" => {
                (self.modify_group(&call).await?, None)
            }
            "RestartInstance" => (self.restart(&call).await?, None),
            "UpdateInstanceName" => (self.update_name(&call).await?, None),
            "ChangeResourceGroup" => (self.change_resource_group(&call).await?, None),
            "TagResources" => (self.retag(&call, false).await?, None),
            "UnTagResources" => (self.retag(&call, true).await?, None),
            "DescribeRegions" => (self.describe_regions(), None),
            "QueryPriceV1" => (self.query_price(&call)?, None),
            "RenewInstance" => (self.renew(&call).await?, None),
            "QueryRenewPrice" => (self.query_renew_price(&call).await?, None),
            "ModifyChargeType" => (self.modify_charge_type(&call).await?, None),
            "QueryUnpaidOrder" => (self.query_unpaid_order(&call).await?, None),
            "DescribeAvailableZones" => (self.describe_zones(&call.input)?, None),
            other => return Err(AliError::not_implemented(other)),
        };
        Ok(envelope(call.request_id, data, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_envelope_is_the_tree_a_client_always_got() {
        for total in [None, Some(7)] {
            let printed = envelope("req-1", json!([{"b": 1, "a": 2}]), total).into_json();
            let mut tree = json!({
                "RequestId": "req-1", "Success": true, "HttpStatusCode": 200,
                "Data": [{"a": 2, "b": 1}],
            });
            if let Some(total) = total {
                tree["Total"] = json!(total);
            }
            assert_eq!(String::from_utf8(printed).unwrap(), tree.to_string());
        }
    }

    #[test]
    fn the_ledger_bills_a_stored_document_as_its_typed_form() {
        let group = |component: &str, cu: i64, nodes: i64, level: &str| {
            json!({
                "id": format!("ng-{component}"), "name": component, "component": component,
                "cu": cu, "residentNodeNumber": nodes, "storageSize": 100,
                "storagePerformanceLevel": level, "diskNumber": 2, "specType": "standard",
                "zoneId": "cn-hangzhou-i", "localStorageInstanceType": null,
                "status": "RUNNING", "createdMs": 1,
            })
        };
        let doc: Doc = serde_json::from_value(json!({
            "version": "3", "minorVersion": "3.3.9", "runMode": "shared_data",
            "packageType": "official", "payType": "postPaid", "pricingCycle": null,
            "duration": null, "autoRenew": false, "vpcId": "vpc-1", "zoneId": "cn-hangzhou-i",
            "vSwitches": [], "encrypted": false, "kmsKeyId": null,
            "ossAccessingRoleName": null, "enableMultiAz": false, "adminPassword": "sealed",
            "nodeGroups": [group("FE", 8, 3, "pl1"), group("BE", 16, 2, "pl0")],
        }))
        .unwrap();
        let items = billed_items(&doc.document()).unwrap();
        assert_eq!(items, group_items(&doc.node_groups));
        assert_eq!(items.len(), 4);
        assert_eq!(items[3], ("storage.pl0".to_owned(), 100 * 2 * 2));
        let broken = Document::from_stored("{\"nodeGroups\": [{\"cu\": \"eight\"}]}".into());
        assert!(billed_items(&broken).is_err());
    }
}
