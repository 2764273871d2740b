//! Senders: one per configured Meta channel, over one HTTP client.
//!
//! Transient failures (timeouts, connection errors, HTTP 429 and 5xx, and
//! Graph's throttling codes) are retried with `backon` — exponential, with
//! jitter, honouring `Retry-After` — up to `max_send_attempts`. Everything
//! else is permanent (131047 outside the window, 131026 undeliverable, 190
//! bad token, 100 bad parameter, …; `docs/channels.md` §8): recorded on the
//! outbox row with its code and text, never retried. Sends from one account
//! are spaced to its `sends_per_second`.

use super::{messenger, whatsapp};
use crate::config::{ChannelsConfig, MetaChannel};
use crate::lead::Channel;
use crate::store::{OutboxRow, SendFailure};
use backon::{ExponentialBuilder, Retryable};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// A configuration problem found when the senders start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{key} names the environment variable {var}, which is not set")]
    MissingSecret { key: String, var: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Why one send failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq)]
pub struct SendError {
    pub failure: SendFailure,
    pub transient: bool,
    /// The server's `Retry-After`, when it gave one.
    pub retry_after: Option<Duration>,
}

/// Graph error codes worth retrying: unknown/temporary (1, 2, 131000,
/// 131016), throttling (4, 17, 341, 613, 80007, 130429), pair rate (131056),
/// temporary send failure (1200).
const TRANSIENT_CODES: &[i64] = &[
    1, 2, 4, 17, 341, 613, 1200, 80007, 130429, 131000, 131016, 131056,
];

/// One channel's sender.
struct Sender {
    channel: Channel,
    config: MetaChannel,
    token: SecretString,
    /// When the next send from this account may start (rate limit).
    next_slot: Mutex<Instant>,
}

/// All senders, by channel.
pub struct Senders {
    client: reqwest::Client,
    by_channel: HashMap<Channel, Sender>,
}

impl Senders {
    /// Reads each channel's token from its environment variable.
    pub fn from_config(channels: &ChannelsConfig) -> Result<Senders, SetupError> {
        let mut by_channel = HashMap::new();
        for (channel, config) in channels.meta() {
            let token =
                std::env::var(&config.access_token_env).map_err(|_| SetupError::MissingSecret {
                    key: format!("channels.{channel}.access_token_env"),
                    var: config.access_token_env.clone(),
                })?;
            let sender = Sender {
                channel,
                config: config.clone(),
                token: SecretString::from(token),
                next_slot: Mutex::new(Instant::now()),
            };
            by_channel.insert(channel, sender);
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("setter/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Senders { client, by_channel })
    }

    /// The channels with a sender.
    pub fn channels(&self) -> Vec<Channel> {
        self.by_channel.keys().copied().collect()
    }

    /// The longest a claimed row can take (all attempts and back-offs): a
    /// claim's lease must outlast it.
    pub fn lease(&self) -> Duration {
        self.by_channel
            .values()
            .map(|s| {
                let attempts = s.config.max_send_attempts;
                (Duration::from_secs(s.config.send_timeout_secs) + Duration::from_secs(60))
                    * attempts
            })
            .max()
            .unwrap_or(Duration::from_secs(60))
    }

    /// Delivers one outbox row, retrying transient failures. `Ok` carries the
    /// platform's message id.
    pub async fn send(&self, row: &OutboxRow) -> Result<Option<String>, SendError> {
        let Some(sender) = self.by_channel.get(&row.channel) else {
            return Err(permanent(
                None,
                format!("no [channels.{}] is configured", row.channel),
            ));
        };
        let c = &sender.config;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(c.retry_min_ms))
            .with_max_delay(Duration::from_secs(60))
            .with_max_times(c.max_send_attempts.saturating_sub(1) as usize)
            .with_jitter();
        (|| sender.attempt(&self.client, row))
            .retry(backoff)
            .when(|e: &SendError| e.transient)
            .adjust(|e: &SendError, dur| e.retry_after.or(dur))
            .notify(|e: &SendError, after: Duration| {
                tracing::info!(lead_id = %row.lead_id, channel = %row.channel, code = ?e.failure.code,
                    error = %e.failure.text, retry_in_ms = after.as_millis() as u64, "send failed; retrying");
            })
            .await
    }
}

impl Sender {
    async fn attempt(
        &self,
        client: &reqwest::Client,
        row: &OutboxRow,
    ) -> Result<Option<String>, SendError> {
        self.wait_for_slot().await;
        let c = &self.config;
        let account = row.account_id.as_deref().unwrap_or(&c.account_id);
        let url = format!(
            "{}/{}/{account}/messages",
            c.graph_base_url.trim_end_matches('/'),
            c.api_version
        );
        let body = match (self.channel, &row.payload) {
            (Channel::Whatsapp, Some(p)) => {
                whatsapp::payload_request(&row.recipient, p, &row.idempotency_key)
            }
            (Channel::Whatsapp, None) => {
                whatsapp::text_request(&row.recipient, &row.text, &row.idempotency_key)
            }
            _ => messenger::text_request(&row.recipient, &row.text),
        };
        let request = client
            .post(url)
            .bearer_auth(self.token.expose_secret())
            .timeout(Duration::from_secs(c.send_timeout_secs))
            .json(&body);
        let response = request.send().await.map_err(|e| SendError {
            failure: SendFailure {
                code: None,
                text: if e.is_timeout() {
                    format!("timed out after {}s", c.send_timeout_secs)
                } else {
                    format!("request failed: {e}")
                },
            },
            transient: true,
            retry_after: None,
        })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let json: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            // WhatsApp: messages[0].id; Messenger/Instagram: message_id.
            let id = json
                .pointer("/messages/0/id")
                .or_else(|| json.get("message_id"))
                .and_then(Value::as_str)
                .map(str::to_string);
            return Ok(id);
        }
        Err(classify(status.as_u16(), &json, retry_after))
    }

    /// Spaces sends from this account to `sends_per_second`.
    async fn wait_for_slot(&self) {
        let interval = Duration::from_secs_f64(1.0 / self.config.sends_per_second);
        let start = {
            let mut next = self.next_slot.lock().await;
            let start = (*next).max(Instant::now());
            *next = start + interval;
            start
        };
        tokio::time::sleep_until(start).await;
    }
}

/// Reads a Graph error envelope; see [`TRANSIENT_CODES`].
fn classify(http: u16, json: &Value, retry_after: Option<Duration>) -> SendError {
    let code = json.pointer("/error/code").and_then(Value::as_i64);
    let message = json
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("no error message");
    let details = json
        .pointer("/error/error_data/details")
        .and_then(Value::as_str);
    let text = match details {
        Some(d) => format!("HTTP {http}: {message} ({d})"),
        None => format!("HTTP {http}: {message}"),
    };
    let transient =
        http == 429 || http >= 500 || code.is_some_and(|c| TRANSIENT_CODES.contains(&c));
    SendError {
        failure: SendFailure {
            code: code.or(Some(i64::from(http))),
            text,
        },
        transient,
        retry_after,
    }
}

fn permanent(code: Option<i64>, text: String) -> SendError {
    SendError {
        failure: SendFailure { code, text },
        transient: false,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::classify;
    use serde_json::json;

    #[test]
    fn graph_errors_are_classified_by_code_not_text() {
        let err = |code: i64| json!({"error": {"message": "x", "code": code}});
        for code in [131047, 131026, 190, 100, 10, 368] {
            assert!(!classify(400, &err(code), None).transient, "{code}");
        }
        for code in [130429, 131056, 4, 613, 2] {
            assert!(classify(400, &err(code), None).transient, "{code}");
        }
        assert!(classify(503, &json!(null), None).transient);
        assert!(classify(429, &json!(null), None).transient);
        let e = classify(
            400,
            &json!({"error": {"message": "Re-engagement", "code": 131047,
            "error_data": {"details": "24 hours"}}}),
            None,
        );
        assert_eq!(e.failure.code, Some(131047));
        assert_eq!(e.failure.text, "HTTP 400: Re-engagement (24 hours)");
    }
}
