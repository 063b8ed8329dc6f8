//! Verification of Huawei Cloud's SDK-HMAC-SHA256 request signatures
//! (`huaweicloudsdkcore/signer/signer.py: Signer.sign`), following `sdk-contract.md` §2.3 and
//! the independent verifier `verify_huawei` in `sdk-probes/capture_server.py`.
//!
//! Pure functions over the request as received: no clock, no key store. The caller reads a
//! [`Claim`] with [`parse_claim`], checks `X-Sdk-Date` against its own window
//! ([`parse_sdk_date`]), looks up the secret of `claim.access_key_id`, then calls [`verify`].
//! [`sign`] is the client side, for tests and the load generator.

use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use cloudtwin_signing::{
    header_values, joined_header, put_joined_header, sha256_of, CanonicalSink, Hex64,
};

/// The only algorithm the SDKs use by default (`HttpConfig.signing_algorithm`).
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// sha256 of nothing: the payload hash of a request without a body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Python `quote(v, safe='~')`: all but `A-Z a-z 0-9 - _ . ~` becomes `%XX` (uppercase).
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// What the server received, before any normalisation. Header names lowercase; values as
/// received. `path` is the raw (still percent-encoded) path; `raw_query` has no `?`.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// What a request claims about itself, read without any secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub access_key_id: String,
    /// Lowercase, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// Lowercase hex, as sent.
    pub signature: String,
    /// The `X-Sdk-Date` value, trimmed.
    pub sdk_date: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Authorization` header.
    #[error("the request carries no Authorization header")]
    Missing,
    /// An algorithm other than SDK-HMAC-SHA256 (SM3, ECDSA, V11-HMAC-SHA256 …).
    #[error("the signing algorithm {0:?} is not supported; use SDK-HMAC-SHA256")]
    Unsupported(String),
    /// The `Authorization` header or a signed header is not what the scheme requires.
    #[error("{0}")]
    Malformed(String),
    /// `X-Sdk-Date` is absent.
    #[error("the X-Sdk-Date header is missing")]
    MissingDate,
    /// `X-Sdk-Date` is not `YYYYMMDDTHHMMSSZ`.
    #[error("the X-Sdk-Date header {0:?} is not of the form YYYYMMDDTHHMMSSZ")]
    BadDate(String),
    /// The recomputed signature differs.
    #[error("verify aksk signature fail")]
    Mismatch,
}

fn malformed(msg: impl Into<String>) -> SignatureError {
    SignatureError::Malformed(msg.into())
}

/// Reads the access key, signed headers, signature and date. Structure only; no secret.
pub fn parse_claim(req: &SignedRequest) -> Result<Claim, SignatureError> {
    let auth = joined_header(req.headers, "authorization").ok_or(SignatureError::Missing)?;
    let (algorithm, rest) = auth.split_once(' ').unwrap_or((auth.as_str(), ""));
    if algorithm != ALGORITHM {
        return Err(SignatureError::Unsupported(algorithm.to_owned()));
    }
    let (mut access, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=').ok_or_else(|| {
            malformed(format!(
                "the Authorization header part {part:?} is not of the form Key=Value"
            ))
        })?;
        let slot = match k {
            "Access" => &mut access,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.replace(v.to_owned()).is_some() {
            return Err(malformed(format!(
                "the Authorization header names {k} twice"
            )));
        }
    }
    let access_key_id = access
        .filter(|a| !a.is_empty())
        .ok_or_else(|| malformed("the Authorization header lacks Access=<access key id>"))?;
    let signed = signed
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed("the Authorization header lacks SignedHeaders=<names>"))?;
    let signature = signature
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed("the Authorization header lacks Signature=<hex>"))?;
    let signed_headers: Vec<String> = signed.split(';').map(str::to_ascii_lowercase).collect();
    if signed_headers.iter().any(String::is_empty) {
        return Err(malformed("SignedHeaders has an empty name"));
    }
    if !signed_headers.iter().any(|h| h == "x-sdk-date") {
        return Err(malformed("SignedHeaders must include x-sdk-date"));
    }
    for name in &signed_headers {
        if header_values(req.headers, name).next().is_none() {
            return Err(malformed(format!(
                "the signed header {name:?} is not in the request"
            )));
        }
    }
    let sdk_date = joined_header(req.headers, "x-sdk-date").ok_or(SignatureError::MissingDate)?;
    Ok(Claim {
        access_key_id,
        signed_headers,
        signature,
        sdk_date,
    })
}

/// `YYYYMMDDTHHMMSSZ` (UTC) → Unix seconds.
pub fn parse_sdk_date(value: &str) -> Result<i64, SignatureError> {
    let bad = || SignatureError::BadDate(value.to_owned());
    let b = value.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return Err(bad());
    }
    let digits = |r: std::ops::Range<usize>| -> Result<i64, SignatureError> {
        let s = &value[r];
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let month = time::Month::try_from(digits(4..6)? as u8).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(digits(0..4)? as i32, month, digits(6..8)? as u8)
        .map_err(|_| bad())?;
    let t = time::Time::from_hms(
        digits(9..11)? as u8,
        digits(11..13)? as u8,
        digits(13..15)? as u8,
    )
    .map_err(|_| bad())?;
    Ok(time::PrimitiveDateTime::new(date, t)
        .assume_utc()
        .unix_timestamp())
}

/// Unix milliseconds → `YYYYMMDDTHHMMSSZ`.
pub fn format_sdk_date(unix_ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The path percent-decoded, each segment encoded again, ending with `/`.
fn put_canonical_uri(path: &str, out: &mut impl CanonicalSink) {
    let decoded: Vec<u8> = percent_decode_str(path).collect();
    for (i, segment) in decoded.split(|b| *b == b'/').enumerate() {
        if i > 0 {
            out.put("/");
        }
        for piece in percent_encode(segment, RFC3986) {
            out.put(piece);
        }
    }
    // Segments hold no `/`: the URI ends with one only after an empty last segment.
    if !decoded.ends_with(b"/") {
        out.put("/");
    }
}

/// The query's pairs sorted (by key, then value), each side encoded, joined with `&`.
fn put_canonical_query(raw_query: &str, out: &mut impl CanonicalSink) {
    let mut pairs: Vec<_> = form_urlencoded::parse(raw_query.as_bytes()).collect();
    pairs.sort();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.put("&");
        }
        for piece in percent_encode(key.as_bytes(), RFC3986) {
            out.put(piece);
        }
        out.put("=");
        for piece in percent_encode(value.as_bytes(), RFC3986) {
            out.put(piece);
        }
    }
}

fn put_payload_hash(req: &SignedRequest, out: &mut impl CanonicalSink) {
    if req.body.is_empty() {
        out.put(EMPTY_SHA256);
    } else if !put_joined_header(req.headers, "x-sdk-content-sha256", out) {
        out.put(Hex64::sha256(req.body).as_str());
    }
}

/// The canonical request over `signed_headers` (§2.3).
pub fn canonical_request(
    req: &SignedRequest,
    signed_headers: &[String],
) -> Result<String, SignatureError> {
    let mut out = String::with_capacity(256 + req.path.len() + req.raw_query.len());
    put_canonical_request(req, signed_headers, &mut out)?;
    Ok(out)
}

fn put_canonical_request(
    req: &SignedRequest,
    signed_headers: &[String],
    out: &mut impl CanonicalSink,
) -> Result<(), SignatureError> {
    out.put(req.method);
    out.put("\n");
    put_canonical_uri(req.path, out);
    out.put("\n");
    put_canonical_query(req.raw_query, out);
    out.put("\n");
    for name in signed_headers {
        out.put(name);
        out.put(":");
        if !put_joined_header(req.headers, name, out) {
            return Err(malformed(format!(
                "the signed header {name:?} is not in the request"
            )));
        }
        out.put("\n");
    }
    out.put("\n");
    for (i, name) in signed_headers.iter().enumerate() {
        if i > 0 {
            out.put(";");
        }
        out.put(name);
    }
    out.put("\n");
    put_payload_hash(req, out);
    Ok(())
}

/// The string-to-sign for a claim (not secret; useful for diagnostics).
pub fn string_to_sign(req: &SignedRequest, claim: &Claim) -> Result<String, SignatureError> {
    let canonical = canonical_request(req, &claim.signed_headers)?;
    let mut text = String::new();
    put_string_to_sign(
        &claim.sdk_date,
        Hex64::sha256(canonical.as_bytes()).as_str(),
        &mut text,
    );
    Ok(text)
}

/// The algorithm, the `X-Sdk-Date`, then the canonical request's hex SHA-256.
fn put_string_to_sign(sdk_date: &str, canonical_digest: &str, out: &mut impl CanonicalSink) {
    for piece in [ALGORITHM, "\n", sdk_date, "\n", canonical_digest] {
        out.put(piece);
    }
}

fn hmac_hex(secret: &str, msg: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(msg.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Recomputes the signature with `secret` and compares it in constant time. The canonical
/// request is hashed as it is written: an accepted request builds no string.
pub fn verify(req: &SignedRequest, claim: &Claim, secret: &str) -> Result<(), SignatureError> {
    let canonical = sha256_of(|hasher| put_canonical_request(req, &claim.signed_headers, hasher))?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    put_string_to_sign(&claim.sdk_date, canonical.as_str(), &mut mac);
    let expected = Hex64::digest(mac.finalize().into_bytes().into());
    if bool::from(
        expected
            .as_str()
            .as_bytes()
            .ct_eq(claim.signature.as_bytes()),
    ) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Client side: the `Authorization` value for a request, as the SDK computes it. Signs every
/// given header whose name has no `_` (which must include `x-sdk-date`).
pub fn sign(req: &SignedRequest, access_key_id: &str, secret: &str) -> String {
    let mut names: Vec<String> = req
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .filter(|n| !n.contains('_') && n != "authorization")
        .collect();
    names.sort();
    names.dedup();
    let date = joined_header(req.headers, "x-sdk-date").unwrap_or_default();
    let claim = Claim {
        access_key_id: access_key_id.to_owned(),
        signed_headers: names,
        signature: String::new(),
        sdk_date: date,
    };
    let sts = string_to_sign(req, &claim).expect("every listed header is present");
    format!(
        "{ALGORITHM} Access={access_key_id}, SignedHeaders={}, Signature={}",
        claim.signed_headers.join(";"),
        hmac_hex(secret, &sts)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical_uri(path: &str) -> String {
        let mut uri = String::new();
        put_canonical_uri(path, &mut uri);
        uri
    }

    fn canonical_query(raw_query: &str) -> String {
        let mut query = String::new();
        put_canonical_query(raw_query, &mut query);
        query
    }

    /// The three Huawei vectors of `reference/signature-test-vectors.json`, produced by
    /// huaweicloudsdkcore's own signer (AK `test-ak`, SK `test-sk`).
    struct Vector {
        method: &'static str,
        uri: &'static str,
        content_type: &'static str,
        body: &'static str,
        signature: &'static str,
    }

    const PID: &str = "23a50154cf494ec9ad6883979a12db0a";
    const VECTORS: [Vector; 3] = [
        Vector {
            method: "POST",
            uri: "/v2/23a50154cf494ec9ad6883979a12db0a/instances",
            content_type: "application/json",
            body: "{\"name\": \"reliability-1751840557\", \"engine\": \"reliability\", \"engine_version\": \"4.8.0\", \"storage_space\": 600, \"broker_num\": 1}",
            signature: "7f52d98e146cc1ecbc7d2681f873190b638be3f59df550604fbfdf8e91d7fa68",
        },
        Vector {
            method: "POST",
            uri: "/v3/23a50154cf494ec9ad6883979a12db0a/instances/40dc4c5729f14aad893e2dcd5baf6a15in07/starrocks",
            content_type: "application/json;charset=utf-8",
            body: "{\"name\": \"htap-ff64\"}",
            signature: "59bc7e1d20c2efbbdf075604f713220d1d26c035168518febac2437ecf3573a7",
        },
        Vector {
            method: "GET",
            uri: "/v2/23a50154cf494ec9ad6883979a12db0a/instances?engine=reliability&include_failure=true&limit=10&name=a%20b%2Fc",
            content_type: "application/json",
            body: "",
            signature: "224e365be4439628ac7d0dd301593aafa4f2ea588206f9a3ae217c746403d0c7",
        },
    ];

    fn headers(v: &Vector, auth: Option<String>) -> Vec<(String, String)> {
        let mut h = vec![
            (
                "user-agent".to_string(),
                "huaweicloud-usdk-python/3.0; os/Linux python/3.11.7 impl/CPython".to_string(),
            ),
            ("x-project-id".into(), PID.into()),
            ("x-sdk-date".into(), "20250102T030405Z".into()),
            ("content-type".into(), v.content_type.into()),
            ("host".into(), "127.0.0.1:8080".into()),
        ];
        if let Some(a) = auth {
            h.push(("authorization".into(), a));
        }
        h
    }

    fn expected_auth(v: &Vector) -> String {
        format!("SDK-HMAC-SHA256 Access=test-ak, SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, Signature={}", v.signature)
    }

    fn check(
        v: &Vector,
        h: &[(String, String)],
        body: &str,
        secret: &str,
    ) -> Result<(), SignatureError> {
        let (path, query) = v.uri.split_once('?').unwrap_or((v.uri, ""));
        let req = SignedRequest {
            method: v.method,
            path,
            raw_query: query,
            headers: h,
            body: body.as_bytes(),
        };
        let claim = parse_claim(&req)?;
        verify(&req, &claim, secret)
    }

    #[test]
    fn sdk_vectors_verify() {
        for v in &VECTORS {
            let h = headers(v, Some(expected_auth(v)));
            check(v, &h, v.body, "test-sk").unwrap_or_else(|e| panic!("{}: {e}", v.uri));
        }
    }

    #[test]
    fn sign_reproduces_the_sdk() {
        for v in &VECTORS {
            let h = headers(v, None);
            let (path, query) = v.uri.split_once('?').unwrap_or((v.uri, ""));
            let req = SignedRequest {
                method: v.method,
                path,
                raw_query: query,
                headers: &h,
                body: v.body.as_bytes(),
            };
            assert_eq!(sign(&req, "test-ak", "test-sk"), expected_auth(v));
        }
    }

    #[test]
    fn tampering_is_refused() {
        let v = &VECTORS[0];
        let good = headers(v, Some(expected_auth(v)));
        assert_eq!(
            check(v, &good, v.body, "other-sk"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(v, &good, &v.body.replace("600", "700"), "test-sk"),
            Err(SignatureError::Mismatch)
        );
        let mut h = good.clone();
        h[1].1 = "0".repeat(32);
        assert_eq!(
            check(v, &h, v.body, "test-sk"),
            Err(SignatureError::Mismatch)
        );
        let mut h = good.clone();
        h[2].1 = "20250102T030406Z".into();
        assert_eq!(
            check(v, &h, v.body, "test-sk"),
            Err(SignatureError::Mismatch)
        );
        // Another path, method or query.
        let moved = Vector {
            uri: "/v2/23a50154cf494ec9ad6883979a12db0a/instances/x",
            ..VECTORS[0]
        };
        assert_eq!(
            check(&moved, &good, v.body, "test-sk"),
            Err(SignatureError::Mismatch)
        );
        let q = &VECTORS[2];
        let hq = headers(q, Some(expected_auth(q)));
        let changed = Vector { uri: "/v2/23a50154cf494ec9ad6883979a12db0a/instances?engine=reliability&include_failure=true&limit=11&name=a%20b%2Fc", ..VECTORS[2] };
        assert_eq!(
            check(&changed, &hq, "", "test-sk"),
            Err(SignatureError::Mismatch)
        );
        let deleted = Vector {
            method: "DELETE",
            ..VECTORS[2]
        };
        assert_eq!(
            check(&deleted, &hq, "", "test-sk"),
            Err(SignatureError::Mismatch)
        );
        // A flipped signature character.
        let mut h = good.clone();
        let auth = expected_auth(v).replace("Signature=7f", "Signature=7e");
        h[5].1 = auth;
        assert_eq!(
            check(v, &h, v.body, "test-sk"),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn malformed_claims() {
        let v = &VECTORS[0];
        let with = |auth: &str| headers(v, Some(auth.to_string()));
        assert_eq!(
            check(v, &headers(v, None), v.body, "test-sk"),
            Err(SignatureError::Missing)
        );
        assert!(matches!(
            check(v, &with("SDK-HMAC-SM3 Access=a, SignedHeaders=x-sdk-date, Signature=00"), v.body, "s"),
            Err(SignatureError::Unsupported(a)) if a == "SDK-HMAC-SM3"
        ));
        for bad in [
            "SDK-HMAC-SHA256 SignedHeaders=x-sdk-date, Signature=00",
            "SDK-HMAC-SHA256 Access=a, Signature=00",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=x-sdk-date",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature=00",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=x-sdk-date;x-missing, Signature=00",
            "SDK-HMAC-SHA256 Access=a, Access=b, SignedHeaders=x-sdk-date, Signature=00",
            "SDK-HMAC-SHA256 garbage",
        ] {
            assert!(
                matches!(
                    check(v, &with(bad), v.body, "s"),
                    Err(SignatureError::Malformed(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical_uri("/v3/projects"), "/v3/projects/");
        assert_eq!(
            canonical_uri("/v2/%7Bproject_id%7D/x"),
            "/v2/%7Bproject_id%7D/x/"
        );
        assert_eq!(canonical_uri("/a%2Fb/c d"), "/a/b/c%20d/");
        assert_eq!(
            canonical_query("name=a%20b%2Fc~%2A&engine=x&a"),
            "a=&engine=x&name=a%20b%2Fc~%2A"
        );
        assert_eq!(canonical_query("k=2&k=1"), "k=1&k=2");
    }

    #[test]
    fn dates() {
        assert_eq!(parse_sdk_date("20250102T030405Z").unwrap(), 1_735_787_045);
        assert_eq!(format_sdk_date(1_735_787_045_123), "20250102T030405Z");
        for bad in [
            "2025-01-02T03:04:05Z",
            "20251302T030405Z",
            "20250102T250405Z",
            "20250102T030405",
            "2025010xT030405Z",
        ] {
            assert!(
                matches!(parse_sdk_date(bad), Err(SignatureError::BadDate(_))),
                "{bad}"
            );
        }
    }
}
