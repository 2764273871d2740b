//! Messenger and Instagram messaging: one webhook shape (`entry[].messaging[]`,
//! or `standby[]` when another app owns the thread) and one Send API.
//!
//! An echo (`is_echo`) is a message the business sent. Setter's own sends
//! are recognised by their message id (stored when the send succeeded) or,
//! on Messenger, by Setter's `app_id`; any other echo is a human answering
//! from the inbox, and pauses the bot for that lead.

use super::{text_of, timestamp, Context, Kind, Parsed};
use crate::lead::Channel;
use crate::store::{Delivery, EchoEvent, Event, InboundEvent, NewLead, StatusEvent};
use serde_json::{json, Value};

/// One `entry`: every messaging (and standby) item in it.
pub(super) fn entry(channel: Channel, entry: &Value, ctx: &Context, out: &mut Parsed) {
    let account = text_of(entry.get("id")).unwrap_or_default();
    if !ctx.configured(channel, &account) {
        out.unparsed.push(format!(
            "{channel} account \"{account}\" is not [channels.{channel}].account_id"
        ));
        return;
    }
    let own_app = ctx
        .channels
        .meta()
        .find(|(c, _)| *c == channel)
        .map(|(_, m)| m.app_id.clone())
        .unwrap_or_default();
    let items = |key| {
        entry
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    };
    for item in items("messaging") {
        event(channel, &account, &own_app, item, ctx, out, false);
    }
    // Standby: another app (e.g. the Page inbox) owns the thread. Setter does
    // not answer there, but a human's echo still means a takeover.
    for item in items("standby") {
        event(channel, &account, &own_app, item, ctx, out, true);
    }
}

/// One messaging item with what every handler needs.
struct Item<'a> {
    channel: Channel,
    account: &'a str,
    value: &'a Value,
    at: i64,
    ctx: &'a Context<'a>,
}

impl Item<'_> {
    fn id(&self, pointer: &str) -> Option<String> {
        self.value
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    fn lead(&self, user: String, source: Option<String>) -> NewLead {
        NewLead {
            channel: self.channel,
            external_id: user,
            name: None,
            source,
            account_id: Some(self.account.to_string()),
        }
    }
}

/// One messaging (or standby) item: an echo, or what the lead did.
fn event(
    channel: Channel,
    account: &str,
    own_app: &str,
    value: &Value,
    ctx: &Context,
    out: &mut Parsed,
    standby: bool,
) {
    let item = Item {
        channel,
        account,
        value,
        at: timestamp(value.get("timestamp"), ctx.now),
        ctx,
    };
    let message = value.get("message");
    if let Some(m) = message.filter(|m| m.get("is_echo").and_then(Value::as_bool) == Some(true)) {
        return echo(&item, m, own_app, out);
    }
    let Some(user) = item
        .id("/sender/id")
        .or_else(|| item.id("/sender/user_ref"))
    else {
        return out.unparsed.push("an event without a sender".into());
    };
    if standby {
        return out
            .unparsed
            .push("a standby event (another app owns the thread)".into());
    }
    from_lead(&item, user, out);
}

/// A message sent from the business's side: a human's (a takeover), unless
/// it is Setter's own send coming back.
fn echo(item: &Item, m: &Value, own_app: &str, out: &mut Parsed) {
    let (Some(user), Some(mid)) = (item.id("/recipient/id"), text_of(m.get("mid"))) else {
        return out.unparsed.push("an echo without recipient or mid".into());
    };
    let app = text_of(m.get("app_id")).unwrap_or_default();
    if !own_app.is_empty() && app == own_app {
        return; // Setter's own send.
    }
    let (_, text) = words(m);
    out.events.push(Event::Echo(EchoEvent {
        lead: item.lead(user, None),
        platform_id: mid,
        text,
        at: item.at,
        pause_until: item.ctx.now + item.ctx.pause_ms,
    }));
}

/// What the lead did: a message, a button, a reaction, a delivery or read
/// receipt, or re-entering the thread from an ad or link.
fn from_lead(item: &Item, user: String, out: &mut Parsed) {
    let (value, at) = (item.value, item.at);
    let message = value.get("message");
    let referral = value
        .get("referral")
        .or_else(|| message.and_then(|m| m.get("referral")))
        .or_else(|| value.pointer("/postback/referral"))
        .map(describe_referral);
    let inbound = |external_id: String, kind: Kind, text: String, source| {
        Event::Inbound(InboundEvent {
            lead: item.lead(user.clone(), source),
            external_id: Some(external_id),
            kind: kind.as_str().into(),
            text,
            at,
        })
    };
    if let Some(m) = message {
        let Some(mid) = text_of(m.get("mid")) else {
            return out.unparsed.push("a message without mid".into());
        };
        let (kind, text) = words(m);
        out.events.push(inbound(mid, kind, text, referral));
    } else if let Some(p) = value.get("postback") {
        let title = text_of(p.get("title")).or_else(|| text_of(p.get("payload")));
        let key = text_of(p.get("mid")).unwrap_or_else(|| {
            format!(
                "postback:{user}:{at}:{}",
                text_of(p.get("payload")).unwrap_or_default()
            )
        });
        out.events.push(inbound(
            key,
            Kind::Choice,
            title.unwrap_or_default(),
            referral,
        ));
    } else if let Some(r) = value.get("reaction") {
        let emoji = text_of(r.get("emoji")).unwrap_or_default();
        let key = format!(
            "reaction:{}:{}:{emoji}",
            text_of(r.get("mid")).unwrap_or_default(),
            text_of(r.get("action")).unwrap_or_default()
        );
        out.events.push(inbound(
            key,
            Kind::Reaction,
            format!("[reacted {emoji}]"),
            None,
        ));
    } else if let Some(d) = value.get("delivery") {
        let mids = d
            .get("mids")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for mid in mids.filter_map(|m| text_of(Some(m))) {
            out.events.push(status(mid, Delivery::Delivered, at));
        }
    } else if let Some(mid) = item.id("/read/mid") {
        out.events.push(status(mid, Delivery::Read, at));
    } else if referral.is_some() {
        // The lead re-entered the thread from a link or an ad: note the source.
        out.events.push(Event::Contact(item.lead(user, referral)));
    } else {
        let keys: Vec<&str> = value
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        out.unparsed
            .push(format!("a messaging item with keys {keys:?}"));
    }
}

/// A message's kind and the words the turn reads (text, or its attachments).
fn words(m: &Value) -> (Kind, String) {
    if let Some(text) = m.get("text").and_then(Value::as_str) {
        let kind = if m.get("quick_reply").is_some() {
            Kind::Choice
        } else {
            Kind::Text
        };
        return (kind, text.to_string());
    }
    let first = m
        .get("attachments")
        .and_then(Value::as_array)
        .and_then(|a| a.first());
    let kind = match first {
        Some(a) => Kind::from_media(a.get("type").and_then(Value::as_str).unwrap_or("")),
        None => Kind::Unsupported,
    };
    let title = first
        .and_then(|a| a.pointer("/payload/title"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty());
    match title {
        Some(t) => (kind, format!("{} \"{t}\"", kind.describe())),
        None => (kind, kind.describe().to_string()),
    }
}

fn describe_referral(r: &Value) -> String {
    let pick = |k: &str| text_of(r.get(k)).unwrap_or_default();
    match pick("source").as_str() {
        "ADS" => format!("ad {} ({})", pick("ad_id"), pick("ref")),
        other => format!("{} link ({})", other.to_lowercase(), pick("ref")),
    }
}

fn status(mid: String, status: Delivery, at: i64) -> Event {
    Event::Status(StatusEvent {
        platform_id: mid,
        key: None,
        status,
        at,
        error_code: None,
        error_text: None,
    })
}

/// A Send API text reply inside the standard messaging window.
pub(super) fn text_request(recipient: &str, text: &str) -> Value {
    json!({
        "recipient": { "id": recipient },
        "messaging_type": "RESPONSE",
        "message": { "text": text },
    })
}
