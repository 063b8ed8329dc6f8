//! Accounts, access keys and the master key that seals their secrets.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use cloudtwin_core::ids::ALNUM;
use cloudtwin_core::{
    AccessKey, Account, Clock, IdSource, KeyResolver, LookupError, MasterKey, ResolvedKey,
};
use cloudtwin_store::{IamPassword, Mutation, Store, StoreError};
use serde::Serialize;

pub const DEFAULT_ACCOUNT: &str = "default";

/// How long a resolved key is used without reading the store again. A key that another
/// process removes or replaces (the CLI beside the server, another replica) stops working
/// within this time; changes made through this process take effect at once.
pub const KEY_CACHE_TTL_MS: i64 = 2_000;

/// More keys than any tenant list holds; past it the cache starts over.
const MAX_CACHED_KEYS: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The master key file or variable is unusable.
    #[error("master key: {0}")]
    MasterKey(String),
    /// The store refused or could not be reached.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An account with that name exists already.
    #[error("an account named {0:?} exists already")]
    AccountExists(String),
    /// A name that cannot be an account's.
    #[error("invalid account name {0:?}: use 1 to 64 letters, digits, '-', '_' or '.'")]
    BadName(String),
    /// No account has that name.
    #[error("no account is named {0:?}")]
    NoSuchAccount(String),
    /// A password that cannot be an IAM user's.
    #[error("the password must be 8 to 128 characters long (one line)")]
    BadPassword,
    /// Writing the credentials file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Writes a file readable by its owner only (0600), synced.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(contents).map_err(io)?;
    file.sync_all().map_err(io)
}

/// `CLOUDTWIN_MASTER_KEY` if given (replicas share it), else `<data-dir>/master.key`,
/// created on first use.
pub fn load_master_key(
    data_dir: &Path,
    from_env: Option<&str>,
    ids: &dyn IdSource,
) -> Result<MasterKey, KeyError> {
    if let Some(hex) = from_env {
        return MasterKey::from_hex(hex)
            .map_err(|e| KeyError::MasterKey(format!("CLOUDTWIN_MASTER_KEY: {e}")));
    }
    let path = data_dir.join("master.key");
    match fs::read_to_string(&path) {
        Ok(hex) => MasterKey::from_hex(&hex)
            .map_err(|e| KeyError::MasterKey(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let hex = ids.hex(64);
            write_private(&path, hex.as_bytes())?;
            MasterKey::from_hex(&hex).map_err(|e| KeyError::MasterKey(e.to_string()))
        }
        Err(e) => Err(KeyError::MasterKey(format!("{}: {e}", path.display()))),
    }
}

/// A new key pair, as shown to its owner once.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedKey {
    pub account: String,
    pub account_id: String,
    pub access_key_id: String,
    pub access_key_secret: String,
}

/// Keys resolved lately, by id, so a request costs no store read and no decryption.
/// Only keys that exist are kept: a key created elsewhere works at once.
#[derive(Default)]
struct KeyCache {
    inner: RwLock<CachedKeys>,
}

#[derive(Default)]
struct CachedKeys {
    entries: HashMap<String, CachedKey>,
    /// Bumped by every [`KeyCache::clear`]: a lookup that began before one must not
    /// store what it read.
    generation: u64,
}

struct CachedKey {
    key: ResolvedKey,
    resolved_ms: i64,
}

enum Cached {
    Hit(ResolvedKey),
    Miss { generation: u64 },
}

impl KeyCache {
    fn get(&self, id: &str, now_ms: i64) -> Cached {
        let inner = self.inner.read().expect("key cache lock");
        match inner.entries.get(id) {
            // A clock that went back does not stretch the entry's life.
            Some(c) if (0..KEY_CACHE_TTL_MS).contains(&(now_ms - c.resolved_ms)) => {
                Cached::Hit(c.key.clone())
            }
            _ => Cached::Miss {
                generation: inner.generation,
            },
        }
    }

    /// Keeps `key`, read from the store at `resolved_ms`, unless the cache was cleared
    /// since `generation`.
    fn put(&self, id: &str, key: &ResolvedKey, resolved_ms: i64, generation: u64) {
        let mut inner = self.inner.write().expect("key cache lock");
        if inner.generation != generation {
            return;
        }
        if inner.entries.len() >= MAX_CACHED_KEYS {
            inner.entries.clear();
        }
        inner.entries.insert(
            id.to_owned(),
            CachedKey {
                key: key.clone(),
                resolved_ms,
            },
        );
    }

    fn clear(&self) {
        let mut inner = self.inner.write().expect("key cache lock");
        inner.entries.clear();
        inner.generation += 1;
    }
}

/// Resolves and issues keys; secrets are sealed before they reach the store.
#[derive(Clone)]
pub struct Keyring {
    pub store: Arc<dyn Store>,
    pub master_key: Arc<MasterKey>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    /// Shared by every clone, so a change made through one is seen by all.
    cache: Arc<KeyCache>,
}

impl Keyring {
    pub fn new(
        store: Arc<dyn Store>,
        master_key: Arc<MasterKey>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
    ) -> Self {
        Self {
            store,
            master_key,
            clock,
            ids,
            cache: Arc::default(),
        }
    }

    /// Drops every resolved key kept in memory: for changes to keys made past the
    /// keyring (a reset, a snapshot import), so they take effect at once.
    pub fn forget_resolved_keys(&self) {
        self.cache.clear();
    }

    fn sealed_key(&self, account_id: &str, id: &str, secret: &str) -> AccessKey {
        let mut nonce = [0u8; 12];
        self.ids.fill(&mut nonce);
        AccessKey {
            id: id.to_owned(),
            account_id: account_id.to_owned(),
            secret_ciphertext: self.master_key.seal(secret.as_bytes(), nonce),
            created_ms: self.clock.now_ms(),
        }
    }

    fn new_pair(&self) -> (String, String) {
        (
            format!("LTAI{}", self.ids.chars(ALNUM, 20)),
            self.ids.chars(ALNUM, 30),
        )
    }

    /// Creates an account; with `key`, that pair instead of a fresh one.
    pub async fn create_account(
        &self,
        name: &str,
        key: Option<(&str, &str)>,
    ) -> Result<IssuedKey, KeyError> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !valid {
            return Err(KeyError::BadName(name.to_owned()));
        }
        let account = Account {
            id: self.ids.digits(16),
            name: name.to_owned(),
            domain_id: self.ids.hex(32),
            created_ms: self.clock.now_ms(),
        };
        let (id, secret) = match key {
            Some((id, secret)) => (id.to_owned(), secret.to_owned()),
            None => self.new_pair(),
        };
        let sealed = self.sealed_key(&account.id, &id, &secret);
        match self
            .store
            .commit(vec![
                Mutation::InsertAccount(account.clone()),
                Mutation::PutAccessKey(sealed),
            ])
            .await
        {
            Err(StoreError::Conflict(_)) => Err(KeyError::AccountExists(name.to_owned())),
            other => other.map_err(KeyError::from),
        }?;
        // The pair given may replace a key of that id.
        self.cache.clear();
        Ok(IssuedKey {
            account: account.name,
            account_id: account.id,
            access_key_id: id,
            access_key_secret: secret,
        })
    }

    /// Makes sure the default account exists and holds `env_key` if one is given.
    /// Answers the key pair it generated, if it generated one.
    pub async fn ensure_default(
        &self,
        env_key: Option<(&str, &str)>,
    ) -> Result<Option<IssuedKey>, KeyError> {
        let mut tries = 0;
        let account = loop {
            if let Some(account) = self.store.account_by_name(DEFAULT_ACCOUNT).await? {
                break account;
            }
            match self.create_account(DEFAULT_ACCOUNT, env_key).await {
                Ok(issued) => return Ok(env_key.is_none().then_some(issued)),
                // A replica starting beside this one created it first: use theirs.
                Err(KeyError::AccountExists(_)) if tries < 3 => tries += 1,
                Err(e) => return Err(e),
            }
        };
        if let Some((id, secret)) = env_key {
            let current = self.read_key(id).await?;
            let unchanged =
                current.is_some_and(|k| k.account_id == account.id && k.secret == secret);
            if !unchanged {
                let sealed = self.sealed_key(&account.id, id, secret);
                self.store
                    .commit(vec![Mutation::PutAccessKey(sealed)])
                    .await?;
                self.cache.clear();
            }
        }
        Ok(None)
    }

    /// The key from the cache while it is fresh, else from the store.
    async fn resolve_key(&self, access_key_id: &str) -> Result<Option<ResolvedKey>, KeyError> {
        let now = self.clock.now_ms();
        let generation = match self.cache.get(access_key_id, now) {
            Cached::Hit(key) => return Ok(Some(key)),
            Cached::Miss { generation } => generation,
        };
        let key = self.read_key(access_key_id).await?;
        if let Some(key) = &key {
            self.cache.put(access_key_id, key, now, generation);
        }
        Ok(key)
    }

    /// The key as the store holds it now, its secret unsealed.
    async fn read_key(&self, access_key_id: &str) -> Result<Option<ResolvedKey>, KeyError> {
        let Some(key) = self.store.access_key(access_key_id).await? else {
            return Ok(None);
        };
        let secret = self
            .master_key
            .open(&key.secret_ciphertext)
            .map_err(|e| KeyError::MasterKey(e.to_string()))?;
        let secret = String::from_utf8(secret)
            .map_err(|_| KeyError::MasterKey("a stored secret is not UTF-8".into()))?;
        Ok(Some(ResolvedKey {
            account_id: key.account_id,
            secret,
        }))
    }

    /// Sets the password of the account's Huawei IAM user (user and domain are both named
    /// like the account). Only a salted PBKDF2-HMAC-SHA256 hash is stored.
    pub async fn set_password(&self, name: &str, password: &str) -> Result<(), KeyError> {
        let length = password.chars().count();
        if !(8..=128).contains(&length) || password.contains(['\n', '\r']) {
            return Err(KeyError::BadPassword);
        }
        let account = self
            .store
            .account_by_name(name)
            .await?
            .ok_or_else(|| KeyError::NoSuchAccount(name.to_owned()))?;
        let mut salt = [0u8; 16];
        self.ids.fill(&mut salt);
        let hash = cloudtwin_huawei::password::hash_password(password, salt);
        self.store
            .commit(vec![Mutation::PutIamPassword(IamPassword {
                account_id: account.id,
                hash,
                updated_ms: self.clock.now_ms(),
            })])
            .await?;
        Ok(())
    }

    /// Writes the default key pair beside the data, readable by its owner only.
    pub fn save_credentials(data_dir: &Path, issued: &IssuedKey) -> Result<(), KeyError> {
        let json = serde_json::to_vec_pretty(issued).expect("plain data serializes");
        write_private(&data_dir.join("credentials"), &json)
    }
}

#[async_trait]
impl KeyResolver for Keyring {
    async fn resolve(&self, access_key_id: &str) -> Result<Option<ResolvedKey>, LookupError> {
        self.resolve_key(access_key_id).await.map_err(|e| match e {
            KeyError::Store(StoreError::Unavailable(m)) => LookupError::Unavailable(m),
            other => LookupError::Failed(other.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use cloudtwin_core::{ManualClock, RandomIds};
    use cloudtwin_store::{ResetScope, SqliteStore};

    use super::*;

    const ID: &str = "LTAIcachetest000000001";

    fn key(secret: &str) -> ResolvedKey {
        ResolvedKey {
            account_id: "1".into(),
            secret: secret.into(),
        }
    }

    fn hit(cache: &KeyCache, id: &str, now_ms: i64) -> Option<String> {
        match cache.get(id, now_ms) {
            Cached::Hit(k) => Some(k.secret),
            Cached::Miss { .. } => None,
        }
    }

    fn put(cache: &KeyCache, id: &str, key: &ResolvedKey, resolved_ms: i64) {
        let Cached::Miss { generation } = cache.get(id, resolved_ms) else {
            panic!("{id} is cached already");
        };
        cache.put(id, key, resolved_ms, generation);
    }

    #[test]
    fn a_cached_key_lives_for_the_ttl_only() {
        let cache = KeyCache::default();
        put(&cache, ID, &key("s1"), 1_000);
        assert_eq!(hit(&cache, ID, 1_000).as_deref(), Some("s1"));
        assert_eq!(
            hit(&cache, ID, 1_000 + KEY_CACHE_TTL_MS - 1).as_deref(),
            Some("s1")
        );
        assert_eq!(hit(&cache, ID, 1_000 + KEY_CACHE_TTL_MS), None);
        assert_eq!(hit(&cache, ID, 999), None, "the clock went back");
        assert_eq!(hit(&cache, "LTAIother", 1_000), None);
    }

    #[test]
    fn a_lookup_that_began_before_a_clear_stores_nothing() {
        let cache = KeyCache::default();
        let Cached::Miss { generation } = cache.get(ID, 0) else {
            panic!("empty cache hit");
        };
        cache.clear();
        cache.put(ID, &key("read before the clear"), 0, generation);
        assert_eq!(hit(&cache, ID, 0), None);
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        store: Arc<dyn Store>,
        clock: ManualClock,
        /// The server's keyring.
        keyring: Keyring,
        /// Another process on the same store, with its own cache.
        other: Keyring,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(dir.path().join("cloudtwin.db")).unwrap());
        let clock = ManualClock::new(1_700_000_000_000);
        let master_key = Arc::new(MasterKey::from_bytes(&[3u8; 32]));
        let keyring = |clock: ManualClock| {
            Keyring::new(
                store.clone(),
                master_key.clone(),
                Arc::new(clock),
                Arc::new(RandomIds),
            )
        };
        let fixture = Fixture {
            keyring: keyring(clock.clone()),
            other: keyring(clock.clone()),
            _dir: dir,
            store,
            clock,
        };
        fixture
            .keyring
            .ensure_default(Some((ID, "secret-1")))
            .await
            .unwrap();
        fixture
    }

    async fn secret(keyring: &Keyring, id: &str) -> Option<String> {
        keyring.resolve(id).await.unwrap().map(|k| k.secret)
    }

    #[tokio::test]
    async fn another_process_s_change_shows_within_the_ttl() {
        let f = fixture().await;
        assert_eq!(secret(&f.keyring, ID).await.as_deref(), Some("secret-1"));
        f.other
            .ensure_default(Some((ID, "secret-2")))
            .await
            .unwrap();
        assert_eq!(
            secret(&f.keyring, ID).await.as_deref(),
            Some("secret-1"),
            "served from memory"
        );
        f.clock.advance(KEY_CACHE_TTL_MS);
        assert_eq!(secret(&f.keyring, ID).await.as_deref(), Some("secret-2"));

        f.store.reset(ResetScope::All).await.unwrap();
        f.clock.advance(KEY_CACHE_TTL_MS);
        assert_eq!(secret(&f.keyring, ID).await, None, "deleted elsewhere");
    }

    #[tokio::test]
    async fn changes_through_this_keyring_show_at_once() {
        let f = fixture().await;
        assert_eq!(secret(&f.keyring, ID).await.as_deref(), Some("secret-1"));
        f.keyring
            .ensure_default(Some((ID, "secret-2")))
            .await
            .unwrap();
        assert_eq!(secret(&f.keyring, ID).await.as_deref(), Some("secret-2"));

        // A reset or an import goes past the keyring and tells it.
        f.store.reset(ResetScope::All).await.unwrap();
        f.keyring.forget_resolved_keys();
        assert_eq!(secret(&f.keyring, ID).await, None);
    }

    #[tokio::test]
    async fn an_unknown_key_is_looked_up_each_time() {
        let f = fixture().await;
        let new_id = "LTAIcreatedelsewhere01";
        assert_eq!(secret(&f.keyring, new_id).await, None);
        f.other
            .create_account("team-a", Some((new_id, "fresh")))
            .await
            .unwrap();
        assert_eq!(secret(&f.keyring, new_id).await.as_deref(), Some("fresh"));
    }
}
