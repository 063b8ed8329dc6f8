//! Accounts, access keys and the master key that seals their secrets.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use cloudtwin_core::ids::ALNUM;
use cloudtwin_core::{
    AccessKey, Account, Clock, IdSource, KeyResolver, LookupError, MasterKey, ResolvedKey,
};
use cloudtwin_store::{IamPassword, Mutation, Store, StoreError};
use serde::Serialize;

pub const DEFAULT_ACCOUNT: &str = "default";

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

/// Resolves and issues keys; secrets are sealed before they reach the store.
#[derive(Clone)]
pub struct Keyring {
    pub store: Arc<dyn Store>,
    pub master_key: Arc<MasterKey>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
}

impl Keyring {
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
            let current = self.resolve_key(id).await?;
            let unchanged =
                current.is_some_and(|k| k.account_id == account.id && k.secret == secret);
            if !unchanged {
                let sealed = self.sealed_key(&account.id, id, secret);
                self.store
                    .commit(vec![Mutation::PutAccessKey(sealed)])
                    .await?;
            }
        }
        Ok(None)
    }

    async fn resolve_key(&self, access_key_id: &str) -> Result<Option<ResolvedKey>, KeyError> {
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
