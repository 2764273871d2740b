//! The handoff packet: everything a closer needs so they never re-ask what
//! the lead already said — built from the store in code, nothing invented.
//! A field the lead did not state is `null`; every fact names the message
//! it came from (1-based, as in the transcript).

use super::approach::Approach;
use crate::config::{Loaded, SlotRole};
use crate::lead::{Channel, EvidenceKind, Level, Stage, Tier};
use crate::store::{Author, Memory};
use schemars::JsonSchema;
use serde::Serialize;

/// Bumped on any change a receiver must know about (2: `recommended_approach`).
pub const SCHEMA_VERSION: u32 = 2;

/// The packet, as delivered (JSON) and rendered (`prompts/handoff.md.j2`).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Packet {
    pub schema_version: u32,
    pub lead: Identity,
    pub assessment: Assessment,
    /// How to run the call, model-written, every kept claim citing the
    /// messages that say it; `null` when no model could write it.
    pub recommended_approach: Option<Approach>,
    /// Every framework slot, known or not, with its evidence.
    pub slots: Vec<SlotNote>,
    /// The slot with role `pain`, when the lead stated it.
    pub pain: Option<SlotNote>,
    pub desired_outcome: Option<SlotNote>,
    pub timing: Option<SlotNote>,
    pub budget: Option<SlotNote>,
    pub fit: FitNotes,
    pub score_history: Vec<ScoreEntry>,
    pub links: Links,
    /// The whole conversation, oldest first — not a summary.
    pub transcript: Vec<Line>,
}

/// Who the lead is and where they came from.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Identity {
    pub id: String,
    pub name: Option<String>,
    pub channel: String,
    /// The lead's id on the channel (phone number, PSID, IGSID).
    pub external_id: String,
    /// The ad or link the lead came from.
    pub source: Option<String>,
    pub first_message: Option<String>,
    /// Unix milliseconds.
    pub first_contact_at: i64,
    pub last_message_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Assessment {
    pub fit: Option<String>,
    pub intent: Option<String>,
    pub tier: Option<String>,
    pub score: Option<i64>,
    pub stage: String,
    pub next_action: Option<String>,
}

/// What the lead said for one slot.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SlotNote {
    pub id: String,
    pub description: String,
    /// `null` when the lead has not said it.
    pub value: Option<serde_json::Value>,
    /// The message number the value came from.
    pub message: Option<usize>,
}

/// Every ICP trait (matched / not matched / unknown) and every disqualifier.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FitNotes {
    pub traits: Vec<Check>,
    pub disqualifiers: Vec<Check>,
}

/// One ICP check: `matched` is `null` while unknown.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Check {
    pub id: String,
    pub text: String,
    pub matched: Option<bool>,
    /// The lead's words behind it, and their message number.
    pub quote: Option<String>,
    pub message: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ScoreEntry {
    pub message: Option<usize>,
    pub fit: String,
    pub intent: String,
    pub tier: String,
    pub score: i64,
    pub stage: String,
    pub reason: String,
    pub at: i64,
}

/// The offer's links, and whether the bot already sent them.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Links {
    pub booking_url: Option<String>,
    pub payment_url: Option<String>,
    /// Message numbers of bot messages that carried a link.
    pub sent_in: Vec<usize>,
    /// When the payment link first went out (close in the DM), Unix ms: the
    /// closer sees the lead may already be paying.
    pub payment_link_sent_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Line {
    pub number: usize,
    /// `lead`, `bot` or `human`.
    pub from: String,
    pub text: String,
    pub at: i64,
}

/// Builds the packet from a lead's whole memory (`Store::memory`), in code
/// only: `recommended_approach` is `null` here ([`super::hand_off`] asks the
/// model for it).
pub fn build(loaded: &Loaded, m: &Memory) -> Packet {
    let slots = slot_notes(loaded, m);
    let by_role = |role: SlotRole| {
        loaded
            .framework
            .slots
            .iter()
            .zip(&slots)
            .find(|(s, note)| s.role == role && note.value.is_some())
            .map(|(_, note)| note.clone())
    };
    Packet {
        schema_version: SCHEMA_VERSION,
        lead: identity(m),
        assessment: assessment(m),
        recommended_approach: None,
        pain: by_role(SlotRole::Pain),
        desired_outcome: by_role(SlotRole::Outcome),
        timing: by_role(SlotRole::Timing),
        budget: by_role(SlotRole::Budget),
        slots,
        fit: fit_notes(&loaded.config, m),
        score_history: score_history(m),
        links: links(&loaded.config, m),
        transcript: transcript(m),
    }
}

/// The message number (as people count) of a stored message id.
fn number(m: &Memory, id: Option<i64>) -> Option<usize> {
    id.and_then(|id| m.message_number(id))
}

/// Every framework slot, in order, with its value and source message.
fn slot_notes(loaded: &Loaded, m: &Memory) -> Vec<SlotNote> {
    loaded
        .framework
        .slots
        .iter()
        .map(|s| {
            let known = m.slots.get(&s.id);
            SlotNote {
                id: s.id.clone(),
                description: s.description.clone(),
                value: known.map(|k| k.value.clone()),
                message: known.and_then(|k| number(m, k.evidence_message_id)),
            }
        })
        .collect()
}

fn identity(m: &Memory) -> Identity {
    Identity {
        id: m.lead.id.clone(),
        name: m.lead.name.clone(),
        channel: channel_name(m.lead.channel),
        external_id: m.lead.external_id.clone(),
        source: m.lead.source.clone(),
        first_message: m.lead.first_message.clone(),
        first_contact_at: m.lead.created_at,
        last_message_at: m.lead.last_inbound_at.or(m.messages.last().map(|x| x.at)),
    }
}

fn assessment(m: &Memory) -> Assessment {
    let last = m.last_score();
    Assessment {
        fit: last.map(|s| level(s.fit)),
        intent: last.map(|s| level(s.intent)),
        tier: last.map(|s| tier(s.tier)),
        score: last.map(|s| s.score),
        stage: stage(m.lead.stage),
        next_action: last.map(|s| s.next_action.clone()),
    }
}

/// Every ICP trait and disqualifier, each as the newest evidence decides it
/// (a later "not matched" counts), or unknown.
fn fit_notes(config: &crate::config::Config, m: &Memory) -> FitNotes {
    let check = |kind: EvidenceKind, id: &str, text: &str| {
        let e = m
            .evidence
            .iter()
            .rev()
            .find(|e| e.kind == kind && e.key == id);
        Check {
            id: id.to_string(),
            text: text.to_string(),
            matched: e.map(|e| e.matched),
            quote: e.map(|e| e.quote.clone()),
            message: e.and_then(|e| number(m, Some(e.message_id))),
        }
    };
    FitNotes {
        traits: config
            .icp
            .traits
            .iter()
            .map(|t| check(EvidenceKind::Trait, &t.id, &t.text))
            .collect(),
        disqualifiers: config
            .icp
            .disqualifiers
            .iter()
            .map(|d| check(EvidenceKind::Disqualifier, &d.id, &d.text))
            .collect(),
    }
}

fn score_history(m: &Memory) -> Vec<ScoreEntry> {
    m.scores
        .iter()
        .map(|s| ScoreEntry {
            message: number(m, s.message_id),
            fit: level(s.fit),
            intent: level(s.intent),
            tier: tier(s.tier),
            score: s.score,
            stage: stage(s.stage),
            reason: s.reason.clone(),
            at: s.at,
        })
        .collect()
}

/// The offer's links and which bot messages already carried one.
fn links(config: &crate::config::Config, m: &Memory) -> Links {
    let urls = [&config.offer.booking_url, &config.offer.payment_url];
    let sent_in = m
        .messages
        .iter()
        .enumerate()
        .filter(|(_, msg)| msg.author == Author::Bot)
        .filter(|(_, msg)| {
            urls.iter()
                .any(|l| !l.is_empty() && msg.text.contains(l.as_str()))
        })
        .map(|(i, _)| i + 1)
        .collect();
    Links {
        booking_url: non_empty(&config.offer.booking_url),
        payment_url: non_empty(&config.offer.payment_url),
        sent_in,
        payment_link_sent_at: m.lead.payment_link_sent_at,
    }
}

/// The whole conversation, numbered as people count.
fn transcript(m: &Memory) -> Vec<Line> {
    m.messages
        .iter()
        .enumerate()
        .map(|(i, msg)| Line {
            number: i + 1,
            from: msg.author.as_str().to_string(),
            text: msg.text.clone(),
            at: msg.at,
        })
        .collect()
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}
fn level(l: Level) -> String {
    l.as_str().into()
}
fn tier(t: Tier) -> String {
    t.as_str().into()
}
fn stage(s: Stage) -> String {
    s.as_str().into()
}
fn channel_name(c: Channel) -> String {
    c.as_str().into()
}

/// The packet's JSON Schema (published as `docs/handoff.schema.json`).
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Packet)).unwrap_or_default()
}
