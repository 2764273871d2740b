//! `X-Hub-Signature-256` and the verify-token handshake.
//!
//! The signature is an HMAC-SHA256 of the raw body bytes keyed with the Meta
//! app secret; it is checked before the body is parsed (any re-serialisation
//! would change the bytes) and compared in constant time. Several secrets may
//! be configured (one app per channel): a body signed by any of them passes.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Why a signed request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no X-Hub-Signature-256 header")]
    Missing,
    #[error("X-Hub-Signature-256 is not \"sha256=\" and 64 hex digits")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

/// Checks `header` (the header's value, if any) against `body` under each secret.
pub fn verify(
    secrets: &[SecretString],
    header: Option<&str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_digest = header
        .strip_prefix("sha256=")
        .filter(|h| h.len() == 64)
        .ok_or(SignatureError::Malformed)?;
    let expected = hex::decode(hex_digest).map_err(|_| SignatureError::Malformed)?;
    let ok = secrets.iter().any(|secret| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else {
            return false;
        };
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The header value Meta would send for `body` (tests, load generators).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any size");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `given` equals one of the configured verify tokens (constant time).
pub fn token_matches(tokens: &[SecretString], given: &str) -> bool {
    tokens
        .iter()
        .any(|t| bool::from(t.expose_secret().as_bytes().ct_eq(given.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Vec<SecretString> {
        vec![
            SecretString::from("other"),
            SecretString::from("app-secret"),
        ]
    }

    #[test]
    fn a_body_signed_with_any_configured_secret_passes() {
        let body = br#"{"object":"page","entry":[]}"#;
        let header = sign("app-secret", body);
        assert_eq!(verify(&secrets(), Some(&header), body), Ok(()));
        // One byte changed: the signature no longer matches.
        let changed = br#"{"object":"page","entry":[ ]}"#;
        assert_eq!(
            verify(&secrets(), Some(&header), changed),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(&secrets(), None, body), Err(SignatureError::Missing));
        for bad in ["sha1=abc", "sha256=zz", &header[..40]] {
            assert_eq!(
                verify(&secrets(), Some(bad), body),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(
            verify(&secrets(), Some(&sign("wrong", body)), body),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn verify_tokens_compare_exactly() {
        let tokens = vec![SecretString::from("tok-123")];
        assert!(token_matches(&tokens, "tok-123"));
        assert!(!token_matches(&tokens, "tok-12"));
        assert!(!token_matches(&tokens, "tok-1234"));
    }
}
