//! Parsed documents remembered by instance: a client that polls an instance (Terraform
//! waiting for a status, an SDK's describe loop) reads the same stored text again and again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cloudtwin_core::Instance;
use serde::de::DeserializeOwned;

/// How many instances' documents are kept: ~3 KiB each with the text, so a few MiB.
const CAPACITY: usize = 2048;

/// The typed document of each instance read lately, with the text it was parsed from. An
/// instance whose stored text differs (any write, by this server or another) is parsed
/// again, so what this returns is always what parsing the text would give.
pub struct ParsedDocs<T> {
    by_id: Mutex<HashMap<String, (String, Arc<T>)>>,
}

impl<T> Default for ParsedDocs<T> {
    fn default() -> Self {
        Self {
            by_id: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: DeserializeOwned> ParsedDocs<T> {
    /// `instance.doc` as a `T`.
    pub fn of(&self, instance: &Instance) -> Result<Arc<T>, serde_json::Error> {
        let text = instance.doc.as_str();
        if let Some((seen, parsed)) = self.lock().get(&instance.id) {
            if seen == text {
                return Ok(parsed.clone());
            }
        }
        let parsed = Arc::new(instance.doc.parse::<T>()?);
        let mut by_id = self.lock();
        if by_id.len() >= CAPACITY && !by_id.contains_key(&instance.id) {
            // Any one goes: an instance read again is parsed again, nothing worse.
            if let Some(old) = by_id.keys().next().cloned() {
                by_id.remove(&old);
            }
        }
        by_id.insert(instance.id.clone(), (text.to_owned(), parsed.clone()));
        Ok(parsed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Arc<T>)>> {
        // The map holds no invariant a panicking holder could break.
        self.by_id.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudtwin_core::{Document, Product};

    fn instance(id: &str, doc: serde_json::Value) -> Instance {
        Instance {
            id: id.into(),
            account_id: "acc".into(),
            product: Product::RocketMq,
            region: "r".into(),
            name: "n".into(),
            status: "RUNNING".into(),
            resource_group_id: String::new(),
            tags: Vec::new(),
            doc: Document::of(&doc),
            created_ms: 0,
            updated_ms: 0,
            deleted: false,
            version: 1,
        }
    }

    #[test]
    fn a_changed_text_is_parsed_again_and_the_map_stays_bounded() {
        let docs = ParsedDocs::<serde_json::Value>::default();
        let first = docs
            .of(&instance("a", serde_json::json!({"v": 1})))
            .unwrap();
        let again = docs
            .of(&instance("a", serde_json::json!({"v": 1})))
            .unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the same text is parsed once");
        let changed = docs
            .of(&instance("a", serde_json::json!({"v": 2})))
            .unwrap();
        assert_eq!(changed["v"], 2);
        assert!(docs.of(&instance("b", serde_json::json!([]))).is_ok());
        assert!(docs
            .of(&instance("c", serde_json::json!("not an object")))
            .is_ok());
        let mut bad = instance("d", serde_json::json!({}));
        bad.doc = Document::from_stored("{".into());
        assert!(
            docs.of(&bad).is_err(),
            "a document that does not parse is an error"
        );
        for n in 0..CAPACITY + 10 {
            docs.of(&instance(&format!("i-{n}"), serde_json::json!({"n": n})))
                .unwrap();
        }
        assert!(docs.lock().len() <= CAPACITY);
    }
}
