//! The store: every piece of durable state goes through the [`Store`] trait.
//! SQLite is the embedded default; other backends implement the same trait and pass
//! the same [`conformance`] suite.

pub mod conformance;
mod sqlite;

use async_trait::async_trait;
use cloudtwin_core::billing::Order;
use cloudtwin_core::{AccessKey, Account, Instance, Job, JobState, Product, Tag};

pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A uniqueness or version check failed: someone else wrote first.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The backend could not be reached or refused the operation.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A [`Mutation::RequireNameFree`] found the name in use.
    #[error("the name {name:?} is in use by instance {holder_id}")]
    NameTaken { name: String, holder_id: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A saved answer to a request that carried a client token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub account_id: String,
    pub product: Product,
    pub action: String,
    pub token: String,
    /// Hash of the request's parameters, without the token.
    pub request_hash: String,
    /// The product's answer, replayed verbatim.
    pub response: String,
    pub created_ms: i64,
}

/// The password of an account's IAM user (Huawei dialect), as a salted slow hash only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamPassword {
    pub account_id: String,
    /// `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`; never the password itself.
    pub hash: String,
    pub updated_ms: i64,
}

/// One write. A batch of them commits atomically, or not at all.
#[derive(Debug, Clone)]
pub enum Mutation {
    InsertAccount(Account),
    /// Inserts or replaces a key.
    PutAccessKey(AccessKey),
    /// Fails with `NameTaken` if another live instance holds the name. Put it before the
    /// insert or update that takes the name: checked in the same commit, two requests for
    /// one name cannot both pass, as they could when a product read before it wrote.
    RequireNameFree(NameClaim),
    /// Fails with `Conflict` if the id exists.
    InsertInstance(Instance),
    /// Fails with `Conflict` unless the stored version equals `instance.version`;
    /// the stored version becomes `instance.version + 1`.
    UpdateInstance(Instance),
    /// Inserts or replaces a job. For new jobs; a claimed job is written with
    /// `UpdateClaimedJob`.
    PutJob(Job),
    /// Writes a claimed job (finished, or given back for a retry) only while the claim
    /// that `owner` made is still the job's lease: the stored job is `running`, leased by
    /// `owner`, and its attempts (one per claim) equal `job.attempts`. Otherwise
    /// `Conflict`: the lease was taken over and another worker owns the job now.
    UpdateClaimedJob {
        job: Job,
        owner: String,
    },
    /// Moves the end of a held lease (same condition as `UpdateClaimedJob`) to `until_ms`.
    ExtendLease {
        job_id: String,
        owner: String,
        attempts: i32,
        until_ms: i64,
    },
    /// Makes a parked job pending and due at `due_ms`; fails with `Conflict` unless the
    /// job is parked, so two steps never release the same job.
    UnparkJob {
        id: String,
        due_ms: i64,
    },
    /// Fails with `Conflict` if a live record with the same key exists; records
    /// created before `expire_before_ms` are dropped first.
    InsertIdempotency {
        record: IdempotencyRecord,
        expire_before_ms: i64,
    },
    /// Records a signature nonce of an access key until `expires_ms`. Fails with
    /// `Conflict` if the same pair is recorded and has not expired at `now_ms`; an expired
    /// record is replaced.
    InsertNonce {
        access_key_id: String,
        nonce: String,
        expires_ms: i64,
        now_ms: i64,
    },
    /// Drops nonce records that expired at or before `now_ms`.
    PurgeNonces {
        now_ms: i64,
    },
    /// Inserts or replaces the password hash of an account's IAM user; fails with
    /// `Conflict` if the account does not exist.
    PutIamPassword(IamPassword),
    /// Inserts or updates an order of the ledger. Its id, account, instance and creation
    /// time never change: a write that names an existing id with others fails with
    /// `Conflict` and changes nothing.
    PutOrder(Order),
}

/// A name that an instance of a product takes, unique within the account (and within
/// `region`, when given), for [`Mutation::RequireNameFree`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameClaim {
    pub account_id: String,
    pub product: Product,
    pub region: Option<String>,
    pub name: String,
    /// The instance renamed, which does not block itself.
    pub except_id: Option<String>,
}

impl NameClaim {
    /// The lookup of the name's possible holders. By name only: with the region too, SQLite
    /// may pick the region index and scan it; [`NameClaim::check`] sorts them out.
    pub fn query(&self) -> InstanceQuery {
        InstanceQuery {
            account_id: self.account_id.clone(),
            product: Some(self.product),
            name_equals: Some(self.name.clone()),
            ..InstanceQuery::default()
        }
    }

    /// The refusal if an instance that [`NameClaim::query`] found blocks the claim.
    pub fn check(&self, id: &str, region: &str) -> Result<()> {
        let held = self.except_id.as_deref() != Some(id)
            && self.region.as_deref().is_none_or(|r| r == region);
        if held {
            return Err(StoreError::NameTaken {
                name: self.name.clone(),
                holder_id: id.to_owned(),
            });
        }
        Ok(())
    }
}

/// Filters for listing one account's live instances of one product (released ones too with
/// `include_released`, for the billing records they leave).
#[derive(Debug, Clone, Default)]
pub struct InstanceQuery {
    pub account_id: String,
    pub product: Option<Product>,
    pub region: Option<String>,
    pub status: Option<String>,
    /// Statuses left out (a product's hidden ones, such as RocketMQ's unpaid instances).
    pub status_not_in: Vec<String>,
    pub id: Option<String>,
    pub name_contains: Option<String>,
    pub name_equals: Option<String>,
    pub resource_group_id: Option<String>,
    /// Every tag must be present; an empty value matches any value.
    pub tags: Vec<Tag>,
    pub include_released: bool,
}

/// Filters for listing jobs, across accounts (for the admin API).
#[derive(Debug, Clone, Default)]
pub struct JobQuery {
    pub id: Option<String>,
    pub product: Option<Product>,
    pub instance_id: Option<String>,
    pub state: Option<JobState>,
    /// At most this many, oldest first.
    pub limit: usize,
}

/// One page of a listing, with the count of every match.
#[derive(Debug, Clone, Default)]
pub struct InstancePage {
    pub items: Vec<Instance>,
    pub total: usize,
}

impl InstancePage {
    /// How many match, when a page of `found` items read at `offset` with `limit` shows it,
    /// so the backend can skip counting: a page that is not full ends with the last match,
    /// unless it is empty past the first match.
    pub fn total_shown(offset: usize, limit: usize, found: usize) -> Option<usize> {
        (found < limit && (found > 0 || offset == 0)).then_some(offset + found)
    }
}

/// How many jobs and instances there are, by state and status, for metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateCounts {
    pub jobs: Vec<(JobState, u64)>,
    /// Live (not released) instances by product and status.
    pub instances: Vec<(Product, String, u64)>,
}

/// Every row the store holds (or one account's), for snapshots. Access keys stay
/// ciphertext; instances include released ones. Signature nonces are left out: they are
/// replay protection for requests in flight, not state, and expire within minutes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateDump {
    pub accounts: Vec<Account>,
    pub access_keys: Vec<AccessKey>,
    pub iam_passwords: Vec<IamPassword>,
    pub instances: Vec<Instance>,
    pub jobs: Vec<Job>,
    pub idempotency: Vec<IdempotencyRecord>,
    /// The orders ledger, oldest first.
    pub orders: Vec<Order>,
}

impl StateDump {
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
            && self.access_keys.is_empty()
            && self.iam_passwords.is_empty()
            && self.instances.is_empty()
            && self.jobs.is_empty()
            && self.idempotency.is_empty()
            && self.orders.is_empty()
    }
}

/// A new order whose id another order holds: refused rather than overwritten (ids are
/// random, so this is a collision, never a retry).
pub fn order_id_taken(id: &str) -> StoreError {
    StoreError::Conflict(format!("order id {id} is taken by another order"))
}

/// How an order's stored JSON document spells `product` (serde's name, not
/// [`Product::as_str`]), for the backends that pick a product's orders by their document.
pub fn order_product_in_doc(product: Product) -> String {
    match serde_json::to_value(product) {
        Ok(serde_json::Value::String(s)) => s,
        other => unreachable!("a product serializes as a string, not {other:?}"),
    }
}

/// The condition of the backends' partial name index: the products that look instances up
/// by name ([`Product::LOOKED_UP_BY_NAME`]), so the other products' creates write no entry
/// in it. A query uses the index only if it carries this very term, with the names as
/// literals (a bound parameter proves nothing to the planner).
/// Built once: a RocketMQ create's name claim asks for it.
pub fn looked_up_by_name() -> &'static str {
    static TERM: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TERM.get_or_init(|| {
        let products: Vec<String> = Product::LOOKED_UP_BY_NAME
            .iter()
            .map(|p| format!("'{}'", p.as_str()))
            .collect();
        format!("product IN ({})", products.join(", "))
    })
}

/// Whether a listing looks one product's instances up by name through that index.
pub fn uses_name_index(q: &InstanceQuery) -> bool {
    q.name_equals.is_some()
        && q.product
            .is_some_and(|p| Product::LOOKED_UP_BY_NAME.contains(&p))
}

/// What [`Store::reset`] forgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetScope {
    /// Everything, accounts, keys and signature nonces included.
    All,
    /// One product's instances, jobs, orders and idempotency records.
    Product(Product),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies the batch atomically; acknowledged means durable.
    async fn commit(&self, batch: Vec<Mutation>) -> Result<()>;

    async fn account(&self, id: &str) -> Result<Option<Account>>;
    async fn account_by_name(&self, name: &str) -> Result<Option<Account>>;
    async fn accounts(&self) -> Result<Vec<Account>>;
    async fn access_key(&self, id: &str) -> Result<Option<AccessKey>>;
    async fn access_keys(&self, account_id: &str) -> Result<Vec<AccessKey>>;
    /// The password hash of an account's IAM user, if one was set.
    async fn iam_password(&self, account_id: &str) -> Result<Option<IamPassword>>;

    /// One instance of an account, released ones included.
    async fn instance(&self, account_id: &str, id: &str) -> Result<Option<Instance>>;
    /// Live instances matching the query, newest first.
    async fn instances(&self, query: &InstanceQuery) -> Result<Vec<Instance>>;
    /// The `limit` live instances after the first `offset`, newest first, and how many match
    /// (counted only when the page does not show it: see [`InstancePage::total_shown`]).
    async fn instances_page(
        &self,
        query: &InstanceQuery,
        offset: usize,
        limit: usize,
    ) -> Result<InstancePage>;

    /// An instance's jobs, oldest first.
    async fn instance_jobs(&self, account_id: &str, instance_id: &str) -> Result<Vec<Job>>;

    /// Jobs of any account matching the query, oldest first.
    async fn jobs(&self, query: &JobQuery) -> Result<Vec<Job>>;
    /// One order of an account's ledger.
    async fn order(&self, account_id: &str, id: &str) -> Result<Option<Order>>;
    /// The orders of one instance, oldest first.
    async fn instance_orders(&self, account_id: &str, instance_id: &str) -> Result<Vec<Order>>;

    async fn idempotency(
        &self,
        account_id: &str,
        product: Product,
        action: &str,
        token: &str,
    ) -> Result<Option<IdempotencyRecord>>;

    /// Leases up to `limit` unfinished jobs that are due and whose lease has expired.
    async fn claim_jobs(
        &self,
        now_ms: i64,
        owner: &str,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<Job>>;

    /// Ends every running job's lease, so the next claim takes the job over at once.
    /// Only for a caller that knows every holder is gone: the one server on a SQLite file,
    /// starting after a crash. A holder that is still alive has its writes refused.
    async fn end_leases(&self) -> Result<usize>;

    /// When the earliest unfinished job is due (its lease end if leased).
    async fn next_job_due_ms(&self) -> Result<Option<i64>>;

    // Operations (admin API): readiness, reset, metrics, snapshots.

    /// Answers once the backend serves a trivial read.
    async fn ping(&self) -> Result<()>;

    /// Forgets the state in `scope`, atomically.
    async fn reset(&self, scope: ResetScope) -> Result<()>;

    /// Jobs by state and live instances by product and status.
    async fn state_counts(&self) -> Result<StateCounts>;

    /// Every row, or one account's, read in one consistent view.
    async fn export(&self, account_id: Option<&str>) -> Result<StateDump>;

    /// Writes every row of `dump` as it is (versions, leases and all), atomically. Fails
    /// with `Conflict`, writing nothing, unless the store holds no account and no instance.
    async fn import(&self, dump: StateDump) -> Result<()>;

    /// Called once the server stopped taking requests, to leave the store quick to open:
    /// SQLite copies its WAL into the database file and empties it (start-up over 100,000
    /// instances took 4–18 ms depending on the WAL left behind). Writes after it still work.
    /// Backends with nothing to do keep this default.
    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::InstancePage;

    #[test]
    fn a_page_shows_its_total_unless_full_or_empty_past_the_start() {
        let shown = InstancePage::total_shown;
        assert_eq!(shown(0, 10, 3), Some(3));
        assert_eq!(shown(20, 10, 3), Some(23));
        assert_eq!(shown(0, 10, 0), Some(0));
        assert_eq!(shown(0, 10, 10), None, "more may follow a full page");
        assert_eq!(shown(30, 10, 0), None, "past the end: how far?");
        assert_eq!(shown(0, 0, 0), None);
    }
}
