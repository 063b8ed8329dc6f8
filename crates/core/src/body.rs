//! A response body as the dialects send it.

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
