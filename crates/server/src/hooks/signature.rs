//! Webhook signatures: `X-Rapport-Signature: sha256=<hex HMAC-SHA256>` of `<timestamp>.<body>`
//! under the source's secret, with `X-Rapport-Timestamp` (unix seconds) within five minutes of
//! the server's clock. Signing the timestamp with the body means a captured delivery cannot be
//! replayed later with a new timestamp.

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "x-rapport-signature";
pub const TIMESTAMP_HEADER: &str = "x-rapport-timestamp";
/// How far the timestamp may be from the server's clock, either way.
pub const TOLERANCE_SECS: u64 = 5 * 60;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length");
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The `X-Rapport-Signature` value for a delivery (what senders compute; tests use it too).
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The timestamp header as sent, when it is unix seconds within the tolerance of `now`.
pub fn fresh_timestamp(headers: &HeaderMap, now: i64) -> Option<&str> {
    let v = headers.get(TIMESTAMP_HEADER)?.to_str().ok()?;
    if v.is_empty() || v.len() > 12 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t: i64 = v.parse().ok()?;
    (now.abs_diff(t) <= TOLERANCE_SECS).then_some(v)
}

/// Whether the signature header carries the HMAC of this delivery; compared in constant time.
pub fn verify(secret: &str, timestamp: &str, body: &[u8], headers: &HeaderMap) -> bool {
    let sent = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let Some(bytes) = sent.and_then(|s| s.trim().strip_prefix("sha256=")).and_then(unhex) else {
        return false;
    };
    mac(secret, timestamp, body).verify_slice(&bytes).is_ok()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(ts: &str, sig: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(TIMESTAMP_HEADER, HeaderValue::from_str(ts).unwrap());
        h.insert(SIGNATURE_HEADER, HeaderValue::from_str(sig).unwrap());
        h
    }

    #[test]
    fn matches_openssl() {
        // printf %s '1700000000.{"text":"hi"}' | openssl dgst -sha256 -hmac whsec_test -r
        let sig = sign("whsec_test", "1700000000", br#"{"text":"hi"}"#);
        assert_eq!(sig, "sha256=add2fc7010ee7aa23f65449ce9240cd32763de7515ca26c43cd1e9d447a5361a");
    }

    #[test]
    fn verifies_only_the_signed_delivery() {
        let body = br#"{"text":"hi"}"#;
        let sig = sign("s", "1700000000", body);
        assert!(verify("s", "1700000000", body, &headers("1700000000", &sig)));
        assert!(verify(
            "s",
            "1700000000",
            body,
            &headers("1700000000", &sig.to_uppercase().replace("SHA256=", "sha256="))
        ));
        assert!(!verify("other", "1700000000", body, &headers("1700000000", &sig)));
        assert!(!verify("s", "1700000001", body, &headers("1700000001", &sig)), "timestamp signed");
        assert!(!verify("s", "1700000000", b"{}", &headers("1700000000", &sig)));
        for bad in ["", "sha256=", "sha256=zz", "md5=00", &sig[7..]] {
            assert!(!verify("s", "1700000000", body, &headers("1700000000", bad)), "{bad}");
        }
    }

    #[test]
    fn timestamps_are_fresh_within_five_minutes() {
        let now = 1_700_000_000;
        let at = |ts: &str| fresh_timestamp(&headers(ts, "x"), now).is_some();
        assert!(at("1700000000") && at("1700000300") && at("1699999700"));
        assert!(!at("1700000301") && !at("1699999699"));
        for bad in ["", "-5", "+1700000000", "1.7e9", "99999999999999999999"] {
            assert!(!at(bad), "{bad}");
        }
        assert!(fresh_timestamp(&HeaderMap::new(), now).is_none());
    }
}
