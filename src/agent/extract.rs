//! Step 1 of a turn: the model turns the lead's newest message into JSON.
//!
//! The schema is generated from the framework's slots and the ICP, and sent as
//! OpenAI structured output (a grammar for the local model). The model only
//! *reports*; whether a trait or disqualifier counts is decided in `score`.
//! Bad JSON is repaired once (tolerant parse, then one retry quoting the
//! validation error); after that the turn goes on with nothing new extracted.

use crate::config::{Framework, Icp, SlotKind};
use crate::llm::{ChatMessage, ChatModel, ChatRequest, JsonSchema, Usage};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// What the model reported for one message (nulls dropped).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extraction {
    pub slots: BTreeMap<String, Value>,
    /// Trait id → the lead's words the model says show it. A bare `true`
    /// (no quote) is not kept: a claim nobody can check is not evidence.
    pub traits: BTreeMap<String, String>,
    /// Disqualifier id → the lead's words the model says show it.
    pub disqualifiers: BTreeMap<String, String>,
    /// Disqualifier id → the share the model gave the disqualifying answer
    /// of its check (see `dq_check`), for the checks that ran.
    pub checks: BTreeMap<String, f64>,
}

/// The extraction call's result, including how it went.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    pub extraction: Extraction,
    pub usage: Usage,
    /// Set when the answer needed repair or was given up on.
    pub problem: Option<String>,
    /// Per leaf, how sure the model was that it holds a value (see
    /// [`crate::llm::ChatResponse::confidence`]); empty for API models.
    pub confidence: BTreeMap<String, f32>,
    /// Leaves the grammar held to the lead's words against the model's
    /// choice (see [`crate::llm::ChatResponse::forced`]).
    pub forced: std::collections::BTreeSet<String>,
}

fn nullable(kind: SlotKind, values: &[String]) -> Value {
    match kind {
        SlotKind::String => json!({"type": ["string", "null"]}),
        SlotKind::Number => json!({"type": ["number", "null"]}),
        SlotKind::Bool => json!({"type": ["boolean", "null"]}),
        SlotKind::Enum => {
            let mut options: Vec<Value> = values.iter().map(|v| json!(v)).collect();
            options.push(Value::Null);
            json!({"type": ["string", "null"], "enum": options})
        }
    }
}

fn object(properties: Map<String, Value>) -> Value {
    let required: Vec<&String> = properties.keys().collect();
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

/// The JSON schema for a framework and ICP (strict: every key required,
/// nullable). Traits are not asked for: a small model answers "true" for
/// every one (docs/local-models.md), so traits come from keywords, the
/// stated revenue and quotes checked in code — asking cost a leaf each.
pub fn schema(framework: &Framework, icp: &Icp) -> JsonSchema {
    let mut props = Map::new();
    for s in &framework.slots {
        props.insert(s.id.clone(), nullable(s.kind, &s.values));
    }
    let dqs = icp
        .disqualifiers
        .iter()
        .map(|d| (d.id.clone(), json!({"type": ["string", "null"]})))
        .collect();
    props.insert("disqualifiers".into(), object(dqs));
    JsonSchema {
        name: "lead_facts".into(),
        schema: object(props),
    }
}

/// `schema` with every string slot and disqualifier quote limited to spans
/// of `texts` (the lead's messages this turn reads): the embedded model then
/// copies the lead's words or writes `null` — it cannot paraphrase, translate
/// or invent. Numbers and enums are not spans and keep their schema.
pub fn spans_of(schema: &JsonSchema, framework: &Framework, texts: &[&str]) -> JsonSchema {
    let mut out = schema.clone();
    let texts = json!(texts);
    let props = &mut out.schema["properties"];
    for s in framework
        .slots
        .iter()
        .filter(|s| s.kind == SlotKind::String)
    {
        if let Some(leaf) = props.get_mut(&s.id).and_then(Value::as_object_mut) {
            leaf.insert(crate::llm::SPAN_OF.into(), texts.clone());
        }
    }
    if let Some(dqs) = props
        .get_mut("disqualifiers")
        .and_then(|d| d.get_mut("properties"))
        .and_then(Value::as_object_mut)
    {
        for leaf in dqs.values_mut().filter_map(Value::as_object_mut) {
            leaf.insert(crate::llm::SPAN_OF.into(), texts.clone());
        }
    }
    out
}

/// Finds the JSON object in a reply that may wrap it in prose or code fences.
pub(super) fn tolerant_json(text: &str) -> Result<Value, String> {
    let start = text.find('{').ok_or("no JSON object in the reply")?;
    let end = text.rfind('}').ok_or("no closing brace in the reply")?;
    if end < start {
        return Err("no JSON object in the reply".into());
    }
    serde_json::from_str(&text[start..=end]).map_err(|e| format!("invalid JSON: {e}"))
}

/// Parses and validates a reply against the framework; missing keys count as null.
pub fn parse(text: &str, framework: &Framework, icp: &Icp) -> Result<Extraction, String> {
    let value = tolerant_json(text)?;
    let obj = value.as_object().ok_or("the reply is not a JSON object")?;
    let mut out = Extraction::default();
    for slot in &framework.slots {
        let v = match obj.get(&slot.id) {
            // An empty string is a small model's way of saying "unknown".
            Some(Value::String(s)) if s.trim().is_empty() => Value::Null,
            Some(v) => v.clone(),
            None => Value::Null,
        };
        let ok = match (&v, slot.kind) {
            (Value::Null, _) => true,
            (Value::String(_), SlotKind::String) => true,
            (Value::String(s), SlotKind::Enum) => slot.values.contains(s),
            (Value::Number(_), SlotKind::Number) | (Value::Bool(_), SlotKind::Bool) => true,
            _ => false,
        };
        if !ok {
            let kind = format!("{:?}", slot.kind).to_lowercase();
            return Err(format!("\"{}\" must be a {kind} or null, got {v}", slot.id));
        }
        if !v.is_null() {
            out.slots.insert(slot.id.clone(), v);
        }
    }
    let section = |key: &str| {
        obj.get(key)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let traits = section("traits");
    for t in &icp.traits {
        match traits.get(&t.id) {
            None | Some(Value::Null) | Some(Value::Bool(_)) => {}
            Some(Value::String(s)) if s.trim().is_empty() => {}
            Some(Value::String(s)) => {
                out.traits.insert(t.id.clone(), s.clone());
            }
            Some(other) => {
                return Err(format!(
                    "traits.{} must be a quote or null, got {other}",
                    t.id
                ))
            }
        }
    }
    let dqs = section("disqualifiers");
    for d in &icp.disqualifiers {
        match dqs.get(&d.id) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.trim().is_empty() => {}
            Some(Value::String(s)) => {
                out.disqualifiers.insert(d.id.clone(), s.clone());
            }
            Some(other) => {
                return Err(format!(
                    "disqualifiers.{} must be a quote or null, got {other}",
                    d.id
                ))
            }
        }
    }
    Ok(out)
}

/// Leaves unknown every slot the model was less sure of than `min` (its
/// probability of writing a value rather than `null`) and, with
/// `min_forced`, every slot the grammar held to the lead's words against
/// the model's choice that it was less sure of than that; returns their
/// ids. With no confidence reported (API models, or `min` = 0) only the
/// forced rule can drop a value.
pub fn abstain(x: &mut Extracted, min: f64, min_forced: Option<f64>) -> Vec<String> {
    let (confidence, forced) = (&x.confidence, &x.forced);
    let mut dropped = Vec::new();
    x.extraction.slots.retain(|id, _| {
        let p = confidence.get(id).map(|p| f64::from(*p));
        let needed = match min_forced {
            Some(f) if forced.contains(id) => f.max(min),
            _ => min,
        };
        // A forced value with no confidence reported is not trusted.
        let sure = p.map_or(needed <= min, |p| p >= needed);
        if !sure {
            dropped.push(id.clone());
        }
        sure
    });
    dropped
}

/// Most tokens an extraction answer may take.
pub const MAX_TOKENS: u32 = 400;

/// The extraction call for `lead_id`: the instructions, then the
/// transcript (see `transcript::extraction`) as one user message.
pub(super) fn request(
    system: String,
    transcript: String,
    schema: JsonSchema,
    lead_id: &str,
) -> ChatRequest {
    ChatRequest {
        messages: vec![ChatMessage::system(system), ChatMessage::user(transcript)],
        schema: Some(schema),
        temperature: 0.0,
        max_tokens: MAX_TOKENS,
        conversation: Some(lead_id.to_string()),
    }
}

/// Runs the extraction call with one repair attempt; `lead_id` names the
/// conversation (see [`ChatRequest::conversation`]).
pub async fn run(
    model: &dyn ChatModel,
    system: String,
    transcript: String,
    schema: JsonSchema,
    framework: &Framework,
    icp: &Icp,
    lead_id: &str,
) -> Result<Extracted, crate::llm::Error> {
    let mut request = request(system, transcript, schema, lead_id);
    let mut outcome = Extracted::default();
    let first = model.chat(&request).await?;
    outcome.usage += first.usage;
    let err = match parse(&first.text, framework, icp) {
        Ok(extraction) => {
            outcome.extraction = extraction;
            outcome.confidence = first.confidence;
            outcome.forced = first.forced;
            return Ok(outcome);
        }
        Err(err) => err,
    };
    tracing::warn!(error = %err, "extraction reply invalid; retrying once");
    request.messages.push(ChatMessage::assistant(first.text));
    request.messages.push(ChatMessage::user(format!(
        "That answer was invalid: {err}. Reply with only the JSON object matching the schema."
    )));
    let second = model.chat(&request).await?;
    outcome.usage += second.usage;
    match parse(&second.text, framework, icp) {
        Ok(extraction) => {
            outcome.extraction = extraction;
            outcome.confidence = second.confidence;
            outcome.forced = second.forced;
            outcome.problem = Some(format!("repaired: {err}"));
        }
        Err(err2) => {
            tracing::warn!(error = %err2, "extraction still invalid; continuing with no new facts");
            outcome.problem = Some(format!("gave up: {err2}"));
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn setup() -> (Framework, Icp) {
        let c = Config::example();
        (Framework::resolve("pif", &[]).unwrap(), c.icp)
    }

    #[test]
    fn schema_is_strict_and_nullable() {
        let (fw, icp) = setup();
        let s = schema(&fw, &icp).schema;
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(s["required"].as_array().unwrap().len(), fw.slots.len() + 1);
        assert_eq!(s["properties"]["pain"]["type"], json!(["string", "null"]));
        assert!(s["properties"].get("traits").is_none());
    }

    #[test]
    fn string_slots_and_quotes_become_spans_of_the_leads_words() {
        let (fw, icp) = setup();
        let base = schema(&fw, &icp);
        let s = spans_of(&base, &fw, &["we miss calls", "at night"]).schema;
        let texts = json!(["we miss calls", "at night"]);
        assert_eq!(s["properties"]["pain"][crate::llm::SPAN_OF], texts);
        assert_eq!(
            s["properties"]["disqualifiers"]["properties"]["job_seeker"][crate::llm::SPAN_OF],
            texts
        );
        // A number is not a span; an API model never sees the keyword.
        let api = spans_of(&base, &fw, &["x"]).without_extensions();
        assert_eq!(api, base.schema);
    }

    #[test]
    fn a_value_the_model_was_unsure_of_is_left_unknown() {
        let mut x = Extracted::default();
        x.extraction.slots = BTreeMap::from([
            ("pain".to_string(), json!("no leads")),
            ("business".to_string(), json!("roofing")),
            ("budget".to_string(), json!("$3k")),
        ]);
        x.confidence = BTreeMap::from([("pain".to_string(), 0.55), ("business".to_string(), 0.97)]);
        assert!(abstain(&mut x.clone(), 0.0, Some(0.95)).is_empty());
        // A value the grammar forced needs the higher bar only when told to
        // (English leads): 0.97 clears 0.95, not 0.99.
        x.forced = ["business".to_string()].into();
        assert_eq!(abstain(&mut x.clone(), 0.8, None), vec!["pain"]);
        assert_eq!(abstain(&mut x.clone(), 0.8, Some(0.95)), vec!["pain"]);
        let mut strict = x.clone();
        assert_eq!(
            abstain(&mut strict, 0.8, Some(0.99)),
            vec!["business", "pain"]
        );
        // Forced with no confidence reported: not trusted.
        let mut bare = x.clone();
        bare.forced = ["budget".to_string()].into();
        assert_eq!(abstain(&mut bare, 0.0, Some(0.95)), vec!["budget"]);
        assert_eq!(abstain(&mut x, 0.8, None), vec!["pain"]);
        // Without a reported confidence (an API model) a value stays.
        assert_eq!(
            x.extraction.slots.keys().collect::<Vec<_>>(),
            vec!["budget", "business"]
        );
    }

    #[test]
    fn prose_and_fences_around_json_are_tolerated() {
        let (fw, icp) = setup();
        let text = "Sure!\n```json\n{\"pain\": \"no leads\", \"budget\": null, \"traits\": {\"owner\": true}, \"disqualifiers\": {\"job_seeker\": \"\"}}\n```";
        let e = parse(text, &fw, &icp).unwrap();
        assert_eq!(
            e.slots,
            BTreeMap::from([("pain".to_string(), json!("no leads"))])
        );
        // A bare `true` is a claim without words to check: not kept.
        assert!(e.traits.is_empty());
        let quoted = "{\"traits\": {\"owner\": \"I run\", \"revenue\": true}}";
        let e = parse(quoted, &fw, &icp).unwrap();
        assert_eq!(
            e.traits,
            BTreeMap::from([("owner".to_string(), "I run".to_string())])
        );
        assert!(e.disqualifiers.is_empty());
    }

    #[test]
    fn wrong_types_are_named() {
        let (fw, icp) = setup();
        assert_eq!(
            parse("{\"pain\": 3}", &fw, &icp).unwrap_err(),
            "\"pain\" must be a string or null, got 3"
        );
        assert_eq!(
            parse("I cannot help", &fw, &icp).unwrap_err(),
            "no JSON object in the reply"
        );
    }
}
