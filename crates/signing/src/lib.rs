//! Pieces both dialects' signature checks build their canonical requests from. Below the
//! dialects and beside the core, which knows nothing of HTTP.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Where a canonical request is written: kept as text (error messages, the client side)
/// or hashed as it is written (verifying needs only its digest, so an accepted request
/// builds no string).
pub trait CanonicalSink {
    fn put(&mut self, s: &str);
}

impl CanonicalSink for String {
    #[inline]
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
}

impl CanonicalSink for Sha256 {
    #[inline]
    fn put(&mut self, s: &str) {
        self.update(s.as_bytes());
    }
}

impl CanonicalSink for Hmac<Sha256> {
    #[inline]
    fn put(&mut self, s: &str) {
        self.update(s.as_bytes());
    }
}

/// The hex SHA-256 of what `write` puts, built from no string.
pub fn sha256_of<E>(write: impl FnOnce(&mut Sha256) -> Result<(), E>) -> Result<Hex64, E> {
    let mut hasher = Sha256::new();
    write(&mut hasher)?;
    Ok(Hex64::digest(hasher.finalize().into()))
}

/// Trimmed values of every header called `name` (any case), in wire order.
#[inline]
pub fn header_values<'h>(
    headers: &'h [(String, String)],
    name: &'h str,
) -> impl Iterator<Item = &'h str> + 'h {
    headers
        .iter()
        .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// Writes the signed value of header `name`: its values trimmed, sorted and joined with
/// `,`. `false`, with nothing written, when the request has no such header.
pub fn put_joined_header(
    headers: &[(String, String)],
    name: &str,
    out: &mut impl CanonicalSink,
) -> bool {
    let mut values = header_values(headers, name);
    let Some(first) = values.next() else {
        return false;
    };
    match values.next() {
        // The common case, written without a copy.
        None => out.put(first),
        Some(second) => {
            let mut all = vec![first, second];
            all.extend(values);
            all.sort_unstable();
            out.put(&all.join(","));
        }
    }
    true
}

/// [`put_joined_header`] as a string.
pub fn joined_header(headers: &[(String, String)], name: &str) -> Option<String> {
    let mut joined = String::new();
    put_joined_header(headers, name, &mut joined).then_some(joined)
}

/// A SHA-256 digest in lowercase hex, without allocating.
pub struct Hex64([u8; 64]);

impl Hex64 {
    #[inline]
    pub fn sha256(bytes: &[u8]) -> Self {
        Self::digest(Sha256::digest(bytes).into())
    }

    #[inline]
    pub fn digest(digest: [u8; 32]) -> Self {
        let mut out = [0u8; 64];
        hex::encode_to_slice(digest, &mut out).expect("64 hex digits for 32 bytes");
        Hex64(out)
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits are ASCII")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn repeated_headers_are_trimmed_sorted_and_joined() {
        let h = headers(&[("x-b", " 2 "), ("X-A", "one"), ("x-b", "1")]);
        assert_eq!(joined_header(&h, "x-b").as_deref(), Some("1,2"));
        assert_eq!(joined_header(&h, "x-a").as_deref(), Some("one"));
        assert_eq!(joined_header(&h, "x-c"), None);
        let mut out = String::from("kept");
        assert!(!put_joined_header(&h, "x-c", &mut out));
        assert_eq!(out, "kept");
    }

    #[test]
    fn hashing_as_written_equals_hashing_the_text() {
        let mut text = String::new();
        let mut hasher = Sha256::new();
        for piece in ["GET", "\n", "/", "\n", "a=1&b=%20"] {
            text.put(piece);
            hasher.put(piece);
        }
        assert_eq!(
            Hex64::digest(hasher.finalize().into()).as_str(),
            hex::encode(Sha256::digest(text.as_bytes()))
        );
        assert_eq!(
            Hex64::sha256(b"").as_str(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
