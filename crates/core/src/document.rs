//! A product's instance document, kept as the JSON text it is stored as.
//!
//! A document goes from the product's typed struct to the stored row and back as text:
//! serialized once where it is made, parsed straight into the typed struct where it is
//! read. Building a `serde_json::Value` tree in between (and dropping it) cost more than
//! either end; code that really needs a tree asks for one with [`Document::to_value`].
//!
//! In a snapshot or a job's stored outcome a document is embedded as JSON, not as a string.
//! Its text is always valid JSON: it is made by `serde_json`, or checked when read back.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Document(Box<RawValue>);

impl Document {
    /// The JSON text of `value`.
    ///
    /// Panics if `value` does not serialize, which plain data (structs, maps with string
    /// keys, `Value`) always does.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Document {
        Document(serde_json::value::to_raw_value(value).expect("a document is plain data"))
    }

    /// `null`: the document of an instance whose product keeps none (yet).
    pub fn null() -> Document {
        Document(RawValue::NULL.to_owned())
    }

    /// Stored text, checked to be JSON (a scan; no tree is built).
    pub fn from_json(text: String) -> Result<Document, serde_json::Error> {
        RawValue::from_string(text).map(Document)
    }

    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The typed document, parsed from the text.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.as_str())
    }

    /// The document as a tree, for code that reads or edits it generically.
    pub fn to_value(&self) -> Value {
        // Only text outside what serde_json writes could fail (a number beyond f64, or
        // nesting deeper than 128), and documents are written by serde_json.
        self.parse()
            .expect("a document is JSON that serde_json wrote")
    }

    /// The top-level member `key`, read as `T`: `None` if the document is not an object,
    /// has no such member, or the member is not a `T`. Only that member is parsed.
    pub fn field<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        struct Member<'k, T>(&'k str, PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for Member<'_, T> {
            type Value = Option<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
                // The last of duplicate members wins, as in a `Value`.
                let mut found = None;
                while let Some(Key(key)) = map.next_key()? {
                    if key == self.0 {
                        found = Some(map.next_value()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(found)
            }
        }
        let mut de = serde_json::Deserializer::from_str(self.as_str());
        de.deserialize_map(Member(key, PhantomData)).ok().flatten()
    }

    /// Sets the top-level member `key` to `value`; answers false (and changes nothing) if
    /// the document is not an object. The other members are copied as text.
    pub fn set_field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> bool {
        let value = Document::of(value);
        self.rewrite(key, Some(&value.0))
    }

    /// Removes the top-level member `key`; answers false if the document is not an object.
    pub fn remove_field(&mut self, key: &str) -> bool {
        self.rewrite(key, None)
    }

    /// The document with `key` set to `value` (or removed), every other member untouched.
    fn rewrite(&mut self, key: &str, value: Option<&RawValue>) -> bool {
        let Ok(Members(mut members)) = serde_json::from_str::<Members>(self.as_str()) else {
            return false;
        };
        let before = members.len();
        members.retain(|(k, _)| k != key);
        if value.is_none() && members.len() == before {
            return true;
        }
        if let Some(value) = value {
            members.push((Cow::Borrowed(key), value));
        }
        *self = Document::of(&Members(members));
        true
    }
}

/// An object key, borrowed from the text unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(Text)
    }
}

/// An object's members in their order, values left as text.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(Key(key)) = map.next_key()? {
                    members.push((key, map.next_value()?));
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(Object)
    }
}

impl Serialize for Members<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl From<Value> for Document {
    fn from(value: Value) -> Self {
        Document::of(&value)
    }
}

/// Equal as JSON: the same text, or the same tree (members in another order).
impl PartialEq for Document {
    fn eq(&self, other: &Document) -> bool {
        self.as_str() == other.as_str() || self.to_value() == other.to_value()
    }
}

impl PartialEq<Value> for Document {
    fn eq(&self, other: &Value) -> bool {
        self.to_value() == *other
    }
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Typed {
        b: i64,
        a: Vec<String>,
    }

    #[test]
    fn typed_documents_round_trip_through_text() {
        let typed = Typed {
            b: 2,
            a: vec!["x".into()],
        };
        let doc = Document::of(&typed);
        assert_eq!(doc.as_str(), r#"{"b":2,"a":["x"]}"#);
        assert_eq!(doc.parse::<Typed>().unwrap(), typed);
        assert_eq!(doc, json!({"a": ["x"], "b": 2}));
        assert_eq!(
            doc,
            Document::from(json!({"a": ["x"], "b": 2})),
            "order aside"
        );
        assert_ne!(doc, Document::from(json!({"a": ["x"], "b": 3})));
    }

    #[test]
    fn embedded_as_json_not_as_a_string() {
        #[derive(Serialize, Deserialize)]
        struct Row {
            doc: Document,
            kept: Option<Document>,
        }
        let text = r#"{"doc":{"z":1,"a":[true,null]},"kept":null}"#;
        let row: Row = serde_json::from_str(text).unwrap();
        assert_eq!(row.doc.as_str(), r#"{"z":1,"a":[true,null]}"#);
        assert!(row.kept.is_none());
        assert_eq!(serde_json::to_string(&row).unwrap(), text);
        // A snapshot is read through a `Value` first.
        let row: Row = serde_json::from_value(serde_json::from_str(text).unwrap()).unwrap();
        assert_eq!(row.doc, json!({"z": 1, "a": [true, null]}));
        assert_eq!(
            serde_json::to_value(&row).unwrap(),
            json!({"doc": {"z": 1, "a": [true, null]}, "kept": null})
        );
    }

    #[test]
    fn stored_text_is_checked() {
        let doc = Document::from_json(r#"{"a":1}"#.to_owned()).unwrap();
        assert_eq!(doc.as_str(), r#"{"a":1}"#);
        assert!(Document::from_json(r#"{"a":"#.to_owned()).is_err());
        assert!(Document::from_json(String::new()).is_err());
    }

    #[test]
    fn one_member_reads_and_writes_without_the_others() {
        let mut doc = Document::from(json!({"keep": {"deep": [1, 2]}, "n": 1, "s\"q": "x"}));
        assert_eq!(doc.field::<i64>("n"), Some(1));
        assert_eq!(
            doc.field::<String>("s\"q"),
            Some("x".into()),
            "escaped keys"
        );
        assert_eq!(doc.field::<i64>("missing"), None);
        assert_eq!(doc.field::<String>("n"), None, "not that type");

        assert!(doc.set_field("n", &json!({"now": true})));
        assert!(doc.set_field("new", "v"));
        assert_eq!(
            doc,
            json!({"keep": {"deep": [1, 2]}, "n": {"now": true}, "s\"q": "x", "new": "v"})
        );
        assert!(doc.remove_field("n"));
        assert!(doc.remove_field("absent"));
        assert_eq!(
            doc,
            json!({"keep": {"deep": [1, 2]}, "s\"q": "x", "new": "v"})
        );

        let mut null = Document::null();
        assert!(!null.set_field("n", &1));
        assert!(!null.remove_field("n"));
        assert_eq!(null.as_str(), "null");
        assert_eq!(null.field::<i64>("n"), None);
    }

    #[test]
    fn the_last_duplicate_member_wins_as_in_a_value() {
        let mut doc = Document::from_json(r#"{"a":1,"b":0,"a":2}"#.to_owned()).unwrap();
        assert_eq!(doc.field::<i64>("a"), Some(2));
        assert_eq!(doc, json!({"a": 2, "b": 0}));
        doc.set_field("a", &3);
        assert_eq!(doc.as_str(), r#"{"b":0,"a":3}"#);
    }
}
