//! RPC calls that ask for `Format=XML` get their answer as XML, as Alibaba's RPC gateway does.

use serde_json::Value;

/// `<root>…</root>` for a JSON value: object keys become elements, array items repeat
/// their key's element, scalars become text.
pub fn to_xml(root: &str, value: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    element(&mut out, root, value);
    out
}

fn element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Array(items) => {
            for item in items {
                element(out, name, item);
            }
        }
        Value::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        _ => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            match value {
                Value::Object(map) => {
                    for (k, v) in map {
                        element(out, k, v);
                    }
                }
                Value::String(s) => escape(out, s),
                other => escape(out, &other.to_string()),
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
    }
}

fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_nested_values_and_escapes() {
        let xml = to_xml(
            "Error",
            &json!({"Code": "A&B", "List": [1, 2], "Inner": {"X": null, "Y": true}}),
        );
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>A&amp;B</Code><Inner><X/><Y>true</Y></Inner><List>1</List><List>2</List></Error>"
        );
    }
}
