//! `[serve]`, `[channels.*]` and `[takeover]`: how `setter serve` listens,
//! which inboxes it answers, and when the bot steps back for a human.
//!
//! Secrets never appear in the file: each is the *name* of an environment
//! variable (`access_token_env = "WHATSAPP_TOKEN"`), read when the server
//! starts, so a missing one is reported then with the key that names it.

use super::Validator;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[serve]`: the HTTP server and the per-lead queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// Where to listen (`setter serve --addr` overrides).
    pub addr: String,
    /// Turns running at once across all leads (a lead never has two).
    pub max_concurrent_turns: usize,
    /// A burst from one lead within this many ms becomes one turn.
    pub debounce_ms: u64,
    /// Larger request bodies are refused with 413 before anything is read into memory.
    pub max_body_bytes: usize,
    /// How long `POST /webchat/messages` waits for the reply before answering
    /// with an empty list (the reply is still stored and sent later).
    pub webchat_wait_ms: u64,
    /// The environment variable holding the bearer token for `/api/*`.
    pub api_token_env: String,
    /// After a crash, a reply caught mid-send waits this long for WhatsApp's
    /// status webhook (which carries Setter's key) before it is sent again:
    /// the platform may have accepted it just before the crash.
    pub resend_unconfirmed_after_ms: u64,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            max_concurrent_turns: 4,
            debounce_ms: 3000,
            max_body_bytes: 4 * 1024 * 1024,
            webchat_wait_ms: 25_000,
            api_token_env: "SETTER_API_TOKEN".into(),
            resend_unconfirmed_after_ms: 30_000,
        }
    }
}

/// `[channels]`: the inboxes Setter answers. A Meta channel without its
/// table is off.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelsConfig {
    pub whatsapp: Option<MetaChannel>,
    pub instagram: Option<MetaChannel>,
    pub messenger: Option<MetaChannel>,
    #[serde(default)]
    pub webchat: WebchatConfig,
}

/// One Meta inbox (WhatsApp Cloud API number, Instagram account, Facebook Page).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaChannel {
    /// The business account: WhatsApp `phone_number_id`, Instagram account id
    /// or Page id. Webhooks for it are routed here; replies are sent from it.
    #[serde(alias = "phone_number_id", alias = "page_id")]
    pub account_id: String,
    /// Variable holding the access token for the send API.
    pub access_token_env: String,
    /// Variable holding the Meta app secret that signs webhooks.
    #[serde(default = "default_app_secret_env")]
    pub app_secret_env: String,
    /// Variable holding the verify token typed into the Meta dashboard.
    #[serde(default = "default_verify_token_env")]
    pub verify_token_env: String,
    #[serde(default = "default_graph_base_url")]
    pub graph_base_url: String,
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// Setter's Meta app id: a Messenger echo from this app is Setter's own
    /// send, not a human taking over. Empty: only known message ids count.
    #[serde(default)]
    pub app_id: String,
    /// Sends per second from this account (WhatsApp allows 80, or 20 for a
    /// number shared with the WhatsApp Business app).
    #[serde(default = "default_sends_per_second")]
    pub sends_per_second: f64,
    /// One send attempt's time limit.
    #[serde(default = "default_send_timeout_secs")]
    pub send_timeout_secs: u64,
    /// Attempts on transient errors (429, 5xx, throttling codes) before the
    /// message is marked failed.
    #[serde(default = "default_max_send_attempts")]
    pub max_send_attempts: u32,
    /// The first retry's delay; later ones double (capped at 60 s), with jitter.
    #[serde(default = "default_retry_min_ms")]
    pub retry_min_ms: u64,
}

fn default_app_secret_env() -> String {
    "META_APP_SECRET".into()
}
fn default_verify_token_env() -> String {
    "META_VERIFY_TOKEN".into()
}
fn default_graph_base_url() -> String {
    "https://graph.facebook.com".into()
}
fn default_api_version() -> String {
    "v21.0".into()
}
fn default_sends_per_second() -> f64 {
    20.0
}
fn default_send_timeout_secs() -> u64 {
    15
}
fn default_max_send_attempts() -> u32 {
    5
}
fn default_retry_min_ms() -> u64 {
    1000
}

/// `[channels.webchat]`: Setter's own `POST /webchat/messages`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebchatConfig {
    pub enabled: bool,
}

impl Default for WebchatConfig {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// `[takeover]`: a human answering from the business inbox pauses the bot.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TakeoverConfig {
    /// How long the bot stays silent after a human's message (`"12h"`, `"30m"`).
    #[serde(with = "humantime_serde")]
    pub resume_after: Duration,
}

impl Default for TakeoverConfig {
    fn default() -> Self {
        Self {
            resume_after: Duration::from_secs(12 * 3600),
        }
    }
}

impl ChannelsConfig {
    /// The configured Meta channels, with their names as in `setter.toml`.
    pub fn meta(&self) -> impl Iterator<Item = (crate::lead::Channel, &MetaChannel)> {
        use crate::lead::Channel;
        [
            (Channel::Whatsapp, &self.whatsapp),
            (Channel::Instagram, &self.instagram),
            (Channel::Messenger, &self.messenger),
        ]
        .into_iter()
        .filter_map(|(c, m)| m.as_ref().map(|m| (c, m)))
    }
}

/// Checks `[serve]`, `[channels.*]` and `[takeover]`, naming each key.
pub(super) fn validate(
    serve: &ServeConfig,
    channels: &ChannelsConfig,
    takeover: &TakeoverConfig,
    v: &mut Validator,
) {
    if serve.addr.parse::<std::net::SocketAddr>().is_err() {
        v.error("serve.addr", "must be an address like \"127.0.0.1:8080\"");
    }
    if serve.max_concurrent_turns == 0 {
        v.error("serve.max_concurrent_turns", "must be at least 1");
    }
    if serve.debounce_ms > 60_000 {
        v.error(
            "serve.debounce_ms",
            "must be at most 60000 (a lead waits this long)",
        );
    }
    if serve.max_body_bytes < 1024 {
        v.error("serve.max_body_bytes", "must be at least 1024");
    }
    env_name(v, "serve.api_token_env", &serve.api_token_env);
    for (channel, m) in channels.meta() {
        let key = |k: &str| format!("channels.{channel}.{k}");
        v.non_empty(&key("account_id"), &m.account_id);
        env_name(v, &key("access_token_env"), &m.access_token_env);
        env_name(v, &key("app_secret_env"), &m.app_secret_env);
        env_name(v, &key("verify_token_env"), &m.verify_token_env);
        let url = m.graph_base_url.as_str();
        if !url.starts_with("https://") && !url.starts_with("http://") {
            v.error(&key("graph_base_url"), "must start with https://");
        }
        let version_ok = m.api_version.strip_prefix('v').is_some_and(|rest| {
            rest.split('.').count() == 2 && rest.split('.').all(|p| p.parse::<u32>().is_ok())
        });
        if !version_ok {
            v.error(&key("api_version"), "must look like \"v21.0\"");
        }
        if !(m.sends_per_second.is_finite()
            && m.sends_per_second > 0.0
            && m.sends_per_second <= 1000.0)
        {
            v.error(&key("sends_per_second"), "must be a number > 0 and <= 1000");
        }
        if m.send_timeout_secs == 0 {
            v.error(&key("send_timeout_secs"), "must be at least 1");
        }
        if m.max_send_attempts == 0 {
            v.error(&key("max_send_attempts"), "must be at least 1");
        }
    }
    if takeover.resume_after < Duration::from_secs(60) {
        v.error("takeover.resume_after", "must be at least 1m");
    }
}

/// A secret's key must hold a variable's name (`WHATSAPP_TOKEN`), never the secret.
fn env_name(v: &mut Validator, key: &str, name: &str) {
    let is_name = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !is_name {
        v.error(
            key,
            "must be the NAME of an environment variable (A-Z, 0-9, _), not the secret itself",
        );
    }
}
