//! Reading query parameters the way Alibaba's SDKs write them: strings, decimal
//! integers, `True`/`False` (Python's `str()`), and JSON-encoded arrays.
//! `bad` builds the product's own "invalid value" error.

use cloudtwin_aliyun::{AliError, Input};

pub type Bad = fn(String) -> AliError;

/// A non-empty parameter.
pub fn text<'a>(input: &'a Input, name: &str) -> Option<&'a str> {
    input.query(name).filter(|s| !s.is_empty())
}

pub fn required<'a>(input: &'a Input, name: &str) -> Result<&'a str, AliError> {
    text(input, name).ok_or_else(|| AliError::missing(name))
}

pub fn int(input: &Input, name: &str, bad: Bad) -> Result<Option<i64>, AliError> {
    text(input, name)
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| bad(format!("{name} must be an integer, got {s:?}")))
        })
        .transpose()
}

pub fn flag(input: &Input, name: &str, bad: Bad) -> Result<Option<bool>, AliError> {
    text(input, name)
        .map(|s| match s.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(bad(format!("{name} must be true or false, got {s:?}"))),
        })
        .transpose()
}

/// A parameter the SDK sends as a JSON-encoded array.
pub fn json_list<T: serde::de::DeserializeOwned>(
    input: &Input,
    name: &str,
    bad: Bad,
) -> Result<Option<Vec<T>>, AliError> {
    text(input, name)
        .map(|s| {
            serde_json::from_str::<Vec<T>>(s)
                .map_err(|e| bad(format!("{name} must be a JSON array: {e}")))
        })
        .transpose()
}

/// Paging: 1-based page number and a bounded page size.
pub struct Page {
    pub number: usize,
    pub size: usize,
}

impl Page {
    /// Reads `number_key` (default 1) and `size_key` (default `default_size`, at most `max_size`).
    pub fn read(
        input: &Input,
        (number_key, size_key): (&str, &str),
        default_size: i64,
        max_size: i64,
        bad: Bad,
    ) -> Result<Page, AliError> {
        let number = int(input, number_key, bad)?.unwrap_or(1);
        let size = int(input, size_key, bad)?.unwrap_or(default_size);
        if number < 1 {
            return Err(bad(format!(
                "{number_key} must be at least 1, got {number}"
            )));
        }
        if !(1..=max_size).contains(&size) {
            return Err(bad(format!(
                "{size_key} must be between 1 and {max_size}, got {size}"
            )));
        }
        Ok(Page {
            number: number as usize,
            size: size as usize,
        })
    }

    /// How many items come before this page.
    pub fn offset(&self) -> usize {
        (self.number - 1) * self.size
    }

    pub fn slice<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset())
            .take(self.size)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(m: String) -> AliError {
        AliError::new(400, "Bad", m)
    }

    fn input(pairs: &[(&str, &str)]) -> Input {
        Input {
            query: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Input::default()
        }
    }

    #[test]
    fn reads_python_style_values() {
        let i = input(&[("A", "True"), ("N", "12"), ("L", "[\"x\"]"), ("E", "")]);
        assert_eq!(flag(&i, "A", bad).unwrap(), Some(true));
        assert_eq!(int(&i, "N", bad).unwrap(), Some(12));
        assert_eq!(
            json_list::<String>(&i, "L", bad).unwrap(),
            Some(vec!["x".to_string()])
        );
        assert_eq!(text(&i, "E"), None, "empty counts as absent");
        assert_eq!(required(&i, "E").unwrap_err().code, "MissingParameter");
        assert_eq!(int(&i, "A", bad).unwrap_err().code, "Bad");
    }

    #[test]
    fn pages() {
        let p = Page::read(&input(&[("P", "2"), ("S", "2")]), ("P", "S"), 10, 100, bad).unwrap();
        assert_eq!(p.slice(vec![1, 2, 3, 4, 5]), vec![3, 4]);
        assert!(Page::read(&input(&[("S", "101")]), ("P", "S"), 10, 100, bad).is_err());
        assert!(Page::read(&input(&[("P", "0")]), ("P", "S"), 10, 100, bad).is_err());
    }
}
