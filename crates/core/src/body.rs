//! JSON bodies: a response as the dialects send it, and a request's bytes decoded.

use serde_json::value::RawValue;
use serde_json::Value;

/// A response body: a JSON tree, or JSON a product printed straight from its own types.
/// Building a tree only to print and drop it cost ~10 % of a describe (bench/README.md,
/// finding 52).
#[derive(Debug)]
pub enum Body {
    Tree(Value),
    Printed(Box<RawValue>),
}

impl From<Value> for Body {
    fn from(tree: Value) -> Self {
        Body::Tree(tree)
    }
}

impl Body {
    /// `body` printed as JSON.
    ///
    /// Panics if `body` does not serialize, which plain data (structs, maps with string
    /// keys, `Value`) always does.
    pub fn print<T: serde::Serialize + ?Sized>(body: &T) -> Body {
        Body::Printed(serde_json::value::to_raw_value(body).expect("a body is plain data"))
    }

    /// The body as a tree: for an XML answer, or a test.
    pub fn into_value(self) -> Value {
        match self {
            Body::Tree(tree) => tree,
            Body::Printed(json) => {
                serde_json::from_str(json.get()).expect("printed JSON parses back")
            }
        }
    }

    /// The body's JSON text.
    pub fn into_json(self) -> Vec<u8> {
        match self {
            Body::Tree(tree) => serde_json::to_vec(&tree).expect("a JSON value always serializes"),
            Body::Printed(json) => Box::<str>::from(json).into_boxed_bytes().into_vec(),
        }
    }

    /// The top-level string member `key` of a tree (an error body's code); `""` otherwise.
    pub fn tree_str(&self, key: &str) -> &str {
        match self {
            Body::Tree(tree) => tree.get(key).and_then(Value::as_str).unwrap_or(""),
            Body::Printed(_) => "",
        }
    }
}

/// `bytes` decoded as JSON into `T`, as `serde_json::from_slice` would, errors included.
/// Text that is valid UTF-8 as a whole is parsed as a `str`: `from_slice` checks the UTF-8
/// of every string it reads again, 1.7 % of a StarRocks create's instructions (bench
/// finding 88).
pub fn from_json_bytes<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_decode_as_from_slice_would_errors_included() {
        let cases: [&[u8]; 5] = [
            br#"{"a": "caf\u00e9", "b": [1, 2.5, null]}"#,
            "{\"ü\": \"naïve\"}".as_bytes(),
            b"{\"a\": \"\xff\"}",
            b"{\"a\": 1,}",
            b"",
        ];
        for bytes in cases {
            let ours: Result<Value, String> = from_json_bytes(bytes).map_err(|e| e.to_string());
            let theirs: Result<Value, String> =
                serde_json::from_slice(bytes).map_err(|e| e.to_string());
            assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(bytes));
        }
    }
}
