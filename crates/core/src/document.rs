//! A product's instance document, kept as the JSON text it is stored as.
//!
//! A document goes from the product's typed struct to the stored row and back as text:
//! serialized once where it is made, parsed straight into the typed struct where it is
//! read. Building a `serde_json::Value` tree in between (and dropping it) cost more than
//! either end; code that really needs a tree asks for one with [`Document::to_value`].
//!
//! Stores hand back the text they were given without parsing it, so a row that is not JSON
//! (edited by hand, damaged) is found where the document is parsed or embedded, as an error.
//! In a snapshot or a job's stored outcome a document is embedded as JSON, not as a string.

use std::fmt;
use std::ops::{ControlFlow, Range};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

#[derive(Clone)]
pub struct Document(String);

impl Document {
    /// The JSON text of `value`.
    ///
    /// Panics if `value` does not serialize, which plain data (structs, maps with string
    /// keys, `Value`) always does.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Document {
        // Sized for a typical instance document (~1.2 KB): serde_json starts at 128 bytes and
        // doubles, copying the text at each step.
        let mut text = Vec::with_capacity(1024);
        serde_json::to_writer(&mut text, value).expect("a document is plain data");
        Document(String::from_utf8(text).expect("serde_json writes UTF-8"))
    }

    /// `null`: the document of an instance whose product keeps none (yet).
    pub fn null() -> Document {
        Document("null".into())
    }

    /// The text a store was given (by [`Document::as_str`]), back; not parsed here.
    pub fn from_stored(text: String) -> Document {
        Document(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The typed document, parsed from the text.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.0)
    }

    /// The document as a tree, for code that reads or edits it generically.
    pub fn to_value(&self) -> Result<Value, serde_json::Error> {
        self.parse()
    }

    /// The top-level member `key`, read as `T`: `None` if the document is not an object,
    /// has no such member, or the member is not a `T`. Only that member is parsed.
    pub fn field<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        match member(&self.0, key) {
            Member::Found { value, .. } => serde_json::from_str(self.0.get(value)?).ok(),
            _ => None,
        }
    }

    /// The top-level members `keys`, as the text of their values, read in one walk from the
    /// first member that stops once all are found: for members a document keeps together
    /// at its start, which [`Document::field`] would each look for in the whole text first.
    /// `None` for a member that is absent, and for all if the document is not an object.
    pub fn raw_fields<const N: usize>(&self, keys: [&str; N]) -> [Option<&str>; N] {
        let mut found = [None; N];
        let Some(first) = first_member(&self.0) else {
            return found;
        };
        let mut missing = N;
        walk(&self.0, first, |_, quoted, value| {
            for (slot, key) in found.iter_mut().zip(keys) {
                if slot.is_none() && key_is(quoted, key) {
                    *slot = self.0.get(value.clone());
                    missing -= 1;
                }
            }
            if missing == 0 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        found
    }

    /// Sets the top-level member `key` to `value`; answers false (and changes nothing) if
    /// the document is not an object. The rest of the text is kept as it is.
    pub fn set_field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> bool {
        let value = serde_json::to_string(value).expect("a member is plain data");
        match member(&self.0, key) {
            Member::NotObject => false,
            Member::Found { value: at, .. } => {
                self.0.replace_range(at, &value);
                true
            }
            Member::Absent { close, empty } => {
                let key = serde_json::to_string(key).expect("a key serializes");
                let comma = if empty { "" } else { "," };
                self.0.insert_str(close, &format!("{comma}{key}:{value}"));
                true
            }
        }
    }

    /// Removes the top-level member `key`; answers false if the document is not an object.
    pub fn remove_field(&mut self, key: &str) -> bool {
        let (start, end) = match member(&self.0, key) {
            Member::NotObject => return false,
            Member::Absent { .. } => return true,
            Member::Found { start, value } => (start, value.end),
        };
        let b = self.0.as_bytes();
        let after = skip_ws(b, end);
        let cut = if b.get(after) == Some(&b',') {
            // The member, its comma and the space up to the next member.
            start..skip_ws(b, after + 1)
        } else {
            // The last member: the comma before it goes too.
            let before = self.0[..start].trim_end();
            match before.strip_suffix(',') {
                Some(kept) => kept.len()..end,
                None => start..end,
            }
        };
        self.0.replace_range(cut, "");
        true
    }
}

/// Where the top-level member of an object document is. Documents are written by
/// serde_json and never repeat a member, so the first one found is the one.
enum Member {
    /// The document is not a JSON object.
    NotObject,
    /// No such member: `close` is where the object's closing brace is.
    Absent { close: usize, empty: bool },
    /// The member, from its key's opening quote, and its value.
    Found { start: usize, value: Range<usize> },
}

/// Finds `key` by skipping over the text of the other members' values, without parsing
/// them: a lookup costs a fraction of a parse, and nothing when the name is nowhere.
fn member(text: &str, key: &str) -> Member {
    let b = text.as_bytes();
    let Some(first) = first_member(text) else {
        return Member::NotObject;
    };
    // A member named `key` is spelled `"key"` in the text, unless it uses escapes.
    let plain = !key.contains(|c: char| c == '"' || c == '\\' || c.is_control());
    if plain && memchr::memchr(b'\\', b).is_none() && !quoted_in(b, key) {
        let close = text.trim_end().len() - 1;
        return match b.get(close) {
            Some(b'}') => Member::Absent {
                close,
                empty: close == first,
            },
            _ => Member::NotObject,
        };
    }
    let mut found = None;
    let end = walk(text, first, |start, quoted, value| {
        if key_is(quoted, key) {
            found = Some(Member::Found { start, value });
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    match (found, end) {
        (Some(member), _) => member,
        (None, Some(close)) => Member::Absent {
            close,
            empty: close == first,
        },
        (None, None) => Member::NotObject,
    }
}

/// Where the first member (or the closing brace) of an object document is; `None` if the
/// text is not an object.
fn first_member(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let open = skip_ws(b, 0);
    (b.get(open) == Some(&b'{')).then(|| skip_ws(b, open + 1))
}

/// Walks the members of the object whose first member (or closing brace) is at `first`,
/// handing `visit` each one's start, quoted key and value, until it breaks. Answers where
/// the object's closing brace is when the walk reached it, `None` if it broke first or the
/// text is not an object.
fn walk(
    text: &str,
    first: usize,
    mut visit: impl FnMut(usize, &str, Range<usize>) -> ControlFlow<()>,
) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = first;
    if b.get(i) == Some(&b'}') {
        return Some(i);
    }
    loop {
        let start = i;
        let key_end = string_end(b, i)?;
        let quoted = text.get(start..key_end)?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let value_start = skip_ws(b, i + 1);
        let value_end = value_end(b, value_start)?;
        visit(start, quoted, value_start..value_end).continue_value()?;
        i = skip_ws(b, value_end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Some(i),
            _ => return None,
        }
    }
}

/// Whether `"key"` is somewhere in the text.
fn quoted_in(b: &[u8], key: &str) -> bool {
    memchr::memmem::find_iter(b, key)
        .any(|at| at > 0 && b[at - 1] == b'"' && b.get(at + key.len()) == Some(&b'"'))
}

/// Whether the quoted key `quoted` (as in the text) names `key`.
fn key_is(quoted: &str, key: &str) -> bool {
    if quoted.contains('\\') {
        serde_json::from_str::<String>(quoted).is_ok_and(|k| k == key)
    } else {
        quoted.len() == key.len() + 2 && &quoted[1..quoted.len() - 1] == key
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        i += 1;
    }
    i
}

/// The end of the string whose opening quote is at `i`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        // Strings are most of a document's bytes: jump to the next quote or escape.
        j += memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[j] == b'"' {
            return Some(j + 1);
        }
        j += 2;
    }
}

/// The end of the value that starts at `i`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while !matches!(
                b.get(j),
                None | Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
            ) {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// Embedded as JSON. The text is checked here, as it is copied, not when a store read it.
impl Serialize for Document {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_str(&self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        Ok(Document(Box::<str>::from(raw).into_string()))
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
        self.0 == other.0 || matches!((self.to_value(), other.to_value()), (Ok(a), Ok(b)) if a == b)
    }
}

impl PartialEq<Value> for Document {
    fn eq(&self, other: &Value) -> bool {
        self.to_value().is_ok_and(|v| v == *other)
    }
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
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
    fn stored_text_that_is_not_json_fails_where_it_is_used() {
        let bad = Document::from_stored(r#"{"a":"#.to_owned());
        assert!(bad.parse::<Value>().is_err());
        assert!(bad.to_value().is_err());
        assert!(serde_json::to_string(&bad).is_err());
        assert_eq!(bad.field::<Value>("a"), None);
        assert_ne!(bad, json!({"a": 1}));
    }

    #[test]
    fn one_member_reads_and_writes_without_the_others() {
        let mut doc = Document::from(json!({"keep": {"deep": [1, "}"]}, "n": 1, "s\"q": "x"}));
        assert_eq!(doc.field::<i64>("n"), Some(1));
        assert_eq!(
            doc.field::<String>("s\"q"),
            Some("x".into()),
            "escaped keys"
        );
        assert_eq!(doc.field::<i64>("deep"), None, "top-level members only");
        assert_eq!(doc.field::<i64>("missing"), None);
        assert_eq!(doc.field::<String>("n"), None, "not that type");

        assert!(doc.set_field("n", &json!({"now": true})));
        assert!(doc.set_field("new", "v"));
        assert_eq!(
            doc,
            json!({"keep": {"deep": [1, "}"]}, "n": {"now": true}, "s\"q": "x", "new": "v"})
        );
        assert!(doc.remove_field("n"));
        assert!(doc.remove_field("absent"));
        assert_eq!(
            doc,
            json!({"keep": {"deep": [1, "}"]}, "s\"q": "x", "new": "v"})
        );
        assert!(doc.remove_field("new"));
        assert!(doc.remove_field("keep"));
        assert!(doc.remove_field("s\"q"));
        assert_eq!(doc.as_str(), "{}");
        assert!(doc.set_field("only", &1));
        assert_eq!(doc.as_str(), r#"{"only":1}"#);

        let mut null = Document::null();
        assert!(!null.set_field("n", &1));
        assert!(!null.remove_field("n"));
        assert_eq!(null.as_str(), "null");
        assert_eq!(null.field::<i64>("n"), None);
    }

    #[test]
    fn raw_fields_read_what_field_reads_and_nothing_from_a_non_object() {
        let doc = Document::from_stored(r#"{"a": 1, "b": {"c": [2, "}"]}, "d": "x\"y"}"#.into());
        assert_eq!(
            doc.raw_fields(["d", "b", "nope"]),
            [Some(r#""x\"y""#), Some(r#"{"c": [2, "}"]}"#), None]
        );
        assert_eq!(Document::null().raw_fields(["a"]), [None]);
        assert_eq!(Document::from_stored("{}".into()).raw_fields(["a"]), [None]);
    }

    #[test]
    fn members_are_found_in_any_spacing_and_spelling() {
        let mut doc = Document::from_stored(
            "{ \"a\" : [ 1 , {\"b\": \"\\\"\"} ] ,\n \"\\u0062\": -1.5e3 , \"c\":null }".into(),
        );
        assert_eq!(doc.field::<f64>("b"), Some(-1500.0), "an escaped key");
        assert_eq!(doc.field::<Value>("c"), Some(Value::Null));
        assert!(doc.set_field("b", &2));
        assert!(doc.remove_field("a"));
        assert!(doc.remove_field("c"));
        assert_eq!(doc, json!({"b": 2}));
        assert_eq!(doc.field::<i64>("b"), Some(2));
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            // Quarters: exact in binary and in decimal, so they read back the same.
            (-4000i32..4000).prop_map(|n| Value::from(f64::from(n) / 4.0)),
            "[a-z\"\\\\{}\\[\\],: é\u{1}]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                prop::collection::btree_map("[a-c\"\\\\]{1,2}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Member access on the text agrees with the same access on the tree.
        #[test]
        fn member_access_agrees_with_the_tree(
            members in prop::collection::btree_map("[a-c\"\\\\]{1,2}", json_value(), 0..6),
            key in "[a-c\"\\\\]{1,2}",
            pretty in any::<bool>(),
        ) {
            let tree = Value::Object(members.into_iter().collect());
            let text = if pretty {
                serde_json::to_string_pretty(&tree).unwrap()
            } else {
                serde_json::to_string(&tree).unwrap()
            };
            let doc = Document::from_stored(text);
            prop_assert_eq!(doc.field::<Value>(&key), tree.get(&key).cloned());
            // Read together with others, present or not, in either order.
            for keys in [[key.as_str(), "a", "zz"], ["zz", "a", key.as_str()]] {
                let raw = doc.raw_fields(keys);
                for (k, r) in keys.iter().zip(raw) {
                    let read = r.map(|t| serde_json::from_str::<Value>(t).unwrap());
                    prop_assert_eq!(read, tree.get(*k).cloned(), "{}", k);
                }
            }

            let new = json!({"v": [1]});
            let mut set = doc.clone();
            prop_assert!(set.set_field(&key, &new));
            let mut expected = tree.clone();
            expected[&key] = new;
            prop_assert_eq!(set.to_value().unwrap(), expected);

            let mut removed = doc.clone();
            prop_assert!(removed.remove_field(&key));
            let mut expected = tree.clone();
            expected.as_object_mut().unwrap().remove(&key);
            prop_assert_eq!(removed.to_value().unwrap(), expected);
        }
    }
}
