//! Channel adapters: Meta webhook payloads in, send-API calls out.
//!
//! Parsing is lenient by design: every entry, change and messaging item of a
//! batch is read (never `[0]`), unknown kinds become "unsupported" messages
//! rather than errors, and shapes Setter does not know are described in
//! [`Parsed::unparsed`] and kept with the raw body — a 500 would only make
//! Meta retry the same body for days. Facts and sources: `docs/channels.md`.

mod kinds;
mod messenger;
pub mod send;
pub mod signature;
mod whatsapp;

pub use kinds::Kind;

use crate::config::ChannelsConfig;
use crate::lead::Channel;
use crate::store::Event;
use serde_json::Value;

/// Why a body could not be read at all (a body that parses but has unknown
/// parts is not an error).
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("the body is not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    #[error("the body has no \"object\" field naming the product")]
    NoObject,
}

/// A webhook body as events, plus what could not be placed.
#[derive(Debug, Default)]
pub struct Parsed {
    /// `whatsapp_business_account`, `instagram` or `page`.
    pub object: String,
    pub events: Vec<Event>,
    /// One line per part that was not understood or is not for Setter.
    pub unparsed: Vec<String>,
}

/// What parsing needs besides the body.
pub struct Context<'a> {
    pub channels: &'a ChannelsConfig,
    /// The receive time, for events whose timestamp is missing or unreadable.
    pub now: i64,
    /// How long a human's echo pauses the bot, in ms.
    pub pause_ms: i64,
}

impl Context<'_> {
    /// The configured channel for `account` (phone number id, IG or Page id).
    fn configured(&self, channel: Channel, account: &str) -> bool {
        self.channels
            .meta()
            .any(|(c, m)| c == channel && m.account_id == account)
    }
}

/// Parses a Meta webhook body (already signature-checked).
pub fn parse(body: &[u8], ctx: &Context) -> Result<Parsed, ParseError> {
    let root: Value = serde_json::from_slice(body)?;
    let object = root
        .get("object")
        .and_then(Value::as_str)
        .ok_or(ParseError::NoObject)?
        .to_string();
    let mut parsed = Parsed {
        object: object.clone(),
        ..Parsed::default()
    };
    let entries = root.get("entry").and_then(Value::as_array);
    for (i, entry) in entries.into_iter().flatten().enumerate() {
        match object.as_str() {
            "whatsapp_business_account" => whatsapp::entry(entry, ctx, &mut parsed),
            "instagram" => messenger::entry(Channel::Instagram, entry, ctx, &mut parsed),
            "page" => messenger::entry(Channel::Messenger, entry, ctx, &mut parsed),
            other => parsed.unparsed.push(format!(
                "entry[{i}]: object \"{other}\" is not a channel Setter answers"
            )),
        }
    }
    if entries.is_none() {
        parsed.unparsed.push("no \"entry\" array".into());
    }
    Ok(parsed)
}

/// A platform timestamp in ms: a number or a string, in seconds or ms
/// (below 10^11 it is seconds); `fallback` when missing or unreadable.
fn timestamp(v: Option<&Value>, fallback: i64) -> i64 {
    let n = match v {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if n > 0 && n < 100_000_000_000 => n * 1000,
        Some(n) if n > 0 => n,
        _ => fallback,
    }
}

/// A field as text, whether the platform sent a string or a number (app ids).
fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MetaChannel;
    use crate::store::Event;
    use serde_json::json;

    fn channels(account: &str) -> ChannelsConfig {
        let meta = MetaChannel {
            account_id: account.into(),
            access_token_env: "T".into(),
            app_secret_env: "S".into(),
            verify_token_env: "V".into(),
            graph_base_url: "https://graph.facebook.com".into(),
            api_version: "v21.0".into(),
            app_id: String::new(),
            sends_per_second: 20.0,
            send_timeout_secs: 15,
            max_send_attempts: 5,
            retry_min_ms: 1000,
        };
        ChannelsConfig {
            whatsapp: Some(meta),
            ..ChannelsConfig::default()
        }
    }

    fn parse_with(body: &str, account: &str) -> Parsed {
        let channels = channels(account);
        let ctx = Context {
            channels: &channels,
            now: 1,
            pause_ms: 1000,
        };
        parse(body.as_bytes(), &ctx).unwrap()
    }

    #[test]
    fn every_entry_change_and_message_of_a_batch_is_read() {
        let body = include_str!("../../tests/fixtures/channels/whatsapp_batch_multi.json");
        let parsed = parse_with(body, "1122334455667");
        let kinds: Vec<String> = parsed
            .events
            .iter()
            .map(|e| match e {
                Event::Inbound(m) => format!("{}:{}", m.kind, m.text),
                Event::Status(s) => format!("status:{}", s.status.as_str()),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "text:Body Text",
                "text:replied text",
                "status:delivered",
                "image:[the lead sent a photo without text]"
            ]
        );
        assert!(parsed.unparsed.is_empty(), "{:?}", parsed.unparsed);
    }

    #[test]
    fn a_number_that_is_not_configured_is_kept_but_not_read() {
        let body = include_str!("../../tests/fixtures/channels/whatsapp_text.json");
        let parsed = parse_with(body, "999");
        assert!(parsed.events.is_empty());
        assert_eq!(
            parsed.unparsed,
            ["phone_number_id \"106540352242922\" is not [channels.whatsapp].phone_number_id"]
        );
        let channels = channels("999");
        let ctx = Context {
            channels: &channels,
            now: 1,
            pause_ms: 1,
        };
        assert!(matches!(
            parse(b"not json", &ctx),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(parse(b"{}", &ctx), Err(ParseError::NoObject)));
    }

    #[test]
    fn timestamps_are_read_in_seconds_or_ms_as_numbers_or_strings() {
        assert_eq!(timestamp(Some(&json!("1749416383")), 7), 1_749_416_383_000);
        assert_eq!(
            timestamp(Some(&json!(1569262485349_i64)), 7),
            1_569_262_485_349
        );
        assert_eq!(
            timestamp(Some(&json!("<TIME_WEBHOOK_WAS_TRIGGERED>")), 7),
            7
        );
        assert_eq!(timestamp(None, 7), 7);
    }
}
