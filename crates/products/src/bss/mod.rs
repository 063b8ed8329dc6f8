//! Huawei BSS (billing, `huaweicloudsdkbss` v2), the calls Terraform makes for prePaid
//! resources (`client-flows.md` B.0): pay an order, read it (status 6 unpaid → 5 completed),
//! list the resources of an order or of ids (on the real API's misspelt `suscriptions`
//! path), unsubscribe, renew, and auto-renew on and off; and the pay-per-use usage reads
//! (`ListCustomerselfResourceRecords`, `ShowCustomerMonthlySum`) over each instance's usage
//! ledger (`billing::stamp_usage`). The ledger is the account's: one pay call serves both
//! clouds' orders (see `billing.rs`). Every other BSS operation answers 501.
//!
//! Error codes: `CBC.0100` is BSS' documented "parameter error"; cloudtwin also answers it
//! for ids the account does not have, so existence is not revealed.

mod routes;

use async_trait::async_trait;
use cloudtwin_core::billing::{
    format_cents, format_micros, Order, OrderKind, OrderStatus, Period, PeriodUnit, UsageSpan,
};
use cloudtwin_core::{Caller, FailedOutcome, Instance, JobOutcome, TransitionKind};
use cloudtwin_huawei::{Call, HuaweiApi, HwError, Reply, Route};
use cloudtwin_store::{Mutation, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::billing::{set_subscription, subscription_of, terms, usage_of, BillingError};
use crate::havenask::iso_time;
use crate::{Context, WRITE_RETRIES};

pub struct Bss {
    ctx: Context,
}

fn bad(message: impl Into<String>) -> HwError {
    HwError::new(400, "CBC.0100", message)
}

fn store_error(e: StoreError) -> HwError {
    match e {
        StoreError::Unavailable(m) => HwError::new(
            503,
            "CBC.0999",
            format!("the billing ledger is unavailable: {m}"),
        ),
        other => HwError::internal(other),
    }
}

fn billing_error(e: BillingError) -> HwError {
    match e {
        BillingError::Store(e) => store_error(e),
        other => bad(other.to_string()),
    }
}

/// BSS order status: 6 pending payment, 5 completed, 4 cancelled.
fn order_status(o: &Order) -> i64 {
    match o.status {
        OrderStatus::Unpaid => 6,
        OrderStatus::Paid => 5,
        OrderStatus::Cancelled => 4,
    }
}

/// BSS order type: 1 new, 2 renewal, 3 change, 4 unsubscribe.
fn order_type(o: &Order) -> i64 {
    match o.kind {
        OrderKind::New => 1,
        OrderKind::Renew => 2,
        OrderKind::Change => 3,
        OrderKind::Unsubscribe => 4,
    }
}

/// The cloud service type code BSS files a product's resources under.
fn service_type(instance_product: cloudtwin_core::Product) -> &'static str {
    match instance_product {
        cloudtwin_core::Product::RocketMq => "hws.service.type.dms",
        cloudtwin_core::Product::HtapStarRocks | cloudtwin_core::Product::TaurusDb => {
            "hws.service.type.gaussdb"
        }
        _ => "cloudtwin.service.type.alibaba",
    }
}

fn order_view(o: &Order, customer_id: &str) -> Value {
    let amount: f64 = format_cents(o.amount_cents).parse().unwrap_or_default();
    json!({
        "order_id": o.id,
        "customer_id": customer_id,
        "service_type_code": service_type(o.product),
        "source_type": 1,
        "status": order_status(o),
        "order_type": order_type(o),
        "amount_after_discount": amount,
        "official_amount": amount,
        "create_time": iso_time(o.created_ms),
        "payment_time": o.paid_ms.map(iso_time),
        "currency": o.currency,
    })
}

#[derive(Debug, Default, Deserialize)]
struct PayRequest {
    order_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ResourceQuery {
    resource_ids: Option<Vec<String>>,
    order_id: Option<String>,
    only_main_resource: Option<i64>,
    status_list: Option<Vec<i64>>,
    offset: Option<usize>,
    limit: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
struct RenewRequest {
    resource_ids: Option<Vec<String>>,
    period_type: Option<i64>,
    period_num: Option<i64>,
    is_auto_pay: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
struct UnsubscribeRequest {
    resource_ids: Option<Vec<String>>,
    unsubscribe_type: Option<i64>,
}

fn body<T: serde::de::DeserializeOwned + Default>(call: &Call<'_>) -> Result<T, HwError> {
    match call.json()? {
        Value::Null => Ok(T::default()),
        v => serde_json::from_value(v.clone())
            .map_err(|e| bad(format!("the request body is invalid: {e}"))),
    }
}

/// A bill cycle `YYYY-MM` as its UTC bounds in milliseconds.
fn cycle_bounds(cycle: &str) -> Option<(i64, i64)> {
    let (y, m) = cycle.split_once('-')?;
    let (y, m): (i64, i64) = (y.parse().ok()?, m.parse().ok()?);
    if y < 1970 || !(1..=12).contains(&m) || cycle.len() != 7 {
        return None;
    }
    let start = month_start_ms(y, m);
    let end = if m == 12 {
        month_start_ms(y + 1, 1)
    } else {
        month_start_ms(y, m + 1)
    };
    Some((start, end))
}

fn month_start_ms(y: i64, m: i64) -> i64 {
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400_000
}

/// Millionths of a yuan as a JSON number (the SDK reads amounts as decimals).
fn micros_number(micros: i64) -> Value {
    serde_json::from_str(&format_micros(micros)).unwrap_or(json!(0))
}

/// One pay-per-use record of `ListCustomerselfResourceRecords`: a stretch at one rate.
fn usage_record(caller: &Caller, instance: &Instance, span: &UsageSpan, cycle: &str) -> Value {
    let amount = micros_number(span.amount_micros());
    let hourly_micros = span.monthly_cents * 10_000 / cloudtwin_core::billing::HOURS_PER_MONTH;
    let seconds = span.seconds();
    json!({
        "id": format!("{}-{}", instance.id, span.start_ms / 1000),
        "bill_date": iso_time(span.start_ms)[..10],
        "bill_type": 5,
        "customer_id": caller.account_id,
        "region": instance.region,
        "region_name": instance.region,
        "cloud_service_type": service_type(instance.product),
        "resource_type": format!("hws.resource.type.{}", instance.product.as_str()),
        "effective_time": iso_time(span.start_ms),
        "expire_time": iso_time(span.end_ms),
        "resource_id": instance.id,
        "resource_name": instance.name,
        "product_spec_desc": format!("{} per month", format_cents(span.monthly_cents)),
        "trade_time": iso_time(span.end_ms),
        "charge_mode": "3",
        "usage_type": "duration",
        "usage": serde_json::from_str::<Value>(&format!("{}.{:06}", seconds / 3600, (seconds % 3600) * 1_000_000 / 3600)).unwrap_or(json!(0)),
        "usage_measure_id": 4,
        "unit_price": micros_number(hourly_micros),
        "unit": "CNY/hour",
        "official_amount": amount,
        "discount_amount": 0,
        "amount": amount,
        "debt_amount": amount,
        "cash_amount": 0,
        "measure_id": 1,
        "formula": format!("{} cents per month / 730 per hour, by the second, {seconds} s", span.monthly_cents),
        "bill_cycle": cycle,
    })
}

impl Bss {
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    async fn instance(&self, caller: &Caller, id: &str) -> Result<Option<Instance>, HwError> {
        Ok(self
            .ctx
            .store
            .instance(&caller.account_id, id)
            .await
            .map_err(store_error)?
            .filter(|i| !i.deleted))
    }

    /// BSS resource status: 2 in use, 4 frozen, 5 expired, 3 closed (being released).
    fn resource_status(&self, instance: &Instance) -> i64 {
        let t = terms(instance.product);
        let now = self.ctx.clock.now_ms();
        if instance.status == t.deleting || instance.deleted {
            3
        } else if instance.status == t.expired {
            5
        } else if subscription_of(&instance.doc).is_some_and(|s| s.lapsed(now)) {
            4
        } else {
            2
        }
    }

    fn resource_view(&self, caller: &Caller, instance: &Instance) -> Value {
        let sub = subscription_of(&instance.doc);
        let now = self.ctx.clock.now_ms();
        json!({
            "id": instance.id,
            "resource_id": instance.id,
            "resource_name": instance.name,
            "region_code": instance.region,
            "service_type_code": service_type(instance.product),
            "resource_type_code": format!("hws.resource.type.{}", instance.product.as_str()),
            "project_id": "",
            "parent_resource_id": "",
            "is_main_resource": 1,
            "status": self.resource_status(instance),
            "effective_time": sub.map(|s| iso_time(s.start_ms)),
            "expire_time": sub.map(|s| iso_time(s.visible_end_ms(now, self.ctx.billing.scale))),
            "expire_policy": if sub.is_some_and(|s| s.auto_renew) { 3 } else { 0 },
            "update_time": iso_time(instance.updated_ms),
            "customer_id": caller.account_id,
        })
    }

    async fn pay(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let caller = call.caller()?;
        let req: PayRequest = body(call)?;
        let id = req
            .order_id
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("order_id is required"))?;
        self.ctx
            .pay_order(&caller.account_id, &id)
            .await
            .map_err(billing_error)?;
        Ok(Reply::no_content())
    }

    async fn order_details(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let caller = call.caller()?;
        let id = call.path_param("order_id").unwrap_or_default();
        let order = self
            .ctx
            .store
            .order(&caller.account_id, id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| billing_error(BillingError::OrderNotFound(id.into())))?;
        let amount: f64 = format_cents(order.amount_cents).parse().unwrap_or_default();
        Ok(Reply::ok(json!({
            "total_count": 1,
            "order_info": order_view(&order, &caller.account_id),
            "order_line_items": [{
                "order_line_item_id": format!("{}-1", order.id),
                "service_type_code": service_type(order.product),
                "product_id": order.product.as_str(),
                "period_type": order.period.map(|p| match p.unit {
                    cloudtwin_core::billing::PeriodUnit::Year => 3,
                    _ => 2,
                }),
                "period_num": order.period.map(|p| p.count),
                "subscription_num": 1,
                "amount_after_discount": amount,
                "official_amount": amount,
                "currency": order.currency,
                "order_id": order.id,
            }],
        })))
    }

    /// ListPayPerUseCustomerResources (`…/suscriptions/resources/query`): by order or by ids.
    async fn resources(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let caller = call.caller()?;
        let q: ResourceQuery = body(call)?;
        let mut ids: Vec<String> = q.resource_ids.unwrap_or_default();
        if let Some(order_id) = q.order_id.as_deref().filter(|s| !s.is_empty()) {
            let order = self
                .ctx
                .store
                .order(&caller.account_id, order_id)
                .await
                .map_err(store_error)?;
            // The resource of an order exists once the order is paid.
            match order {
                Some(o) if o.status == OrderStatus::Paid => ids.push(o.instance_id),
                _ => {}
            }
        } else if ids.is_empty() {
            return Err(bad("resource_ids or order_id is required"));
        }
        if q.only_main_resource.is_some_and(|m| m != 0 && m != 1) {
            return Err(bad("only_main_resource must be 0 or 1"));
        }
        let mut data = Vec::new();
        for id in ids {
            if let Some(instance) = self.instance(caller, &id).await? {
                if subscription_of(&instance.doc).is_none() {
                    continue;
                }
                let view = self.resource_view(caller, &instance);
                let status = view["status"].as_i64().unwrap_or_default();
                if q.status_list
                    .as_ref()
                    .is_none_or(|l| l.is_empty() || l.contains(&status))
                {
                    data.push(view);
                }
            }
        }
        let total = data.len();
        let offset = q.offset.unwrap_or(0);
        let limit = q.limit.unwrap_or(10).clamp(1, 500);
        let page: Vec<Value> = data.into_iter().skip(offset).take(limit).collect();
        Ok(Reply::ok(json!({"data": page, "total_count": total})))
    }

    /// CancelResourcesSubscription: each subscribed resource is released (the product's
    /// deleting status, then gone) with an unsubscribe order.
    async fn unsubscribe(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let caller = call.caller()?;
        let req: UnsubscribeRequest = body(call)?;
        let ids = req
            .resource_ids
            .filter(|l| !l.is_empty())
            .ok_or_else(|| bad("resource_ids is required"))?;
        match req.unsubscribe_type {
            Some(1..=3) => {}
            Some(other) => {
                return Err(bad(format!(
                    "unsubscribe_type {other} is invalid: use 1, 2 or 3"
                )))
            }
            None => return Err(bad("unsubscribe_type is required")),
        }
        let mut order_ids = Vec::new();
        let mut failed = Vec::new();
        for id in &ids {
            match self.unsubscribe_one(caller, id).await {
                Ok(order_id) => order_ids.push(order_id),
                Err(e @ BillingError::Store(_)) => return Err(billing_error(e)),
                Err(e) => failed.push(json!({"resource_id": id, "error_code": "CBC.0100", "error_msg": e.to_string()})),
            }
        }
        Ok(Reply::ok(
            json!({"order_ids": order_ids, "fail_resource_infos": failed}),
        ))
    }

    /// A live instance of the caller's, read afresh for a write that may be retried.
    async fn live_resource(&self, caller: &Caller, id: &str) -> Result<Instance, BillingError> {
        self.ctx
            .store
            .instance(&caller.account_id, id)
            .await?
            .filter(|i| !i.deleted)
            .ok_or_else(|| BillingError::ResourceNotFound(id.into()))
    }

    async fn unsubscribe_one(&self, caller: &Caller, id: &str) -> Result<String, BillingError> {
        for _ in 0..WRITE_RETRIES {
            let mut instance = self.live_resource(caller, id).await?;
            if subscription_of(&instance.doc).is_none() {
                return Err(BillingError::NotSubscribed(id.into()));
            }
            let t = terms(instance.product);
            if instance.status == t.deleting {
                return Err(BillingError::Busy(id.into(), instance.status.clone()));
            }
            let order = self
                .ctx
                .order(&instance, OrderKind::Unsubscribe, 0, None, true);
            let expiry = self.ctx.expiry_job(&instance, None);
            let release = self.ctx.engine.job(
                format!("op-{}", self.ctx.ids.sortable_hex(16)),
                &instance,
                "Unsubscribe",
                TransitionKind::Delete,
                JobOutcome::new(t.deleted, None, FailedOutcome::new(t.delete_failed, None))
                    .releasing(),
            );
            instance.status = t.deleting.into();
            instance.updated_ms = self.ctx.clock.now_ms();
            let batch = vec![
                Mutation::UpdateInstance(instance),
                Mutation::PutOrder(order.clone()),
                Mutation::PutJob(expiry),
                Mutation::PutJob(release),
            ];
            match self.ctx.engine.commit_unless_changed(batch).await {
                Ok(true) => return Ok(order.id),
                Ok(false) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict(format!("resource {id} kept changing")).into())
    }

    /// RenewalResources: a renewal order per resource (`period_type` 2 month, 1–11, or 3
    /// year, 1–3, as the SDK documents). `is_auto_pay` 1 pays it and extends the term now;
    /// 0 (the default) leaves it unpaid until PayOrders.
    async fn renew(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let caller = call.caller()?;
        let req: RenewRequest = body(call)?;
        let ids = req
            .resource_ids
            .filter(|l| !l.is_empty())
            .ok_or_else(|| bad("resource_ids is required"))?;
        let (unit, max) = match req.period_type {
            Some(2) => (PeriodUnit::Month, 11),
            Some(3) => (PeriodUnit::Year, 3),
            _ => return Err(bad("period_type must be 2 (month) or 3 (year)")),
        };
        let count = req
            .period_num
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                bad(format!(
                    "period_num must be 1 to {max} for this period_type"
                ))
            })?;
        let paid = match req.is_auto_pay.unwrap_or(0) {
            0 => false,
            1 => true,
            other => return Err(bad(format!("is_auto_pay {other} is invalid: use 0 or 1"))),
        };
        let period = Period { unit, count };
        let mut order_ids = Vec::new();
        let mut failed = Vec::new();
        for id in &ids {
            match self.renew_one(caller, id, period, paid).await {
                Ok(order_id) => order_ids.push(order_id),
                Err(e @ BillingError::Store(_)) => return Err(billing_error(e)),
                Err(e) => failed.push(json!({"resource_id": id, "error_code": "CBC.0100", "error_msg": e.to_string()})),
            }
        }
        Ok(Reply::ok(
            json!({"order_ids": order_ids, "fail_resource_infos": failed}),
        ))
    }

    async fn renew_one(
        &self,
        caller: &Caller,
        id: &str,
        period: Period,
        paid: bool,
    ) -> Result<String, BillingError> {
        for _ in 0..WRITE_RETRIES {
            let mut instance = self.live_resource(caller, id).await?;
            match self.ctx.renew(&mut instance, period, paid).await {
                Ok(order) => return Ok(order.id),
                Err(BillingError::Store(StoreError::Conflict(_))) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict(format!("resource {id} kept changing")).into())
    }

    /// AutoRenewalResources / CancelAutoRenewalResources: the term renews itself at its end,
    /// or lapses then (its expiry job is cancelled or scheduled).
    async fn auto_renew(&self, call: &Call<'_>, on: bool) -> Result<Reply, HwError> {
        let caller = call.caller()?;
        let id = call
            .path_param("resource_id")
            .unwrap_or_default()
            .to_owned();
        for _ in 0..WRITE_RETRIES {
            let mut instance = self
                .instance(caller, &id)
                .await?
                .ok_or_else(|| billing_error(BillingError::ResourceNotFound(id.clone())))?;
            let mut sub = subscription_of(&instance.doc)
                .ok_or_else(|| billing_error(BillingError::NotSubscribed(id.clone())))?;
            sub.auto_renew = on;
            if on {
                // Rolls the stored end forward to the current term, so turning it off later
                // lapses at the end of the term a client sees.
                let now = self.ctx.clock.now_ms();
                sub.end_ms = sub.visible_end_ms(now, self.ctx.billing.scale);
            }
            set_subscription(&mut instance.doc, Some(&sub));
            // The typed documents that keep the flag (StarRocks') show it too.
            if instance.doc.field::<bool>("autoRenew").is_some() {
                instance.doc.set_field("autoRenew", &on);
            }
            instance.updated_ms = self.ctx.clock.now_ms();
            let expiry = self.ctx.expiry_job(&instance, Some(&sub));
            let batch = vec![Mutation::UpdateInstance(instance), Mutation::PutJob(expiry)];
            match self.ctx.engine.commit_unless_changed(batch).await {
                Ok(true) => return Ok(Reply::no_content()),
                Ok(false) => continue,
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(store_error(StoreError::Conflict(format!(
            "resource {id} kept changing"
        ))))
    }
    /// ListCustomerselfResourceRecords: the pay-per-use records of the `cycle` month, one
    /// per stretch of a resource at one rate, up to now, released resources included; the
    /// account's ledger, so Alibaba StarRocks instances are listed too.
    async fn usage_records(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let caller = call.caller()?;
        let cycle = call
            .query("cycle")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| bad("cycle is required (YYYY-MM)"))?;
        let (from, to) = cycle_bounds(cycle)
            .ok_or_else(|| bad(format!("cycle {cycle:?} is invalid: use YYYY-MM")))?;
        let offset: usize = match call.query("offset") {
            None => 0,
            Some(v) => v
                .parse()
                .map_err(|_| bad(format!("offset {v:?} is invalid")))?,
        };
        let limit: usize = match call.query("limit") {
            None => 10,
            Some(v) => v
                .parse()
                .ok()
                .filter(|l| (1..=1000).contains(l))
                .ok_or_else(|| bad(format!("limit {v:?} is invalid: use 1 to 1000")))?,
        };
        // Only pay-per-use (3) accrues usage; other charge modes have no such records.
        let pay_per_use = call
            .query("charge_mode")
            .is_none_or(|m| m.is_empty() || m == "3");
        let resource = call.query("resource_id").filter(|s| !s.is_empty());
        let service = call.query("cloud_service_type").filter(|s| !s.is_empty());
        let mut records = Vec::new();
        if pay_per_use {
            for (instance, span) in self
                .usage_spans(caller, resource, service, from, to)
                .await?
            {
                records.push(usage_record(caller, &instance, &span, cycle));
            }
        }
        let total = records.len();
        let page: Vec<Value> = records.into_iter().skip(offset).take(limit).collect();
        Ok(Reply::ok(
            json!({"fee_records": page, "total_count": total, "currency": "CNY"}),
        ))
    }
    /// The accruing stretches of the account's resources (released ones included) within
    /// `[from, to)` and up to now, oldest resource first.
    async fn usage_spans(
        &self,
        caller: &Caller,
        resource_id: Option<&str>,
        service: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<(Instance, UsageSpan)>, HwError> {
        let instances: Vec<Instance> = match resource_id {
            Some(id) => self
                .ctx
                .store
                .instance(&caller.account_id, id)
                .await
                .map_err(store_error)?
                .into_iter()
                .collect(),
            None => {
                let mut all = self
                    .ctx
                    .store
                    .instances(&cloudtwin_store::InstanceQuery {
                        account_id: caller.account_id.clone(),
                        include_released: true,
                        ..Default::default()
                    })
                    .await
                    .map_err(store_error)?;
                all.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
                all
            }
        };
        let now = self.ctx.clock.now_ms();
        let mut out = Vec::new();
        for instance in instances {
            if service.is_some_and(|s| s != service_type(instance.product)) {
                continue;
            }
            for span in usage_of(&instance.doc).spans(from, to.min(now)) {
                out.push((instance.clone(), span));
            }
        }
        Ok(out)
    }

    /// ShowCustomerMonthlySum: the `bill_cycle` month's pay-per-use usage summed per cloud
    /// service and resource type (`charging_mode` 3). Nothing is paid: cloudtwin keeps no
    /// balance, so the whole amount is debt.
    async fn monthly_sum(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let caller = call.caller()?;
        let cycle = call
            .query("bill_cycle")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| bad("bill_cycle is required (YYYY-MM)"))?;
        let (from, to) = cycle_bounds(cycle)
            .ok_or_else(|| bad(format!("bill_cycle {cycle:?} is invalid: use YYYY-MM")))?;
        let service = call.query("service_type_code").filter(|s| !s.is_empty());
        let mut sums: std::collections::BTreeMap<(String, String), i64> = Default::default();
        for (instance, span) in self.usage_spans(caller, None, service, from, to).await? {
            let key = (
                service_type(instance.product).to_owned(),
                format!("hws.resource.type.{}", instance.product.as_str()),
            );
            *sums.entry(key).or_default() += span.amount_micros();
        }
        let total: i64 = sums.values().sum();
        let bill_sums: Vec<Value> = sums
            .into_iter()
            .map(|((service, resource), micros)| {
                let amount = micros_number(micros);
                json!({
                    "bill_cycle": cycle,
                    "service_type_code": service,
                    "service_type_name": service,
                    "resource_type_code": resource,
                    "resource_type_name": resource,
                    "charging_mode": 3,
                    "official_amount": amount,
                    "official_discount_amount": 0,
                    "truncated_amount": 0,
                    "consume_amount": amount,
                    "coupon_amount": 0,
                    "cash_amount": 0,
                    "credit_amount": 0,
                    "debt_amount": amount,
                    "writeoff_amount": 0,
                    "measure_id": 1,
                    "bill_type": 5,
                    "customer_id": caller.account_id,
                })
            })
            .collect();
        let amount = micros_number(total);
        Ok(Reply::ok(json!({
            "total_count": bill_sums.len(),
            "bill_sums": bill_sums,
            "consume_amount": amount,
            "debt_amount": amount,
            "coupon_amount": 0,
            "cash_amount": 0,
            "credit_amount": 0,
            "writeoff_amount": 0,
            "measure_id": 1,
            "currency": "CNY",
        })))
    }
}

#[async_trait]
impl HuaweiApi for Bss {
    fn service(&self) -> &'static str {
        "bss"
    }

    fn routes(&self) -> &'static [Route] {
        routes::ROUTES
    }

    async fn call(&self, call: Call<'_>) -> Result<Reply, HwError> {
        match call.route.operation {
            "PayOrders" => self.pay(&call).await,
            "ShowCustomerOrderDetails" => self.order_details(&call).await,
            "ListPayPerUseCustomerResources" => self.resources(&call).await,
            "CancelResourcesSubscription" => self.unsubscribe(&call).await,
            "RenewalResources" => self.renew(&call).await,
            "AutoRenewalResources" => self.auto_renew(&call, true).await,
            "CancelAutoRenewalResources" => self.auto_renew(&call, false).await,
            "ListCustomerselfResourceRecords" => self.usage_records(&call).await,
            "ShowCustomerMonthlySum" => self.monthly_sum(&call).await,
            other => Err(HwError::not_implemented(other)),
        }
    }
}
