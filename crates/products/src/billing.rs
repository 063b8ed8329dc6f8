//! The ledger as products use it: orders written in the commit of the instance change they
//! pay for, subscriptions kept in the instance document under `subscription`, and the
//! expiry of a term driven by a durable job (`exp-<instance id>`) due at the term's end.
//!
//! Payment is one call for both clouds: Huawei's BSS `PayOrders` pays any unpaid order of
//! the account, Alibaba's included (the StarRocks SDK has no pay call; real users pay in
//! the console). An unpaid order parks the job that delivers it (due never) until then.

use cloudtwin_core::billing::{
    Order, OrderKind, OrderStatus, Period, PeriodUnit, PriceBook, PriceTable, Subscription,
    TimeScale,
};
use cloudtwin_core::{Instance, Job, JobOutcome, JobState, Product, TransitionKind};
use cloudtwin_store::{Mutation, StoreError};
use serde_json::Value;

use crate::{Context, WRITE_RETRIES};

/// The job operation that ends a term; product histories leave it out.
pub const EXPIRE_OPERATION: &str = "Expire";
/// The due time of a job that waits for a payment.
pub const PARKED_MS: i64 = i64::MAX;
const SUBSCRIPTION_KEY: &str = "subscription";

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
        },
        Product::HtapStarRocks => Terms {
            steady: "normal",
            expired: "frozen",
            deleting: "deleting",
            deleted: "deleted",
        },
        Product::Havenask => Terms {
            steady: "READY",
            expired: "FROZEN",
            deleting: "DELETING",
            deleted: "DELETED",
        },
        _ => Terms {
            steady: "running",
            expired: "disable",
            deleting: "deleting",
            deleted: "deleted",
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

pub fn subscription_of(doc: &Value) -> Option<Subscription> {
    doc.get(SUBSCRIPTION_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

pub fn set_subscription(doc: &mut Value, subscription: Option<&Subscription>) {
    if let Some(map) = doc.as_object_mut() {
        match subscription {
            Some(s) => {
                map.insert(
                    SUBSCRIPTION_KEY.into(),
                    serde_json::to_value(s).expect("a subscription serializes"),
                );
            }
            None => {
                map.remove(SUBSCRIPTION_KEY);
            }
        }
    }
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
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Context {
    /// A new order id in the cloud's own shape: digits for Alibaba, `CS…` for Huawei.
    pub fn new_order_id(&self, product: Product) -> String {
        match product {
            Product::RocketMq | Product::HtapStarRocks | Product::TaurusDb => format!(
                "CS{}{}",
                self.ids.digits(12),
                self.ids.chars(b"ABCDEFGHJKLMNPQRSTUVWXYZ", 5)
            ),
            _ => self.ids.digits(15),
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
            currency: self.billing.table(instance.product).currency.clone(),
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
        let live = subscription.filter(|s| !s.auto_renew);
        Job {
            id: format!("exp-{}", instance.id),
            account_id: instance.account_id.clone(),
            product: instance.product,
            instance_id: instance.id.clone(),
            operation: EXPIRE_OPERATION.into(),
            state: if live.is_some() {
                JobState::Pending
            } else {
                JobState::Failed
            },
            outcome: JobOutcome {
                status: terms(instance.product).expired.into(),
                doc: None,
                remove: false,
            },
            created_ms: now,
            due_ms: live.map_or(now, |s| s.end_ms),
            finished_ms: if live.is_some() { None } else { Some(now) },
            attempts: 0,
            lease_owner: None,
            lease_until_ms: 0,
        }
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
            if let Some(mut instance) = self.store.instance(account_id, &order.instance_id).await? {
                let subscription = subscription_of(&instance.doc)
                    .map(|s| Subscription::start(s.period, now, s.auto_renew, self.billing.scale));
                set_subscription(&mut instance.doc, subscription.as_ref());
                if let Some(job_id) = &order.job_id {
                    let jobs = self.store.instance_jobs(account_id, &instance.id).await?;
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
                        self.expiry_job(&instance, subscription.as_ref()),
                    ));
                }
                instance.updated_ms = now;
                batch.insert(0, Mutation::UpdateInstance(instance));
            }
            batch.push(Mutation::PutOrder(order.clone()));
            match self.store.commit(batch).await {
                Ok(()) => {
                    self.engine.notify();
                    return Ok(order);
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict(format!("order {order_id} kept changing")).into())
    }

    /// Adds `period` to a subscribed instance's term with a paid renewal order; an expired
    /// instance comes back to its steady status. Returns the order.
    pub async fn renew(
        &self,
        instance: &mut Instance,
        period: Period,
        amount_cents: i64,
    ) -> Result<Order, BillingError> {
        let mut subscription = subscription_of(&instance.doc)
            .ok_or_else(|| BillingError::NotSubscribed(instance.id.clone()))?;
        let t = terms(instance.product);
        if instance.status != t.steady && instance.status != t.expired {
            return Err(BillingError::Busy(
                instance.id.clone(),
                instance.status.clone(),
            ));
        }
        let now = self.clock.now_ms();
        if subscription.end_ms < now {
            // A lapsed term restarts from now: the time it was frozen is not billed.
            subscription.end_ms = now;
        }
        subscription.renew(period, self.billing.scale);
        set_subscription(&mut instance.doc, Some(&subscription));
        instance.status = t.steady.into();
        instance.updated_ms = now;
        let order = self.order(instance, OrderKind::Renew, amount_cents, Some(period), true);
        let expiry = self.expiry_job(instance, Some(&subscription));
        self.store
            .commit(vec![
                Mutation::UpdateInstance(instance.clone()),
                Mutation::PutOrder(order.clone()),
                Mutation::PutJob(expiry),
            ])
            .await?;
        self.engine.notify();
        Ok(order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut doc = serde_json::json!({"a": 1});
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
}
