//! The ledger as products use it: orders written in the commit of the instance change they
//! pay for, subscriptions kept in the instance document under `subscription`, and the
//! expiry of a term driven by a durable job (`exp-<instance id>`) due at the term's end.
//!
//! Payment is one call for both clouds: Huawei's BSS `PayOrders` pays any unpaid order of
//! the account, Alibaba's included (the StarRocks SDK has no pay call; real users pay in
//! the console). An unpaid order parks the job that delivers it (due never) until then.

use cloudtwin_core::billing::{
    Order, OrderKind, OrderStatus, Period, PeriodUnit, PriceBook, PriceTable, Subscription,
    TimeScale, UsageLedger,
};
use cloudtwin_core::{Document, Instance, Job, JobOutcome, JobState, Product, TransitionKind};
use cloudtwin_store::{Mutation, StoreError};

use crate::{Context, WRITE_RETRIES};

/// The job operation that ends a term; product histories leave it out.
pub use cloudtwin_core::billing::EXPIRE_OPERATION;
/// The due time of a job that waits for a payment.
pub const PARKED_MS: i64 = i64::MAX;
/// Members billing reads by name from a stored document on every transition
/// (`subscription_of`, `usage_of`), walking the members before them: product documents
/// declare them first, so the walk stops at once (bench finding 84).
const SUBSCRIPTION_KEY: &str = "subscription";
const USAGE_KEY: &str = "usage";

/// Prices and the pace of subscription time.
#[derive(Debug, Clone)]
pub struct Billing {
    pub prices: PriceBook,
    pub scale: TimeScale,
}

impl Billing {
    /// `catalog/prices.json`, at the given time scale.
    pub fn embedded(scale: TimeScale) -> Self {
        Billing {
            prices: serde_json::from_str(include_str!("../../../catalog/prices.json"))
                .expect("catalog/prices.json is valid"),
            scale,
        }
    }

    pub fn table(&self, product: Product) -> &PriceTable {
        self.prices
            .table(product)
            .expect("catalog/prices.json prices every billed product")
    }
}

/// The status words a product uses around billing.
pub struct Terms {
    /// What an instance shows when nothing is under way.
    pub steady: &'static str,
    /// What an instance shows once its term ran out.
    pub expired: &'static str,
    /// What an instance shows while it is being released.
    pub deleting: &'static str,
    /// What the release job leaves (the instance then disappears from reads).
    pub deleted: &'static str,
    /// What a release that fails for good leaves (the product's own delete shows the same).
    pub delete_failed: &'static str,
    /// Statuses of an instance not (yet) delivered: being created, unpaid, or whose create
    /// failed. Nothing accrues in them.
    pub undelivered: &'static [&'static str],
}

/// StarRocks' `disable` is the SDK's "Unavailable" (an overdue or expired instance);
/// DMS shows `FROZEN` (its documented status list); TaurusDB HTAP `frozen`.
pub fn terms(product: Product) -> Terms {
    match product {
        Product::RocketMq => Terms {
            steady: "RUNNING",
            expired: "FROZEN",
            deleting: "DELETING",
            deleted: "DELETED",
            delete_failed: "ERROR",
            undelivered: &["CREATING", "CREATEFAILED"],
        },
        Product::HtapStarRocks => Terms {
            steady: "normal",
            expired: "frozen",
            deleting: "deleting",
            deleted: "deleted",
            delete_failed: "abnormal",
            undelivered: &["pending", "createfail"],
        },
        Product::Havenask => Terms {
            steady: "READY",
            expired: "FROZEN",
            deleting: "DELETING",
            deleted: "DELETED",
            delete_failed: "READY",
            undelivered: &["INIT", "CREATE_FAILED"],
        },
        _ => Terms {
            steady: "running",
            expired: "disable",
            deleting: "deleting",
            deleted: "deleted",
            delete_failed: "deleting_failed",
            undelivered: &["creating", "unpaid", "creating_failed"],
        },
    }
}

/// The period a request names with a unit (`Month`, `year`, ...) and a count.
pub fn period(unit: Option<&str>, count: Option<i64>) -> Option<Period> {
    Some(Period {
        unit: PeriodUnit::parse(unit?)?,
        count: count?,
    })
}

pub fn subscription_of(doc: &Document) -> Option<Subscription> {
    doc.field(SUBSCRIPTION_KEY)
}

pub fn set_subscription(doc: &mut Document, subscription: Option<&Subscription>) {
    match subscription {
        Some(s) => doc.set_field(SUBSCRIPTION_KEY, s),
        None => doc.remove_field(SUBSCRIPTION_KEY),
    };
}

/// A pay-per-use instance's rate history, kept in its document under `usage`.
pub fn usage_of(doc: &Document) -> UsageLedger {
    doc.field(USAGE_KEY).unwrap_or_default()
}

fn set_usage(doc: &mut Document, ledger: &UsageLedger) {
    doc.set_field(USAGE_KEY, ledger);
}

impl Billing {
    /// The monthly list price an instance accrues at as it stands: its configuration's
    /// price while it is pay-per-use (no subscription) and delivered; 0 while it is being
    /// created, unpaid, failed to create, expired, being released or gone.
    pub fn usage_rate(&self, instance: &Instance) -> i64 {
        let t = terms(instance.product);
        let idle = instance.deleted
            || subscription_of(&instance.doc).is_some()
            || [t.deleting, t.deleted, t.expired].contains(&instance.status.as_str())
            || t.undelivered.contains(&instance.status.as_str());
        if idle {
            return 0;
        }
        let Some(table) = self.prices.table(instance.product) else {
            return 0;
        };
        billed_items(instance)
            .ok()
            .and_then(|items| table.monthly_total(&items).ok())
            .unwrap_or(0)
    }

    /// Brings the instance's usage ledger up to its current rate at `now_ms`, starting from
    /// `history` (the document before a job's outcome replaced it) or its own.
    pub fn stamp_usage(&self, history: Option<&Document>, instance: &mut Instance, now_ms: i64) {
        let mut ledger = usage_of(history.unwrap_or(&instance.doc));
        let changed = ledger.record(now_ms, self.usage_rate(instance));
        if changed || (history.is_some() && !ledger.segments.is_empty()) {
            set_usage(&mut instance.doc, &ledger);
        }
    }
}

/// Keeps the usage ledger across job outcomes, which replace the document wholesale (a
/// document kept still holds its ledger).
impl cloudtwin_engine::OutcomeHook for Billing {
    fn on_outcome(&self, replaced_doc: Option<&Document>, after: &mut Instance, now_ms: i64) {
        self.stamp_usage(replaced_doc, after, now_ms);
    }
}

/// The term, if it ends by itself: one that renews itself has nothing to expire.
fn lapsing(subscription: Option<&Subscription>) -> Option<&Subscription> {
    subscription.filter(|s| !s.auto_renew)
}

/// Why a billing call was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BillingError {
    #[error("order {0} does not exist")]
    OrderNotFound(String),
    #[error("order {0} is {1}; only an unpaid order can be paid")]
    NotUnpaid(String, &'static str),
    #[error("resource {0} does not exist")]
    ResourceNotFound(String),
    #[error("resource {0} is not a subscription (prePaid) resource")]
    NotSubscribed(String),
    #[error("resource {0} is {1}; wait until the operation under way ends")]
    Busy(String, String),
    #[error("{0}")]
    Unpriced(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The billed items of an instance as configured now, in its product's own terms.
pub fn billed_items(instance: &Instance) -> Result<Vec<(String, i64)>, String> {
    match instance.product {
        Product::StarRocks => crate::starrocks::billed_items(&instance.doc),
        Product::Havenask => crate::havenask::billed_items(&instance.doc),
        Product::RocketMq => crate::rocketmq::billed_items(&instance.doc),
        Product::HtapStarRocks => crate::taurusdb::billed_items(&instance.doc),
        other => Err(format!("{} has no price table", other.as_str())),
    }
}

impl Context {
    /// The monthly list price of `items` of a product, from `catalog/prices.json`.
    pub fn monthly_cents(
        &self,
        product: Product,
        items: &[(String, i64)],
    ) -> Result<i64, BillingError> {
        self.billing
            .prices
            .table(product)
            .ok_or_else(|| {
                BillingError::Unpriced(format!("{} has no price table", product.as_str()))
            })?
            .monthly_total(items)
            .map_err(|e| BillingError::Unpriced(e.to_string()))
    }

    /// The monthly list price of an instance as it is configured now.
    pub fn instance_monthly_cents(&self, instance: &Instance) -> Result<i64, BillingError> {
        let items = billed_items(instance).map_err(BillingError::Unpriced)?;
        self.monthly_cents(instance.product, &items)
    }

    /// A new order id in the cloud's own shape: digits for Alibaba, `CS…` for Huawei.
    pub fn new_order_id(&self, product: Product) -> String {
        match product {
            Product::RocketMq | Product::HtapStarRocks | Product::TaurusDb => format!(
                "CS{}{}",
                self.ids.sortable_digits(12),
                self.ids.chars(b"ABCDEFGHJKLMNPQRSTUVWXYZ", 5)
            ),
            _ => self.ids.sortable_digits(15),
        }
    }

    /// An order of `instance`, paid now or waiting for payment.
    pub fn order(
        &self,
        instance: &Instance,
        kind: OrderKind,
        amount_cents: i64,
        period: Option<Period>,
        paid: bool,
    ) -> Order {
        let now = self.clock.now_ms();
        Order {
            id: self.new_order_id(instance.product),
            account_id: instance.account_id.clone(),
            product: instance.product,
            instance_id: instance.id.clone(),
            kind,
            status: if paid {
                OrderStatus::Paid
            } else {
                OrderStatus::Unpaid
            },
            amount_cents,
            currency: self
                .billing
                .prices
                .table(instance.product)
                .map_or_else(|| "CNY".to_owned(), |t| t.currency.clone()),
            period,
            created_ms: now,
            paid_ms: paid.then_some(now),
            job_id: None,
            status_on_pay: None,
        }
    }

    /// The job that ends `instance`'s term at `subscription.end_ms`, or cancels a pending
    /// one when the term cannot lapse (auto-renewal, or no term any more).
    pub fn expiry_job(&self, instance: &Instance, subscription: Option<&Subscription>) -> Job {
        let now = self.clock.now_ms();
        let live = lapsing(subscription);
        Job {
            id: format!("exp-{}", instance.id),
            account_id: instance.account_id.clone(),
            product: instance.product,
            instance_id: instance.id.clone(),
            operation: EXPIRE_OPERATION.into(),
            state: if live.is_some() {
                JobState::Pending
            } else {
                JobState::Cancelled
            },
            // A lapse that cannot be applied leaves the instance as it is.
            outcome: JobOutcome {
                status: terms(instance.product).expired.into(),
                doc: None,
                remove: false,
                on_failure: None,
                error: None,
            },
            created_ms: now,
            due_ms: live.map_or(now, |s| s.end_ms),
            finished_ms: if live.is_some() { None } else { Some(now) },
            attempts: 0,
            lease_owner: None,
            lease_until_ms: 0,
        }
    }

    /// The expiry job of a new term, if the term can lapse. A term that renews itself has
    /// nothing to expire, so no row is written for it: turning auto-renewal off later writes
    /// the job (`expiry_job` is an upsert by instance).
    pub fn first_expiry_job(
        &self,
        instance: &Instance,
        subscription: Option<&Subscription>,
    ) -> Option<Job> {
        // Asked before the job is built, which a self-renewing term never needs.
        lapsing(subscription)?;
        Some(self.expiry_job(instance, subscription))
    }

    /// Parks a job until its order is paid.
    pub fn park(job: &mut Job) {
        job.due_ms = PARKED_MS;
    }

    /// Pays an unpaid order: the order, the instance's term (restarted from now) and the
    /// parked job that delivers it move in one commit.
    pub async fn pay_order(&self, account_id: &str, order_id: &str) -> Result<Order, BillingError> {
        for _ in 0..WRITE_RETRIES {
            let mut order = self
                .store
                .order(account_id, order_id)
                .await?
                .ok_or_else(|| BillingError::OrderNotFound(order_id.into()))?;
            let now = self.clock.now_ms();
            if order.pay(now).is_err() {
                return Err(BillingError::NotUnpaid(
                    order_id.into(),
                    order.status.as_str(),
                ));
            }
            let mut batch = Vec::new();
            let instance = self.store.instance(account_id, &order.instance_id).await?;
            if instance.as_ref().is_none_or(|i| i.deleted) {
                // What it would buy was released meanwhile: the order is void.
                order.status = OrderStatus::Cancelled;
                order.paid_ms = None;
                self.store.commit(vec![Mutation::PutOrder(order)]).await?;
                return Err(BillingError::NotUnpaid(order_id.into(), "cancelled"));
            }
            if let Some(mut instance) = instance {
                if order.kind == OrderKind::Renew {
                    // A renewal paid later adds its period when it is paid.
                    let extended = order
                        .period
                        .and_then(|p| self.extend(&mut instance, p, now));
                    if let Some(s) = extended.filter(|_| !instance.deleted) {
                        batch.push(Mutation::PutJob(self.expiry_job(&instance, Some(&s))));
                    }
                } else {
                    self.deliver(&mut instance, &order, now, &mut batch).await?;
                }
                batch.insert(0, Mutation::UpdateInstance(instance));
            }
            batch.push(Mutation::PutOrder(order.clone()));
            match self.engine.commit_unless_changed(batch).await {
                Ok(true) => return Ok(order),
                Ok(false) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict(format!("order {order_id} kept changing")).into())
    }

    /// A paid new order delivers its instance: the term restarts from now, the parked job
    /// is due after the lifecycle's delay, and the instance shows the order's status.
    async fn deliver(
        &self,
        instance: &mut Instance,
        order: &Order,
        now: i64,
        batch: &mut Vec<Mutation>,
    ) -> Result<(), BillingError> {
        let subscription = subscription_of(&instance.doc)
            .map(|s| Subscription::start(s.period, now, s.auto_renew, self.billing.scale));
        set_subscription(&mut instance.doc, subscription.as_ref());
        if let Some(job_id) = &order.job_id {
            let jobs = self
                .store
                .instance_jobs(&instance.account_id, &instance.id)
                .await?;
            if let Some(mut job) = jobs.into_iter().find(|j| &j.id == job_id) {
                job.created_ms = now;
                job.due_ms = now + self.engine.lifecycle().delay_ms(TransitionKind::Create);
                if let Some(doc) = job.outcome.doc.as_mut() {
                    set_subscription(doc, subscription.as_ref());
                }
                batch.push(Mutation::PutJob(job));
            }
        }
        if let Some(status) = &order.status_on_pay {
            instance.status = status.clone();
        }
        if !instance.deleted {
            batch.push(Mutation::PutJob(
                self.expiry_job(instance, subscription.as_ref()),
            ));
        }
        instance.updated_ms = now;
        Ok(())
    }

    /// Adds `period` after the term's end (from now if it lapsed: the frozen time is not
    /// billed); an expired instance comes back to its steady status.
    fn extend(&self, instance: &mut Instance, period: Period, now: i64) -> Option<Subscription> {
        let mut s = subscription_of(&instance.doc)?;
        if s.end_ms < now {
            s.end_ms = now;
        }
        s.renew(period, self.billing.scale);
        set_subscription(&mut instance.doc, Some(&s));
        let t = terms(instance.product);
        if instance.status == t.expired {
            instance.status = t.steady.into();
        }
        instance.updated_ms = now;
        Some(s)
    }

    /// A renewal order for `period` at the instance's current list price. Paid, it extends
    /// the term now; unpaid, it extends the term when it is paid. Returns the order.
    pub async fn renew(
        &self,
        instance: &mut Instance,
        period: Period,
        paid: bool,
    ) -> Result<Order, BillingError> {
        if subscription_of(&instance.doc).is_none() {
            return Err(BillingError::NotSubscribed(instance.id.clone()));
        }
        let t = terms(instance.product);
        if instance.status != t.steady && instance.status != t.expired {
            return Err(BillingError::Busy(
                instance.id.clone(),
                instance.status.clone(),
            ));
        }
        let amount = period.price_cents(self.instance_monthly_cents(instance)?);
        let order = self.order(instance, OrderKind::Renew, amount, Some(period), paid);
        let mut batch = vec![Mutation::PutOrder(order.clone())];
        if paid {
            let now = self.clock.now_ms();
            let s = self.extend(instance, period, now).expect("checked above");
            batch.push(Mutation::UpdateInstance(instance.clone()));
            batch.push(Mutation::PutJob(self.expiry_job(instance, Some(&s))));
        }
        self.engine.commit(batch).await?;
        Ok(order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn every_billed_product_has_a_price_table() {
        let b = Billing::embedded(TimeScale::REAL);
        for p in [
            Product::StarRocks,
            Product::Havenask,
            Product::RocketMq,
            Product::HtapStarRocks,
        ] {
            assert_eq!(b.table(p).currency, "CNY", "{p:?}");
        }
    }

    /// Every flavor, spec and storage a create accepts has a list price, so no valid
    /// prePaid create can fail on an unpriced item.
    #[test]
    fn every_sellable_item_of_the_catalogs_is_priced() {
        let b = Billing::embedded(TimeScale::REAL);
        let priced = |p: Product, item: String| {
            assert!(
                b.table(p).monthly_cents.contains_key(&item),
                "{p:?} has no price for {item}"
            );
        };
        let json = |text: &str| serde_json::from_str::<Value>(text).unwrap();
        let sr = json(include_str!("../../../catalog/starrocks.json"));
        for spec in sr["specTypes"].as_array().unwrap() {
            priced(Product::StarRocks, format!("cu.{}", spec.as_str().unwrap()));
        }
        for level in sr["performanceLevels"].as_array().unwrap() {
            priced(
                Product::StarRocks,
                format!("storage.{}", level.as_str().unwrap()),
            );
        }
        let rmq = json(include_str!("../../../catalog/rocketmq-catalog.json"));
        for flavor in rmq["products"].as_array().unwrap() {
            priced(
                Product::RocketMq,
                format!("flavor.{}", flavor["product_id"].as_str().unwrap()),
            );
        }
        for code in rmq["storage_spec_codes"].as_array().unwrap() {
            priced(
                Product::RocketMq,
                format!("storage.{}", code.as_str().unwrap()),
            );
        }
        let htap = json(include_str!("../../../catalog/taurusdb-htap.json"));
        for flavor in htap["flavors"].as_array().unwrap() {
            priced(
                Product::HtapStarRocks,
                format!("flavor.{}", flavor["id"].as_str().unwrap()),
            );
        }
        for storage in htap["storage_types"].as_array().unwrap() {
            priced(
                Product::HtapStarRocks,
                format!("storage.{}", storage["name"].as_str().unwrap()),
            );
        }
    }

    #[test]
    fn the_subscription_key_round_trips() {
        let mut doc = Document::from(serde_json::json!({"a": 1}));
        let s = Subscription::start(
            Period {
                unit: cloudtwin_core::billing::PeriodUnit::Month,
                count: 1,
            },
            0,
            false,
            TimeScale::REAL,
        );
        set_subscription(&mut doc, Some(&s));
        assert_eq!(subscription_of(&doc), Some(s));
        set_subscription(&mut doc, None);
        assert_eq!(doc, serde_json::json!({"a": 1}));
    }
    fn htap(status: &str, be_count: i64) -> Instance {
        let volume = serde_json::json!({"io_type": "SSD", "capacity_in_gb": 50});
        Instance {
            id: "sr-1".into(),
            account_id: "acc".into(),
            product: Product::HtapStarRocks,
            region: "r".into(),
            name: "n".into(),
            status: status.into(),
            resource_group_id: String::new(),
            tags: Vec::new(),
            doc: serde_json::json!({
                "fe_count": 1, "fe_flavor_id": "afef3bfd-ac7c-32e1-ba44-c388acbb196a",
                "fe_volume": volume,
                "be_count": be_count, "be_flavor_id": "afef3bfd-ac7c-32e1-ba44-c388acbb196a",
                "be_volume": volume,
            })
            .into(),
            created_ms: 0,
            updated_ms: 0,
            deleted: false,
            version: 1,
        }
    }

    /// Only a delivered, pay-per-use instance accrues, at its configuration's list price.
    #[test]
    fn the_usage_rate_is_the_list_price_of_a_delivered_postpaid_instance() {
        let b = Billing::embedded(TimeScale::REAL);
        let node = 80_000 + 50 * 100;
        assert_eq!(b.usage_rate(&htap("normal", 1)), 2 * node);
        assert_eq!(b.usage_rate(&htap("normal", 3)), 4 * node);
        for idle in ["pending", "createfail", "deleting", "frozen"] {
            assert_eq!(b.usage_rate(&htap(idle, 1)), 0, "{idle}");
        }
        let mut prepaid = htap("normal", 1);
        let month = Period {
            unit: PeriodUnit::Month,
            count: 1,
        };
        set_subscription(
            &mut prepaid.doc,
            Some(&Subscription::start(month, 0, false, TimeScale::REAL)),
        );
        assert_eq!(b.usage_rate(&prepaid), 0);
    }

    /// A job outcome replaces the document; the ledger of the document before is kept.
    #[test]
    fn stamping_keeps_the_history_across_a_replaced_document() {
        let b = Billing::embedded(TimeScale::REAL);
        let mut inst = htap("normal", 1);
        b.stamp_usage(None, &mut inst, 10_000);
        let before = inst.clone();
        let mut after = htap("normal", 3);
        b.stamp_usage(Some(&before.doc), &mut after, 20_500);
        let ledger = usage_of(&after.doc);
        assert_eq!(ledger.segments.len(), 2);
        assert_eq!(ledger.segments[1].start_ms, 20_000);
        // Nothing changes the rate: the history is still carried over.
        let mut again = htap("normal", 3);
        b.stamp_usage(Some(&after.doc), &mut again, 30_000);
        assert_eq!(usage_of(&again.doc), ledger);
        // A non-billed instance gets no ledger at all.
        let mut creating = htap("pending", 1);
        b.stamp_usage(None, &mut creating, 0);
        assert!(creating.doc.to_value().unwrap().get(USAGE_KEY).is_none());
    }
}
