//! `[handoff]`: where handoff packets go. Both targets are optional; with
//! neither, handoffs are still recorded and shown by `setter handoff list`.

use super::Validator;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HandoffConfig {
    /// POST the packet (JSON) here, signed `X-Setter-Signature: sha256=<hex>`.
    pub webhook_url: String,
    /// The NAME of the variable holding the HMAC secret for the signature.
    pub webhook_secret_env: String,
    /// Write `<id>.json` and `<id>.md` into this directory.
    pub directory: String,
    /// Delivery attempts before a delivery is dead-lettered (`handoff retry` revives it).
    pub max_attempts: u32,
    /// Hand off on its own: a Hot lead, a lead at stage SQL, a lead asking
    /// for a human. Off: only the operator hands off.
    pub auto: bool,
}

impl Default for HandoffConfig {
    fn default() -> Self {
        Self {
            webhook_url: String::new(),
            webhook_secret_env: "SETTER_HANDOFF_SECRET".into(),
            directory: String::new(),
            max_attempts: 8,
            auto: true,
        }
    }
}

pub(super) fn validate(h: &HandoffConfig, v: &mut Validator) {
    let url = &h.webhook_url;
    if !url.is_empty() && !url.starts_with("https://") && !url.starts_with("http://") {
        v.error(
            "handoff.webhook_url",
            "must start with https:// (or be empty)",
        );
    }
    if h.max_attempts == 0 {
        v.error("handoff.max_attempts", "must be at least 1");
    }
}
