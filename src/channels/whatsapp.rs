//! WhatsApp Cloud API: inbound webhook values and the send request.
//!
//! A lead is keyed on the sender's `wa_id` (`from`), or on the
//! business-scoped user id (`from_user_id`) when a username user has no
//! phone number in the payload; the receiving `phone_number_id` goes on the
//! lead so replies leave from the same number.

use super::{text_of, timestamp, Context, Kind, Parsed};
use crate::lead::Channel;
use crate::store::{Delivery, Event, InboundEvent, NewLead, StatusEvent};
use serde_json::{json, Value};

/// One `entry`: every change, every message and status in it.
pub(super) fn entry(entry: &Value, ctx: &Context, out: &mut Parsed) {
    let changes = entry.get("changes").and_then(Value::as_array);
    for (i, change) in changes.into_iter().flatten().enumerate() {
        let field = change.get("field").and_then(Value::as_str).unwrap_or("");
        let value = change.get("value").unwrap_or(&Value::Null);
        if field != "messages" {
            out.unparsed
                .push(format!("change[{i}]: field \"{field}\" is not for Setter"));
            continue;
        }
        value_of(value, ctx, out);
    }
}

fn value_of(value: &Value, ctx: &Context, out: &mut Parsed) {
    let account = value
        .pointer("/metadata/phone_number_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !ctx.configured(Channel::Whatsapp, &account) {
        out.unparsed.push(format!(
            "phone_number_id \"{account}\" is not [channels.whatsapp].phone_number_id"
        ));
        return;
    }
    let contacts = value.get("contacts").and_then(Value::as_array);
    let name_of = |id: &str| {
        contacts.into_iter().flatten().find_map(|c| {
            let matches = c.get("wa_id").and_then(Value::as_str) == Some(id)
                || c.get("user_id").and_then(Value::as_str) == Some(id);
            matches
                .then(|| c.pointer("/profile/name").and_then(Value::as_str))
                .flatten()
                .map(str::to_string)
        })
    };
    for m in value
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match message(m, &account, ctx, &name_of) {
            Some(event) => out.events.push(event),
            None => out
                .unparsed
                .push("a message without \"from\" or \"id\"".into()),
        }
    }
    for s in value
        .get("statuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match status(s, ctx) {
            Some(event) => out.events.push(event),
            None => out.unparsed.push(format!(
                "status \"{}\" is not one Setter tracks",
                s.get("status").and_then(Value::as_str).unwrap_or("?")
            )),
        }
    }
    for e in value
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        // Out-of-band account errors (e.g. 130429): nothing to correlate; log.
        tracing::warn!(code = ?e.get("code"), title = ?e.get("title"), "WhatsApp reported an error");
        out.unparsed.push(format!(
            "account error {}",
            e.get("code").unwrap_or(&Value::Null)
        ));
    }
}

fn message(
    m: &Value,
    account: &str,
    ctx: &Context,
    name_of: &dyn Fn(&str) -> Option<String>,
) -> Option<Event> {
    let from = m
        .get("from")
        .or_else(|| m.get("from_user_id"))
        .and_then(Value::as_str)?;
    let id = m.get("id").and_then(Value::as_str)?;
    let kind_name = m
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("unsupported");
    let (kind, text) = content(m, kind_name);
    let referral = m.get("referral").map(|r| {
        let pick = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        format!(
            "click-to-WhatsApp ad {} ({}): {}",
            pick("source_id"),
            pick("source_type"),
            pick("headline")
        )
    });
    Some(Event::Inbound(InboundEvent {
        lead: NewLead {
            channel: Channel::Whatsapp,
            external_id: from.to_string(),
            name: name_of(from),
            source: referral,
            account_id: Some(account.to_string()),
        },
        external_id: Some(id.to_string()),
        kind: kind.as_str().into(),
        text,
        at: timestamp(m.get("timestamp"), ctx.now),
    }))
}

/// The message's kind and the words the turn reads.
fn content(m: &Value, kind_name: &str) -> (Kind, String) {
    let s = |p: &str| m.pointer(p).and_then(Value::as_str).map(str::to_string);
    let words = match kind_name {
        "text" => s("/text/body").map(|t| (Kind::Text, t)),
        "button" => s("/button/text")
            .or_else(|| s("/button/payload"))
            .map(|t| (Kind::Choice, t)),
        "interactive" => s("/interactive/button_reply/title")
            .or_else(|| s("/interactive/list_reply/title"))
            .map(|t| (Kind::Choice, t)),
        "reaction" => {
            let emoji = s("/reaction/emoji").unwrap_or_default();
            Some((Kind::Reaction, format!("[reacted {emoji}]")))
        }
        "system" => s("/system/body").map(|t| (Kind::System, t)),
        media => {
            let kind = Kind::from_media(media);
            s(&format!("/{media}/caption")).map(|caption| (kind, caption))
        }
    };
    words.unwrap_or_else(|| {
        let kind = match kind_name {
            "text" | "button" | "interactive" => Kind::Unsupported,
            other => Kind::from_media(other),
        };
        (kind, kind.describe().to_string())
    })
}

fn status(s: &Value, ctx: &Context) -> Option<Event> {
    let status = match s.get("status").and_then(Value::as_str)? {
        "sent" => Delivery::Sent,
        "delivered" => Delivery::Delivered,
        "read" | "played" => Delivery::Read,
        "failed" => Delivery::Failed,
        _ => return None,
    };
    let error = s
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|e| e.first());
    Some(Event::Status(StatusEvent {
        platform_id: s.get("id").and_then(Value::as_str)?.to_string(),
        key: s
            .get("biz_opaque_callback_data")
            .and_then(Value::as_str)
            .map(str::to_string),
        status,
        at: timestamp(s.get("timestamp"), ctx.now),
        error_code: error.and_then(|e| e.get("code")).and_then(Value::as_i64),
        error_text: error.map(|e| {
            let details = e.pointer("/error_data/details").and_then(Value::as_str);
            let title = text_of(e.get("title")).unwrap_or_default();
            details.map_or(title.clone(), |d| format!("{title}: {d}"))
        }),
    }))
}

/// The body of a template message (`payload` is `{"type": "template", …}`).
pub(super) fn payload_request(to: &str, payload: &Value, key: &str) -> Value {
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "biz_opaque_callback_data": key,
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), payload.as_object()) {
        body.extend(extra.clone());
    }
    body
}

/// The body of a text message to `to` (digits, no `+` needed).
/// `biz_opaque_callback_data` carries Setter's key back in statuses.
pub(super) fn text_request(to: &str, text: &str, key: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": { "preview_url": false, "body": text },
        "biz_opaque_callback_data": key,
    })
}

#[cfg(test)]
mod tests {
    use super::payload_request;
    use serde_json::json;

    #[test]
    fn a_template_payload_becomes_a_template_message() {
        let payload = json!({"type": "template", "template": {"name": "checking_in", "language": {"code": "en_US"}}});
        assert_eq!(
            payload_request("15550001", &payload, "followup:l:1:2"),
            json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "15550001",
                   "biz_opaque_callback_data": "followup:l:1:2", "type": "template",
                   "template": {"name": "checking_in", "language": {"code": "en_US"}}})
        );
    }
}
